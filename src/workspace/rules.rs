//! Routing rules: conditions on a conversation (its message, contact, channel, tags, time) that
//! give it to a team, checked from the first to the last. A new or changed rule is answered with
//! its conflicts (rules it duplicates, shadows or is shadowed by); running them again re-routes
//! every open conversation through its actor.

use std::collections::BTreeMap;

use actors::Runtime;
use actors::conversation::Reroute;
use actors::policy::routing::{self as policy, Condition, Conflict, MatchType, Rule};
use chrono::Utc;
use entities::enums::ConversationStatus;
use entities::{conversation, routing_rule};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::membership::active_team;
use crate::domain::{Error, Result, find_in_org};

/// The organization's rules, first to last.
pub async fn all(db: &DatabaseConnection, org_id: &str) -> Result<Vec<routing_rule::Model>> {
    Ok(routing_rule::Entity::find()
        .filter(routing_rule::Column::OrgId.eq(org_id))
        .order_by_asc(routing_rule::Column::Priority)
        .order_by_asc(routing_rule::Column::CreatedAt)
        .all(db)
        .await?)
}

/// `ANY` (the default) or `ALL`, in any case.
pub fn match_type(s: Option<&str>) -> Result<MatchType> {
    match s.map(|m| m.trim().to_uppercase()).as_deref() {
        None | Some("ANY") => Ok(MatchType::Any),
        Some("ALL") => Ok(MatchType::All),
        Some(_) => Err(Error::invalid("matchType", "matchType must be ANY or ALL")),
    }
}

fn match_type_str(m: &MatchType) -> &'static str {
    match m {
        MatchType::Any => "ANY",
        MatchType::All => "ALL",
    }
}

pub fn check_conditions(conditions: &[Condition]) -> Result<()> {
    policy::validate_conditions(conditions).map_err(|e| Error::invalid(e.field, e.message))
}

fn rule_name(n: Option<&str>) -> Result<String> {
    let n = n.unwrap_or_default().trim();
    if n.is_empty() || n.chars().count() > 120 {
        return Err(Error::invalid("name", "name is required and at most 120 characters"));
    }
    Ok(n.to_owned())
}

/// Conflicts of `candidate` with the organization's other active rules, at the position of the
/// rule `exclude` names (else last).
pub async fn conflicts(
    db: &DatabaseConnection,
    org_id: &str,
    candidate: &Rule,
    exclude: Option<&str>,
) -> Result<Vec<Conflict>> {
    let rules = all(db, org_id).await?;
    let position = exclude.and_then(|id| rules.iter().filter(|r| r.is_active).position(|r| r.id == id));
    let others: Vec<Rule> = rules
        .iter()
        .filter(|r| r.is_active && Some(r.id.as_str()) != exclude)
        .map(actors::people::routing::rule_of)
        .collect();
    Ok(policy::conflicts(candidate, &others, position))
}

/// A rule as a client gives it; `None` keeps (or defaults) a field.
#[derive(Default)]
pub struct Fields {
    pub name: Option<String>,
    pub team_id: Option<String>,
    pub match_type: Option<String>,
    pub conditions: Option<Vec<Condition>>,
    pub is_active: Option<bool>,
}

/// Creates a rule after the existing ones; answers it with its conflicts.
pub async fn create(db: &DatabaseConnection, org_id: &str, f: Fields) -> Result<(routing_rule::Model, Vec<Conflict>)> {
    let name = rule_name(f.name.as_deref())?;
    let team_id = f.team_id.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let team_id = team_id.ok_or_else(|| Error::invalid("teamId", "teamId is required"))?;
    let team = active_team(db, org_id, team_id, "teamId").await?;
    let mt = match_type(f.match_type.as_deref())?;
    let conditions = f.conditions.unwrap_or_default();
    check_conditions(&conditions)?;
    let existing = all(db, org_id).await?;
    let priority = existing.iter().map(|r| r.priority).max().unwrap_or(0) + 1;
    let now = Utc::now();
    let row = routing_rule::Model {
        id: actors::new_id(),
        org_id: org_id.to_owned(),
        name,
        team_id: team.id,
        match_type: match_type_str(&mt).into(),
        conditions: serde_json::to_string(&conditions)?,
        priority,
        is_active: f.is_active.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    let candidate = actors::people::routing::rule_of(&row);
    let found = conflicts(db, org_id, &candidate, None).await?;
    routing_rule::ActiveModel::from(row.clone()).reset_all().insert(db).await?;
    Ok((row, found))
}

/// Changes a rule (its place in the order changes only by [`reorder`]); answers it with its
/// conflicts.
pub async fn update(
    db: &DatabaseConnection,
    org_id: &str,
    id: &str,
    f: Fields,
) -> Result<(routing_rule::Model, Vec<Conflict>)> {
    let r = find_in_org::<routing_rule::Entity>(db, org_id, id).await?;
    let mut am = r.into_active_model();
    if let Some(n) = &f.name {
        am.name = Set(rule_name(Some(n))?);
    }
    if let Some(t) = &f.team_id {
        am.team_id = Set(active_team(db, org_id, t.trim(), "teamId").await?.id);
    }
    if f.match_type.is_some() {
        am.match_type = Set(match_type_str(&match_type(f.match_type.as_deref())?).into());
    }
    if let Some(c) = &f.conditions {
        check_conditions(c)?;
        am.conditions = Set(serde_json::to_string(c)?);
    }
    if let Some(a) = f.is_active {
        am.is_active = Set(a);
    }
    am.updated_at = Set(Utc::now());
    let r = am.update(db).await?;
    let found = conflicts(db, org_id, &actors::people::routing::rule_of(&r), Some(&r.id)).await?;
    Ok((r, found))
}

/// Deletes a rule.
pub async fn delete(db: &DatabaseConnection, org_id: &str, id: &str) -> Result<()> {
    let r = find_in_org::<routing_rule::Entity>(db, org_id, id).await?;
    routing_rule::Entity::delete_by_id(r.id).exec(db).await?;
    Ok(())
}

/// Puts the rules in the order of `ids`, which must list each of them exactly once.
pub async fn reorder(rt: &Runtime, org_id: &str, ids: &[String]) -> Result<Vec<routing_rule::Model>> {
    let rules = all(&rt.db.conn, org_id).await?;
    let mut given: Vec<&str> = ids.iter().map(String::as_str).collect();
    given.sort_unstable();
    given.dedup();
    let mut have: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    have.sort_unstable();
    if given.len() != ids.len() || given != have {
        return Err(Error::invalid("orderedIds", "orderedIds must list every routing rule exactly once"));
    }
    let txn = rt.db.begin_write().await?;
    for (i, id) in ids.iter().enumerate() {
        if let Some(r) = rules.iter().find(|r| &r.id == id) {
            let mut am = r.clone().into_active_model();
            am.priority = Set(i as i32 + 1);
            am.updated_at = Set(Utc::now());
            am.update(&*txn).await?;
        }
    }
    txn.commit().await?;
    all(&rt.db.conn, org_id).await
}

/// What running the rules again did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunNowReport {
    /// Open conversations evaluated.
    pub checked: usize,
    /// Whose team changed.
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// Conversations per resulting team (`"none"` for no team).
    pub by_team: BTreeMap<String, usize>,
}

/// Routes every open conversation again, each through its actor, then lets auto-assignment look
/// at the queue.
pub async fn run_now(rt: &Runtime, org_id: &str) -> Result<RunNowReport> {
    let open: Vec<String> = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::Status.ne(ConversationStatus::Closed.as_str()))
        .order_by_asc(conversation::Column::CreatedAt)
        .all(&rt.db.conn)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut report =
        RunNowReport { checked: open.len(), changed: 0, unchanged: 0, failed: 0, by_team: Default::default() };
    for id in open {
        match rt.ask_conversation(org_id, &id, Reroute { org_id: org_id.to_owned() }).await {
            Ok(r) => {
                if r.changed {
                    report.changed += 1;
                } else {
                    report.unchanged += 1;
                }
                *report.by_team.entry(r.team_id.unwrap_or_else(|| "none".into())).or_default() += 1;
            }
            Err(e) => {
                tracing::warn!(conversation_id = %id, error = %e, "re-route failed");
                report.failed += 1;
            }
        }
    }
    rt.request_drain(org_id);
    Ok(report)
}
