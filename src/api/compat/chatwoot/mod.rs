//! The Chatwoot-style account-scoped inbox API (seed 002), under
//! `/api/v1/accounts/{account_id}`: its envelope and error shape, the inbox and the translation
//! of its settings, the inbox routes, and what hangs off an inbox.

pub mod envelope;
pub mod extras;
pub mod inboxes;
pub mod view;

use actix_web::web;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the scope inside `/api/v1` (whose scope answers 404 for any path it does not
/// know). Bodies, queries and paths serde cannot read, and paths it does not serve (every route
/// is guarded by its method, so another method is one too), are answered in this API's
/// `{"error": …}` shape, not the native one.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/accounts/{account_id}")
            .app_data(web::JsonConfig::default().limit(crate::startup::JSON_LIMIT).error_handler(envelope::json_error))
            .app_data(web::QueryConfig::default().error_handler(envelope::query_error))
            .app_data(web::PathConfig::default().error_handler(envelope::path_error))
            .service(inboxes::list)
            .service(inboxes::create)
            .service(inboxes::get_one)
            .service(inboxes::update)
            .service(inboxes::remove)
            .service(extras::agent_bot)
            .service(extras::set_agent_bot)
            .service(extras::avatar)
            .service(extras::delete_avatar)
            .service(extras::inbox_campaigns)
            .service(extras::sync_templates)
            .service(extras::health)
            .default_service(web::to(envelope::no_route)),
    );
}
