//! `/widget/ws`: the visitor's live stream. One node-local `VisitorHub` listens to the event
//! bus (once per organization with live visitors), projects each event of a visitor's
//! conversation into a visitor-safe frame (`view`) and hands it to that visitor's
//! `VisitorSession`s. A session resumes with `since=<seq>` of its conversation: the missed
//! events are read from the database after it joined the hub, live frames wait meanwhile, and
//! nothing at or below the last seq written goes out twice. In a cluster the bus already brings
//! other nodes' events; typing (ephemeral) reaches this node's visitors only.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ::actors::bus::{Deliver, Flash, Subscribe, Unsubscribe};
use ::actors::events::Event;
use ::actors::views::{ConversationView, MessageView};
use actix::prelude::*;
use actix_web::web;
use actix_web_actors::ws;
use entities::enums::MessageStatus;
use serde_json::{Value, json};

use super::view::{Names, widget_message};
use crate::state::AppState;

/// How often the server pings.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// A socket silent this long is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Missed events read per query on resume.
const BACKLOG_PAGE: u64 = 500;
/// Largest frame a visitor may send.
pub const MAX_FRAME: usize = 64 * 1024;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// A frame for a visitor: the projected JSON and where it belongs.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Frame {
    pub conversation_id: String,
    /// The conversation's seq of the event; `None` for typing.
    pub seq: Option<i64>,
    /// A conversation was opened for the visitor (its first message, or after a resolved one).
    pub opens: bool,
    pub text: Arc<str>,
}

/// A visitor session joins (answers once the hub receives its organization's events).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Join {
    pub org_id: String,
    pub session_id: u64,
    pub contact_id: String,
    pub recipient: Recipient<Frame>,
}

/// A visitor session leaves.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub org_id: String,
    pub session_id: u64,
}

pub struct VisitorHub {
    bus: Addr<::actors::EventBus>,
    db: sea_orm::DatabaseConnection,
    names: Arc<Names>,
    /// The hub's subscriber id on the bus (distinct from agent sessions' ids).
    bus_id: u64,
    /// Live visitor sessions per organization and contact: session id → recipient. Keyed by
    /// contact so an event finds its visitors (or that there are none) without a scan.
    orgs: HashMap<String, HashMap<String, HashMap<u64, Recipient<Frame>>>>,
    /// The contact and inbox of each conversation seen, so `message.updated` (which names only
    /// its conversation) finds its visitor without a query.
    contact_of: HashMap<String, (String, String)>,
}

impl VisitorHub {
    pub fn new(rt: &::actors::Runtime, names: Arc<Names>) -> VisitorHub {
        VisitorHub {
            bus: rt.bus.clone(),
            db: rt.db.conn.clone(),
            names,
            bus_id: u64::MAX - NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
            orgs: HashMap::new(),
            contact_of: HashMap::new(),
        }
    }

    fn send(&self, org_id: &str, contact_id: &str, frame: Frame) {
        if let Some(sessions) = self.orgs.get(org_id).and_then(|o| o.get(contact_id)) {
            for r in sessions.values() {
                r.do_send(frame.clone());
            }
        }
    }
}

impl Actor for VisitorHub {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1 << 16);
    }
}

impl Handler<Join> for VisitorHub {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, msg: Join, ctx: &mut Context<Self>) -> Self::Result {
        let contacts = self.orgs.entry(msg.org_id.clone()).or_default();
        let first = contacts.is_empty();
        contacts.entry(msg.contact_id).or_default().insert(msg.session_id, msg.recipient);
        let subscribe = Subscribe { org_id: msg.org_id, session_id: self.bus_id, recipient: ctx.address().recipient() };
        let bus = self.bus.clone();
        // Resubscribing replaces the same entry: harmless, and it makes the answer mean "the
        // bus has us" for every joiner.
        Box::pin(async move {
            if let Err(e) = bus.send(subscribe).await {
                tracing::warn!(error = %e, first, "visitor hub could not subscribe to the bus");
            }
        })
    }
}

impl Handler<Leave> for VisitorHub {
    type Result = ();
    fn handle(&mut self, msg: Leave, _: &mut Context<Self>) {
        if let Some(contacts) = self.orgs.get_mut(&msg.org_id) {
            contacts.retain(|_, sessions| {
                sessions.remove(&msg.session_id);
                !sessions.is_empty()
            });
            if contacts.is_empty() {
                self.orgs.remove(&msg.org_id);
                self.bus.do_send(Unsubscribe { org_id: msg.org_id, session_id: self.bus_id });
            }
        }
        if self.contact_of.len() > 200_000 {
            self.contact_of.clear();
        }
    }
}

impl Handler<Deliver> for VisitorHub {
    type Result = ();
    fn handle(&mut self, Deliver(ev): Deliver, ctx: &mut Context<Self>) {
        let Some(conversation_id) = ev.conversation_id.clone() else { return };
        let wanted = matches!(
            ev.name.as_str(),
            "message.created"
                | "message.updated"
                | "conversation.created"
                | "conversation.status_changed"
                | "typing.agent"
        );
        if !wanted || !self.orgs.contains_key(&ev.org_id) {
            return;
        }
        let Ok(wire) = serde_json::from_str::<Value>(&ev.wire) else { return };
        let data = &wire["data"];
        let conv = if data["conversation"].is_object() { &data["conversation"] } else { data };
        if let (Some(contact), Some(inbox)) = (conv["contact"]["id"].as_str(), conv["inboxId"].as_str()) {
            self.contact_of.insert(conversation_id.clone(), (contact.to_owned(), inbox.to_owned()));
        }
        let (contact, inbox) = match self.contact_of.get(&conversation_id) {
            Some(c) => c.clone(),
            None if ev.name == "typing.agent" => return,
            None => {
                // An update of a conversation this hub has not seen yet: ask the database once.
                let (db, org, conv) = (self.db.clone(), ev.org_id.clone(), conversation_id.clone());
                let fut = async move { ::actors::store::conversations::get(&db, &org, &conv).await.ok().flatten() };
                ctx.wait(fut.into_actor(self).map(move |c, act, ctx| {
                    if let Some(c) = c {
                        act.contact_of.insert(c.id.clone(), (c.contact_id.clone(), c.inbox_id.clone()));
                        ctx.notify(Deliver(ev));
                    }
                }));
                return;
            }
        };
        let visited = self.orgs.get(&ev.org_id).is_some_and(|o| o.contains_key(&contact));
        if !visited {
            return;
        }
        let (db, names) = (self.db.clone(), self.names.clone());
        let fut = async move { project(&db, &names, &inbox, &ev, &wire).await.map(|f| (ev, f)) };
        ctx.wait(fut.into_actor(self).map(move |frame, act, _| {
            if let Some((ev, frame)) = frame {
                act.send(&ev.org_id, &contact, frame);
            }
        }));
    }
}

/// The visitor's frame for an event of its conversation, or `None` for what visitors never see.
pub async fn project(
    db: &sea_orm::DatabaseConnection,
    names: &Names,
    inbox_id: &str,
    ev: &Event,
    wire: &Value,
) -> Option<Frame> {
    let conversation_id = ev.conversation_id.clone()?;
    let data = &wire["data"];
    let seq = ev.seq;
    let frame = |v: Value, opens: bool| Frame {
        conversation_id: conversation_id.clone(),
        seq,
        opens,
        text: Arc::from(v.to_string()),
    };
    match ev.name.as_str() {
        "message.created" | "message.updated" => {
            let m: MessageView = serde_json::from_value(data.clone()).ok()?;
            let outbound = m.direction == "outbound";
            let kind = match (ev.name.as_str(), outbound, m.status.as_str()) {
                (_, true, "pending" | "failed") => return None,
                ("message.created", _, _) | ("message.updated", true, "sent") => "message",
                _ => "message.updated",
            };
            let sender = match outbound {
                true => {
                    let org = ev.org_id.as_str();
                    Some(names.sender(db, org, inbox_id, m.sender_id.as_deref()).await)
                }
                false => None,
            };
            let message = widget_message(&m, sender)?;
            Some(frame(json!({"type": kind, "seq": seq, "conversationId": conversation_id, "message": message}), false))
        }
        "conversation.created" | "conversation.status_changed" => {
            let c: ConversationView = serde_json::from_value(data.clone()).ok()?;
            let opens = ev.name == "conversation.created";
            Some(frame(json!({"type": "conversation", "seq": seq, "conversationId": c.id, "status": c.status}), opens))
        }
        "typing.agent" => {
            let user = data["userId"].as_str().filter(|u| !u.starts_with("api-key:"));
            let name = match user {
                Some(u) => Some(names.sender(db, &ev.org_id, "", Some(u)).await.name),
                None => None,
            };
            let typing = data["typing"].as_bool().unwrap_or(true);
            Some(frame(
                json!({"type": "typing", "conversationId": conversation_id, "typing": typing, "name": name}),
                false,
            ))
        }
        _ => None,
    }
}

/// One visitor's socket.
pub struct VisitorSession {
    state: web::Data<AppState>,
    id: u64,
    org_id: String,
    inbox_id: String,
    contact_id: String,
    /// The conversation the visitor is in (`None` until its first message).
    conversation_id: Option<String>,
    /// The last seq written of that conversation.
    last: i64,
    /// Where the backlog starts: the client's `since`, else the seq at connect time.
    from: i64,
    /// The conversation's seq at connect time (the `ready` frame's).
    latest: i64,
    /// Live frames held back while the backlog is read.
    buffer: Option<Vec<Frame>>,
    heartbeat: Instant,
}

impl VisitorSession {
    pub fn new(
        state: web::Data<AppState>,
        visitor: &super::Visitor,
        conversation: Option<(String, i64)>,
        since: Option<i64>,
    ) -> VisitorSession {
        let (conversation_id, latest) = match conversation {
            Some((id, seq)) => (Some(id), seq),
            None => (None, 0),
        };
        let from = since.map_or(latest, |s| s.clamp(0, latest));
        VisitorSession {
            state,
            id: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
            org_id: visitor.org_id().to_owned(),
            inbox_id: visitor.inbox.model.id.clone(),
            contact_id: visitor.contact.id.clone(),
            conversation_id,
            last: from,
            from,
            latest,
            buffer: Some(Vec::new()),
            heartbeat: Instant::now(),
        }
    }

    fn write(&mut self, f: &Frame, ctx: &mut ws::WebsocketContext<Self>) {
        let current = self.conversation_id.as_deref() == Some(f.conversation_id.as_str());
        if !current {
            if !f.opens {
                return; // an older conversation of the visitor's
            }
            self.conversation_id = Some(f.conversation_id.clone());
            self.last = 0;
        }
        match f.seq {
            Some(seq) if seq <= self.last => {}
            Some(seq) => {
                self.last = seq;
                ctx.text(&*f.text);
            }
            None => ctx.text(&*f.text),
        }
    }

    fn read_backlog(&mut self, after: i64, ctx: &mut ws::WebsocketContext<Self>) {
        let Some(conv) = self.conversation_id.clone() else {
            self.flush(ctx);
            return;
        };
        let (state, inbox) = (self.state.clone(), self.inbox_id.clone());
        let fut = async move {
            let db = state.db();
            let events = ::actors::store::events::of_conversation_since(db, &conv, after, BACKLOG_PAGE).await?;
            let full = events.len() as u64 == BACKLOG_PAGE;
            let mut frames = Vec::new();
            let mut last = after;
            for ev in &events {
                last = ev.seq.unwrap_or(last);
                let Ok(wire) = serde_json::from_str::<Value>(&ev.wire) else { continue };
                frames.extend(project(db, &state.widget.names, &inbox, ev, &wire).await);
            }
            Ok::<_, sea_orm::DbErr>((frames, full, last))
        };
        ctx.wait(fut.into_actor(self).map(|res, act, ctx| match res {
            Ok((frames, full, last)) => {
                for f in &frames {
                    act.write(f, ctx);
                }
                act.last = act.last.max(last);
                if full {
                    act.read_backlog(last, ctx);
                } else {
                    act.flush(ctx);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read a visitor's backlog; closing so it retries");
                ctx.close(Some(ws::CloseReason { code: ws::CloseCode::Again, description: Some("try again".into()) }));
                ctx.stop();
            }
        }));
    }

    fn flush(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        for f in self.buffer.take().unwrap_or_default() {
            self.write(&f, ctx);
        }
    }

    fn command(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            ctx.text(json!({"type": "error", "message": "frames are JSON objects"}).to_string());
            return;
        };
        match v["type"].as_str() {
            Some("ping") => ctx.text(r#"{"type":"pong"}"#),
            Some("typing") => {
                let Some(conv) = self.conversation_id.clone() else { return };
                let data = json!({"conversationId": conv, "contactId": self.contact_id, "typing": v["typing"].as_bool().unwrap_or(true)});
                let ev = Event::ephemeral(self.org_id.clone(), conv, "typing.visitor", data);
                self.state.rt.bus.do_send(Flash(Arc::new(ev)));
            }
            Some("ack") => {
                let status = match v["status"].as_str() {
                    Some("delivered") => MessageStatus::Delivered,
                    Some("read") => MessageStatus::Read,
                    _ => return,
                };
                let (Some(conv), Some(ids)) = (self.conversation_id.clone(), v["ids"].as_array()) else { return };
                let ids: Vec<String> = ids.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect();
                let (state, org) = (self.state.clone(), self.org_id.clone());
                actix::spawn(async move { super::messages::ack(&state, &org, &conv, &ids, status).await });
            }
            _ => {}
        }
    }
}

impl Actor for VisitorSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        metrics::gauge!("cx_sockets", "kind" => "visitor").increment(1.0);
        ctx.text(json!({"type": "ready", "seq": self.latest, "conversationId": self.conversation_id}).to_string());
        let join = Join {
            org_id: self.org_id.clone(),
            session_id: self.id,
            contact_id: self.contact_id.clone(),
            recipient: ctx.address().recipient(),
        };
        // The backlog is read once the hub has the bus subscription: what committed before is
        // in the database, what commits after reaches the buffer.
        ctx.wait(self.state.widget.hub.send(join).into_actor(self).map(|res, act, ctx| match res {
            Ok(()) => act.read_backlog(act.from, ctx),
            Err(_) => ctx.stop(),
        }));
        ctx.run_interval(HEARTBEAT, |act, ctx| {
            if act.heartbeat.elapsed() > CLIENT_TIMEOUT {
                ctx.stop();
                return;
            }
            ctx.ping(b"");
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        metrics::gauge!("cx_sockets", "kind" => "visitor").decrement(1.0);
        self.state.widget.hub.do_send(Leave { org_id: self.org_id.clone(), session_id: self.id });
    }
}

impl Handler<Frame> for VisitorSession {
    type Result = ();
    fn handle(&mut self, f: Frame, ctx: &mut Self::Context) {
        match &mut self.buffer {
            Some(buf) => buf.push(f),
            None => self.write(&f, ctx),
        }
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for VisitorSession {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        let Ok(msg) = msg else {
            ctx.stop();
            return;
        };
        self.heartbeat = Instant::now();
        match msg {
            ws::Message::Ping(p) => ctx.pong(&p),
            ws::Message::Text(t) => self.command(&t, ctx),
            ws::Message::Close(reason) => {
                ctx.close(reason);
                ctx.stop();
            }
            ws::Message::Pong(_) | ws::Message::Binary(_) | ws::Message::Continuation(_) | ws::Message::Nop => {}
        }
    }
}

/// The visitor's latest conversation and its seq, where a new socket starts.
pub async fn conversation_at(
    state: &AppState,
    visitor: &super::Visitor,
) -> crate::domain::Result<Option<(String, i64)>> {
    let c = super::visitors::latest_conversation(state.db(), &visitor.inbox.model.id, &visitor.contact.id).await?;
    Ok(c.map(|c| (c.id, c.event_seq)))
}
