//! Auto-assignment. The queue (conversations OPEN and unassigned, oldest first, but for inboxes
//! with auto-assignment off, whose conversations wait for an agent to take them) drains to
//! agents who are ONLINE with a live socket and under their capacity: inside the conversation's
//! team by the team's strategy, or among all available agents when it has no team. Least-loaded
//! picks the agent with the fewest open conversations (ties: the one assigned longest ago, so ties
//! rotate); round-robin picks the one assigned longest ago. Each claim goes through the
//! conversation's actor, which takes only a conversation that is still queued, so two drains can
//! never assign one conversation twice; in a cluster one node at a time drains an organization.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::enums::{AssignStrategy, Presence};
use entities::{conversation, team, team_member, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{presence, settings};
use crate::conversation::AutoAssign;
use crate::error::ActorError;
use crate::runtime::Runtime;

/// An agent as assignment sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    pub user_id: String,
    /// Open conversations assigned now.
    pub open: u32,
    /// Their own limit, if set (it wins over the team's).
    pub capacity: Option<u32>,
    /// Order of the last assignment (older first); `None` = never.
    pub last_assigned: Option<i64>,
}

/// Where a conversation may go.
#[derive(Clone, Debug)]
pub struct Pool {
    pub members: Vec<String>,
    pub strategy: AssignStrategy,
    /// The team's per-agent limit.
    pub capacity: Option<u32>,
}

/// Picks an agent of `pool` under capacity, or `None`.
pub fn pick<'a>(pool: &Pool, agents: &'a HashMap<String, Agent>) -> Option<&'a Agent> {
    let eligible = pool.members.iter().filter_map(|id| agents.get(id)).filter(|a| match a.capacity.or(pool.capacity) {
        Some(cap) => a.open < cap,
        None => true,
    });
    let never_first = |a: &Agent| a.last_assigned.unwrap_or(i64::MIN);
    match pool.strategy {
        AssignStrategy::LeastLoaded => {
            eligible.min_by(|a, b| (a.open, never_first(a), &a.user_id).cmp(&(b.open, never_first(b), &b.user_id)))
        }
        AssignStrategy::RoundRobin => {
            eligible.min_by(|a, b| (never_first(a), a.open, &a.user_id).cmp(&(never_first(b), b.open, &b.user_id)))
        }
    }
}

/// Decides who gets which of `backlog` (oldest first; each with its pool), updating the loads
/// as it goes. `clock` numbers the assignments made here after every earlier one.
pub fn plan(backlog: &[(String, Pool)], agents: &mut HashMap<String, Agent>, mut clock: i64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (conversation_id, pool) in backlog {
        let Some(chosen) = pick(pool, agents).map(|a| a.user_id.clone()) else {
            continue;
        };
        if let Some(a) = agents.get_mut(&chosen) {
            a.open += 1;
            clock += 1;
            a.last_assigned = Some(clock);
        }
        out.push((conversation_id.clone(), chosen));
    }
    out
}

/// How many queued conversations one drain looks at.
const BACKLOG_BATCH: u64 = 500;

/// Assigns what it can of the organization's queue. Returns how many were assigned.
pub async fn drain(rt: &Runtime, org_id: &str) -> Result<usize, ActorError> {
    let lock = format!("assign:{org_id}");
    if let Some(cluster) = &rt.cluster
        && let Ok(false) = cluster.try_lock(&lock, Duration::from_secs(30)).await
    {
        // Another node is draining; look again shortly in case it read the queue before our news.
        let rt2 = rt.clone();
        let org = org_id.to_owned();
        actix::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            rt2.request_drain(&org);
        });
        return Ok(0);
    }
    let result = drain_here(rt, org_id).await;
    if let Some(cluster) = &rt.cluster {
        cluster.unlock(&lock).await;
    }
    result
}

async fn drain_here(rt: &Runtime, org_id: &str) -> Result<usize, ActorError> {
    let db = &rt.db.conn;
    let settings = settings::load(db, org_id).await?;
    if settings.maintenance.maintenance_mode {
        return Ok(0); // maintenance holds assignment
    }
    let Some(mut available) = Available::load(rt, org_id).await? else {
        return Ok(0);
    };
    // An inbox with auto-assignment off keeps its conversations in the queue for agents to take.
    let manual = crate::store::inboxes::without_auto_assignment(db, org_id).await?;
    let queue = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(crate::store::conversations::queued())
        .filter(conversation::Column::AssignedTo.is_null())
        .filter(conversation::Column::InboxId.is_not_in(manual))
        // Not before its first message is stored: that is when routing chooses its team, and a
        // drain in between would hand it to anyone.
        .filter(conversation::Column::LastInboundAt.is_not_null())
        .order_by_asc(conversation::Column::QueuedAt)
        .order_by_asc(conversation::Column::CreatedAt)
        .limit(BACKLOG_BATCH)
        .all(db)
        .await?;
    let backlog: Vec<(String, Pool)> =
        queue.iter().map(|c| (c.id.clone(), available.pool_for(c.team_id.as_deref()))).collect();
    let decisions = plan(&backlog, &mut available.agents, available.clock);
    let mut assigned = 0;
    for (conversation_id, user_id) in decisions {
        if claim(rt, org_id, &conversation_id, &user_id).await {
            assigned += 1;
        }
    }
    if assigned > 0 {
        tracing::debug!(%org_id, assigned, "queue drained");
    }
    Ok(assigned)
}

/// Gives a queued conversation to `user_id` through its actor; `false` if it was taken meanwhile.
pub async fn claim(rt: &Runtime, org_id: &str, conversation_id: &str, user_id: &str) -> bool {
    let msg = AutoAssign { org_id: org_id.into(), user_id: user_id.into() };
    match rt.ask_conversation(org_id, conversation_id, msg).await {
        Ok(Some(_)) => {
            if let Err(e) = mark_assigned(rt, user_id, Utc::now()).await {
                tracing::warn!(%user_id, error = %e, "could not record the assignment time");
            }
            true
        }
        Ok(None) => false, // taken meanwhile (an agent, another node): nothing to do
        Err(e) => {
            tracing::warn!(%conversation_id, error = %e, "auto-assignment claim failed");
            false
        }
    }
}

/// The organization's agents who can take conversations now, with their loads, and its teams.
pub struct Available {
    pub agents: HashMap<String, Agent>,
    teams: HashMap<String, team::Model>,
    members: HashMap<String, Vec<String>>,
    everyone: Vec<String>,
    /// Numbers assignments made from here after every earlier one.
    pub clock: i64,
}

impl Available {
    /// `None` when nobody is ONLINE with a live connection.
    pub async fn load(rt: &Runtime, org_id: &str) -> Result<Option<Available>, ActorError> {
        let db = &rt.db.conn;
        let live = presence::live_users(rt, org_id).await;
        if live.is_empty() {
            return Ok(None);
        }
        let online: Vec<user::Model> = user::Entity::find()
            .filter(user::Column::OrgId.eq(org_id))
            .filter(user::Column::Status.eq(Presence::Online.as_str()))
            .filter(user::Column::DeletedAt.is_null())
            .all(db)
            .await?
            .into_iter()
            .filter(|u| live.contains(&u.id))
            .collect();
        if online.is_empty() {
            return Ok(None);
        }
        let ids: Vec<String> = online.iter().map(|u| u.id.clone()).collect();
        let open = crate::store::conversations::open_counts(db, org_id, &ids).await?;
        let agents: HashMap<String, Agent> = online
            .iter()
            .map(|u| {
                let agent = Agent {
                    user_id: u.id.clone(),
                    open: open.get(&u.id).copied().unwrap_or(0).max(0) as u32,
                    capacity: u.max_concurrent.map(|c| c.max(0) as u32),
                    last_assigned: u.last_assigned_at.map(|t| t.timestamp_millis()),
                };
                (u.id.clone(), agent)
            })
            .collect();
        let teams: HashMap<String, team::Model> = team::Entity::find()
            .filter(team::Column::OrgId.eq(org_id))
            .filter(team::Column::IsActive.eq(true))
            .filter(team::Column::DeletedAt.is_null())
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect();
        let mut members: HashMap<String, Vec<String>> = HashMap::new();
        for m in team_member::Entity::find()
            .filter(team_member::Column::OrgId.eq(org_id))
            .filter(team_member::Column::UserId.is_in(ids.clone()))
            .all(db)
            .await?
        {
            members.entry(m.team_id).or_default().push(m.user_id);
        }
        let clock =
            agents.values().filter_map(|a| a.last_assigned).max().unwrap_or(0).max(Utc::now().timestamp_millis());
        Ok(Some(Available { agents, teams, members, everyone: ids, clock }))
    }

    /// Where a conversation of `team_id` may go: that team's available members by its
    /// strategy, or everyone available when it has no (active) team. A team outside its working
    /// hours (its schedule, when it has one) takes nothing: its conversations wait in the queue
    /// until it opens, and the drain that runs every `CX_IDLE_CHECK_MS` hands them out then.
    pub fn pool_for(&self, team_id: Option<&str>) -> Pool {
        match team_id.and_then(|t| self.teams.get(t)) {
            Some(t) => Pool {
                members: if team_open(t, Utc::now()) {
                    self.members.get(&t.id).cloned().unwrap_or_default()
                } else {
                    Vec::new()
                },
                strategy: t.strategy,
                capacity: t.max_open_per_agent.map(|c| c.max(0) as u32),
            },
            None => Pool { members: self.everyone.clone(), strategy: AssignStrategy::LeastLoaded, capacity: None },
        }
    }
}

/// Whether `team` works at `at`: always without a schedule (or with one that does not parse).
fn team_open(team: &team::Model, at: DateTime<Utc>) -> bool {
    team.schedule
        .as_deref()
        .and_then(|s| serde_json::from_str::<crate::policy::schedule::WeeklySchedule>(s).ok())
        .is_none_or(|s| s.is_open(at))
}

async fn mark_assigned(rt: &Runtime, user_id: &str, at: DateTime<Utc>) -> Result<(), ActorError> {
    user::Entity::update_many()
        .col_expr(user::Column::LastAssignedAt, Expr::value(at))
        .filter(user::Column::Id.eq(user_id))
        .exec(&rt.db.conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, open: u32, capacity: Option<u32>, last: Option<i64>) -> (String, Agent) {
        (id.to_owned(), Agent { user_id: id.to_owned(), open, capacity, last_assigned: last })
    }

    fn pool(members: &[&str], strategy: AssignStrategy, capacity: Option<u32>) -> Pool {
        Pool { members: members.iter().map(|s| (*s).to_owned()).collect(), strategy, capacity }
    }

    #[test]
    fn least_loaded_first_and_ties_rotate() {
        let agents: HashMap<_, _> =
            [agent("a", 2, None, Some(1)), agent("b", 1, None, Some(5)), agent("c", 1, None, Some(3))].into();
        let p = pool(&["a", "b", "c"], AssignStrategy::LeastLoaded, None);
        assert_eq!(pick(&p, &agents).map(|a| a.user_id.as_str()), Some("c"), "fewest open, then assigned longest ago");
    }

    #[test]
    fn capacity_is_respected_and_the_agents_own_limit_wins() {
        let agents: HashMap<_, _> = [agent("a", 3, Some(5), None), agent("b", 2, None, None)].into();
        let p = pool(&["a", "b"], AssignStrategy::LeastLoaded, Some(2));
        assert_eq!(
            pick(&p, &agents).map(|a| a.user_id.as_str()),
            Some("a"),
            "b is at the team limit; a has 5 of its own"
        );
        let full: HashMap<_, _> = [agent("a", 5, Some(5), None)].into();
        assert!(pick(&pool(&["a"], AssignStrategy::LeastLoaded, None), &full).is_none());
    }

    #[test]
    fn round_robin_ignores_load() {
        let agents: HashMap<_, _> = [agent("a", 0, None, Some(9)), agent("b", 4, None, Some(2))].into();
        let p = pool(&["a", "b"], AssignStrategy::RoundRobin, None);
        assert_eq!(pick(&p, &agents).map(|a| a.user_id.as_str()), Some("b"));
    }

    #[test]
    fn a_backlog_of_twenty_fills_two_agents_of_capacity_five_oldest_first() {
        let mut agents: HashMap<_, _> = [agent("a", 0, Some(5), None), agent("b", 0, Some(5), None)].into();
        let p = pool(&["a", "b"], AssignStrategy::LeastLoaded, None);
        let backlog: Vec<(String, Pool)> = (0..20).map(|i| (format!("c{i:02}"), p.clone())).collect();
        let out = plan(&backlog, &mut agents, 0);
        assert_eq!(out.len(), 10);
        let ids: Vec<&str> = out.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            ids,
            (0..10).map(|i| format!("c{i:02}")).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert_eq!(out.iter().filter(|(_, u)| u == "a").count(), 5);
        assert_eq!(out.iter().filter(|(_, u)| u == "b").count(), 5);
        // They alternate: least-loaded with round-robin ties.
        assert_ne!(out[0].1, out[1].1);
    }

    #[test]
    fn nobody_outside_the_pool_is_chosen() {
        let mut agents: HashMap<_, _> = [agent("a", 0, None, None)].into();
        let backlog = vec![("c1".to_owned(), pool(&["z"], AssignStrategy::LeastLoaded, None))];
        assert!(plan(&backlog, &mut agents, 0).is_empty());
    }
}
