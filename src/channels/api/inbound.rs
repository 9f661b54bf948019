//! Messages from an API inbox's system: authenticated by the inbox's token (the inbox follows
//! from it), the customer found or created by the caller's own id for them (`sourceId`, one
//! contact per inbox and id), the message placed like any channel's, once per the caller's
//! `messageId`. Also the caller's reports that our messages reached or were read by the customer.

use actors::conversation::{ApplyStatus, InboundMessage};
use actors::store::contacts::{self, NewContact};
use actors::views::MessageView;
use chrono::{DateTime, Utc};
use entities::enums::{Channel, Direction, MessageStatus};
use entities::{inbox, message};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::conversations::inbound::{Customer, Placed, place};
use crate::crypto::hash_token;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// Longest text of one message.
const MAX_TEXT: usize = 4096;
/// Longest id the caller gives (message and customer ids).
const MAX_ID: usize = 255;

/// The customer as the caller's system knows them.
pub struct ContactInput {
    pub source_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

pub struct MessageInput {
    pub message_id: String,
    pub contact: ContactInput,
    pub kind: String,
    pub text: String,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A stored message, and whether this request stored it (false: a repeat of its `messageId`).
pub struct Received {
    pub created: bool,
    pub message: MessageView,
}

/// The API inbox a token belongs to; a turned-off inbox refuses.
async fn authenticate(state: &AppState, token: Option<&str>) -> Result<inbox::Model> {
    let unknown = || Error::Unauthenticated("a valid API inbox token is required (Authorization: Bearer cxi_…)".into());
    let token = token.map(str::trim).filter(|t| t.starts_with(crate::inboxes::API_TOKEN_PREFIX)).ok_or_else(unknown)?;
    let inbox = inbox::Entity::find()
        .filter(inbox::Column::ApiTokenHash.eq(hash_token(token)))
        .filter(inbox::Column::DeletedAt.is_null())
        .filter(inbox::Column::Channel.eq(Channel::Api))
        .one(state.db())
        .await?
        .ok_or_else(unknown)?;
    if inbox.disabled_at.is_some() {
        return Err(Error::Forbidden("this inbox is turned off; turn it on to send messages".into()));
    }
    Ok(inbox)
}

fn required(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(Error::invalid(field, format!("{field} is required and at most {max} characters")));
    }
    Ok(v.to_owned())
}

fn optional(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    let v = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if v.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(Error::invalid(field, format!("{field} is at most {max} characters")));
    }
    Ok(v)
}

fn check(input: &MessageInput) -> Result<(String, String, String)> {
    let message_id = required("messageId", &input.message_id, MAX_ID)?;
    let source_id = required("contact.sourceId", &input.contact.source_id, MAX_ID)?;
    if input.kind != "text" {
        return Err(Error::invalid("type", "type must be text"));
    }
    if input.text.trim().is_empty() || input.text.chars().count() > MAX_TEXT {
        return Err(Error::invalid("text", format!("text is required and at most {MAX_TEXT} characters")));
    }
    Ok((message_id, source_id, input.text.clone()))
}

/// The inbox's contact with this source id, created (with its address) the first time.
async fn contact_of(state: &AppState, inbox: &inbox::Model, c: ContactInput, source_id: &str) -> Result<String> {
    let db = state.db();
    if let Some(found) = contacts::by_source(db, &inbox.id, source_id).await? {
        return Ok(found.id);
    }
    let new = NewContact {
        name: optional("contact.name", c.name, 255)?,
        email: optional("contact.email", c.email, 255)?,
        phone: optional("contact.phone", c.phone, 32)?,
        identifier: None,
    };
    let created = contacts::create(db, &inbox.org_id, new).await?;
    contacts::attach(db, &inbox.org_id, &created.id, &inbox.id, source_id).await?;
    // Two first messages of one customer at once: the address names whichever was attached first.
    let owner = contacts::by_source(db, &inbox.id, source_id)
        .await?
        .ok_or_else(|| Error::Internal(format!("contact address {source_id} vanished")))?;
    if owner.id != created.id {
        entities::contact::Entity::delete_by_id(created.id).exec(db).await?;
    }
    Ok(owner.id)
}

async fn stored(state: &AppState, inbox_id: &str, message_id: &str) -> Result<Option<MessageView>> {
    let found = actors::store::messages::by_provider_id(state.db(), inbox_id, message_id).await?;
    Ok(found.filter(|m| m.direction == Direction::Inbound).map(|m| MessageView::from(&m)))
}

/// Stores a customer's message sent by the inbox's system; a repeated `messageId` answers the
/// message stored the first time.
pub async fn receive(state: &AppState, token: Option<&str>, input: MessageInput) -> Result<Received> {
    let inbox = authenticate(state, token).await?;
    let (message_id, source_id, text) = check(&input)?;
    if let Some(message) = stored(state, &inbox.id, &message_id).await? {
        return Ok(Received { created: false, message });
    }
    let contact_id = contact_of(state, &inbox, input.contact, &source_id).await?;
    let message = InboundMessage {
        provider_message_id: message_id.clone(),
        message_type: "text".into(),
        text: Some(text),
        content: None,
        sent_at: input.sent_at.unwrap_or_else(Utc::now),
        media_id: None,
        profile_name: None,
        stored_media: None,
    };
    match place(&state.rt, &inbox.org_id, &inbox.id, &Customer::Contact(contact_id), message).await? {
        Placed::Stored { message, .. } => Ok(Received { created: true, message: *message }),
        Placed::Duplicate { .. } => match stored(state, &inbox.id, &message_id).await? {
            Some(message) => Ok(Received { created: false, message }),
            None => Err(Error::Conflict(format!("messageId {message_id} names a message that is not a customer's"))),
        },
    }
}

/// What the inbox's system reports about one of our messages.
#[derive(Clone, Copy, Debug)]
pub enum Reported {
    Delivered,
    Read,
}

/// Marks one of our messages in the token's inbox delivered or read (a later state is kept).
pub async fn report_status(
    state: &AppState,
    token: Option<&str>,
    message_id: &str,
    status: Reported,
) -> Result<MessageView> {
    let inbox = authenticate(state, token).await?;
    let row = message::Entity::find_by_id(message_id.to_owned())
        .filter(message::Column::InboxId.eq(&inbox.id))
        .filter(message::Column::Direction.eq(Direction::Outbound))
        .one(state.db())
        .await?
        .ok_or(Error::NotFound("message"))?;
    let apply = ApplyStatus {
        org_id: inbox.org_id.clone(),
        provider_message_id: row.provider_message_id.clone().unwrap_or_else(|| row.id.clone()),
        message_id: Some(row.id.clone()),
        status: match status {
            Reported::Delivered => MessageStatus::Delivered,
            Reported::Read => MessageStatus::Read,
        },
        at: Utc::now(),
        error_code: None,
        error_message: None,
    };
    state.rt.ask_conversation(&inbox.org_id, &row.conversation_id, apply).await?;
    let row = message::Entity::find_by_id(row.id).one(state.db()).await?.ok_or(Error::NotFound("message"))?;
    Ok(MessageView::from(&row))
}

/// The customer's satisfaction rating (1 to 5, optional comment) of a conversation of the
/// token's inbox that was sent a survey (the `csat` message of a `message.created` webhook).
pub async fn rate(
    state: &AppState,
    token: Option<&str>,
    conversation_id: &str,
    rating: i32,
    comment: Option<String>,
) -> Result<actors::conversation::csat::RatingView> {
    let inbox = authenticate(state, token).await?;
    let conv = actors::store::conversations::get(state.db(), &inbox.org_id, conversation_id)
        .await?
        .filter(|c| c.inbox_id == inbox.id)
        .ok_or(Error::NotFound("conversation"))?;
    crate::csat::rate(state, &inbox.org_id, &conv.id, rating, comment).await
}
