//! Bot configs: the settings document of a config, its validation, and the provider endpoint it
//! resolves to (its own provider, model and key, a preset's, or the provider's defaults).

use entities::{bot_config, bot_preset};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::provider::ProviderKind;
use crate::crypto::SecretBox;
use crate::domain::{Error, Result};

pub const DRAFT: entities::enums::ConfigStatus = entities::enums::ConfigStatus::Draft;
pub const ACTIVE: entities::enums::ConfigStatus = entities::enums::ConfigStatus::Active;

/// What a bot config says, stored as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Who the bot is and how it behaves.
    pub system_prompt: String,
    /// `OPENAI`, `ANTHROPIC`, `GOOGLE`, `DEEPSEEK`, `KIMI` or `LOCAL`.
    pub provider: String,
    pub model: String,
    /// The provider's OpenAI-compatible base URL; `None` = the provider's (or preset's).
    pub base_url: Option<String>,
    /// A provider preset to take the provider, URL, model and key from.
    pub preset_id: Option<String>,
    pub temperature: f32,
    pub max_tokens: u32,
    /// Sent with a hand-off, before the humans take over.
    pub handoff_message: Option<String>,
    /// Sent when the model cannot be read or reached and hand-off is off.
    pub fallback_message: String,
    /// Knowledge passages given to the model per turn.
    pub top_k: u32,
    /// Earlier messages of the conversation given to the model.
    pub history_limit: u32,
    /// Embedding model for the knowledge base; `None` = full-text retrieval only.
    pub embedding_model: Option<String>,
    /// Categories the classifier may choose from.
    pub categories: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            system_prompt: "You are a helpful customer-service assistant. Answer briefly and politely, \
                using only the knowledge provided. If you cannot help, hand the conversation to a human."
                .into(),
            provider: "OPENAI".into(),
            model: "gpt-4o-mini".into(),
            base_url: None,
            preset_id: None,
            temperature: 0.2,
            max_tokens: 500,
            handoff_message: Some("Let me connect you with a member of our team.".into()),
            fallback_message: "Sorry, I could not process that. Could you rephrase?".into(),
            top_k: 4,
            history_limit: 20,
            embedding_model: None,
            categories: Vec::new(),
        }
    }
}

impl Settings {
    pub fn of(c: &bot_config::Model) -> Settings {
        serde_json::from_str(&c.settings).unwrap_or_default()
    }

    /// Refuses values the bot could not run with, naming the field.
    pub fn validate(&self) -> Result<()> {
        if ProviderKind::parse(&self.provider).is_none() {
            return Err(Error::invalid(
                "provider",
                "provider must be one of OPENAI, ANTHROPIC, GOOGLE, DEEPSEEK, KIMI, LOCAL",
            ));
        }
        if self.model.trim().is_empty() {
            return Err(Error::invalid("model", "model is required"));
        }
        if let Some(url) = &self.base_url {
            let ok = reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err(Error::invalid("baseUrl", "baseUrl must be an http(s) URL"));
            }
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(Error::invalid("temperature", "temperature must be between 0 and 2"));
        }
        if !(1..=8000).contains(&self.max_tokens) {
            return Err(Error::invalid("maxTokens", "maxTokens must be between 1 and 8000"));
        }
        if self.top_k > 20 {
            return Err(Error::invalid("topK", "topK is at most 20"));
        }
        if self.history_limit > 100 {
            return Err(Error::invalid("historyLimit", "historyLimit is at most 100"));
        }
        if self.system_prompt.chars().count() > 20_000 {
            return Err(Error::invalid("systemPrompt", "systemPrompt is at most 20000 characters"));
        }
        Ok(())
    }
}

/// Where and how to call the model.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub kind: ProviderKind,
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
}

/// The organization's ACTIVE config, if any.
pub async fn active(
    db: &impl ConnectionTrait,
    org_id: &str,
) -> std::result::Result<Option<bot_config::Model>, sea_orm::DbErr> {
    bot_config::Entity::find()
        .filter(bot_config::Column::OrgId.eq(org_id))
        .filter(bot_config::Column::Status.eq(ACTIVE))
        .one(db)
        .await
}

/// The config that answers an inbox's customers: the inbox's own (`inboxes.bot_config_id`,
/// any status: an admin may give a widget a config of its own), else the organization's
/// ACTIVE one.
pub async fn answering(
    db: &impl ConnectionTrait,
    org_id: &str,
    inbox_id: &str,
) -> std::result::Result<Option<bot_config::Model>, sea_orm::DbErr> {
    let own = entities::inbox::Entity::find_by_id(inbox_id.to_owned())
        .filter(entities::inbox::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .and_then(|i| i.bot_config_id);
    if let Some(id) = own
        && let Some(c) = bot_config::Entity::find_by_id(id).filter(bot_config::Column::OrgId.eq(org_id)).one(db).await?
    {
        return Ok(Some(c));
    }
    active(db, org_id).await
}

/// The config the `/bot-config/…` endpoints work on: `id` if given, else the active config, else
/// the most recently edited one.
pub async fn current(db: &impl ConnectionTrait, org_id: &str, id: Option<&str>) -> Result<bot_config::Model> {
    if let Some(id) = id {
        return get(db, org_id, id).await;
    }
    if let Some(c) = active(db, org_id).await? {
        return Ok(c);
    }
    bot_config::Entity::find()
        .filter(bot_config::Column::OrgId.eq(org_id))
        .order_by_desc(bot_config::Column::UpdatedAt)
        .one(db)
        .await?
        .ok_or(Error::NotFound("bot config"))
}

pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<bot_config::Model> {
    crate::domain::find_in_org::<bot_config::Entity>(db, org_id, id).await
}

/// Resolves the endpoint of a config: its own values first, then its preset's, then the
/// provider's defaults.
pub async fn endpoint(db: &impl ConnectionTrait, secrets: &SecretBox, c: &bot_config::Model) -> Result<Endpoint> {
    let s = Settings::of(c);
    let preset = match &s.preset_id {
        Some(id) => {
            bot_preset::Entity::find_by_id(id.clone())
                .filter(bot_preset::Column::OrgId.eq(c.org_id.clone()))
                .one(db)
                .await?
        }
        None => None,
    };
    let provider = preset.as_ref().map(|p| p.provider.clone()).unwrap_or(s.provider.clone());
    let kind = ProviderKind::parse(&provider).unwrap_or(ProviderKind::Openai);
    let base_url = s
        .base_url
        .clone()
        .or_else(|| preset.as_ref().and_then(|p| p.base_url.clone()))
        .unwrap_or_else(|| kind.default_base_url().to_owned());
    let stored_key = c.api_key.clone().or_else(|| preset.as_ref().and_then(|p| p.api_key.clone()));
    let api_key = match stored_key {
        Some(k) => Some(secrets.decrypt(&k).map_err(|e| Error::Internal(e.to_string()))?),
        None => None,
    };
    let model = if s.model.trim().is_empty() { preset.map(|p| p.model).unwrap_or_default() } else { s.model };
    Ok(Endpoint { kind, base_url, api_key, model })
}

/// A key as shown on read: the last four characters.
pub fn mask(key: &str) -> String {
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    if key.chars().count() <= 8 { "••••".into() } else { format!("••••{tail}") }
}
