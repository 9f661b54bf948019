//! Media the bot may send (images, videos, documents), with a description and tags it reads.
//! Files live in the media store; a video's thumbnail is an image uploaded with it, an image is
//! its own. Everything is checked before anything is stored: a refused upload leaves nothing.

use chrono::Utc;
use entities::bot_media;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};

use crate::domain::{Error, Result, find_in_org};
use crate::state::AppState;

/// Largest file: a document (images and videos are held to WhatsApp's 16 MB).
pub const MAX_BYTES: usize = 100 * 1024 * 1024;

/// The kind WhatsApp sends a MIME type as; `None` for what it cannot send.
pub fn kind_of(mime: &str) -> Option<&'static str> {
    match mime {
        "image/jpeg" | "image/png" | "image/webp" => Some("image"),
        "video/mp4" | "video/3gpp" => Some("video"),
        m if m.starts_with("application/") || m.starts_with("text/") => Some("document"),
        _ => None,
    }
}

fn check_tags(tags: &[String]) -> Result<Vec<String>> {
    let tags: Vec<String> = tags.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 50) {
        return Err(Error::invalid("tags", "up to 20 tags of at most 50 characters"));
    }
    Ok(tags)
}

/// The organization's media, newest first.
pub async fn list(db: &DatabaseConnection, org_id: &str) -> Result<Vec<bot_media::Model>> {
    Ok(bot_media::Entity::find()
        .filter(bot_media::Column::OrgId.eq(org_id))
        .order_by_desc(bot_media::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Stores a media file; used by uploads and imports.
#[allow(clippy::too_many_arguments)]
pub async fn add(
    state: &AppState,
    org_id: &str,
    name: &str,
    mime: &str,
    kind: &str,
    description: Option<String>,
    tags: &[String],
    bytes: Vec<u8>,
) -> Result<bot_media::Model> {
    let id = actors::new_id();
    let path = format!("{org_id}/botmedia-{id}");
    let size = bytes.len() as i64;
    state.media.put(&path, bytes).await.map_err(|e| Error::Internal(format!("storing media: {e}")))?;
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
        tags: Set(serde_json::to_string(tags)?),
        thumbnail_path: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(state.db())
    .await?)
}

/// An upload: the file (its MIME type, `application/octet-stream` guessed from the name), an
/// optional thumbnail (JPEG or PNG of at most 2 MB) and what the bot reads about it.
pub struct Upload {
    pub bytes: Vec<u8>,
    pub mime: String,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub thumbnail: Option<(Vec<u8>, String)>,
}

pub async fn upload(state: &AppState, org_id: &str, u: Upload) -> Result<bot_media::Model> {
    if u.bytes.is_empty() {
        return Err(Error::invalid("file", "the file is empty"));
    }
    let mime = if u.mime == "application/octet-stream" { crate::media::guess_mime(&u.name).to_owned() } else { u.mime };
    let kind = kind_of(&mime).ok_or_else(|| Error::invalid("file", format!("{mime} cannot be sent on WhatsApp")))?;
    if kind != "document" && u.bytes.len() > 16 * 1024 * 1024 {
        return Err(Error::TooLarge(format!("a WhatsApp {kind} may be at most 16 MB")));
    }
    let tags = check_tags(&u.tags)?;
    if let Some((bytes, mime)) = &u.thumbnail
        && (!matches!(mime.as_str(), "image/jpeg" | "image/png") || bytes.len() > 2 * 1024 * 1024)
    {
        return Err(Error::invalid("thumbnail", "the thumbnail is a JPEG or PNG of at most 2 MB"));
    }
    let mut m = add(state, org_id, &u.name, &mime, kind, u.description, &tags, u.bytes).await?;
    if let Some((bytes, _)) = u.thumbnail {
        let path = format!("{}-thumb", m.path);
        state.media.put(&path, bytes).await.map_err(|e| Error::Internal(e.to_string()))?;
        let mut am = m.into_active_model();
        am.thumbnail_path = Set(Some(path));
        m = am.update(state.db()).await?;
    }
    Ok(m)
}

/// Renames a media file (1 to 200 characters), or changes its description (`Some(None)` clears
/// it) or tags.
pub async fn update(
    db: &DatabaseConnection,
    org_id: &str,
    id: &str,
    name: Option<String>,
    description: Option<Option<String>>,
    tags: Option<Vec<String>>,
) -> Result<bot_media::Model> {
    let mut am = find_in_org::<bot_media::Entity>(db, org_id, id).await?.into_active_model();
    if let Some(n) = name {
        let n = n.trim().to_owned();
        if n.is_empty() || n.chars().count() > 200 {
            return Err(Error::invalid("name", "name is required and at most 200 characters"));
        }
        am.name = Set(n);
    }
    if let Some(d) = description {
        am.description = Set(d);
    }
    if let Some(t) = tags {
        am.tags = Set(serde_json::to_string(&check_tags(&t)?)?);
    }
    am.updated_at = Set(Utc::now());
    Ok(am.update(db).await?)
}

/// Deletes a media file and its thumbnail.
pub async fn delete(state: &AppState, org_id: &str, id: &str) -> Result<()> {
    let m = find_in_org::<bot_media::Entity>(state.db(), org_id, id).await?;
    bot_media::Entity::delete_by_id(m.id.clone()).exec(state.db()).await?;
    for path in std::iter::once(m.path).chain(m.thumbnail_path) {
        if let Err(e) = state.media.delete(&path).await {
            tracing::warn!(error = %e, "bot media file not deleted");
        }
    }
    Ok(())
}
