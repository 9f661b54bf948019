//! A channel inbox: a WhatsApp number, a live-chat widget, an API channel. Conversations belong
//! to an inbox. Settings every channel shares live here; the WhatsApp number's own settings
//! live in `whatsapp_accounts`. JSON columns are text, read and checked by `cx_inbox::inboxes`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inboxes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    /// `whatsapp`, `livechat`, `api`.
    pub channel: crate::enums::Channel,
    pub name: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    /// Whether `greeting_message` goes out when a customer first writes.
    pub greeting_enabled: bool,
    pub greeting_message: Option<String>,
    /// Off: the inbox's conversations wait in the queue for an agent to take them.
    pub enable_auto_assignment: bool,
    /// On: `working_hours` replaces the organization's business hours for this inbox.
    pub working_hours_enabled: bool,
    /// JSON `WeeklySchedule` (slots and holidays, in `timezone`).
    pub working_hours: Option<String>,
    /// IANA name of the working hours' time zone.
    pub timezone: Option<String>,
    pub csat_survey_enabled: bool,
    /// JSON: display type, message, button text, language, survey rule.
    pub csat_config: Option<String>,
    /// The bot config that answers this inbox instead of the organization's active one.
    pub bot_config_id: Option<String>,
    /// The inbox's avatar in the media store.
    pub avatar_path: Option<String>,
    /// Live chat: the public token the widget script names its inbox by.
    pub website_token: Option<String>,
    /// Live chat: JSON look of the widget (site URL, color, welcome title and tagline, email collect).
    pub widget_settings: Option<String>,
    /// Live chat: the identity-verification HMAC secret, encrypted (`SecretBox`).
    pub hmac_secret_enc: Option<String>,
    /// Live chat: a visitor without a valid identifier hash is refused.
    pub hmac_mandatory: bool,
    /// Live chat: JSON array of origins allowed to embed the widget (empty: any).
    pub allowed_origins: Option<String>,
    /// API channel: where events are posted.
    pub webhook_url: Option<String>,
    /// API channel: the webhook signing secret, encrypted (`SecretBox`).
    pub webhook_secret_enc: Option<String>,
    /// API channel: SHA-256 of the inbox token the business's system sends with (shown once).
    pub api_token_hash: Option<String>,
    /// API channel: the token's first characters, to tell tokens apart.
    pub api_token_prefix: Option<String>,
    /// Set while the inbox is turned off (status `inactive`).
    pub disabled_at: Option<DateTimeUtc>,
    /// API channel: the last `org_seq` the webhook dispatcher copied into `webhook_deliveries`.
    pub webhook_cursor: i64,
    /// API channel: webhook tries in a row that failed; a success resets it.
    pub webhook_failure_streak: i32,
    /// API channel: set when the webhook was turned off after too many failures in a row;
    /// deliveries wait (queued, not lost) until an admin enables it again.
    pub webhook_disabled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
