//! [`Caller`]: who is calling, from `Authorization: Bearer <access token | API key>`.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use chrono::Utc;
use entities::enums::Role;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

use crate::auth::tokens::{self, API_KEY_PREFIX};
use crate::auth::users::active_user;
use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated caller. Every handler that takes one is authenticated; roles are checked
/// with [`Caller::require_admin`].
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user, or for an API key the admin who created it (if still known).
    pub user_id: Option<String>,
    pub org_id: String,
    pub role: Role,
    /// Set when the caller used an API key.
    pub api_key_id: Option<String>,
}

impl Caller {
    /// "admin only": ADMIN or SUPER_ADMIN of the organization.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role.is_admin() { Ok(()) } else { Err(ApiError::Forbidden("this action needs an admin".into())) }
    }

    /// The acting user, for actions that need a person (takeover, replies).
    pub fn require_user(&self) -> Result<&str, ApiError> {
        self.user_id
            .as_deref()
            .ok_or_else(|| ApiError::Forbidden("this action needs a user's token, not an API key".into()))
    }
}

/// The token from an `Authorization: Bearer …` header.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Resolves an access token or API key to a caller.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    if token.starts_with(API_KEY_PREFIX) {
        let key = tokens::find_api_key(state.db(), token)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("the API key is invalid, revoked or expired".into()))?;
        let mut role = key.role;
        // The key acts for its creator only while the creator is an active user, and never with
        // more rights than the creator has now: an admin demoted to agent takes their keys along.
        let creator = match &key.created_by {
            Some(id) => active_user(state.db(), &key.org_id, id).await?,
            None => None,
        };
        if let Some(c) = &creator {
            let theirs = c.role;
            let rank = |r: Role| match r {
                Role::Agent => 0,
                Role::Admin => 1,
                Role::SuperAdmin => 2,
            };
            if rank(theirs) < rank(role) {
                role = theirs;
            }
        }
        let creator = creator.map(|u| u.id);
        let caller = Caller { user_id: creator, org_id: key.org_id.clone(), role, api_key_id: Some(key.id.clone()) };
        // Record use at most once a minute per key, so a busy integration does not write per call.
        if key.last_used_at.is_none_or(|t| Utc::now() - t > chrono::Duration::minutes(1)) {
            let mut am = key.into_active_model();
            am.last_used_at = Set(Some(Utc::now()));
            if let Err(e) = am.update(state.db()).await {
                tracing::debug!(error = %e, "could not record API key use");
            }
        }
        return Ok(caller);
    }
    let claims = state
        .jwt
        .verify(token)
        .ok_or_else(|| ApiError::Unauthorized("the access token is invalid or expired".into()))?;
    // The token is only as good as its user: a deleted user's tokens stop working at once, and
    // the role is the current one, not the one at login.
    let user = active_user(state.db(), &claims.org, &claims.sub)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the user no longer exists".into()))?;
    // Sessions the user ended (a new password, signing out everywhere) end here too.
    let issued_ms = if claims.iat_ms > 0 { claims.iat_ms } else { claims.iat * 1000 };
    if user.sessions_valid_after.is_some_and(|t| issued_ms < t.timestamp_millis()) {
        return Err(ApiError::Unauthorized("this session has ended; sign in again".into()));
    }
    let role = user.role;
    Ok(Caller { user_id: Some(user.id), org_id: user.org_id, role, api_key_id: None })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let token = token.ok_or_else(|| ApiError::Unauthorized("missing Authorization: Bearer token".into()))?;
            authenticate(&state, &token).await
        })
    }
}
