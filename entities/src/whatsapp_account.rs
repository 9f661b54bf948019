//! A connected WhatsApp Business phone number: the WhatsApp side of an inbox.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub inbox_id: String,
    pub waba_id: String,
    /// Meta's id of the number; webhooks are routed by it. Unique among connected accounts.
    pub phone_number_id: String,
    pub display_phone_number: Option<String>,
    pub alias: Option<String>,
    /// The Graph API access token, AES-256-GCM encrypted with `CX_SECRETS_KEY`. Never returned.
    pub access_token_enc: String,
    pub status: crate::enums::AccountStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set when disconnected; the row stays so its conversations keep their inbox.
    pub deleted_at: Option<DateTimeUtc>,
    /// Meta's quality rating of the number (`GREEN`, `YELLOW`, `RED`, `UNKNOWN`), as last read
    /// from the Graph API or a `phone_number_quality_update` webhook.
    pub quality_rating: Option<String>,
    /// Meta's messaging-limit tier (`TIER_250`, `TIER_1K`, … `TIER_UNLIMITED`): unique customers
    /// per rolling 24 hours. The campaign pacer reads it (through `accounts::pacing`).
    pub messaging_limit_tier: Option<String>,
    /// Messages per second Meta lets the number send (`throughput.level`: STANDARD = 80,
    /// HIGH = 1000). The campaign pacer reads it.
    pub throughput_level: Option<i32>,
    /// Review status of the display name (`APPROVED`, `PENDING_REVIEW`, `DECLINED`, …).
    pub name_status: Option<String>,
    /// The rest of the last health check as JSON (verified name, number and account review
    /// status…), so a check Meta cannot answer still shows the last figures.
    pub health_detail: Option<String>,
    /// When the health was last read from the Graph API.
    pub health_checked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
