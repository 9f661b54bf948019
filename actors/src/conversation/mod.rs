//! `ConversationActor`: the one writer of a conversation. It owns inbound and outbound messages,
//! status transitions ([`state`]), assignment, takeover and read state. Each change is one
//! transaction (rows + the conversation's events), then the events go to the bus. It keeps the
//! row cached between messages, stops after an idle period, and reloads from the database when
//! it is spawned again.

mod assignment;
pub mod bot;
pub mod csat;
mod manage;
pub mod media;
mod outbound;
mod reactions;
mod removal;
pub mod routing;
pub mod state;
mod tags;

pub use assignment::{AutoAssign, Note, Reassign};
pub use bot::WakeBot;
pub use manage::{FollowUp, ReturnToBot, Update};
pub use media::{MediaOutcome, MediaResult, RetryMedia};
pub use outbound::{
    BotReply, Discard, Flush, ReplyTo, Requeue, SURVEY, SendMedia, SendMediaLink, SendTemplate, TEMPLATE, ToggleHide,
};
pub use reactions::React;
pub use removal::Delete;
pub use routing::{Reroute, Rerouted};
pub use tags::{AddTag, RemoveTag};

use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use entities::enums::{Channel, ConversationStatus, Direction, MessageStatus};
use entities::{contact, conversation, message};
use sea_orm::{ActiveValue::Set, ConnectionTrait, IntoActiveModel, TryIntoModel};
use serde::{Deserialize, Serialize};

use crate::db::Written;
use crate::error::ActorError;
use crate::events::EventName;
use crate::runtime::Runtime;
use crate::store::{self, events::NewEvent};
use crate::views::{ConversationView, MessageCreated, MessageView, StatusChanged};

/// A customer message as the channel delivered it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InboundMessage {
    pub provider_message_id: String,
    pub message_type: String,
    pub text: Option<String>,
    /// Type-specific content, JSON text.
    pub content: Option<String>,
    pub sent_at: DateTime<Utc>,
    /// The provider's media id, for types that carry a file.
    #[serde(default)]
    pub media_id: Option<String>,
    /// The customer's WhatsApp profile name as this message gave it: when it differs from the
    /// contact this actor holds, the contact is read again (the inbox has just updated it).
    #[serde(default)]
    pub profile_name: Option<String>,
    /// A file the server already holds (a widget visitor's upload): the message is stored with
    /// its file `downloaded`, so the provider media fetcher never looks for it.
    #[serde(default)]
    pub stored_media: Option<StoredMedia>,
}

/// A file in the media store that came with a customer's message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredMedia {
    pub path: String,
    pub mime: String,
    pub size: i64,
}

/// Store a customer message.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<InboundOutcome, ActorError>")]
pub struct Inbound {
    pub org_id: String,
    pub message: InboundMessage,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum InboundOutcome {
    Stored(Box<MessageView>),
    /// Same provider message id already stored (a webhook redelivery).
    Duplicate,
    /// The conversation is closed; the inbox must open a new one.
    Closed,
}

/// Apply a delivery status the channel reported for an outbound message.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<(), ActorError>")]
pub struct ApplyStatus {
    pub org_id: String,
    /// The wamid the provider reported on. Looked up inside the actor, so a status that races
    /// ahead of the send that produced its wamid waits behind it instead of being lost.
    pub provider_message_id: String,
    /// Our id of the message, when the provider echoed it: finds a message whose send answer
    /// was lost (its wamid never stored).
    #[serde(default)]
    pub message_id: Option<String>,
    pub status: MessageStatus,
    pub at: DateTime<Utc>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Send a text message from an agent.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<MessageView, ActorError>")]
pub struct SendText {
    pub org_id: String,
    pub sender_id: String,
    pub text: String,
    /// The client's `Idempotency-Key`: a second request with the same key gets the first
    /// request's message instead of sending again.
    pub idempotency_key: Option<String>,
    /// The message this one answers (WhatsApp shows it quoted).
    #[serde(default)]
    pub reply_to: Option<ReplyTo>,
}

/// A human takes the conversation over.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<ConversationView, ActorError>")]
pub struct Takeover {
    pub org_id: String,
    pub user_id: String,
}

/// Assign to an agent (`Some`) or release to the queue (`None`).
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<ConversationView, ActorError>")]
pub struct Assign {
    pub org_id: String,
    pub user_id: Option<String>,
}

/// Close the conversation.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<ConversationView, ActorError>")]
pub struct Resolve {
    pub org_id: String,
    /// The satisfaction survey to send once resolved (the inbox's rule matched), if any.
    #[serde(default)]
    pub survey: Option<csat::Survey>,
}

/// Mark everything read.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<ConversationView, ActorError>")]
pub struct MarkRead {
    pub org_id: String,
}

/// Stop now: another node owns the conversation.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Relinquish;

/// Periodic check for passivation.
#[derive(Message)]
#[rtype(result = "()")]
struct IdleCheck;

/// The cached state: the row and its contact.
#[derive(Clone)]
struct Loaded {
    conv: conversation::Model,
    contact: Option<contact::Model>,
    /// The inbox's channel, read once: a conversation never changes inbox. WhatsApp's rules
    /// (the 24-hour window, templates) apply only to WhatsApp.
    channel: Channel,
    /// Set by a change that stored a new customer message; read (and cleared) once committed.
    customer_wrote: bool,
    /// Outbound messages this actor stored: while it lives, none of them can be in a send call
    /// (the actor makes one call at a time), so their in-flight lease does not hold them back.
    enqueued: std::collections::HashSet<String>,
}

impl Loaded {
    fn view(&self) -> ConversationView {
        ConversationView::new(&self.conv, self.contact.as_ref(), self.channel)
    }
    fn status(&self) -> ConversationStatus {
        self.conv.status
    }
}

pub struct ConversationActor {
    rt: Runtime,
    org_id: String,
    id: String,
    /// The row as last committed; `None` before the first load and after a failed change, so
    /// the next message reloads it from the database.
    state: Option<Loaded>,
    /// Last message handled, for passivation.
    last_active: Instant,
    /// The pending or running bot turn.
    turn: bot::TurnState,
}

impl ConversationActor {
    pub fn new(rt: Runtime, org_id: String, id: String) -> Self {
        ConversationActor { rt, org_id, id, state: None, last_active: Instant::now(), turn: Default::default() }
    }

    /// Runs `work` on the loaded state, strictly after every earlier message, and caches the
    /// state it returns (or drops the cache when it fails).
    fn run<R, F, Fut>(&mut self, org_id: &str, work: F) -> AtomicResponse<Self, Result<R, ActorError>>
    where
        R: 'static,
        F: FnOnce(Runtime, Loaded) -> Fut + 'static,
        Fut: Future<Output = Result<(Loaded, R), ActorError>> + 'static,
    {
        AtomicResponse::new(Box::pin(self.run_fut(org_id, work)))
    }

    /// [`ConversationActor::run`] as an actor future, for handlers that continue after it.
    fn run_fut<R, F, Fut>(
        &mut self,
        org_id: &str,
        work: F,
    ) -> impl ActorFuture<Self, Output = Result<R, ActorError>> + use<R, F, Fut>
    where
        R: 'static,
        F: FnOnce(Runtime, Loaded) -> Fut + 'static,
        Fut: Future<Output = Result<(Loaded, R), ActorError>> + 'static,
    {
        self.last_active = Instant::now();
        let rt = self.rt.clone();
        let cached = self.state.clone();
        let (id, own_org) = (self.id.clone(), self.org_id.clone());
        let wrong_org = org_id != own_org;
        let fut = async move {
            if wrong_org {
                return Err(ActorError::NotFound("conversation"));
            }
            let loaded = match cached {
                Some(l) => l,
                None => load(&rt, &own_org, &id).await?,
            };
            work(rt, loaded).await
        };
        fut.into_actor(self).map(|res, act, ctx| match res {
            Ok((loaded, out)) => {
                let left_bot = act
                    .state
                    .as_ref()
                    .filter(|before| before.conv.bot_epoch < loaded.conv.bot_epoch)
                    .map(|before| before.conv.bot_epoch);
                if let Some(epoch) = left_bot {
                    act.rt.bot_session_ended(&loaded.conv, epoch);
                }
                act.state = Some(loaded);
                act.after_change(ctx);
                Ok(out)
            }
            Err(e) => {
                // An id that names no conversation (of this organization) gets no actor that
                // lingers until the idle timeout.
                if act.state.is_none() && matches!(e, ActorError::NotFound("conversation")) {
                    ctx.stop();
                }
                act.state = None;
                Err(e)
            }
        })
    }
}

impl Actor for ConversationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let every = (self.rt.config.actor_idle / 4).max(Duration::from_millis(50));
        ctx.run_interval(every, |_, ctx| ctx.notify(IdleCheck));
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        self.rt.conversation_stopped(&self.id, &ctx.address());
    }
}

impl Handler<Relinquish> for ConversationActor {
    type Result = ();
    fn handle(&mut self, _: Relinquish, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<IdleCheck> for ConversationActor {
    type Result = ();
    fn handle(&mut self, _: IdleCheck, ctx: &mut Context<Self>) {
        if self.last_active.elapsed() >= self.rt.config.actor_idle {
            ctx.stop();
        }
    }
}

async fn load(rt: &Runtime, org_id: &str, id: &str) -> Result<Loaded, ActorError> {
    let conv = store::conversations::get(&rt.db.conn, org_id, id).await?.ok_or(ActorError::NotFound("conversation"))?;
    let contact = store::contacts::get(&rt.db.conn, org_id, &conv.contact_id).await?;
    let channel = store::inboxes::channel_of(&rt.db.conn, &conv.inbox_id).await?;
    Ok(Loaded { conv, contact, channel, customer_wrote: false, enqueued: Default::default() })
}

/// Whether the conversation's inbox holds a message with this provider id.
async fn already_stored(rt: &Runtime, s: &Loaded, provider_message_id: &str) -> Result<bool, ActorError> {
    Ok(store::messages::by_provider_id(&rt.db.conn, &s.conv.inbox_id, provider_message_id).await?.is_some())
}

/// The conversation's next events, numbered after its current `seq`.
struct Outbox {
    conversation_id: String,
    /// The conversation's `seq` when this change began: the version the write expects to find.
    base: i64,
    seq: i64,
    items: Vec<NewEvent>,
}

impl Outbox {
    fn new(conv: &conversation::Model) -> Outbox {
        Outbox { conversation_id: conv.id.clone(), base: conv.event_seq, seq: conv.event_seq, items: Vec::new() }
    }
    fn push(&mut self, name: EventName, payload: String) {
        self.seq += 1;
        self.items.push(NewEvent { conversation: Some((self.conversation_id.clone(), self.seq)), name, payload });
    }
}

/// Writes the conversation row and its events in `txn`, commits, and publishes.
async fn commit(
    rt: &Runtime,
    txn: crate::db::WriteTxn,
    conv: &mut conversation::Model,
    outbox: Outbox,
) -> Result<(), ActorError> {
    conv.event_seq = outbox.seq;
    queue_fields(conv, Utc::now());
    let org_id = conv.org_id.clone();
    // The row is written only if nobody else wrote it since we read it (another node that held
    // this conversation while Redis was unreachable): our cached view would be stale.
    if !store::conversations::save_if_unchanged(&*txn, conv, outbox.base).await? {
        return Err(ActorError::Stale);
    }
    let drain = wakes_assignment(conv, &outbox.items);
    rt.commit(txn, &org_id, outbox.items).await?;
    if drain {
        rt.request_drain(&org_id);
    }
    Ok(())
}

/// A conversation waiting for a human, or a change that may have freed an agent's capacity:
/// once committed, auto-assignment looks at the queue.
fn wakes_assignment(conv: &conversation::Model, events: &[NewEvent]) -> bool {
    conv.queued_at.is_some()
        || events
            .iter()
            .any(|e| matches!(e.name, EventName::ConversationAssigned | EventName::ConversationStatusChanged))
}

/// [`commit`] for a write given as statements (see [`crate::db::Db::write_statements`]): the
/// statement that stores `message` (`was`: as it was, `None` for a new one), then what changed
/// in the conversation row since `before` (the row as read) if nobody else wrote it since, with
/// its events. On SQLite the whole write is one turn on the database's writer; on PostgreSQL one
/// statement, which locks the count buckets the message and the conversation leave and join
/// before the event counter ([`store::messages::lock_outbox_statements`],
/// [`store::conversations::lock_buckets_statements`]). `Unmatched` (someone else wrote the row)
/// is [`ActorError::Stale`]; `Conflict` (a unique index refused the message's row) is the
/// caller's to answer. Nothing is stored unless it returns `Stored`.
async fn commit_statements(
    rt: &Runtime,
    was: Option<&message::Model>,
    message: &message::Model,
    statement: sea_orm::Statement,
    conv: &mut conversation::Model,
    before: &conversation::Model,
    outbox: Outbox,
) -> Result<Written, ActorError> {
    let mut statements = Vec::with_capacity(4);
    let mut buckets = Vec::new();
    if rt.db.backend() == sea_orm::DbBackend::Postgres
        && let Some([create, lock]) = store::messages::lock_outbox_statements(was, message)
    {
        buckets.push(create);
        statements.push(lock);
    }
    statements.push(statement);
    commit_conversation(rt, buckets, statements, conv, before, outbox).await
}

/// [`commit_statements`] for `statements` that leave every message in its count bucket (none,
/// or a customer's message), then the conversation; `buckets` create the count rows the write
/// locks, before it.
async fn commit_conversation(
    rt: &Runtime,
    mut buckets: Vec<sea_orm::Statement>,
    mut statements: Vec<sea_orm::Statement>,
    conv: &mut conversation::Model,
    before: &conversation::Model,
    outbox: Outbox,
) -> Result<Written, ActorError> {
    conv.event_seq = outbox.seq;
    queue_fields(conv, Utc::now());
    let org_id = conv.org_id.clone();
    statements.push(store::conversations::save_if_unchanged_statement(rt.db.backend(), conv, before, outbox.base));
    let drain = wakes_assignment(conv, &outbox.items);
    if rt.db.backend() == sea_orm::DbBackend::Postgres && store::conversations::changes_bucket(before, conv) {
        let [create, lock] = store::conversations::lock_buckets_statements(before, conv);
        buckets.push(create);
        statements.push(lock);
    }
    for create in buckets {
        rt.db.conn.execute_raw(create).await?;
    }
    match rt.write(&org_id, statements, outbox.items).await? {
        Written::Unmatched => Err(ActorError::Stale),
        Written::Conflict => Ok(Written::Conflict),
        Written::Stored => {
            if drain {
                rt.request_drain(&org_id);
            }
            Ok(Written::Stored)
        }
    }
}

/// Keeps the queue fields true to the row: `queued_at` while the conversation waits unassigned
/// for a human (kept from when it first joined, so the oldest is served first), `awaiting_since`
/// while the customer waits for a reply.
fn queue_fields(c: &mut conversation::Model, now: DateTime<Utc>) {
    if c.status == ConversationStatus::Open && c.assigned_to.is_none() {
        c.queued_at.get_or_insert(now);
    } else {
        c.queued_at = None;
    }
    if c.awaiting_reply {
        c.awaiting_since.get_or_insert(now);
    } else {
        c.awaiting_since = None;
    }
}

/// Starts a new bot epoch when the conversation leaves the bot, so no reply of a bot turn that
/// began before can be sent any more.
fn leave_bot(c: &mut conversation::Model, prev: ConversationStatus, next: ConversationStatus) {
    if prev == ConversationStatus::BotHandling && next != ConversationStatus::BotHandling {
        c.bot_epoch += 1;
    }
}

/// A new message row of this conversation with nothing but its kind set.
fn new_message(
    conv: &conversation::Model,
    direction: Direction,
    message_type: &str,
    status: MessageStatus,
    now: DateTime<Utc>,
) -> message::Model {
    message::Model {
        id: crate::new_id(),
        org_id: conv.org_id.clone(),
        conversation_id: conv.id.clone(),
        inbox_id: conv.inbox_id.clone(),
        direction,
        message_type: message_type.into(),
        text: None,
        content: None,
        status,
        provider_message_id: None,
        error_code: None,
        error_message: None,
        sender_id: None,
        created_at: now,
        updated_at: now,
        sent_at: None,
        delivered_at: None,
        read_at: None,
        attempts: 0,
        next_attempt_at: None,
        idempotency_key: None,
        discarded_at: None,
        hidden: false,
        media_id: None,
        media_status: None,
        media_path: None,
        media_mime: None,
        media_size: None,
        media_error: None,
        reactions: None,
        bot_epoch: None,
    }
}

fn preview(text: Option<&str>, message_type: &str) -> String {
    match text {
        Some(t) => t.chars().take(120).collect(),
        None => format!("[{message_type}]"),
    }
}

/// The conversation's contact changed (an agent renamed or recategorized it): read it again, so
/// the conversation's next events carry it as it is now.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<(), ActorError>")]
pub struct RefreshContact {
    pub org_id: String,
}

impl Handler<RefreshContact> for ConversationActor {
    type Result = AtomicResponse<Self, Result<(), ActorError>>;
    fn handle(&mut self, msg: RefreshContact, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, |rt, mut s| async move {
            s.contact = store::contacts::get(&rt.db.conn, &s.conv.org_id, &s.conv.contact_id).await?;
            Ok((s, ()))
        })
    }
}

impl Handler<Inbound> for ConversationActor {
    type Result = AtomicResponse<Self, Result<InboundOutcome, ActorError>>;
    fn handle(&mut self, msg: Inbound, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, mut s| async move {
            let m = msg.message;
            // A message stored before is refused by the unique index when it is inserted again
            // (a reaction to a message here stores no row: applying it again changes nothing). It
            // is looked up first only when the answer would open a new conversation: this one is
            // closed.
            let prev = s.status();
            let Ok(next) = state::on_customer_message(prev, s.conv.assigned_to.is_some()) else {
                if already_stored(&rt, &s, &m.provider_message_id).await? {
                    return Ok((s, InboundOutcome::Duplicate));
                }
                return Ok((s, InboundOutcome::Closed));
            };
            if m.profile_name.is_some() && s.contact.as_ref().is_some_and(|c| c.profile_name != m.profile_name) {
                s.contact = store::contacts::get(&rt.db.conn, &s.conv.org_id, &s.conv.contact_id).await?;
            }
            // A reaction attaches to the message it reacts to, when that message is here.
            if m.message_type == "reaction" {
                let reaction: serde_json::Value =
                    m.content.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
                if let Some(target) = reaction.get("message_id").and_then(|v| v.as_str()) {
                    let emoji = reaction.get("emoji").and_then(|v| v.as_str()).unwrap_or_default();
                    if let Some(view) = reactions::customer_reaction(&rt, &mut s, target, emoji, m.sent_at).await? {
                        return Ok((s, InboundOutcome::Stored(Box::new(view))));
                    }
                }
            }
            // The first customer message decides the team; when it opened the conversation (no
            // message of ours came before it, such as a campaign's) it gets the inbox's greeting.
            let first = s.conv.last_inbound_at.is_none();
            let greet = first && s.conv.last_message_preview.is_none();
            let team = if first && s.conv.team_id.is_none() {
                routing::first_route(&rt, &s, m.text.as_deref().unwrap_or_default()).await?
            } else {
                None
            };
            let now = Utc::now();
            let row = message::Model {
                text: m.text.clone(),
                content: m.content.clone(),
                provider_message_id: Some(m.provider_message_id.clone()),
                sent_at: Some(m.sent_at),
                media_status: match (&m.stored_media, &m.media_id) {
                    (Some(_), _) => Some(media::MEDIA_DOWNLOADED.to_owned()),
                    (None, Some(_)) => Some(media::MEDIA_PENDING.to_owned()),
                    (None, None) => None,
                },
                media_id: m.media_id.clone(),
                media_path: m.stored_media.as_ref().map(|f| f.path.clone()),
                media_mime: m.stored_media.as_ref().map(|f| f.mime.clone()),
                media_size: m.stored_media.as_ref().map(|f| f.size),
                ..new_message(&s.conv, Direction::Inbound, &m.message_type, MessageStatus::Received, now)
            };
            let before = s.conv.clone();
            let c = &mut s.conv;
            if team.is_some() {
                c.team_id = team;
            }
            c.status = next;
            c.unread_count += 1;
            c.awaiting_reply = true;
            c.last_message_at = Some(now);
            // The service window runs from when the customer wrote (Meta's timestamp), not from
            // when the webhook reached us; never from the future, never backwards.
            let written = m.sent_at.min(now);
            c.last_inbound_at = Some(c.last_inbound_at.map_or(written, |t| t.max(written)));
            c.last_message_preview = Some(preview(m.text.as_deref(), &m.message_type));
            c.updated_at = now;
            let mut out = Outbox::new(&s.conv);
            let view = MessageView::from(&row);
            // Numbered before it is rendered, so the conversation in the payload carries its seq.
            s.conv.event_seq += if prev != next { 2 } else { 1 };
            let conv_view = s.view();
            out.push(
                EventName::MessageCreated,
                serde_json::to_string(&MessageCreated { message: &view, conversation: &conv_view })?,
            );
            if prev != next {
                out.push(
                    EventName::ConversationStatusChanged,
                    serde_json::to_string(&StatusChanged { conversation: &conv_view, previous_status: prev.as_str() })?,
                );
            }
            let insert = store::messages::insert_statement(rt.db.backend(), &row);
            if commit_statements(&rt, None, &row, insert, &mut s.conv, &before, out).await? == Written::Conflict {
                // Stored before: the unique index on the provider's message id refused it.
                s.conv = before;
                return Ok((s, InboundOutcome::Duplicate));
            }
            s.customer_wrote = true;
            let s = if greet { routing::greet(&rt, s).await } else { s };
            let s = routing::notice_after_inbound(&rt, s).await;
            Ok((s, InboundOutcome::Stored(Box::new(view))))
        })
    }
}

impl Handler<ApplyStatus> for ConversationActor {
    type Result = AtomicResponse<Self, Result<(), ActorError>>;
    fn handle(&mut self, msg: ApplyStatus, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, mut s| async move {
            let mut found =
                store::messages::by_provider_id(&rt.db.conn, &s.conv.inbox_id, &msg.provider_message_id).await?;
            if found.is_none()
                && let Some(id) = &msg.message_id
            {
                // A send whose answer was lost: the status names it, and brings its wamid.
                found = store::messages::get(&rt.db.conn, id)
                    .await?
                    .filter(|m| m.provider_message_id.is_none() && m.direction == Direction::Outbound);
            }
            let Some(row) = found.filter(|m| m.conversation_id == s.conv.id) else {
                return Err(ActorError::NotFound("message"));
            };
            let adopted = row.provider_message_id.is_none();
            let current = row.status;
            if msg.status.rank() <= current.rank() {
                return Ok((s, ())); // late or repeated status: the message is already further along
            }
            let was = row.clone();
            let mut am = row.into_active_model();
            am.status = Set(msg.status);
            am.updated_at = Set(Utc::now());
            if adopted {
                am.provider_message_id = Set(Some(msg.provider_message_id.clone()));
                am.next_attempt_at = Set(None);
                am.sent_at = Set(Some(msg.at));
                am.error_code = Set(None);
                am.error_message = Set(None);
            }
            match msg.status {
                MessageStatus::Sent => am.sent_at = Set(Some(msg.at)),
                MessageStatus::Delivered => am.delivered_at = Set(Some(msg.at)),
                MessageStatus::Read => am.read_at = Set(Some(msg.at)),
                MessageStatus::Failed => {
                    am.error_code = Set(msg.error_code.clone());
                    am.error_message = Set(msg.error_message.clone());
                }
                MessageStatus::Received | MessageStatus::Pending => {}
            }
            let updated = am.clone().try_into_model()?;
            let before = s.conv.clone();
            let mut out = Outbox::new(&s.conv);
            out.push(EventName::MessageUpdated, serde_json::to_string(&MessageView::from(&updated))?);
            let update = store::messages::update_statement(rt.db.backend(), &updated.id, am);
            match commit_statements(&rt, Some(&was), &updated, update, &mut s.conv, &before, out).await? {
                Written::Stored => Ok((s, ())),
                // The wamid it adopted is another message's already.
                Written::Conflict => Err(ActorError::Conflict("the provider message id is taken".into())),
                Written::Unmatched => Err(ActorError::Stale),
            }
        })
    }
}

/// Applies a status/assignment change computed by `change`, emitting the matching events.
async fn transition(
    rt: Runtime,
    mut s: Loaded,
    next: ConversationStatus,
    assignee: Option<String>,
    extra: impl FnOnce(&mut conversation::Model),
) -> Result<(Loaded, ConversationView), ActorError> {
    let prev = s.status();
    let prev_assignee = s.conv.assigned_to.clone();
    let before = s.conv.clone();
    s.conv.status = next;
    s.conv.assigned_to = assignee;
    extra(&mut s.conv);
    leave_bot(&mut s.conv, prev, next);
    if s.conv == before {
        let view = s.view();
        return Ok((s, view)); // nothing changed: no write, no event
    }
    s.conv.updated_at = Utc::now();
    let assigned_changed = s.conv.assigned_to != prev_assignee;
    let status_changed = prev != next;
    let mut out = Outbox::new(&s.conv);
    s.conv.event_seq +=
        i64::from(status_changed) + i64::from(assigned_changed) + i64::from(!status_changed && !assigned_changed);
    let view = s.view();
    if status_changed {
        out.push(
            EventName::ConversationStatusChanged,
            serde_json::to_string(&StatusChanged { conversation: &view, previous_status: prev.as_str() })?,
        );
    }
    if assigned_changed {
        out.push(EventName::ConversationAssigned, serde_json::to_string(&view)?);
    }
    if !status_changed && !assigned_changed {
        out.push(EventName::ConversationUpdated, serde_json::to_string(&view)?);
    }
    if commit_conversation(&rt, Vec::new(), Vec::new(), &mut s.conv, &before, out).await? == Written::Conflict {
        // The database allows one conversation that is not closed per contact and inbox: this
        // one reopening while the customer has a newer one.
        return Err(ActorError::Conflict("the customer already has a newer open conversation".into()));
    }
    Ok((s, view))
}

impl Handler<Takeover> for ConversationActor {
    type Result = AtomicResponse<Self, Result<ConversationView, ActorError>>;
    fn handle(&mut self, msg: Takeover, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, s| async move {
            let next = state::on_takeover(s.status()).map_err(|r| ActorError::Conflict(r.into()))?;
            transition(rt, s, next, Some(msg.user_id), |_| {}).await
        })
    }
}

impl Handler<Assign> for ConversationActor {
    type Result = AtomicResponse<Self, Result<ConversationView, ActorError>>;
    fn handle(&mut self, msg: Assign, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, s| async move {
            let next =
                state::on_assign(s.status(), msg.user_id.is_some()).map_err(|r| ActorError::Conflict(r.into()))?;
            transition(rt, s, next, msg.user_id, |_| {}).await
        })
    }
}

impl Handler<Resolve> for ConversationActor {
    type Result = AtomicResponse<Self, Result<ConversationView, ActorError>>;
    fn handle(&mut self, msg: Resolve, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, s| async move {
            let next = state::on_resolve(s.status()).map_err(|r| ActorError::Conflict(r.into()))?;
            let assignee = s.conv.assigned_to.clone();
            let (s, view) = transition(rt.clone(), s, next, assignee, |c| {
                c.closed_at = Some(Utc::now());
                c.unread_count = 0;
            })
            .await?;
            let s = match msg.survey {
                Some(survey) => csat::send(&rt, s, survey).await?,
                None => s,
            };
            Ok((s, view))
        })
    }
}

impl Handler<MarkRead> for ConversationActor {
    type Result = AtomicResponse<Self, Result<ConversationView, ActorError>>;
    fn handle(&mut self, msg: MarkRead, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, s| async move {
            let (status, assignee) = (s.status(), s.conv.assigned_to.clone());
            transition(rt, s, status, assignee, |c| c.unread_count = 0).await
        })
    }
}
