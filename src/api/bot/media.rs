//! BOT-MEDIA-1..6: media the bot may send (images, videos, documents), with a description and
//! tags it reads. Files live in the media store; a video's thumbnail is the image uploaded with
//! it (field `thumbnail`), an image is its own.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::Utc;
use entities::bot_media;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::api::multipart;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(update).service(remove).service(file).service(thumbnail);
}

/// WhatsApp's largest media (documents: 100 MB); images and videos are held to 16 MB.
const MAX_MEDIA_BYTES: usize = 100 * 1024 * 1024;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// `image`, `video` or `document`.
    pub kind: String,
    pub mime: String,
    pub size: i64,
    pub tags: Vec<String>,
    pub has_thumbnail: bool,
    pub url: String,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<&bot_media::Model> for MediaView {
    fn from(m: &bot_media::Model) -> Self {
        MediaView {
            id: m.id.clone(),
            name: m.name.clone(),
            description: m.description.clone(),
            kind: m.kind.clone(),
            mime: m.mime.clone(),
            size: m.size,
            tags: serde_json::from_str(&m.tags).unwrap_or_default(),
            has_thumbnail: m.thumbnail_path.is_some() || m.kind == "image",
            url: format!("/api/v1/bot-config/media/{}/file", m.id),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

fn kind_of(mime: &str) -> Option<&'static str> {
    match mime {
        "image/jpeg" | "image/png" | "image/webp" => Some("image"),
        "video/mp4" | "video/3gpp" => Some("video"),
        m if m.starts_with("application/") || m.starts_with("text/") => Some("document"),
        _ => None,
    }
}

fn check_tags(tags: &[String]) -> ApiResult<Vec<String>> {
    let tags: Vec<String> = tags.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 50) {
        return Err(ApiError::validation("tags", "up to 20 tags of at most 50 characters"));
    }
    Ok(tags)
}

/// Stores a media file; used by uploads and imports.
#[allow(clippy::too_many_arguments)]
pub async fn add_media(
    state: &AppState,
    org_id: &str,
    name: &str,
    mime: &str,
    kind: &str,
    description: Option<String>,
    tags: &[String],
    bytes: Vec<u8>,
) -> ApiResult<bot_media::Model> {
    let id = actors::new_id();
    let path = format!("{org_id}/botmedia-{id}");
    let size = bytes.len() as i64;
    state.media.put(&path, bytes).await.map_err(|e| ApiError::Internal(format!("storing media: {e}")))?;
    let now = Utc::now();
    Ok(bot_media::ActiveModel {
        id: Set(id),
        org_id: Set(org_id.to_owned()),
        name: Set(name.chars().take(200).collect()),
        description: Set(description),
        kind: Set(kind.to_owned()),
        mime: Set(mime.to_owned()),
        path: Set(path),
        size: Set(size),
        tags: Set(serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())),
        thumbnail_path: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(state.db())
    .await?)
}

async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<bot_media::Model> {
    Ok(crate::domain::find_in_org::<bot_media::Entity>(state.db(), &caller.org_id, id).await?)
}

/// The bot's media, newest first.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<MediaView>>)))]
#[get("/bot-config/media")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = bot_media::Entity::find()
        .filter(bot_media::Column::OrgId.eq(caller.org_id.clone()))
        .order_by_desc(bot_media::Column::CreatedAt)
        .all(state.db())
        .await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(MediaView::from).collect::<Vec<_>>())))
}

/// The multipart form of a media upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BotMediaForm {
    /// JPEG, PNG, WebP (16 MB); MP4, 3GP (16 MB); documents (100 MB).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// For a video: a JPEG or PNG shown as its thumbnail.
    #[schema(value_type = Option<String>, format = Binary)]
    thumbnail: Option<Vec<u8>>,
    name: Option<String>,
    description: Option<String>,
    /// Comma-separated.
    tags: Option<String>,
}

/// Upload a media file for the bot.
#[utoipa::path(
    tag = "bot",
    security(("bearer" = [])),
    request_body(content = BotMediaForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Data<MediaView>), (status = 400, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody))
)]
#[post("/bot-config/media")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    form: actix_multipart::Multipart,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let mut form = multipart::read(form, multipart::Limits::files(&["file"], MAX_MEDIA_BYTES)).await?;
    let f = form.files.remove("file").ok_or_else(|| ApiError::validation("file", "a file is required"))?;
    if f.bytes.is_empty() {
        return Err(ApiError::validation("file", "the file is empty"));
    }
    let name = form.field("name").map(str::to_owned).or(f.filename.clone()).unwrap_or_else(|| "media".into());
    let mime =
        if f.mime == "application/octet-stream" { crate::media::guess_mime(&name).to_owned() } else { f.mime.clone() };
    let kind =
        kind_of(&mime).ok_or_else(|| ApiError::validation("file", format!("{mime} cannot be sent on WhatsApp")))?;
    if kind != "document" && f.bytes.len() > 16 * 1024 * 1024 {
        return Err(ApiError::TooLarge(format!("a WhatsApp {kind} may be at most 16 MB")));
    }
    let tags: Vec<String> = form.field("tags").map(|t| t.split(',').map(str::to_owned).collect()).unwrap_or_default();
    let tags = check_tags(&tags)?;
    let description = form.field("description").map(str::to_owned);
    // Everything is checked before anything is stored: a refused request leaves nothing behind.
    let thumb_file = form.files.remove("thumbnail");
    if let Some(thumb) = &thumb_file
        && (!matches!(thumb.mime.as_str(), "image/jpeg" | "image/png") || thumb.bytes.len() > 2 * 1024 * 1024)
    {
        return Err(ApiError::validation("thumbnail", "the thumbnail is a JPEG or PNG of at most 2 MB"));
    }
    let mut m = add_media(&state, &caller.org_id, &name, &mime, kind, description, &tags, f.bytes).await?;
    if let Some(thumb) = thumb_file {
        let path = format!("{}-thumb", m.path);
        state.media.put(&path, thumb.bytes).await.map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut am = m.into_active_model();
        am.thumbnail_path = Set(Some(path));
        m = am.update(state.db()).await?;
    }
    Ok(HttpResponse::Created().json(Data::new(MediaView::from(&m))))
}

#[derive(Deserialize, ToSchema)]
pub struct MediaPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
}

/// Change a media file's name, description or tags.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), request_body = MediaPatch, responses((status = 200, body = Data<MediaView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[patch("/bot-config/media/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<MediaPatch>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let m = find(&state, &caller, &id).await?;
    let b = body.into_inner();
    let mut am = m.into_active_model();
    if let Some(n) = b.name {
        let n = n.trim().to_owned();
        if n.is_empty() || n.chars().count() > 200 {
            return Err(ApiError::validation("name", "name is required and at most 200 characters"));
        }
        am.name = Set(n);
    }
    if let Some(d) = b.description {
        am.description = Set(d);
    }
    if let Some(t) = b.tags {
        am.tags = Set(serde_json::to_string(&check_tags(&t)?).unwrap_or_else(|_| "[]".into()));
    }
    am.updated_at = Set(Utc::now());
    let m = am.update(state.db()).await?;
    Ok(HttpResponse::Ok().json(Data::new(MediaView::from(&m))))
}

/// Delete a media file.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/bot-config/media/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let m = find(&state, &caller, &id).await?;
    bot_media::Entity::delete_by_id(m.id.clone()).exec(state.db()).await?;
    for path in std::iter::once(m.path).chain(m.thumbnail_path) {
        if let Err(e) = state.media.delete(&path).await {
            tracing::warn!(error = %e, "bot media file not deleted");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn serve(state: &AppState, path: &str, mime: &str) -> ApiResult<HttpResponse> {
    let bytes = state.media.get(path).await.map_err(|_| ApiError::NotFound("file"))?;
    Ok(HttpResponse::Ok()
        .content_type(mime.to_owned())
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(bytes))
}

/// The file, for preview.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, description = "The file"), (status = 404, body = crate::error::ErrorBody)))]
#[get("/bot-config/media/{id}/file")]
pub async fn file(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let m = find(&state, &caller, &id).await?;
    serve(&state, &m.path, &m.mime).await
}

/// The thumbnail: the one uploaded with a video, or an image itself.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, description = "The image"), (status = 404, body = crate::error::ErrorBody)))]
#[get("/bot-config/media/{id}/thumbnail")]
pub async fn thumbnail(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let m = find(&state, &caller, &id).await?;
    match (&m.thumbnail_path, m.kind.as_str()) {
        (Some(p), _) => {
            let bytes = state.media.get(p).await.map_err(|_| ApiError::NotFound("thumbnail"))?;
            let mime = if bytes.starts_with(&[0x89, b'P', b'N', b'G']) { "image/png" } else { "image/jpeg" };
            Ok(HttpResponse::Ok().content_type(mime).body(bytes))
        }
        (None, "image") => serve(&state, &m.path, &m.mime).await,
        _ => Err(ApiError::NotFound("thumbnail")),
    }
}
