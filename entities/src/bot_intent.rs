//! An intent of a bot config: what the customer may want (with examples) and what the bot does
//! then (`REPLY` with a fixed answer, `HANDOFF`, `TOOL`, or `ANSWER` from knowledge).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_intents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub config_id: String,
    pub name: String,
    pub description: Option<String>,
    /// JSON array of example customer phrases.
    pub examples: String,
    pub action: String,
    pub response: Option<String>,
    pub tool_id: Option<String>,
    /// Order of evaluation, 0 first.
    pub position: i32,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
