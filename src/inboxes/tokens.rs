//! The secrets an inbox is made with. The website token is public (it is in the page's script
//! tag); the identity and webhook secrets are kept encrypted, because the server computes HMACs
//! with them; the API token is kept hashed and shown once, like an API key.

use crate::crypto::{hash_token, random_token};

/// What an API inbox's token starts with, so a leaked one is recognizable.
pub const API_TOKEN_PREFIX: &str = "cxi_";

/// The widget's public token: names the inbox in the script tag, proves nothing.
pub fn website_token() -> String {
    random_token(18)
}

/// A secret for HMACs (identity verification, webhook signatures): 256 bits.
pub fn hmac_secret() -> String {
    random_token(32)
}

/// An API inbox's token: its plain text (shown once), its prefix and its hash.
pub struct ApiToken {
    pub plain: String,
    pub prefix: String,
    pub hash: String,
}

pub fn api_token() -> ApiToken {
    let plain = format!("{API_TOKEN_PREFIX}{}", random_token(32));
    let prefix = plain.chars().take(12).collect();
    let hash = hash_token(&plain);
    ApiToken { plain, prefix, hash }
}
