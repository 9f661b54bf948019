//! The organization's people, as admins manage them: create users (who get an invitation to set
//! their password), change roles and capacity, soft-delete them (their tokens stop working and
//! their open conversations go back to the queue), and set presence. An organization always
//! keeps at least one active admin; only a SUPER_ADMIN grants, changes or removes SUPER_ADMIN.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entities::enums::{Presence, Role, TeamRole};
use entities::{invitation, refresh_token, team, team_member, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};

use crate::auth::Caller;
use crate::auth::invitations::{self, NewInvitation, PENDING, REVOKED};
use crate::auth::membership::{active_team, add_member};
use crate::auth::users::{NewUser, active_user, insert_user, is_admin, required};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// A role as a request spells it (any case), or a 400 on `field`.
pub fn parse_role(field: &str, role: &str) -> Result<Role> {
    Role::parse(&role.trim().to_uppercase())
        .ok_or_else(|| Error::invalid(field, format!("{field} must be SUPER_ADMIN, ADMIN or AGENT")))
}

/// A presence as a request spells it (any case), or a 400 on `field`.
pub fn parse_presence(field: &str, status: &str) -> Result<Presence> {
    Presence::parse(&status.trim().to_uppercase())
        .ok_or_else(|| Error::invalid(field, format!("{field} must be ONLINE, AWAY, BUSY or OFFLINE")))
}

/// A user's capacity: 1 to 1000, or none (the team's limit applies).
pub fn capacity(c: Option<i32>) -> Result<Option<i32>> {
    match c {
        Some(n) if !(1..=1000).contains(&n) => {
            Err(Error::invalid("maxConcurrent", "maxConcurrent must be between 1 and 1000, or null"))
        }
        other => Ok(other),
    }
}

/// The organization's active user with this id; 404 otherwise.
async fn get(state: &AppState, org_id: &str, id: &str) -> Result<user::Model> {
    active_user(state.db(), org_id, id).await?.ok_or(Error::NotFound("user"))
}

/// Only a SUPER_ADMIN may grant SUPER_ADMIN.
pub fn ensure_grantable(caller: &Caller, role: Role) -> Result<()> {
    if role == Role::SuperAdmin && caller.role != Role::SuperAdmin {
        return Err(Error::Forbidden("only a super admin may grant SUPER_ADMIN".into()));
    }
    Ok(())
}

/// Only a SUPER_ADMIN may demote or delete a SUPER_ADMIN.
fn ensure_may_manage(caller: &Caller, target: &user::Model) -> Result<()> {
    if target.role == Role::SuperAdmin && caller.role != Role::SuperAdmin {
        return Err(Error::Forbidden("only a super admin may change or remove a super admin".into()));
    }
    Ok(())
}

/// Refuses to leave the organization without an active ADMIN or SUPER_ADMIN besides `except`.
async fn other_admin_in(db: &impl ConnectionTrait, org_id: &str, except: &str) -> Result<()> {
    let others = user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::DeletedAt.is_null())
        .filter(user::Column::Id.ne(except))
        .filter(user::Column::Role.is_in([Role::Admin.as_str(), Role::SuperAdmin.as_str()]))
        .one(db)
        .await?;
    if others.is_none() {
        return Err(Error::Conflict("the organization must keep at least one active admin".into()));
    }
    Ok(())
}

/// [`other_admin_in`] inside the write transaction that demotes or deletes the admin, with the
/// organization's row held: two admins demoting each other at the same moment take turns, and
/// the second finds no other admin left (SQLite's single writer does the same there).
async fn other_admin_locked(txn: &impl ConnectionTrait, org_id: &str, except: &str) -> Result<()> {
    use sea_orm::QuerySelect;
    entities::organization::Entity::find_by_id(org_id.to_owned()).lock_exclusive().one(txn).await?;
    other_admin_in(txn, org_id, except).await
}

/// An admin stepping down, inside the transaction that demotes them: another admin must remain,
/// and the admin invitations they sent and that are still open end (they could not send them now).
async fn on_demotion(txn: &impl ConnectionTrait, org_id: &str, user_id: &str) -> Result<()> {
    other_admin_locked(txn, org_id, user_id).await?;
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

/// Checks a role change of `target` to `role` by `caller`.
async fn ensure_role_change(state: &AppState, caller: &Caller, target: &user::Model, role: Role) -> Result<()> {
    ensure_grantable(caller, role)?;
    if target.role == role {
        return Ok(());
    }
    ensure_may_manage(caller, target)?;
    if is_admin(target) && !role.is_admin() {
        other_admin_in(state.db(), &target.org_id, &target.id).await?;
    }
    Ok(())
}

/// Writes a changed user, ending their admin duties in the same transaction when the change
/// demotes an admin.
async fn save(state: &AppState, before: &user::Model, am: user::ActiveModel) -> Result<user::Model> {
    let demoted = is_admin(before) && am.role.as_ref() != &before.role && !am.role.as_ref().is_admin();
    let txn = state.rt.db.begin_write().await?;
    if demoted {
        on_demotion(&*txn, &before.org_id, &before.id).await?;
    }
    let u = am.update(&*txn).await?;
    txn.commit().await?;
    Ok(u)
}

/// How to narrow the list of users.
#[derive(Default)]
pub struct ListFilter {
    /// Part of the name or email, case-insensitive.
    pub search: Option<String>,
    pub role: Option<String>,
    pub status: Option<String>,
    pub include_deleted: bool,
}

/// The organization's users, by name.
pub async fn list(db: &impl ConnectionTrait, org_id: &str, f: &ListFilter) -> Result<Vec<user::Model>> {
    let mut query = user::Entity::find().filter(user::Column::OrgId.eq(org_id));
    if !f.include_deleted {
        query = query.filter(user::Column::DeletedAt.is_null());
    }
    if let Some(r) = f.role.as_deref().filter(|r| !r.trim().is_empty()) {
        query = query.filter(user::Column::Role.eq(parse_role("role", r)?.as_str()));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.trim().is_empty()) {
        query = query.filter(user::Column::Status.eq(parse_presence("status", s)?.as_str()));
    }
    let mut users = query.order_by_asc(user::Column::Name).order_by_asc(user::Column::Id).all(db).await?;
    if let Some(s) = f.search.as_deref().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()) {
        users.retain(|u| u.name.to_lowercase().contains(&s) || u.email.contains(&s));
    }
    Ok(users)
}

/// A team a user is a member of, and as what.
pub struct Membership {
    pub team: team::Model,
    /// LEAD or MEMBER.
    pub role: TeamRole,
}

/// What the detailed view of users adds to their rows: open conversations assigned to each, and
/// the active teams each is a member of (in the order they joined).
pub struct Workload {
    pub open: HashMap<String, i64>,
    pub teams: HashMap<String, Vec<Membership>>,
}

/// The [`Workload`] of users of one organization.
pub async fn workload(db: &impl ConnectionTrait, org_id: &str, users: &[user::Model]) -> Result<Workload> {
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let open = actors::store::conversations::open_counts(db, org_id, &ids).await?;
    let links = team_member::Entity::find()
        .filter(team_member::Column::OrgId.eq(org_id))
        .filter(team_member::Column::UserId.is_in(ids))
        .order_by_asc(team_member::Column::CreatedAt)
        .all(db)
        .await?;
    let team_ids: HashSet<String> = links.iter().map(|l| l.team_id.clone()).collect();
    let teams: HashMap<String, team::Model> = team::Entity::find()
        .filter(team::Column::OrgId.eq(org_id))
        .filter(team::Column::Id.is_in(team_ids))
        .filter(team::Column::IsActive.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    let mut memberships: HashMap<String, Vec<Membership>> = HashMap::new();
    for l in links {
        if let Some(t) = teams.get(&l.team_id) {
            memberships.entry(l.user_id).or_default().push(Membership { team: t.clone(), role: l.role });
        }
    }
    Ok(Workload { open, teams: memberships })
}

/// A user an admin creates, as the request spelled it.
pub struct NewMember {
    pub email: Option<String>,
    pub name: Option<String>,
    /// AGENT by default.
    pub role: Option<String>,
    pub max_concurrent: Option<i32>,
    /// Active teams the user joins as a member.
    pub team_ids: Vec<String>,
}

/// Creates a user without a password and emails them an invitation to set one (earlier
/// invitations of the address end). Nothing is kept when the mail cannot be sent.
pub async fn create(state: &AppState, caller: &Caller, new: NewMember) -> Result<user::Model> {
    let email = invitations::invitable_email(new.email.as_deref())?;
    let name = required("name", new.name.as_deref().unwrap_or_default(), 200)?.to_owned();
    let role = parse_role("role", new.role.as_deref().unwrap_or("AGENT"))?;
    ensure_grantable(caller, role)?;
    let cap = capacity(new.max_concurrent)?;
    let mut team_ids: Vec<String> = Vec::new();
    for t in &new.team_ids {
        let t = active_team(state.db(), &caller.org_id, t.trim(), "teamIds").await?;
        if !team_ids.contains(&t.id) {
            team_ids.push(t.id);
        }
    }
    invitations::ensure_no_account(state.db(), &email).await?;
    let org_id = caller.org_id.clone();
    let txn = state.rt.db.begin_write().await?;
    let (email_, name_) = (email.clone(), name.clone());
    let user =
        NewUser { org_id: org_id.clone(), email: email_, name: name_, password_hash: None, role, max_concurrent: cap };
    let u = insert_user(&*txn, user).await?;
    for t in &team_ids {
        add_member(&*txn, &org_id, t, &u.id, TeamRole::Member).await?;
    }
    // Earlier invitations of this address are superseded by the account's own.
    invitations::revoke_pending_of(&*txn, &org_id, &email).await?;
    let (invited_by, user_id) = (caller.user_id.clone(), Some(u.id.clone()));
    let new =
        NewInvitation { org_id: org_id.clone(), invited_by, email, name: Some(name), role, team_id: None, user_id };
    let (inv, token) = invitations::insert(&*txn, state.config.invitation_days, new).await?;
    txn.commit().await?;
    if let Err(e) = invitations::send(state, &inv, &token).await {
        undo_create(state, &inv, &u).await?;
        return Err(e);
    }
    tracing::info!(org_id = %u.org_id, user_id = %u.id, "user created and invited");
    if cap.is_some() || !team_ids.is_empty() {
        state.rt.request_drain(&org_id);
    }
    Ok(u)
}

/// Removes a user whose invitation could not be sent, so the request can be retried as it is.
async fn undo_create(state: &AppState, inv: &invitation::Model, u: &user::Model) -> Result<()> {
    let txn = state.rt.db.begin_write().await?;
    invitation::Entity::delete_by_id(inv.id.clone()).exec(&*txn).await?;
    team_member::Entity::delete_many().filter(team_member::Column::UserId.eq(u.id.clone())).exec(&*txn).await?;
    user::Entity::delete_by_id(u.id.clone()).exec(&*txn).await?;
    txn.commit().await?;
    Ok(())
}

/// What an admin changes of a user; `None` keeps the field.
#[derive(Default)]
pub struct Changes {
    pub name: Option<String>,
    /// SUPER_ADMIN (by a super admin only), ADMIN or AGENT.
    pub role: Option<String>,
    /// `Some(None)` clears the capacity.
    pub max_concurrent: Option<Option<i32>>,
}

/// Changes a user's name, role or capacity; 409 when it would leave the organization without
/// an admin.
pub async fn update(state: &AppState, caller: &Caller, id: &str, changes: Changes) -> Result<user::Model> {
    let target = get(state, &caller.org_id, id).await?;
    let mut am = target.clone().into_active_model();
    if let Some(name) = &changes.name {
        am.name = Set(required("name", name, 200)?.to_owned());
    }
    if let Some(r) = &changes.role {
        let role = parse_role("role", r)?;
        ensure_role_change(state, caller, &target, role).await?;
        am.role = Set(role);
    }
    if let Some(c) = changes.max_concurrent {
        am.max_concurrent = Set(capacity(c)?);
    }
    am.updated_at = Set(Utc::now());
    let u = save(state, &target, am).await?;
    if changes.max_concurrent.is_some() {
        state.rt.request_drain(&caller.org_id); // capacity may have opened up
    }
    Ok(u)
}

/// Gives a user a role (the bulk `set_role`): the same checks as [`update`].
pub async fn set_role(state: &AppState, caller: &Caller, id: &str, role: Role) -> Result<user::Model> {
    let target = get(state, &caller.org_id, id).await?;
    ensure_role_change(state, caller, &target, role).await?;
    let mut am = target.clone().into_active_model();
    am.role = Set(role);
    am.updated_at = Set(Utc::now());
    save(state, &target, am).await
}

/// Sets a user's capacity (the bulk `set_capacity`); already checked with [`capacity`].
pub async fn set_capacity(state: &AppState, org_id: &str, id: &str, cap: Option<i32>) -> Result<user::Model> {
    let mut am = get(state, org_id, id).await?.into_active_model();
    am.max_concurrent = Set(cap);
    am.updated_at = Set(Utc::now());
    Ok(am.update(state.db()).await?)
}

/// Sets a user's presence, by the user themself (`own`) or an admin.
pub async fn set_status(state: &AppState, org_id: &str, id: &str, status: Presence, own: bool) -> Result<user::Model> {
    let reason = if own { "manual" } else { "set by an admin" };
    actors::people::presence::set_status(&state.rt, org_id, id, status, reason).await?.ok_or(Error::NotFound("user"))
}

/// Soft-deletes a user: OFFLINE, conversations back to the queue, tokens revoked, teams left,
/// their invitations (to them and by them) ended; announced as `agent.removed`. Returns the user
/// and how many conversations were released. 409 for oneself or the last admin.
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<(user::Model, usize)> {
    let target = get(state, &caller.org_id, id).await?;
    if caller.user_id.as_deref() == Some(target.id.as_str()) {
        return Err(Error::Conflict("you cannot delete yourself".into()));
    }
    ensure_may_manage(caller, &target)?;
    if is_admin(&target) {
        other_admin_in(state.db(), &target.org_id, &target.id).await?;
    }
    let org_id = target.org_id.clone();
    actors::people::presence::set_status(&state.rt, &org_id, &target.id, Presence::Offline, "deleted").await?;
    let note = format!("{} was removed; back to the queue", target.name);
    // Released before the user is marked deleted, so a failure here leaves a user that can
    // simply be deleted again; OFFLINE already keeps auto-assignment away.
    let mut released = actors::people::release_conversations(&state.rt, &org_id, &target.id, &note).await?;
    let now = Utc::now();
    let txn = state.rt.db.begin_write_in(&org_id).await?;
    if is_admin(&target) {
        other_admin_locked(&*txn, &target.org_id, &target.id).await?;
    }
    mark_deleted(&*txn, &target, now).await?;
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
    let user = user::Model { deleted_at: Some(now), status: Presence::Offline, updated_at: now, ..target };
    Ok((user, released))
}

/// The rows of a deletion, inside its transaction: the user marked deleted and OFFLINE (404 when
/// someone else was quicker), their refresh tokens revoked, their teams left, their invitations
/// ended.
async fn mark_deleted(txn: &impl ConnectionTrait, target: &user::Model, now: chrono::DateTime<Utc>) -> Result<()> {
    let marked = user::Entity::update_many()
        .col_expr(user::Column::DeletedAt, Expr::value(Some(now)))
        .col_expr(user::Column::Status, Expr::value(Presence::Offline.as_str()))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(target.id.clone()))
        .filter(user::Column::DeletedAt.is_null())
        .exec(txn)
        .await?;
    if marked.rows_affected != 1 {
        return Err(Error::NotFound("user"));
    }
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Some(now)))
        .filter(refresh_token::Column::UserId.eq(target.id.clone()))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(txn)
        .await?;
    team_member::Entity::delete_many().filter(team_member::Column::UserId.eq(target.id.clone())).exec(txn).await?;
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
        .exec(txn)
        .await?;
    Ok(())
}

/// Resends the invitation of a user who has not set a password yet (409 when they have): the
/// pending one gets a new token (the old one stops working), or a new one is sent.
pub async fn resend_invite(state: &AppState, caller: &Caller, id: &str) -> Result<invitation::Model> {
    let target = get(state, &caller.org_id, id).await?;
    if target.password_hash.is_some() {
        return Err(Error::Conflict("the user has already set a password".into()));
    }
    let pending = invitation::Entity::find()
        .filter(invitation::Column::OrgId.eq(caller.org_id.clone()))
        .filter(invitation::Column::UserId.eq(target.id.clone()))
        .filter(invitation::Column::Status.eq(PENDING))
        .order_by_desc(invitation::Column::CreatedAt)
        .one(state.db())
        .await?;
    if let Some(inv) = pending {
        return invitations::renew(state, inv).await;
    }
    let new = NewInvitation {
        org_id: caller.org_id.clone(),
        invited_by: caller.user_id.clone(),
        email: target.email.clone(),
        name: Some(target.name.clone()),
        role: target.role,
        team_id: None,
        user_id: Some(target.id.clone()),
    };
    invitations::insert_and_send(state, new).await
}
