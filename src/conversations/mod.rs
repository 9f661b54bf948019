//! What agents and integrations do to conversations that takes more than one message to the
//! conversation's actor: sending a file (stored first, then sent by the actor like any reply),
//! sending to a phone number (the inbox's actor finds the conversation first), deleting
//! conversations; and reading them (a thread, what a page of conversations refers to).
//! Everything that changes a conversation still goes through its actor.

pub mod inbound;
pub mod manage;
pub mod media;
pub mod outbox;
pub mod read;
pub mod related;
pub mod removal;
pub mod thread;
pub mod to_phone;
