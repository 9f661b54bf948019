//! BOT-METRICS-USAGE-1..8: feedback on bot messages, usage against the monthly limit, quality
//! figures, bot sessions, and the traces the server keeps of every bot run (no outside tracing
//! service is assumed: `force` is accepted and ignored, figures are always live).

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::auth::Caller;
use crate::bot::metrics::{self, FeedbackView, Quality, SessionView, TraceSummary, TraceView, UsageView};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_feedback)
        .service(give_feedback)
        .service(usage)
        .service(usage_history)
        .service(quality)
        .service(sessions)
        .service(traces)
        .service(trace);
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FeedbackQuery {
    pub limit: Option<u64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackPage {
    pub data: Vec<FeedbackView>,
    pub next_cursor: Option<String>,
}

/// Feedback on bot messages, newest first.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(FeedbackQuery), responses((status = 200, body = FeedbackPage), (status = 400, body = crate::error::ErrorBody)))]
#[get("/bot-feedback")]
pub async fn list_feedback(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<FeedbackQuery>,
) -> ApiResult<HttpResponse> {
    let limit = crate::api::pagination::limit(q.limit)?;
    let (data, next_cursor) = metrics::feedback(state.db(), &caller.org_id, limit, q.cursor.as_deref()).await?;
    Ok(HttpResponse::Ok().json(FeedbackPage { data, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackBody {
    pub message_id: Option<String>,
    pub conversation_id: Option<String>,
    /// 1 (good), 0 (neutral) or -1 (bad).
    pub rating: Option<i32>,
    pub comment: Option<String>,
}

/// Rate a bot message; rating it again replaces your earlier rating.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = FeedbackBody, responses((status = 201, body = Data<FeedbackView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[post("/bot-feedback")]
pub async fn give_feedback(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<FeedbackBody>,
) -> ApiResult<HttpResponse> {
    let user_id = caller.require_user()?.to_owned();
    let b = body.into_inner();
    let mid = b.message_id.ok_or_else(|| ApiError::validation("messageId", "messageId is required"))?;
    let cid = b.conversation_id.ok_or_else(|| ApiError::validation("conversationId", "conversationId is required"))?;
    let conv = crate::api::conversations::find(&state, &caller, &cid)
        .await
        .map_err(crate::api::refs::named_by("conversationId"))?;
    let saved = metrics::rate(state.db(), &user_id, &conv, &mid, b.rating, b.comment).await?;
    Ok(HttpResponse::Created().json(Data::new(saved)))
}

/// This month's usage and the limit.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<UsageView>)))]
#[get("/bot-config/usage")]
pub async fn usage(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let (limit, _) = state.bot.turn_budget(&caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(metrics::usage(state.db(), &caller.org_id, limit).await?)))
}

/// The last 12 months of usage, oldest first (months without use are zero).
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<UsageView>>)))]
#[get("/bot-config/usage/history")]
pub async fn usage_history(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let (limit, _) = state.bot.turn_budget(&caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(metrics::usage_history(state.db(), &caller.org_id, limit).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DaysQuery {
    /// Look-back window in days.
    pub days: Option<i64>,
    /// Accepted for compatibility; figures are always computed live.
    pub force: Option<bool>,
}

/// Quality figures of the bot over the last `days` (default 30).
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(DaysQuery), responses((status = 200, body = Data<Quality>), (status = 400, body = crate::error::ErrorBody)))]
#[get("/bot-config/metrics/quality")]
pub async fn quality(state: web::Data<AppState>, caller: Caller, q: web::Query<DaysQuery>) -> ApiResult<HttpResponse> {
    let days = metrics::days(q.days, 30, 365)?;
    Ok(HttpResponse::Ok().json(Data::new(metrics::quality(state.db(), &caller.org_id, days).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct SessionsQuery {
    /// RESOLVED_CONFIRMED, ABANDONED or ESCALATED.
    pub closure_type: Option<String>,
    pub days: Option<i64>,
    pub page: Option<u64>,
    pub limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionsPage {
    pub data: Vec<SessionView>,
    pub page: u64,
    pub limit: u64,
    pub total: u64,
}

/// Bot sessions (one per conversation and stretch with the bot), newest first.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(SessionsQuery), responses((status = 200, body = SessionsPage), (status = 400, body = crate::error::ErrorBody)))]
#[get("/bot-config/metrics/sessions")]
pub async fn sessions(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<SessionsQuery>,
) -> ApiResult<HttpResponse> {
    let days = metrics::days(q.days, 30, 365)?;
    let page = q.page.unwrap_or(1).max(1);
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let skip = crate::api::pagination::offset(page, limit)?;
    let closure = q.closure_type.as_deref();
    let (data, total) = metrics::sessions(state.db(), &caller.org_id, days, closure, skip, limit).await?;
    Ok(HttpResponse::Ok().json(SessionsPage { data, page, limit, total }))
}

/// Performance of the bot's runs over the last `days` (1-30, default 7), from the traces the
/// server keeps.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(DaysQuery), responses((status = 200, body = Data<TraceSummary>), (status = 400, body = crate::error::ErrorBody)))]
#[get("/bot-config/metrics/traces")]
pub async fn traces(state: web::Data<AppState>, caller: Caller, q: web::Query<DaysQuery>) -> ApiResult<HttpResponse> {
    let days = metrics::days(q.days, 7, 30)?;
    Ok(HttpResponse::Ok().json(Data::new(metrics::trace_summary(state.db(), &caller.org_id, days).await?)))
}

/// One run, step by step: retrieval, prompt, model calls, tools, decision, with timings.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("traceId" = String, Path)), responses((status = 200, body = Data<TraceView>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/bot-config/metrics/traces/{traceId}")]
pub async fn trace(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Data::new(metrics::trace(state.db(), &caller.org_id, &id).await?)))
}
