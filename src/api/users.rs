//! USERS-1..7: the organization's people. Admins create users (who get an invitation to set
//! their password), change roles and capacity, and soft-delete them: a deleted user's tokens stop
//! working and their open conversations go back to the queue. Presence is set by the user or an
//! admin. An organization always keeps at least one active admin.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use entities::user;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::invitations::{InvitationView, ItemError};
use super::{Data, nullable};
use crate::auth::Caller;
use crate::auth::profile;
use crate::auth::users::admin::{self, Changes, ListFilter, NewMember, parse_presence};
use crate::auth::users::bulk::{self as bulk_users, ActionInput, Selection};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(bulk)
        .service(update)
        .service(remove)
        .service(resend_invite)
        .service(set_status)
        .service(avatar);
}

#[derive(Serialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserTeam {
    pub id: String,
    pub name: String,
    /// LEAD or MEMBER.
    pub role: String,
}

#[derive(Serialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserDetail {
    pub id: String,
    pub email: String,
    pub name: String,
    /// SUPER_ADMIN, ADMIN or AGENT.
    pub role: String,
    /// ONLINE, AWAY, BUSY or OFFLINE.
    pub status: String,
    /// Most open conversations auto-assignment gives this user; `null` = the team's limit.
    pub max_concurrent: Option<i32>,
    /// `/api/v1/users/{id}/avatar`, or `null` without an avatar.
    pub avatar_url: Option<String>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub status_changed_at: Option<DateTime<Utc>>,
    /// The user has not set a password yet (invited, not accepted).
    pub invite_pending: bool,
    /// Assigned conversations that are not closed.
    pub open_conversations: i64,
    /// Active teams the user is a member of.
    pub teams: Vec<UserTeam>,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Where a user's avatar is served.
pub fn avatar_url(u: &user::Model) -> Option<String> {
    u.avatar_path.as_ref().map(|_| format!("/api/v1/users/{}/avatar", u.id))
}

/// The detailed views of users of one organization, with their open conversations and teams.
pub async fn details(state: &AppState, org_id: &str, users: &[user::Model]) -> ApiResult<Vec<UserDetail>> {
    let mut w = admin::workload(state.db(), org_id, users).await?;
    Ok(users
        .iter()
        .map(|u| UserDetail {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.to_string(),
            status: u.status.to_string(),
            max_concurrent: u.max_concurrent,
            avatar_url: avatar_url(u),
            last_seen_at: u.last_seen_at,
            status_changed_at: u.status_changed_at,
            invite_pending: u.password_hash.is_none(),
            open_conversations: w.open.get(&u.id).copied().unwrap_or(0),
            teams: (w.teams.remove(&u.id).unwrap_or_default().into_iter())
                .map(|m| UserTeam { id: m.team.id, name: m.team.name, role: m.role.to_string() })
                .collect(),
            created_at: u.created_at,
            deleted_at: u.deleted_at,
        })
        .collect())
}

/// The detailed view of one user.
pub async fn detail(state: &AppState, u: &user::Model) -> ApiResult<UserDetail> {
    details(state, &u.org_id, std::slice::from_ref(u))
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal("user view missing".into()))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Part of the name or email, case-insensitive.
    pub search: Option<String>,
    /// SUPER_ADMIN, ADMIN or AGENT.
    pub role: Option<String>,
    /// ONLINE, AWAY, BUSY or OFFLINE.
    pub status: Option<String>,
    /// Include deleted users (admin only).
    #[serde(default)]
    pub include_deleted: bool,
}

/// List the organization's users, by name.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Data<Vec<UserDetail>>), (status = 400, body = crate::error::ErrorBody), (status = 403, description = "includeDeleted needs an admin", body = crate::error::ErrorBody)))]
#[get("/users")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    if q.include_deleted {
        caller.require_admin()?;
    }
    let q = q.into_inner();
    let filter = ListFilter { search: q.search, role: q.role, status: q.status, include_deleted: q.include_deleted };
    let users = admin::list(state.db(), &caller.org_id, &filter).await?;
    Ok(HttpResponse::Ok().json(Data::new(details(&state, &caller.org_id, &users).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUser {
    pub email: Option<String>,
    pub name: Option<String>,
    /// AGENT (default), ADMIN, or SUPER_ADMIN (by a super admin only).
    pub role: Option<String>,
    /// 1 to 1000.
    pub max_concurrent: Option<i32>,
    /// Active teams the user joins as a member.
    pub team_ids: Option<Vec<String>>,
}

/// Create a user (admin only). The user has no password yet: an invitation is emailed so they
/// set one.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = CreateUser,
    responses(
        (status = 201, body = Data<UserDetail>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "The email has an account", body = crate::error::ErrorBody),
        (status = 503, description = "The invitation mail could not be sent; nothing was kept", body = crate::error::ErrorBody),
    ))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateUser>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let team_ids = b.team_ids.unwrap_or_default();
    let new = NewMember { email: b.email, name: b.name, role: b.role, max_concurrent: b.max_concurrent, team_ids };
    let u = admin::create(&state, &caller, new).await?;
    Ok(HttpResponse::Created().json(Data::new(detail(&state, &u).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUser {
    pub name: Option<String>,
    /// SUPER_ADMIN (by a super admin only), ADMIN or AGENT.
    pub role: Option<String>,
    /// 1 to 1000; `null` clears it (the team's limit applies).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub max_concurrent: Option<Option<i32>>,
}

/// Update a user's name, role or capacity (admin only).
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = String, Path, description = "User id")), request_body = UpdateUser,
    responses(
        (status = 200, body = Data<UserDetail>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, description = "Granting or changing SUPER_ADMIN needs a super admin", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "It would leave the organization without an admin", body = crate::error::ErrorBody),
    ))]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<UpdateUser>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let changes = Changes { name: b.name, role: b.role, max_concurrent: b.max_concurrent };
    let u = admin::update(&state, &caller, &id, changes).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &u).await?)))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedUser {
    #[serde(flatten)]
    pub user: UserDetail,
    /// Open conversations moved back to the queue.
    pub released_conversations: usize,
}

/// Soft-delete a user (admin only): their tokens stop working, they leave their teams, and their
/// open conversations go back to the queue with a note.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = Data<DeletedUser>),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Yourself, or the last admin", body = crate::error::ErrorBody),
    ))]
#[delete("/users/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let (u, released) = admin::delete(&state, &caller, &id).await?;
    let user = detail(&state, &u).await?;
    Ok(HttpResponse::Ok().json(Data::new(DeletedUser { user, released_conversations: released })))
}

/// Resend the invitation of a user who has not set a password yet (admin only): a new token,
/// the old one stops working.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = Data<InvitationView>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "The user already has a password", body = crate::error::ErrorBody),
        (status = 503, description = "The mail could not be sent", body = crate::error::ErrorBody),
    ))]
#[post("/users/{id}/resend-invite")]
pub async fn resend_invite(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let inv = admin::resend_invite(&state, &caller, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(InvitationView::from(&inv))))
}

#[derive(Deserialize, ToSchema)]
pub struct StatusRequest {
    /// ONLINE, AWAY, BUSY or OFFLINE.
    pub status: String,
}

/// Set a user's presence: the user themself or an admin.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = String, Path, description = "User id")), request_body = StatusRequest,
    responses(
        (status = 200, body = Data<UserDetail>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, description = "Someone else's status, not an admin", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
    ))]
#[patch("/users/{id}/status")]
pub async fn set_status(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<StatusRequest>,
) -> ApiResult<HttpResponse> {
    let own = caller.user_id.as_deref() == Some(id.as_str());
    if !own && !caller.role.is_admin() {
        return Err(ApiError::Forbidden("only admins set other users' status".into()));
    }
    let status = parse_presence("status", &body.status)?;
    let u = admin::set_status(&state, &caller.org_id, &id, status, own).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &u).await?)))
}

/// A bulk action on users. Unknown fields are refused (400 naming the field): a misspelt
/// option must never widen what a destructive action touches.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserBulkRequest {
    /// `delete`, `set_role`, `set_status` or `set_capacity`.
    pub action: String,
    pub selection: UserSelection,
    /// For `set_role`.
    pub role: Option<String>,
    /// For `set_status`.
    pub status: Option<String>,
    /// For `set_capacity`: 1 to 1000, or `null` to clear.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub max_concurrent: Option<Option<i32>>,
}

/// Which users a bulk action takes: `{"mode": "ids", "ids": [...]}` (at most 1000) or
/// `{"mode": "all", "role"?, "status"?}` (every active user, optionally of a role or status).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserSelection {
    /// `ids` or `all`.
    pub mode: String,
    /// With `ids`: the users.
    pub ids: Option<Vec<String>>,
    /// With `all`: only users of this role.
    pub role: Option<String>,
    /// With `all`: only users with this presence.
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UserBulkFailure {
    pub id: String,
    pub error: ItemError,
}

#[derive(Serialize, ToSchema)]
pub struct UserBulkReport {
    /// Users selected (`succeeded` + failed ones).
    pub matched: usize,
    pub succeeded: usize,
    pub failed: Vec<UserBulkFailure>,
}

/// Act on many users at once (admin only). Each user succeeds or fails on its own; the caller is
/// never deleted.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = UserBulkRequest,
    responses(
        (status = 200, body = Data<UserBulkReport>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
    ))]
#[post("/users/bulk")]
pub async fn bulk(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UserBulkRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let (b, sel) = (&body, &body.selection);
    let action = ActionInput {
        action: &b.action,
        role: b.role.as_deref(),
        status: b.status.as_deref(),
        max_concurrent: b.max_concurrent,
    };
    let selection = Selection {
        mode: &sel.mode,
        ids: sel.ids.as_deref(),
        role: sel.role.as_deref(),
        status: sel.status.as_deref(),
    };
    let report = bulk_users::run(&state, &caller, &action, &selection).await?;
    let failed: Vec<UserBulkFailure> =
        report.failed.into_iter().map(|(id, e)| UserBulkFailure { id, error: e.into() }).collect();
    let report = UserBulkReport { matched: report.matched, succeeded: report.matched - failed.len(), failed };
    Ok(HttpResponse::Ok().json(Data::new(report)))
}

/// A user's avatar image (any member of the organization).
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 404, description = "No such user, or no avatar", body = crate::error::ErrorBody),
    ))]
#[get("/users/{id}/avatar")]
pub async fn avatar(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let (bytes, content_type) = profile::avatar(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(bytes))
}
