//! Teams: their members (LEAD / MEMBER), assignment settings (strategy, capacity) and weekly
//! working hours. Deleting a team deactivates it: its rules stop matching and its conversations
//! are assigned among everyone. Every change that can free capacity asks auto-assignment to look
//! at the queue again.

use std::collections::HashMap;

use actors::Runtime;
use actors::policy::schedule::{ScheduleStatus, WeeklySchedule};
use chrono::{DateTime, Utc};
use entities::enums::{AssignStrategy, TeamRole};
use entities::{team, team_member, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{Error, Result, find_in_org};

/// A member as the team screens show them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
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

/// A team of the organization (active or not).
pub async fn find(db: &DatabaseConnection, org_id: &str, id: &str) -> Result<team::Model> {
    find_in_org::<team::Entity>(db, org_id, id).await
}

/// The team's (undeleted) members, by when they joined, with their open conversations.
pub async fn members(db: &DatabaseConnection, t: &team::Model) -> Result<Vec<Member>> {
    let links = team_member::Entity::find()
        .filter(team_member::Column::TeamId.eq(t.id.clone()))
        .order_by_asc(team_member::Column::CreatedAt)
        .all(db)
        .await?;
    let ids: Vec<String> = links.iter().map(|l| l.user_id.clone()).collect();
    let users: HashMap<String, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.clone()))
        .filter(user::Column::DeletedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    let open = actors::store::conversations::open_counts(db, &t.org_id, &ids).await?;
    Ok(links
        .into_iter()
        .filter_map(|l| {
            let u = users.get(&l.user_id)?;
            Some(Member {
                user_id: u.id.clone(),
                name: u.name.clone(),
                email: u.email.clone(),
                role: l.role.to_string(),
                status: u.status.to_string(),
                open_conversations: open.get(&u.id).copied().unwrap_or(0),
                joined_at: l.created_at,
            })
        })
        .collect())
}

/// The organization's teams by name (active ones unless `include_inactive`), each with its
/// number of members.
pub async fn list(db: &DatabaseConnection, org_id: &str, include_inactive: bool) -> Result<Vec<(team::Model, usize)>> {
    let mut query = team::Entity::find().filter(team::Column::OrgId.eq(org_id));
    if !include_inactive {
        query = query.filter(team::Column::IsActive.eq(true));
    }
    let teams = query.order_by_asc(team::Column::Name).all(db).await?;
    let counts: Vec<(String, i64)> = team_member::Entity::find()
        .select_only()
        .column(team_member::Column::TeamId)
        .column_as(sea_orm::sea_query::ExprTrait::count(Expr::col(team_member::Column::UserId)), "n")
        .filter(team_member::Column::OrgId.eq(org_id))
        .group_by(team_member::Column::TeamId)
        .into_tuple()
        .all(db)
        .await?;
    let counts: HashMap<String, i64> = counts.into_iter().collect();
    Ok(teams
        .into_iter()
        .map(|t| {
            let n = counts.get(&t.id).copied().unwrap_or(0).max(0) as usize;
            (t, n)
        })
        .collect())
}

fn team_name(name: Option<&str>) -> Result<String> {
    let n = name.unwrap_or_default().trim();
    if n.is_empty() || n.chars().count() > 80 {
        return Err(Error::invalid("name", "name is required and at most 80 characters"));
    }
    Ok(n.to_owned())
}

fn strategy(s: &str) -> Result<AssignStrategy> {
    AssignStrategy::parse(&s.trim().to_uppercase())
        .ok_or_else(|| Error::invalid("strategy", "strategy must be LEAST_LOADED or ROUND_ROBIN"))
}

fn capacity(c: Option<i32>) -> Result<Option<i32>> {
    match c {
        Some(n) if !(1..=1000).contains(&n) => {
            Err(Error::invalid("maxOpenPerAgent", "maxOpenPerAgent must be between 1 and 1000, or null"))
        }
        other => Ok(other),
    }
}

fn description(d: Option<&str>) -> Option<String> {
    d.map(str::trim).filter(|d| !d.is_empty()).map(str::to_owned)
}

/// A role given by a client: `MEMBER` when absent.
pub fn team_role(r: Option<&str>) -> Result<TeamRole> {
    TeamRole::parse(&r.unwrap_or("MEMBER").trim().to_uppercase())
        .ok_or_else(|| Error::invalid("role", "role must be LEAD or MEMBER"))
}

async fn ensure_unique_name(db: &DatabaseConnection, org_id: &str, name: &str, except: Option<&str>) -> Result<()> {
    let teams = team::Entity::find()
        .filter(team::Column::OrgId.eq(org_id))
        .filter(team::Column::IsActive.eq(true))
        .all(db)
        .await?;
    if teams.iter().any(|t| t.name.eq_ignore_ascii_case(name) && Some(t.id.as_str()) != except) {
        return Err(Error::Conflict(format!("an active team named {name:?} already exists")));
    }
    Ok(())
}

/// A team's settings as a client gives them; `None` keeps (or defaults) one, `Some(None)`
/// clears an optional one.
#[derive(Default)]
pub struct Settings {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    /// `LEAST_LOADED` (the default) or `ROUND_ROBIN`.
    pub strategy: Option<String>,
    pub max_open_per_agent: Option<Option<i32>>,
    /// `true` reactivates a deactivated team (on update).
    pub is_active: Option<bool>,
}

/// Creates an active team; its name must not be another active team's.
pub async fn create(db: &DatabaseConnection, org_id: &str, s: Settings) -> Result<team::Model> {
    let name = team_name(s.name.as_deref())?;
    let strategy = strategy(s.strategy.as_deref().unwrap_or("LEAST_LOADED"))?;
    let cap = capacity(s.max_open_per_agent.flatten())?;
    ensure_unique_name(db, org_id, &name, None).await?;
    let now = Utc::now();
    let row = team::Model {
        id: actors::new_id(),
        org_id: org_id.to_owned(),
        name,
        description: description(s.description.flatten().as_deref()),
        strategy,
        max_open_per_agent: cap,
        schedule: None,
        is_active: true,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    Ok(team::ActiveModel::from(row).reset_all().insert(db).await?)
}

/// Changes a team's settings (reactivating it checks its name is still free).
pub async fn update(rt: &Runtime, org_id: &str, id: &str, s: Settings) -> Result<team::Model> {
    let db = &rt.db.conn;
    let t = find(db, org_id, id).await?;
    let mut am = t.clone().into_active_model();
    if let Some(name) = &s.name {
        let name = team_name(Some(name))?;
        ensure_unique_name(db, org_id, &name, Some(&t.id)).await?;
        am.name = Set(name);
    }
    if let Some(d) = &s.description {
        am.description = Set(description(d.as_deref()));
    }
    if let Some(st) = &s.strategy {
        am.strategy = Set(strategy(st)?);
    }
    if let Some(c) = s.max_open_per_agent {
        am.max_open_per_agent = Set(capacity(c)?);
    }
    if let Some(active) = s.is_active {
        if active && !t.is_active {
            ensure_unique_name(db, org_id, &t.name, Some(&t.id)).await?;
        }
        am.is_active = Set(active);
        am.deleted_at = Set(if active { None } else { t.deleted_at.or(Some(Utc::now())) });
    }
    am.updated_at = Set(Utc::now());
    let t = am.update(db).await?;
    rt.request_drain(org_id); // capacity or members may have opened up
    Ok(t)
}

/// Deactivates a team (a soft delete): its conversations now go to everyone available.
pub async fn deactivate(rt: &Runtime, org_id: &str, id: &str) -> Result<team::Model> {
    let t = find(&rt.db.conn, org_id, id).await?;
    let now = Utc::now();
    let mut am = t.into_active_model();
    am.is_active = Set(false);
    am.deleted_at = Set(Some(now));
    am.updated_at = Set(now);
    let t = am.update(&rt.db.conn).await?;
    rt.request_drain(org_id);
    Ok(t)
}

/// Adds an (undeleted) user of the organization to the team.
pub async fn add_member(rt: &Runtime, t: &team::Model, user_id: Option<&str>, role: Option<&str>) -> Result<()> {
    let user_id = user_id.map(str::trim).filter(|u| !u.is_empty());
    let user_id = user_id.ok_or_else(|| Error::invalid("userId", "userId is required"))?;
    let role = team_role(role)?;
    let user = crate::auth::users::active_user(&rt.db.conn, &t.org_id, user_id)
        .await?
        .ok_or_else(|| Error::invalid("userId", "no such user"))?;
    crate::auth::membership::add_member(&rt.db.conn, &t.org_id, &t.id, &user.id, role).await?;
    rt.request_drain(&t.org_id);
    Ok(())
}

async fn membership(db: &DatabaseConnection, team_id: &str, user_id: &str) -> Result<team_member::Model> {
    team_member::Entity::find_by_id((team_id.to_owned(), user_id.to_owned()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("team member"))
}

/// Changes a member's role.
pub async fn set_member_role(
    db: &DatabaseConnection,
    t: &team::Model,
    user_id: &str,
    role: Option<&str>,
) -> Result<()> {
    if role.is_none() {
        return Err(Error::invalid("role", "role is required"));
    }
    let role = team_role(role)?;
    let mut am = membership(db, &t.id, user_id).await?.into_active_model();
    am.role = Set(role);
    am.update(db).await?;
    Ok(())
}

/// Takes a member off the team; their conversations stay with them.
pub async fn remove_member(db: &DatabaseConnection, t: &team::Model, user_id: &str) -> Result<()> {
    membership(db, &t.id, user_id).await?;
    team_member::Entity::delete_by_id((t.id.clone(), user_id.to_owned())).exec(db).await?;
    Ok(())
}

/// The team's working hours, if it has its own.
pub fn schedule_of(t: &team::Model) -> Option<WeeklySchedule> {
    t.schedule.as_deref().and_then(|s| serde_json::from_str(s).ok())
}

/// Creates or replaces the team's working hours (a schedule body, checked).
pub async fn set_schedule(rt: &Runtime, t: team::Model, body: serde_json::Value) -> Result<WeeklySchedule> {
    let org_id = t.org_id.clone();
    let schedule = super::routing::parse_schedule(body)?;
    let mut am = t.into_active_model();
    am.schedule = Set(Some(serde_json::to_string(&schedule)?));
    am.updated_at = Set(Utc::now());
    am.update(&rt.db.conn).await?;
    rt.request_drain(&org_id); // the team may be working now
    Ok(schedule)
}

/// Whether the team is within its working hours now. A team without a schedule follows the
/// organization's business hours, and with neither it is always open.
pub async fn schedule_status(db: &DatabaseConnection, t: &team::Model) -> Result<ScheduleStatus> {
    let schedule = match schedule_of(t) {
        Some(s) => Some(s),
        None => actors::people::settings::load(db, &t.org_id).await?.business_hours,
    };
    let now = Utc::now();
    Ok(match schedule {
        Some(s) => s.status(now),
        None => WeeklySchedule { timezone: "UTC".into(), is_enabled: false, slots: Vec::new(), holidays: Vec::new() }
            .status(now),
    })
}
