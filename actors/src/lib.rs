//! The cx-inbox runtime: one writer actor per conversation, one per inbox, one per agent socket,
//! and the node's event bus that fans committed events out to the sockets.
//!
//! Everything that changes a conversation goes through its [`ConversationActor`]; every change
//! commits its event row in the same transaction (the outbox in `events`) and is then published on
//! the [`EventBus`]. State lives in the database; an actor is a cached, serialized view of it.

pub mod admission;
pub mod bot;
pub mod bus;
pub mod channel;
pub mod cluster;
pub mod command;
pub mod conversation;
pub mod db;
pub mod error;
pub mod events;
pub mod group_commit;
pub mod inbox;
pub mod people;
pub mod policy;
pub mod registry;
pub mod runtime;
pub mod session;
pub mod store;
pub mod views;

pub use bus::EventBus;
pub use conversation::ConversationActor;
pub use db::Db;
pub use error::ActorError;
pub use events::{Cursor, Event};
pub use inbox::InboxActor;
pub use runtime::{Runtime, RuntimeConfig};
pub use session::AgentSession;

/// A new time-ordered id (UUIDv7), the form of every primary key.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
