//! WHATSAPP-ACCOUNTS-9..12: the alerts Meta sent about the organization's business accounts and
//! numbers, how many nobody acknowledged, and acknowledging them.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::by;
use crate::api::Data;
use crate::api::failed_messages::Pagination;
use crate::auth::Caller;
use crate::channels::whatsapp::alerts::{self, AlertView};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(unread_count).service(acknowledge_all).service(acknowledge);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AlertsQuery {
    /// `true`: only acknowledged alerts; `false`: only the others; absent: all.
    acknowledged: Option<String>,
    /// 1-based page, default 1.
    page: Option<u64>,
    /// Default 20, at most 100.
    limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertsPage {
    pub data: Vec<AlertView>,
    pub pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
pub struct Count {
    pub count: u64,
}

/// The organization's account alerts, newest first.
#[utoipa::path(tag = "whatsapp-accounts", security(("bearer" = [])), params(AlertsQuery), responses((status = 200, body = AlertsPage), (status = 400, body = crate::error::ErrorBody)))]
#[get("/whatsapp-accounts/alerts")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<AlertsQuery>) -> ApiResult<HttpResponse> {
    let acknowledged = match q.acknowledged.as_deref() {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::validation("acknowledged", "acknowledged must be true or false")),
    };
    let (page, limit) = (q.page.unwrap_or(1), crate::api::pagination::limit(q.limit.or(Some(20)))?);
    let skip = crate::api::pagination::offset(page, limit)?;
    let (data, total) = alerts::list(state.db(), &caller.org_id, acknowledged, skip, limit).await?;
    let pagination = Pagination { page, limit, total, total_pages: total.div_ceil(limit) };
    Ok(HttpResponse::Ok().json(AlertsPage { data, pagination }))
}

/// How many alerts nobody acknowledged.
#[utoipa::path(tag = "whatsapp-accounts", security(("bearer" = [])), responses((status = 200, body = Data<Count>)))]
#[get("/whatsapp-accounts/alerts/unread-count")]
pub async fn unread_count(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let count = alerts::unread_count(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(Count { count })))
}

/// Acknowledge an alert (admin only); who and when are kept. Acknowledging again changes
/// nothing.
#[utoipa::path(
    tag = "whatsapp-accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Alert id")),
    responses((status = 200, body = Data<AlertView>), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody))
)]
#[post("/whatsapp-accounts/alerts/{id}/acknowledge")]
pub async fn acknowledge(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let alert = alerts::acknowledge(state.db(), &caller.org_id, &by(&caller), &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(alert)))
}

/// Acknowledge every alert not yet acknowledged (admin only); answers how many.
#[utoipa::path(tag = "whatsapp-accounts", security(("bearer" = [])), responses((status = 200, body = Data<Count>), (status = 403, body = crate::error::ErrorBody)))]
#[post("/whatsapp-accounts/alerts/acknowledge-all")]
pub async fn acknowledge_all(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let count = alerts::acknowledge_all(state.db(), &caller.org_id, &by(&caller)).await?;
    Ok(HttpResponse::Ok().json(Data::new(Count { count })))
}
