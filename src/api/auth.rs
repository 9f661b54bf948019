//! AUTH-1..8: registration, login (password or emailed one-time code), passwords, token
//! refresh, the current user.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use entities::enums::Role;
use entities::{organization, refresh_token, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::{Caller, password, tokens};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use crate::auth::users::{
    NewUser, active_user, hash_password, insert_user, register_organization, required, valid_email, valid_password_as,
};

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
            role: u.role.clone(),
            status: u.status.clone(),
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

fn valid_password(p: &str) -> ApiResult<()> {
    Ok(valid_password_as("password", p)?)
}

pub(crate) async fn session(
    state: &AppState,
    user: &user::Model,
    org: &organization::Model,
    family: Option<String>,
) -> ApiResult<Session> {
    let refresh_token = tokens::issue_refresh(state.db(), user, family, state.config.refresh_token_days).await?;
    session_with(state, user, org, refresh_token)
}

/// A session around an already issued refresh token.
fn session_with(
    state: &AppState,
    user: &user::Model,
    org: &organization::Model,
    refresh_token: String,
) -> ApiResult<Session> {
    let role = Role::parse(&user.role).unwrap_or(Role::Agent);
    let access_token = state.jwt.issue(&user.id, &user.org_id, role).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Session { access_token, refresh_token, expires_in: state.jwt.ttl, user: user.into(), organization: org.into() })
}

pub(crate) async fn org_of(state: &AppState, user: &user::Model) -> ApiResult<organization::Model> {
    organization::Entity::find_by_id(user.org_id.clone())
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("organization"))
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
    let company = required("companyName", &body.company_name, 200)?.to_owned();
    let name = required("name", &body.name, 200)?.to_owned();
    let email = valid_email(&body.email)?;
    valid_password(&body.password)?;
    let live =
        user::Entity::find().filter(user::Column::Email.eq(email.clone())).filter(user::Column::DeletedAt.is_null());
    if live.one(state.db()).await?.is_some() {
        return Err(ApiError::Conflict("an account with this email already exists".into()));
    }
    let hash = hash_password(body.password.clone()).await?;
    let (org, user) = register_organization(&state.rt.db, company, name, email, hash, Role::Admin).await?;
    tracing::info!(org_id = %org.id, user_id = %user.id, "organization registered");
    let s = session(&state, &user, &org, None).await?;
    Ok(HttpResponse::Created().json(Data::new(s)))
}

/// A valid Argon2id hash to verify against when the email is unknown, so a wrong email takes
/// as long as a wrong password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3vJm1ZL9cXhFSmLrKXLkBIyP3nB9l4b8lVq5Lr2ZbDY";

/// Login with email and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = Data<Session>), (status = 401, description = "Wrong email or password", body = crate::error::ErrorBody), (status = 429, description = "Too many failed sign-ins for the address lately (Retry-After)", body = crate::error::ErrorBody))
)]
#[post("/auth/login")]
pub async fn login(state: web::Data<AppState>, body: web::Json<LoginRequest>) -> ApiResult<HttpResponse> {
    let email = body.email.trim().to_lowercase();
    throttled(&state, &email)?;
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(email.clone()))
        .filter(user::Column::DeletedAt.is_null())
        .one(state.db())
        .await?;
    let stored = found.as_ref().and_then(|u| u.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.to_owned());
    let presented = body.password.clone();
    let ok = web::block(move || password::verify(&stored, &presented))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = match found {
        Some(u) if ok && u.password_hash.is_some() => u,
        _ => {
            state.sign_in_throttle.failed(&email);
            return Err(ApiError::Unauthorized("wrong email or password".into()));
        }
    };
    state.sign_in_throttle.succeeded(&email);
    let org = org_of(&state, &user).await?;
    Ok(HttpResponse::Ok().json(Data::new(session(&state, &user, &org, None).await?)))
}

/// 429 while `email` has failed to sign in too often lately (see [`crate::auth::throttle`]).
fn throttled(state: &AppState, email: &str) -> ApiResult<()> {
    match state.sign_in_throttle.blocked(email) {
        Some(retry_after) => Err(ApiError::TooManyRequests {
            message: "too many failed sign-ins for this address; try again later".into(),
            retry_after,
        }),
        None => Ok(()),
    }
}

/// Email login codes: how long one lives, how many wrong guesses kill it, and how many may be
/// requested for one address per window.
const CODE_TTL_MINUTES: i64 = 10;
const CODE_MAX_ATTEMPTS: i32 = 5;
const CODE_REQUESTS_PER_WINDOW: usize = 5;
const CODE_WINDOW_MINUTES: i64 = 15;

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

/// What is stored of a login code: SHA-256 of the address and the code.
fn code_hash(email: &str, code: &str) -> String {
    crate::crypto::hash_token(&format!("{email}:{code}"))
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
    use chrono::Duration;
    use entities::login_code;
    use sea_orm::QueryOrder;
    use sea_orm::sea_query::Expr;

    let email = valid_email(&body.email)?;
    let now = Utc::now();
    login_code::Entity::delete_many()
        .filter(login_code::Column::Email.eq(email.clone()))
        .filter(login_code::Column::CreatedAt.lt(now - Duration::days(1)))
        .exec(state.db())
        .await?;
    let window = Duration::minutes(CODE_WINDOW_MINUTES);
    let recent = login_code::Entity::find()
        .filter(login_code::Column::Email.eq(email.clone()))
        .filter(login_code::Column::CreatedAt.gt(now - window))
        .order_by_asc(login_code::Column::CreatedAt)
        .all(state.db())
        .await?;
    if recent.len() >= CODE_REQUESTS_PER_WINDOW {
        // A request is allowed again once enough of the recent ones have left the window.
        let frees = recent[recent.len() - CODE_REQUESTS_PER_WINDOW].created_at + window;
        return Err(ApiError::TooManyRequests {
            message: format!(
                "at most {CODE_REQUESTS_PER_WINDOW} codes per {CODE_WINDOW_MINUTES} minutes; try again later"
            ),
            retry_after: (frees - now).num_seconds().max(1) as u64,
        });
    }
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(email.clone()))
        .filter(user::Column::DeletedAt.is_null())
        .one(state.db())
        .await?;
    let code = format!("{:06}", rand::random_range(0..1_000_000u32));
    // An unknown address gets a row too (one no code matches), so the rate limit behaves the
    // same for every address and tells nothing about which ones have accounts.
    let hash = if user.is_some() { code_hash(&email, &code) } else { "-".to_owned() };
    let txn = state.rt.db.begin_write().await?;
    login_code::Entity::update_many()
        .col_expr(login_code::Column::ExpiresAt, Expr::value(now))
        .filter(login_code::Column::Email.eq(email.clone()))
        .filter(login_code::Column::UsedAt.is_null())
        .filter(login_code::Column::ExpiresAt.gt(now))
        .exec(&*txn)
        .await?;
    login_code::ActiveModel {
        id: Set(actors::new_id()),
        email: Set(email.clone()),
        code_hash: Set(hash),
        attempts: Set(0),
        expires_at: Set(now + Duration::minutes(CODE_TTL_MINUTES)),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    txn.commit().await?;
    if let Some(u) = user {
        // Sent after answering, so the answer takes as long for unknown addresses; a failed send
        // is recorded in the mail log.
        let mailer = state.mailer.clone();
        let body = format!(
            "Your cx-inbox sign-in code is {code}\n\nIt works once and expires in {CODE_TTL_MINUTES} minutes. \
             If you did not ask for it, you can ignore this mail.\n"
        );
        actix_web::rt::spawn(async move {
            let sent = mailer.send_with_secrets(Some(&u.org_id), &u.email, SIGN_IN_SUBJECT, &body, &[&code]).await;
            if let Err(e) = sent {
                tracing::warn!(user_id = %u.id, error = %e, "login code mail not sent");
            }
        });
    }
    Ok(HttpResponse::Ok().json(Data::new(CodeRequested {
        message: "If an account exists for this address, a sign-in code is on its way.".into(),
        expires_in: CODE_TTL_MINUTES * 60,
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
    use entities::login_code;
    use sea_orm::QueryOrder;
    use sea_orm::sea_query::{Expr, ExprTrait};
    use subtle::ConstantTimeEq;

    let invalid = || ApiError::Unauthorized("the code is wrong, used or expired".into());
    let email = body.email.trim().to_lowercase();
    throttled(&state, &email)?;
    let now = Utc::now();
    let Some(row) = login_code::Entity::find()
        .filter(login_code::Column::Email.eq(email.clone()))
        .filter(login_code::Column::UsedAt.is_null())
        .filter(login_code::Column::ExpiresAt.gt(now))
        .filter(login_code::Column::Attempts.lt(CODE_MAX_ATTEMPTS))
        .order_by_desc(login_code::Column::CreatedAt)
        .one(state.db())
        .await?
    else {
        state.sign_in_throttle.failed(&email);
        return Err(invalid());
    };
    let presented = code_hash(&email, body.code.trim());
    if !bool::from(presented.as_bytes().ct_eq(row.code_hash.as_bytes())) {
        state.sign_in_throttle.failed(&email);
        login_code::Entity::update_many()
            .col_expr(login_code::Column::Attempts, Expr::col(login_code::Column::Attempts).add(1))
            .filter(login_code::Column::Id.eq(row.id.clone()))
            .exec(state.db())
            .await?;
        return Err(invalid());
    }
    // Spent only if still unspent, so two concurrent verifications cannot both win.
    let spent = login_code::Entity::update_many()
        .col_expr(login_code::Column::UsedAt, Expr::value(now))
        .filter(login_code::Column::Id.eq(row.id.clone()))
        .filter(login_code::Column::UsedAt.is_null())
        .filter(login_code::Column::Attempts.lt(CODE_MAX_ATTEMPTS))
        .exec(state.db())
        .await?;
    if spent.rows_affected != 1 {
        return Err(invalid());
    }
    state.sign_in_throttle.succeeded(&email);
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .filter(user::Column::DeletedAt.is_null())
        .one(state.db())
        .await?
        .ok_or_else(invalid)?;
    let org = org_of(&state, &user).await?;
    Ok(HttpResponse::Ok().json(Data::new(session(&state, &user, &org, None).await?)))
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
    let user_id = caller.require_user()?.to_owned();
    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    let mut revoke = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Some(now)))
        .filter(refresh_token::Column::UserId.eq(user_id.clone()))
        .filter(refresh_token::Column::RevokedAt.is_null());
    if body.everywhere {
        user::Entity::update_many()
            .col_expr(user::Column::SessionsValidAfter, Expr::value(Some(now)))
            .filter(user::Column::Id.eq(user_id.clone()))
            .exec(&*txn)
            .await?;
    } else {
        let presented = body.refresh_token.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let Some(presented) = presented else {
            return Err(ApiError::validation("refreshToken", "give this device's refreshToken, or everywhere: true"));
        };
        // Someone else's token, or an unknown one, ends nothing (and says nothing about it).
        let family = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(crate::crypto::hash_token(presented)))
            .filter(refresh_token::Column::UserId.eq(user_id.clone()))
            .one(&*txn)
            .await?
            .map(|t| t.family_id);
        let Some(family) = family else {
            return Ok(HttpResponse::NoContent().finish());
        };
        revoke = revoke.filter(refresh_token::Column::FamilyId.eq(family));
    }
    revoke.exec(&*txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The subject of a sign-in code mail (the dev mailbox shows its body to its recipient only).
pub const SIGN_IN_SUBJECT: &str = "Your cx-inbox sign-in code";

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
    valid_password(&body.password)?;
    let user = active_user(&state, &caller.org_id, user_id).await?.ok_or(ApiError::NotFound("user"))?;
    if let Some(stored) = user.password_hash.clone() {
        let given = body.current_password.clone().unwrap_or_default();
        if given.is_empty() {
            return Err(ApiError::validation("currentPassword", "the account has a password: give it to change it"));
        }
        let ok = web::block(move || password::verify(&stored, &given))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        if !ok {
            return Err(ApiError::validation("currentPassword", "the current password is wrong"));
        }
    }
    let hash = hash_password(body.password.clone()).await?;
    let user = replace_password(&state, user, hash).await?;
    let org = org_of(&state, &user).await?;
    Ok(HttpResponse::Ok().json(Data::new(session(&state, &user, &org, None).await?)))
}

/// Stores a new password hash for `user` and ends every session from before: refresh tokens
/// revoked, earlier access tokens refused (`sessions_valid_after`). The caller issues the new one.
pub(crate) async fn replace_password(state: &AppState, user: user::Model, hash: String) -> ApiResult<user::Model> {
    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    let mut am = user.into_active_model();
    am.password_hash = Set(Some(hash));
    am.sessions_valid_after = Set(Some(now));
    am.updated_at = Set(now);
    let user = am.update(&*txn).await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Some(now)))
        .filter(refresh_token::Column::UserId.eq(user.id.clone()))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    tracing::info!(user_id = %user.id, "password replaced; earlier sessions ended");
    Ok(user)
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
    let txn = state.rt.db.begin_write().await?;
    let (user, family) = match tokens::spend_refresh(&*txn, body.refresh_token.trim()).await? {
        tokens::Spent::Fresh(user, family) => (*user, family),
        tokens::Spent::Invalid => {
            return Err(ApiError::Unauthorized("the refresh token is invalid or expired".into()));
        }
        tokens::Spent::Reused => {
            txn.commit().await?; // the family's revocation stands
            return Err(ApiError::Unauthorized("the refresh token was already used; sign in again".into()));
        }
    };
    // The successor is issued in the same transaction, while the user's row is held.
    let refresh_token = tokens::issue_refresh(&*txn, &user, Some(family), state.config.refresh_token_days).await?;
    txn.commit().await?;
    let org = org_of(&state, &user).await?;
    Ok(HttpResponse::Ok().json(Data::new(session_with(&state, &user, &org, refresh_token)?)))
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
        Some(id) => active_user(&state, &caller.org_id, id).await?,
        None => None,
    };
    if caller.api_key_id.is_none() && user.is_none() {
        return Err(ApiError::Unauthorized("the user no longer exists".into()));
    }
    let org = organization::Entity::find_by_id(caller.org_id.clone())
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("organization"))?;
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
    let org = organization::Entity::find_by_id(caller.org_id.clone())
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("organization"))?;
    let mut am = org.into_active_model();
    am.onboarding_completed = Set(true);
    am.updated_at = Set(Utc::now());
    let org = am.update(state.db()).await?;
    Ok(HttpResponse::Ok().json(Data::new(OrganizationView::from(&org))))
}
