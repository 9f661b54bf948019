//! cx-inbox: a customer-experience inbox. WhatsApp messages come in through Meta's webhook, are
//! stored by their conversation's actor and pushed live to every agent socket of the
//! organization; agents take conversations over and reply through the WhatsApp Cloud API.
//!
//! Where things are: `config` (flags and env), `startup` (building the server), `api` (the HTTP
//! API, one module per resource), `auth` (tokens, keys, the caller), `channels` (WhatsApp in and
//! out), `crypto` (secrets at rest), `mail` (outgoing email). The runtime (actors, events, bus) is the `actors` crate.

pub mod api;
pub mod auth;
pub mod bot;
pub mod campaigns;
pub mod channels;
pub mod config;
pub mod contacts;
pub mod conversations;
pub mod crypto;
pub mod csat;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http_client;
pub mod inboxes;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod simulation;
pub mod startup;
pub mod state;
pub mod web_ui;
pub mod workspace;

/// Installs the process-wide TLS crypto provider. sqlx brings `ring` and reqwest `aws-lc-rs`;
/// with both linked rustls cannot pick one by itself and would panic at the first TLS use.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
