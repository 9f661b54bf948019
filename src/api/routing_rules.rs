//! ROUTING-RULES-1..18: ordered routing rules and their conflict check, re-routing open
//! conversations, and the organization's routing settings (maintenance mode, off-hours reply,
//! business hours, default team, idle-agent detection).

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use actors::people::idle::IdleReport;
use actors::people::settings::{self, IdleAgentSettings, Maintenance, OffHours};
use actors::policy::routing::{Condition, Conflict, Rule};
use actors::policy::schedule::WeeklySchedule;
use chrono::{DateTime, Utc};
use entities::routing_rule;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Data, nullable};
use crate::auth::Caller;
use crate::auth::membership::active_team;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::workspace::{routing, rules};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_maintenance)
        .service(put_maintenance)
        .service(get_off_hours)
        .service(put_off_hours)
        .service(get_business_hours)
        .service(put_business_hours)
        .service(get_default_team)
        .service(put_default_team)
        .service(run_now)
        .service(check_conflicts)
        .service(reorder)
        .service(get_idle)
        .service(put_idle)
        .service(run_idle)
        .service(list)
        .service(create)
        .service(update)
        .service(remove);
}

// ---- settings ----

/// Get maintenance mode.
#[utoipa::path(tag = "routing", security(("bearer" = [])), responses((status = 200, body = Data<Maintenance>)))]
#[get("/routing-rules/maintenance")]
pub async fn get_maintenance(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Data::new(settings::load(state.db(), &caller.org_id).await?.maintenance)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceRequest {
    pub maintenance_mode: Option<bool>,
    /// What customers are told while it is on.
    pub message: Option<String>,
}

/// Switch maintenance mode (admin only). While on, customers get its message once per
/// conversation and nothing is auto-assigned.
#[utoipa::path(tag = "routing", security(("bearer" = [])), request_body = MaintenanceRequest,
    responses((status = 200, body = Data<Maintenance>), (status = 400, body = crate::error::ErrorBody)))]
#[put("/routing-rules/maintenance")]
pub async fn put_maintenance(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<MaintenanceRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let (on, message) = (body.maintenance_mode, body.message.as_deref());
    Ok(HttpResponse::Ok().json(Data::new(routing::set_maintenance(&state.rt, &caller.org_id, on, message).await?)))
}

/// Get the off-hours auto-reply.
#[utoipa::path(tag = "routing", security(("bearer" = [])), responses((status = 200, body = Data<OffHours>)))]
#[get("/routing-rules/off-hours")]
pub async fn get_off_hours(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Data::new(settings::load(state.db(), &caller.org_id).await?.off_hours)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OffHoursRequest {
    pub off_hours_auto_reply: Option<bool>,
    pub message: Option<String>,
}

/// Set the off-hours auto-reply (admin only): sent at most once per conversation per closed
/// period, and never while the bot is handling the conversation.
#[utoipa::path(tag = "routing", security(("bearer" = [])), request_body = OffHoursRequest,
    responses((status = 200, body = Data<OffHours>), (status = 400, body = crate::error::ErrorBody)))]
#[put("/routing-rules/off-hours")]
pub async fn put_off_hours(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<OffHoursRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let (on, message) = (body.off_hours_auto_reply, body.message.as_deref());
    Ok(HttpResponse::Ok().json(Data::new(routing::set_off_hours(&state.rt, &caller.org_id, on, message).await?)))
}

fn no_hours() -> WeeklySchedule {
    WeeklySchedule { timezone: "UTC".into(), is_enabled: false, slots: Vec::new(), holidays: Vec::new() }
}

/// Get business hours (disabled with no slots when never set).
#[utoipa::path(tag = "routing", security(("bearer" = [])), responses((status = 200, body = Data<WeeklySchedule>)))]
#[get("/routing-rules/business-hours")]
pub async fn get_business_hours(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let hours = settings::load(state.db(), &caller.org_id).await?.business_hours.unwrap_or_else(no_hours);
    Ok(HttpResponse::Ok().json(Data::new(hours)))
}

/// Set business hours (admin only): timezone (IANA), slots per weekday in local time, holidays.
#[utoipa::path(tag = "routing", security(("bearer" = [])), request_body = WeeklySchedule,
    responses((status = 200, body = Data<WeeklySchedule>), (status = 400, body = crate::error::ErrorBody)))]
#[put("/routing-rules/business-hours")]
pub async fn put_business_hours(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let hours = routing::set_business_hours(&state.rt, &caller.org_id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Data::new(hours)))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultTeam {
    /// The team of conversations no rule matched; `null` = none (everyone available).
    pub team_id: Option<String>,
}

/// Get the default team.
#[utoipa::path(tag = "routing", security(("bearer" = [])), responses((status = 200, body = Data<DefaultTeam>)))]
#[get("/routing-rules/default-team")]
pub async fn get_default_team(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let s = settings::load(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(DefaultTeam { team_id: s.default_team_id })))
}

/// Set the default team (admin only).
#[utoipa::path(tag = "routing", security(("bearer" = [])), request_body = DefaultTeam,
    responses((status = 200, body = Data<DefaultTeam>), (status = 400, body = crate::error::ErrorBody)))]
#[put("/routing-rules/default-team")]
pub async fn put_default_team(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<DefaultTeam>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let team_id = match body.team_id.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(id) => Some(active_team(state.db(), &caller.org_id, id, "teamId").await?.id),
        None => None,
    };
    let saved = team_id.clone();
    settings::update(&state.rt.db, &caller.org_id, move |s| s.default_team_id = saved).await?;
    Ok(HttpResponse::Ok().json(Data::new(DefaultTeam { team_id })))
}

/// Get idle-agent detection settings.
#[utoipa::path(tag = "routing", security(("bearer" = [])), responses((status = 200, body = Data<IdleAgentSettings>)))]
#[get("/routing-rules/idle-agent")]
pub async fn get_idle(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Data::new(settings::load(state.db(), &caller.org_id).await?.idle_agent)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdleRequest {
    pub enabled: Option<bool>,
    /// 1..=1440.
    pub no_reply_minutes: Option<i64>,
    /// 0..=1440 (0: as soon as the agent is OFFLINE).
    pub offline_minutes: Option<i64>,
    /// `REASSIGN`, `RETURN_TO_QUEUE` or `NOTIFY_ONLY`.
    pub action: Option<String>,
    pub include_away: Option<bool>,
}

/// Update idle-agent detection (admin only).
#[utoipa::path(tag = "routing", security(("bearer" = [])), request_body = IdleRequest,
    responses((status = 200, body = Data<IdleAgentSettings>), (status = 400, body = crate::error::ErrorBody)))]
#[put("/routing-rules/idle-agent")]
pub async fn put_idle(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<IdleRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let change = routing::IdleChange {
        enabled: b.enabled,
        no_reply_minutes: b.no_reply_minutes,
        offline_minutes: b.offline_minutes,
        action: b.action,
        include_away: b.include_away,
    };
    Ok(HttpResponse::Ok().json(Data::new(routing::set_idle(&state.rt, &caller.org_id, change).await?)))
}

/// Run idle-agent detection for this organization now (admin only), with the current settings
/// even when periodic detection is off; reports what moved.
#[utoipa::path(tag = "routing", security(("bearer" = [])), responses((status = 200, body = Data<IdleReport>)))]
#[post("/routing-rules/idle-agent/run")]
pub async fn run_idle(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let report = state.rt.run_idle_check(&caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(report)))
}

// ---- rules ----

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    pub id: String,
    pub name: String,
    pub team_id: String,
    /// `ANY` or `ALL`.
    pub match_type: String,
    pub conditions: Vec<Condition>,
    /// 1 is evaluated first.
    pub priority: i32,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Rules this one duplicates, shadows or is shadowed by (in answers to create and update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<Vec<Conflict>>,
}

fn rule_view(r: &routing_rule::Model, conflicts: Option<Vec<Conflict>>) -> RuleView {
    RuleView {
        id: r.id.clone(),
        name: r.name.clone(),
        team_id: r.team_id.clone(),
        match_type: r.match_type.clone(),
        conditions: serde_json::from_str(&r.conditions).unwrap_or_default(),
        priority: r.priority,
        is_active: r.is_active,
        created_at: r.created_at,
        updated_at: r.updated_at,
        conflicts,
    }
}

/// List routing rules in priority order.
#[utoipa::path(tag = "routing", security(("bearer" = [])), responses((status = 200, body = Data<Vec<RuleView>>)))]
#[get("/routing-rules")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let all = rules::all(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(all.iter().map(|r| rule_view(r, None)).collect::<Vec<_>>())))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRule {
    pub name: Option<String>,
    pub team_id: Option<String>,
    /// `ANY` (default) or `ALL`.
    pub match_type: Option<String>,
    /// Each `{field, operator, value}`; fields: message, contact.name, contact.phone,
    /// contact.category, channel, inbox, tag, category, time, weekday; operators: contains,
    /// not_contains, equals, not_equals, starts_with, regex, keywords, in, not_in, between.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub is_active: Option<bool>,
}

/// Create a routing rule, evaluated after the existing ones (admin only). The answer lists the
/// rule's conflicts with the others.
#[utoipa::path(tag = "routing", security(("bearer" = [])), request_body = CreateRule,
    responses((status = 201, body = Data<RuleView>), (status = 400, body = crate::error::ErrorBody)))]
#[post("/routing-rules")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateRule>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let fields = rules::Fields {
        name: b.name,
        team_id: b.team_id,
        match_type: b.match_type,
        conditions: Some(b.conditions),
        is_active: b.is_active,
    };
    let (row, conflicts) = rules::create(state.db(), &caller.org_id, fields).await?;
    Ok(HttpResponse::Created().json(Data::new(rule_view(&row, Some(conflicts)))))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ConflictQuery {
    pub team_id: Option<String>,
    /// The conditions as a JSON array.
    pub conditions: Option<String>,
    /// `ANY` (default) or `ALL`.
    pub match_type: Option<String>,
    /// The rule being edited (checked at its own position, not against itself).
    pub exclude_rule_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConflictReport {
    pub has_conflicts: bool,
    pub conflicts: Vec<Conflict>,
}

/// Preview a rule's conflicts without saving: rules it duplicates, earlier rules that already
/// match everything it matches (so it never fires), later rules it would make unreachable.
#[utoipa::path(tag = "routing", security(("bearer" = [])), params(ConflictQuery),
    responses((status = 200, body = Data<ConflictReport>), (status = 400, body = crate::error::ErrorBody)))]
#[get("/routing-rules/check-conflicts")]
pub async fn check_conflicts(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ConflictQuery>,
) -> ApiResult<HttpResponse> {
    let team_id = q.team_id.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let team_id = team_id.ok_or_else(|| ApiError::validation("teamId", "teamId is required"))?;
    let raw = q.conditions.as_deref().ok_or_else(|| ApiError::validation("conditions", "conditions is required"))?;
    let conditions: Vec<Condition> = serde_json::from_str(raw).map_err(|e| {
        ApiError::validation("conditions", format!("conditions must be a JSON array of conditions: {e}"))
    })?;
    rules::check_conditions(&conditions)?;
    let mt = rules::match_type(q.match_type.as_deref())?;
    let candidate = Rule {
        id: q.exclude_rule_id.clone().unwrap_or_default(),
        name: "this rule".into(),
        team_id: team_id.to_owned(),
        match_type: mt,
        conditions,
    };
    let conflicts = rules::conflicts(state.db(), &caller.org_id, &candidate, q.exclude_rule_id.as_deref()).await?;
    Ok(HttpResponse::Ok().json(Data::new(ConflictReport { has_conflicts: !conflicts.is_empty(), conflicts })))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRule {
    pub name: Option<String>,
    pub team_id: Option<String>,
    pub match_type: Option<String>,
    pub conditions: Option<Vec<Condition>>,
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub priority: Option<Option<i32>>,
}

/// Update a routing rule (admin only). Use reorder to move it.
#[utoipa::path(tag = "routing", security(("bearer" = [])), params(("id" = String, Path)), request_body = UpdateRule,
    responses((status = 200, body = Data<RuleView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[patch("/routing-rules/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<UpdateRule>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    if body.priority.is_some() {
        return Err(ApiError::validation("priority", "use POST /routing-rules/reorder to change the order"));
    }
    let b = body.into_inner();
    let fields = rules::Fields {
        name: b.name,
        team_id: b.team_id,
        match_type: b.match_type,
        conditions: b.conditions,
        is_active: b.is_active,
    };
    let (r, conflicts) = rules::update(state.db(), &caller.org_id, &id, fields).await?;
    Ok(HttpResponse::Ok().json(Data::new(rule_view(&r, Some(conflicts)))))
}

/// Delete a routing rule (admin only).
#[utoipa::path(tag = "routing", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/routing-rules/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    rules::delete(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReorderRequest {
    /// Every rule id of the organization, first to last.
    pub ordered_ids: Option<Vec<String>>,
}

/// Set the order of all rules (admin only): `orderedIds` must list each rule exactly once.
#[utoipa::path(tag = "routing", security(("bearer" = [])), request_body = ReorderRequest,
    responses((status = 200, body = Data<Vec<RuleView>>), (status = 400, body = crate::error::ErrorBody)))]
#[post("/routing-rules/reorder")]
pub async fn reorder(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ReorderRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let ids = body.ordered_ids.as_ref().ok_or_else(|| ApiError::validation("orderedIds", "orderedIds is required"))?;
    let all = rules::reorder(&state.rt, &caller.org_id, ids).await?;
    Ok(HttpResponse::Ok().json(Data::new(all.iter().map(|r| rule_view(r, None)).collect::<Vec<_>>())))
}

pub use crate::workspace::rules::RunNowReport;

/// Run the routing rules again on every open conversation (admin only) and report the counts.
#[utoipa::path(tag = "routing", security(("bearer" = [])), responses((status = 200, body = Data<RunNowReport>)))]
#[post("/routing-rules/run-now")]
pub async fn run_now(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(Data::new(rules::run_now(&state.rt, &caller.org_id).await?)))
}
