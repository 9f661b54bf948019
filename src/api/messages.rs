//! MESSAGES-1 and -2: a conversation's messages, and sending a text reply.

use actix_web::{HttpResponse, get, post, web};
use actors::conversation::SendText;
use actors::store::{self, conversations::Page};
use actors::views::MessageView;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::conversations::find;
use super::multipart;
use super::pagination::{self, CursorPage};
use crate::auth::Caller;
use crate::conversations::media::{self as outgoing, MB};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Longest WhatsApp text body.
const MAX_TEXT: usize = 4096;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(send)
        .service(send_media)
        .service(toggle_hide)
        .service(media)
        .service(retry_media)
        .service(react);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    cursor: Option<String>,
    /// Page size, default 50, at most 100.
    limit: Option<u64>,
}

/// Get a conversation's messages: the latest page first, older ones with `nextCursor`.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id"), ListQuery),
    responses((status = 200, description = "Chronological; `nextCursor` pages to older messages, `prevCursor` to newer", body = CursorPage<MessageView>), (status = 404, body = crate::error::ErrorBody))
)]
#[get("/conversations/{id}/messages")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let conv = find(&state, &caller, &id).await?;
    let key = pagination::decode(q.cursor.as_deref())?;
    let limit = pagination::limit(q.limit)?;
    let mut rows =
        store::messages::page(state.db(), &conv.id, key.as_ref().map(|(p, k)| (*p, k.as_str())), limit + 1).await?;
    // Pages are chronological: the extra row is the oldest when paging back in time, the
    // newest when paging forward; older messages lie before the first row.
    let w = pagination::window(&mut rows, limit, key.as_ref().map(|(p, _)| *p), !matches!(key, Some((Page::After, _))));
    let next_cursor = rows.first().filter(|_| w.next).map(|m| pagination::encode(Page::Before, &m.id));
    let prev_cursor = rows.last().filter(|_| w.prev).map(|m| pagination::encode(Page::After, &m.id));
    Ok(HttpResponse::Ok().json(CursorPage {
        data: rows.iter().map(MessageView::from).collect::<Vec<_>>(),
        next_cursor,
        prev_cursor,
    }))
}

/// The optional `Idempotency-Key` header: printable ASCII, at most 255 characters.
pub(crate) fn idempotency_key(req: &actix_web::HttpRequest) -> ApiResult<Option<String>> {
    let Some(v) = req.headers().get("idempotency-key") else { return Ok(None) };
    let key = v.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255);
    match key {
        Some(k) => Ok(Some(k.to_owned())),
        None => Err(ApiError::validation("Idempotency-Key", "Idempotency-Key must be 1 to 255 printable characters")),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SendRequest {
    /// Message type; `text` here (media and templates have their own endpoints).
    #[serde(rename = "type")]
    pub message_type: String,
    pub text: Option<String>,
}

/// Send a message to the customer. It is stored as `pending` in the outbox, sent through the
/// WhatsApp Cloud API, and returned `sent` (with the wamid), `failed` (with Meta's reason), or
/// still `pending` when WhatsApp failed transiently (it is retried with backoff; watch for
/// `message.updated`). With an `Idempotency-Key` header a repeated request returns the first
/// message and sends nothing. An agent who replies to an unassigned conversation takes it; the
/// conversation then waits for the customer.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Conversation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request send once"),
    ),
    request_body = SendRequest,
    responses(
        (status = 201, description = "Stored and handed to WhatsApp (see `status`)", body = Data<MessageView>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Closed, or outside the 24-hour window (a template is needed)", body = crate::error::ErrorBody),
    )
)]
#[post("/conversations/{id}/messages")]
pub async fn send(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    id: web::Path<String>,
    body: web::Json<SendRequest>,
) -> ApiResult<HttpResponse> {
    let sender_id = caller.require_user()?.to_owned();
    let idempotency_key = idempotency_key(&req)?;
    if body.message_type != "text" {
        return Err(ApiError::validation(
            "type",
            format!("type {:?} cannot be sent here; use \"text\"", body.message_type),
        ));
    }
    let text = body.text.as_deref().map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(ApiError::validation("text", "text is required"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(ApiError::validation("text", format!("text is longer than {MAX_TEXT} characters")));
    }
    let conv = find(&state, &caller, &id).await?;
    let msg =
        SendText { org_id: caller.org_id.clone(), sender_id, text: text.to_owned(), idempotency_key, reply_to: None };
    let view = state.rt.ask_conversation(&caller.org_id, &conv.id, msg).await?;
    Ok(HttpResponse::Created().json(Data::new(view)))
}

/// Hide a message from the conversation view, or show it again. It stays stored either way.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses((status = 200, body = Data<MessageView>), (status = 404, body = crate::error::ErrorBody))
)]
#[post("/messages/{id}/toggle-hide")]
pub async fn toggle_hide(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let m = own(&state, &caller, &id).await?;
    let msg = actors::conversation::ToggleHide { org_id: caller.org_id.clone(), message_id: m.id.clone() };
    let view = state.rt.ask_conversation(&caller.org_id, &m.conversation_id, msg).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

/// A message of the caller's organization, or 404.
pub(crate) async fn own(state: &AppState, caller: &Caller, id: &str) -> ApiResult<entities::message::Model> {
    store::messages::get(state.db(), id)
        .await?
        .filter(|m| m.org_id == caller.org_id)
        .ok_or(ApiError::NotFound("message"))
}

/// The message's media file, as downloaded from WhatsApp.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "The file, with its MIME type"),
        (status = 404, description = "No such message, or it has no media", body = crate::error::ErrorBody),
        (status = 409, description = "Not downloaded (yet): see mediaStatus / mediaError", body = crate::error::ErrorBody),
    )
)]
#[get("/messages/{id}/media")]
pub async fn media(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let m = own(&state, &caller, &id).await?;
    if m.media_id.is_none() && m.media_path.is_none() {
        return Err(ApiError::NotFound("media"));
    }
    let (Some("downloaded"), Some(path)) = (m.media_status.as_deref(), m.media_path.as_deref()) else {
        let why = match m.media_status.as_deref() {
            Some("failed") => format!(
                "the download failed ({}); POST retry-media to try again",
                m.media_error.clone().unwrap_or_default()
            ),
            _ => "the media is still being downloaded".into(),
        };
        return Err(ApiError::Conflict(why));
    };
    let bytes = state.media.get(path).await.map_err(|e| ApiError::Internal(format!("media store: {e}")))?;
    let mime = m.media_mime.clone().unwrap_or_else(|| "application/octet-stream".into());
    Ok(HttpResponse::Ok().content_type(mime).insert_header(("Cache-Control", "private, max-age=3600")).body(bytes))
}

/// Download the message's media again (after a failure).
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "Queued again: mediaStatus is pending", body = Data<MessageView>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "No media, or already downloaded", body = crate::error::ErrorBody),
    )
)]
#[post("/messages/{id}/retry-media")]
pub async fn retry_media(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let m = own(&state, &caller, &id).await?;
    let msg = actors::conversation::RetryMedia { org_id: caller.org_id.clone(), message_id: m.id.clone() };
    let view = state.rt.ask_conversation(&caller.org_id, &m.conversation_id, msg).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

#[derive(Deserialize, ToSchema)]
pub struct ReactRequest {
    /// The emoji; an empty string takes the caller's reaction back.
    pub emoji: String,
}

/// React to a message through WhatsApp. The reaction is recorded on the message once WhatsApp
/// accepted it.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    request_body = ReactRequest,
    responses(
        (status = 200, body = Data<MessageView>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "The message never reached WhatsApp, or WhatsApp refused", body = crate::error::ErrorBody),
    )
)]
#[post("/messages/{id}/react")]
pub async fn react(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<ReactRequest>,
) -> ApiResult<HttpResponse> {
    let by = caller.require_user()?.to_owned();
    let emoji = body.emoji.trim().to_owned();
    if emoji.chars().count() > 8 || emoji.chars().any(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::validation("emoji", "emoji must be a single emoji (or empty to remove)"));
    }
    let m = own(&state, &caller, &id).await?;
    let msg = actors::conversation::React { org_id: caller.org_id.clone(), message_id: m.id.clone(), emoji, by };
    let view = state.rt.ask_conversation(&caller.org_id, &m.conversation_id, msg).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

/// The multipart form of a media message.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MessageMediaForm {
    /// The file (image: JPEG/PNG ≤ 5 MB; video: MP4/3GPP ≤ 16 MB; audio: AAC/AMR/MPEG/MP4/OGG ≤ 16 MB;
    /// document: any type ≤ 100 MB).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// image, video, audio or document; default from the file's MIME type.
    #[schema(rename = "type")]
    kind: Option<String>,
    /// Shown under images, videos and documents.
    caption: Option<String>,
}

/// Send a file (image, video, audio, document) to the customer, through the outbox.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Conversation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request send once"),
    ),
    request_body(content = MessageMediaForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = Data<MessageView>),
        (status = 400, description = "No file, or a type WhatsApp does not take", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Closed, or outside the 24-hour window", body = crate::error::ErrorBody),
        (status = 413, description = "Larger than WhatsApp takes for the kind", body = crate::error::ErrorBody),
    )
)]
#[post("/conversations/{id}/messages/media")]
pub async fn send_media(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    id: web::Path<String>,
    form: actix_multipart::Multipart,
) -> ApiResult<HttpResponse> {
    let sender_id = caller.require_user()?.to_owned();
    let idempotency_key = idempotency_key(&req)?;
    let conv = find(&state, &caller, &id).await?;
    let limits = multipart::Limits {
        file: outgoing::MAX_BYTES,
        field: 8 * 1024,
        files: &["file"],
        drain: outgoing::MAX_BYTES + MB,
    };
    let mut form = multipart::read(form, limits).await?;
    let file = form.file("file")?;
    let upload = outgoing::Upload {
        bytes: file.bytes,
        mime: file.mime,
        filename: file.filename,
        kind: form.field("type").map(str::to_owned),
        caption: form.field("caption").map(str::to_owned),
    };
    let view = outgoing::send(&state, &conv, &sender_id, upload, idempotency_key).await?;
    Ok(HttpResponse::Created().json(Data::new(view)))
}
