//! Every email the server sent or, with no SMTP server configured, kept: the dev mailbox.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: Option<String>,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    /// `smtp` or `dev` (kept here only).
    pub transport: String,
    /// `sent`, `kept` or `failed`.
    pub status: crate::enums::MailStatus,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
