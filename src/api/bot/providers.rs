//! BOT-PROVIDERS-1..7: the config's key (revealed to admins only), the models a provider
//! offers, key validation, and provider presets with encrypted keys.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::Utc;
use entities::bot_preset;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use super::configs::ConfigQuery;
use crate::auth::Caller;
use crate::bot::config::{self};
use crate::bot::presets;
use crate::bot::provider::ProviderKind;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(reveal_key)
        .service(models)
        .service(validate_key)
        .service(list_presets)
        .service(create_preset)
        .service(delete_preset)
        .service(update_preset);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevealedKey {
    pub config_id: String,
    pub api_key: Option<String>,
}

/// The current config's provider key, whole (admins).
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(ConfigQuery), responses((status = 200, body = Data<RevealedKey>), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[get("/bot-config/reveal-key")]
pub async fn reveal_key(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ConfigQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let c = config::current(state.db(), &caller.org_id, q.config_id.as_deref()).await?;
    let key = match &c.api_key {
        Some(k) => Some(state.secrets.decrypt(k).map_err(|e| ApiError::Internal(e.to_string()))?),
        None => None,
    };
    tracing::info!(org_id = %caller.org_id, user_id = ?caller.user_id, config_id = %c.id, "bot API key revealed");
    Ok(HttpResponse::Ok().json(Data::new(RevealedKey { config_id: c.id, api_key: key })))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ModelsQuery {
    /// OPENAI, ANTHROPIC, GOOGLE, DEEPSEEK, KIMI or LOCAL.
    pub provider: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Models {
    pub provider: ProviderKind,
    pub models: Vec<String>,
}

/// The models a provider offers, asked with the organization's key for it (the current
/// config's, or a preset's).
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(ModelsQuery), responses((status = 200, body = Data<Models>), (status = 400, body = crate::error::ErrorBody), (status = 409, description = "No key for this provider", body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
#[get("/bot-config/models")]
pub async fn models(state: web::Data<AppState>, caller: Caller, q: web::Query<ModelsQuery>) -> ApiResult<HttpResponse> {
    let kind = presets::provider_kind(q.provider.as_deref())?;
    let models = presets::models(&state, &caller.org_id, kind).await?;
    Ok(HttpResponse::Ok().json(Data::new(Models { provider: kind, models })))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidateBody {
    pub provider: Option<String>,
    pub api_key: Option<String>,
    pub model: Option<String>,
    /// For LOCAL and self-hosted endpoints; default the provider's.
    pub base_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    pub valid: bool,
    pub message: String,
    /// Whether `model` is among the provider's models (when both are known).
    pub model_available: Option<bool>,
}

/// Check a key with the provider (it lists its models with it).
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = ValidateBody, responses((status = 200, body = Data<Validation>), (status = 400, body = crate::error::ErrorBody)))]
#[post("/bot-config/validate-key")]
pub async fn validate_key(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ValidateBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let c = presets::check_key(&state, b.provider.as_deref(), b.api_key, b.model, b.base_url).await?;
    Ok(HttpResponse::Ok().json(Data::new(Validation {
        valid: c.valid,
        message: c.message,
        model_available: c.model_available,
    })))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresetView {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub base_url: Option<String>,
    pub model: String,
    pub has_api_key: bool,
    pub api_key: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

fn preset_view(state: &AppState, p: &bot_preset::Model) -> PresetView {
    let key = p.api_key.as_deref().and_then(|k| state.secrets.decrypt(k).ok());
    PresetView {
        id: p.id.clone(),
        name: p.name.clone(),
        provider: p.provider.clone(),
        base_url: p.base_url.clone(),
        model: p.model.clone(),
        has_api_key: key.is_some(),
        api_key: key.as_deref().map(config::mask),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresetBody {
    pub name: Option<String>,
    pub provider: Option<String>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub base_url: Option<Option<String>>,
    pub model: Option<String>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Option<String>>,
}

impl From<PresetBody> for presets::Fields {
    fn from(b: PresetBody) -> Self {
        presets::Fields { name: b.name, provider: b.provider, base_url: b.base_url, model: b.model, api_key: b.api_key }
    }
}

/// The organization's provider presets.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<PresetView>>)))]
#[get("/bot-config/presets")]
pub async fn list_presets(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = presets::list(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(|p| preset_view(&state, p)).collect::<Vec<_>>())))
}

/// Create a preset.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = PresetBody, responses((status = 201, body = Data<PresetView>), (status = 400, body = crate::error::ErrorBody)))]
#[post("/bot-config/presets")]
pub async fn create_preset(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PresetBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let p = presets::create(state.db(), &state.secrets, &caller.org_id, body.into_inner().into()).await?;
    Ok(HttpResponse::Created().json(Data::new(preset_view(&state, &p))))
}

/// Change a preset.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), request_body = PresetBody, responses((status = 200, body = Data<PresetView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[put("/bot-config/presets/{id}")]
pub async fn update_preset(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<PresetBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let p = presets::update(state.db(), &state.secrets, &caller.org_id, &id, body.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(Data::new(preset_view(&state, &p))))
}

/// Delete a preset; configs that used it fall back to their own values.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/bot-config/presets/{id}")]
pub async fn delete_preset(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    presets::delete(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
