//! PROFILE-1..5: the caller's own profile: name, avatar and password.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::Utc;
use entities::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::auth::{Session, signed_in};
use super::users::{UserDetail, detail};
use crate::auth::users::{active_user, required};
use crate::auth::{Caller, sessions};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_profile)
        .service(update_profile)
        .service(upload_avatar)
        .service(delete_avatar)
        .service(change_password);
}

/// Largest avatar accepted.
const AVATAR_MAX: usize = 2 * 1024 * 1024;
/// Past this, an upload is cut off instead of read to its end to answer 413.
const UPLOAD_DRAIN_MAX: usize = 16 * 1024 * 1024;

/// The caller's own active user; 403 for an API key that acts for nobody.
async fn me(state: &AppState, caller: &Caller) -> ApiResult<user::Model> {
    let id = caller.require_user()?;
    active_user(state, &caller.org_id, id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the user no longer exists".into()))
}

/// Get the caller's profile.
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    responses((status = 200, body = Data<UserDetail>), (status = 401, body = crate::error::ErrorBody), (status = 403, description = "An API key without a user", body = crate::error::ErrorBody)))]
#[get("/profile")]
pub async fn get_profile(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let u = me(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &u).await?)))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateProfile {
    pub name: String,
}

/// Change the caller's name.
#[utoipa::path(tag = "profile", security(("bearer" = [])), request_body = UpdateProfile,
    responses((status = 200, body = Data<UserDetail>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
#[patch("/profile")]
pub async fn update_profile(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UpdateProfile>,
) -> ApiResult<HttpResponse> {
    let name = required("name", &body.name, 200)?.to_owned();
    let u = me(&state, &caller).await?;
    let mut am = u.into_active_model();
    am.name = Set(name);
    am.updated_at = Set(Utc::now());
    let u = am.update(state.db()).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &u).await?)))
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

/// The multipart form of an avatar upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AvatarForm {
    /// PNG, JPEG, WebP or GIF (recognised by content), at most 2 MB.
    #[schema(value_type = String, format = Binary)]
    avatar: Vec<u8>,
}

/// Reads the `avatar` field of a multipart form; 413 past the limit.
async fn read_avatar(form: actix_multipart::Multipart) -> ApiResult<Vec<u8>> {
    let limits =
        super::multipart::Limits { file: AVATAR_MAX, field: 1024, files: &["avatar"], drain: UPLOAD_DRAIN_MAX };
    Ok(super::multipart::read(form, limits).await?.file("avatar")?.bytes)
}

/// Upload the caller's avatar (multipart field `avatar`); it replaces the previous one.
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    request_body(content = AvatarForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, body = Data<UserDetail>),
        (status = 400, description = "No file, or not a PNG, JPEG, WebP or GIF image", body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 413, description = "Larger than 2 MB", body = crate::error::ErrorBody),
    ))]
#[post("/profile/avatar")]
pub async fn upload_avatar(
    state: web::Data<AppState>,
    caller: Caller,
    form: actix_multipart::Multipart,
) -> ApiResult<HttpResponse> {
    let u = me(&state, &caller).await?;
    let bytes = read_avatar(form).await?;
    let ext = sniff_image(&bytes)
        .ok_or_else(|| ApiError::validation("avatar", "the avatar must be a PNG, JPEG, WebP or GIF image"))?;
    let key = format!("avatars/{}/{}.{ext}", u.id, crate::crypto::random_token(12));
    state.media.put(&key, bytes).await.map_err(|e| ApiError::Internal(format!("media store: {e}")))?;
    let old = u.avatar_path.clone();
    let mut am = u.into_active_model();
    am.avatar_path = Set(Some(key));
    am.updated_at = Set(Utc::now());
    let u = am.update(state.db()).await?;
    if let Some(old) = old {
        remove_file(&state, &old).await;
    }
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &u).await?)))
}

/// Removes a replaced avatar file; a failure leaves an orphan file, not an error.
async fn remove_file(state: &AppState, key: &str) {
    if let Err(e) = state.media.delete(key).await {
        tracing::warn!(%key, error = %e, "could not remove an old avatar");
    }
}

/// Remove the caller's avatar.
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    responses((status = 200, body = Data<UserDetail>), (status = 403, body = crate::error::ErrorBody)))]
#[delete("/profile/avatar")]
pub async fn delete_avatar(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let u = me(&state, &caller).await?;
    let old = u.avatar_path.clone();
    let u = match old {
        Some(_) => {
            let mut am = u.into_active_model();
            am.avatar_path = Set(None);
            am.updated_at = Set(Utc::now());
            am.update(state.db()).await?
        }
        None => u,
    };
    if let Some(old) = old {
        remove_file(&state, &old).await;
    }
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &u).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 8 characters.
    pub new_password: String,
}

/// Change the caller's password. Every refresh token of the user is revoked (other sessions end
/// when their access token expires); the answer is a new session for this client.
#[utoipa::path(tag = "profile", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 200, body = Data<Session>),
        (status = 400, description = "Wrong current password (field currentPassword), or a new one too weak (newPassword)", body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
    ))]
#[post("/profile/change-password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let u = me(&state, &caller).await?;
    let body = body.into_inner();
    let s = sessions::change_password(&state, u, body.current_password, body.new_password).await?;
    Ok(signed_in(actix_web::http::StatusCode::OK, s))
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
