//! API-KEYS-1..4: organization API keys (admin only). The key is returned once, at creation.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Duration, Utc};
use entities::api_key;
use entities::enums::Role;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, ModelTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::{Caller, tokens};
use crate::error::{ApiError, ApiResult};
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
            role: k.role.clone(),
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

fn key_name(name: &str) -> ApiResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(ApiError::validation("name", "name is required and at most 100 characters"));
    }
    Ok(n.to_owned())
}

async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<api_key::Model> {
    api_key::Entity::find_by_id(id.to_owned())
        .filter(api_key::Column::OrgId.eq(caller.org_id.clone()))
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("API key"))
}

/// List the organization's API keys (admin only).
#[utoipa::path(tag = "api-keys", security(("bearer" = [])), responses((status = 200, body = Data<Vec<ApiKeyView>>), (status = 403, body = crate::error::ErrorBody)))]
#[get("/api-keys")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let keys = api_key::Entity::find()
        .filter(api_key::Column::OrgId.eq(caller.org_id.clone()))
        .order_by_desc(api_key::Column::Id)
        .all(state.db())
        .await?;
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
    let name = key_name(&body.name)?;
    let role = match body.role.as_deref() {
        None => Role::Admin,
        Some(r) => match Role::parse(r) {
            Some(role @ (Role::Admin | Role::Agent)) => role,
            _ => return Err(ApiError::validation("role", "role must be ADMIN or AGENT")),
        },
    };
    let expires_at = match body.expires_in_days {
        None => None,
        Some(d) if (1..=3650).contains(&d) => Some(Utc::now() + Duration::days(d)),
        Some(_) => {
            return Err(ApiError::validation("expiresInDays", "expiresInDays must be between 1 and 3650"));
        }
    };
    let new = tokens::new_api_key();
    let now = Utc::now();
    let key = api_key::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(caller.org_id.clone()),
        name: Set(name),
        prefix: Set(new.prefix),
        key_hash: Set(new.hash),
        role: Set(role.as_str().into()),
        created_by: Set(caller.user_id.clone()),
        is_active: Set(true),
        last_used_at: Set(None),
        expires_at: Set(expires_at),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(state.db())
    .await?;
    Ok(HttpResponse::Created().json(Data::new(CreatedApiKey { key_info: ApiKeyView::from(&key), key: new.plain })))
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
    let key = find(&state, &caller, &id).await?;
    let mut am = key.into_active_model();
    if let Some(name) = &body.name {
        am.name = Set(key_name(name)?);
    }
    if let Some(active) = body.is_active {
        am.is_active = Set(active);
    }
    am.updated_at = Set(Utc::now());
    let key = am.update(state.db()).await?;
    if body.is_active == Some(false) {
        revoked(&state, &key).await?;
    }
    Ok(HttpResponse::Ok().json(Data::new(ApiKeyView::from(&key))))
}

/// Announces that `key` no longer works: its open sockets, on every node, close.
async fn revoked(state: &AppState, key: &api_key::Model) -> ApiResult<()> {
    let payload = serde_json::json!({ "apiKeyId": key.id, "userId": format!("api-key:{}", key.id) }).to_string();
    let event =
        actors::store::events::NewEvent { conversation: None, name: actors::events::EventName::ApiKeyRevoked, payload };
    let txn = state.rt.db.begin_write().await?;
    state.rt.commit(txn, &key.org_id, vec![event]).await?;
    Ok(())
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
    let key = find(&state, &caller, &id).await?;
    key.clone().delete(state.db()).await?;
    revoked(&state, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}
