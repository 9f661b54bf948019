//! The webhook dispatcher: the API channel's way out. It tails the event log of API inboxes'
//! conversations (by `org_seq`, which commits in order, so the tail has no gaps), copies the
//! events the business's system is told about into `webhook_deliveries` and advances the
//! inbox's cursor in the same transaction (unique per inbox and event: a second node or a
//! restart never doubles a delivery), then posts each conversation's oldest pending delivery,
//! signed, under a lease, and logs every try. A failure is retried on the schedule of
//! [`super::schedule`]; a long streak of failures turns the inbox's webhook off with an
//! `account.alert`. A bus subscription per organization wakes it when events commit, so a
//! delivery leaves within milliseconds; a slow poll covers due retries and other nodes' leases.
//!
//! Which events: our messages (agents', the bot's and notices; `message.created` and
//! `message.updated` with their statuses), `conversation.status_changed` and
//! `conversation.assigned`. Not the customer's own messages (the system sent them) and not
//! timeline rows (`system`) or hidden ones: there are no private notes in this product yet, and
//! when there are they stay out, since the webhook leaves the agents' side.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::actors::Runtime;
use ::actors::bus::{Deliver, Subscribe};
use ::actors::events::EventName;
use ::actors::store::events::NewEvent;
use actix::{Actor, Context, Handler, Recipient};
use chrono::{DateTime, Utc};
use entities::enums::Channel;
use entities::{account_alert, conversation, event, inbox, webhook_attempt, webhook_delivery};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;

use super::{guard, schedule, signature};
use crate::crypto::SecretBox;

/// The bus session id of the dispatcher's subscriptions (agent sessions count up from 1).
const SUBSCRIPTION: u64 = u64::MAX - 16;
/// Events copied per inbox and sweep.
const TAIL_BATCH: u64 = 500;
/// Pending deliveries looked at per sweep (in order; each conversation's first is its head).
const SWEEP: u64 = 500;
/// Tries at once on this node.
const PARALLEL: usize = 8;
/// The longest sleep between sweeps without a wake-up (due retries, expired leases).
const IDLE: Duration = Duration::from_secs(1);
/// How long a try may hold its delivery (the call's 10 s and the bookkeeping).
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// How long one call to a receiver may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer is read and kept.
const EXCERPT: usize = 2048;

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// Wakes the dispatcher: the bus hands it every event of the organizations it watches.
pub struct Nudge(pub Arc<Notify>);

impl Actor for Nudge {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Nudge {
    type Result = ();
    fn handle(&mut self, _: Deliver, _: &mut Context<Self>) {
        self.0.notify_one();
    }
}

pub struct WebhookDispatcher {
    pub rt: Runtime,
    /// Opens the inboxes' webhook secrets.
    pub secrets: SecretBox,
    /// This node, as the owner of the leases it takes.
    pub node_id: String,
    /// `CX_WEBHOOK_ALLOW_PRIVATE`: http and private addresses allowed (tests).
    pub allow_private: bool,
    /// `CX_WEBHOOK_RETRY_BASE_MS`: the first retry delay, the unit of the schedule.
    pub retry_base: Duration,
    /// `CX_WEBHOOK_DISABLE_AFTER`: failed tries in a row that turn a webhook off.
    pub disable_after: u32,
    /// Wakes the loop: events committed, a try finished, a replay or an enable.
    pub wake: Arc<Notify>,
}

/// What one call to the receiver came to.
struct Outcome {
    status: Option<u16>,
    excerpt: Option<String>,
    error: Option<String>,
    duration_ms: i64,
}

impl Outcome {
    fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The webhook body: the event's data with where it belongs.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    id: &'a str,
    event: &'a str,
    inbox_id: &'a str,
    conversation_id: &'a str,
    seq: Option<i64>,
    created_at: DateTime<Utc>,
    data: &'a serde_json::value::RawValue,
}

/// Whether the inbox's system is told about this event.
pub fn wanted(name: &str, payload: &str) -> bool {
    match name {
        "message.created" | "message.updated" => {
            let Ok(v) = serde_json::from_str::<Value>(payload) else { return false };
            let m = v.get("message").unwrap_or(&v);
            m.get("direction").and_then(Value::as_str) == Some("outbound")
                && !m.get("hidden").and_then(Value::as_bool).unwrap_or(false)
        }
        "conversation.status_changed" | "conversation.assigned" => true,
        _ => false,
    }
}

impl WebhookDispatcher {
    /// Runs for the node's lifetime.
    pub async fn run(self: Arc<Self>) {
        let nudge = Nudge(self.wake.clone()).start().recipient();
        let mut watched: HashSet<String> = HashSet::new();
        let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
        loop {
            let next = match self.sweep(&nudge, &mut watched, &in_flight).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook sweep failed");
                    None
                }
            };
            let wait = next
                .map(|at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(IDLE)
                .clamp(Duration::from_millis(2), IDLE);
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.rt.db.conn
    }

    /// Tails every API inbox and starts the tries that are due; answers when the next one is.
    async fn sweep(
        self: &Arc<Self>,
        nudge: &Recipient<Deliver>,
        watched: &mut HashSet<String>,
        in_flight: &Arc<Mutex<HashSet<String>>>,
    ) -> Result<Option<DateTime<Utc>>, DbErr> {
        let inboxes = inbox::Entity::find()
            .filter(inbox::Column::Channel.eq(Channel::Api))
            .filter(inbox::Column::DeletedAt.is_null())
            .filter(inbox::Column::WebhookUrl.is_not_null())
            .all(self.db())
            .await?;
        for i in &inboxes {
            if watched.insert(i.org_id.clone()) {
                let subscribe =
                    Subscribe { org_id: i.org_id.clone(), session_id: SUBSCRIPTION, recipient: nudge.clone() };
                self.rt.bus.do_send(subscribe);
            }
            if let Err(e) = self.tail(i).await {
                tracing::warn!(inbox_id = %i.id, error = %e, "webhook tail failed");
            }
        }
        let active: HashMap<String, inbox::Model> =
            inboxes.into_iter().filter(|i| i.webhook_disabled_at.is_none()).map(|i| (i.id.clone(), i)).collect();
        if active.is_empty() {
            return Ok(None);
        }
        // Each conversation's head: a pending delivery with nothing older pending in its
        // conversation. Soonest due first, so a receiver with a long backlog holds up nobody else.
        let older = Alias::new("older");
        let older_pending = Query::select()
            .expr(Expr::val(1))
            .from_as(webhook_delivery::Entity, older.clone())
            .and_where(
                Expr::col((older.clone(), webhook_delivery::Column::ConversationId))
                    .equals((webhook_delivery::Entity, webhook_delivery::Column::ConversationId)),
            )
            .and_where(Expr::col((older.clone(), webhook_delivery::Column::Status)).eq(PENDING))
            .and_where(
                Expr::col((older, webhook_delivery::Column::OrgSeq))
                    .lt(Expr::col((webhook_delivery::Entity, webhook_delivery::Column::OrgSeq))),
            )
            .to_owned();
        let pending = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(PENDING))
            .filter(webhook_delivery::Column::InboxId.is_in(active.keys().cloned()))
            .filter(Expr::exists(older_pending).not())
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .limit(SWEEP)
            .all(self.db())
            .await?;
        let now = Utc::now();
        let mut heads: HashSet<String> = HashSet::new();
        let mut next: Option<DateTime<Utc>> = None;
        for d in pending {
            // Only the oldest pending delivery of a conversation goes: order per conversation.
            if !heads.insert(d.conversation_id.clone()) {
                continue;
            }
            let due = match d.lease_until {
                Some(lease) if lease > now => lease,
                _ => d.next_attempt_at,
            };
            if due > now {
                next = Some(next.map_or(due, |n| Ord::min(n, due)));
                continue;
            }
            {
                let mut set = in_flight.lock().unwrap_or_else(|p| p.into_inner());
                if set.len() >= PARALLEL || !set.insert(d.id.clone()) {
                    continue;
                }
            }
            let Some(inbox) = active.get(&d.inbox_id).cloned() else { continue };
            let (me, in_flight) = (self.clone(), in_flight.clone());
            actix_web::rt::spawn(async move {
                let id = d.id.clone();
                if let Err(e) = me.attempt(d, inbox).await {
                    tracing::warn!(delivery_id = %id, error = %e, "webhook try could not be recorded");
                }
                in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                me.wake.notify_one();
            });
        }
        Ok(next)
    }

    /// Copies the inbox's new events into its queue and moves its cursor, in one transaction.
    async fn tail(&self, i: &inbox::Model) -> Result<(), DbErr> {
        // Everything up to the newest committed event of the organization is committed.
        let newest: Option<Option<i64>> = event::Entity::find()
            .select_only()
            .column_as(event::Column::OrgSeq.max(), "newest")
            .filter(event::Column::OrgId.eq(&i.org_id))
            .into_tuple()
            .one(self.db())
            .await?;
        let Some(newest) = newest.flatten().filter(|n| *n > i.webhook_cursor) else { return Ok(()) };
        let rows = tail_events(&i.org_id, &i.id, i.webhook_cursor, newest).all(self.db()).await?;
        let cursor = match rows.last() {
            Some(last) if rows.len() as u64 == TAIL_BATCH => last.org_seq,
            _ => newest,
        };
        let now = Utc::now();
        let txn = self.rt.db.begin_write().await?;
        let deliveries: Vec<webhook_delivery::ActiveModel> = rows
            .into_iter()
            .filter(|e| wanted(&e.name, &e.payload))
            .filter_map(|e| {
                Some(webhook_delivery::ActiveModel {
                    id: Set(::actors::new_id()),
                    org_id: Set(e.org_id),
                    inbox_id: Set(i.id.clone()),
                    conversation_id: Set(e.conversation_id?),
                    event_id: Set(e.id),
                    event_name: Set(e.name),
                    org_seq: Set(e.org_seq),
                    seq: Set(e.seq),
                    payload: Set(e.payload),
                    status: Set(PENDING.into()),
                    attempts: Set(0),
                    next_attempt_at: Set(now),
                    lease_owner: Set(None),
                    lease_until: Set(None),
                    last_status_code: Set(None),
                    created_at: Set(e.created_at),
                    delivered_at: Set(None),
                })
            })
            .collect();
        let copied = deliveries.len();
        for d in deliveries {
            let conflict = OnConflict::columns([webhook_delivery::Column::InboxId, webhook_delivery::Column::EventId])
                .do_nothing()
                .to_owned();
            match webhook_delivery::Entity::insert(d).on_conflict(conflict).exec_without_returning(&*txn).await {
                Ok(_) | Err(DbErr::RecordNotInserted) => {}
                Err(e) => return Err(e),
            }
        }
        // Only from the cursor this sweep read: another node that moved it first wins.
        let moved = inbox::Entity::update_many()
            .col_expr(inbox::Column::WebhookCursor, Expr::value(cursor))
            .filter(inbox::Column::Id.eq(&i.id))
            .filter(inbox::Column::WebhookCursor.eq(i.webhook_cursor))
            .exec(&*txn)
            .await?;
        if moved.rows_affected == 1 {
            txn.commit().await?;
            if copied > 0 {
                tracing::debug!(inbox_id = %i.id, copied, cursor, "webhook deliveries queued");
            }
        }
        Ok(())
    }

    /// One try of a delivery: claim it, post it, log it, schedule or finish it.
    async fn attempt(&self, d: webhook_delivery::Model, i: inbox::Model) -> Result<(), DbErr> {
        let now = Utc::now();
        let claimed = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::LeaseOwner, Expr::value(Some(self.node_id.clone())))
            .col_expr(webhook_delivery::Column::LeaseUntil, Expr::value(Some(now + LEASE)))
            .filter(webhook_delivery::Column::Id.eq(&d.id))
            .filter(webhook_delivery::Column::Status.eq(PENDING))
            .filter(webhook_delivery::Column::Attempts.eq(d.attempts))
            .filter(
                sea_orm::Condition::any()
                    .add(webhook_delivery::Column::LeaseUntil.is_null())
                    .add(webhook_delivery::Column::LeaseUntil.lt(now)),
            )
            .exec(self.db())
            .await?;
        if claimed.rows_affected != 1 {
            return Ok(()); // another node has it, or it moved on since the sweep read it
        }
        let outcome = match (&i.webhook_url, i.webhook_secret_enc.as_deref().map(|s| self.secrets.decrypt(s))) {
            (Some(url), Some(Ok(secret))) => self.post(url, &secret, &d).await,
            (None, _) => failed_before_sending("the inbox has no webhook URL"),
            _ => failed_before_sending("the inbox's webhook secret cannot be read"),
        };
        self.record(d, i, outcome).await
    }

    async fn post(&self, url: &str, secret: &str, d: &webhook_delivery::Model) -> Outcome {
        let started = Instant::now();
        let done = |status: Option<u16>, excerpt: Option<String>, error: Option<String>| Outcome {
            status,
            excerpt,
            error,
            duration_ms: started.elapsed().as_millis() as i64,
        };
        let Ok(data) = serde_json::value::RawValue::from_string(d.payload.clone()) else {
            return done(None, None, Some("the event's data is not JSON".into()));
        };
        let body = Body {
            id: &d.id,
            event: &d.event_name,
            inbox_id: &d.inbox_id,
            conversation_id: &d.conversation_id,
            seq: d.seq,
            created_at: d.created_at,
            data: &data,
        };
        let Ok(body) = serde_json::to_vec(&body) else {
            return done(None, None, Some("the body could not be written".into()));
        };
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return done(None, None, Some("the webhook URL is not valid".into()));
        };
        let (host, addr) = match guard::resolve(&parsed, self.allow_private).await {
            Ok(target) => target,
            Err(e) => return done(None, None, Some(e.to_string())),
        };
        let client = match crate::http_client::builder(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&host, addr)
            .build()
        {
            Ok(c) => c,
            Err(e) => return done(None, None, Some(format!("HTTP client: {e}"))),
        };
        let timestamp = Utc::now().timestamp();
        let sent = client
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-CX-Event", &d.event_name)
            .header("X-CX-Delivery", &d.id)
            .header("X-CX-Timestamp", timestamp.to_string())
            .header("X-CX-Signature", signature::sign(secret, timestamp, &body))
            .body(body)
            .send()
            .await;
        let mut res = match sent {
            Ok(res) => res,
            Err(e) if e.is_timeout() => {
                return done(None, None, Some("the receiver did not answer within 10 s".into()));
            }
            Err(e) => return done(None, None, Some(format!("could not reach the receiver: {e}"))),
        };
        let status = res.status().as_u16();
        let mut bytes: Vec<u8> = Vec::new();
        while bytes.len() < EXCERPT {
            match res.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        bytes.truncate(EXCERPT);
        let excerpt = Some(String::from_utf8_lossy(&bytes).into_owned()).filter(|s| !s.is_empty());
        let error = (!(200..300).contains(&status)).then(|| format!("the receiver answered {status}"));
        done(Some(status), excerpt, error)
    }

    /// Logs the try and moves the delivery on; counts the inbox's failures in a row and turns its
    /// webhook off (with an alert) when there are too many. One transaction.
    async fn record(&self, d: webhook_delivery::Model, i: inbox::Model, outcome: Outcome) -> Result<(), DbErr> {
        let now = Utc::now();
        let attempt = d.attempts + 1;
        let ok = outcome.ok();
        metrics::counter!("cx_api_webhook_deliveries_total", "outcome" => if ok { "delivered" } else { "failed" })
            .increment(1);
        let txn = self.rt.db.begin_write_in(&i.org_id).await?;
        webhook_attempt::ActiveModel {
            id: Set(::actors::new_id()),
            delivery_id: Set(d.id.clone()),
            attempt: Set(attempt),
            status_code: Set(outcome.status.map(i32::from)),
            response_excerpt: Set(outcome.excerpt.clone()),
            error: Set(outcome.error.clone()),
            duration_ms: Set(outcome.duration_ms),
            at: Set(now),
        }
        .insert(&*txn)
        .await?;
        let retry =
            if ok { None } else { schedule::next_delay(u32::try_from(attempt).unwrap_or(u32::MAX), self.retry_base) };
        let status = match (ok, retry) {
            (true, _) => DELIVERED,
            (false, Some(_)) => PENDING,
            (false, None) => FAILED,
        };
        let next_at = retry.and_then(|r| chrono::Duration::from_std(r).ok()).map_or(now, |r| now + r);
        webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempt))
            .col_expr(webhook_delivery::Column::Status, Expr::value(status))
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next_at))
            .col_expr(webhook_delivery::Column::LastStatusCode, Expr::value(outcome.status.map(i32::from)))
            .col_expr(webhook_delivery::Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(webhook_delivery::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(ok.then_some(now)))
            .filter(webhook_delivery::Column::Id.eq(&d.id))
            .exec(&*txn)
            .await?;
        let streak = if ok { Expr::value(0) } else { Expr::col(inbox::Column::WebhookFailureStreak).add(1) };
        inbox::Entity::update_many()
            .col_expr(inbox::Column::WebhookFailureStreak, streak)
            .filter(inbox::Column::Id.eq(&i.id))
            .exec(&*txn)
            .await?;
        let mut events = Vec::new();
        if !ok {
            let current = inbox::Entity::find_by_id(i.id.clone()).one(&*txn).await?;
            if let Some(current) = current
                && current.webhook_disabled_at.is_none()
                && current.webhook_failure_streak >= i32::try_from(Ord::max(self.disable_after, 1)).unwrap_or(i32::MAX)
            {
                events.push(self.disable(&*txn, &current, &outcome, now).await?);
            }
        }
        if !ok {
            tracing::info!(delivery_id = %d.id, attempt, error = ?outcome.error, status, "webhook try failed");
        }
        self.rt.commit(txn, &i.org_id, events).await
    }

    /// Turns the inbox's webhook off and raises the alert saying so.
    async fn disable(
        &self,
        db: &impl ConnectionTrait,
        i: &inbox::Model,
        last: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<NewEvent, DbErr> {
        inbox::Entity::update_many()
            .col_expr(inbox::Column::WebhookDisabledAt, Expr::value(Some(now)))
            .filter(inbox::Column::Id.eq(&i.id))
            .exec(db)
            .await?;
        let details = serde_json::json!({
            "inboxId": i.id,
            "webhookUrl": i.webhook_url,
            "failuresInARow": i.webhook_failure_streak,
            "lastError": last.error,
            "lastStatusCode": last.status,
        });
        let row = account_alert::ActiveModel {
            id: Set(::actors::new_id()),
            org_id: Set(i.org_id.clone()),
            account_id: Set(None),
            waba_id: Set(String::new()),
            source: Set("webhook".into()),
            alert_type: Set("WEBHOOK_DISABLED".into()),
            severity: Set(Some("CRITICAL".into())),
            alert_status: Set(None),
            title: Set(format!("The webhook of inbox {} was turned off", i.name)),
            description: Set(Some(format!(
                "{} tries in a row failed (last: {}). Its events wait in the queue; fix the receiver, then \
                 enable the webhook again (POST /api/v1/inboxes/{}/webhook/enable).",
                i.webhook_failure_streak,
                last.error.as_deref().unwrap_or("no answer"),
                i.id
            ))),
            details: Set(Some(details.to_string())),
            dedupe_key: Set(format!("webhook-disabled:{}:{}", i.id, now.timestamp_millis())),
            occurred_at: Set(now),
            acknowledged_at: Set(None),
            acknowledged_by: Set(None),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
        tracing::warn!(inbox_id = %i.id, streak = i.webhook_failure_streak, "webhook turned off after failures in a row");
        let payload = serde_json::to_string(&crate::channels::whatsapp::alerts::AlertView::from(&row))
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        Ok(NewEvent { conversation: None, name: EventName::AccountAlert, payload })
    }
}

fn failed_before_sending(why: &str) -> Outcome {
    Outcome { status: None, excerpt: None, error: Some(why.to_owned()), duration_ms: 0 }
}

/// The inbox's events after `after` up to `newest`, oldest first, at most `TAIL_BATCH`: the
/// organization's range of `ux_events_org_seq`, each event's conversation looked up by its key,
/// so the cost follows the new events, not the inbox's conversations.
pub fn tail_events(org_id: &str, inbox_id: &str, after: i64, newest: i64) -> Select<event::Entity> {
    let conversation = event::Entity::belongs_to(conversation::Entity)
        .from(event::Column::ConversationId)
        .to(conversation::Column::Id)
        .into();
    event::Entity::find()
        .join(JoinType::InnerJoin, conversation)
        .filter(event::Column::OrgId.eq(org_id))
        .filter(event::Column::OrgSeq.gt(after))
        .filter(event::Column::OrgSeq.lte(newest))
        .filter(conversation::Column::InboxId.eq(inbox_id))
        .order_by_asc(event::Column::OrgSeq)
        .limit(TAIL_BATCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_messages_and_conversation_changes_go_out() {
        let created = |direction: &str| {
            format!(r#"{{"message":{{"direction":"{direction}","hidden":false}},"conversation":{{}}}}"#)
        };
        assert!(wanted("message.created", &created("outbound")));
        assert!(!wanted("message.created", &created("inbound")));
        assert!(!wanted("message.created", &created("system")));
        assert!(wanted("message.updated", r#"{"direction":"outbound","status":"read"}"#));
        assert!(!wanted("message.updated", r#"{"direction":"outbound","hidden":true}"#));
        assert!(wanted("conversation.status_changed", "{}"));
        assert!(wanted("conversation.assigned", "{}"));
        assert!(!wanted("conversation.created", "{}"));
        assert!(!wanted("contact.updated", "{}"));
    }
}
