//! USERS-1..7: the organization's people. Admins create users (who get an invitation to set
//! their password), change roles and capacity, and soft-delete them: a deleted user's tokens stop
//! working and their open conversations go back to the queue. Presence is set by the user or an
//! admin. An organization always keeps at least one active admin.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use entities::enums::{Presence, Role, TeamRole};
use entities::{invitation, refresh_token, team, team_member, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::invitations::{InvitationView, ItemError};
use super::{Data, nullable};
use crate::auth::Caller;
use crate::auth::invitations::{
    NewInvitation, PENDING, REVOKED, ensure_no_account, insert as insert_invitation, invitable_email,
    send as send_invitation,
};
use crate::auth::users::{NewUser, active_user, insert_user, required};
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

/// Most ids one bulk request takes.
const BULK_MAX: usize = 1000;

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
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let open = actors::store::conversations::open_counts(state.db(), org_id, &ids).await?;
    let links = team_member::Entity::find()
        .filter(team_member::Column::OrgId.eq(org_id))
        .filter(team_member::Column::UserId.is_in(ids))
        .order_by_asc(team_member::Column::CreatedAt)
        .all(state.db())
        .await?;
    let team_ids: HashSet<String> = links.iter().map(|l| l.team_id.clone()).collect();
    let teams: HashMap<String, team::Model> = team::Entity::find()
        .filter(team::Column::OrgId.eq(org_id))
        .filter(team::Column::Id.is_in(team_ids))
        .filter(team::Column::IsActive.eq(true))
        .all(state.db())
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    let mut memberships: HashMap<String, Vec<UserTeam>> = HashMap::new();
    for l in links {
        if let Some(t) = teams.get(&l.team_id) {
            memberships.entry(l.user_id).or_default().push(UserTeam {
                id: t.id.clone(),
                name: t.name.clone(),
                role: l.role,
            });
        }
    }
    Ok(users
        .iter()
        .map(|u| UserDetail {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.clone(),
            status: u.status.clone(),
            max_concurrent: u.max_concurrent,
            avatar_url: avatar_url(u),
            last_seen_at: u.last_seen_at,
            status_changed_at: u.status_changed_at,
            invite_pending: u.password_hash.is_none(),
            open_conversations: open.get(&u.id).copied().unwrap_or(0),
            teams: memberships.remove(&u.id).unwrap_or_default(),
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

fn parse_role(field: &str, role: &str) -> ApiResult<Role> {
    Role::parse(&role.trim().to_uppercase())
        .ok_or_else(|| ApiError::validation(field, format!("{field} must be SUPER_ADMIN, ADMIN or AGENT")))
}

fn parse_presence(field: &str, status: &str) -> ApiResult<Presence> {
    Presence::parse(&status.trim().to_uppercase())
        .ok_or_else(|| ApiError::validation(field, format!("{field} must be ONLINE, AWAY, BUSY or OFFLINE")))
}

fn capacity(c: Option<i32>) -> ApiResult<Option<i32>> {
    match c {
        Some(n) if !(1..=1000).contains(&n) => {
            Err(ApiError::validation("maxConcurrent", "maxConcurrent must be between 1 and 1000, or null"))
        }
        other => Ok(other),
    }
}

/// Only a SUPER_ADMIN may grant SUPER_ADMIN.
fn ensure_grantable(caller: &Caller, role: Role) -> ApiResult<()> {
    if role == Role::SuperAdmin && caller.role != Role::SuperAdmin {
        return Err(ApiError::Forbidden("only a super admin may grant SUPER_ADMIN".into()));
    }
    Ok(())
}

/// Only a SUPER_ADMIN may demote or delete a SUPER_ADMIN.
fn ensure_may_manage(caller: &Caller, target: &user::Model) -> ApiResult<()> {
    if target.role == Role::SuperAdmin.as_str() && caller.role != Role::SuperAdmin {
        return Err(ApiError::Forbidden("only a super admin may change or remove a super admin".into()));
    }
    Ok(())
}

fn is_admin(u: &user::Model) -> bool {
    Role::parse(&u.role).is_some_and(Role::is_admin)
}

/// Refuses to leave the organization without an active ADMIN or SUPER_ADMIN besides `except`.
async fn ensure_other_admin(state: &AppState, org_id: &str, except: &str) -> ApiResult<()> {
    other_admin_in(state.db(), org_id, except).await
}

/// [`ensure_other_admin`] inside the write transaction that demotes or deletes the admin, with
/// the organization's row held: two admins demoting each other at the same moment take turns,
/// and the second finds no other admin left (SQLite's single writer does the same there).
async fn ensure_other_admin_locked(txn: &impl sea_orm::ConnectionTrait, org_id: &str, except: &str) -> ApiResult<()> {
    use sea_orm::QuerySelect;
    entities::organization::Entity::find_by_id(org_id.to_owned()).lock_exclusive().one(txn).await?;
    other_admin_in(txn, org_id, except).await
}

/// An admin stepping down, inside the transaction that demotes them: another admin must remain,
/// and the admin invitations they sent and that are still open end (they could not send them now).
async fn on_demotion(txn: &impl sea_orm::ConnectionTrait, org_id: &str, user_id: &str) -> ApiResult<()> {
    ensure_other_admin_locked(txn, org_id, user_id).await?;
    invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(REVOKED))
        .col_expr(invitation::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(invitation::Column::OrgId.eq(org_id))
        .filter(invitation::Column::InvitedBy.eq(user_id))
        .filter(invitation::Column::Status.eq(PENDING))
        .filter(invitation::Column::Role.is_in([Role::Admin.as_str(), Role::SuperAdmin.as_str()]))
        .exec(txn)
        .await?;
    Ok(())
}

async fn other_admin_in(db: &impl sea_orm::ConnectionTrait, org_id: &str, except: &str) -> ApiResult<()> {
    let others = user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::DeletedAt.is_null())
        .filter(user::Column::Id.ne(except))
        .filter(user::Column::Role.is_in([Role::Admin.as_str(), Role::SuperAdmin.as_str()]))
        .one(db)
        .await?;
    if others.is_none() {
        return Err(ApiError::Conflict("the organization must keep at least one active admin".into()));
    }
    Ok(())
}

async fn find_active(state: &AppState, org_id: &str, id: &str) -> ApiResult<user::Model> {
    active_user(state, org_id, id).await?.ok_or(ApiError::NotFound("user"))
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
    let mut query = user::Entity::find().filter(user::Column::OrgId.eq(caller.org_id.clone()));
    if q.include_deleted {
        caller.require_admin()?;
    } else {
        query = query.filter(user::Column::DeletedAt.is_null());
    }
    if let Some(r) = q.role.as_deref().filter(|r| !r.trim().is_empty()) {
        query = query.filter(user::Column::Role.eq(parse_role("role", r)?.as_str()));
    }
    if let Some(s) = q.status.as_deref().filter(|s| !s.trim().is_empty()) {
        query = query.filter(user::Column::Status.eq(parse_presence("status", s)?.as_str()));
    }
    let mut users = query.order_by_asc(user::Column::Name).order_by_asc(user::Column::Id).all(state.db()).await?;
    if let Some(s) = q.search.as_deref().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()) {
        users.retain(|u| u.name.to_lowercase().contains(&s) || u.email.contains(&s));
    }
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
    let email = invitable_email(body.email.as_deref())?;
    let name = required("name", body.name.as_deref().unwrap_or_default(), 200)?.to_owned();
    let role = parse_role("role", body.role.as_deref().unwrap_or("AGENT"))?;
    ensure_grantable(&caller, role)?;
    let cap = capacity(body.max_concurrent)?;
    let mut team_ids: Vec<String> = Vec::new();
    for t in body.team_ids.iter().flatten() {
        let t = super::teams::active_team(&state, &caller.org_id, t.trim(), "teamIds").await?;
        if !team_ids.contains(&t.id) {
            team_ids.push(t.id);
        }
    }
    ensure_no_account(state.db(), &email).await?;

    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    let new = NewUser {
        org_id: caller.org_id.clone(),
        email: email.clone(),
        name: name.clone(),
        password_hash: None,
        role,
        max_concurrent: cap,
    };
    let u = insert_user(&*txn, new).await?;
    for t in &team_ids {
        team_member::ActiveModel {
            team_id: Set(t.clone()),
            user_id: Set(u.id.clone()),
            org_id: Set(caller.org_id.clone()),
            role: Set(TeamRole::Member.as_str().into()),
            created_at: Set(now),
        }
        .insert(&*txn)
        .await?;
    }
    // Earlier invitations of this address are superseded by the account's own.
    invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(REVOKED))
        .col_expr(invitation::Column::UpdatedAt, Expr::value(now))
        .filter(invitation::Column::OrgId.eq(caller.org_id.clone()))
        .filter(invitation::Column::Email.eq(email.clone()))
        .filter(invitation::Column::Status.eq(PENDING))
        .exec(&*txn)
        .await?;
    let new = NewInvitation {
        org_id: caller.org_id.clone(),
        invited_by: caller.user_id.clone(),
        email,
        name: Some(name),
        role,
        team_id: None,
        user_id: Some(u.id.clone()),
    };
    let (inv, token) = insert_invitation(&*txn, state.config.invitation_days, new).await?;
    txn.commit().await?;
    if let Err(e) = send_invitation(&state, &inv, &token).await {
        // Undone, so the request can be retried as it is.
        let txn = state.rt.db.begin_write().await?;
        invitation::Entity::delete_by_id(inv.id.clone()).exec(&*txn).await?;
        team_member::Entity::delete_many().filter(team_member::Column::UserId.eq(u.id.clone())).exec(&*txn).await?;
        user::Entity::delete_by_id(u.id.clone()).exec(&*txn).await?;
        txn.commit().await?;
        return Err(e.into());
    }
    tracing::info!(org_id = %u.org_id, user_id = %u.id, "user created and invited");
    if cap.is_some() || !team_ids.is_empty() {
        state.rt.request_drain(&caller.org_id);
    }
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

/// Checks a role change of `target` to `role` by `caller`.
async fn ensure_role_change(state: &AppState, caller: &Caller, target: &user::Model, role: Role) -> ApiResult<()> {
    ensure_grantable(caller, role)?;
    if target.role == role.as_str() {
        return Ok(());
    }
    ensure_may_manage(caller, target)?;
    if is_admin(target) && !role.is_admin() {
        ensure_other_admin(state, &target.org_id, &target.id).await?;
    }
    Ok(())
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
    let target = find_active(&state, &caller.org_id, &id).await?;
    let mut am = target.clone().into_active_model();
    if let Some(name) = &body.name {
        am.name = Set(required("name", name, 200)?.to_owned());
    }
    if let Some(r) = &body.role {
        let role = parse_role("role", r)?;
        ensure_role_change(&state, &caller, &target, role).await?;
        am.role = Set(role.as_str().into());
    }
    if let Some(c) = body.max_concurrent {
        am.max_concurrent = Set(capacity(c)?);
    }
    am.updated_at = Set(Utc::now());
    let txn = state.rt.db.begin_write().await?;
    if is_admin(&target)
        && am.role.as_ref() != &target.role
        && !Role::parse(am.role.as_ref()).is_some_and(Role::is_admin)
    {
        on_demotion(&*txn, &target.org_id, &target.id).await?;
    }
    let u = am.update(&*txn).await?;
    txn.commit().await?;
    if body.max_concurrent.is_some() {
        state.rt.request_drain(&caller.org_id); // capacity may have opened up
    }
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &u).await?)))
}

/// Soft-deletes a user: OFFLINE, conversations back to the queue, tokens revoked, teams left.
/// Returns the user and how many conversations were released.
async fn delete_user(state: &AppState, caller: &Caller, id: &str) -> ApiResult<(user::Model, usize)> {
    let target = find_active(state, &caller.org_id, id).await?;
    if caller.user_id.as_deref() == Some(target.id.as_str()) {
        return Err(ApiError::Conflict("you cannot delete yourself".into()));
    }
    ensure_may_manage(caller, &target)?;
    if is_admin(&target) {
        ensure_other_admin(state, &target.org_id, &target.id).await?;
    }
    let org_id = target.org_id.clone();
    actors::people::presence::set_status(&state.rt, &org_id, &target.id, Presence::Offline, "deleted").await?;
    let note = format!("{} was removed; back to the queue", target.name);
    // Released before the user is marked deleted, so a failure here leaves a user that can
    // simply be deleted again; OFFLINE already keeps auto-assignment away.
    let mut released = actors::people::release_conversations(&state.rt, &org_id, &target.id, &note).await?;
    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    if is_admin(&target) {
        ensure_other_admin_locked(&*txn, &target.org_id, &target.id).await?;
    }
    let marked = user::Entity::update_many()
        .col_expr(user::Column::DeletedAt, Expr::value(Some(now)))
        .col_expr(user::Column::Status, Expr::value(Presence::Offline.as_str()))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(target.id.clone()))
        .filter(user::Column::DeletedAt.is_null())
        .exec(&*txn)
        .await?;
    if marked.rows_affected != 1 {
        return Err(ApiError::NotFound("user"));
    }
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Some(now)))
        .filter(refresh_token::Column::UserId.eq(target.id.clone()))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&*txn)
        .await?;
    team_member::Entity::delete_many().filter(team_member::Column::UserId.eq(target.id.clone())).exec(&*txn).await?;
    invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(REVOKED))
        .col_expr(invitation::Column::UpdatedAt, Expr::value(now))
        .filter(
            sea_orm::Condition::any()
                .add(invitation::Column::UserId.eq(target.id.clone()))
                // What they invited others to ends with them (an admin could have invited a
                // second address of their own).
                .add(invitation::Column::InvitedBy.eq(target.id.clone())),
        )
        .filter(invitation::Column::Status.eq(PENDING))
        .exec(&*txn)
        .await?;
    // Their open sockets, on every node, close when this event reaches them.
    let removed = actors::store::events::NewEvent {
        conversation: None,
        name: actors::events::EventName::AgentRemoved,
        payload: serde_json::json!({ "userId": target.id, "name": target.name }).to_string(),
    };
    state.rt.commit(txn, &org_id, vec![removed]).await?;
    // Anything assigned to them in the meantime follows.
    released += actors::people::release_conversations(&state.rt, &org_id, &target.id, &note).await?;
    tracing::info!(%org_id, user_id = %target.id, released, "user deleted");
    let user =
        user::Model { deleted_at: Some(now), status: Presence::Offline.as_str().into(), updated_at: now, ..target };
    Ok((user, released))
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
    let (u, released) = delete_user(&state, &caller, &id).await?;
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
    let target = find_active(&state, &caller.org_id, &id).await?;
    if target.password_hash.is_some() {
        return Err(ApiError::Conflict("the user has already set a password".into()));
    }
    let pending = invitation::Entity::find()
        .filter(invitation::Column::OrgId.eq(caller.org_id.clone()))
        .filter(invitation::Column::UserId.eq(target.id.clone()))
        .filter(invitation::Column::Status.eq(PENDING))
        .order_by_desc(invitation::Column::CreatedAt)
        .one(state.db())
        .await?;
    let inv = match pending {
        Some(inv) => crate::auth::invitations::renew(&state, inv).await?,
        None => {
            let role = Role::parse(&target.role).unwrap_or(Role::Agent);
            let new = NewInvitation {
                org_id: caller.org_id.clone(),
                invited_by: caller.user_id.clone(),
                email: target.email.clone(),
                name: Some(target.name.clone()),
                role,
                team_id: None,
                user_id: Some(target.id.clone()),
            };
            let (inv, token) = insert_invitation(state.db(), state.config.invitation_days, new).await?;
            if let Err(e) = send_invitation(&state, &inv, &token).await {
                invitation::Entity::delete_by_id(inv.id.clone()).exec(state.db()).await?;
                return Err(e.into());
            }
            inv
        }
    };
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
    let reason = if own { "manual" } else { "set by an admin" };
    let u = actors::people::presence::set_status(&state.rt, &caller.org_id, &id, status, reason)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
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

enum BulkAction {
    Delete,
    SetRole(Role),
    SetStatus(Presence),
    SetCapacity(Option<i32>),
}

fn bulk_action(body: &UserBulkRequest) -> ApiResult<BulkAction> {
    Ok(match body.action.trim() {
        "delete" => BulkAction::Delete,
        "set_role" => BulkAction::SetRole(parse_role(
            "role",
            body.role.as_deref().ok_or_else(|| ApiError::validation("role", "role is required for set_role"))?,
        )?),
        "set_status" => BulkAction::SetStatus(parse_presence(
            "status",
            body.status
                .as_deref()
                .ok_or_else(|| ApiError::validation("status", "status is required for set_status"))?,
        )?),
        "set_capacity" => BulkAction::SetCapacity(capacity(body.max_concurrent.ok_or_else(|| {
            ApiError::validation("maxConcurrent", "maxConcurrent (a number or null) is required for set_capacity")
        })?)?),
        _ => {
            return Err(ApiError::validation("action", "action must be delete, set_role, set_status or set_capacity"));
        }
    })
}

/// The ids a selection names, deduplicated, in order.
async fn selected(state: &AppState, caller: &Caller, selection: &UserSelection) -> ApiResult<Vec<String>> {
    match selection.mode.as_str() {
        "ids" => {
            if selection.role.is_some() || selection.status.is_some() {
                return Err(ApiError::validation(
                    "selection.mode",
                    "role and status filter mode all, not a list of ids",
                ));
            }
            let ids = selection
                .ids
                .as_ref()
                .filter(|ids| !ids.is_empty())
                .ok_or_else(|| ApiError::validation("selection.ids", "selection.ids must be a list of user ids"))?;
            if ids.len() > BULK_MAX {
                return Err(ApiError::validation("selection.ids", format!("at most {BULK_MAX} ids")));
            }
            let mut out: Vec<String> = Vec::with_capacity(ids.len());
            for id in ids {
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_owned());
                }
            }
            Ok(out)
        }
        "all" => {
            if selection.ids.is_some() {
                return Err(ApiError::validation("selection.ids", "mode all takes no ids; use mode ids to name users"));
            }
            let mut query = user::Entity::find()
                .filter(user::Column::OrgId.eq(caller.org_id.clone()))
                .filter(user::Column::DeletedAt.is_null());
            if let Some(r) = selection.role.as_deref() {
                query = query.filter(user::Column::Role.eq(parse_role("selection.role", r)?.as_str()));
            }
            if let Some(s) = selection.status.as_deref() {
                query = query.filter(user::Column::Status.eq(parse_presence("selection.status", s)?.as_str()));
            }
            let users = query.order_by_asc(user::Column::Name).order_by_asc(user::Column::Id).all(state.db()).await?;
            Ok(users.into_iter().map(|u| u.id).collect())
        }
        _ => Err(ApiError::validation("selection.mode", "selection.mode must be ids or all")),
    }
}

async fn apply(state: &AppState, caller: &Caller, id: &str, action: &BulkAction) -> ApiResult<()> {
    match action {
        BulkAction::Delete => {
            delete_user(state, caller, id).await?;
        }
        BulkAction::SetRole(role) => {
            let target = find_active(state, &caller.org_id, id).await?;
            ensure_role_change(state, caller, &target, *role).await?;
            let demoted = is_admin(&target) && !role.is_admin();
            let (org_id, user_id) = (target.org_id.clone(), target.id.clone());
            let mut am = target.into_active_model();
            am.role = Set(role.as_str().into());
            am.updated_at = Set(Utc::now());
            let txn = state.rt.db.begin_write().await?;
            if demoted {
                on_demotion(&*txn, &org_id, &user_id).await?;
            }
            am.update(&*txn).await?;
            txn.commit().await?;
        }
        BulkAction::SetStatus(status) => {
            actors::people::presence::set_status(&state.rt, &caller.org_id, id, *status, "set by an admin")
                .await?
                .ok_or(ApiError::NotFound("user"))?;
        }
        BulkAction::SetCapacity(cap) => {
            let target = find_active(state, &caller.org_id, id).await?;
            let mut am = target.into_active_model();
            am.max_concurrent = Set(*cap);
            am.updated_at = Set(Utc::now());
            am.update(state.db()).await?;
        }
    }
    Ok(())
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
    let action = bulk_action(&body)?;
    if let BulkAction::SetRole(role) = &action {
        ensure_grantable(&caller, *role)?;
    }
    let ids = selected(&state, &caller, &body.selection).await?;
    let mut failed = Vec::new();
    for id in &ids {
        if let Err(e) = apply(&state, &caller, id, &action).await {
            failed.push(UserBulkFailure { id: id.clone(), error: (&e).into() });
        }
    }
    if matches!(action, BulkAction::SetCapacity(_) | BulkAction::SetRole(_)) {
        state.rt.request_drain(&caller.org_id);
    }
    let report = UserBulkReport { matched: ids.len(), succeeded: ids.len() - failed.len(), failed };
    Ok(HttpResponse::Ok().json(Data::new(report)))
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

/// A user's avatar image (any member of the organization).
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 404, description = "No such user, or no avatar", body = crate::error::ErrorBody),
    ))]
#[get("/users/{id}/avatar")]
pub async fn avatar(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let u = user::Entity::find_by_id(id.into_inner())
        .filter(user::Column::OrgId.eq(caller.org_id.clone()))
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let key = u.avatar_path.ok_or(ApiError::NotFound("avatar"))?;
    let bytes = match state.media.get(&key).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ApiError::NotFound("avatar")),
        Err(e) => return Err(ApiError::Internal(format!("media store: {e}"))),
    };
    Ok(HttpResponse::Ok()
        .content_type(avatar_content_type(&key))
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(bytes))
}
