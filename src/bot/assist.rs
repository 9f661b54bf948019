//! Writing assist: suggestions that complete what an agent is typing, from the active config's
//! model, under an organization switch and each agent's own preference.

use entities::{conversation, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, IntoActiveModel};
use serde::Serialize;
use tokio::sync::mpsc::Receiver;
use utoipa::ToSchema;

use super::provider::{ChatMessage, ChatRequest, ProviderError, StreamPiece};
use super::settings::{self, WritingAssist};
use super::{config, engine};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// The organization's settings, the user's own switch (on unless they turned it off), and
/// whether suggestions are offered (both on).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssistConfig {
    pub organization: WritingAssist,
    /// The caller's own switch (on unless they turned it off).
    pub user_enabled: bool,
    /// Both on: suggestions are offered.
    pub effective: bool,
}

/// The settings as they apply to `user_id` (an API key has no preference: on).
pub async fn config_for(db: &DatabaseConnection, org_id: &str, user_id: Option<&str>) -> Result<AssistConfig> {
    let org = settings::load(db, org_id).await?.writing_assist;
    let user_enabled = match user_id {
        Some(id) => {
            user::Entity::find_by_id(id.to_owned()).one(db).await?.and_then(|u| u.writing_assist).unwrap_or(true)
        }
        None => true,
    };
    Ok(AssistConfig { effective: org.enabled && user_enabled, organization: org, user_enabled })
}

/// A change of the organization's settings; `None` keeps a field (`Some(None)` clears the
/// instructions).
pub struct Change {
    pub enabled: Option<bool>,
    pub instructions: Option<Option<String>>,
    pub max_tokens: Option<u32>,
}

pub async fn configure(db: &actors::Db, org_id: &str, c: Change) -> Result<()> {
    if c.max_tokens.is_some_and(|m| !(10..=1000).contains(&m)) {
        return Err(Error::invalid("maxTokens", "maxTokens must be between 10 and 1000"));
    }
    if c.instructions.as_ref().and_then(|i| i.as_ref()).is_some_and(|i| i.chars().count() > 2000) {
        return Err(Error::invalid("instructions", "instructions are at most 2000 characters"));
    }
    settings::update(db, org_id, |s, _| {
        if let Some(e) = c.enabled {
            s.writing_assist.enabled = e;
        }
        if let Some(i) = c.instructions {
            s.writing_assist.instructions = i;
        }
        if let Some(m) = c.max_tokens {
            s.writing_assist.max_tokens = m;
        }
    })
    .await?;
    Ok(())
}

/// The user's own switch.
pub async fn set_preference(db: &DatabaseConnection, user_id: &str, on: bool) -> Result<()> {
    let u = user::Entity::find_by_id(user_id.to_owned()).one(db).await?.ok_or(Error::NotFound("user"))?;
    let mut am = u.into_active_model();
    am.writing_assist = Set(Some(on));
    am.update(db).await?;
    Ok(())
}

/// Starts a suggestion that continues `partial` (at most 4000 characters) in the conversation:
/// the model's answer, piece by piece. The call counts against the month now; the tokens when
/// the stream reports them ([`super::engine::Engine::add_usage`]).
pub async fn suggest(
    state: &AppState,
    user_id: Option<&str>,
    conv: &conversation::Model,
    partial: &str,
) -> Result<Receiver<std::result::Result<StreamPiece, ProviderError>>> {
    let org_id = conv.org_id.as_str();
    if partial.chars().count() > 4000 {
        return Err(Error::invalid("partialText", "partialText is at most 4000 characters"));
    }
    let cfg = config_for(state.db(), org_id, user_id).await?;
    if !cfg.effective {
        return Err(Error::Conflict("writing assist is off for this organization or for you".into()));
    }
    let c = engine::require_config(state.db(), org_id).await?;
    let endpoint = config::endpoint(state.db(), &state.secrets, &c).await?;
    let transcript = engine::transcript(state.db(), &conv.id, 20, ("Customer", "Us")).await?;
    let instructions = cfg.organization.instructions.clone().unwrap_or_else(|| "Be brief, warm and precise.".into());
    let system = format!(
        "You help a customer-service agent write their next reply. {instructions} \
         Answer with the text that continues the agent's draft, nothing else."
    );
    let user = format!("Conversation:\n{transcript}\n\nThe agent's draft so far: {partial}");
    let req = ChatRequest {
        model: endpoint.model.clone(),
        messages: vec![ChatMessage::new("system", system), ChatMessage::new("user", user)],
        temperature: Some(0.4),
        max_tokens: Some(cfg.organization.max_tokens),
        json: false,
    };
    let rx = state
        .bot
        .provider(&endpoint)
        .await?
        .chat_stream(&req)
        .await
        .map_err(|e| Error::Unavailable(format!("the model could not answer: {e}")))?;
    state.bot.add_usage(org_id, Default::default(), 1).await?;
    Ok(rx)
}
