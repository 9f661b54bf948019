//! `AgentSession`: one per agent WebSocket. It subscribes to the organization's events on the
//! bus and writes them to the socket in the organization's order. A client that reconnects with
//! `since=<cursor>` first gets every event after that cursor from the database, then the live
//! stream, with nothing twice: live events that arrive while the backlog is read wait in a
//! buffer, and anything at or below the last position written is skipped.
//!
//! The sessions of one thread reach the bus through that thread's [`Relay`]: the bus sends each
//! event once per thread, and the relay hands it to its sessions without crossing threads again.
//!
//! All of actix-web-actors stays in this module, so moving to actix-ws is a local change.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web_actors::ws;

use crate::bus::{Deliver, EventBus, Flash, Subscribe, Unsubscribe};
use crate::events::{Event, EventName};
use crate::runtime::Runtime;
use crate::store;

/// How often the server pings.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// A socket silent for this long (no pong, no message) is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Backlog rows read per query on resume.
const BACKLOG_PAGE: u64 = 500;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

pub struct AgentSession {
    rt: Runtime,
    id: u64,
    org_id: String,
    pub user_id: String,
    /// `org_seq` of the last event written to the socket.
    last: i64,
    /// Where a resuming client left off; `None` for a fresh connection.
    resume_from: Option<i64>,
    /// Live events held back while the backlog is being read.
    buffer: Option<Vec<Arc<Event>>>,
    /// Last sign of life from the client.
    heartbeat: Instant,
    /// The relay of the session's thread, once started.
    relay: Option<Addr<Relay>>,
}

impl AgentSession {
    pub fn new(rt: Runtime, org_id: String, user_id: String, since: Option<i64>) -> Self {
        AgentSession {
            rt,
            id: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
            org_id,
            user_id,
            last: since.unwrap_or(0),
            resume_from: since,
            buffer: since.map(|_| Vec::new()),
            heartbeat: Instant::now(),
            relay: None,
        }
    }

    fn write(&mut self, ev: &Event, ctx: &mut ws::WebsocketContext<Self>) {
        if ev.org_seq > self.last {
            self.last = ev.org_seq;
            ctx.text(ev.wire.clone());
        }
    }

    /// Reads the next page of missed events, then either the next page or the buffered live ones.
    fn read_backlog(&mut self, after: i64, ctx: &mut ws::WebsocketContext<Self>) {
        let (db, org) = (self.rt.db.clone(), self.org_id.clone());
        let fut = async move { store::events::since(&db.conn, &org, after, BACKLOG_PAGE).await };
        ctx.spawn(fut.into_actor(self).map(move |res, act, ctx| match res {
            Ok(events) => {
                let full = events.len() as u64 == BACKLOG_PAGE;
                for ev in &events {
                    act.write(ev, ctx);
                }
                if full {
                    act.read_backlog(act.last, ctx);
                } else {
                    for ev in act.buffer.take().unwrap_or_default() {
                        act.write(&ev, ctx);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the event backlog; closing the socket so the client retries");
                ctx.close(Some(ws::CloseReason { code: ws::CloseCode::Again, description: Some("try again".into()) }));
                ctx.stop();
            }
        }));
    }
}

impl Actor for AgentSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        metrics::gauge!("cx_sockets", "kind" => "agent").increment(1.0);
        ctx.set_mailbox_capacity(1 << 14);
        let relay = Relay::of_this_thread(&self.rt);
        self.relay = Some(relay.clone());
        let join = Join { org_id: self.org_id.clone(), session_id: self.id, session: ctx.address() };
        match self.resume_from {
            None => relay.do_send(join),
            // The backlog is read only once the bus has the subscription: every event published
            // before that was committed before it, so the backlog holds it; every event after
            // reaches the buffer. Nothing falls between the two.
            Some(after) => {
                ctx.wait(relay.send(join).into_actor(self).map(move |res, act, ctx| match res {
                    Ok(Ok(())) => act.read_backlog(after, ctx),
                    Ok(Err(e)) | Err(e) => {
                        tracing::warn!(error = %e, "event bus unavailable; closing the socket so the client retries");
                        ctx.stop();
                    }
                }));
            }
        }
        self.rt.agent_connected(&self.org_id, &self.user_id, self.id);
        ctx.run_interval(HEARTBEAT, |act, ctx| {
            if act.heartbeat.elapsed() > CLIENT_TIMEOUT {
                tracing::debug!(user_id = %act.user_id, "agent socket timed out");
                ctx.stop();
                return;
            }
            act.rt.touch_presence(&act.org_id, &act.user_id, act.id);
            ctx.ping(b"");
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        metrics::gauge!("cx_sockets", "kind" => "agent").decrement(1.0);
        self.rt.agent_disconnected(&self.org_id, &self.user_id, self.id);
        if let Some(relay) = &self.relay {
            relay.do_send(Leave { org_id: self.org_id.clone(), session_id: self.id });
        }
    }
}

impl Handler<Deliver> for AgentSession {
    type Result = ();
    fn handle(&mut self, Deliver(ev): Deliver, ctx: &mut Self::Context) {
        // Typing is not part of the ordered stream: shown at once, never resumed.
        if ev.is_ephemeral() {
            ctx.text(ev.wire.clone());
            return;
        }
        // A removed user's sockets, and a revoked key's, close (their `userId` is this session's).
        let ends = ev.name == EventName::AgentRemoved.as_str() || ev.name == EventName::ApiKeyRevoked.as_str();
        if ends && removes(&ev, &self.user_id) {
            self.write(&ev, ctx);
            ctx.close(Some(ws::CloseReason { code: ws::CloseCode::Policy, description: Some("user removed".into()) }));
            ctx.stop();
            return;
        }
        match &mut self.buffer {
            Some(buf) => buf.push(ev),
            None => self.write(&ev, ctx),
        }
    }
}

impl AgentSession {
    /// `{"type":"typing","conversationId","typing"}`: the agent is typing in a conversation; a
    /// live-chat visitor sees it (`typing.agent`, ephemeral). Anything else is ignored.
    fn typing(&self, text: &str) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else { return };
        let (Some("typing"), Some(conversation_id)) = (v["type"].as_str(), v["conversationId"].as_str()) else {
            return;
        };
        if conversation_id.is_empty() || conversation_id.len() > 64 {
            return;
        }
        let data = serde_json::json!({
            "conversationId": conversation_id,
            "userId": self.user_id,
            "typing": v["typing"].as_bool().unwrap_or(true),
        });
        let ev = Event::ephemeral(self.org_id.clone(), conversation_id.to_owned(), "typing.agent", data);
        self.rt.bus.do_send(Flash(Arc::new(ev)));
    }
}

/// Whether an `agent.removed` event is about `user_id`.
fn removes(ev: &Event, user_id: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(&ev.wire)
        .ok()
        .is_some_and(|w| w["data"]["userId"].as_str() == Some(user_id))
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for AgentSession {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        let Ok(msg) = msg else {
            ctx.stop();
            return;
        };
        self.heartbeat = Instant::now();
        match msg {
            ws::Message::Ping(p) => ctx.pong(&p),
            ws::Message::Text(t) if t.trim() == "ping" => ctx.text("pong"),
            ws::Message::Text(t) => self.typing(&t),
            ws::Message::Close(reason) => {
                ctx.close(reason);
                ctx.stop();
            }
            ws::Message::Pong(_) | ws::Message::Binary(_) | ws::Message::Continuation(_) | ws::Message::Nop => {}
        }
    }
}

/// The agent sessions of one thread, subscribed to the bus as one. At 1,000 sockets the bus
/// used to send every event 1,000 times across threads, each send waking the socket's thread;
/// now it sends it once per thread that holds sessions of the organization, and the relay
/// hands it to them on their own thread, in the order the bus delivered it.
pub struct Relay {
    /// This relay's key among the bus's subscribers (the sessions' own ids share the counter).
    id: u64,
    bus: Addr<EventBus>,
    sessions: HashMap<String, HashMap<u64, Addr<AgentSession>>>,
}

thread_local! {
    static RELAY: RefCell<Option<(Addr<EventBus>, Addr<Relay>)>> = const { RefCell::new(None) };
}

impl Relay {
    /// The relay of the calling thread (an actix arbiter), started on first use. A relay whose
    /// bus is not this runtime's (tests start several runtimes on one thread) is replaced.
    fn of_this_thread(rt: &Runtime) -> Addr<Relay> {
        RELAY.with(|cell| {
            let mut slot = cell.borrow_mut();
            if let Some((_, relay)) = slot.as_ref().filter(|(bus, relay)| *bus == rt.bus && relay.connected()) {
                return relay.clone();
            }
            let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
            let relay = Relay { id, bus: rt.bus.clone(), sessions: HashMap::new() }.start();
            *slot = Some((rt.bus.clone(), relay.clone()));
            relay
        })
    }
}

impl Actor for Relay {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1 << 16);
    }
}

/// A session of this thread starts receiving its organization's events. Answered once the bus
/// has the relay's subscription, so a resuming session can read its backlog after it.
#[derive(Message)]
#[rtype(result = "Result<(), MailboxError>")]
struct Join {
    org_id: String,
    session_id: u64,
    session: Addr<AgentSession>,
}

/// A session of this thread is closing.
#[derive(Message)]
#[rtype(result = "()")]
struct Leave {
    org_id: String,
    session_id: u64,
}

impl Handler<Join> for Relay {
    type Result = ResponseFuture<Result<(), MailboxError>>;
    fn handle(&mut self, msg: Join, ctx: &mut Context<Self>) -> Self::Result {
        self.sessions.entry(msg.org_id.clone()).or_default().insert(msg.session_id, msg.session);
        // Sent for every session, not only the organization's first: the bus keeps one entry per
        // relay, and a joiner waits for the subscription even when another joiner's is in flight.
        let subscribe = Subscribe { org_id: msg.org_id, session_id: self.id, recipient: ctx.address().recipient() };
        Box::pin(self.bus.send(subscribe))
    }
}

impl Handler<Leave> for Relay {
    type Result = ();
    fn handle(&mut self, msg: Leave, _: &mut Context<Self>) {
        let Some(sessions) = self.sessions.get_mut(&msg.org_id) else {
            return;
        };
        sessions.remove(&msg.session_id);
        if sessions.is_empty() {
            self.sessions.remove(&msg.org_id);
            // After any Subscribe this relay sent for the organization: one mailbox, in order.
            self.bus.do_send(Unsubscribe { org_id: msg.org_id, session_id: self.id });
        }
    }
}

impl Handler<Deliver> for Relay {
    type Result = ();
    fn handle(&mut self, msg: Deliver, _: &mut Context<Self>) {
        if let Some(sessions) = self.sessions.get(&msg.0.org_id) {
            for session in sessions.values() {
                session.do_send(msg.clone());
            }
        }
    }
}
