//! Compatible surfaces for clients written against other inbox products' APIs. Each keeps its
//! product's paths, field names and envelopes, and calls the same domain functions as the
//! native API. Routes outside `/api/v1` are registered next to the webhooks (see
//! `startup::routes`) and listed in `web_ui::NOT_THE_APP`; the Chatwoot-style ones live under
//! `/api/v1/accounts/{account_id}` and are registered by `api::routes` (`chatwoot::routes`).

pub mod cekat;
pub mod chatbotx;
pub mod chatwoot;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the compatible routes that live outside `/api/v1`.
pub fn routes(cfg: &mut ServiceConfig) {
    // `/messages/whatsapp` before `/messages/{id}`.
    cfg.service(cekat::inboxes::list)
        .service(cekat::messages::send)
        .service(cekat::messages::list)
        .service(cekat::messages::get_one)
        .service(cekat::messages::delete_conversations);
}
