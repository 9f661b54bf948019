//! Bot configs: drafts and the one active config of an organization, their settings (patched
//! and validated), prompt versions (a changed system prompt is a new version), copies.

use chrono::Utc;
use entities::{bot_config, bot_intent, bot_prompt_version, bot_snapshot, organization};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};
use serde_json::{Map, Value};

use super::config::{self, ACTIVE, DRAFT, Settings};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// The settings with `patch` applied and validated, with a preset the patch names checked to be
/// one of the organization's.
pub async fn patched_for(
    state: &AppState,
    org_id: &str,
    current: &Settings,
    patch: &Map<String, Value>,
) -> Result<Settings> {
    let settings = patched(current, patch)?;
    if patch.contains_key("presetId") {
        use crate::domain::refs::{Kind, require_opt};
        require_opt(state.db(), org_id, "presetId", Kind::Preset, settings.preset_id.as_deref()).await?;
    }
    Ok(settings)
}

/// The settings with `patch` applied, validated.
pub fn patched(current: &Settings, patch: &Map<String, Value>) -> Result<Settings> {
    let mut doc = serde_json::to_value(current).map_err(|e| Error::Internal(e.to_string()))?;
    let known = doc.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    if let Some(obj) = doc.as_object_mut() {
        for (k, v) in patch {
            if !known.contains(k) {
                return Err(Error::invalid(k.clone(), format!("unknown setting {k:?}")));
            }
            obj.insert(k.clone(), v.clone());
        }
    }
    let settings: Settings = serde_json::from_value(doc).map_err(|e| Error::invalid("settings", e.to_string()))?;
    settings.validate()?;
    Ok(settings)
}

pub fn config_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(Error::invalid("name", "name is required and at most 100 characters"));
    }
    Ok(n.to_owned())
}

/// Inserts a config with its first prompt version.
pub async fn insert(
    db: &impl ConnectionTrait,
    org_id: &str,
    name: String,
    settings: &Settings,
    api_key: Option<String>,
    by: Option<String>,
) -> Result<bot_config::Model> {
    let now = Utc::now();
    let c = bot_config::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(org_id.to_owned()),
        name: Set(name),
        status: Set(DRAFT.into()),
        settings: Set(serde_json::to_string(settings).unwrap_or_default()),
        api_key: Set(api_key),
        prompt_version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    add_prompt_version(db, &c, 1, &settings.system_prompt, by).await?;
    Ok(c)
}

async fn add_prompt_version(
    db: &impl ConnectionTrait,
    c: &bot_config::Model,
    version: i32,
    prompt: &str,
    by: Option<String>,
) -> Result<()> {
    bot_prompt_version::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(c.org_id.clone()),
        config_id: Set(c.id.clone()),
        version: Set(version),
        prompt: Set(prompt.to_owned()),
        created_by: Set(by),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Stores new settings on a config; a changed system prompt becomes a new prompt version.
pub async fn save_settings(
    db: &impl ConnectionTrait,
    c: bot_config::Model,
    settings: &Settings,
    by: Option<String>,
    change: impl FnOnce(&mut bot_config::ActiveModel),
) -> Result<bot_config::Model> {
    let before = Settings::of(&c);
    let mut version = c.prompt_version;
    if before.system_prompt != settings.system_prompt {
        let last: Option<i32> = bot_prompt_version::Entity::find()
            .select_only()
            .column_as(bot_prompt_version::Column::Version.max(), "v")
            .filter(bot_prompt_version::Column::ConfigId.eq(c.id.clone()))
            .into_tuple::<Option<i32>>()
            .one(db)
            .await?
            .flatten();
        version = last.unwrap_or(0) + 1;
        add_prompt_version(db, &c, version, &settings.system_prompt, by).await?;
    }
    let mut am = c.into_active_model();
    am.settings = Set(serde_json::to_string(settings).unwrap_or_default());
    am.prompt_version = Set(version);
    am.updated_at = Set(Utc::now());
    change(&mut am);
    Ok(am.update(db).await?)
}

pub fn encrypt_key(state: &AppState, key: Option<Option<String>>, current: Option<String>) -> Option<String> {
    match key {
        None => current,
        Some(None) => None,
        Some(Some(k)) if k.trim().is_empty() => None,
        Some(Some(k)) => Some(state.secrets.encrypt(k.trim())),
    }
}

/// Copies the intents of `from` onto config `to`.
pub async fn copy_intents(db: &impl ConnectionTrait, from: &str, to: &bot_config::Model) -> Result<()> {
    let intents = bot_intent::Entity::find().filter(bot_intent::Column::ConfigId.eq(from)).all(db).await?;
    let now = Utc::now();
    for i in intents {
        bot_intent::ActiveModel {
            id: Set(actors::new_id()),
            org_id: Set(to.org_id.clone()),
            config_id: Set(to.id.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..i.into_active_model()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Makes `id` the organization's one active config, under the organization's row lock.
pub async fn make_active(state: &AppState, org_id: &str, id: &str) -> Result<bot_config::Model> {
    let txn = state.rt.db.begin_write().await?;
    organization::Entity::find_by_id(org_id.to_owned()).lock_exclusive().one(&*txn).await?;
    let c = config::get(&*txn, org_id, id).await?;
    bot_config::Entity::update_many()
        .col_expr(bot_config::Column::Status, sea_orm::sea_query::Expr::value(DRAFT))
        .filter(bot_config::Column::OrgId.eq(org_id))
        .filter(bot_config::Column::Status.eq(ACTIVE))
        .exec(&*txn)
        .await?;
    let mut am = c.into_active_model();
    am.status = Set(ACTIVE.into());
    am.updated_at = Set(Utc::now());
    let c = am.update(&*txn).await?;
    txn.commit().await?;
    Ok(c)
}

/// Deletes a draft config with its intents, prompt versions and snapshots (never the active one).
pub async fn delete(rt: &actors::Runtime, org_id: &str, id: &str) -> Result<()> {
    let c = config::get(&rt.db.conn, org_id, id).await?;
    if c.status == ACTIVE {
        return Err(Error::Conflict("the active config cannot be deleted: activate another one first".into()));
    }
    let txn = rt.db.begin_write().await?;
    bot_intent::Entity::delete_many().filter(bot_intent::Column::ConfigId.eq(c.id.clone())).exec(&*txn).await?;
    bot_prompt_version::Entity::delete_many()
        .filter(bot_prompt_version::Column::ConfigId.eq(c.id.clone()))
        .exec(&*txn)
        .await?;
    bot_snapshot::Entity::delete_many().filter(bot_snapshot::Column::ConfigId.eq(c.id.clone())).exec(&*txn).await?;
    bot_config::Entity::delete_by_id(c.id).exec(&*txn).await?;
    txn.commit().await?;
    Ok(())
}
