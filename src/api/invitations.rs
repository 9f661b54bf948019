//! INVITATIONS-1..7: admins invite people by email; the invitee opens the emailed link, sees
//! who invited them to which organization, and accepts with a name and a password, which
//! creates their account (or, for a user an admin created first, sets their password).
//!
//! The token is 32 random bytes (base64url), emailed once and stored only as its SHA-256. It is
//! single-use, expires after `CX_INVITATION_DAYS`, and resending replaces it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use entities::invitation;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::auth::{Session, signed_in};
use crate::auth::Caller;
use crate::auth::invitations::{self as invitations, BulkItem, InviteInput, status_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(bulk).service(by_token).service(accept).service(resend).service(revoke);
}

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

impl From<&invitation::Model> for InvitationView {
    fn from(i: &invitation::Model) -> Self {
        InvitationView {
            id: i.id.clone(),
            email: i.email.clone(),
            name: i.name.clone(),
            role: i.role.to_string(),
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
    let all = invitations::list(state.db(), &caller.org_id, q.status.as_deref()).await?;
    Ok(HttpResponse::Ok().json(Data::new(all.iter().map(InvitationView::from).collect::<Vec<_>>())))
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

impl From<InviteRequest> for InviteInput {
    fn from(r: InviteRequest) -> Self {
        InviteInput { email: r.email, role: r.role, name: r.name, team_id: r.team_id }
    }
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
    let input = InviteInput::from(body.into_inner());
    let inv = invitations::invite(&state, &caller.org_id, caller.user_id.as_deref(), &input).await?;
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

impl From<crate::domain::Error> for ItemError {
    fn from(e: crate::domain::Error) -> Self {
        (&ApiError::from(e)).into()
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
    let emails: Vec<String> = body.invitations.iter().map(|i| text(i, "email").unwrap_or_default()).collect();
    let items = body.into_inner().invitations.into_iter().map(|item| BulkItem {
        team_id: text(&item, "teamId"),
        input: serde_json::from_value::<InviteRequest>(item).map(InviteInput::from).map_err(|e| e.to_string()),
    });
    let outcomes = invitations::invite_many(&state, &caller.org_id, caller.user_id.as_deref(), items.collect()).await?;
    let results: Vec<BulkInviteResult> = emails
        .into_iter()
        .zip(outcomes)
        .map(|(email, outcome)| match outcome {
            Ok(inv) => BulkInviteResult { email, ok: true, invitation: Some((&inv).into()), error: None },
            Err(e) => BulkInviteResult { email, ok: false, invitation: None, error: Some(e.into()) },
        })
        .collect();
    let created = results.iter().filter(|r| r.ok).count();
    let failed = results.len() - created;
    Ok(HttpResponse::Ok().json(Data::new(BulkInviteReport { created, failed, results })))
}

/// A string member of a JSON object.
fn text(item: &serde_json::Value, key: &str) -> Option<String> {
    item.get(key).and_then(|v| v.as_str()).map(str::to_owned)
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
    let inv = invitations::resend(&state, &caller.org_id, &id).await?;
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
    let inv = invitations::revoke(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(InvitationView::from(&inv))))
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
    let p = invitations::preview(state.db(), &token).await?;
    Ok(HttpResponse::Ok().json(Data::new(InvitationPreview {
        email: p.invitation.email,
        name: p.invitation.name,
        role: p.invitation.role.to_string(),
        organization_name: p.organization_name,
        inviter_name: p.inviter_name,
        expires_at: p.invitation.expires_at,
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
    let body = body.into_inner();
    let s = invitations::accept(&state, &token, body.name.as_deref(), body.password).await?;
    Ok(signed_in(StatusCode::CREATED, s))
}
