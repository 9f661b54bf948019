//! An HTTP call into a customer system the bot (or an agent) can make, with a parameter schema.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_tools")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: String,
    pub method: String,
    /// URL template; `{param}` placeholders are filled from the arguments.
    pub url: String,
    /// JSON object of header templates.
    pub headers: String,
    /// JSON array of parameter definitions (name, type, description, required).
    pub parameters: String,
    pub body_template: Option<String>,
    pub timeout_ms: i32,
    /// JSON array of hosts the admin allows even when private or loopback.
    pub allowed_hosts: String,
    /// A secret (bearer token) encrypted at rest, sent as `Authorization` or `{secret}`.
    pub secret: Option<String>,
    pub is_active: bool,
    /// Offered to agents in the inbox (agent-tools).
    pub agent_enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
