//! Provider presets (a provider, model, base URL and key an organization reuses across configs),
//! the models a provider offers, and checking a key with its provider.

use chrono::Utc;
use entities::bot_preset;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::config::{self, Settings};
use super::provider::{ProviderError, ProviderErrorKind, ProviderKind};
use crate::crypto::SecretBox;
use crate::domain::{Error, Result, find_in_org};
use crate::state::AppState;

/// A provider named by a client.
pub fn provider_kind(s: Option<&str>) -> Result<ProviderKind> {
    s.and_then(ProviderKind::parse).ok_or_else(|| {
        Error::invalid("provider", "provider must be one of OPENAI, ANTHROPIC, GOOGLE, DEEPSEEK, KIMI, LOCAL")
    })
}

/// A provider that refused a key is a 422; one that could not answer, unavailable.
fn provider_error(e: ProviderError) -> Error {
    match e.kind {
        ProviderErrorKind::Unauthorized => Error::Unprocessable(format!("the provider refused the key: {e}")),
        _ => Error::Unavailable(format!("the provider could not answer: {e}")),
    }
}

/// The models `kind` offers, asked with the organization's key for it: the current config's
/// when it uses that provider, else a preset's.
pub async fn models(state: &AppState, org_id: &str, kind: ProviderKind) -> Result<Vec<String>> {
    let mut endpoint = None;
    if let Ok(c) = config::current(state.db(), org_id, None).await
        && ProviderKind::parse(&Settings::of(&c).provider) == Some(kind)
    {
        endpoint = Some(config::endpoint(state.db(), &state.secrets, &c).await?);
    }
    if endpoint.is_none() {
        let presets = bot_preset::Entity::find().filter(bot_preset::Column::OrgId.eq(org_id)).all(state.db()).await?;
        if let Some(p) = presets.into_iter().find(|p| ProviderKind::parse(&p.provider) == Some(kind)) {
            let key = p.api_key.as_deref().and_then(|k| state.secrets.decrypt(k).ok());
            let base = p.base_url.clone().unwrap_or_else(|| kind.default_base_url().to_owned());
            endpoint = Some(config::Endpoint { kind, base_url: base, api_key: key, model: p.model });
        }
    }
    let endpoint = endpoint.ok_or_else(|| {
        Error::Conflict(format!("no config or preset of this organization uses {kind:?}: add a key for it first"))
    })?;
    state.bot.provider(&endpoint).await?.models().await.map_err(provider_error)
}

/// What the provider said of a key: accepted (and whether `model` is among its models), or
/// refused with its reason.
pub struct KeyCheck {
    pub valid: bool,
    pub message: String,
    pub model_available: Option<bool>,
}

/// Checks `key` with the provider (it lists its models with it), at `base_url` or the
/// provider's own.
pub async fn check_key(
    state: &AppState,
    provider: Option<&str>,
    key: Option<String>,
    model: Option<String>,
    base_url: Option<String>,
) -> Result<KeyCheck> {
    let kind = provider_kind(provider)?;
    let key = key.filter(|k| !k.trim().is_empty()).ok_or_else(|| Error::invalid("apiKey", "apiKey is required"))?;
    let base = match base_url {
        Some(u) if reqwest::Url::parse(&u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) => u,
        Some(_) => return Err(Error::invalid("baseUrl", "baseUrl must be an http(s) URL")),
        None => kind.default_base_url().to_owned(),
    };
    let provider =
        state.bot.provider_for(&base, Some(key.trim().to_owned())).await?.with_retries(0, std::time::Duration::ZERO);
    match provider.models().await {
        Ok(offered) => Ok(KeyCheck {
            valid: true,
            message: "the provider accepted the key".into(),
            model_available: model.map(|m| offered.contains(&m)),
        }),
        Err(e) if e.kind == ProviderErrorKind::Unauthorized => {
            Ok(KeyCheck { valid: false, message: format!("the provider refused the key: {e}"), model_available: None })
        }
        Err(e) => Err(provider_error(e)),
    }
}

/// A preset's fields as a client gives them; `None` keeps one, `Some(None)` clears the base URL
/// or the key (an empty key clears it too).
#[derive(Default)]
pub struct Fields {
    pub name: Option<String>,
    pub provider: Option<String>,
    pub base_url: Option<Option<String>>,
    pub model: Option<String>,
    pub api_key: Option<Option<String>>,
}

fn apply(secrets: &SecretBox, p: &mut bot_preset::Model, f: Fields) -> Result<()> {
    if let Some(n) = f.name {
        p.name = n.trim().to_owned();
    }
    if let Some(v) = f.provider {
        p.provider = provider_kind(Some(&v)).map(|k| format!("{k:?}").to_uppercase())?;
    }
    if let Some(u) = f.base_url {
        if let Some(url) = &u
            && !reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return Err(Error::invalid("baseUrl", "baseUrl must be an http(s) URL"));
        }
        p.base_url = u;
    }
    if let Some(m) = f.model {
        p.model = m.trim().to_owned();
    }
    match f.api_key {
        None => {}
        Some(None) => p.api_key = None,
        Some(Some(k)) if k.trim().is_empty() => p.api_key = None,
        Some(Some(k)) => p.api_key = Some(secrets.encrypt(k.trim())),
    }
    if p.name.is_empty() || p.name.chars().count() > 100 {
        return Err(Error::invalid("name", "name is required and at most 100 characters"));
    }
    if p.model.is_empty() {
        return Err(Error::invalid("model", "model is required"));
    }
    Ok(())
}

/// The organization's presets, by name.
pub async fn list(db: &DatabaseConnection, org_id: &str) -> Result<Vec<bot_preset::Model>> {
    Ok(bot_preset::Entity::find()
        .filter(bot_preset::Column::OrgId.eq(org_id))
        .order_by_asc(bot_preset::Column::Name)
        .all(db)
        .await?)
}

/// Creates a preset (the provider is required).
pub async fn create(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    org_id: &str,
    f: Fields,
) -> Result<bot_preset::Model> {
    if f.provider.is_none() {
        return Err(Error::invalid("provider", "provider is required"));
    }
    let now = Utc::now();
    let mut p = bot_preset::Model {
        id: actors::new_id(),
        org_id: org_id.to_owned(),
        name: String::new(),
        provider: String::new(),
        base_url: None,
        model: String::new(),
        api_key: None,
        created_at: now,
        updated_at: now,
    };
    apply(secrets, &mut p, f)?;
    Ok(bot_preset::ActiveModel::from(p).insert(db).await?)
}

/// Changes a preset.
pub async fn update(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    org_id: &str,
    id: &str,
    f: Fields,
) -> Result<bot_preset::Model> {
    let mut p = find_in_org::<bot_preset::Entity>(db, org_id, id).await?;
    apply(secrets, &mut p, f)?;
    p.updated_at = Utc::now();
    Ok(bot_preset::ActiveModel::from(p).reset_all().update(db).await?)
}

/// Deletes a preset; configs that used it fall back to their own values.
pub async fn delete(db: &DatabaseConnection, org_id: &str, id: &str) -> Result<()> {
    let p = find_in_org::<bot_preset::Entity>(db, org_id, id).await?;
    bot_preset::Entity::delete_by_id(p.id).exec(db).await?;
    Ok(())
}
