//! WHATSAPP-ACCOUNTS-1..12: connected WhatsApp numbers: connecting by hand or by Meta's Embedded
//! Signup, their health at Meta, and the alerts Meta sends about them.

mod alerts;
mod health;
mod manage;
mod signup;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;

pub use manage::WhatsAppAccountView;

/// Who is acting, as recorded on what they change: the user, or the API key.
fn by(caller: &Caller) -> String {
    caller.user_id.clone().or_else(|| caller.api_key_id.as_ref().map(|k| format!("api-key:{k}"))).unwrap_or_default()
}

pub fn routes(cfg: &mut ServiceConfig) {
    // The fixed paths first: `/whatsapp-accounts/meta-config` and `/alerts` are not account ids.
    signup::routes(cfg);
    alerts::routes(cfg);
    health::routes(cfg);
    manage::routes(cfg);
}
