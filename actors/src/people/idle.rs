//! `IdleAgentDetector`: one per node. Every interval it walks the organizations with detection
//! enabled (and on demand, one organization) and moves conversations away from agents who are
//! gone (OFFLINE, or AWAY when so configured, for the threshold) or silent (a customer waiting
//! longer than the threshold for the assigned agent's reply). A conversation whose agent replied
//! in it within the no-reply threshold is never taken. Moves go through the conversation's actor,
//! guarded on the agent it was decided about, and each leaves a timeline entry with the reason.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use entities::enums::{ConversationStatus, Direction, Presence};
use entities::{conversation, message, organization, user};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use serde_json::json;

use super::assign::{self, Available};
use super::settings::{IdleAction, IdleAgentSettings, RoutingSettings};
use crate::conversation::{Note, Reassign};
use crate::error::ActorError;
use crate::events::EventName;
use crate::runtime::Runtime;
use crate::store::events::NewEvent;

/// Check one organization now, whether or not periodic detection is enabled.
#[derive(Message)]
#[rtype(result = "Result<IdleReport, ActorError>")]
pub struct RunIdleCheck {
    pub org_id: String,
    /// Run even when detection is disabled (an admin's manual run).
    pub force: bool,
}

/// Check every organization with detection enabled.
#[derive(Message)]
#[rtype(result = "()")]
struct Sweep;

/// What one run found and did.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct IdleReport {
    pub enabled: bool,
    /// Open assigned conversations that could move (agent away, or customer waiting past the
    /// threshold) and were looked at.
    pub conversations_checked: usize,
    pub moves: Vec<IdleMove>,
    pub reassigned: usize,
    pub returned_to_queue: usize,
    pub notified: usize,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct IdleMove {
    pub conversation_id: String,
    pub from: String,
    /// The new agent; `None` = back to the queue (or left, when only notified).
    pub to: Option<String>,
    /// `REASSIGNED`, `RETURNED_TO_QUEUE` or `NOTIFIED`.
    pub action: String,
    pub reason: String,
}

pub struct IdleAgentDetector {
    rt: Runtime,
    every: Duration,
    /// Notices already given (conversation, agent, cause), so NOTIFY_ONLY says it once.
    notified: HashSet<(String, String, String)>,
}

impl IdleAgentDetector {
    pub fn new(rt: Runtime, every: Duration) -> Self {
        IdleAgentDetector { rt, every, notified: HashSet::new() }
    }
}

impl Actor for IdleAgentDetector {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.every, |_, ctx| ctx.notify(Sweep));
    }
}

impl Handler<Sweep> for IdleAgentDetector {
    type Result = AtomicResponse<Self, ()>;
    fn handle(&mut self, _: Sweep, _: &mut Context<Self>) -> Self::Result {
        let rt = self.rt.clone();
        let notified = std::mem::take(&mut self.notified);
        let fut = async move {
            let mut notified = notified;
            let orgs = match organization::Entity::find()
                .filter(organization::Column::RoutingSettings.is_not_null())
                .all(&rt.db.conn)
                .await
            {
                Ok(orgs) => orgs,
                Err(e) => {
                    tracing::warn!(error = %e, "idle-agent sweep failed");
                    return notified;
                }
            };
            for org in orgs {
                let settings = RoutingSettings::of(&org);
                if !settings.idle_agent.enabled {
                    continue;
                }
                if let Err(e) = run_locked(&rt, &org.id, &settings.idle_agent, &mut notified).await {
                    tracing::warn!(org_id = %org.id, error = %e, "idle-agent check failed");
                }
            }
            notified
        };
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(|notified, act, _| {
            act.notified.extend(notified);
            if act.notified.len() > 100_000 {
                act.notified.clear();
            }
        })))
    }
}

impl Handler<RunIdleCheck> for IdleAgentDetector {
    type Result = AtomicResponse<Self, Result<IdleReport, ActorError>>;
    fn handle(&mut self, msg: RunIdleCheck, _: &mut Context<Self>) -> Self::Result {
        let rt = self.rt.clone();
        let mut notified = std::mem::take(&mut self.notified);
        let fut = async move {
            let result = async {
                let settings = super::settings::load(&rt.db.conn, &msg.org_id).await?;
                if !settings.idle_agent.enabled && !msg.force {
                    return Ok(IdleReport::default());
                }
                run_locked(&rt, &msg.org_id, &settings.idle_agent, &mut notified).await
            }
            .await;
            (result, notified)
        };
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(|(result, notified), act, _| {
            act.notified.extend(notified);
            result
        })))
    }
}

/// One node at a time checks an organization.
async fn run_locked(
    rt: &Runtime,
    org_id: &str,
    settings: &IdleAgentSettings,
    notified: &mut HashSet<(String, String, String)>,
) -> Result<IdleReport, ActorError> {
    let lock = format!("idle:{org_id}");
    if let Some(cluster) = &rt.cluster
        && let Ok(false) = cluster.try_lock(&lock, Duration::from_secs(60)).await
    {
        return Ok(IdleReport { enabled: settings.enabled, ..IdleReport::default() });
    }
    let result = run(rt, org_id, settings, notified).await;
    if let Some(cluster) = &rt.cluster {
        cluster.unlock(&lock).await;
    }
    result
}

/// Why `agent` should lose `c`, if they should.
fn cause(
    c: &conversation::Model,
    agent: &user::Model,
    settings: &IdleAgentSettings,
    last_reply: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<(String, String)> {
    let no_reply = chrono::Duration::minutes(i64::from(settings.no_reply_minutes));
    if last_reply.is_some_and(|t| now - t < no_reply) {
        return None; // they answered within the threshold
    }
    let away = agent.status == Presence::Offline || (settings.include_away && agent.status == Presence::Away);
    let gone_for = now - agent.status_changed_at.unwrap_or(agent.updated_at);
    if away && gone_for >= chrono::Duration::minutes(i64::from(settings.offline_minutes)) {
        let status = agent.status.as_str().to_lowercase();
        return Some((
            format!("{status}:{}", agent.status_changed_at.map(|t| t.timestamp()).unwrap_or_default()),
            format!("{} has been {status} for {} min", agent.name, gone_for.num_minutes()),
        ));
    }
    if c.awaiting_reply
        && let Some(since) = c.awaiting_since
        && now - since >= no_reply
    {
        return Some((
            format!("silent:{}", since.timestamp()),
            format!("the customer has waited {} min for a reply from {}", (now - since).num_minutes(), agent.name),
        ));
    }
    None
}

async fn run(
    rt: &Runtime,
    org_id: &str,
    settings: &IdleAgentSettings,
    notified: &mut HashSet<(String, String, String)>,
) -> Result<IdleReport, ActorError> {
    let db = &rt.db.conn;
    let now = Utc::now();
    let mut report = IdleReport { enabled: settings.enabled, ..IdleReport::default() };
    let users: HashMap<String, user::Model> = user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    // Only conversations that could move: with an agent who is away, or whose customer has
    // waited past the threshold.
    let away: Vec<String> = users
        .values()
        .filter(|u| u.status != Presence::Online && u.status != Presence::Busy || u.deleted_at.is_some())
        .map(|u| u.id.clone())
        .collect();
    let waited_since = now - chrono::Duration::minutes(i64::from(settings.no_reply_minutes));
    let open = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::AssignedTo.is_not_null())
        .filter(conversation::Column::Status.ne(ConversationStatus::Closed.as_str()))
        .filter(
            Condition::any().add(conversation::Column::AssignedTo.is_in(away)).add(
                Condition::all()
                    .add(conversation::Column::AwaitingReply.eq(true))
                    .add(conversation::Column::AwaitingSince.lte(waited_since)),
            ),
        )
        .order_by_asc(conversation::Column::CreatedAt)
        .all(db)
        .await?;
    report.conversations_checked = open.len();
    if open.is_empty() {
        return Ok(report);
    }
    let mut available: Option<Available> = None;
    let mut loaded = false;
    let mut manual: Option<Vec<String>> = None;
    for c in open {
        let Some(agent_id) = c.assigned_to.clone() else { continue };
        let Some(agent) = users.get(&agent_id) else { continue };
        // The agent's last reply can only spare a conversation, so it is read only for those
        // that would move.
        if cause(&c, agent, settings, None, now).is_none() {
            continue;
        }
        let last_reply = last_reply_by(rt, &c.id, &agent_id).await?;
        let Some((key, reason)) = cause(&c, agent, settings, last_reply, now) else { continue };
        match settings.action {
            IdleAction::NotifyOnly => {
                if !notified.insert((c.id.clone(), agent_id.clone(), key)) {
                    continue;
                }
                let note = format!("Idle agent: {reason}");
                rt.ask_conversation(org_id, &c.id, Note { org_id: org_id.into(), note }).await?;
                announce(rt, org_id, &c.id, &agent_id, &reason).await?;
                report.notified += 1;
                report.moves.push(IdleMove {
                    conversation_id: c.id.clone(),
                    from: agent_id,
                    to: None,
                    action: "NOTIFIED".into(),
                    reason,
                });
            }
            IdleAction::Reassign | IdleAction::ReturnToQueue => {
                let mut to = None;
                // An inbox with auto-assignment off gets its conversation back in the queue.
                if manual.is_none() {
                    manual = Some(crate::store::inboxes::without_auto_assignment(&rt.db.conn, org_id).await?);
                }
                let auto = manual.as_ref().is_none_or(|m| !m.contains(&c.inbox_id));
                if settings.action == IdleAction::Reassign && auto {
                    if !loaded {
                        available = Available::load(rt, org_id).await?;
                        loaded = true;
                    }
                    if let Some(av) = available.as_mut() {
                        let mut pool = av.pool_for(c.team_id.as_deref());
                        pool.members.retain(|m| *m != agent_id);
                        if let Some(chosen) = assign::pick(&pool, &av.agents).map(|a| a.user_id.clone())
                            && let Some(a) = av.agents.get_mut(&chosen)
                        {
                            a.open += 1;
                            av.clock += 1;
                            a.last_assigned = Some(av.clock);
                            to = Some(chosen);
                        }
                    }
                }
                let note = match &to {
                    Some(b) => format!(
                        "Reassigned from {} to {}: {reason}",
                        agent.name,
                        users.get(b).map(|u| u.name.as_str()).unwrap_or(b)
                    ),
                    None => format!("Returned to the queue from {}: {reason}", agent.name),
                };
                let msg = Reassign { org_id: org_id.into(), from: agent_id.clone(), to: to.clone(), note };
                if rt.ask_conversation(org_id, &c.id, msg).await?.is_none() {
                    continue; // it moved meanwhile
                }
                announce(rt, org_id, &c.id, &agent_id, &reason).await?;
                let action = if to.is_some() {
                    report.reassigned += 1;
                    "REASSIGNED"
                } else {
                    report.returned_to_queue += 1;
                    "RETURNED_TO_QUEUE"
                };
                report.moves.push(IdleMove {
                    conversation_id: c.id.clone(),
                    from: agent_id,
                    to,
                    action: action.into(),
                    reason,
                });
            }
        }
    }
    Ok(report)
}

/// When `agent` last wrote in the conversation.
async fn last_reply_by(rt: &Runtime, conversation_id: &str, agent: &str) -> Result<Option<DateTime<Utc>>, ActorError> {
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Direction.eq(Direction::Outbound.as_str()))
        .filter(message::Column::SenderId.eq(agent))
        .order_by_desc(message::Column::CreatedAt)
        .one(&rt.db.conn)
        .await?
        .map(|m| m.created_at))
}

async fn announce(
    rt: &Runtime,
    org_id: &str,
    conversation_id: &str,
    agent: &str,
    reason: &str,
) -> Result<(), ActorError> {
    let payload = json!({ "userId": agent, "conversationId": conversation_id, "reason": reason });
    let txn = rt.db.begin_write_in(org_id).await?;
    let event = NewEvent { conversation: None, name: EventName::AgentIdleDetected, payload: payload.to_string() };
    rt.commit(txn, org_id, vec![event]).await?;
    Ok(())
}
