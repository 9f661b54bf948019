//! What every handler can reach: the runtime, the configuration and the keys.

use actors::Runtime;

use crate::auth::JwtKeys;
use crate::channels::whatsapp::GraphClient;
use crate::config::Config;
use crate::crypto::SecretBox;

pub struct AppState {
    pub rt: Runtime,
    pub config: Config,
    /// Signs and checks access tokens.
    pub jwt: JwtKeys,
    /// Encrypts third-party secrets at rest.
    pub secrets: SecretBox,
    /// Meta's Graph API, for sends and account checks.
    pub graph: GraphClient,
    /// Where downloaded media files are kept.
    pub media: std::sync::Arc<dyn crate::media::MediaStore>,
    /// Outgoing mail (SMTP, or the dev mailbox).
    pub mailer: crate::mail::Mailer,
    /// The bot pipeline (also installed in the runtime for conversation turns).
    pub bot: crate::bot::engine::Engine,
    /// Base URL of the web app for links in emails, without a trailing slash.
    pub public_url: String,
    /// Failed sign-ins per address (password and code).
    pub sign_in_throttle: crate::auth::throttle::Throttle,
    /// Meta's per-message rates, for campaign estimates.
    pub rates: crate::campaigns::pricing::RateCard,
    /// The live-chat widget's visitor hub, names and rate limits.
    pub widget: crate::channels::livechat::Widget,
    /// This node's campaign scheduler.
    pub campaigns: crate::campaigns::runner::Runner,
    /// Wakes the API channel's webhook dispatcher (a replay, a webhook enabled again).
    pub webhook_wake: std::sync::Arc<tokio::sync::Notify>,
    /// Connected WhatsApp accounts by phone number id, for the webhook.
    pub wa_accounts: crate::channels::whatsapp::accounts::AccountCache,
}

impl AppState {
    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.rt.db.conn
    }

    /// An absolute link into the web app: `path` starts with `/`.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}
