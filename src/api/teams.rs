//! TEAMS-1..11: teams, their members (LEAD / MEMBER), assignment settings (strategy, capacity)
//! and weekly working hours. Deleting a team deactivates it: its rules stop matching and its
//! conversations are assigned among everyone.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use actors::policy::schedule::{ScheduleStatus, WeeklySchedule};
use chrono::{DateTime, Utc};
use entities::enums::{AssignStrategy, TeamRole};
use entities::{team, team_member, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Data, nullable};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

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

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: String,
    pub name: String,
    pub email: String,
    /// `LEAD` or `MEMBER`.
    pub role: String,
    /// The user's presence.
    pub status: String,
    pub open_conversations: i64,
    pub joined_at: DateTime<Utc>,
}

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
        strategy: t.strategy.clone(),
        max_open_per_agent: t.max_open_per_agent,
        is_active: t.is_active,
        member_count,
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

/// A team of the caller's organization (active or not); 404 otherwise.
pub async fn find_team(state: &AppState, org_id: &str, id: &str) -> ApiResult<team::Model> {
    Ok(crate::domain::find_in_org::<team::Entity>(state.db(), org_id, id).await?)
}

async fn members_of(state: &AppState, t: &team::Model) -> ApiResult<Vec<MemberView>> {
    let links = team_member::Entity::find()
        .filter(team_member::Column::TeamId.eq(t.id.clone()))
        .order_by_asc(team_member::Column::CreatedAt)
        .all(state.db())
        .await?;
    let ids: Vec<String> = links.iter().map(|l| l.user_id.clone()).collect();
    let users: std::collections::HashMap<String, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.clone()))
        .filter(user::Column::DeletedAt.is_null())
        .all(state.db())
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    let open = actors::store::conversations::open_counts(state.db(), &t.org_id, &ids).await?;
    Ok(links
        .into_iter()
        .filter_map(|l| {
            let u = users.get(&l.user_id)?;
            Some(MemberView {
                user_id: u.id.clone(),
                name: u.name.clone(),
                email: u.email.clone(),
                role: l.role.to_string(),
                status: u.status.clone(),
                open_conversations: open.get(&u.id).copied().unwrap_or(0),
                joined_at: l.created_at,
            })
        })
        .collect())
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
    let mut query = team::Entity::find().filter(team::Column::OrgId.eq(caller.org_id.clone()));
    if !q.include_inactive {
        query = query.filter(team::Column::IsActive.eq(true));
    }
    let teams = query.order_by_asc(team::Column::Name).all(state.db()).await?;
    let counts: Vec<(String, i64)> = team_member::Entity::find()
        .select_only()
        .column(team_member::Column::TeamId)
        .column_as(sea_orm::sea_query::ExprTrait::count(Expr::col(team_member::Column::UserId)), "n")
        .filter(team_member::Column::OrgId.eq(caller.org_id.clone()))
        .group_by(team_member::Column::TeamId)
        .into_tuple()
        .all(state.db())
        .await?;
    let counts: std::collections::HashMap<String, i64> = counts.into_iter().collect();
    let out: Vec<TeamView> =
        teams.iter().map(|t| view(t, counts.get(&t.id).copied().unwrap_or(0).max(0) as usize)).collect();
    Ok(HttpResponse::Ok().json(Data::new(out)))
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

fn team_name(name: Option<&str>) -> ApiResult<String> {
    let n = name.unwrap_or_default().trim();
    if n.is_empty() || n.chars().count() > 80 {
        return Err(ApiError::validation("name", "name is required and at most 80 characters"));
    }
    Ok(n.to_owned())
}

fn strategy(s: &str) -> ApiResult<AssignStrategy> {
    AssignStrategy::parse(&s.trim().to_uppercase())
        .ok_or_else(|| ApiError::validation("strategy", "strategy must be LEAST_LOADED or ROUND_ROBIN"))
}

fn capacity(c: Option<i32>) -> ApiResult<Option<i32>> {
    match c {
        Some(n) if !(1..=1000).contains(&n) => {
            Err(ApiError::validation("maxOpenPerAgent", "maxOpenPerAgent must be between 1 and 1000, or null"))
        }
        other => Ok(other),
    }
}

async fn ensure_unique_name(state: &AppState, org_id: &str, name: &str, except: Option<&str>) -> ApiResult<()> {
    let teams = team::Entity::find()
        .filter(team::Column::OrgId.eq(org_id))
        .filter(team::Column::IsActive.eq(true))
        .all(state.db())
        .await?;
    if teams.iter().any(|t| t.name.eq_ignore_ascii_case(name) && Some(t.id.as_str()) != except) {
        return Err(ApiError::Conflict(format!("an active team named {name:?} already exists")));
    }
    Ok(())
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
    let name = team_name(body.name.as_deref())?;
    let strategy = strategy(body.strategy.as_deref().unwrap_or("LEAST_LOADED"))?;
    let cap = capacity(body.max_open_per_agent)?;
    ensure_unique_name(&state, &caller.org_id, &name, None).await?;
    let now = Utc::now();
    let row = team::Model {
        id: actors::new_id(),
        org_id: caller.org_id.clone(),
        name,
        description: body.description.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(str::to_owned),
        strategy: strategy.as_str().into(),
        max_open_per_agent: cap,
        schedule: None,
        is_active: true,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    team::ActiveModel::from(row.clone()).reset_all().insert(state.db()).await?;
    Ok(HttpResponse::Created().json(Data::new(view(&row, 0))))
}

/// Get a team with its members.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Data<TeamDetail>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/teams/{id}")]
pub async fn detail(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let t = find_team(&state, &caller.org_id, &id).await?;
    let members = members_of(&state, &t).await?;
    Ok(HttpResponse::Ok().json(Data::new(TeamDetail { team: view(&t, members.len()), members })))
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
    let t = find_team(&state, &caller.org_id, &id).await?;
    let mut am = t.clone().into_active_model();
    if let Some(name) = &body.name {
        let name = team_name(Some(name))?;
        ensure_unique_name(&state, &caller.org_id, &name, Some(&t.id)).await?;
        am.name = Set(name);
    }
    if let Some(d) = &body.description {
        am.description = Set(d.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(str::to_owned));
    }
    if let Some(s) = &body.strategy {
        am.strategy = Set(strategy(s)?.as_str().into());
    }
    if let Some(c) = body.max_open_per_agent {
        am.max_open_per_agent = Set(capacity(c)?);
    }
    if let Some(active) = body.is_active {
        if active && !t.is_active {
            ensure_unique_name(&state, &caller.org_id, &t.name, Some(&t.id)).await?;
        }
        am.is_active = Set(active);
        am.deleted_at = Set(if active { None } else { t.deleted_at.or(Some(Utc::now())) });
    }
    am.updated_at = Set(Utc::now());
    let t = am.update(state.db()).await?;
    state.rt.request_drain(&caller.org_id); // capacity or members may have opened up
    let n = members_of(&state, &t).await?.len();
    Ok(HttpResponse::Ok().json(Data::new(view(&t, n))))
}

/// Deactivate a team (soft delete, admin only).
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Data<TeamView>), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/teams/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = find_team(&state, &caller.org_id, &id).await?;
    let now = Utc::now();
    let mut am = t.into_active_model();
    am.is_active = Set(false);
    am.deleted_at = Set(Some(now));
    am.updated_at = Set(now);
    let t = am.update(state.db()).await?;
    // Its conversations now go to everyone available.
    state.rt.request_drain(&caller.org_id);
    Ok(HttpResponse::Ok().json(Data::new(view(&t, 0))))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddMember {
    pub user_id: Option<String>,
    /// `MEMBER` (default) or `LEAD`.
    pub role: Option<String>,
}

fn team_role(r: Option<&str>) -> ApiResult<TeamRole> {
    TeamRole::parse(&r.unwrap_or("MEMBER").trim().to_uppercase())
        .ok_or_else(|| ApiError::validation("role", "role must be LEAD or MEMBER"))
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
    let t = find_team(&state, &caller.org_id, &id).await?;
    let user_id = body.user_id.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let user_id = user_id.ok_or_else(|| ApiError::validation("userId", "userId is required"))?;
    let role = team_role(body.role.as_deref())?;
    let user = user::Entity::find_by_id(user_id.to_owned())
        .filter(user::Column::OrgId.eq(caller.org_id.clone()))
        .filter(user::Column::DeletedAt.is_null())
        .one(state.db())
        .await?
        .ok_or_else(|| ApiError::validation("userId", "no such user"))?;
    crate::auth::membership::add_member(state.db(), &caller.org_id, &t.id, &user.id, role).await?;
    state.rt.request_drain(&caller.org_id);
    let members = members_of(&state, &t).await?;
    Ok(HttpResponse::Created().json(Data::new(TeamDetail { team: view(&t, members.len()), members })))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateMember {
    /// `LEAD` or `MEMBER`.
    pub role: Option<String>,
}

async fn membership(state: &AppState, team_id: &str, user_id: &str) -> ApiResult<team_member::Model> {
    team_member::Entity::find_by_id((team_id.to_owned(), user_id.to_owned()))
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("team member"))
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
    let t = find_team(&state, &caller.org_id, &id).await?;
    if body.role.is_none() {
        return Err(ApiError::validation("role", "role is required"));
    }
    let role = team_role(body.role.as_deref())?;
    let mut am = membership(&state, &t.id, &user_id).await?.into_active_model();
    am.role = Set(role);
    am.update(state.db()).await?;
    let members = members_of(&state, &t).await?;
    Ok(HttpResponse::Ok().json(Data::new(TeamDetail { team: view(&t, members.len()), members })))
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
    let t = find_team(&state, &caller.org_id, &id).await?;
    membership(&state, &t.id, &user_id).await?;
    team_member::Entity::delete_by_id((t.id.clone(), user_id)).exec(state.db()).await?;
    let members = members_of(&state, &t).await?;
    Ok(HttpResponse::Ok().json(Data::new(TeamDetail { team: view(&t, members.len()), members })))
}

fn schedule_of(t: &team::Model) -> Option<WeeklySchedule> {
    t.schedule.as_deref().and_then(|s| serde_json::from_str(s).ok())
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
    let t = find_team(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(schedule_of(&t))))
}

/// Parses and checks a schedule body; errors name the field.

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
    let t = find_team(&state, &caller.org_id, &id).await?;
    let schedule = crate::workspace::routing::parse_schedule(body.into_inner())?;
    let mut am = t.into_active_model();
    am.schedule = Set(Some(serde_json::to_string(&schedule).map_err(|e| ApiError::Internal(e.to_string()))?));
    am.updated_at = Set(Utc::now());
    am.update(state.db()).await?;
    state.rt.request_drain(&caller.org_id); // the team may be working now
    Ok(HttpResponse::Ok().json(Data::new(schedule)))
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
    let t = find_team(&state, &caller.org_id, &id).await?;
    let schedule = match schedule_of(&t) {
        Some(s) => Some(s),
        None => actors::people::settings::load(state.db(), &caller.org_id).await?.business_hours,
    };
    let now = Utc::now();
    let status = match schedule {
        Some(s) => s.status(now),
        None => WeeklySchedule { timezone: "UTC".into(), is_enabled: false, slots: Vec::new(), holidays: Vec::new() }
            .status(now),
    };
    Ok(HttpResponse::Ok().json(Data::new(status)))
}
