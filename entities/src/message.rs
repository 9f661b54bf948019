//! A message in a conversation, inbound or outbound, of any WhatsApp type.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub conversation_id: String,
    pub inbox_id: String,
    /// `inbound` or `outbound`.
    pub direction: crate::enums::Direction,
    /// WhatsApp message type (`text`, `image`, `reaction`, …); unknown types are kept as sent.
    pub message_type: String,
    pub text: Option<String>,
    /// The type-specific content as JSON text (media ids, location, interactive reply, …).
    pub content: Option<String>,
    /// See [`crate::enums::MessageStatus`].
    pub status: crate::enums::MessageStatus,
    /// The wamid. Unique per inbox, which is what makes webhook redelivery idempotent.
    pub provider_message_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// The agent who sent an outbound message; `None` for customers and the bot.
    pub sender_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub read_at: Option<DateTimeUtc>,
    /// Send attempts so far (outbound).
    pub attempts: i32,
    /// When a pending outbound message is next due to be sent; `None` once it left the outbox.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// The client's `Idempotency-Key`, unique per organization: a repeated POST finds this message.
    pub idempotency_key: Option<String>,
    /// Set when an admin gave up on a failed message.
    pub discarded_at: Option<DateTimeUtc>,
    /// Hidden from agents, still stored.
    pub hidden: bool,
    /// The provider's id of the message's media (image, audio, video, document, sticker).
    pub media_id: Option<String>,
    /// `pending` (to download), `downloaded`, or `failed` (see `media_error`).
    pub media_status: Option<String>,
    /// Key of the file in the media store.
    pub media_path: Option<String>,
    pub media_mime: Option<String>,
    pub media_size: Option<i64>,
    pub media_error: Option<String>,
    /// Reactions to this message, JSON: `[{"emoji", "by", "at"}]` (`by`: `customer` or a user id).
    pub reactions: Option<String>,
    /// For a bot reply, the conversation's bot epoch when it was written: it is sent only while
    /// that epoch is current (no human has taken the conversation since).
    pub bot_epoch: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
