//! AUTH-1..8: registration, login (password or emailed one-time code), passwords, token
//! refresh, the current user.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use entities::{organization, user};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::sessions::{self, Registration, SignedIn};
use crate::auth::{Caller, login_codes, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use crate::auth::login_codes::SIGN_IN_SUBJECT;
pub use crate::auth::users::active_user;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(request_code)
        .service(verify_code)
        .service(set_password)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(complete_onboarding);
}

#[derive(Serialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    /// SUPER_ADMIN, ADMIN or AGENT.
    pub role: String,
    /// ONLINE, AWAY, BUSY, OFFLINE.
    pub status: String,
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&user::Model> for UserView {
    fn from(u: &user::Model) -> Self {
        UserView {
            id: u.id.clone(),
            org_id: u.org_id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.to_string(),
            status: u.status.to_string(),
            has_password: u.password_hash.is_some(),
            created_at: u.created_at,
        }
    }
}

#[derive(Serialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationView {
    pub id: String,
    pub name: String,
    pub bot_enabled: bool,
    pub onboarding_completed: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&organization::Model> for OrganizationView {
    fn from(o: &organization::Model) -> Self {
        OrganizationView {
            id: o.id.clone(),
            name: o.name.clone(),
            bot_enabled: o.bot_enabled,
            onboarding_completed: o.onboarding_completed,
            created_at: o.created_at,
        }
    }
}

/// Tokens and who they belong to.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// JWT for `Authorization: Bearer`; short-lived.
    pub access_token: String,
    /// Single-use token for `POST /auth/refresh`.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: UserView,
    pub organization: OrganizationView,
}

impl From<SignedIn> for Session {
    fn from(s: SignedIn) -> Self {
        Session {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            expires_in: s.expires_in,
            user: (&s.user).into(),
            organization: (&s.org).into(),
        }
    }
}

/// The JSON answer of a sign-in: the session.
pub(crate) fn signed_in(status: StatusCode, s: SignedIn) -> HttpResponse {
    HttpResponse::build(status).json(Data::new(Session::from(s)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    pub company_name: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetPasswordRequest {
    pub password: String,
    /// The password in use, when the account has one (to change it, this or
    /// `/profile/change-password`).
    pub current_password: Option<String>,
}

/// Self-service registration: creates an organization and its first ADMIN.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = Data<Session>),
        (status = 400, description = "A field is missing or invalid", body = crate::error::ErrorBody),
        (status = 409, description = "The email is already registered", body = crate::error::ErrorBody),
    )
)]
#[post("/auth/register")]
pub async fn register(state: web::Data<AppState>, body: web::Json<RegisterRequest>) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let r = Registration { company_name: b.company_name, name: b.name, email: b.email, password: b.password };
    Ok(signed_in(StatusCode::CREATED, sessions::register(&state, r).await?))
}

/// Login with email and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = Data<Session>), (status = 401, description = "Wrong email or password", body = crate::error::ErrorBody), (status = 429, description = "Too many failed sign-ins for the address lately (Retry-After)", body = crate::error::ErrorBody))
)]
#[post("/auth/login")]
pub async fn login(state: web::Data<AppState>, body: web::Json<LoginRequest>) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    Ok(signed_in(StatusCode::OK, sessions::login(&state, &body.email, body.password).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct RequestCodeRequest {
    pub email: String,
}

/// The same answer whether or not an account exists for the address.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeRequested {
    pub message: String,
    /// Seconds the code stays valid.
    pub expires_in: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct VerifyCodeRequest {
    pub email: String,
    /// The 6 digits from the email.
    pub code: String,
}

/// Request a one-time login code by email. The answer is the same whether or not the address
/// has an account; only active users get a mail. A new code kills the earlier ones.
#[utoipa::path(
    tag = "auth",
    request_body = RequestCodeRequest,
    responses(
        (status = 200, body = Data<CodeRequested>),
        (status = 400, description = "Not an email address", body = crate::error::ErrorBody),
        (status = 429, description = "Too many codes requested for this address; see Retry-After", body = crate::error::ErrorBody),
    )
)]
#[post("/auth/request-code")]
pub async fn request_code(state: web::Data<AppState>, body: web::Json<RequestCodeRequest>) -> ApiResult<HttpResponse> {
    login_codes::request(&state, &body.email).await?;
    Ok(HttpResponse::Ok().json(Data::new(CodeRequested {
        message: "If an account exists for this address, a sign-in code is on its way.".into(),
        expires_in: login_codes::CODE_TTL_MINUTES * 60,
    })))
}

/// Log in with an emailed one-time code; answers like `/auth/login`. A wrong code counts against
/// the code, which dies after 5 wrong tries.
#[utoipa::path(
    tag = "auth",
    request_body = VerifyCodeRequest,
    responses(
        (status = 200, body = Data<Session>),
        (status = 401, description = "Wrong, used or expired code", body = crate::error::ErrorBody),
    )
)]
#[post("/auth/verify-code")]
pub async fn verify_code(state: web::Data<AppState>, body: web::Json<VerifyCodeRequest>) -> ApiResult<HttpResponse> {
    Ok(signed_in(StatusCode::OK, login_codes::verify(&state, &body.email, &body.code).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogoutRequest {
    /// This device's refresh token: it and every token descended from the same sign-in stop
    /// working.
    pub refresh_token: Option<String>,
    /// End every session of the user, on every device, access tokens included.
    #[serde(default)]
    pub everywhere: bool,
}

/// Sign out: this device's refresh token (and its family), or every session of the user.
#[utoipa::path(
    tag = "auth",
    request_body = LogoutRequest,
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = crate::error::ErrorBody), (status = 403, description = "An API key", body = crate::error::ErrorBody))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<LogoutRequest>,
) -> ApiResult<HttpResponse> {
    if caller.api_key_id.is_some() {
        return Err(ApiError::Forbidden("an API key has no session to end; deactivate the key instead".into()));
    }
    let user_id = caller.require_user()?;
    sessions::logout(&state.rt.db, user_id, body.everywhere, body.refresh_token.as_deref()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Set the caller's password (a user who signs in with codes sets their first one here); an
/// account that has a password must give it as `currentPassword`. Only the user's own session
/// may do this, never an API key; every session of the user ends, and the answer is a new one.
#[utoipa::path(
    tag = "auth",
    request_body = SetPasswordRequest,
    security(("bearer" = [])),
    responses((status = 200, description = "A new session: the ones from before the change have ended", body = Data<Session>), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, description = "An API key", body = crate::error::ErrorBody))
)]
#[post("/auth/set-password")]
pub async fn set_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SetPasswordRequest>,
) -> ApiResult<HttpResponse> {
    if caller.api_key_id.is_some() {
        return Err(ApiError::Forbidden("an API key cannot set a user's password".into()));
    }
    let user_id = caller.require_user()?;
    let body = body.into_inner();
    let s = sessions::set_password(&state, &caller.org_id, user_id, body.password, body.current_password).await?;
    Ok(signed_in(StatusCode::OK, s))
}

/// Exchange a refresh token for a new access token and a new refresh token. Each refresh
/// token works once; presenting a used one revokes all tokens descended from the same login.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, body = Data<Session>), (status = 401, description = "Invalid, expired, revoked or reused", body = crate::error::ErrorBody))
)]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: web::Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    Ok(signed_in(StatusCode::OK, sessions::refresh(&state, &body.refresh_token).await?))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// `None` when the caller is an API key whose creator is gone.
    pub user: Option<UserView>,
    pub organization: OrganizationView,
    /// Set when authenticated with an API key.
    pub api_key_id: Option<String>,
    pub role: String,
}

/// The current user and organization.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses((status = 200, body = Data<Me>), (status = 401, body = crate::error::ErrorBody)))]
#[get("/auth/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let user = match &caller.user_id {
        Some(id) => active_user(state.db(), &caller.org_id, id).await?,
        None => None,
    };
    if caller.api_key_id.is_none() && user.is_none() {
        return Err(ApiError::Unauthorized("the user no longer exists".into()));
    }
    let org = users::organization(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(Me {
        user: user.as_ref().map(UserView::from),
        organization: (&org).into(),
        api_key_id: caller.api_key_id.clone(),
        role: caller.role.as_str().into(),
    })))
}

/// Mark onboarding as completed for the caller's organization (admin only).
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses((status = 200, body = Data<OrganizationView>), (status = 403, body = crate::error::ErrorBody)))]
#[post("/auth/complete-onboarding")]
pub async fn complete_onboarding(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let org = users::complete_onboarding(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(OrganizationView::from(&org))))
}
