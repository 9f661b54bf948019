//! BOT-METRICS-USAGE-1..8: feedback on bot messages, usage against the monthly limit, quality
//! figures, bot sessions, and the traces the server keeps of every bot run (no outside tracing
//! service is assumed: `force` is accepted and ignored, figures are always live).

use actix_web::{HttpResponse, get, post, web};
use chrono::{Duration, Months, Utc};
use entities::enums::Direction;
use entities::{bot_feedback, bot_session, bot_trace, message};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::auth::Caller;
use crate::bot::record;
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

/// An open bot session with no turn for this long reads as ABANDONED.
const ABANDONED_AFTER_HOURS: i64 = 24;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackView {
    pub id: String,
    pub message_id: String,
    pub conversation_id: String,
    pub user_id: String,
    pub rating: i32,
    pub comment: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
}

impl From<bot_feedback::Model> for FeedbackView {
    fn from(f: bot_feedback::Model) -> Self {
        FeedbackView {
            id: f.id,
            message_id: f.message_id,
            conversation_id: f.conversation_id,
            user_id: f.user_id,
            rating: f.rating,
            comment: f.comment,
            created_at: f.created_at,
        }
    }
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
    let mut query = bot_feedback::Entity::find().filter(bot_feedback::Column::OrgId.eq(caller.org_id.clone()));
    if let Some(c) = &q.cursor {
        query = query.filter(bot_feedback::Column::Id.lt(c.clone()));
    }
    let mut rows = query.order_by_desc(bot_feedback::Column::Id).limit(limit + 1).all(state.db()).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| r.id.clone()) } else { None };
    Ok(HttpResponse::Ok().json(FeedbackPage { data: rows.into_iter().map(FeedbackView::from).collect(), next_cursor }))
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
    let rating = b.rating.filter(|r| (-1..=1).contains(r));
    let rating = rating.ok_or_else(|| ApiError::validation("rating", "rating must be 1, 0 or -1"))?;
    let mid = b.message_id.ok_or_else(|| ApiError::validation("messageId", "messageId is required"))?;
    let cid = b.conversation_id.ok_or_else(|| ApiError::validation("conversationId", "conversationId is required"))?;
    if b.comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        return Err(ApiError::validation("comment", "comment is at most 2000 characters"));
    }
    let conv = crate::api::conversations::find(&state, &caller, &cid)
        .await
        .map_err(crate::api::refs::named_by("conversationId"))?;
    let m = message::Entity::find_by_id(mid)
        .filter(message::Column::ConversationId.eq(conv.id.clone()))
        .one(state.db())
        .await?
        .ok_or_else(|| ApiError::validation("messageId", "messageId names no message of this conversation"))?;
    if m.direction != Direction::Outbound.as_str() || m.sender_id.is_some() {
        return Err(ApiError::validation("messageId", "only the bot's messages take feedback"));
    }
    let row = bot_feedback::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(caller.org_id.clone()),
        message_id: Set(m.id.clone()),
        conversation_id: Set(conv.id),
        user_id: Set(user_id.clone()),
        rating: Set(rating),
        comment: Set(b.comment),
        created_at: Set(Utc::now()),
    };
    bot_feedback::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([bot_feedback::Column::MessageId, bot_feedback::Column::UserId])
                .update_columns([
                    bot_feedback::Column::Rating,
                    bot_feedback::Column::Comment,
                    bot_feedback::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(state.db())
        .await?;
    let saved = bot_feedback::Entity::find()
        .filter(bot_feedback::Column::MessageId.eq(m.id))
        .filter(bot_feedback::Column::UserId.eq(user_id))
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("feedback"))?;
    Ok(HttpResponse::Created().json(Data::new(FeedbackView::from(saved))))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    /// `YYYY-MM` (UTC).
    pub month: String,
    pub turns: i64,
    pub calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub turn_limit: i64,
    pub remaining_turns: i64,
    /// When reached, bot turns hand conversations to humans until the month ends.
    pub limit_reached: bool,
}

async fn usage_view(state: &AppState, org_id: &str, month: String, limit: i64) -> ApiResult<UsageView> {
    let u = record::usage_of(state.db(), org_id, &month).await?;
    let turns = u.as_ref().map_or(0, |u| u.turns);
    Ok(UsageView {
        month,
        turns,
        calls: u.as_ref().map_or(0, |u| u.calls),
        prompt_tokens: u.as_ref().map_or(0, |u| u.prompt_tokens),
        completion_tokens: u.as_ref().map_or(0, |u| u.completion_tokens),
        turn_limit: limit,
        remaining_turns: (limit - turns).max(0),
        limit_reached: turns >= limit,
    })
}

/// This month's usage and the limit.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<UsageView>)))]
#[get("/bot-config/usage")]
pub async fn usage(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let (limit, _) = state.bot.turn_budget(&caller.org_id).await?;
    let view = usage_view(&state, &caller.org_id, record::month_of(Utc::now()), limit).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

/// The last 12 months of usage, oldest first (months without use are zero).
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<UsageView>>)))]
#[get("/bot-config/usage/history")]
pub async fn usage_history(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let (limit, _) = state.bot.turn_budget(&caller.org_id).await?;
    let now = Utc::now();
    let mut out = Vec::new();
    for back in (0..12).rev() {
        let t = now.checked_sub_months(Months::new(back)).unwrap_or(now);
        out.push(usage_view(&state, &caller.org_id, record::month_of(t), limit).await?);
    }
    Ok(HttpResponse::Ok().json(Data::new(out)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DaysQuery {
    /// Look-back window in days.
    pub days: Option<i64>,
    /// Accepted for compatibility; figures are always computed live.
    pub force: Option<bool>,
}

fn days(d: Option<i64>, default: i64, max: i64) -> ApiResult<i64> {
    let d = d.unwrap_or(default);
    if !(1..=max).contains(&d) {
        return Err(ApiError::validation("days", format!("days must be between 1 and {max}")));
    }
    Ok(d)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quality {
    pub days: i64,
    pub turns: u64,
    pub replies: u64,
    pub handoffs: u64,
    pub errors: u64,
    /// Share of turns that ended in a hand-off.
    pub handoff_rate: f64,
    pub avg_duration_ms: f64,
    pub sessions: u64,
    pub resolved_by_bot: u64,
    pub escalated: u64,
    pub positive_feedback: u64,
    pub negative_feedback: u64,
}

/// Quality figures of the bot over the last `days` (default 30).
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(DaysQuery), responses((status = 200, body = Data<Quality>), (status = 400, body = crate::error::ErrorBody)))]
#[get("/bot-config/metrics/quality")]
pub async fn quality(state: web::Data<AppState>, caller: Caller, q: web::Query<DaysQuery>) -> ApiResult<HttpResponse> {
    let days = days(q.days, 30, 365)?;
    let since = Utc::now() - Duration::days(days);
    let runs = bot_trace::Entity::find()
        .filter(bot_trace::Column::OrgId.eq(caller.org_id.clone()))
        .filter(bot_trace::Column::Kind.eq("TURN"))
        .filter(bot_trace::Column::CreatedAt.gte(since))
        .all(state.db())
        .await?;
    let count = |d: &str| runs.iter().filter(|t| t.decision == d).count() as u64;
    let turns = runs.len() as u64;
    let spans = bot_session::Entity::find()
        .filter(bot_session::Column::OrgId.eq(caller.org_id.clone()))
        .filter(bot_session::Column::StartedAt.gte(since))
        .all(state.db())
        .await?;
    let closed = |c: &str| spans.iter().filter(|s| s.closure_type.as_deref() == Some(c)).count() as u64;
    let feedback = |r: i32| {
        bot_feedback::Entity::find()
            .filter(bot_feedback::Column::OrgId.eq(caller.org_id.clone()))
            .filter(bot_feedback::Column::CreatedAt.gte(since))
            .filter(bot_feedback::Column::Rating.eq(r))
            .count(state.db())
    };
    let handoffs = count("HANDOFF");
    Ok(HttpResponse::Ok().json(Data::new(Quality {
        days,
        turns,
        replies: count("REPLY"),
        handoffs,
        errors: runs.iter().filter(|t| t.error.is_some()).count() as u64,
        handoff_rate: if turns == 0 { 0.0 } else { handoffs as f64 / turns as f64 },
        avg_duration_ms: if turns == 0 {
            0.0
        } else {
            runs.iter().map(|t| t.duration_ms as f64).sum::<f64>() / turns as f64
        },
        sessions: spans.len() as u64,
        resolved_by_bot: closed("RESOLVED_CONFIRMED"),
        escalated: closed("ESCALATED"),
        positive_feedback: feedback(1).await?,
        negative_feedback: feedback(-1).await?,
    })))
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
pub struct SessionView {
    pub id: String,
    pub conversation_id: String,
    pub turns: i32,
    pub started_at: chrono::DateTime<Utc>,
    pub last_turn_at: chrono::DateTime<Utc>,
    pub ended_at: Option<chrono::DateTime<Utc>>,
    /// `None` while the session is open.
    pub closure_type: Option<String>,
    pub handoff_reason: Option<String>,
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
    let days = days(q.days, 30, 365)?;
    let page = q.page.unwrap_or(1).max(1);
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let skip = crate::api::pagination::offset(page, limit)?;
    let now = Utc::now();
    let quiet = now - Duration::hours(ABANDONED_AFTER_HOURS);
    let mut query = bot_session::Entity::find()
        .filter(bot_session::Column::OrgId.eq(caller.org_id.clone()))
        .filter(bot_session::Column::StartedAt.gte(now - Duration::days(days)));
    match q.closure_type.as_deref() {
        None => {}
        Some("ABANDONED") => {
            query = query
                .filter(bot_session::Column::ClosureType.is_null())
                .filter(bot_session::Column::LastTurnAt.lt(quiet))
        }
        Some(c @ ("RESOLVED_CONFIRMED" | "ESCALATED")) => query = query.filter(bot_session::Column::ClosureType.eq(c)),
        Some(_) => {
            return Err(ApiError::validation(
                "closureType",
                "closureType must be RESOLVED_CONFIRMED, ABANDONED or ESCALATED",
            ));
        }
    }
    let total = query.clone().count(state.db()).await?;
    let rows = query.order_by_desc(bot_session::Column::StartedAt).offset(skip).limit(limit).all(state.db()).await?;
    let data = rows
        .into_iter()
        .map(|s| SessionView {
            closure_type: s.closure_type.or_else(|| (s.last_turn_at < quiet).then(|| "ABANDONED".to_owned())),
            id: s.id,
            conversation_id: s.conversation_id,
            turns: s.turns,
            started_at: s.started_at,
            last_turn_at: s.last_turn_at,
            ended_at: s.ended_at,
            handoff_reason: s.handoff_reason,
        })
        .collect();
    Ok(HttpResponse::Ok().json(SessionsPage { data, page, limit, total }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceView {
    pub id: String,
    pub kind: String,
    pub conversation_id: Option<String>,
    pub config_id: Option<String>,
    pub input: String,
    pub decision: String,
    pub output: Option<String>,
    pub model: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// The reply message the run produced.
    pub message_id: Option<String>,
    pub chunk_ids: Vec<String>,
    /// Each step: `kind`, `durationMs`, `detail` (detail view only).
    #[schema(value_type = Option<Vec<Object>>)]
    pub steps: Option<Value>,
    pub created_at: chrono::DateTime<Utc>,
}

fn trace_view(t: bot_trace::Model, with_steps: bool) -> TraceView {
    TraceView {
        chunk_ids: serde_json::from_str(&t.chunk_ids).unwrap_or_default(),
        steps: with_steps.then(|| serde_json::from_str(&t.steps).unwrap_or(Value::Null)),
        id: t.id,
        kind: t.kind,
        conversation_id: t.conversation_id,
        config_id: t.config_id,
        input: t.input,
        decision: t.decision,
        output: t.output,
        model: t.model,
        prompt_tokens: t.prompt_tokens,
        completion_tokens: t.completion_tokens,
        duration_ms: t.duration_ms,
        error: t.error,
        message_id: t.message_id,
        created_at: t.created_at,
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceSummary {
    pub days: i64,
    pub runs: usize,
    pub by_decision: std::collections::BTreeMap<String, usize>,
    pub by_kind: std::collections::BTreeMap<String, usize>,
    pub p50_duration_ms: i64,
    pub p95_duration_ms: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub errors: usize,
    /// The 50 newest runs.
    pub recent: Vec<TraceView>,
}

/// Performance of the bot's runs over the last `days` (1-30, default 7), from the traces the
/// server keeps.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(DaysQuery), responses((status = 200, body = Data<TraceSummary>), (status = 400, body = crate::error::ErrorBody)))]
#[get("/bot-config/metrics/traces")]
pub async fn traces(state: web::Data<AppState>, caller: Caller, q: web::Query<DaysQuery>) -> ApiResult<HttpResponse> {
    let days = days(q.days, 7, 30)?;
    let rows = bot_trace::Entity::find()
        .filter(bot_trace::Column::OrgId.eq(caller.org_id.clone()))
        .filter(bot_trace::Column::CreatedAt.gte(Utc::now() - Duration::days(days)))
        .order_by_desc(bot_trace::Column::CreatedAt)
        .all(state.db())
        .await?;
    let mut durations: Vec<i64> = rows.iter().map(|t| t.duration_ms).collect();
    durations.sort_unstable();
    let pct =
        |p: f64| durations.get(((durations.len() as f64 - 1.0) * p).round().max(0.0) as usize).copied().unwrap_or(0);
    let mut by_decision = std::collections::BTreeMap::new();
    let mut by_kind = std::collections::BTreeMap::new();
    for t in &rows {
        *by_decision.entry(t.decision.clone()).or_default() += 1;
        *by_kind.entry(t.kind.clone()).or_default() += 1;
    }
    let summary = TraceSummary {
        days,
        runs: rows.len(),
        p50_duration_ms: pct(0.5),
        p95_duration_ms: pct(0.95),
        prompt_tokens: rows.iter().map(|t| t.prompt_tokens).sum(),
        completion_tokens: rows.iter().map(|t| t.completion_tokens).sum(),
        errors: rows.iter().filter(|t| t.error.is_some()).count(),
        by_decision,
        by_kind,
        recent: rows.into_iter().take(50).map(|t| trace_view(t, false)).collect(),
    };
    Ok(HttpResponse::Ok().json(Data::new(summary)))
}

/// One run, step by step: retrieval, prompt, model calls, tools, decision, with timings.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("traceId" = String, Path)), responses((status = 200, body = Data<TraceView>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/bot-config/metrics/traces/{traceId}")]
pub async fn trace(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let t = bot_trace::Entity::find_by_id(id.into_inner())
        .filter(bot_trace::Column::OrgId.eq(caller.org_id.clone()))
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("trace"))?;
    Ok(HttpResponse::Ok().json(Data::new(trace_view(t, true))))
}
