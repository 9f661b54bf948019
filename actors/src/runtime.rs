//! The node's runtime handle: the database, the event bus, the channel senders and the actor
//! registry, cheap to clone into every actor and handler.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::Db;
use crate::bus::{EventBus, Publish, Resync};
use crate::channel::ChannelSender;
use crate::cluster::{Cluster, ForwardError, Owner};
use crate::command::{CommandReply, ConversationCommand, Forwardable, NOT_OWNER};
use crate::conversation::{ConversationActor, Relinquish};
use crate::error::ActorError;
use crate::events::Event;
use crate::inbox::InboxActor;
use crate::people::idle::{IdleAgentDetector, IdleReport, RunIdleCheck};
use crate::registry::Registry;

/// Tunables of the runtime.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// This node's id, carried on events it publishes to other nodes.
    pub node_id: String,
    /// A conversation actor idle this long stops; it is re-spawned from the database on demand.
    pub actor_idle: Duration,
    /// How long the bus waits for a missing event before reading it back from the database.
    pub gap_timeout: Duration,
    /// Threads that run conversation and inbox actors.
    pub arbiters: usize,
    /// Wait before the first retry of a send that failed transiently; doubles per attempt.
    pub outbox_backoff: Duration,
    /// How often the outbox sweeper looks for due messages.
    pub outbox_poll: Duration,
    /// A message whose send call is out is not sent again for this long: if the node dies
    /// during the call, the provider's status webhook settles it first.
    pub outbox_in_flight_lease: chrono::Duration,
    /// An agent with no live socket for this long becomes OFFLINE.
    pub presence_grace: Duration,
    /// How often the idle-agent detector and the assignment safety net run.
    pub idle_check: Duration,
    /// Customer messages within this window of each other are answered by one bot turn.
    pub bot_debounce: Duration,
    /// Requests that may wait for database capacity at once; the next is refused (503).
    pub db_queue: usize,
    /// Longest a request waits for database capacity before it is refused (503).
    pub db_queue_wait: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            node_id: "node-1".into(),
            actor_idle: Duration::from_secs(300),
            gap_timeout: Duration::from_millis(250),
            arbiters: 2,
            outbox_backoff: Duration::from_secs(1),
            outbox_poll: Duration::from_secs(1),
            outbox_in_flight_lease: chrono::Duration::seconds(60),
            presence_grace: Duration::from_secs(60),
            idle_check: Duration::from_secs(60),
            bot_debounce: Duration::from_millis(1500),
            db_queue: 1024,
            db_queue_wait: Duration::from_secs(5),
        }
    }
}

#[derive(Clone)]
pub struct Runtime(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub bus: Addr<EventBus>,
    /// Sends outbound messages to the customer's channel.
    pub channel: Arc<dyn ChannelSender>,
    pub config: RuntimeConfig,
    /// Cluster membership on Redis; `None` when the node runs alone.
    pub cluster: Option<Arc<Cluster>>,
    registry: Registry,
    /// Agent sockets on this node.
    pub presence: crate::people::presence::LocalPresence,
    /// Organizations whose queue is being drained; `true` = drain again when done.
    drains: std::sync::Mutex<std::collections::HashMap<String, bool>>,
    idle: std::sync::OnceLock<Addr<IdleAgentDetector>>,
    /// Takes bot turns; set once by the server after start ([`Runtime::set_bot`]).
    bot: std::sync::OnceLock<Arc<dyn crate::bot::BotEngine>>,
    /// Flips to `true` at shutdown; the background loops watch it and end.
    stopping: tokio::sync::watch::Sender<bool>,
    /// Admission to the database for requests and bot turns, sized from the pool.
    pub admission: Arc<crate::admission::Admission>,
}

impl std::ops::Deref for Runtime {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Hands committed events to the bus for fan-out, and to the other nodes.
fn publish_to(bus: &Addr<EventBus>, cluster: Option<&Cluster>, events: Vec<Event>) {
    if events.is_empty() {
        return;
    }
    let events: Vec<Arc<Event>> = events.into_iter().map(Arc::new).collect();
    if let Some(cluster) = cluster {
        for ev in &events {
            cluster.publish(ev.clone());
        }
    }
    bus.do_send(Publish(events));
}

impl Runtime {
    /// Starts the bus and the actor threads, and with a cluster its Redis loops. Must run inside
    /// an actix `System`.
    pub fn start(
        db: Db,
        channel: Arc<dyn ChannelSender>,
        config: RuntimeConfig,
        cluster: Option<Arc<Cluster>>,
    ) -> Runtime {
        let bus_arbiter = Arbiter::new();
        let bus_db = db.clone();
        let gap = config.gap_timeout;
        let bus = EventBus::start_in_arbiter(&bus_arbiter.handle(), move |_| EventBus::new(bus_db, gap));
        // Committed events go to the bus (and the other nodes) from the commit itself, a whole
        // group at once and in `org_seq` order.
        let (publish_bus, publish_cluster) = (bus.clone(), cluster.clone());
        db.set_publisher(Arc::new(move |events| publish_to(&publish_bus, publish_cluster.as_deref(), events)));
        let registry = Registry::new(config.arbiters.max(1), bus_arbiter);
        let stopping = tokio::sync::watch::Sender::new(false);
        let admission =
            Arc::new(crate::admission::Admission::for_pool(db.pool_size, config.db_queue, config.db_queue_wait));
        let rt = Runtime(Arc::new(Inner {
            db,
            bus,
            channel,
            config,
            cluster,
            registry,
            presence: Default::default(),
            drains: Default::default(),
            idle: Default::default(),
            bot: Default::default(),
            stopping,
            admission,
        }));
        if let Some(cluster) = rt.cluster.clone() {
            rt.start_cluster_loops(cluster);
        }
        rt.start_outbox_sweeper();
        rt.start_people_loops();
        rt
    }

    /// Finds conversations with outbound messages due (retries, and whatever a restart left
    /// pending) and asks their actors to send them, one flush per conversation at a time.
    fn start_outbox_sweeper(&self) {
        let rt = self.clone();
        self.spawn_loop(async move {
            let in_flight: Arc<std::sync::Mutex<std::collections::HashSet<String>>> = Arc::default();
            let mut tick = tokio::time::interval(rt.config.outbox_poll);
            loop {
                tick.tick().await;
                let due = match crate::store::messages::due_conversations(&rt.db.conn, chrono::Utc::now(), 500).await {
                    Ok(due) => due,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox sweep failed");
                        continue;
                    }
                };
                for (org_id, conversation_id) in due {
                    if !in_flight.lock().unwrap_or_else(|p| p.into_inner()).insert(conversation_id.clone()) {
                        continue;
                    }
                    let (rt, in_flight) = (rt.clone(), in_flight.clone());
                    actix::spawn(async move {
                        let flush = crate::conversation::Flush { org_id: org_id.clone() };
                        if let Err(e) = rt.ask_conversation(&org_id, &conversation_id, flush).await {
                            tracing::warn!(%conversation_id, error = %e, "outbox flush failed");
                        }
                        in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&conversation_id);
                    });
                }
            }
        });
    }

    /// Presence (agents with no live socket become OFFLINE), the idle-agent detector, and a
    /// periodic look at every organization's queue in case a drain was missed.
    fn start_people_loops(&self) {
        let idle = IdleAgentDetector::new(self.clone(), self.config.idle_check).start();
        let _ = self.idle.set(idle);
        self.spawn_loop(crate::people::presence::run_monitor(self.clone(), self.config.presence_grace));
        let rt = self.clone();
        self.spawn_loop(async move {
            let mut tick = tokio::time::interval(rt.config.idle_check);
            loop {
                tick.tick().await;
                match crate::store::conversations::orgs_with_queue(&rt.db.conn).await {
                    Ok(orgs) => orgs.iter().for_each(|org| rt.request_drain(org)),
                    Err(e) => tracing::warn!(error = %e, "queue check failed"),
                }
            }
        });
    }

    /// Installs the bot engine. Until then (and in runtimes without a bot) turns are silent.
    pub fn set_bot(&self, engine: Arc<dyn crate::bot::BotEngine>) {
        let _ = self.bot.set(engine);
    }

    pub fn bot(&self) -> Arc<dyn crate::bot::BotEngine> {
        self.bot.get().cloned().unwrap_or_else(|| Arc::new(crate::bot::NoBot))
    }

    /// Closes the bot session of `conv` in `epoch`: the conversation left the bot, resolved or to
    /// a human. A metric, written beside the change that caused it.
    pub fn bot_session_ended(&self, conv: &entities::conversation::Model, epoch: i64) {
        use entities::bot_session;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let closure =
            if conv.status == entities::enums::ConversationStatus::Closed { "RESOLVED_CONFIRMED" } else { "ESCALATED" };
        let (db, id) = (self.db.conn.clone(), format!("{}:{epoch}", conv.id));
        actix::spawn(async move {
            let res = bot_session::Entity::update_many()
                .col_expr(bot_session::Column::ClosureType, Expr::value(closure))
                .col_expr(bot_session::Column::EndedAt, Expr::value(chrono::Utc::now()))
                .filter(bot_session::Column::Id.eq(id))
                .filter(bot_session::Column::ClosureType.is_null())
                .exec(&db)
                .await;
            if let Err(e) = res {
                tracing::warn!(error = %e, "bot session not closed");
            }
        });
    }

    /// Asks for the organization's queue to be drained to available agents. Requests while a
    /// drain runs fold into one more drain after it.
    pub fn request_drain(&self, org_id: &str) {
        {
            let mut drains = self.drains.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(again) = drains.get_mut(org_id) {
                *again = true;
                return;
            }
            drains.insert(org_id.to_owned(), false);
        }
        let (rt, org) = (self.clone(), org_id.to_owned());
        self.spawn_loop(async move {
            loop {
                if let Err(e) = crate::people::assign::drain(&rt, &org).await {
                    tracing::warn!(org_id = %org, error = %e, "auto-assignment failed");
                }
                let mut drains = rt.drains.lock().unwrap_or_else(|p| p.into_inner());
                match drains.get_mut(&org) {
                    Some(again) if *again => *again = false,
                    _ => {
                        drains.remove(&org);
                        break;
                    }
                }
            }
        });
    }

    /// Asks the idle-agent detector to look at the organization now (an agent went offline).
    pub fn request_idle_check(&self, org_id: &str) {
        if let Some(idle) = self.idle.get() {
            let (idle, org_id) = (idle.clone(), org_id.to_owned());
            self.spawn_loop(async move {
                if let Err(e) = idle.send(RunIdleCheck { org_id, force: false }).await {
                    tracing::warn!(error = %e, "idle-agent detector unavailable");
                }
            });
        }
    }

    /// Runs the idle-agent check for one organization now and reports what moved.
    pub async fn run_idle_check(&self, org_id: &str) -> Result<IdleReport, ActorError> {
        let idle = self.idle.get().ok_or_else(|| ActorError::Unavailable("idle-agent detector".into()))?;
        idle.send(RunIdleCheck { org_id: org_id.to_owned(), force: true }).await?
    }

    fn start_cluster_loops(&self, cluster: Arc<Cluster>) {
        self.spawn_loop(cluster.clone().run_publisher());
        let (bus, bus2) = (self.bus.clone(), self.bus.clone());
        self.spawn_loop(
            cluster
                .clone()
                .run_subscriber(move |ev| bus.do_send(Publish(vec![Arc::new(ev)])), move || bus2.do_send(Resync)),
        );
        // Leases and the node's registration are renewed well within their lifetime.
        let rt = self.clone();
        let every = (cluster.config.lease / 3).max(Duration::from_millis(100));
        self.spawn_loop(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                cluster.announce().await;
                let ids = rt.registry.conversation_ids();
                match cluster.renew(&ids).await {
                    Ok(lost) => {
                        for id in lost {
                            tracing::warn!(conversation_id = %id, "conversation lease lost to another node; stopping the local actor");
                            if let Some(addr) = rt.registry.remove_any(&id) {
                                addr.do_send(Relinquish);
                            }
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "lease renewal failed"),
                }
            }
        });
        // Pub/sub may drop a message with nothing after it to reveal the gap: look at the
        // database now and then.
        let bus = self.bus.clone();
        self.spawn_loop(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                bus.do_send(Resync);
            }
        });
    }

    /// The one way a change that emits events is committed: `txn` holds the change's rows; this
    /// appends the organization's `events` to it (numbered on its counter), commits, and hands
    /// them to the bus. Every writer that emits events ends here, so batching commits is a change
    /// of this function.
    pub async fn commit(
        &self,
        txn: crate::db::WriteTxn,
        org_id: &str,
        events: Vec<crate::store::events::NewEvent>,
    ) -> Result<(), sea_orm::DbErr> {
        let started = std::time::Instant::now();
        txn.commit_events(org_id, events).await?;
        metrics::histogram!("cx_commit_seconds").record(started.elapsed().as_secs_f64());
        Ok(())
    }

    /// [`crate::db::Db::write_statements`], timed like [`Runtime::commit`].
    pub async fn write(
        &self,
        org_id: &str,
        statements: Vec<sea_orm::Statement>,
        events: Vec<crate::store::events::NewEvent>,
    ) -> Result<crate::db::Written, sea_orm::DbErr> {
        let started = std::time::Instant::now();
        let written = self.db.write_statements(org_id, statements, events).await?;
        metrics::histogram!("cx_commit_seconds").record(started.elapsed().as_secs_f64());
        Ok(written)
    }

    /// The live actor of a conversation, spawned on demand.
    pub fn conversation(&self, org_id: &str, id: &str) -> Addr<ConversationActor> {
        self.registry.conversation(self, org_id, id)
    }

    /// The live actor of an inbox, spawned on demand.
    pub fn inbox(&self, org_id: &str, id: &str) -> Addr<InboxActor> {
        self.registry.inbox(self, org_id, id)
    }

    /// Runs `msg` on the conversation's actor and awaits the answer: here, or, in a cluster, on
    /// the node that owns the conversation. A dead owner's conversations are taken over once its
    /// lease expires; while Redis is unreachable the conversation runs here.
    pub async fn ask_conversation<M, R>(&self, org_id: &str, id: &str, msg: M) -> Result<R, ActorError>
    where
        M: Message<Result = Result<R, ActorError>> + Forwardable<Out = R>,
        R: Send + 'static,
        ConversationActor: Handler<M>,
    {
        let Some(cluster) = &self.cluster else {
            return self.ask_local(org_id, id, msg).await;
        };
        let deadline = tokio::time::Instant::now() + cluster.config.lease * 2 + Duration::from_secs(5);
        loop {
            if self.registry.has_conversation(id) {
                return self.ask_local(org_id, id, msg).await;
            }
            let why = match cluster.owner(id).await {
                Err(_) | Ok(Owner::Here) => return self.ask_local(org_id, id, msg).await,
                Ok(Owner::Node { url: Some(url), .. }) => {
                    match cluster.forward(&url, org_id, id, &msg.clone().command()).await {
                        Ok(reply) => return M::answer(reply),
                        Err(ForwardError::Refused(e)) => return Err(e),
                        Err(ForwardError::Retry(why)) => why,
                    }
                }
                Ok(Owner::Node { id: node, url: None }) => {
                    format!("owner {node} is gone; waiting for its lease to expire")
                }
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(ActorError::Unavailable(format!("conversation {id}: {why}")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs a command forwarded by another node, if this node owns the conversation.
    pub async fn execute_here(
        &self,
        org_id: &str,
        id: &str,
        command: ConversationCommand,
    ) -> Result<CommandReply, ActorError> {
        if let Some(cluster) = &self.cluster
            && !self.registry.has_conversation(id)
            && let Ok(Owner::Node { .. }) = cluster.owner(id).await
        {
            return Err(ActorError::Unavailable(NOT_OWNER.into()));
        }
        match command {
            ConversationCommand::Inbound(m) => self.ask_local(org_id, id, m).await.map(CommandReply::Inbound),
            ConversationCommand::ApplyStatus(m) => self.ask_local(org_id, id, m).await.map(|()| CommandReply::Done),
            ConversationCommand::SendText(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Message(Box::new(v)))
            }
            ConversationCommand::Takeover(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Conversation(Box::new(v)))
            }
            ConversationCommand::Assign(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Conversation(Box::new(v)))
            }
            ConversationCommand::Resolve(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Conversation(Box::new(v)))
            }
            ConversationCommand::MarkRead(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Conversation(Box::new(v)))
            }
            ConversationCommand::Rate(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Rating(Box::new(v)))
            }
            ConversationCommand::Flush(m) => self.ask_local(org_id, id, m).await.map(|()| CommandReply::Done),
            ConversationCommand::Requeue(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Message(Box::new(v)))
            }
            ConversationCommand::Discard(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Message(Box::new(v)))
            }
            ConversationCommand::AddTag(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Conversation(Box::new(v)))
            }
            ConversationCommand::RemoveTag(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Conversation(Box::new(v)))
            }
            ConversationCommand::Update(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Conversation(Box::new(v)))
            }
            ConversationCommand::FollowUp(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Conversation(Box::new(v)))
            }
            ConversationCommand::ReturnToBot(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Conversation(Box::new(v)))
            }
            ConversationCommand::MediaResult(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Message(Box::new(v)))
            }
            ConversationCommand::RetryMedia(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Message(Box::new(v)))
            }
            ConversationCommand::SendMedia(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Message(Box::new(v)))
            }
            ConversationCommand::SendMediaLink(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Message(Box::new(v)))
            }
            ConversationCommand::SendTemplate(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Message(Box::new(v)))
            }
            ConversationCommand::React(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Message(Box::new(v)))
            }
            ConversationCommand::ToggleHide(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Message(Box::new(v)))
            }
            ConversationCommand::AutoAssign(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::MaybeConversation(v.map(Box::new)))
            }
            ConversationCommand::Reassign(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::MaybeConversation(v.map(Box::new)))
            }
            ConversationCommand::Reroute(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::Rerouted(Box::new(v)))
            }
            ConversationCommand::Note(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::MaybeConversation(v.map(Box::new)))
            }
            ConversationCommand::BotReply(m) => {
                self.ask_local(org_id, id, m).await.map(|v| CommandReply::MaybeMessage(v.map(Box::new)))
            }
            ConversationCommand::WakeBot(m) => self.ask_local(org_id, id, m).await.map(CommandReply::Flag),
            ConversationCommand::RefreshContact(m) => self.ask_local(org_id, id, m).await.map(|()| CommandReply::Done),
            ConversationCommand::Delete(m) => self.ask_local(org_id, id, m).await.map(CommandReply::Count),
        }
    }

    /// Sends `msg` to the local actor. If the actor stopped (idle passivation) between lookup
    /// and delivery, a fresh one is spawned; if its cached row was stale, it reloads; either
    /// way the message is tried once more.
    async fn ask_local<M, R>(&self, org_id: &str, id: &str, msg: M) -> Result<R, ActorError>
    where
        M: Message<Result = Result<R, ActorError>> + Clone + Send + 'static,
        R: Send + 'static,
        ConversationActor: Handler<M>,
    {
        let mut last = ActorError::Unavailable(format!("conversation {id}"));
        // Messages queued in or handled by this node's conversation actors (their mailboxes,
        // summed); the guard counts an ask given up half-way out again.
        let _queued = Queued::conversation();
        for _ in 0..3 {
            match self.conversation(org_id, id).send(msg.clone()).await {
                Ok(Err(ActorError::Stale)) => {
                    last = ActorError::Unavailable("the conversation changed concurrently; try again".into())
                }
                Ok(result) => return result,
                Err(MailboxError::Closed) => self.registry.forget_conversation(id),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last)
    }

    /// Same as [`Runtime::ask_conversation`], for inboxes.
    pub async fn ask_inbox<M, R>(&self, org_id: &str, id: &str, msg: M) -> Result<R, ActorError>
    where
        M: Message<Result = Result<R, ActorError>> + Clone + Send + 'static,
        R: Send + 'static,
        InboxActor: Handler<M>,
    {
        for _ in 0..2 {
            match self.inbox(org_id, id).send(msg.clone()).await {
                Ok(result) => return result,
                Err(MailboxError::Closed) => self.registry.forget_inbox(id),
                Err(e) => return Err(e.into()),
            }
        }
        Err(ActorError::Unavailable(format!("inbox {id}")))
    }

    /// Called by a conversation actor that is stopping, so the next message spawns a new one.
    pub(crate) fn conversation_stopped(&self, id: &str, addr: &Addr<ConversationActor>) {
        if self.registry.remove_conversation(id, addr)
            && let Some(cluster) = self.cluster.clone()
        {
            let id = id.to_owned();
            actix::spawn(async move { cluster.release(&id).await });
        }
    }

    /// An agent socket opened on this node.
    pub fn agent_connected(&self, org_id: &str, user_id: &str, session_id: u64) {
        self.presence.opened(org_id, user_id);
        let (rt, o, u) = (self.clone(), org_id.to_owned(), user_id.to_owned());
        self.spawn_loop(async move {
            if let Some(cluster) = &rt.cluster {
                cluster.touch_presence(&o, &u, session_id).await;
            }
            crate::people::presence::connected(&rt, &o, &u).await;
        });
    }

    /// An agent socket closed on this node.
    pub fn agent_disconnected(&self, org_id: &str, user_id: &str, session_id: u64) {
        // The presence monitor notices the user has no socket left, records when they were
        // last seen, and after the grace period marks them OFFLINE.
        self.presence.closed(user_id);
        self.drop_presence(org_id, user_id, session_id);
    }

    /// Records an agent socket as alive, cluster-wide (no-op on a single node).
    pub fn touch_presence(&self, org_id: &str, user_id: &str, session_id: u64) {
        if let Some(cluster) = self.cluster.clone() {
            let (o, u) = (org_id.to_owned(), user_id.to_owned());
            actix::spawn(async move { cluster.touch_presence(&o, &u, session_id).await });
        }
    }

    /// Forgets an agent socket, cluster-wide.
    pub fn drop_presence(&self, org_id: &str, user_id: &str, session_id: u64) {
        if let Some(cluster) = self.cluster.clone() {
            let (o, u) = (org_id.to_owned(), user_id.to_owned());
            actix::spawn(async move { cluster.drop_presence(&o, &u, session_id).await });
        }
    }

    /// Number of live conversation actors on this node.
    pub fn live_conversations(&self) -> usize {
        self.registry.conversation_count()
    }

    /// Stops the actor threads (after the HTTP server drained).
    pub fn shutdown(&self) {
        self.stopping.send_replace(true);
        self.registry.stop();
    }

    /// Runs `task` until the runtime shuts down (then it is dropped while its thread's runtime is
    /// still there, which database connections it holds need).
    pub fn spawn_loop(&self, task: impl Future<Output = ()> + 'static) {
        let mut stopping = self.stopping.subscribe();
        actix::spawn(async move {
            tokio::select! {
                _ = stopping.wait_for(|s| *s) => {}
                _ = task => {}
            }
        });
    }
}

/// One ask of a conversation actor, counted in `cx_conversation_mailbox` while it waits or runs.
struct Queued;

impl Queued {
    fn conversation() -> Queued {
        metrics::gauge!("cx_conversation_mailbox").increment(1.0);
        Queued
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        metrics::gauge!("cx_conversation_mailbox").decrement(1.0);
    }
}
