//! The dev mailbox: with no `CX_SMTP_URL`, mail is kept in the database instead of sent, and
//! admins read it here (invitation links, login codes). Gone (404) once SMTP is configured.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use entities::enums::Role;
use entities::mail;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
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
        Some(id) => entities::user::Entity::find_by_id(id.clone()).one(state.db()).await?.map(|u| u.email),
        None => None,
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit", "limit must be 1 to 200"));
    }
    let mut query = mail::Entity::find().filter(mail::Column::Status.eq("kept"));
    if caller.role != Role::SuperAdmin {
        query = query.filter(mail::Column::OrgId.eq(caller.org_id.clone()));
    }
    if let Some(to) = q.to.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        query = query.filter(mail::Column::ToAddress.eq(to.to_lowercase()));
    }
    let mails = query
        .order_by_desc(mail::Column::CreatedAt)
        .order_by_desc(mail::Column::Id)
        .limit(limit)
        .all(state.db())
        .await?;
    // A sign-in code is a credential: an admin reading another user's would become them.
    let views: Vec<MailView> = mails
        .into_iter()
        .map(|mut m| {
            if m.subject == crate::api::auth::SIGN_IN_SUBJECT && me.as_deref() != Some(m.to_address.as_str()) {
                m.body = "[a sign-in code: only its recipient sees it]".into();
            }
            MailView::from(m)
        })
        .collect();
    Ok(HttpResponse::Ok().json(Data::new(views)))
}
