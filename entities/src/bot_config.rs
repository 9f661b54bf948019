//! A bot configuration of an organization: a DRAFT being edited or the one ACTIVE config that
//! answers customers. Settings (prompt, model, messages) are JSON (`cx_inbox::bot::config::Settings`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_configs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub name: String,
    /// `DRAFT` or `ACTIVE`; at most one ACTIVE per organization.
    pub status: crate::enums::ConfigStatus,
    /// JSON: system prompt, provider, model, base URL, temperature, messages, retrieval options.
    pub settings: String,
    /// The provider key, encrypted (`v1:`…); `None` = the preset's key or none.
    pub api_key: Option<String>,
    /// The version number of the current system prompt.
    pub prompt_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
