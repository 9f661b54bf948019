//! Sessions: signing in (password, registration), refreshing, signing out, and the password
//! changes that end every earlier session. A session is a short-lived access token (JWT) and a
//! single-use refresh token whose successors form a family.

use chrono::Utc;
use entities::enums::Role;
use entities::{organization, refresh_token, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};

use crate::auth::tokens;
use crate::auth::users::{
    active_user, hash_password, live_by_email, organization, register_organization, required, valid_email,
    valid_password_as, verify_password,
};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// A session as issued: its tokens, and who they belong to.
pub struct SignedIn {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: user::Model,
    pub org: organization::Model,
}

/// A new session (a new refresh-token family) for `user`.
pub async fn start(state: &AppState, user: user::Model) -> Result<SignedIn> {
    let org = organization(state.db(), &user.org_id).await?;
    start_in(state, user, org).await
}

/// [`start`] when the organization is at hand.
async fn start_in(state: &AppState, user: user::Model, org: organization::Model) -> Result<SignedIn> {
    let refresh_token = tokens::issue_refresh(state.db(), &user, None, state.config.refresh_token_days).await?;
    around(state, user, org, refresh_token)
}

/// A session around an already issued refresh token.
fn around(state: &AppState, user: user::Model, org: organization::Model, refresh_token: String) -> Result<SignedIn> {
    let access_token =
        state.jwt.issue(&user.id, &user.org_id, user.role).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(SignedIn { access_token, refresh_token, expires_in: state.jwt.ttl, user, org })
}

/// What self-service registration gives.
pub struct Registration {
    pub company_name: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

/// Creates an organization and its first ADMIN, and signs them in; 409 when the email has a
/// live account.
pub async fn register(state: &AppState, r: Registration) -> Result<SignedIn> {
    let company = required("companyName", &r.company_name, 200)?.to_owned();
    let name = required("name", &r.name, 200)?.to_owned();
    let email = valid_email(&r.email)?;
    valid_password_as("password", &r.password)?;
    // Checked before the (slow) hash as well as inside the registration.
    if live_by_email(state.db(), &email).await?.is_some() {
        return Err(Error::Conflict("an account with this email already exists".into()));
    }
    let hash = hash_password(r.password).await?;
    let (org, user) = register_organization(&state.rt.db, company, name, email, hash, Role::Admin).await?;
    start_in(state, user, org).await
}

/// A valid Argon2id hash to verify against when the email is unknown, so a wrong email takes
/// as long as a wrong password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3vJm1ZL9cXhFSmLrKXLkBIyP3nB9l4b8lVq5Lr2ZbDY";

/// Signs in with email and password; 401 for a wrong pair, 429 while the address is throttled.
pub async fn login(state: &AppState, email: &str, password: String) -> Result<SignedIn> {
    let email = email.trim().to_lowercase();
    throttled(state, &email)?;
    let found = live_by_email(state.db(), &email).await?;
    let stored = found.as_ref().and_then(|u| u.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.to_owned());
    let ok = verify_password(stored, password).await?;
    let user = match found {
        Some(u) if ok && u.password_hash.is_some() => u,
        _ => {
            state.sign_in_throttle.failed(&email);
            return Err(Error::Unauthenticated("wrong email or password".into()));
        }
    };
    state.sign_in_throttle.succeeded(&email);
    start(state, user).await
}

/// 429 while `email` has failed to sign in too often lately (see [`crate::auth::throttle`]).
pub(crate) fn throttled(state: &AppState, email: &str) -> Result<()> {
    match state.sign_in_throttle.blocked(email) {
        Some(retry_after) => Err(Error::Limited {
            message: "too many failed sign-ins for this address; try again later".into(),
            retry_after,
        }),
        None => Ok(()),
    }
}

/// Exchanges a refresh token for a new session in the same family. Each token works once;
/// presenting a used one revokes its whole family.
pub async fn refresh(state: &AppState, presented: &str) -> Result<SignedIn> {
    let txn = state.rt.db.begin_write().await?;
    let (user, family) = match tokens::spend_refresh(&*txn, presented.trim()).await? {
        tokens::Spent::Fresh(user, family) => (*user, family),
        tokens::Spent::Invalid => {
            return Err(Error::Unauthenticated("the refresh token is invalid or expired".into()));
        }
        tokens::Spent::Reused => {
            txn.commit().await?; // the family's revocation stands
            return Err(Error::Unauthenticated("the refresh token was already used; sign in again".into()));
        }
    };
    // The successor is issued in the same transaction, while the user's row is held.
    let refresh_token = tokens::issue_refresh(&*txn, &user, Some(family), state.config.refresh_token_days).await?;
    txn.commit().await?;
    let org = organization(state.db(), &user.org_id).await?;
    around(state, user, org, refresh_token)
}

/// Ends sessions of the user: with `everywhere`, every one (access tokens included); otherwise
/// the family of `refresh_token`, this device's. Someone else's token, or an unknown one, ends
/// nothing and says nothing about it.
pub async fn logout(db: &actors::Db, user_id: &str, everywhere: bool, refresh_token: Option<&str>) -> Result<()> {
    let now = Utc::now();
    let mut revoke = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Some(now)))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null());
    let presented = refresh_token.map(str::trim).filter(|t| !t.is_empty());
    let txn = db.begin_write().await?;
    if everywhere {
        user::Entity::update_many()
            .col_expr(user::Column::SessionsValidAfter, Expr::value(Some(now)))
            .filter(user::Column::Id.eq(user_id))
            .exec(&*txn)
            .await?;
    } else {
        let Some(presented) = presented else {
            return Err(Error::invalid("refreshToken", "give this device's refreshToken, or everywhere: true"));
        };
        let family = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(crate::crypto::hash_token(presented)))
            .filter(refresh_token::Column::UserId.eq(user_id))
            .one(&*txn)
            .await?
            .map(|t| t.family_id);
        let Some(family) = family else {
            return Ok(());
        };
        revoke = revoke.filter(refresh_token::Column::FamilyId.eq(family));
    }
    revoke.exec(&*txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Sets the user's password (a user who signs in with codes sets their first one this way); an
/// account that has a password must give it as `current`. Every earlier session ends; the
/// answer is a new one.
pub async fn set_password(
    state: &AppState,
    org_id: &str,
    user_id: &str,
    password: String,
    current: Option<String>,
) -> Result<SignedIn> {
    valid_password_as("password", &password)?;
    let user = active_user(state.db(), org_id, user_id).await?.ok_or(Error::NotFound("user"))?;
    if let Some(stored) = user.password_hash.clone() {
        let given = current.unwrap_or_default();
        if given.is_empty() {
            return Err(Error::invalid("currentPassword", "the account has a password: give it to change it"));
        }
        if !verify_password(stored, given).await? {
            return Err(Error::invalid("currentPassword", "the current password is wrong"));
        }
    }
    let hash = hash_password(password).await?;
    let user = replace_password(&state.rt.db, user, hash).await?;
    start(state, user).await
}

/// Changes the password of `user`, who proves it with `current`: 400 on `currentPassword` when
/// it is wrong (or the account has none), on `newPassword` when the new one is too weak. Every
/// earlier session ends; the answer is a new one.
pub async fn change_password(state: &AppState, user: user::Model, current: String, new: String) -> Result<SignedIn> {
    let ok = match user.password_hash.clone() {
        Some(stored) => verify_password(stored, current).await?,
        None => false,
    };
    if !ok {
        return Err(Error::invalid("currentPassword", "the current password is wrong"));
    }
    valid_password_as("newPassword", &new)?;
    let hash = hash_password(new).await?;
    let user = replace_password(&state.rt.db, user, hash).await?;
    start(state, user).await
}

/// Stores a new password hash for `user` and ends every session from before: refresh tokens
/// revoked, earlier access tokens refused (`sessions_valid_after`). The caller issues the new one.
pub async fn replace_password(db: &actors::Db, user: user::Model, hash: String) -> Result<user::Model> {
    let now = Utc::now();
    let txn = db.begin_write().await?;
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
