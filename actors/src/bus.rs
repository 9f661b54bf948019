//! `EventBus`: the node's fan-out of committed events to agent sessions.
//!
//! Events of one organization commit in `org_seq` order, but they are published by many actors on
//! several threads, so they may reach the bus slightly out of order, and (across nodes, later) some
//! may never arrive. The bus therefore delivers each organization's stream strictly in `org_seq`
//! order: early events wait in a small buffer, and a gap that stays open past `gap_timeout` is
//! filled by reading the missing events back from the database. Sessions can then treat a cursor
//! as "everything up to here", which is what makes reconnect-with-`since` exact.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::Db;
use crate::events::Event;
use crate::store;

/// Committed events to fan out (in commit order per conversation).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish(pub Vec<Arc<Event>>);

/// One event for a session, in the organization's order.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Deliver(pub Arc<Event>);

/// An ephemeral frame (typing) for every session of an organization on this node: it has no
/// `org_seq` (0), is never stored and is delivered at once, outside the ordered stream.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Flash(pub Arc<Event>);

/// Start receiving an organization's events.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Subscribe {
    pub org_id: String,
    pub session_id: u64,
    pub recipient: Recipient<Deliver>,
}

/// Stop receiving (the session is closing).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    pub org_id: String,
    pub session_id: u64,
}

/// Events read back from the database to close a gap.
#[derive(Message)]
#[rtype(result = "()")]
struct Filled {
    org_id: String,
    /// The first missing `org_seq` when the repair started.
    from: i64,
    events: Vec<Arc<Event>>,
    /// Whether a gap was known (a later event is waiting), rather than a routine look.
    gap: bool,
}

/// Read every watched organization's stream forward from the database: after the cluster
/// subscription (re)connects, and now and then, since pub/sub can drop the last message of a
/// burst with nothing after it to reveal the gap.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Resync;

/// Check whether an organization's gap is still open.
#[derive(Message)]
#[rtype(result = "()")]
struct CheckGap(String);

#[derive(Default)]
struct OrgStream {
    /// The next `org_seq` to deliver; `None` until the first event is seen.
    next: Option<i64>,
    /// Events that arrived ahead of `next`.
    pending: BTreeMap<i64, Arc<Event>>,
    /// Whether a gap check is scheduled or a repair is reading the database.
    repairing: bool,
    /// Repairs in a row that did not find the first missing event.
    failed_repairs: u8,
    sessions: HashMap<u64, Recipient<Deliver>>,
}

pub struct EventBus {
    db: Db,
    gap_timeout: Duration,
    orgs: HashMap<String, OrgStream>,
}

impl EventBus {
    pub fn new(db: Db, gap_timeout: Duration) -> EventBus {
        EventBus { db, gap_timeout, orgs: HashMap::new() }
    }

    fn accept(&mut self, ev: Arc<Event>, ctx: &mut Context<Self>) {
        let org_id = ev.org_id.clone();
        let stream = self.orgs.entry(org_id.clone()).or_default();
        let next = *stream.next.get_or_insert(ev.org_seq);
        if ev.org_seq < next {
            return; // already delivered (a repair and a late publish both brought it)
        }
        stream.pending.insert(ev.org_seq, ev);
        Self::drain(stream);
        if !stream.pending.is_empty() && !stream.repairing {
            stream.repairing = true;
            ctx.notify_later(CheckGap(org_id), self.gap_timeout);
        }
    }

    /// Delivers every buffered event that is next in line.
    fn drain(stream: &mut OrgStream) {
        while let Some(next) = stream.next {
            let Some(ev) = stream.pending.remove(&next) else {
                break;
            };
            for r in stream.sessions.values() {
                r.do_send(Deliver(ev.clone()));
            }
            stream.next = Some(next + 1);
        }
    }
}

impl Actor for EventBus {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Sessions far outnumber the default mailbox size under load.
        ctx.set_mailbox_capacity(1 << 16);
    }
}

impl Handler<Publish> for EventBus {
    type Result = ();
    fn handle(&mut self, msg: Publish, ctx: &mut Context<Self>) {
        for ev in msg.0 {
            self.accept(ev, ctx);
        }
    }
}

impl Handler<Flash> for EventBus {
    type Result = ();
    fn handle(&mut self, Flash(ev): Flash, _: &mut Context<Self>) {
        if let Some(stream) = self.orgs.get(&ev.org_id) {
            for r in stream.sessions.values() {
                r.do_send(Deliver(ev.clone()));
            }
        }
    }
}

impl Handler<Subscribe> for EventBus {
    type Result = ();
    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) {
        self.orgs.entry(msg.org_id).or_default().sessions.insert(msg.session_id, msg.recipient);
    }
}

impl Handler<Unsubscribe> for EventBus {
    type Result = ();
    fn handle(&mut self, msg: Unsubscribe, _: &mut Context<Self>) {
        if let Some(s) = self.orgs.get_mut(&msg.org_id) {
            s.sessions.remove(&msg.session_id);
        }
    }
}

impl Handler<CheckGap> for EventBus {
    type Result = ();
    fn handle(&mut self, CheckGap(org_id): CheckGap, ctx: &mut Context<Self>) {
        let Some(stream) = self.orgs.get_mut(&org_id) else {
            return;
        };
        let (Some(next), Some(first_pending)) = (stream.next, stream.pending.keys().next().copied()) else {
            stream.repairing = false;
            return;
        };
        let missing = (first_pending - next).max(1) as u64;
        metrics::counter!("cx_bus_gap_repairs_total").increment(1);
        let db = self.db.clone();
        let org = org_id.clone();
        let me = ctx.address();
        actix::spawn(async move {
            let events = match store::events::since(&db.conn, &org, next - 1, missing).await {
                Ok(evs) => evs.into_iter().map(Arc::new).collect(),
                Err(e) => {
                    tracing::warn!(org_id = %org, error = %e, "event gap repair failed; retrying");
                    Vec::new()
                }
            };
            me.do_send(Filled { org_id: org, from: next, events, gap: true });
        });
    }
}

/// Where an organization's stream starts on this node (`None`: the database did not answer).
#[derive(Message)]
#[rtype(result = "()")]
struct StartAt {
    org_id: String,
    next: Option<i64>,
}

impl Handler<StartAt> for EventBus {
    type Result = ();
    fn handle(&mut self, msg: StartAt, _: &mut Context<Self>) {
        if let Some(stream) = self.orgs.get_mut(&msg.org_id) {
            stream.repairing = false;
            if stream.next.is_none() {
                stream.next = msg.next;
            }
            Self::drain(stream);
        }
    }
}

/// Most events read per organization per resync; more follow on the next one.
const RESYNC_PAGE: u64 = 1000;

impl Handler<Resync> for EventBus {
    type Result = ();
    fn handle(&mut self, _: Resync, ctx: &mut Context<Self>) {
        for (org_id, stream) in &mut self.orgs {
            if stream.sessions.is_empty() || stream.repairing {
                continue;
            }
            let Some(next) = stream.next else {
                // Sessions wait for an organization whose events never reached this node (say
                // Redis was down since it started): start from what the database has committed.
                stream.repairing = true;
                let (db, org, me) = (self.db.clone(), org_id.clone(), ctx.address());
                actix::spawn(async move {
                    let head = store::events::head(&db.conn, &org).await.ok();
                    me.do_send(StartAt { org_id: org, next: head.map(|h| h + 1) });
                });
                continue;
            };
            stream.repairing = true;
            let (db, org, me) = (self.db.clone(), org_id.clone(), ctx.address());
            actix::spawn(async move {
                let events = match store::events::since(&db.conn, &org, next - 1, RESYNC_PAGE).await {
                    Ok(evs) => evs.into_iter().map(Arc::new).collect(),
                    Err(e) => {
                        tracing::debug!(org_id = %org, error = %e, "resync read failed");
                        Vec::new()
                    }
                };
                me.do_send(Filled { org_id: org, from: next, events, gap: false });
            });
        }
    }
}

impl Handler<Filled> for EventBus {
    type Result = ();
    fn handle(&mut self, msg: Filled, ctx: &mut Context<Self>) {
        let Some(stream) = self.orgs.get_mut(&msg.org_id) else {
            return;
        };
        let found_first = msg.events.first().is_some_and(|e| e.org_seq == msg.from);
        let mut recovered = 0u64;
        for ev in msg.events {
            if stream.next.is_some_and(|n| ev.org_seq >= n) && !stream.pending.contains_key(&ev.org_seq) {
                stream.pending.insert(ev.org_seq, ev);
                recovered += 1;
            }
        }
        if recovered > 0 {
            // Events the bus got from the database instead of from their publisher: the ones a
            // repair found, or (in a cluster) a resync brought that the bus had missed.
            let kind = if msg.gap { "gap" } else { "resync" };
            metrics::counter!("cx_bus_recovered_events_total", "kind" => kind).increment(recovered);
        }
        if found_first || !msg.gap {
            stream.failed_repairs = 0;
        } else if stream.next == Some(msg.from) {
            // Committed events are gap-free, so a missing row means the database was unreachable
            // or lagging: try a few more rounds before giving up on that position.
            stream.failed_repairs += 1;
            if stream.failed_repairs >= 5
                && let Some(&first) = stream.pending.keys().next()
            {
                tracing::warn!(org_id = %msg.org_id, from = msg.from, to = first, "skipping events not found in the database");
                stream.next = Some(first);
                stream.failed_repairs = 0;
            }
        }
        Self::drain(stream);
        stream.repairing = false;
        if !stream.pending.is_empty() {
            stream.repairing = true;
            ctx.notify_later(CheckGap(msg.org_id), self.gap_timeout);
        }
    }
}
