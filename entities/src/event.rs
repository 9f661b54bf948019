//! The transactional outbox: every state change commits its event row in the same transaction.
//! `org_seq` orders an organization's events (it is what client cursors point at); `seq` orders
//! one conversation's events.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub org_seq: i64,
    pub conversation_id: Option<String>,
    pub seq: Option<i64>,
    pub name: String,
    /// JSON text of the event's data (the full current state of the object).
    pub payload: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
