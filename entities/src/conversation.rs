//! A conversation with one contact in one inbox. Written only by its `ConversationActor`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub inbox_id: String,
    pub contact_id: String,
    /// See [`crate::enums::ConversationStatus`].
    pub status: crate::enums::ConversationStatus,
    pub assigned_to: Option<String>,
    pub unread_count: i32,
    pub last_message_at: Option<DateTimeUtc>,
    pub last_message_preview: Option<String>,
    /// Last customer message: the WhatsApp customer-service window runs 24 hours from it.
    pub last_inbound_at: Option<DateTimeUtc>,
    /// Per-conversation event counter: the `seq` of its latest event.
    pub event_seq: i64,
    pub closed_at: Option<DateTimeUtc>,
    /// What the conversation is about (set by agents or the classifier; routing reads it).
    pub category: Option<String>,
    /// Marked for follow-up: when, by whom, and why.
    pub follow_up_at: Option<DateTimeUtc>,
    pub follow_up_note: Option<String>,
    pub follow_up_by: Option<String>,
    /// What the agent handed back to the bot on return-to-bot: context for its next turns.
    pub handoff_summary: Option<String>,
    /// The customer wrote last: someone owes them a reply.
    pub awaiting_reply: bool,
    /// Bumped whenever the conversation leaves the bot; a bot reply from an older epoch is dropped.
    pub bot_epoch: i64,
    /// The team routing chose; auto-assignment picks among its members.
    pub team_id: Option<String>,
    /// When the conversation joined the queue for a human (unassigned, not with the bot); the
    /// backlog drains oldest first. `None` while assigned or with the bot.
    pub queued_at: Option<DateTimeUtc>,
    /// When the customer began waiting for a reply (`awaiting_reply` turned true).
    pub awaiting_since: Option<DateTimeUtc>,
    /// The last automatic notice sent (off-hours / maintenance) and for which period, so each
    /// is sent at most once per conversation and period.
    pub notice_marker: Option<String>,
    /// While `awaiting_reply`: the newest customer message a bot reply already answered, when
    /// the customer wrote more after it (during the bot's turn). The next turn answers what came
    /// after it. `None` when nothing the customer wrote has been answered since the last reply.
    pub answered_through: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
