//! The organization's bot switches, kept as JSON on the organization row: how the bot handles
//! conversations (`/config/bot-mode`), auto-categorization, media auto-display and writing assist.
//! Whether the bot is on at all is the organization's `bot_enabled` column.

use entities::organization;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct BotMode {
    /// The bot answers outside business hours too (otherwise the off-hours notice does).
    pub answer_outside_hours: bool,
    /// The bot may hand conversations to humans; when off, it answers with its fallback message.
    pub handoff_enabled: bool,
    /// Answer only from the knowledge base: with nothing relevant retrieved, hand off.
    pub knowledge_only: bool,
    /// A customer asking for a human is handed off at once, without asking the model.
    pub handoff_on_request: bool,
}

impl Default for BotMode {
    fn default() -> Self {
        BotMode { answer_outside_hours: true, handoff_enabled: true, knowledge_only: false, handoff_on_request: true }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct WritingAssist {
    pub enabled: bool,
    /// Instructions for the suggestions (tone, language).
    pub instructions: Option<String>,
    /// Longest suggestion, in tokens.
    pub max_tokens: u32,
}

impl Default for WritingAssist {
    fn default() -> Self {
        WritingAssist { enabled: false, instructions: None, max_tokens: 120 }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrgBotSettings {
    pub mode: BotMode,
    pub auto_categorize: bool,
    /// `None` = on.
    pub media_auto_display: Option<bool>,
    pub writing_assist: WritingAssist,
    /// Bot turns a month; `None` = the server's default (`CX_BOT_MONTHLY_TURNS`).
    pub monthly_turn_limit: Option<i64>,
}

pub fn of(org: &organization::Model) -> OrgBotSettings {
    org.bot_settings.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
}

pub async fn org(db: &impl ConnectionTrait, org_id: &str) -> Result<organization::Model> {
    organization::Entity::find_by_id(org_id.to_owned()).one(db).await?.ok_or(Error::NotFound("organization"))
}

pub async fn load(db: &impl ConnectionTrait, org_id: &str) -> Result<OrgBotSettings> {
    Ok(of(&org(db, org_id).await?))
}

/// Applies `change` to the organization's settings and stores them, with the row locked so two
/// admins changing different switches at once both land.
pub async fn update(
    db: &actors::Db,
    org_id: &str,
    change: impl FnOnce(&mut OrgBotSettings, &mut organization::ActiveModel),
) -> Result<(OrgBotSettings, organization::Model)> {
    let txn = db.begin_write().await?;
    let o = organization::Entity::find_by_id(org_id.to_owned())
        .lock_exclusive()
        .one(&*txn)
        .await?
        .ok_or(Error::NotFound("organization"))?;
    let mut settings = of(&o);
    let mut am = o.into_active_model();
    change(&mut settings, &mut am);
    am.bot_settings = Set(Some(serde_json::to_string(&settings).unwrap_or_default()));
    am.updated_at = Set(chrono::Utc::now());
    let o = am.update(&*txn).await?;
    txn.commit().await?;
    Ok((settings, o))
}
