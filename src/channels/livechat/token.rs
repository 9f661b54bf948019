//! The secrets a visitor proves itself with. The visitor token is ours: an HMAC (with a key
//! derived from the inbox's identity secret) over the inbox, the contact, the visitor's id and
//! when it was issued, so rotating the secret ends every session. The identifier hash is the
//! website's: HMAC-SHA256 of its user's id with the inbox's identity secret, which proves the
//! site vouches for that identity. Both are compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// What a visitor token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The inbox.
    pub i: String,
    /// The contact.
    pub c: String,
    /// The visitor's address in the inbox (`contact_inboxes.source_id`).
    pub s: String,
    /// Issued at, unix seconds.
    pub t: i64,
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; the error case cannot happen.
    match HmacSha256::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn token_key(secret: &str) -> Vec<u8> {
    mac(secret.as_bytes(), b"cx-widget visitor token")
}

/// Signs `claims` with the inbox's secret: `<base64url(json)>.<hex hmac>`.
pub fn sign(secret: &str, claims: &Claims) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let sig = hex::encode(mac(&token_key(secret), body.as_bytes()));
    format!("{body}.{sig}")
}

/// What a token claims, unverified: only to find the inbox whose secret verifies it.
pub fn claims(token: &str) -> Option<Claims> {
    let (body, _) = token.split_once('.')?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
}

/// Whether `token` was signed with `secret`.
pub fn verify(secret: &str, token: &str) -> bool {
    let Some((body, sig)) = token.split_once('.') else { return false };
    let Ok(sig) = hex::decode(sig) else { return false };
    let want = mac(&token_key(secret), body.as_bytes());
    !want.is_empty() && bool::from(want.ct_eq(&sig))
}

/// The identifier hash a website computes for its user: lower-case hex HMAC-SHA256.
pub fn identifier_hash(secret: &str, identifier: &str) -> String {
    hex::encode(mac(secret.as_bytes(), identifier.as_bytes()))
}

/// Whether `hash` is the identifier's hash under `secret` (constant time).
pub fn identity_verified(secret: &str, identifier: &str, hash: &str) -> bool {
    let want = identifier_hash(secret, identifier);
    bool::from(want.as_bytes().ct_eq(hash.trim().to_ascii_lowercase().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_with_its_secret_only_and_says_what_it_was_given() {
        let c = Claims { i: "inbox".into(), c: "contact".into(), s: "v1".into(), t: 7 };
        let t = sign("secret", &c);
        assert!(verify("secret", &t));
        assert!(!verify("other", &t));
        assert_eq!(claims(&t), Some(c));
        let (body, sig) = t.split_once('.').unwrap_or_default();
        let forged = format!("{}x.{sig}", body);
        assert!(!verify("secret", &forged));
        assert!(!verify("secret", "garbage"));
    }

    #[test]
    fn the_identifier_hash_is_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            identifier_hash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(identity_verified(
            "Jefe",
            "what do ya want for nothing?",
            "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
        ));
        assert!(!identity_verified(
            "Jefe",
            "what do ya want for something?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ));
    }
}
