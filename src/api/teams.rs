//! TEAMS-1..11: teams, their members (LEAD / MEMBER), assignment settings (strategy, capacity)
//! and weekly working hours. Deleting a team deactivates it: its rules stop matching and its
//! conversations are assigned among everyone.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use actors::policy::schedule::{ScheduleStatus, WeeklySchedule};
use chrono::{DateTime, Utc};
use entities::team;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Data, nullable};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::workspace::teams;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(detail)
        .service(update)
        .service(remove)
        .service(add_member)
        .service(update_member)
        .service(remove_member)
        .service(get_schedule)
        .service(put_schedule)
        .service(schedule_status);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// `LEAST_LOADED` or `ROUND_ROBIN`.
    pub strategy: String,
    /// Most open conversations auto-assignment gives each member (a member's own limit wins).
    pub max_open_per_agent: Option<i32>,
    pub is_active: bool,
    pub member_count: usize,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub use crate::workspace::teams::Member as MemberView;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamDetail {
    #[serde(flatten)]
    pub team: TeamView,
    pub members: Vec<MemberView>,
}

fn view(t: &team::Model, member_count: usize) -> TeamView {
    TeamView {
        id: t.id.clone(),
        name: t.name.clone(),
        description: t.description.clone(),
        strategy: t.strategy.to_string(),
        max_open_per_agent: t.max_open_per_agent,
        is_active: t.is_active,
        member_count,
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

async fn detail_of(state: &AppState, t: &team::Model) -> ApiResult<TeamDetail> {
    let members = teams::members(state.db(), t).await?;
    Ok(TeamDetail { team: view(t, members.len()), members })
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Include deactivated teams.
    #[serde(default)]
    pub include_inactive: bool,
}

/// List teams, by name.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(ListQuery), responses((status = 200, body = Data<Vec<TeamView>>)))]
#[get("/teams")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let all = teams::list(state.db(), &caller.org_id, q.include_inactive).await?;
    Ok(HttpResponse::Ok().json(Data::new(all.iter().map(|(t, n)| view(t, *n)).collect::<Vec<_>>())))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTeam {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `LEAST_LOADED` (default) or `ROUND_ROBIN`.
    pub strategy: Option<String>,
    pub max_open_per_agent: Option<i32>,
}

/// Create a team (admin only).
#[utoipa::path(tag = "teams", security(("bearer" = [])), request_body = CreateTeam,
    responses((status = 201, body = Data<TeamView>), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/teams")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateTeam>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let settings = teams::Settings {
        name: b.name,
        description: Some(b.description),
        strategy: b.strategy,
        max_open_per_agent: Some(b.max_open_per_agent),
        is_active: None,
    };
    let t = teams::create(state.db(), &caller.org_id, settings).await?;
    Ok(HttpResponse::Created().json(Data::new(view(&t, 0))))
}

/// Get a team with its members.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Data<TeamDetail>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/teams/{id}")]
pub async fn detail(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let t = teams::find(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail_of(&state, &t).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTeam {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub strategy: Option<String>,
    /// `null` removes the team's limit.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub max_open_per_agent: Option<Option<i32>>,
    /// `true` reactivates a deactivated team.
    pub is_active: Option<bool>,
}

/// Update a team (admin only).
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path)), request_body = UpdateTeam,
    responses((status = 200, body = Data<TeamView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[patch("/teams/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<UpdateTeam>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let settings = teams::Settings {
        name: b.name,
        description: b.description,
        strategy: b.strategy,
        max_open_per_agent: b.max_open_per_agent,
        is_active: b.is_active,
    };
    let t = teams::update(&state.rt, &caller.org_id, &id, settings).await?;
    let n = teams::members(state.db(), &t).await?.len();
    Ok(HttpResponse::Ok().json(Data::new(view(&t, n))))
}

/// Deactivate a team (soft delete, admin only).
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Data<TeamView>), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/teams/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = teams::deactivate(&state.rt, &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(view(&t, 0))))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddMember {
    pub user_id: Option<String>,
    /// `MEMBER` (default) or `LEAD`.
    pub role: Option<String>,
}

/// Add a member to a team (admin only).
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path)), request_body = AddMember,
    responses((status = 201, body = Data<TeamDetail>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/teams/{id}/members")]
pub async fn add_member(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<AddMember>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = teams::find(state.db(), &caller.org_id, &id).await?;
    teams::add_member(&state.rt, &t, body.user_id.as_deref(), body.role.as_deref()).await?;
    Ok(HttpResponse::Created().json(Data::new(detail_of(&state, &t).await?)))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateMember {
    /// `LEAD` or `MEMBER`.
    pub role: Option<String>,
}

/// Change a member's role (admin only).
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path), ("userId" = String, Path)), request_body = UpdateMember,
    responses((status = 200, body = Data<TeamDetail>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[patch("/teams/{id}/members/{userId}")]
pub async fn update_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<UpdateMember>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let (id, user_id) = path.into_inner();
    let t = teams::find(state.db(), &caller.org_id, &id).await?;
    teams::set_member_role(state.db(), &t, &user_id, body.role.as_deref()).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail_of(&state, &t).await?)))
}

/// Remove a member from a team (admin only). Their conversations stay with them.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path), ("userId" = String, Path)),
    responses((status = 200, body = Data<TeamDetail>), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/teams/{id}/members/{userId}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let (id, user_id) = path.into_inner();
    let t = teams::find(state.db(), &caller.org_id, &id).await?;
    teams::remove_member(state.db(), &t, &user_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail_of(&state, &t).await?)))
}

/// Get a team's working hours (`null` when it has none).
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Data<Option<WeeklySchedule>>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/teams/{id}/schedule")]
pub async fn get_schedule(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let t = teams::find(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(teams::schedule_of(&t))))
}

/// Create or replace a team's working hours (admin only).
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path)), request_body = WeeklySchedule,
    responses((status = 200, body = Data<WeeklySchedule>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[put("/teams/{id}/schedule")]
pub async fn put_schedule(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = teams::find(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(teams::set_schedule(&state.rt, t, body.into_inner()).await?)))
}

/// Whether the team is within its working hours now. A team without a schedule follows the
/// organization's business hours, and with neither it is always open.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Data<ScheduleStatus>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/teams/{id}/schedule/status")]
pub async fn schedule_status(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let t = teams::find(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(teams::schedule_status(state.db(), &t).await?)))
}
