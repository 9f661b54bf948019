//! Customer satisfaction ratings: the report (admins) and one conversation's rating.

use actix_web::{HttpResponse, get, web};
use actors::conversation::csat::RatingView;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::pagination::{Pagination, numbered};
use crate::auth::Caller;
use crate::csat::{self, Filter, Summary};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(report).service(of_conversation);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportQuery {
    /// Only ratings of this inbox.
    inbox_id: Option<String>,
    /// Only ratings of conversations this agent had.
    assigned_to: Option<String>,
    /// Rated at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Rated before (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// 1-based page, default 1.
    page: Option<u64>,
    /// Default 50, at most 100.
    limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct CsatReport {
    pub data: Vec<RatingView>,
    pub pagination: Pagination,
    /// Over every rating that matches, not just this page.
    pub summary: Summary,
}

/// Satisfaction ratings, newest first, with their summary (admin only).
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(ReportQuery),
    responses((status = 200, body = CsatReport), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody))
)]
#[get("/csat")]
pub async fn report(state: web::Data<AppState>, caller: Caller, q: web::Query<ReportQuery>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let q = q.into_inner();
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from >= to
    {
        return Err(ApiError::validation("to", "to must be after from"));
    }
    let (page, limit, offset) = numbered(q.page, q.limit, super::pagination::DEFAULT_LIMIT)?;
    let filter = Filter { inbox_id: q.inbox_id, assigned_to: q.assigned_to, from: q.from, to: q.to };
    let (data, summary) = csat::report(state.db(), &caller.org_id, &filter, limit, offset).await?;
    let pagination = Pagination::new(page, limit, summary.count);
    Ok(HttpResponse::Ok().json(CsatReport { data, pagination, summary }))
}

/// The customer's satisfaction rating of a conversation; `data` is null when it has none.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Data<Option<RatingView>>), (status = 404, body = crate::error::ErrorBody))
)]
#[get("/conversations/{id}/csat")]
pub async fn of_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let rating = csat::of_conversation(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(rating)))
}
