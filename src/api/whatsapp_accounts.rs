//! WHATSAPP-ACCOUNTS-3, -5, -6, -7: connect a WhatsApp number by hand, list, update, disconnect.
//! Each account is the WhatsApp side of an inbox. The access token is encrypted at rest and
//! never returned.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use entities::enums::Channel;
use entities::{inbox, whatsapp_account};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::Caller;
use crate::channels::whatsapp::accounts;
use crate::error::{ApiError, ApiResult};
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
            status: a.status.clone(),
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

fn meta_id(field: &str, v: &str) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(ApiError::validation(field, format!("{field} is required: the id Meta shows for it")));
    }
    Ok(v.to_owned())
}

fn token(v: &str) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 4096 {
        return Err(ApiError::validation("accessToken", "accessToken is required"));
    }
    Ok(v.to_owned())
}

/// Asks Meta about the number with the token: a token Meta rejects is refused; when Meta cannot
/// be reached the account is connected as `unverified`.
async fn check_with_meta(state: &AppState, phone_number_id: &str, token: &str) -> ApiResult<(String, Option<String>)> {
    match state.graph.phone_number(phone_number_id, token).await {
        Ok(info) => Ok(("connected".into(), info.display_phone_number)),
        Err(e) if e.transient => {
            tracing::warn!(%phone_number_id, error = %e, "could not reach Meta to check the account; connecting unverified");
            Ok(("unverified".into(), None))
        }
        Err(e) => {
            Err(ApiError::Unprocessable(format!("Meta refused the credentials for this phone number: {}", e.message)))
        }
    }
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
    let waba_id = meta_id("wabaId", &body.waba_id)?;
    let phone_number_id = meta_id("phoneNumberId", &body.phone_number_id)?;
    let access_token = token(&body.access_token)?;
    let alias = body.alias.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
    if accounts::by_phone_number_id(state.db(), &phone_number_id).await?.is_some() {
        return Err(ApiError::Conflict("this phone number is already connected".into()));
    }
    let (status, display) = check_with_meta(&state, &phone_number_id, &access_token).await?;
    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    // Checked again inside the write transaction so two concurrent connects cannot both win.
    if accounts::by_phone_number_id(&*txn, &phone_number_id).await?.is_some() {
        return Err(ApiError::Conflict("this phone number is already connected".into()));
    }
    let inbox_name = alias.clone().or_else(|| display.clone()).unwrap_or_else(|| format!("WhatsApp {phone_number_id}"));
    let inbox = inbox::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(caller.org_id.clone()),
        channel: Set(Channel::Whatsapp.as_str().into()),
        name: Set(inbox_name),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(&*txn)
    .await?;
    let account = whatsapp_account::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(caller.org_id.clone()),
        inbox_id: Set(inbox.id.clone()),
        waba_id: Set(waba_id),
        phone_number_id: Set(phone_number_id),
        display_phone_number: Set(display),
        alias: Set(alias),
        access_token_enc: Set(state.secrets.encrypt(&access_token)),
        status: Set(status),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(&*txn)
    .await?;
    txn.commit().await?;
    tracing::info!(org_id = %caller.org_id, account_id = %account.id, "WhatsApp account connected");
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
    let account =
        accounts::get(state.db(), &caller.org_id, &id).await?.ok_or(ApiError::NotFound("WhatsApp account"))?;
    let phone_number_id = account.phone_number_id.clone();
    let mut am = account.into_active_model();
    if let Some(alias) = &body.alias {
        let a = alias.trim();
        if a.chars().count() > 100 {
            return Err(ApiError::validation("alias", "alias is at most 100 characters"));
        }
        am.alias = Set((!a.is_empty()).then(|| a.to_owned()));
    }
    if let Some(t) = &body.access_token {
        let t = token(t)?;
        let (status, display) = check_with_meta(&state, &phone_number_id, &t).await?;
        am.access_token_enc = Set(state.secrets.encrypt(&t));
        am.status = Set(status);
        if display.is_some() {
            am.display_phone_number = Set(display);
        }
    }
    am.updated_at = Set(Utc::now());
    let account = am.update(state.db()).await?;
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
    let account =
        accounts::get(state.db(), &caller.org_id, &id).await?.ok_or(ApiError::NotFound("WhatsApp account"))?;
    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    if let Some(ib) = inbox::Entity::find_by_id(account.inbox_id.clone()).one(&*txn).await? {
        let mut am = ib.into_active_model();
        am.deleted_at = Set(Some(now));
        am.updated_at = Set(now);
        am.update(&*txn).await?;
    }
    let mut am = account.into_active_model();
    am.deleted_at = Set(Some(now));
    am.status = Set("disconnected".into());
    am.updated_at = Set(now);
    am.update(&*txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
