//! WhatsApp Cloud API: the webhook that brings customer messages and delivery statuses in
//! (`webhook`, parsed by `payload`, authenticated by `signature`), the Graph API client that
//! sends (`graph`), and the connected accounts (`accounts`): connected by Embedded Signup
//! (`signup`), watched through their health (`health`) and Meta's alerts (`alerts`).

pub mod accounts;
pub mod alerts;
pub mod graph;
pub mod graph_accounts;
pub mod health;
pub mod media;
pub mod pacer;
pub mod payload;
pub mod signature;
pub mod signup;
pub mod templates;
pub mod webhook;

pub use graph::{GraphClient, WhatsAppSender};
