//! WHATSAPP-ACCOUNTS-1, -2, -4: the organization's Meta app settings, and connecting numbers
//! with Meta's Embedded Signup.

use actix_web::{HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::by;
use super::manage::WhatsAppAccountView;
use crate::api::Data;
use crate::auth::Caller;
use crate::channels::whatsapp::signup::{self, MetaConfig, SkippedNumber};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_meta_config).service(put_meta_config).service(connect);
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetaConfigBody {
    /// The Meta app's id (digits).
    pub app_id: String,
    /// The Embedded Signup configuration id (digits).
    pub config_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectBody {
    /// The code Meta's Embedded Signup dialog returned to the browser.
    pub code: String,
    /// The business account the dialog's session info named, if the web app caught it.
    pub waba_id: Option<String>,
    /// The number the dialog's session info named; without it every number of the business
    /// account is connected.
    pub phone_number_id: Option<String>,
    pub alias: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedView {
    pub accounts: Vec<WhatsAppAccountView>,
    /// Numbers found but already connected.
    pub skipped: Vec<SkippedNumber>,
    /// Steps Meta refused that did not stop the connection (webhook subscription, registration).
    pub warnings: Vec<String>,
}

/// The organization's Meta app id and Embedded Signup configuration id, and whether the server
/// has the app secret (never the secret itself).
#[utoipa::path(tag = "whatsapp-accounts", security(("bearer" = [])), responses((status = 200, body = Data<MetaConfig>)))]
#[get("/whatsapp-accounts/meta-config")]
pub async fn get_meta_config(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Data::new(signup::meta_config(&state, &caller.org_id).await?)))
}

/// Save the Meta app id and Embedded Signup configuration id (admin only). The app secret stays
/// in the server's environment (`CX_WHATSAPP_APP_SECRET`).
#[utoipa::path(
    tag = "whatsapp-accounts",
    security(("bearer" = [])),
    request_body = MetaConfigBody,
    responses((status = 200, body = Data<MetaConfig>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody))
)]
#[put("/whatsapp-accounts/meta-config")]
pub async fn put_meta_config(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<MetaConfigBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let config = signup::save_meta_config(&state, &caller.org_id, &by(&caller), &body.app_id, &body.config_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(config)))
}

/// Connect the numbers of a Meta Embedded Signup (admin only): the code is exchanged for the
/// business's token, the app is subscribed to the business account's webhooks, each number is
/// registered and connected (its inbox created). The token is stored encrypted, never returned.
#[utoipa::path(
    tag = "whatsapp-accounts",
    security(("bearer" = [])),
    request_body = ConnectBody,
    responses(
        (status = 201, body = Data<ConnectedView>),
        (status = 400, description = "No code, or Meta refused it (`code`)", body = crate::error::ErrorBody),
        (status = 409, description = "Embedded Signup not configured, or every number already connected", body = crate::error::ErrorBody),
        (status = 422, description = "No business account or number found", body = crate::error::ErrorBody),
        (status = 503, description = "Meta could not be reached", body = crate::error::ErrorBody),
    )
)]
#[post("/whatsapp-accounts/connect")]
pub async fn connect(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ConnectBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let s = signup::Signup {
        code: &body.code,
        waba_id: body.waba_id.as_deref().filter(|w| !w.trim().is_empty()),
        phone_number_id: body.phone_number_id.as_deref().filter(|p| !p.trim().is_empty()),
        alias: body.alias.as_deref(),
    };
    let done = signup::connect(&state, &caller.org_id, s).await?;
    let accounts = done.accounts.iter().map(WhatsAppAccountView::from).collect();
    let view = ConnectedView { accounts, skipped: done.skipped, warnings: done.warnings };
    Ok(HttpResponse::Created().json(Data::new(view)))
}
