//! How many of an organization's conversations are in one bucket (status, assignee, unread,
//! awaiting a reply). Database triggers keep these with every conversation write (migration
//! 000030); the list's counts sum the buckets their filter passes instead of counting rows.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub status: String,
    /// The assignee's user id, `""` for unassigned.
    #[sea_orm(primary_key, auto_increment = false)]
    pub assigned_to: String,
    /// 1 when someone has messages to read (`unread_count > 0`), else 0.
    #[sea_orm(primary_key, auto_increment = false)]
    pub unread: i32,
    /// 1 when the customer spoke last (`awaiting_reply`), else 0.
    #[sea_orm(primary_key, auto_increment = false)]
    pub awaiting: i32,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
