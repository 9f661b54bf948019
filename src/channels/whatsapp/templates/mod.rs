//! WhatsApp message templates: Meta's model and rules (`rules`), a send's parameters against a
//! template (`params`), the organization's templates (`store`), Meta's side through the Graph API
//! (`meta`), webhooks and syncs that keep them current (`sync`), and sending one (`send`).

pub mod meta;
pub mod params;
pub mod rules;
pub mod send;
pub mod store;
pub mod sync;

pub use rules::{Button, Category, Component, Problem, render, validate};
