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
use super::pagination::{self, CursorPage};
use crate::auth::Caller;
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
fn idempotency_key(req: &actix_web::HttpRequest) -> ApiResult<Option<String>> {
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
    let msg = SendText { org_id: caller.org_id.clone(), sender_id, text: text.to_owned(), idempotency_key };
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

/// What WhatsApp accepts per media kind: MIME types and the largest size.
fn media_rules(kind: &str) -> Option<(&'static [&'static str], usize)> {
    const MB: usize = 1024 * 1024;
    Some(match kind {
        "image" => (&["image/jpeg", "image/png"], 5 * MB),
        "video" => (&["video/mp4", "video/3gpp"], 16 * MB),
        "audio" => (&["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"], 16 * MB),
        "document" => (&[], 100 * MB),
        _ => return None,
    })
}

/// The kind a MIME type is sent as when the client does not say.
fn kind_of(mime: &str) -> &'static str {
    match mime.split('/').next().unwrap_or_default() {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "document",
    }
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
    mut form: actix_multipart::Multipart,
) -> ApiResult<HttpResponse> {
    use futures_util::StreamExt;
    let sender_id = caller.require_user()?.to_owned();
    let idempotency_key = idempotency_key(&req)?;
    let conv = find(&state, &caller, &id).await?;
    let (mut file, mut mime, mut filename, mut kind, mut caption) =
        (None::<Vec<u8>>, None::<String>, None::<String>, None, None);
    const LIMIT: usize = 100 * 1024 * 1024;
    // The other fields are short text: a caption is at most 1024 characters.
    const FIELD_LIMIT: usize = 8 * 1024;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| ApiError::BadRequest(format!("invalid multipart body: {e}")))?;
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "file" { LIMIT } else { FIELD_LIMIT };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("invalid multipart body: {e}")))?;
            if bytes.len() + chunk.len() > limit {
                return Err(if name == "file" {
                    ApiError::TooLarge("the file is larger than WhatsApp takes (100 MB)".into())
                } else {
                    ApiError::validation(name.clone(), format!("{name} is at most {FIELD_LIMIT} bytes"))
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "file" => {
                mime = field.content_type().map(|m| m.essence_str().to_owned());
                filename = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
                file = Some(bytes);
            }
            "type" => kind = Some(String::from_utf8_lossy(&bytes).trim().to_owned()),
            "caption" => caption = Some(String::from_utf8_lossy(&bytes).trim().to_owned()).filter(|c| !c.is_empty()),
            _ => {}
        }
    }
    let file =
        file.filter(|f| !f.is_empty()).ok_or_else(|| ApiError::validation("file", "a non-empty file is required"))?;
    let mime = mime.unwrap_or_else(|| "application/octet-stream".into());
    let kind = kind.unwrap_or_else(|| kind_of(&mime).to_owned());
    let (types, max) = media_rules(&kind)
        .ok_or_else(|| ApiError::validation("type", "type must be image, video, audio or document"))?;
    if !types.is_empty() && !types.contains(&mime.as_str()) {
        return Err(ApiError::validation(
            "file",
            format!("WhatsApp does not take {mime} as {kind}; use one of {}", types.join(", ")),
        ));
    }
    if file.len() > max {
        return Err(ApiError::TooLarge(format!("a {kind} may be at most {} MB", max / (1024 * 1024))));
    }
    if caption.as_ref().is_some_and(|c| c.chars().count() > 1024) {
        return Err(ApiError::validation("caption", "caption is at most 1024 characters"));
    }
    let path = format!("{}/out-{}", caller.org_id, actors::new_id());
    let stored = path.clone();
    let size = file.len() as i64;
    state.media.put(&path, file).await.map_err(|e| ApiError::Internal(format!("media store: {e}")))?;
    let msg = actors::conversation::SendMedia {
        org_id: caller.org_id.clone(),
        sender_id,
        kind,
        path,
        mime,
        size,
        caption,
        filename,
        idempotency_key,
    };
    let result = state.rt.ask_conversation(&caller.org_id, &conv.id, msg).await;
    // The file stays only if it is the message's: not after a refusal (closed, outside the
    // window), nor when the Idempotency-Key answered with the first request's message.
    let kept = match &result {
        Ok(view) => {
            let row = actors::store::messages::get(state.db(), &view.id).await.ok().flatten();
            row.is_none_or(|m| m.media_path.as_deref() == Some(stored.as_str()))
        }
        // A refusal stored nothing; after anything else (an unavailable node, a timeout) the
        // message may exist, so its file stays.
        Err(e) => !matches!(
            e,
            actors::ActorError::Conflict(_) | actors::ActorError::Invalid { .. } | actors::ActorError::NotFound(_)
        ),
    };
    if !kept && let Err(e) = state.media.delete(&stored).await {
        tracing::warn!(error = %e, path = %stored, "unsent media not deleted");
    }
    Ok(HttpResponse::Created().json(Data::new(result?)))
}
