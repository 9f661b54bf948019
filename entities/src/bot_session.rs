//! A stretch of a conversation the bot handled: one bot epoch of one conversation.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_sessions")]
pub struct Model {
    /// `{conversation_id}:{epoch}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub conversation_id: String,
    pub epoch: i64,
    pub turns: i32,
    pub started_at: DateTimeUtc,
    pub last_turn_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    /// `RESOLVED_CONFIRMED` or `ESCALATED`; an open session gone quiet reads as `ABANDONED`.
    pub closure_type: Option<String>,
    pub handoff_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
