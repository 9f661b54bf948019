//! WhatsApp Cloud API: the webhook that brings customer messages and delivery statuses in
//! (`webhook`, parsed by `payload`, authenticated by `signature`), the Graph API client that
//! sends (`graph`), and the connected accounts (`accounts`).

pub mod accounts;
pub mod graph;
pub mod media;
pub mod pacer;
pub mod payload;
pub mod signature;
pub mod templates;
pub mod webhook;

pub use graph::{GraphClient, WhatsAppSender};
