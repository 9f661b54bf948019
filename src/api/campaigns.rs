//! CAMPAIGNS-1..11 and ANALYTICS-5: campaigns (bulk template sends) from a list or a CSV,
//! paced to the number's limits, with their progress, funnel, export and costs.

use actix_web::{HttpResponse, get, post, web};
use entities::enums::{CampaignStatus, RecipientStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::pagination::{Pagination, numbered};
use crate::auth::Caller;
use crate::campaigns::costs::{self, CampaignCost, MetaCosts};
use crate::campaigns::pricing::{Estimate, RateCard};
use crate::campaigns::recipients::{RecipientInput, RowProblem};
use crate::campaigns::stats::{self, CampaignStats, Counts, GlobalStats};
use crate::campaigns::{self, Action, BulkResult, CampaignInput, CampaignView, Created, RecipientView};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(global_stats)
        .service(meta_costs)
        .service(estimate)
        .service(pricing)
        .service(bulk)
        .service(analytics)
        .service(detail)
        .service(export)
        .service(campaign_stats)
        .service(meta_cost);
}

fn campaign_status(s: Option<&str>) -> Result<Option<CampaignStatus>, ApiError> {
    match s.map(str::to_ascii_uppercase).as_deref() {
        None | Some("") | Some("ALL") => Ok(None),
        Some(v) => CampaignStatus::parse(v).map(Some).ok_or_else(|| {
            ApiError::validation("status", "status is SCHEDULED, RUNNING, PAUSED, COMPLETED, CANCELLED or all")
        }),
    }
}

fn recipient_status(s: Option<&str>) -> Result<Option<RecipientStatus>, ApiError> {
    match s.map(str::to_ascii_uppercase).as_deref() {
        None | Some("") | Some("ALL") => Ok(None),
        Some(v) => RecipientStatus::parse(v).map(Some).ok_or_else(|| {
            ApiError::validation("status", "status is PENDING, SENT, DELIVERED, READ, FAILED, REPLIED or all")
        }),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// SCHEDULED, RUNNING, PAUSED, COMPLETED, CANCELLED or `all` (default).
    status: Option<String>,
    page: Option<u64>,
    /// Default 25, at most 100.
    limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignSummary {
    #[serde(flatten)]
    pub campaign: CampaignView,
    pub counts: Counts,
}

#[derive(Serialize, ToSchema)]
pub struct CampaignPage {
    pub data: Vec<CampaignSummary>,
    pub pagination: Pagination,
}

/// List the organization's campaigns, newest first, with their progress.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(ListQuery), responses((status = 200, body = CampaignPage), (status = 400, body = crate::error::ErrorBody)))]
#[get("/campaigns")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let (page, size, skip) = numbered(q.page, q.limit, 25)?;
    let (rows, total) =
        campaigns::list(state.db(), &caller.org_id, campaign_status(q.status.as_deref())?, skip, size).await?;
    let data = rows
        .iter()
        .map(|(c, counts)| CampaignSummary { campaign: CampaignView::from(c), counts: counts.clone() })
        .collect();
    Ok(HttpResponse::Ok().json(CampaignPage { data, pagination: Pagination::new(page, size, total) }))
}

/// Create a campaign (admin only): an APPROVED template, recipients from a list or CSV text
/// (each row checked; duplicates sent once), now or at `scheduledAt`. `dryRun` only checks and
/// estimates.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), request_body = CampaignInput, responses((status = 201, body = Data<Created>), (status = 200, description = "Dry run", body = Data<Created>), (status = 400, description = "A field, or a recipient row, at fault", body = crate::error::ErrorBody), (status = 409, description = "The template is not approved", body = crate::error::ErrorBody)))]
#[post("/campaigns")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CampaignInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let created = campaigns::create(&state, &caller.org_id, caller.user_id.as_deref(), body.into_inner()).await?;
    if created.campaign.is_some() {
        Ok(HttpResponse::Created().json(Data::new(created)))
    } else {
        Ok(HttpResponse::Ok().json(Data::new(created)))
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignDetail {
    #[serde(flatten)]
    pub campaign: CampaignView,
    pub stats: CampaignStats,
    pub recipients: Vec<RecipientView>,
    pub pagination: Pagination,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetailQuery {
    page: Option<u64>,
    /// Default 25, at most 100.
    limit: Option<u64>,
    /// PENDING, SENT, DELIVERED, READ, FAILED, REPLIED or `all` (default).
    status: Option<String>,
}

/// A campaign with its figures and a page of its recipients in sending order.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path), DetailQuery), responses((status = 200, body = Data<CampaignDetail>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/campaigns/{id}")]
pub async fn detail(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<DetailQuery>,
) -> ApiResult<HttpResponse> {
    let (page, size, skip) = numbered(q.page, q.limit, 25)?;
    let status = recipient_status(q.status.as_deref())?;
    let d = campaigns::detail(state.db(), &state.rates, &caller.org_id, &id, status, skip, size).await?;
    Ok(HttpResponse::Ok().json(Data::new(CampaignDetail {
        campaign: CampaignView::from(&d.campaign),
        stats: d.stats,
        recipients: d.recipients.iter().map(RecipientView::from).collect(),
        pagination: Pagination::new(page, size, d.total),
    })))
}

/// A campaign's figures: counts, funnel, rates, estimated cost, send rate.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<CampaignStats>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/campaigns/{id}/stats")]
pub async fn campaign_stats(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let c = campaigns::get(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(stats::of(state.db(), &state.rates, &c).await?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// PENDING, SENT, DELIVERED, READ, FAILED, REPLIED or `all` (default).
    status: Option<String>,
}

/// The campaign's recipients as CSV (streamed).
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path), ExportQuery), responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 404, body = crate::error::ErrorBody)))]
#[get("/campaigns/{id}/export")]
pub async fn export(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    let status = recipient_status(q.status.as_deref())?;
    let c = campaigns::get(state.db(), &caller.org_id, &id).await?;
    stats::refresh_for_read(state.db(), &c).await;
    let body = stats::export(state.db().clone(), c.id.clone(), status);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"campaign-{}.csv\"", c.id)))
        .streaming(body))
}

/// Figures across all of the organization's campaigns.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), responses((status = 200, body = Data<GlobalStats>)))]
#[get("/campaigns/stats/global")]
pub async fn global_stats(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Data::new(stats::global(state.db(), &caller.org_id).await?)))
}

/// The campaign delivery funnel and estimated cost across campaigns (ANALYTICS-5).
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), responses((status = 200, body = Data<GlobalStats>)))]
#[get("/analytics/campaigns")]
pub async fn analytics(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Data::new(stats::global(state.db(), &caller.org_id).await?)))
}

/// What Meta charged over the last 90 days, per business account and template.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), responses((status = 200, body = Data<MetaCosts>)))]
#[get("/campaigns/meta-costs")]
pub async fn meta_costs(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(Data::new(costs::meta_costs(&state, &caller.org_id).await?)))
}

/// A campaign's real cost from Meta's template analytics.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<CampaignCost>), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[get("/campaigns/{id}/meta-cost")]
pub async fn meta_cost(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let c = campaigns::get(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(costs::campaign_cost(&state, &c).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EstimateRequest {
    pub template_id: Option<String>,
    #[serde(default)]
    pub recipients: Vec<RecipientInput>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EstimateAnswer {
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Numbers that are not E.164 (left out of the estimate).
    pub invalid: Vec<RowProblem>,
}

/// Estimate a campaign's cost from Meta's rate card before sending.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), request_body = EstimateRequest, responses((status = 200, body = Data<EstimateAnswer>), (status = 400, body = crate::error::ErrorBody)))]
#[post("/campaigns/estimate")]
pub async fn estimate(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<EstimateRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let (estimate, invalid) =
        campaigns::estimate(&state, &caller.org_id, b.template_id.as_deref(), b.recipients).await?;
    Ok(HttpResponse::Ok().json(Data::new(EstimateAnswer { estimate, invalid })))
}

/// The rate card estimates use: Meta's per-message rates by market and category, and its date.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), responses((status = 200, body = Data<RateCard>)))]
#[get("/campaigns/pricing")]
pub async fn pricing(state: web::Data<AppState>, _caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(Data::new(state.rates.clone()))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CampaignBulkRequest)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkRequest {
    pub action: Action,
    pub selection: BulkSelection,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CampaignSelection)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkSelection {
    /// `ids`: the campaigns named; `filter`: every campaign of `status` (at most 500).
    pub mode: String,
    #[serde(default)]
    pub ids: Vec<String>,
    pub status: Option<String>,
}

/// Pause, resume, cancel or delete campaigns (admin only); reports each.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), request_body = BulkRequest, responses((status = 200, body = Data<BulkResult>), (status = 400, body = crate::error::ErrorBody)))]
#[post("/campaigns/bulk")]
pub async fn bulk(state: web::Data<AppState>, caller: Caller, body: web::Json<BulkRequest>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let BulkRequest { action, selection } = body.into_inner();
    let ids = match selection.mode.as_str() {
        "ids" => Some(selection.ids),
        "filter" => None,
        _ => return Err(ApiError::validation("selection.mode", "selection.mode is ids or filter")),
    };
    let status = campaign_status(selection.status.as_deref())?;
    let result = campaigns::bulk(&state, &caller.org_id, action, ids, status).await?;
    Ok(HttpResponse::Ok().json(Data::new(result)))
}
