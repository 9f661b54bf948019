//! What one bot run did, step by step: retrieval, prompt, model calls, tools, timings.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_traces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub conversation_id: Option<String>,
    pub config_id: Option<String>,
    /// `TURN`, `SANDBOX`, `TEST`, `CLASSIFY`, `SUMMARY`, `ASSIST`, `EXTRACT`.
    pub kind: String,
    pub input: String,
    /// `REPLY`, `HANDOFF`, `TOOL`, `ERROR`, `LIMIT`, `NONE`.
    pub decision: String,
    pub output: Option<String>,
    /// JSON array of steps.
    pub steps: String,
    /// JSON array of the chunks retrieved.
    pub chunk_ids: String,
    pub model: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// The reply message the turn produced.
    pub message_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
