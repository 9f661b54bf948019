//! The AI bot: [`provider`] (the client of OpenAI-compatible chat and embeddings APIs that every
//! provider preset speaks), [`decision`] (the structured decision read from the model's answer),
//! [`config`] (bot configs and the endpoint they resolve to), [`knowledge`] (documents, passages
//! and retrieval), [`tools`] (HTTP tools with their SSRF guard), [`engine`] (the pipeline a turn
//! runs), [`record`] (usage, traces, sessions) and [`settings`] (the organization's switches).

pub mod assist;
pub mod bundle;
pub mod classify;
pub mod config;
pub mod configs;
pub mod decision;
pub mod documents;
pub mod engine;
pub mod intents;
pub mod knowledge;
pub mod media;
pub mod metrics;
pub mod portable;
pub mod presets;
pub mod provider;
pub mod record;
pub mod settings;
pub mod summary;
pub mod templates;
pub mod tools;
