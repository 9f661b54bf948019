//! INVITATIONS-1..7: admins invite people by email; the invitee opens the emailed link, sees
//! who invited them to which organization, and accepts with a name and a password, which
//! creates their account (or, for a user an admin created first, sets their password).
//!
//! The token is 32 random bytes (base64url), emailed once and stored only as its SHA-256. It is
//! single-use, expires after `CX_INVITATION_DAYS`, and resending replaces it.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Duration, Utc};
use entities::enums::{Role, TeamRole};
use entities::{invitation, organization, team, team_member, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::auth::Session;
use crate::auth::Caller;
use crate::auth::users::{NewUser, hash_password, insert_user, valid_email, valid_password_as};
use crate::crypto::{hash_token, random_token};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(bulk).service(by_token).service(accept).service(resend).service(revoke);
}

pub const PENDING: &str = "PENDING";
pub const ACCEPTED: &str = "ACCEPTED";
pub const REVOKED: &str = "REVOKED";
/// Shown, never stored: a PENDING invitation past its expiry.
pub const EXPIRED: &str = "EXPIRED";

/// Most invitations one bulk request takes.
const BULK_MAX: usize = 100;

#[derive(Serialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    /// The role the invitee gets: AGENT or ADMIN (SUPER_ADMIN for users created by a super admin).
    pub role: String,
    /// The team the invitee joins as a member.
    pub team_id: Option<String>,
    /// Set when the user was created by an admin first: accepting sets their password.
    pub user_id: Option<String>,
    /// PENDING, ACCEPTED, REVOKED, or EXPIRED (pending past `expiresAt`).
    pub status: String,
    pub invited_by: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The status as shown: EXPIRED for a pending invitation past its expiry.
pub fn status_of(inv: &invitation::Model, now: DateTime<Utc>) -> &str {
    if inv.status == PENDING && inv.expires_at <= now { EXPIRED } else { &inv.status }
}

impl From<&invitation::Model> for InvitationView {
    fn from(i: &invitation::Model) -> Self {
        InvitationView {
            id: i.id.clone(),
            email: i.email.clone(),
            name: i.name.clone(),
            role: i.role.clone(),
            team_id: i.team_id.clone(),
            user_id: i.user_id.clone(),
            status: status_of(i, Utc::now()).to_owned(),
            invited_by: i.invited_by.clone(),
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// What a new invitation holds.
pub(crate) struct NewInvitation {
    pub org_id: String,
    pub invited_by: Option<String>,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub team_id: Option<String>,
    pub user_id: Option<String>,
}

/// Stores a PENDING invitation; returns it with its token (the only time the token exists in
/// plain text).
pub(crate) async fn insert_invitation(
    db: &impl ConnectionTrait,
    days: i64,
    new: NewInvitation,
) -> ApiResult<(invitation::Model, String)> {
    let token = random_token(32);
    let now = Utc::now();
    let inv = invitation::Model {
        id: actors::new_id(),
        org_id: new.org_id,
        email: new.email,
        name: new.name,
        role: new.role.as_str().into(),
        team_id: new.team_id,
        user_id: new.user_id,
        token_hash: hash_token(&token),
        status: PENDING.into(),
        invited_by: new.invited_by,
        expires_at: now + Duration::days(days.max(1)),
        accepted_at: None,
        created_at: now,
        updated_at: now,
    };
    let inv = invitation::ActiveModel::from(inv).reset_all().insert(db).await?;
    Ok((inv, token))
}

/// Emails the invitation: the accept link and the token itself.
pub(crate) async fn send_invitation(state: &AppState, inv: &invitation::Model, token: &str) -> ApiResult<()> {
    let org = organization::Entity::find_by_id(inv.org_id.clone())
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("organization"))?;
    let inviter = match &inv.invited_by {
        Some(id) => user::Entity::find_by_id(id.clone()).one(state.db()).await?.map(|u| u.name),
        None => None,
    };
    let link = state.link(&format!("/accept-invitation?token={token}"));
    let greeting = inv.name.as_deref().map(|n| format!("Hi {n},")).unwrap_or_else(|| "Hi,".into());
    let who = inviter.unwrap_or_else(|| "An administrator".into());
    let what = if inv.user_id.is_some() { "created an account for you" } else { "invited you to join" };
    let subject = format!("You are invited to {} on cx-inbox", org.name);
    let body = format!(
        "{greeting}\n\n{who} {what} {org} on cx-inbox, as {role}.\n\n\
         To accept, open this link and choose your password:\n{link}\n\n\
         Or enter this invitation token in the app: {token}\n\n\
         The invitation expires on {expires}.\n",
        org = org.name,
        role = inv.role,
        expires = inv.expires_at.format("%Y-%m-%d %H:%M UTC"),
    );
    state.mailer.send_with_secrets(Some(&inv.org_id), &inv.email, &subject, &body, &[token]).await?;
    Ok(())
}

/// A role an invitation may give: AGENT or ADMIN.
fn invite_role(role: Option<&str>) -> ApiResult<Role> {
    match role.map(|r| r.trim().to_uppercase()).as_deref() {
        None | Some("AGENT") => Ok(Role::Agent),
        Some("ADMIN") => Ok(Role::Admin),
        Some(_) => Err(ApiError::validation("role", "role must be AGENT or ADMIN")),
    }
}

/// An optional display name: trimmed, empty means none, at most 200 characters.
pub(crate) fn optional_name(name: Option<&str>) -> ApiResult<Option<String>> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) if n.chars().count() > 200 => Err(ApiError::validation("name", "name is at most 200 characters")),
        other => Ok(other.map(str::to_owned)),
    }
}

/// A valid email address lettre can send to.
pub(crate) fn invitable_email(email: Option<&str>) -> ApiResult<String> {
    let email = valid_email(email.unwrap_or_default())?;
    if !crate::mail::deliverable(&email) {
        return Err(ApiError::validation("email", "email is not a deliverable address"));
    }
    Ok(email)
}

/// Refuses an address that already has a live account (addresses are unique across the
/// platform; a deleted user's address is free again).
pub(crate) async fn ensure_no_account(db: &impl ConnectionTrait, email: &str) -> ApiResult<()> {
    let live = user::Entity::find().filter(user::Column::Email.eq(email)).filter(user::Column::DeletedAt.is_null());
    if live.one(db).await?.is_some() {
        return Err(ApiError::Conflict("a user with this email already exists".into()));
    }
    Ok(())
}

async fn find(state: &AppState, org_id: &str, id: &str) -> ApiResult<invitation::Model> {
    invitation::Entity::find_by_id(id.to_owned())
        .filter(invitation::Column::OrgId.eq(org_id))
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("invitation"))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// PENDING, ACCEPTED, REVOKED or EXPIRED.
    pub status: Option<String>,
}

/// List the organization's invitations, newest first (admin only).
#[utoipa::path(tag = "invitations", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Data<Vec<InvitationView>>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
#[get("/invitations")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let wanted = match q.status.as_deref().map(|s| s.trim().to_uppercase()) {
        None => None,
        Some(s) if [PENDING, ACCEPTED, REVOKED, EXPIRED].contains(&s.as_str()) => Some(s),
        Some(_) => return Err(ApiError::validation("status", "status must be PENDING, ACCEPTED, REVOKED or EXPIRED")),
    };
    let all = invitation::Entity::find()
        .filter(invitation::Column::OrgId.eq(caller.org_id.clone()))
        .order_by_desc(invitation::Column::CreatedAt)
        .order_by_desc(invitation::Column::Id)
        .all(state.db())
        .await?;
    let out: Vec<InvitationView> =
        all.iter().map(InvitationView::from).filter(|v| wanted.as_deref().is_none_or(|w| v.status == w)).collect();
    Ok(HttpResponse::Ok().json(Data::new(out)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteRequest {
    pub email: Option<String>,
    /// AGENT (default) or ADMIN.
    pub role: Option<String>,
    pub name: Option<String>,
    /// An active team of the organization the invitee joins as a member.
    pub team_id: Option<String>,
}

/// Validates, stores and emails one invitation. If the mail cannot be sent the invitation is
/// removed again, so the request can simply be retried.
async fn invite(state: &AppState, caller: &Caller, req: &InviteRequest) -> ApiResult<invitation::Model> {
    let email = invitable_email(req.email.as_deref())?;
    let role = invite_role(req.role.as_deref())?;
    let name = optional_name(req.name.as_deref())?;
    let team_id = match req.team_id.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(super::teams::active_team(state, &caller.org_id, t, "teamId").await?.id),
        None => None,
    };
    ensure_no_account(state.db(), &email).await?;
    let pending = invitation::Entity::find()
        .filter(invitation::Column::OrgId.eq(caller.org_id.clone()))
        .filter(invitation::Column::Email.eq(email.clone()))
        .filter(invitation::Column::Status.eq(PENDING))
        .filter(invitation::Column::ExpiresAt.gt(Utc::now()))
        .one(state.db())
        .await?;
    if pending.is_some() {
        return Err(ApiError::Conflict("this address already has a pending invitation; resend it instead".into()));
    }
    let new = NewInvitation {
        org_id: caller.org_id.clone(),
        invited_by: caller.user_id.clone(),
        email,
        name,
        role,
        team_id,
        user_id: None,
    };
    let (inv, token) = insert_invitation(state.db(), state.config.invitation_days, new).await?;
    if let Err(e) = send_invitation(state, &inv, &token).await {
        invitation::Entity::delete_by_id(inv.id.clone()).exec(state.db()).await?;
        return Err(e);
    }
    tracing::info!(org_id = %inv.org_id, invitation_id = %inv.id, "invitation sent");
    Ok(inv)
}

/// Invite someone by email (admin only).
#[utoipa::path(tag = "invitations", security(("bearer" = [])), request_body = InviteRequest,
    responses(
        (status = 201, body = Data<InvitationView>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "The address has an account or a pending invitation", body = crate::error::ErrorBody),
        (status = 503, description = "The mail could not be sent; nothing was kept", body = crate::error::ErrorBody),
    ))]
#[post("/invitations")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<InviteRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let inv = invite(&state, &caller, &body).await?;
    Ok(HttpResponse::Created().json(Data::new(InvitationView::from(&inv))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInviteRequest {
    /// 1 to 100 invitations.
    #[schema(value_type = Vec<InviteRequest>)]
    pub invitations: Vec<serde_json::Value>,
}

/// Why one item of a bulk request failed.
#[derive(Serialize, ToSchema, Clone)]
pub struct ItemError {
    /// The error code, as in error bodies.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<&ApiError> for ItemError {
    fn from(e: &ApiError) -> Self {
        ItemError { code: e.code().into(), message: e.public_message(), field: e.field().map(str::to_owned) }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BulkInviteResult {
    /// The address as given.
    pub email: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<InvitationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemError>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkInviteReport {
    pub created: usize,
    pub failed: usize,
    /// One per item, in the order given.
    pub results: Vec<BulkInviteResult>,
}

/// Invite several people at once (admin only). Each address succeeds or fails on its own.
#[utoipa::path(tag = "invitations", security(("bearer" = [])), request_body = BulkInviteRequest,
    responses((status = 200, body = Data<BulkInviteReport>), (status = 400, description = "No items, or more than 100", body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
#[post("/invitations/bulk")]
pub async fn bulk(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<BulkInviteRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let items = &body.invitations;
    if items.is_empty() || items.len() > BULK_MAX {
        return Err(ApiError::validation("invitations", format!("invitations must hold 1 to {BULK_MAX} items")));
    }
    // A team the organization does not have is a fault of the request, not of one address.
    for (i, item) in items.iter().enumerate() {
        if let Some(team) = item.get("teamId").and_then(|t| t.as_str()).map(str::trim).filter(|t| !t.is_empty()) {
            super::teams::active_team(&state, &caller.org_id, team, &format!("invitations[{i}].teamId")).await?;
        }
    }
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let email = item.get("email").and_then(|e| e.as_str()).unwrap_or_default().to_owned();
        let outcome = match serde_json::from_value::<InviteRequest>(item.clone()) {
            Ok(req) => invite(&state, &caller, &req).await,
            Err(e) => Err(ApiError::validation("invitations", format!("not an invitation: {e}"))),
        };
        results.push(match outcome {
            Ok(inv) => BulkInviteResult { email, ok: true, invitation: Some((&inv).into()), error: None },
            Err(e) => BulkInviteResult { email, ok: false, invitation: None, error: Some((&e).into()) },
        });
    }
    let created = results.iter().filter(|r| r.ok).count();
    let failed = results.len() - created;
    Ok(HttpResponse::Ok().json(Data::new(BulkInviteReport { created, failed, results })))
}

/// Gives a pending invitation a new token and expiry and mails it again; the old token stops
/// working.
pub(crate) async fn renew(state: &AppState, inv: invitation::Model) -> ApiResult<invitation::Model> {
    let token = random_token(32);
    let now = Utc::now();
    let mut am = inv.into_active_model();
    am.token_hash = Set(hash_token(&token));
    am.expires_at = Set(now + Duration::days(state.config.invitation_days.max(1)));
    am.updated_at = Set(now);
    let inv = am.update(state.db()).await?;
    send_invitation(state, &inv, &token).await?;
    Ok(inv)
}

/// Resend a pending (or expired) invitation with a new token and expiry (admin only).
#[utoipa::path(tag = "invitations", security(("bearer" = [])), params(("id" = String, Path, description = "Invitation id")),
    responses(
        (status = 200, body = Data<InvitationView>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Accepted or revoked", body = crate::error::ErrorBody),
        (status = 503, description = "The mail could not be sent", body = crate::error::ErrorBody),
    ))]
#[post("/invitations/{id}/resend")]
pub async fn resend(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let inv = find(&state, &caller.org_id, &id).await?;
    if inv.status != PENDING {
        return Err(ApiError::Conflict(format!("the invitation is {}; only pending ones are resent", inv.status)));
    }
    let inv = renew(&state, inv).await?;
    Ok(HttpResponse::Ok().json(Data::new(InvitationView::from(&inv))))
}

/// Revoke a pending invitation (admin only); its token stops working.
#[utoipa::path(tag = "invitations", security(("bearer" = [])), params(("id" = String, Path, description = "Invitation id")),
    responses(
        (status = 200, body = Data<InvitationView>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Already accepted or revoked", body = crate::error::ErrorBody),
    ))]
#[delete("/invitations/{id}")]
pub async fn revoke(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let inv = find(&state, &caller.org_id, &id).await?;
    let now = Utc::now();
    let changed = invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, sea_orm::sea_query::Expr::value(REVOKED))
        .col_expr(invitation::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .filter(invitation::Column::Id.eq(inv.id.clone()))
        .filter(invitation::Column::Status.eq(PENDING))
        .exec(state.db())
        .await?;
    if changed.rows_affected != 1 {
        return Err(ApiError::Conflict(format!("the invitation is {}; only pending ones are revoked", inv.status)));
    }
    let inv = invitation::Model { status: REVOKED.into(), updated_at: now, ..inv };
    Ok(HttpResponse::Ok().json(Data::new(InvitationView::from(&inv))))
}

/// The pending invitation a token belongs to: 404 unknown, revoked or used; 410 expired.
async fn by_token_hash(state: &AppState, token: &str) -> ApiResult<invitation::Model> {
    let inv = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(hash_token(token.trim())))
        .one(state.db())
        .await?
        .filter(|i| i.status != REVOKED)
        .ok_or(ApiError::NotFound("invitation"))?;
    Ok(inv)
}

fn gone() -> ApiError {
    ApiError::Gone("the invitation has expired; ask for a new one".into())
}

/// What the invitee sees before accepting.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationPreview {
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub organization_name: String,
    pub inviter_name: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Details of an invitation by its token (public).
#[utoipa::path(tag = "invitations", params(("token" = String, Path, description = "The emailed token")),
    responses(
        (status = 200, body = Data<InvitationPreview>),
        (status = 404, description = "Unknown, revoked or already used", body = crate::error::ErrorBody),
        (status = 410, description = "Expired", body = crate::error::ErrorBody),
    ))]
#[get("/invitations/token/{token}")]
pub async fn by_token(state: web::Data<AppState>, token: web::Path<String>) -> ApiResult<HttpResponse> {
    let inv = by_token_hash(&state, &token).await?;
    if inv.status != PENDING {
        return Err(ApiError::NotFound("invitation"));
    }
    if inv.expires_at <= Utc::now() {
        return Err(gone());
    }
    let org = organization::Entity::find_by_id(inv.org_id.clone())
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("invitation"))?;
    let inviter_name = match &inv.invited_by {
        Some(id) => user::Entity::find_by_id(id.clone()).one(state.db()).await?.map(|u| u.name),
        None => None,
    };
    Ok(HttpResponse::Ok().json(Data::new(InvitationPreview {
        email: inv.email,
        name: inv.name,
        role: inv.role,
        organization_name: org.name,
        inviter_name,
        expires_at: inv.expires_at,
    })))
}

#[derive(Deserialize, ToSchema)]
pub struct AcceptRequest {
    /// Required unless the invitation already names the person.
    pub name: Option<String>,
    /// At least 8 characters.
    pub password: String,
}

/// Accept an invitation (public): creates the account (or sets the password of the user an
/// admin created), joins the invitation's team, and logs in. Each token works once.
#[utoipa::path(tag = "invitations", params(("token" = String, Path, description = "The emailed token")), request_body = AcceptRequest,
    responses(
        (status = 201, body = Data<Session>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, description = "Unknown or revoked", body = crate::error::ErrorBody),
        (status = 409, description = "Already accepted, or the address has an account by now", body = crate::error::ErrorBody),
        (status = 410, description = "Expired", body = crate::error::ErrorBody),
    ))]
#[post("/invitations/accept/{token}")]
pub async fn accept(
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Json<AcceptRequest>,
) -> ApiResult<HttpResponse> {
    let inv = by_token_hash(&state, &token).await?;
    if inv.status == ACCEPTED {
        return Err(ApiError::Conflict("the invitation was already accepted; log in instead".into()));
    }
    let now = Utc::now();
    if inv.expires_at <= now {
        return Err(gone());
    }
    let existing = match &inv.user_id {
        Some(id) => {
            Some(super::auth::active_user(&state, &inv.org_id, id).await?.ok_or(ApiError::NotFound("invitation"))?)
        }
        None => None,
    };
    if existing.as_ref().is_some_and(|u| u.password_hash.is_some()) {
        return Err(ApiError::Conflict("this account already has a password; log in instead".into()));
    }
    let name = optional_name(body.name.as_deref())?
        .or_else(|| inv.name.clone())
        .or_else(|| existing.as_ref().map(|u| u.name.clone()).filter(|n| !n.is_empty()))
        .ok_or_else(|| ApiError::validation("name", "name is required"))?;
    valid_password_as("password", &body.password)?;
    if existing.is_none() {
        ensure_no_account(state.db(), &inv.email).await?;
    }
    let hash = hash_password(body.password.clone()).await?;

    let txn = state.rt.db.begin_write().await?;
    // Claimed only while still pending: of two concurrent accepts, one wins.
    let claimed = invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, sea_orm::sea_query::Expr::value(ACCEPTED))
        .col_expr(invitation::Column::AcceptedAt, sea_orm::sea_query::Expr::value(Some(now)))
        .col_expr(invitation::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .filter(invitation::Column::Id.eq(inv.id.clone()))
        .filter(invitation::Column::Status.eq(PENDING))
        .exec(&*txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(ApiError::Conflict("the invitation was already accepted; log in instead".into()));
    }
    let user = match existing {
        Some(u) => {
            let mut am = u.into_active_model();
            am.name = Set(name);
            am.password_hash = Set(Some(hash));
            am.updated_at = Set(now);
            am.update(&*txn).await?
        }
        None => {
            let role = Role::parse(&inv.role).unwrap_or(Role::Agent);
            let new = NewUser {
                org_id: inv.org_id.clone(),
                email: inv.email.clone(),
                name,
                password_hash: Some(hash),
                role,
                max_concurrent: None,
            };
            insert_user(&*txn, new).await?
        }
    };
    if let Some(team_id) = &inv.team_id {
        let active = team::Entity::find_by_id(team_id.clone())
            .filter(team::Column::OrgId.eq(inv.org_id.clone()))
            .filter(team::Column::IsActive.eq(true))
            .one(&*txn)
            .await?
            .is_some();
        let member = team_member::Entity::find_by_id((team_id.clone(), user.id.clone())).one(&*txn).await?;
        // A team deactivated since the invitation was sent is skipped, not an error.
        if active && member.is_none() {
            team_member::ActiveModel {
                team_id: Set(team_id.clone()),
                user_id: Set(user.id.clone()),
                org_id: Set(inv.org_id.clone()),
                role: Set(TeamRole::Member.as_str().into()),
                created_at: Set(now),
            }
            .insert(&*txn)
            .await?;
        }
    }
    txn.commit().await?;
    tracing::info!(org_id = %user.org_id, user_id = %user.id, invitation_id = %inv.id, "invitation accepted");
    let s = crate::auth::sessions::start(&state, user).await?;
    Ok(super::auth::signed_in(actix_web::http::StatusCode::CREATED, s))
}
