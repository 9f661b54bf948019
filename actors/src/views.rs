//! The JSON shapes of messages and conversations, shared by events and the HTTP API so a client
//! sees one object whichever way it arrives.

use chrono::{DateTime, Duration, Utc};
use entities::enums::Channel;
use entities::{contact, conversation, message};
use serde::{Deserialize, Serialize};

/// The WhatsApp customer-service window: free-form messages only within this time after the
/// customer's last message.
pub const SERVICE_WINDOW: Duration = Duration::hours(24);

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: String,
    pub conversation_id: String,
    /// `inbound` (from the customer) or `outbound`.
    pub direction: String,
    /// WhatsApp message type: text, image, audio, video, document, sticker, location, contacts,
    /// interactive, button, reaction, unsupported, or whatever else Meta sent.
    #[serde(rename = "type")]
    pub message_type: String,
    pub text: Option<String>,
    /// Type-specific content as WhatsApp sent it (media id, location, reply ids, …).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub content: Option<serde_json::Value>,
    /// received, pending, sent, delivered, read, failed.
    pub status: String,
    /// The WhatsApp message id (wamid).
    pub provider_message_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub sender_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    /// Send attempts so far (outbound).
    pub attempts: i32,
    /// When a pending outbound message is next tried.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Hidden from the conversation view (still stored).
    pub hidden: bool,
    /// For messages with a file: `pending`, `downloaded` (fetch it from `mediaUrl`) or `failed`.
    pub media_status: Option<String>,
    /// Where agents fetch the file (authenticated), once downloaded.
    pub media_url: Option<String>,
    pub media_mime: Option<String>,
    pub media_size: Option<i64>,
    pub media_error: Option<String>,
    /// Reactions to this message.
    pub reactions: Vec<Reaction>,
}

/// One reaction on a message.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reaction {
    pub emoji: String,
    /// `customer`, or the id of the agent who reacted.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A message's reactions as stored, including the taken-back ones (an empty emoji, kept so a
/// late redelivery of an older reaction can be told apart).
pub fn stored_reactions(m: &message::Model) -> Vec<Reaction> {
    m.reactions.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default()
}

/// A message's current reactions.
pub fn reactions_of(m: &message::Model) -> Vec<Reaction> {
    stored_reactions(m).into_iter().filter(|r| !r.emoji.is_empty()).collect()
}

impl From<&message::Model> for MessageView {
    fn from(m: &message::Model) -> Self {
        MessageView {
            id: m.id.clone(),
            conversation_id: m.conversation_id.clone(),
            direction: m.direction.to_string(),
            message_type: m.message_type.clone(),
            text: m.text.clone(),
            content: m.content.as_deref().and_then(|c| serde_json::from_str(c).ok()),
            status: m.status.to_string(),
            provider_message_id: m.provider_message_id.clone(),
            error_code: m.error_code.clone(),
            error_message: m.error_message.clone(),
            sender_id: m.sender_id.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            sent_at: m.sent_at,
            delivered_at: m.delivered_at,
            read_at: m.read_at,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            hidden: m.hidden,
            media_status: m.media_status.clone(),
            media_url: (m.media_status.as_deref() == Some("downloaded"))
                .then(|| format!("/api/v1/messages/{}/media", m.id)),
            media_mime: m.media_mime.clone(),
            media_size: m.media_size,
            media_error: m.media_error.clone(),
            reactions: reactions_of(m),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    pub id: String,
    /// WhatsApp id: the phone number in E.164 without `+`; null for a customer not on
    /// WhatsApp (a website visitor, an API inbox's customer).
    pub wa_id: Option<String>,
    pub name: Option<String>,
    /// The customer's own WhatsApp profile name; `name` follows it until someone edits `name`.
    pub profile_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub category: Option<String>,
}

impl From<&contact::Model> for ContactView {
    fn from(c: &contact::Model) -> Self {
        ContactView {
            id: c.id.clone(),
            wa_id: Some(c.wa_id.clone()).filter(|w| !w.is_empty()),
            name: c.name.clone(),
            profile_name: c.profile_name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            category: c.category.clone(),
        }
    }
}

/// A tag as it appears on a conversation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagView {
    pub id: String,
    pub name: String,
    pub color: String,
}

impl From<&entities::tag::Model> for TagView {
    fn from(t: &entities::tag::Model) -> Self {
        TagView { id: t.id.clone(), name: t.name.clone(), color: t.color.clone() }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub id: String,
    pub inbox_id: String,
    /// The inbox's channel: `whatsapp`, `livechat` or `api`. (A view from a node that predates
    /// channels, forwarded in a cluster, is WhatsApp's.)
    #[serde(default = "whatsapp")]
    pub channel: String,
    pub contact: Option<ContactView>,
    /// BOT_HANDLING, HUMAN_HANDLING, OPEN, WAITING_FOR_CUSTOMER, CLOSED.
    pub status: String,
    pub assigned_to: Option<String>,
    pub unread_count: i32,
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_message_preview: Option<String>,
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// When WhatsApp's 24-hour customer-service window closes; after it only templates may be
    /// sent. Always null on other channels, which have no such window.
    pub window_closes_at: Option<DateTime<Utc>>,
    /// The conversation's latest event `seq`.
    pub seq: i64,
    /// The conversation's tags (in API answers and tag events; absent from other events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<TagView>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub category: Option<String>,
    /// Set when an agent marked the conversation for follow-up.
    pub follow_up_at: Option<DateTime<Utc>>,
    pub follow_up_note: Option<String>,
    pub follow_up_by: Option<String>,
    /// The summary the last agent handed back to the bot.
    pub handoff_summary: Option<String>,
    /// The customer wrote last and has not been answered.
    pub awaiting_reply: bool,
    /// The team routing chose.
    pub team_id: Option<String>,
    /// When it joined the queue for a human; `None` while assigned or with the bot.
    pub queued_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn whatsapp() -> String {
    Channel::Whatsapp.to_string()
}

impl ConversationView {
    pub fn new(c: &conversation::Model, contact: Option<&contact::Model>, channel: Channel) -> Self {
        ConversationView {
            id: c.id.clone(),
            inbox_id: c.inbox_id.clone(),
            channel: channel.to_string(),
            contact: contact.map(ContactView::from),
            status: c.status.to_string(),
            assigned_to: c.assigned_to.clone(),
            unread_count: c.unread_count,
            last_message_at: c.last_message_at,
            last_message_preview: c.last_message_preview.clone(),
            last_inbound_at: c.last_inbound_at,
            window_closes_at: c.last_inbound_at.filter(|_| channel == Channel::Whatsapp).map(|t| t + SERVICE_WINDOW),
            seq: c.event_seq,
            tags: None,
            closed_at: c.closed_at,
            category: c.category.clone(),
            follow_up_at: c.follow_up_at,
            follow_up_note: c.follow_up_note.clone(),
            follow_up_by: c.follow_up_by.clone(),
            handoff_summary: c.handoff_summary.clone(),
            awaiting_reply: c.awaiting_reply,
            team_id: c.team_id.clone(),
            queued_at: c.queued_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Data of `message.created`: the message, and the conversation as it stands after it.
#[derive(Serialize)]
pub struct MessageCreated<'a> {
    #[serde(flatten)]
    pub message: &'a MessageView,
    pub conversation: &'a ConversationView,
}

/// Data of `conversation.status_changed`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChanged<'a> {
    #[serde(flatten)]
    pub conversation: &'a ConversationView,
    pub previous_status: &'a str,
}
