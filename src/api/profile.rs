//! PROFILE-1..5: the caller's own profile: name, avatar and password.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use entities::user;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::auth::{Session, signed_in};
use super::users::{UserDetail, detail};
use crate::auth::profile::{self, AVATAR_MAX};
use crate::auth::{Caller, sessions};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_profile)
        .service(update_profile)
        .service(upload_avatar)
        .service(delete_avatar)
        .service(change_password);
}

/// Past this, an upload is cut off instead of read to its end to answer 413.
const UPLOAD_DRAIN_MAX: usize = 16 * 1024 * 1024;

/// The caller's own active user; 403 for an API key that acts for nobody.
async fn me(state: &AppState, caller: &Caller) -> ApiResult<user::Model> {
    Ok(profile::current(state, &caller.org_id, caller.require_user()?).await?)
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
    // The name is checked before who is asking, as it always was.
    crate::auth::users::required("name", &body.name, 200)?;
    let u = me(&state, &caller).await?;
    let u = profile::rename(&state, u, &body.name).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &u).await?)))
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
    let u = profile::set_avatar(&state, u, bytes).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &u).await?)))
}

/// Remove the caller's avatar.
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    responses((status = 200, body = Data<UserDetail>), (status = 403, body = crate::error::ErrorBody)))]
#[delete("/profile/avatar")]
pub async fn delete_avatar(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let u = me(&state, &caller).await?;
    let u = profile::remove_avatar(&state, u).await?;
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
