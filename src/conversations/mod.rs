//! What agents do to conversations that takes more than one message to the conversation's actor:
//! sending a file (stored first, then sent by the actor like any reply). Everything that changes
//! a conversation still goes through its actor.

pub mod manage;
pub mod media;
pub mod outbox;
pub mod read;
