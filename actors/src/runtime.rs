//! The node's runtime handle: the database, the event bus, the channel senders and the actor
//! registry, cheap to clone into every actor and handler.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::Db;
use crate::bus::{EventBus, Publish};
use crate::channel::ChannelSender;
use crate::conversation::ConversationActor;
use crate::error::ActorError;
use crate::events::Event;
use crate::inbox::InboxActor;
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
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            node_id: "node-1".into(),
            actor_idle: Duration::from_secs(300),
            gap_timeout: Duration::from_millis(250),
            arbiters: 2,
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
    registry: Registry,
}

impl std::ops::Deref for Runtime {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Runtime {
    /// Starts the bus and the actor threads. Must run inside an actix `System`.
    pub fn start(db: Db, channel: Arc<dyn ChannelSender>, config: RuntimeConfig) -> Runtime {
        let bus_arbiter = Arbiter::new();
        let bus_db = db.clone();
        let gap = config.gap_timeout;
        let bus =
            EventBus::start_in_arbiter(&bus_arbiter.handle(), move |_| EventBus::new(bus_db, gap));
        let registry = Registry::new(config.arbiters.max(1), bus_arbiter);
        Runtime(Arc::new(Inner {
            db,
            bus,
            channel,
            config,
            registry,
        }))
    }

    /// Hands committed events to the bus for fan-out.
    pub fn publish(&self, events: Vec<Event>) {
        if !events.is_empty() {
            self.bus
                .do_send(Publish(events.into_iter().map(Arc::new).collect()));
        }
    }

    /// The live actor of a conversation, spawned on demand.
    pub fn conversation(&self, org_id: &str, id: &str) -> Addr<ConversationActor> {
        self.registry.conversation(self, org_id, id)
    }

    /// The live actor of an inbox, spawned on demand.
    pub fn inbox(&self, org_id: &str, id: &str) -> Addr<InboxActor> {
        self.registry.inbox(self, org_id, id)
    }

    /// Sends `msg` to a conversation's actor and awaits the answer. If the actor stopped (idle
    /// passivation) between lookup and delivery, a fresh one is spawned and asked once more.
    pub async fn ask_conversation<M, R>(
        &self,
        org_id: &str,
        id: &str,
        msg: M,
    ) -> Result<R, ActorError>
    where
        M: Message<Result = Result<R, ActorError>> + Clone + Send + 'static,
        R: Send + 'static,
        ConversationActor: Handler<M>,
    {
        for _ in 0..2 {
            match self.conversation(org_id, id).send(msg.clone()).await {
                Ok(result) => return result,
                Err(MailboxError::Closed) => self.registry.forget_conversation(id),
                Err(e) => return Err(e.into()),
            }
        }
        Err(ActorError::Unavailable(format!("conversation {id}")))
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
        self.registry.remove_conversation(id, addr);
    }

    /// Number of live conversation actors on this node.
    pub fn live_conversations(&self) -> usize {
        self.registry.conversation_count()
    }

    /// Stops the actor threads (after the HTTP server drained).
    pub fn shutdown(&self) {
        self.registry.stop();
    }
}
