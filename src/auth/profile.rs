//! A user's own profile: their account as they see it, their name, and their avatar (an image
//! in the media store, recognised by its content).

use chrono::Utc;
use entities::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};

use crate::auth::users::{active_user, required};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// Largest avatar accepted.
pub const AVATAR_MAX: usize = 2 * 1024 * 1024;

/// The caller's own active user; 401 when the user no longer exists.
pub async fn current(state: &AppState, org_id: &str, user_id: &str) -> Result<user::Model> {
    active_user(state.db(), org_id, user_id)
        .await?
        .ok_or_else(|| Error::Unauthenticated("the user no longer exists".into()))
}

/// Renames the user (a required name of at most 200 characters).
pub async fn rename(state: &AppState, user: user::Model, name: &str) -> Result<user::Model> {
    let name = required("name", name, 200)?.to_owned();
    let mut am = user.into_active_model();
    am.name = Set(name);
    am.updated_at = Set(Utc::now());
    Ok(am.update(state.db()).await?)
}

/// The image type of `bytes` by its magic bytes, as the file extension it is stored with.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

/// The content type of an avatar, from the extension its key was stored with.
pub fn avatar_content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("png") => "image/png",
        Some("jpg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        _ => "application/octet-stream",
    }
}

/// Stores `bytes` as the user's avatar (400 on `avatar` unless a PNG, JPEG, WebP or GIF image);
/// the previous one is removed.
pub async fn set_avatar(state: &AppState, user: user::Model, bytes: Vec<u8>) -> Result<user::Model> {
    let ext = sniff_image(&bytes)
        .ok_or_else(|| Error::invalid("avatar", "the avatar must be a PNG, JPEG, WebP or GIF image"))?;
    let key = format!("avatars/{}/{}.{ext}", user.id, crate::crypto::random_token(12));
    state.media.put(&key, bytes).await.map_err(|e| Error::Internal(format!("media store: {e}")))?;
    let old = user.avatar_path.clone();
    let mut am = user.into_active_model();
    am.avatar_path = Set(Some(key));
    am.updated_at = Set(Utc::now());
    let user = am.update(state.db()).await?;
    if let Some(old) = old {
        remove_file(state, &old).await;
    }
    Ok(user)
}

/// Removes the user's avatar, if they have one.
pub async fn remove_avatar(state: &AppState, user: user::Model) -> Result<user::Model> {
    let Some(old) = user.avatar_path.clone() else {
        return Ok(user);
    };
    let mut am = user.into_active_model();
    am.avatar_path = Set(None);
    am.updated_at = Set(Utc::now());
    let user = am.update(state.db()).await?;
    remove_file(state, &old).await;
    Ok(user)
}

/// Removes a replaced avatar file; a failure leaves an orphan file, not an error.
async fn remove_file(state: &AppState, key: &str) {
    if let Err(e) = state.media.delete(key).await {
        tracing::warn!(%key, error = %e, "could not remove an old avatar");
    }
}

/// The avatar image of a user of the organization (deleted users included) and its content
/// type; 404 for no such user or no avatar.
pub async fn avatar(state: &AppState, org_id: &str, id: &str) -> Result<(Vec<u8>, &'static str)> {
    let u = user::Entity::find_by_id(id.to_owned())
        .filter(user::Column::OrgId.eq(org_id))
        .one(state.db())
        .await?
        .ok_or(Error::NotFound("user"))?;
    let key = u.avatar_path.ok_or(Error::NotFound("avatar"))?;
    match state.media.get(&key).await {
        Ok(bytes) => Ok((bytes, avatar_content_type(&key))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound("avatar")),
        Err(e) => Err(Error::Internal(format!("media store: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_magic_bytes() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some("png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("jpg"));
        assert_eq!(sniff_image(b"GIF89a...."), Some("gif"));
        assert_eq!(sniff_image(b"RIFF\x10\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(sniff_image(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(sniff_image(b"<svg xmlns=...>"), None);
        assert_eq!(sniff_image(b""), None);
    }
}
