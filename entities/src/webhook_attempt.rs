//! One try of a webhook delivery, for the delivery log: what the receiver answered (or why
//! nothing was), and how long it took.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub delivery_id: String,
    /// 1 for the first try.
    pub attempt: i32,
    /// The receiver's HTTP status; none when it could not be reached.
    pub status_code: Option<i32>,
    /// The first 2 KB of the receiver's answer.
    pub response_excerpt: Option<String>,
    /// Why the try failed: a refused address, a timeout, a connection error, a status.
    pub error: Option<String>,
    pub duration_ms: i64,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
