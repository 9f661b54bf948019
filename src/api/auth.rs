//! AUTH-1..3, AUTH-6..8: registration, login, passwords, token refresh, the current user.
//! (AUTH-4/5, email login codes, arrive with the email issue.)

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use entities::enums::{Presence, Role};
use entities::{organization, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::{Caller, password, tokens};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(set_password)
        .service(refresh)
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
pub struct SetPasswordRequest {
    pub password: String,
}

fn required<'a>(field: &str, value: &'a str, max: usize) -> ApiResult<&'a str> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::validation(field, format!("{field} is required")));
    }
    if v.chars().count() > max {
        return Err(ApiError::validation(field, format!("{field} is longer than {max} characters")));
    }
    Ok(v)
}

/// Normalizes and checks an email address.
pub fn valid_email(email: &str) -> ApiResult<String> {
    let e = required("email", email, 254)?.to_lowercase();
    let ok = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.contains(char::is_whitespace)
        }
        None => false,
    };
    if !ok {
        return Err(ApiError::validation("email", "email is not a valid address"));
    }
    Ok(e)
}

fn valid_password(p: &str) -> ApiResult<()> {
    if p.chars().count() < password::MIN_LEN {
        return Err(ApiError::validation(
            "password",
            format!("password must be at least {} characters", password::MIN_LEN),
        ));
    }
    if p.len() > 1024 {
        return Err(ApiError::validation("password", "password is too long"));
    }
    Ok(())
}

async fn hash_password(p: String) -> ApiResult<String> {
    web::block(move || password::hash(&p))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)
}

async fn session(
    state: &AppState,
    user: &user::Model,
    org: &organization::Model,
    family: Option<String>,
) -> ApiResult<Session> {
    let role = Role::parse(&user.role).unwrap_or(Role::Agent);
    let access_token = state.jwt.issue(&user.id, &user.org_id, role).map_err(|e| ApiError::Internal(e.to_string()))?;
    let refresh_token = tokens::issue_refresh(state.db(), user, family, state.config.refresh_token_days).await?;
    Ok(Session { access_token, refresh_token, expires_in: state.jwt.ttl, user: user.into(), organization: org.into() })
}

async fn org_of(state: &AppState, user: &user::Model) -> ApiResult<organization::Model> {
    organization::Entity::find_by_id(user.org_id.clone())
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("organization"))
}

/// Active user by id within an organization.
pub async fn active_user(state: &AppState, org_id: &str, id: &str) -> ApiResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id.to_owned())
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::DeletedAt.is_null())
        .one(state.db())
        .await?)
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
    if user::Entity::find().filter(user::Column::Email.eq(email.clone())).one(state.db()).await?.is_some() {
        return Err(ApiError::Conflict("an account with this email already exists".into()));
    }
    let hash = hash_password(body.password.clone()).await?;
    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    let org = organization::ActiveModel {
        id: Set(actors::new_id()),
        name: Set(company),
        bot_enabled: Set(true),
        onboarding_completed: Set(false),
        event_seq: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&*txn)
    .await?;
    let inserted = user::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(org.id.clone()),
        email: Set(email),
        name: Set(name),
        password_hash: Set(Some(hash)),
        role: Set(Role::Admin.as_str().into()),
        status: Set(Presence::Offline.as_str().into()),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(&*txn)
    .await;
    let user = match inserted {
        Ok(u) => u,
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            return Err(ApiError::Conflict("an account with this email already exists".into()));
        }
        Err(e) => return Err(e.into()),
    };
    txn.commit().await?;
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
    responses((status = 200, body = Data<Session>), (status = 401, description = "Wrong email or password", body = crate::error::ErrorBody))
)]
#[post("/auth/login")]
pub async fn login(state: web::Data<AppState>, body: web::Json<LoginRequest>) -> ApiResult<HttpResponse> {
    let email = body.email.trim().to_lowercase();
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(email))
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
        _ => return Err(ApiError::Unauthorized("wrong email or password".into())),
    };
    let org = org_of(&state, &user).await?;
    Ok(HttpResponse::Ok().json(Data::new(session(&state, &user, &org, None).await?)))
}

/// Set or update the caller's password.
#[utoipa::path(
    tag = "auth",
    request_body = SetPasswordRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Data<UserView>), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody))
)]
#[post("/auth/set-password")]
pub async fn set_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SetPasswordRequest>,
) -> ApiResult<HttpResponse> {
    let user_id = caller.require_user()?;
    valid_password(&body.password)?;
    let user = active_user(&state, &caller.org_id, user_id).await?.ok_or(ApiError::NotFound("user"))?;
    let hash = hash_password(body.password.clone()).await?;
    let mut am = user.into_active_model();
    am.password_hash = Set(Some(hash));
    am.updated_at = Set(Utc::now());
    let user = am.update(state.db()).await?;
    Ok(HttpResponse::Ok().json(Data::new(UserView::from(&user))))
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
    let (user, family) = tokens::spend_refresh(state.db(), body.refresh_token.trim()).await?;
    let org = org_of(&state, &user).await?;
    Ok(HttpResponse::Ok().json(Data::new(session(&state, &user, &org, Some(family)).await?)))
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
