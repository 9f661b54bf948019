//! Agent presence. An agent sets ONLINE / AWAY / BUSY / OFFLINE; reality sets it too: the first
//! socket makes an OFFLINE agent ONLINE, and an agent with no live socket anywhere in the cluster
//! for the grace period becomes OFFLINE. Every change is one conditional update (so two nodes
//! that notice the same thing emit one event) and an `agent.presence_changed` event.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use entities::enums::Presence;
use entities::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::error::ActorError;
use crate::events::EventName;
use crate::runtime::Runtime;
use crate::store::events::NewEvent;

/// Sockets open on this node, per user.
#[derive(Default)]
pub struct LocalPresence {
    sessions: Mutex<HashMap<String, (String, usize)>>,
}

impl LocalPresence {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, usize)>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a new socket of `user_id`.
    pub fn opened(&self, org_id: &str, user_id: &str) {
        self.map().entry(user_id.to_owned()).or_insert_with(|| (org_id.to_owned(), 0)).1 += 1;
    }

    /// Counts a closed socket; the user is forgotten with their last one.
    pub fn closed(&self, user_id: &str) {
        let mut m = self.map();
        if let Some(e) = m.get_mut(user_id) {
            e.1 -= 1;
            if e.1 == 0 {
                m.remove(user_id);
            }
        }
    }

    /// Users of `org_id` with a socket on this node.
    pub fn users_of(&self, org_id: &str) -> HashSet<String> {
        self.map().iter().filter(|(_, (o, _))| o == org_id).map(|(u, _)| u.clone()).collect()
    }
}

/// Users of the organization with a live socket on any node.
pub async fn live_users(rt: &Runtime, org_id: &str) -> HashSet<String> {
    let mut live = rt.presence.users_of(org_id);
    if let Some(cluster) = &rt.cluster
        && let Ok(remote) = cluster.online_users(org_id).await
    {
        live.extend(remote);
    }
    live
}

/// Sets a user's presence; emits `agent.presence_changed` when it changed. `None` when the user
/// does not exist (in this organization) or is deleted.
pub async fn set_status(
    rt: &Runtime,
    org_id: &str,
    user_id: &str,
    status: Presence,
    reason: &str,
) -> Result<Option<user::Model>, ActorError> {
    let Some(current) = active_user(rt, org_id, user_id).await? else {
        return Ok(None);
    };
    if current.status == status {
        return Ok(Some(current));
    }
    let now = Utc::now();
    let txn = rt.db.begin_write_in(org_id).await?;
    // Only from the status we read: of two nodes noticing the same disconnect, one writes.
    let changed = user::Entity::update_many()
        .col_expr(user::Column::Status, Expr::value(status.as_str()))
        .col_expr(user::Column::StatusChangedAt, Expr::value(now))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::Status.eq(current.status))
        .exec(&*txn)
        .await?;
    if changed.rows_affected == 0 {
        drop(txn);
        return active_user(rt, org_id, user_id).await;
    }
    let payload = json!({
        "userId": user_id,
        "name": current.name,
        "status": status.as_str(),
        "previousStatus": current.status,
        "reason": reason,
        "at": now,
    });
    let event = NewEvent { conversation: None, name: EventName::AgentPresenceChanged, payload: payload.to_string() };
    rt.commit(txn, org_id, vec![event]).await?;
    match status {
        Presence::Online => rt.request_drain(org_id),
        Presence::Offline | Presence::Away => rt.request_idle_check(org_id),
        Presence::Busy => {}
    }
    Ok(Some(user::Model { status, status_changed_at: Some(now), updated_at: now, ..current }))
}

async fn active_user(rt: &Runtime, org_id: &str, user_id: &str) -> Result<Option<user::Model>, ActorError> {
    Ok(user::Entity::find_by_id(user_id.to_owned())
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::DeletedAt.is_null())
        .one(&rt.db.conn)
        .await?)
}

/// A socket opened: an OFFLINE agent is ONLINE now.
pub async fn connected(rt: &Runtime, org_id: &str, user_id: &str) {
    let result = async {
        if let Some(u) = active_user(rt, org_id, user_id).await?
            && u.status == Presence::Offline
        {
            set_status(rt, org_id, user_id, Presence::Online, "connected").await?;
        } else {
            // Already ONLINE (another tab, or a quick reconnect): capacity may be waiting.
            rt.request_drain(org_id);
        }
        Ok::<_, ActorError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(%user_id, error = %e, "could not record the agent as connected");
    }
}

/// Records when an agent was last seen connected (their last socket is gone).
async fn seen_last(rt: &Runtime, user_id: &str) {
    let result = user::Entity::update_many()
        .col_expr(user::Column::LastSeenAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(user_id))
        .exec(&rt.db.conn)
        .await;
    if let Err(e) = result {
        tracing::warn!(%user_id, error = %e, "could not record when the agent left");
    }
}

/// Marks agents OFFLINE once they have had no live socket for `grace`. Runs until shutdown.
pub async fn run_monitor(rt: Runtime, grace: Duration) {
    let mut absent: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval((grace / 3).clamp(Duration::from_millis(50), Duration::from_secs(5)));
    loop {
        tick.tick().await;
        let present = match user::Entity::find()
            .filter(user::Column::Status.ne(Presence::Offline.as_str()))
            .filter(user::Column::DeletedAt.is_null())
            .all(&rt.db.conn)
            .await
        {
            Ok(users) => users,
            Err(e) => {
                tracing::warn!(error = %e, "presence check failed");
                continue;
            }
        };
        let mut by_org: HashMap<String, Vec<user::Model>> = HashMap::new();
        for u in present {
            by_org.entry(u.org_id.clone()).or_default().push(u);
        }
        let mut seen = HashSet::new();
        for (org_id, users) in by_org {
            let live = live_users(&rt, &org_id).await;
            for u in users {
                seen.insert(u.id.clone());
                if live.contains(&u.id) {
                    absent.remove(&u.id);
                    continue;
                }
                let since = match absent.get(&u.id) {
                    Some(since) => *since,
                    None => {
                        absent.insert(u.id.clone(), Instant::now());
                        seen_last(&rt, &u.id).await;
                        Instant::now()
                    }
                };
                if since.elapsed() >= grace {
                    absent.remove(&u.id);
                    if let Err(e) = set_status(&rt, &org_id, &u.id, Presence::Offline, "no live connection").await {
                        tracing::warn!(user_id = %u.id, error = %e, "could not mark the agent offline");
                    }
                }
            }
        }
        absent.retain(|id, _| seen.contains(id));
    }
}
