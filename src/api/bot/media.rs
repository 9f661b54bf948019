//! BOT-MEDIA-1..6: media the bot may send (images, videos, documents), with a description and
//! tags it reads. Files live in the media store; a video's thumbnail is the image uploaded with
//! it (field `thumbnail`), an image is its own.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::Utc;
use entities::bot_media;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::api::multipart;
use crate::auth::Caller;
use crate::bot::media;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(update).service(remove).service(file).service(thumbnail);
}

/// WhatsApp's largest media (documents: 100 MB); images and videos are held to 16 MB.
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

/// The bot's media, newest first.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<MediaView>>)))]
#[get("/bot-config/media")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = media::list(state.db(), &caller.org_id).await?;
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
    let mut form = multipart::read(form, multipart::Limits::files(&["file"], media::MAX_BYTES)).await?;
    let f = form.files.remove("file").ok_or_else(|| ApiError::validation("file", "a file is required"))?;
    let upload = media::Upload {
        name: form.field("name").map(str::to_owned).or(f.filename).unwrap_or_else(|| "media".into()),
        bytes: f.bytes,
        mime: f.mime,
        description: form.field("description").map(str::to_owned),
        tags: form.field("tags").map(|t| t.split(',').map(str::to_owned).collect()).unwrap_or_default(),
        thumbnail: form.files.remove("thumbnail").map(|t| (t.bytes, t.mime)),
    };
    let m = media::upload(&state, &caller.org_id, upload).await?;
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
    let b = body.into_inner();
    let m = media::update(state.db(), &caller.org_id, &id, b.name, b.description, b.tags).await?;
    Ok(HttpResponse::Ok().json(Data::new(MediaView::from(&m))))
}

/// Delete a media file.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/bot-config/media/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    media::delete(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<bot_media::Model> {
    Ok(crate::domain::find_in_org::<bot_media::Entity>(state.db(), &caller.org_id, id).await?)
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
