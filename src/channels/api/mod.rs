//! The API channel: a business's own system is the customer's channel. Its messages come in
//! with the inbox's token (`inbound`); ours go out as signed webhooks from a durable queue that
//! tails the event log (`dispatcher`), tried in order per conversation, logged per try
//! (`deliveries` reads and replays the log), and only to public addresses (`guard`).

pub mod deliveries;
pub mod dispatcher;
pub mod guard;
pub mod inbound;
pub mod schedule;
mod sender;
pub mod signature;

pub use dispatcher::{Nudge, WebhookDispatcher};
pub use sender::ApiChannelSender;
