//! Invitations: admins invite people by email; the invitee opens the emailed link, sees who
//! invited them to which organization, and accepts with a name and a password, which creates
//! their account (or, for a user an admin created first, sets their password).
//!
//! The token is 32 random bytes (base64url), emailed once and stored only as its SHA-256. It is
//! single-use, expires after `CX_INVITATION_DAYS`, and resending replaces it.

use chrono::{DateTime, Duration, Utc};
use entities::enums::{Role, TeamRole};
use entities::{invitation, team, team_member, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};

use crate::auth::membership::{active_team, add_member};
use crate::auth::sessions::{self, SignedIn};
use crate::auth::users::{
    NewUser, active_user, hash_password, insert_user, organization, valid_email, valid_password_as,
};
use crate::crypto::{hash_token, random_token};
use crate::domain::{Error, Result};
use crate::state::AppState;
use entities::enums::InvitationStatus;

pub const PENDING: InvitationStatus = InvitationStatus::Pending;
pub const ACCEPTED: InvitationStatus = InvitationStatus::Accepted;
pub const REVOKED: InvitationStatus = InvitationStatus::Revoked;
/// Shown, never stored: a PENDING invitation past its expiry.
pub const EXPIRED: &str = "EXPIRED";

/// Most invitations one bulk request takes.
pub const BULK_MAX: usize = 100;

/// The status as shown: EXPIRED for a pending invitation past its expiry.
pub fn status_of(inv: &invitation::Model, now: DateTime<Utc>) -> &'static str {
    if inv.status == PENDING && inv.expires_at <= now { EXPIRED } else { inv.status.as_str() }
}

/// What a new invitation holds.
pub struct NewInvitation {
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
pub async fn insert(db: &impl ConnectionTrait, days: i64, new: NewInvitation) -> Result<(invitation::Model, String)> {
    let token = random_token(32);
    let now = Utc::now();
    let inv = invitation::Model {
        id: actors::new_id(),
        org_id: new.org_id,
        email: new.email,
        name: new.name,
        role: new.role,
        team_id: new.team_id,
        user_id: new.user_id,
        token_hash: hash_token(&token),
        status: PENDING,
        invited_by: new.invited_by,
        expires_at: now + Duration::days(days.max(1)),
        accepted_at: None,
        created_at: now,
        updated_at: now,
    };
    let inv = invitation::ActiveModel::from(inv).reset_all().insert(db).await?;
    Ok((inv, token))
}

/// The name of the user who sent the invitation, if they are still known.
async fn inviter_name(db: &impl ConnectionTrait, inv: &invitation::Model) -> Result<Option<String>> {
    Ok(match &inv.invited_by {
        Some(id) => user::Entity::find_by_id(id.clone()).one(db).await?.map(|u| u.name),
        None => None,
    })
}

/// Emails the invitation: the accept link and the token itself.
pub async fn send(state: &AppState, inv: &invitation::Model, token: &str) -> Result<()> {
    let org = organization(state.db(), &inv.org_id).await?;
    let inviter = inviter_name(state.db(), inv).await?;
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

/// Stores and emails an invitation; if the mail cannot be sent the invitation is removed again,
/// so the request can simply be retried.
pub async fn insert_and_send(state: &AppState, new: NewInvitation) -> Result<invitation::Model> {
    let (inv, token) = insert(state.db(), state.config.invitation_days, new).await?;
    if let Err(e) = send(state, &inv, &token).await {
        invitation::Entity::delete_by_id(inv.id.clone()).exec(state.db()).await?;
        return Err(e);
    }
    Ok(inv)
}

/// A role an invitation may give: AGENT or ADMIN.
fn invite_role(role: Option<&str>) -> Result<Role> {
    match role.map(|r| r.trim().to_uppercase()).as_deref() {
        None | Some("AGENT") => Ok(Role::Agent),
        Some("ADMIN") => Ok(Role::Admin),
        Some(_) => Err(Error::invalid("role", "role must be AGENT or ADMIN")),
    }
}

/// An optional display name: trimmed, empty means none, at most 200 characters.
pub fn optional_name(name: Option<&str>) -> Result<Option<String>> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) if n.chars().count() > 200 => Err(Error::invalid("name", "name is at most 200 characters")),
        other => Ok(other.map(str::to_owned)),
    }
}

/// A valid email address lettre can send to.
pub fn invitable_email(email: Option<&str>) -> Result<String> {
    let email = valid_email(email.unwrap_or_default())?;
    if !crate::mail::deliverable(&email) {
        return Err(Error::invalid("email", "email is not a deliverable address"));
    }
    Ok(email)
}

/// Refuses an address that already has a live account (addresses are unique across the
/// platform; a deleted user's address is free again).
pub async fn ensure_no_account(db: &impl ConnectionTrait, email: &str) -> Result<()> {
    if crate::auth::users::live_by_email(db, email).await?.is_some() {
        return Err(Error::Conflict("a user with this email already exists".into()));
    }
    Ok(())
}

/// One invitation of the organization.
pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<invitation::Model> {
    invitation::Entity::find_by_id(id.to_owned())
        .filter(invitation::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("invitation"))
}

/// The organization's invitations, newest first, optionally only those with a status as shown
/// (PENDING, ACCEPTED, REVOKED or EXPIRED; 400 on `status` otherwise).
pub async fn list(db: &impl ConnectionTrait, org_id: &str, status: Option<&str>) -> Result<Vec<invitation::Model>> {
    let wanted = match status.map(|s| s.trim().to_uppercase()) {
        None => None,
        Some(s) if [PENDING.as_str(), ACCEPTED.as_str(), REVOKED.as_str(), EXPIRED].contains(&s.as_str()) => Some(s),
        Some(_) => return Err(Error::invalid("status", "status must be PENDING, ACCEPTED, REVOKED or EXPIRED")),
    };
    let mut all = invitation::Entity::find()
        .filter(invitation::Column::OrgId.eq(org_id))
        .order_by_desc(invitation::Column::CreatedAt)
        .order_by_desc(invitation::Column::Id)
        .all(db)
        .await?;
    let now = Utc::now();
    all.retain(|i| wanted.as_deref().is_none_or(|w| status_of(i, now) == w));
    Ok(all)
}

/// What an admin's invitation gives, as the request spelled it.
pub struct InviteInput {
    pub email: Option<String>,
    /// AGENT (default) or ADMIN.
    pub role: Option<String>,
    pub name: Option<String>,
    /// An active team of the organization the invitee joins as a member.
    pub team_id: Option<String>,
}

/// Validates, stores and emails one invitation from `invited_by`; 409 when the address has an
/// account or a pending invitation. Nothing is kept when the mail cannot be sent.
pub async fn invite(
    state: &AppState,
    org_id: &str,
    invited_by: Option<&str>,
    input: &InviteInput,
) -> Result<invitation::Model> {
    let email = invitable_email(input.email.as_deref())?;
    let role = invite_role(input.role.as_deref())?;
    let name = optional_name(input.name.as_deref())?;
    let team_id = match input.team_id.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(active_team(state.db(), org_id, t, "teamId").await?.id),
        None => None,
    };
    ensure_no_account(state.db(), &email).await?;
    let pending = invitation::Entity::find()
        .filter(invitation::Column::OrgId.eq(org_id))
        .filter(invitation::Column::Email.eq(email.clone()))
        .filter(invitation::Column::Status.eq(PENDING))
        .filter(invitation::Column::ExpiresAt.gt(Utc::now()))
        .one(state.db())
        .await?;
    if pending.is_some() {
        return Err(Error::Conflict("this address already has a pending invitation; resend it instead".into()));
    }
    let invited_by = invited_by.map(str::to_owned);
    let new = NewInvitation { org_id: org_id.to_owned(), invited_by, email, name, role, team_id, user_id: None };
    let inv = insert_and_send(state, new).await?;
    tracing::info!(org_id = %inv.org_id, invitation_id = %inv.id, "invitation sent");
    Ok(inv)
}

/// One item of a bulk invitation.
pub struct BulkItem {
    /// The `teamId` the item holds, read even when the item is not a valid invitation.
    pub team_id: Option<String>,
    /// The invitation, or why the item is not one.
    pub input: std::result::Result<InviteInput, String>,
}

/// Invites several people at once: 400 for no items, more than [`BULK_MAX`], or a team the
/// organization does not have (a fault of the request, not of one address); otherwise each item
/// succeeds or fails on its own, in order.
pub async fn invite_many(
    state: &AppState,
    org_id: &str,
    invited_by: Option<&str>,
    items: Vec<BulkItem>,
) -> Result<Vec<Result<invitation::Model>>> {
    if items.is_empty() || items.len() > BULK_MAX {
        return Err(Error::invalid("invitations", format!("invitations must hold 1 to {BULK_MAX} items")));
    }
    for (i, item) in items.iter().enumerate() {
        if let Some(team) = item.team_id.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            active_team(state.db(), org_id, team, &format!("invitations[{i}].teamId")).await?;
        }
    }
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        results.push(match item.input {
            Ok(input) => invite(state, org_id, invited_by, &input).await,
            Err(e) => Err(Error::invalid("invitations", format!("not an invitation: {e}"))),
        });
    }
    Ok(results)
}

/// Gives a pending invitation a new token and expiry and mails it again; the old token stops
/// working.
pub async fn renew(state: &AppState, inv: invitation::Model) -> Result<invitation::Model> {
    let token = random_token(32);
    let now = Utc::now();
    let mut am = inv.into_active_model();
    am.token_hash = Set(hash_token(&token));
    am.expires_at = Set(now + Duration::days(state.config.invitation_days.max(1)));
    am.updated_at = Set(now);
    let inv = am.update(state.db()).await?;
    send(state, &inv, &token).await?;
    Ok(inv)
}

/// Resends a pending (or expired) invitation of the organization with a new token and expiry;
/// 409 when accepted or revoked.
pub async fn resend(state: &AppState, org_id: &str, id: &str) -> Result<invitation::Model> {
    let inv = get(state.db(), org_id, id).await?;
    if inv.status != PENDING {
        return Err(Error::Conflict(format!("the invitation is {}; only pending ones are resent", inv.status)));
    }
    renew(state, inv).await
}

/// Revokes a pending invitation of the organization; its token stops working. 409 when it is
/// accepted or revoked already.
pub async fn revoke(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<invitation::Model> {
    let inv = get(db, org_id, id).await?;
    let now = Utc::now();
    let changed = invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(REVOKED))
        .col_expr(invitation::Column::UpdatedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(inv.id.clone()))
        .filter(invitation::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    if changed.rows_affected != 1 {
        return Err(Error::Conflict(format!("the invitation is {}; only pending ones are revoked", inv.status)));
    }
    Ok(invitation::Model { status: REVOKED, updated_at: now, ..inv })
}

/// Revokes the pending invitations of `email` in the organization (a user created for the
/// address supersedes them), inside the caller's transaction.
pub async fn revoke_pending_of(db: &impl ConnectionTrait, org_id: &str, email: &str) -> Result<()> {
    invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(REVOKED))
        .col_expr(invitation::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(invitation::Column::OrgId.eq(org_id))
        .filter(invitation::Column::Email.eq(email))
        .filter(invitation::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    Ok(())
}

/// The invitation a token belongs to, unless revoked (404).
async fn by_token(db: &impl ConnectionTrait, token: &str) -> Result<invitation::Model> {
    invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(hash_token(token.trim())))
        .one(db)
        .await?
        .filter(|i| i.status != REVOKED)
        .ok_or(Error::NotFound("invitation"))
}

fn gone() -> Error {
    Error::Gone("the invitation has expired; ask for a new one".into())
}

/// What the invitee sees before accepting.
pub struct Preview {
    pub invitation: invitation::Model,
    pub organization_name: String,
    pub inviter_name: Option<String>,
}

/// The pending invitation of a token, for its invitee: 404 unknown, revoked or used; 410 expired.
pub async fn preview(db: &impl ConnectionTrait, token: &str) -> Result<Preview> {
    let inv = by_token(db, token).await?;
    if inv.status != PENDING {
        return Err(Error::NotFound("invitation"));
    }
    if inv.expires_at <= Utc::now() {
        return Err(gone());
    }
    let org = match organization(db, &inv.org_id).await {
        Err(Error::NotFound(_)) => Err(Error::NotFound("invitation")),
        other => other,
    }?;
    let inviter_name = inviter_name(db, &inv).await?;
    Ok(Preview { invitation: inv, organization_name: org.name, inviter_name })
}

/// Accepts an invitation: creates the account (or sets the password of the user an admin
/// created), joins the invitation's team, and signs in. Each token works once: 409 when it was
/// accepted or the address has an account by now, 410 when it expired.
pub async fn accept(state: &AppState, token: &str, name: Option<&str>, password: String) -> Result<SignedIn> {
    let inv = by_token(state.db(), token).await?;
    if inv.status == ACCEPTED {
        return Err(Error::Conflict("the invitation was already accepted; log in instead".into()));
    }
    let now = Utc::now();
    if inv.expires_at <= now {
        return Err(gone());
    }
    let existing = match &inv.user_id {
        Some(id) => Some(active_user(state.db(), &inv.org_id, id).await?.ok_or(Error::NotFound("invitation"))?),
        None => None,
    };
    if existing.as_ref().is_some_and(|u| u.password_hash.is_some()) {
        return Err(Error::Conflict("this account already has a password; log in instead".into()));
    }
    let name = optional_name(name)?
        .or_else(|| inv.name.clone())
        .or_else(|| existing.as_ref().map(|u| u.name.clone()).filter(|n| !n.is_empty()))
        .ok_or_else(|| Error::invalid("name", "name is required"))?;
    valid_password_as("password", &password)?;
    if existing.is_none() {
        ensure_no_account(state.db(), &inv.email).await?;
    }
    let hash = hash_password(password).await?;
    let user = claim(&state.rt.db, &inv, existing, name, hash).await?;
    tracing::info!(org_id = %user.org_id, user_id = %user.id, invitation_id = %inv.id, "invitation accepted");
    sessions::start(state, user).await
}

/// The writes of an accept, in one transaction: the invitation claimed (only while still
/// pending: of two concurrent accepts, one wins), the account created or given its password, and
/// the invitation's team joined.
async fn claim(
    db: &actors::Db,
    inv: &invitation::Model,
    existing: Option<user::Model>,
    name: String,
    hash: String,
) -> Result<user::Model> {
    let now = Utc::now();
    let txn = db.begin_write().await?;
    let claimed = invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(ACCEPTED))
        .col_expr(invitation::Column::AcceptedAt, Expr::value(Some(now)))
        .col_expr(invitation::Column::UpdatedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(inv.id.clone()))
        .filter(invitation::Column::Status.eq(PENDING))
        .exec(&*txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(Error::Conflict("the invitation was already accepted; log in instead".into()));
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
            let new = NewUser {
                org_id: inv.org_id.clone(),
                email: inv.email.clone(),
                name,
                password_hash: Some(hash),
                role: inv.role,
                max_concurrent: None,
            };
            insert_user(&*txn, new).await?
        }
    };
    if let Some(team_id) = &inv.team_id {
        join_invited_team(&*txn, &inv.org_id, team_id, &user.id).await?;
    }
    txn.commit().await?;
    Ok(user)
}

/// Joins the team an invitation named, unless it was deactivated since (skipped, not an error)
/// or the user is a member already.
async fn join_invited_team(txn: &impl ConnectionTrait, org_id: &str, team_id: &str, user_id: &str) -> Result<()> {
    let active = team::Entity::find_by_id(team_id.to_owned())
        .filter(team::Column::OrgId.eq(org_id))
        .filter(team::Column::IsActive.eq(true))
        .one(txn)
        .await?
        .is_some();
    let member = team_member::Entity::find_by_id((team_id.to_owned(), user_id.to_owned())).one(txn).await?;
    if active && member.is_none() {
        add_member(txn, org_id, team_id, user_id, TeamRole::Member).await?;
    }
    Ok(())
}
