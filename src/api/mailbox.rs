//! The dev mailbox: with no `CX_SMTP_URL`, mail is kept in the database instead of sent, and
//! admins read it here (invitation links, login codes). Gone (404) once SMTP is configured.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use entities::enums::Role;
use entities::mail;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(mailbox);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailView {
    pub id: String,
    pub org_id: Option<String>,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<mail::Model> for MailView {
    fn from(m: mail::Model) -> Self {
        MailView {
            id: m.id,
            org_id: m.org_id,
            to: m.to_address,
            subject: m.subject,
            body: m.body,
            created_at: m.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct MailboxQuery {
    /// Only mail to this address.
    pub to: Option<String>,
    /// At most this many, 1 to 200 (default 50).
    pub limit: Option<u64>,
}

/// Mail kept by the dev mailbox, newest first: a SUPER_ADMIN sees all of it, an ADMIN their
/// organization's. Only while no SMTP server is configured.
#[utoipa::path(
    tag = "dev",
    security(("bearer" = [])),
    params(MailboxQuery),
    responses(
        (status = 200, body = Data<Vec<MailView>>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, description = "Mail goes out through SMTP: there is no dev mailbox", body = crate::error::ErrorBody),
    )
)]
#[get("/dev/mailbox")]
pub async fn mailbox(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<MailboxQuery>,
) -> ApiResult<HttpResponse> {
    // Only where the simulation endpoints are on (`CX_DEV_ENDPOINTS`; SQLite installs by
    // default): a production server without SMTP does not hand its mail to admins.
    if !state.mailer.is_dev() || !state.config.dev_endpoints_on() {
        return Err(ApiError::NotFound("route"));
    }
    caller.require_admin()?;
    let me = match &caller.user_id {
        Some(id) => crate::auth::users::active_user(state.db(), &caller.org_id, id).await?.map(|u| u.email),
        None => None,
    };
    let scope = (caller.role != Role::SuperAdmin).then_some(caller.org_id.as_str());
    let mails = crate::mail::kept(state.db(), scope, q.to.as_deref(), q.limit.unwrap_or(50), me.as_deref()).await?;
    let views: Vec<MailView> = mails.into_iter().map(MailView::from).collect();
    Ok(HttpResponse::Ok().json(Data::new(views)))
}
