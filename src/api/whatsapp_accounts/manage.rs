//! WHATSAPP-ACCOUNTS-3, -5, -6, -7: connect a WhatsApp number by hand, list, update, disconnect.
//! Each account is the WhatsApp side of an inbox. The access token is encrypted at rest and
//! never returned.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use entities::whatsapp_account;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::Data;
use crate::auth::Caller;
use crate::channels::whatsapp::accounts;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(connect_manual).service(update).service(disconnect);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhatsAppAccountView {
    pub id: String,
    /// The inbox this number feeds.
    pub inbox_id: String,
    pub waba_id: String,
    pub phone_number_id: String,
    pub display_phone_number: Option<String>,
    pub alias: Option<String>,
    /// `connected` when Meta confirmed the token, `unverified` when Meta could not be asked.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&whatsapp_account::Model> for WhatsAppAccountView {
    fn from(a: &whatsapp_account::Model) -> Self {
        WhatsAppAccountView {
            id: a.id.clone(),
            inbox_id: a.inbox_id.clone(),
            waba_id: a.waba_id.clone(),
            phone_number_id: a.phone_number_id.clone(),
            display_phone_number: a.display_phone_number.clone(),
            alias: a.alias.clone(),
            status: a.status.to_string(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectManual {
    pub waba_id: String,
    pub phone_number_id: String,
    pub access_token: String,
    pub alias: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAccount {
    pub alias: Option<String>,
    pub access_token: Option<String>,
}

/// List the organization's connected WhatsApp accounts.
#[utoipa::path(tag = "whatsapp-accounts", security(("bearer" = [])), responses((status = 200, body = Data<Vec<WhatsAppAccountView>>)))]
#[get("/whatsapp-accounts")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = accounts::list(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(WhatsAppAccountView::from).collect::<Vec<_>>())))
}

/// Connect a WhatsApp number with credentials from Meta's dashboard (admin only). Creates the
/// number's inbox. The token is checked with Meta, stored encrypted, and never returned.
#[utoipa::path(
    tag = "whatsapp-accounts",
    security(("bearer" = [])),
    request_body = ConnectManual,
    responses(
        (status = 201, body = Data<WhatsAppAccountView>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 409, description = "The phone number is already connected", body = crate::error::ErrorBody),
        (status = 422, description = "Meta rejected the token", body = crate::error::ErrorBody),
    )
)]
#[post("/whatsapp-accounts/connect-manual")]
pub async fn connect_manual(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ConnectManual>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let creds = accounts::Credentials {
        waba_id: &body.waba_id,
        phone_number_id: &body.phone_number_id,
        access_token: &body.access_token,
        alias: body.alias.as_deref(),
    };
    let account = accounts::connect(&state, &caller.org_id, creds).await?;
    Ok(HttpResponse::Created().json(Data::new(WhatsAppAccountView::from(&account))))
}

/// Update an account's alias or access token (admin only).
#[utoipa::path(
    tag = "whatsapp-accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id")),
    request_body = UpdateAccount,
    responses((status = 200, body = Data<WhatsAppAccountView>), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody))
)]
#[patch("/whatsapp-accounts/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<UpdateAccount>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let (alias, token) = (body.alias.as_deref(), body.access_token.as_deref());
    let account = accounts::update(&state, &caller.org_id, &id, alias, token).await?;
    Ok(HttpResponse::Ok().json(Data::new(WhatsAppAccountView::from(&account))))
}

/// Disconnect an account (admin only). Its conversations and messages stay; new webhooks for
/// the number are acknowledged and ignored.
#[utoipa::path(
    tag = "whatsapp-accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id")),
    responses((status = 204, description = "Disconnected"), (status = 404, body = crate::error::ErrorBody))
)]
#[delete("/whatsapp-accounts/{id}")]
pub async fn disconnect(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    accounts::disconnect(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
