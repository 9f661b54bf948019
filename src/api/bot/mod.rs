//! The bot's API: configs, providers, knowledge, intents, tools and the switches it reads.

pub mod assist;
pub mod classify;
pub mod configs;
pub mod intents;
pub mod knowledge;
pub mod media;
pub mod metrics;
pub mod portable;
pub mod providers;
pub mod templates;
pub mod toggles;
pub mod tools;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    // Fixed paths before `/bot-config/{id}`.
    providers::routes(cfg);
    metrics::routes(cfg);
    portable::routes(cfg);
    media::routes(cfg);
    templates::routes(cfg);
    knowledge::routes(cfg);
    intents::routes(cfg);
    configs::routes(cfg);
    tools::routes(cfg);
    toggles::routes(cfg);
    assist::routes(cfg);
}
