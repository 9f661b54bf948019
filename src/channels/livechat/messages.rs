//! A visitor's messages: writing (idempotent by the widget's `clientId`, which becomes the
//! message's provider id), reading the history, files, typing, the offline form and read
//! receipts. Every write goes through `conversations::inbound::place`, as a WhatsApp
//! customer's does, so routing, assignment and the bot treat both alike.

use actors::conversation::{ApplyStatus, InboundMessage, StoredMedia};
use actors::store::conversations::Page;
use actors::views::MessageView;
use chrono::Utc;
use entities::enums::MessageStatus;
use entities::message;

use super::view::{WidgetMessage, widget_message};
use super::visitors::{Visitor, email, latest_conversation};
use crate::conversations::inbound::{self, Customer, Placed};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// Longest text a visitor may write.
pub const MAX_TEXT: usize = 4096;
/// Largest file a visitor may upload.
pub const MAX_FILE: usize = 10 * 1024 * 1024;

/// A written message and whether this call stored it (false: the same `clientId` before).
pub struct Written {
    pub message: WidgetMessage,
    pub created: bool,
}

fn client_id(v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 100 || !v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)) {
        return Err(Error::invalid("clientId", "clientId is 1 to 100 letters, digits, '-', '_', '.' or ':'"));
    }
    Ok(v.to_owned())
}

fn provider_id(visitor: &Visitor, client_id: &str) -> String {
    format!("widget:{}:{client_id}", visitor.contact.id)
}

/// The visitor's message already stored under this client id, if any.
async fn already(state: &AppState, visitor: &Visitor, client_id: &str) -> Result<Option<WidgetMessage>> {
    let found =
        actors::store::messages::by_provider_id(state.db(), &visitor.inbox.model.id, &provider_id(visitor, client_id))
            .await?;
    Ok(found.and_then(|m| widget_message(&MessageView::from(&m), None)))
}

/// Writes the visitor's text message.
pub async fn send_text(state: &AppState, visitor: &Visitor, ip: &str, client_id: &str, text: &str) -> Result<Written> {
    let client_id = self::client_id(client_id)?;
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(Error::invalid("text", format!("text is 1 to {MAX_TEXT} characters")));
    }
    let content = serde_json::json!({ "clientId": client_id });
    place(state, visitor, ip, &client_id, "text", Some(text.to_owned()), content, None).await
}

#[allow(clippy::too_many_arguments)]
async fn place(
    state: &AppState,
    visitor: &Visitor,
    ip: &str,
    client_id: &str,
    message_type: &str,
    text: Option<String>,
    content: serde_json::Value,
    stored_media: Option<StoredMedia>,
) -> Result<Written> {
    // A retry of a stored message is answered, not counted against the limits.
    if let Some(message) = already(state, visitor, client_id).await? {
        return Ok(Written { message, created: false });
    }
    state.widget.limits.check(&visitor.inbox.model.id, &visitor.contact.id, ip)?;
    let msg = InboundMessage {
        provider_message_id: provider_id(visitor, client_id),
        message_type: message_type.to_owned(),
        text,
        content: Some(content.to_string()),
        sent_at: Utc::now(),
        media_id: None,
        profile_name: None,
        stored_media,
    };
    let customer = Customer::Contact(visitor.contact.id.clone());
    match inbound::place(&state.rt, visitor.org_id(), &visitor.inbox.model.id, &customer, msg).await? {
        Placed::Stored { message, .. } => {
            let message = widget_message(&message, None).ok_or(Error::Internal("stored message not shown".into()))?;
            Ok(Written { message, created: true })
        }
        Placed::Duplicate { .. } => {
            let message = already(state, visitor, client_id).await?.ok_or(Error::NotFound("message"))?;
            Ok(Written { message, created: false })
        }
    }
}

/// A file the visitor uploads.
pub struct Upload {
    pub bytes: Vec<u8>,
    pub mime: String,
    pub filename: Option<String>,
    pub client_id: String,
    pub caption: Option<String>,
}

fn kind_of(mime: &str) -> &'static str {
    match mime.split('/').next().unwrap_or_default() {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "document",
    }
}

/// Stores the visitor's file and writes it as a message (the file is ours already: stored
/// `downloaded`, never fetched from a provider).
pub async fn send_file(state: &AppState, visitor: &Visitor, ip: &str, upload: Upload) -> Result<Written> {
    let client_id = self::client_id(&upload.client_id)?;
    if upload.bytes.is_empty() {
        return Err(Error::invalid("file", "a non-empty file is required"));
    }
    if upload.bytes.len() > MAX_FILE {
        return Err(Error::TooLarge(format!("a file may be at most {} MB", MAX_FILE / (1024 * 1024))));
    }
    let caption = upload.caption.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if caption.as_ref().is_some_and(|c| c.chars().count() > 1024) {
        return Err(Error::invalid("caption", "caption is at most 1024 characters"));
    }
    if let Some(message) = already(state, visitor, &client_id).await? {
        return Ok(Written { message, created: false });
    }
    let filename = upload.filename.map(|f| f.chars().filter(|c| !c.is_control()).take(200).collect::<String>());
    let path = format!("{}/widget-{}", visitor.org_id(), actors::new_id());
    let size = upload.bytes.len() as i64;
    state.media.put(&path, upload.bytes).await.map_err(|e| Error::Internal(format!("media store: {e}")))?;
    let kind = kind_of(&upload.mime);
    let content = serde_json::json!({ "clientId": client_id, "filename": filename, "caption": caption });
    let stored = StoredMedia { path: path.clone(), mime: upload.mime.clone(), size };
    let written = place(state, visitor, ip, &client_id, kind, caption.clone(), content, Some(stored)).await;
    if !matches!(&written, Ok(w) if w.created) {
        // Refused, or answered with an earlier message: this copy of the file is nobody's.
        let _ = state.media.delete(&path).await;
    }
    written
}

/// A page of the visitor's latest conversation, oldest first, and whether older messages exist.
pub async fn history(
    state: &AppState,
    visitor: &Visitor,
    before: Option<&str>,
    limit: Option<u64>,
) -> Result<(Vec<WidgetMessage>, bool)> {
    let limit = limit.unwrap_or(50).clamp(1, 100);
    let Some(conv) = latest_conversation(state.db(), &visitor.inbox.model.id, &visitor.contact.id).await? else {
        return Ok((Vec::new(), false));
    };
    let key = before.filter(|b| !b.is_empty()).map(|b| (Page::Before, b));
    let mut rows = actors::store::messages::page(state.db(), &conv.id, key, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    if more {
        rows.remove(0);
    }
    let mut out = Vec::with_capacity(rows.len());
    for m in &rows {
        let sender = match m.direction {
            entities::enums::Direction::Outbound => {
                Some(state.widget.names.sender(state.db(), &m.org_id, &m.inbox_id, m.sender_id.as_deref()).await)
            }
            _ => None,
        };
        out.extend(widget_message(&MessageView::from(m), sender));
    }
    Ok((out, more))
}

/// The file of a message in one of the visitor's own conversations: bytes, type, name.
pub async fn file(state: &AppState, visitor: &Visitor, message_id: &str) -> Result<(Vec<u8>, String, Option<String>)> {
    let m: message::Model =
        actors::store::messages::get(state.db(), message_id).await?.ok_or(Error::NotFound("message"))?;
    let conv = actors::store::conversations::get(state.db(), visitor.org_id(), &m.conversation_id)
        .await?
        .filter(|c| c.contact_id == visitor.contact.id && c.inbox_id == visitor.inbox.model.id && !m.hidden)
        .ok_or(Error::NotFound("message"))?;
    let path =
        m.media_path.filter(|_| m.media_status.as_deref() == Some("downloaded")).ok_or(Error::NotFound("file"))?;
    let bytes = state.media.get(&path).await.map_err(|_| Error::NotFound("file"))?;
    let name = m
        .content
        .as_deref()
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|c| c.get("filename").and_then(|v| v.as_str()).map(str::to_owned));
    let _ = conv;
    Ok((bytes, m.media_mime.unwrap_or_else(|| "application/octet-stream".into()), name))
}

/// The visitor's answer to a satisfaction survey (a `csat` message of one of their own
/// conversations): the conversation's rating; answering again replaces it.
pub async fn rate(
    state: &AppState,
    visitor: &Visitor,
    message_id: &str,
    rating: i32,
    comment: Option<String>,
) -> Result<actors::conversation::csat::RatingView> {
    use sea_orm::EntityTrait;
    let survey = message::Entity::find_by_id(message_id.to_owned())
        .one(state.db())
        .await?
        .filter(|m| m.inbox_id == visitor.inbox.model.id && m.message_type == actors::conversation::SURVEY)
        .ok_or(Error::NotFound("survey"))?;
    let conv = actors::store::conversations::get(state.db(), visitor.org_id(), &survey.conversation_id)
        .await?
        .filter(|c| c.contact_id == visitor.contact.id)
        .ok_or(Error::NotFound("survey"))?;
    crate::csat::rate(state, visitor.org_id(), &conv.id, rating, comment).await
}

/// The visitor is (or stopped) typing: the agents' sockets show it (never stored).
pub async fn typing(state: &AppState, visitor: &Visitor, typing: bool) -> Result<()> {
    let Some(conv) = latest_conversation(state.db(), &visitor.inbox.model.id, &visitor.contact.id).await? else {
        return Ok(());
    };
    let data = serde_json::json!({ "conversationId": conv.id, "contactId": visitor.contact.id, "typing": typing });
    let ev = actors::events::Event::ephemeral(visitor.org_id().to_owned(), conv.id, "typing.visitor", data);
    state.rt.bus.do_send(actors::bus::Flash(std::sync::Arc::new(ev)));
    Ok(())
}

/// Outside working hours: keeps the visitor's email on the contact and the text as its message.
pub async fn offline(state: &AppState, visitor: &Visitor, ip: &str, address: &str, text: &str) -> Result<Written> {
    let address =
        email(Some(address.to_owned()), "email")?.ok_or_else(|| Error::invalid("email", "email is required"))?;
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(Error::invalid("text", format!("text is 1 to {MAX_TEXT} characters")));
    }
    if visitor.contact.email.as_deref() != Some(address.as_str()) {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
        let mut am = visitor.contact.clone().into_active_model();
        am.email = Set(Some(address.clone()));
        am.updated_at = Set(Utc::now());
        am.update(state.db()).await?;
    }
    let client_id = format!("offline-{}", actors::new_id());
    let content = serde_json::json!({ "clientId": client_id, "offline": true, "email": address });
    place(state, visitor, ip, &client_id, "text", Some(text.to_owned()), content, None).await
}

/// The visitor's widget showed (`delivered`) or the visitor saw (`read`) these answers.
pub async fn ack(state: &AppState, org_id: &str, conversation_id: &str, ids: &[String], status: MessageStatus) {
    for id in ids.iter().take(100) {
        let msg = ApplyStatus {
            org_id: org_id.to_owned(),
            provider_message_id: id.clone(),
            message_id: Some(id.clone()),
            status,
            at: Utc::now(),
            error_code: None,
            error_message: None,
        };
        if let Err(e) = state.rt.ask_conversation(org_id, conversation_id, msg).await {
            tracing::debug!(%conversation_id, message_id = %id, error = %e, "visitor ack not applied");
        }
    }
}
