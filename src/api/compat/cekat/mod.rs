//! The Cekat-style compatible APIs (seeds 000 and 001): its envelope and error shape, and its routes.

pub mod envelope;
pub mod inboxes;
pub mod messages;
