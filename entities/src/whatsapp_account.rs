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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
