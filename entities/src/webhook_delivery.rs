//! One event of an API inbox's conversation on its way to the inbox's webhook: tried in order
//! per conversation (only the oldest pending one of a conversation is tried), with backoff,
//! under a lease so one node tries it at a time.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub inbox_id: String,
    pub conversation_id: String,
    /// The `events` row it carries (unique per inbox).
    pub event_id: String,
    /// `message.created`, `conversation.status_changed`, …
    pub event_name: String,
    /// The event's place in the organization's stream: the order deliveries go out in.
    pub org_seq: i64,
    /// The event's place in its conversation's stream, sent to the receiver.
    pub seq: Option<i64>,
    /// The event's data (JSON text), the `data` of the body.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Tries so far (each is a `webhook_attempts` row).
    pub attempts: i32,
    /// Not tried before this time (backoff).
    pub next_attempt_at: DateTimeUtc,
    /// The node trying it now, and until when its claim holds (a node that dies lets go).
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    /// The receiver's last HTTP status, when it answered.
    pub last_status_code: Option<i32>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
