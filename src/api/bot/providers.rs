//! BOT-PROVIDERS-1..7: the config's key (revealed to admins only), the models a provider
//! offers, key validation, and provider presets with encrypted keys.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::Utc;
use entities::bot_preset;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use super::configs::ConfigQuery;
use crate::auth::Caller;
use crate::bot::config::{self, Settings};
use crate::bot::provider::{ProviderErrorKind, ProviderKind};
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

fn provider_kind(s: Option<&str>) -> ApiResult<ProviderKind> {
    s.and_then(ProviderKind::parse).ok_or_else(|| {
        ApiError::validation("provider", "provider must be one of OPENAI, ANTHROPIC, GOOGLE, DEEPSEEK, KIMI, LOCAL")
    })
}

/// The models a provider offers, asked with the organization's key for it (the current
/// config's, or a preset's).
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(ModelsQuery), responses((status = 200, body = Data<Models>), (status = 400, body = crate::error::ErrorBody), (status = 409, description = "No key for this provider", body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
#[get("/bot-config/models")]
pub async fn models(state: web::Data<AppState>, caller: Caller, q: web::Query<ModelsQuery>) -> ApiResult<HttpResponse> {
    let kind = provider_kind(q.provider.as_deref())?;
    let mut endpoint = None;
    if let Ok(c) = config::current(state.db(), &caller.org_id, None).await
        && ProviderKind::parse(&Settings::of(&c).provider) == Some(kind)
    {
        endpoint = Some(config::endpoint(state.db(), &state.secrets, &c).await?);
    }
    if endpoint.is_none() {
        let presets = bot_preset::Entity::find()
            .filter(bot_preset::Column::OrgId.eq(caller.org_id.clone()))
            .all(state.db())
            .await?;
        if let Some(p) = presets.into_iter().find(|p| ProviderKind::parse(&p.provider) == Some(kind)) {
            let key = p.api_key.as_deref().and_then(|k| state.secrets.decrypt(k).ok());
            let base = p.base_url.clone().unwrap_or_else(|| kind.default_base_url().to_owned());
            endpoint = Some(config::Endpoint { kind, base_url: base, api_key: key, model: p.model });
        }
    }
    let endpoint = endpoint.ok_or_else(|| {
        ApiError::Conflict(format!("no config or preset of this organization uses {kind:?}: add a key for it first"))
    })?;
    let models = state.bot.provider(&endpoint).await?.models().await.map_err(provider_error)?;
    Ok(HttpResponse::Ok().json(Data::new(Models { provider: kind, models })))
}

fn provider_error(e: crate::bot::provider::ProviderError) -> ApiError {
    match e.kind {
        ProviderErrorKind::Unauthorized => ApiError::Unprocessable(format!("the provider refused the key: {e}")),
        _ => ApiError::Unavailable(format!("the provider could not answer: {e}")),
    }
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
    let kind = provider_kind(b.provider.as_deref())?;
    let key = b.api_key.filter(|k| !k.trim().is_empty());
    let key = key.ok_or_else(|| ApiError::validation("apiKey", "apiKey is required"))?;
    let base = match b.base_url {
        Some(u) if reqwest::Url::parse(&u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) => u,
        Some(_) => return Err(ApiError::validation("baseUrl", "baseUrl must be an http(s) URL")),
        None => kind.default_base_url().to_owned(),
    };
    let provider =
        state.bot.provider_for(&base, Some(key.trim().to_owned())).await?.with_retries(0, std::time::Duration::ZERO);
    let out = match provider.models().await {
        Ok(offered) => Validation {
            valid: true,
            message: "the provider accepted the key".into(),
            model_available: b.model.map(|m| offered.contains(&m)),
        },
        Err(e) if e.kind == ProviderErrorKind::Unauthorized => {
            Validation { valid: false, message: format!("the provider refused the key: {e}"), model_available: None }
        }
        Err(e) => return Err(provider_error(e)),
    };
    Ok(HttpResponse::Ok().json(Data::new(out)))
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

fn apply_preset(state: &AppState, p: &mut bot_preset::Model, b: PresetBody) -> ApiResult<()> {
    if let Some(n) = b.name {
        p.name = n.trim().to_owned();
    }
    if let Some(v) = b.provider {
        p.provider = provider_kind(Some(&v)).map(|k| format!("{k:?}").to_uppercase())?;
    }
    if let Some(u) = b.base_url {
        if let Some(url) = &u
            && !reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return Err(ApiError::validation("baseUrl", "baseUrl must be an http(s) URL"));
        }
        p.base_url = u;
    }
    if let Some(m) = b.model {
        p.model = m.trim().to_owned();
    }
    match b.api_key {
        None => {}
        Some(None) => p.api_key = None,
        Some(Some(k)) if k.trim().is_empty() => p.api_key = None,
        Some(Some(k)) => p.api_key = Some(state.secrets.encrypt(k.trim())),
    }
    if p.name.is_empty() || p.name.chars().count() > 100 {
        return Err(ApiError::validation("name", "name is required and at most 100 characters"));
    }
    if p.model.is_empty() {
        return Err(ApiError::validation("model", "model is required"));
    }
    Ok(())
}

async fn find_preset(state: &AppState, caller: &Caller, id: &str) -> ApiResult<bot_preset::Model> {
    Ok(crate::domain::find_in_org::<bot_preset::Entity>(state.db(), &caller.org_id, id).await?)
}

/// The organization's provider presets.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<PresetView>>)))]
#[get("/bot-config/presets")]
pub async fn list_presets(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = bot_preset::Entity::find()
        .filter(bot_preset::Column::OrgId.eq(caller.org_id.clone()))
        .order_by_asc(bot_preset::Column::Name)
        .all(state.db())
        .await?;
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
    let now = Utc::now();
    let mut p = bot_preset::Model {
        id: actors::new_id(),
        org_id: caller.org_id.clone(),
        name: String::new(),
        provider: String::new(),
        base_url: None,
        model: String::new(),
        api_key: None,
        created_at: now,
        updated_at: now,
    };
    let b = body.into_inner();
    if b.provider.is_none() {
        return Err(ApiError::validation("provider", "provider is required"));
    }
    apply_preset(&state, &mut p, b)?;
    let p = bot_preset::ActiveModel::from(p).insert(state.db()).await?;
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
    let mut p = find_preset(&state, &caller, &id).await?;
    apply_preset(&state, &mut p, body.into_inner())?;
    p.updated_at = Utc::now();
    let p = bot_preset::ActiveModel::from(p).reset_all().update(state.db()).await?;
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
    let p = find_preset(&state, &caller, &id).await?;
    bot_preset::Entity::delete_by_id(p.id).exec(state.db()).await?;
    Ok(HttpResponse::NoContent().finish())
}
