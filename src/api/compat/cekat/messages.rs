//! The classic Messages API (seed 001, Cekat style): `POST /messages/whatsapp`,
//! `GET /messages?conversation_id=&limit=&before=`, `GET /messages/{id}` and
//! `POST /v1/backoffice/conversations-delete`, with the seed's snake_case fields. Sends and
//! deletions go through the conversations' actors like the native ones.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use actors::views::MessageView;
use entities::enums::Direction;
use entities::message;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::envelope::{self, CekatCaller, CekatData, CekatErrorBody, CekatResult, timestamp};
use crate::conversations::thread::{self, Thread};
use crate::conversations::{removal, to_phone};
use crate::error::ApiError;
use crate::state::AppState;

/// Page size of `GET /messages` when not given, and its maximum.
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 100;

/// The field names of this API, for refusals.
const FIELDS: to_phone::Fields = to_phone::Fields {
    inbox_id: "inbox_id",
    to: "to",
    text: "content.text",
    link: "content.url",
    caption: "content.caption",
    reply_to: "reply_to",
};

#[derive(Deserialize, ToSchema)]
#[schema(as = CekatSendRequest)]
pub struct SendRequest {
    /// The source inbox (a WhatsApp inbox of the organization).
    pub inbox_id: String,
    /// The recipient's phone number in E.164 (`+62812345678`).
    pub to: String,
    /// text, image, video, document or audio.
    #[serde(rename = "type")]
    pub message_type: String,
    pub content: SendContent,
    /// The id of a message of the same conversation that this one answers: WhatsApp shows it
    /// quoted (`context.message_id`).
    pub reply_to: Option<String>,
}

/// The message content, by `type`: `{"text"}` for text; `{"url", "caption"?, "filename"?}` for
/// image, video, document and audio (WhatsApp fetches the file from the public URL; `link` is
/// taken for `url`; audio takes no caption, only documents take a file name).
#[derive(Deserialize, ToSchema)]
#[schema(as = CekatSendContent)]
pub struct SendContent {
    pub text: Option<String>,
    #[serde(alias = "link")]
    pub url: Option<String>,
    pub caption: Option<String>,
    pub filename: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CekatSent)]
pub struct Sent {
    pub message_id: String,
    /// sent (WhatsApp took it), pending (retried after a transient failure) or failed.
    pub status: String,
    /// The recipient in E.164.
    pub to: String,
    pub timestamp: String,
}

/// Send a WhatsApp message to a customer from an inbox (Cekat-compatible). The customer's open
/// conversation in the inbox is used, or a new one opened; the message goes through the outbox
/// like an agent's reply and is answered `sent`, `pending` or `failed`. Free-form messages need
/// the 24-hour customer service window open (the customer wrote in the last 24 hours): outside
/// it the answer is 409. An `Idempotency-Key` header makes a retried request send once.
#[utoipa::path(
    tag = "compat-cekat",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request send once")),
    request_body = SendRequest,
    responses(
        (status = 200, body = CekatData<Sent>),
        (status = 400, description = "A field is missing or wrong (`error.details.field`)", body = CekatErrorBody),
        (status = 401, body = CekatErrorBody),
        (status = 403, description = "An API key whose creator is no longer a user", body = CekatErrorBody),
        (status = 404, description = "No such inbox, or `reply_to` names no message of the organization", body = CekatErrorBody),
        (status = 409, description = "Outside the 24-hour window, or the number is not connected", body = CekatErrorBody),
        (status = 422, description = "The inbox is not a WhatsApp inbox", body = CekatErrorBody),
    )
)]
#[post("/messages/whatsapp")]
pub async fn send(
    state: web::Data<AppState>,
    CekatCaller(caller): CekatCaller,
    req: HttpRequest,
    body: web::Bytes,
) -> CekatResult<HttpResponse> {
    let sender_id = caller.require_user()?.to_owned();
    let idempotency_key = crate::api::messages::idempotency_key(&req)?;
    let out = outgoing(envelope::json(&body)?, idempotency_key)?;
    let sent = to_phone::send(&state, &caller.org_id, &sender_id, out, &FIELDS).await?;
    Ok(HttpResponse::Ok().json(CekatData::new(Sent {
        message_id: sent.message.id,
        status: sent.message.status,
        to: e164(&sent.wa_id),
        timestamp: timestamp(sent.message.created_at),
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The conversation whose messages to list.
    pub conversation_id: Option<String>,
    /// Page size, default 50, at most 100.
    #[param(value_type = Option<u64>)]
    pub limit: Option<String>,
    /// A message id: the page holds the messages just older than it (`pagination.before` of
    /// the previous page).
    pub before: Option<String>,
}

/// One message of a list.
#[derive(Serialize, ToSchema)]
#[schema(as = CekatMessage)]
pub struct Item {
    pub id: String,
    pub conversation_id: String,
    /// inbound (from the customer) or outbound.
    pub direction: String,
    /// text, image, video, audio, document, sticker, location, …
    #[serde(rename = "type")]
    pub message_type: String,
    /// `{"text"}` for text; for files `{"url", "caption", "filename", "mime_type"}` (`url` is
    /// the link it was sent by, or the authenticated `/api/v1/messages/{id}/media`); other
    /// types as WhatsApp sent them.
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
    pub sender: Sender,
    pub timestamp: String,
}

/// Who sent a message: the customer (`name`, `phone`), or the business (`name`, `user_id`: the
/// agent, null for the bot and automatic messages).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = CekatSender)]
pub enum Sender {
    Customer { name: Option<String>, phone: Option<String> },
    Business { name: Option<String>, user_id: Option<String> },
}

#[derive(Serialize, ToSchema)]
#[schema(as = CekatPagination)]
pub struct Pagination {
    /// Older messages exist.
    pub has_more: bool,
    /// The cursor for the next (older) page: the oldest id of this page; null without more.
    pub before: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CekatMessagePage)]
pub struct MessagePage {
    /// Always `true`.
    pub success: bool,
    /// Chronological.
    pub data: Vec<Item>,
    pub pagination: Pagination,
}

/// List a conversation's messages (Cekat-compatible): the latest `limit`, chronological; pass
/// `pagination.before` as `before` for the page before. System notes and hidden messages are
/// left out.
#[utoipa::path(
    tag = "compat-cekat",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = MessagePage),
        (status = 400, description = "`conversation_id` missing, `limit` out of 1..=100, or `before` not a message of the conversation", body = CekatErrorBody),
        (status = 401, body = CekatErrorBody),
        (status = 404, body = CekatErrorBody),
    )
)]
#[get("/messages")]
pub async fn list(
    state: web::Data<AppState>,
    CekatCaller(caller): CekatCaller,
    req: HttpRequest,
) -> CekatResult<HttpResponse> {
    let q: ListQuery = envelope::query(&req)?;
    let conversation_id = q
        .conversation_id
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| ApiError::validation("conversation_id", "conversation_id is required"))?;
    let limit = match envelope::integer("limit", q.limit.as_deref())? {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::validation("limit", format!("limit is an integer from 1 to {MAX_LIMIT}")).into());
        }
    };
    let before = q.before.filter(|b| !b.trim().is_empty());
    let t =
        thread::page(state.db(), &caller.org_id, conversation_id.trim(), before.as_deref(), "before", limit).await?;
    let data: Vec<Item> = t.messages.iter().map(|m| item(&t, m)).collect();
    let before = t.messages.first().filter(|_| t.has_more).map(|m| m.id.clone());
    Ok(HttpResponse::Ok().json(MessagePage {
        success: true,
        data,
        pagination: Pagination { has_more: t.has_more, before },
    }))
}

/// One message, with its delivery.
#[derive(Serialize, ToSchema)]
#[schema(as = CekatMessageDetail)]
pub struct Detail {
    pub id: String,
    pub conversation_id: String,
    pub direction: String,
    #[serde(rename = "type")]
    pub message_type: String,
    /// received (inbound), pending, sent, delivered, read or failed.
    pub status: String,
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
    pub sender: Sender,
    /// Who it went to: the customer for outbound, the business's number for inbound.
    pub recipient: Recipient,
    pub timestamp: String,
    pub delivered_at: Option<String>,
    pub read_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CekatRecipient)]
pub struct Recipient {
    pub phone: Option<String>,
}

/// Get one message (Cekat-compatible), with `status`, `delivered_at` and `read_at` as the
/// WhatsApp status webhooks reported them.
#[utoipa::path(
    tag = "compat-cekat",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, body = CekatData<Detail>),
        (status = 401, body = CekatErrorBody),
        (status = 404, body = CekatErrorBody),
    )
)]
#[get("/messages/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    CekatCaller(caller): CekatCaller,
    id: web::Path<String>,
) -> CekatResult<HttpResponse> {
    let t = thread::one(state.db(), &caller.org_id, &id).await?;
    let m = t.messages.first().ok_or(ApiError::NotFound("message"))?;
    let base = item(&t, m);
    Ok(HttpResponse::Ok().json(CekatData::new(Detail {
        id: base.id,
        conversation_id: base.conversation_id,
        direction: base.direction,
        message_type: base.message_type,
        status: m.status.as_str().to_owned(),
        content: base.content,
        sender: base.sender,
        recipient: Recipient { phone: recipient_phone(&t, m) },
        timestamp: base.timestamp,
        delivered_at: m.delivered_at.map(timestamp),
        read_at: m.read_at.map(timestamp),
    })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CekatDeleteRequest)]
pub struct DeleteRequest {
    /// 1 to 100 conversation ids; when any is not the organization's, nothing is deleted (404).
    pub conversation_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CekatDeleted)]
pub struct Deleted {
    pub deleted: usize,
    pub conversation_ids: Vec<String>,
}

/// Delete conversations with their messages, for good (Cekat-compatible; admins). Each is
/// deleted by its conversation's actor and announced as `conversations.removed`.
#[utoipa::path(
    tag = "compat-cekat",
    security(("bearer" = [])),
    request_body = DeleteRequest,
    responses(
        (status = 200, body = CekatData<Deleted>),
        (status = 400, body = CekatErrorBody),
        (status = 401, body = CekatErrorBody),
        (status = 403, body = CekatErrorBody),
        (status = 404, description = "An id names no conversation of the organization: nothing was deleted", body = CekatErrorBody),
    )
)]
#[post("/v1/backoffice/conversations-delete")]
pub async fn delete_conversations(
    state: web::Data<AppState>,
    CekatCaller(caller): CekatCaller,
    body: web::Bytes,
) -> CekatResult<HttpResponse> {
    let body: DeleteRequest = envelope::json(&body)?;
    caller.require_admin()?;
    let ids =
        removal::delete(&state, &caller.org_id, &body.conversation_ids, "conversation_ids", "deleted via API").await?;
    Ok(HttpResponse::Ok().json(CekatData::new(Deleted { deleted: ids.len(), conversation_ids: ids })))
}

/// The send request in the domain's terms; a `type` this API does not send is refused.
fn outgoing(body: SendRequest, idempotency_key: Option<String>) -> CekatResult<to_phone::Outgoing> {
    let content = body.content;
    let message = match body.message_type.as_str() {
        "text" => to_phone::Body::Text { text: content.text.unwrap_or_default() },
        kind @ ("image" | "video" | "document" | "audio") => to_phone::Body::Link {
            kind: kind.to_owned(),
            link: content.url.unwrap_or_default(),
            caption: content.caption.filter(|c| !c.is_empty()),
            filename: content.filename.filter(|f| !f.is_empty()),
        },
        other => {
            let message = format!("type {other:?} is not one of text, image, video, document, audio");
            return Err(ApiError::validation("type", message).into());
        }
    };
    Ok(to_phone::Outgoing {
        inbox_id: body.inbox_id,
        to: body.to,
        body: message,
        reply_to: body.reply_to,
        idempotency_key,
    })
}

/// A message in the list's shape.
fn item(t: &Thread, m: &message::Model) -> Item {
    let view = MessageView::from(m);
    Item {
        id: m.id.clone(),
        conversation_id: m.conversation_id.clone(),
        direction: m.direction.as_str().to_owned(),
        message_type: m.message_type.clone(),
        content: content(m, &view),
        sender: sender(t, m),
        timestamp: timestamp(m.created_at),
    }
}

fn content(m: &message::Model, view: &MessageView) -> serde_json::Value {
    let stored = view.content.clone().unwrap_or(serde_json::Value::Null);
    let text = m.text.clone();
    match m.message_type.as_str() {
        "text" => serde_json::json!({ "text": text }),
        "image" | "video" | "audio" | "document" | "sticker" => {
            let link = stored.get("link").and_then(|l| l.as_str()).map(str::to_owned);
            serde_json::json!({
                "url": link.or_else(|| view.media_url.clone()),
                "caption": text,
                "filename": stored.get("filename").cloned().unwrap_or(serde_json::Value::Null),
                "mime_type": m.media_mime,
            })
        }
        _ => match (stored, text) {
            (serde_json::Value::Object(mut o), text) => {
                if let Some(t) = text {
                    o.insert("text".into(), t.into());
                }
                serde_json::Value::Object(o)
            }
            (_, text) => serde_json::json!({ "text": text }),
        },
    }
}

fn sender(t: &Thread, m: &message::Model) -> Sender {
    match (&m.direction, &m.sender_id) {
        (Direction::Inbound, _) => Sender::Customer {
            name: t.contact.as_ref().and_then(|c| c.name.clone().or_else(|| c.profile_name.clone())),
            phone: t.contact.as_ref().map(|c| e164(&c.wa_id)),
        },
        (_, Some(agent)) => Sender::Business { name: t.agents.get(agent).cloned(), user_id: Some(agent.clone()) },
        (_, None) => Sender::Business { name: Some(t.bot_name.clone().unwrap_or_else(|| "Bot".into())), user_id: None },
    }
}

/// The customer's phone for an outbound message, the business's for an inbound one.
fn recipient_phone(t: &Thread, m: &message::Model) -> Option<String> {
    match m.direction {
        Direction::Inbound => t.business_phone.as_deref().map(|p| {
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            e164(&digits)
        }),
        _ => t.contact.as_ref().map(|c| e164(&c.wa_id)),
    }
}

/// A WhatsApp id (digits) as E.164.
fn e164(wa_id: &str) -> String {
    format!("+{wa_id}")
}
