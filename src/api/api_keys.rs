//! API-KEYS-1..4: organization API keys (admin only). The key is returned once, at creation.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use entities::api_key;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::Caller;
use crate::auth::api_keys::{self, NewKey};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(update).service(remove);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    /// ADMIN or AGENT: what the key may do.
    pub role: String,
    pub is_active: bool,
    pub created_by: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&api_key::Model> for ApiKeyView {
    fn from(k: &api_key::Model) -> Self {
        ApiKeyView {
            id: k.id.clone(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            role: k.role.to_string(),
            is_active: k.is_active,
            created_by: k.created_by.clone(),
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            created_at: k.created_at,
            updated_at: k.updated_at,
        }
    }
}

/// A key as created: the only time its full text is shown.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key_info: ApiKeyView,
    /// The full key. Store it now: it cannot be shown again.
    pub key: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateApiKey {
    pub name: String,
    /// ADMIN (default) or AGENT.
    pub role: Option<String>,
    /// Days until the key stops working; never when absent.
    pub expires_in_days: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateApiKey {
    pub name: Option<String>,
    pub is_active: Option<bool>,
}

/// List the organization's API keys (admin only).
#[utoipa::path(tag = "api-keys", security(("bearer" = [])), responses((status = 200, body = Data<Vec<ApiKeyView>>), (status = 403, body = crate::error::ErrorBody)))]
#[get("/api-keys")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let keys = api_keys::list(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(keys.iter().map(ApiKeyView::from).collect::<Vec<_>>())))
}

/// Create an API key (admin only). The response holds the full key, once.
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = [])),
    request_body = CreateApiKey,
    responses((status = 201, body = Data<CreatedApiKey>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody))
)]
#[post("/api-keys")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateApiKey>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let new = NewKey { name: b.name, role: b.role, expires_in_days: b.expires_in_days };
    let (key, plain) = api_keys::create(state.db(), &caller.org_id, caller.user_id.as_deref(), new).await?;
    Ok(HttpResponse::Created().json(Data::new(CreatedApiKey { key_info: ApiKeyView::from(&key), key: plain })))
}

/// Rename, deactivate or reactivate an API key (admin only).
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "API key id")),
    request_body = UpdateApiKey,
    responses((status = 200, body = Data<ApiKeyView>), (status = 404, body = crate::error::ErrorBody))
)]
#[patch("/api-keys/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<UpdateApiKey>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let key = api_keys::update(&state.rt, &caller.org_id, &id, body.name.as_deref(), body.is_active).await?;
    Ok(HttpResponse::Ok().json(Data::new(ApiKeyView::from(&key))))
}

/// Delete an API key permanently (admin only).
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "API key id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody))
)]
#[delete("/api-keys/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    api_keys::delete(&state.rt, &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
