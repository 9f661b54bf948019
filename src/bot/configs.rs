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
        status: Set(DRAFT),
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
    am.status = Set(ACTIVE);
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

/// How many intents the config has.
pub async fn intent_count(db: &impl ConnectionTrait, config_id: &str) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(bot_intent::Entity::find().filter(bot_intent::Column::ConfigId.eq(config_id)).count(db).await?)
}

/// The organization's configs, the active one first, then by last change.
pub async fn list(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<bot_config::Model>> {
    use sea_orm::QueryOrder;
    let rows = bot_config::Entity::find()
        .filter(bot_config::Column::OrgId.eq(org_id))
        .order_by_desc(bot_config::Column::UpdatedAt)
        .all(db)
        .await?;
    let (active, drafts): (Vec<_>, Vec<_>) = rows.into_iter().partition(|c| c.status == ACTIVE);
    Ok(active.into_iter().chain(drafts).collect())
}

/// A draft copy of a config with its intents (name default: "<name> (copy)").
pub async fn duplicate(
    rt: &actors::Runtime,
    org_id: &str,
    id: &str,
    name: Option<&str>,
    by: Option<String>,
) -> Result<bot_config::Model> {
    let source = config::get(&rt.db.conn, org_id, id).await?;
    let name = match name {
        Some(n) => config_name(n)?,
        None => format!("{} (copy)", source.name).chars().take(100).collect(),
    };
    let txn = rt.db.begin_write().await?;
    let c = insert(&*txn, org_id, name, &Settings::of(&source), source.api_key.clone(), by).await?;
    copy_intents(&*txn, &source.id, &c).await?;
    txn.commit().await?;
    Ok(c)
}

/// The config's system prompt versions, newest first.
pub async fn prompt_versions(db: &impl ConnectionTrait, config_id: &str) -> Result<Vec<bot_prompt_version::Model>> {
    use sea_orm::QueryOrder;
    Ok(bot_prompt_version::Entity::find()
        .filter(bot_prompt_version::Column::ConfigId.eq(config_id))
        .order_by_desc(bot_prompt_version::Column::Version)
        .all(db)
        .await?)
}

/// Points the config's system prompt back at a version (history is kept).
pub async fn roll_back(db: &sea_orm::DatabaseConnection, org_id: &str, version_id: &str) -> Result<bot_config::Model> {
    let v = crate::domain::find_in_org::<bot_prompt_version::Entity>(db, org_id, version_id).await?;
    let c = config::get(db, org_id, &v.config_id).await?;
    let settings = Settings { system_prompt: v.prompt.clone(), ..Settings::of(&c) };
    let mut am = c.into_active_model();
    am.settings = Set(serde_json::to_string(&settings)?);
    am.prompt_version = Set(v.version);
    am.updated_at = Set(Utc::now());
    Ok(am.update(db).await?)
}

/// Has the bot take a turn in every BOT_HANDLING conversation whose customer still waits (at
/// most 500), each through its actor; answers those it took one in.
pub async fn reprocess_pending(rt: &actors::Runtime, org_id: &str) -> Result<Vec<String>> {
    use entities::conversation;
    let ids: Vec<String> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::Status.eq(entities::enums::ConversationStatus::BotHandling.as_str()))
        .filter(conversation::Column::AwaitingReply.eq(true))
        .limit(500)
        .into_tuple()
        .all(&rt.db.conn)
        .await?;
    let mut woken = Vec::new();
    for id in ids {
        let msg = actors::conversation::WakeBot { org_id: org_id.to_owned() };
        if rt.ask_conversation(org_id, &id, msg).await? {
            woken.push(id);
        }
    }
    Ok(woken)
}

/// What a client sends for a config: its name, its provider key (`Some(None)` or an empty one
/// removes it) and any settings fields (a patch of the current settings).
pub struct Input {
    pub name: Option<String>,
    pub api_key: Option<Option<String>>,
    pub settings: Map<String, Value>,
}

/// Creates a draft config.
pub async fn create(state: &AppState, org_id: &str, by: Option<String>, input: Input) -> Result<bot_config::Model> {
    let name = config_name(input.name.as_deref().unwrap_or_default())?;
    let settings = patched_for(state, org_id, &Settings::default(), &input.settings).await?;
    let key = encrypt_key(state, input.api_key, None);
    insert(state.db(), org_id, name, &settings, key, by).await
}

/// Changes the current config (or `id`); with none yet (and no `id`), creates one named
/// "Default" and makes it active.
pub async fn upsert(
    state: &AppState,
    org_id: &str,
    by: Option<String>,
    id: Option<&str>,
    input: Input,
) -> Result<bot_config::Model> {
    let existing = match config::current(state.db(), org_id, id).await {
        Ok(c) => Some(c),
        Err(Error::NotFound(_)) if id.is_none() => None,
        Err(Error::NotFound(what)) => {
            return Err(Error::invalid("id", format!("id names no {what} of this organization")));
        }
        Err(e) => return Err(e),
    };
    match existing {
        Some(c) => {
            let settings = patched_for(state, org_id, &Settings::of(&c), &input.settings).await?;
            let name = input.name.as_deref().map(config_name).transpose()?;
            let key = encrypt_key(state, input.api_key, c.api_key.clone());
            save_settings(state.db(), c, &settings, by, |am| {
                if let Some(n) = name {
                    am.name = Set(n);
                }
                am.api_key = Set(key);
            })
            .await
        }
        None => {
            let settings = patched_for(state, org_id, &Settings::default(), &input.settings).await?;
            let name = config_name(input.name.as_deref().unwrap_or("Default"))?;
            let key = encrypt_key(state, input.api_key, None);
            let c = insert(state.db(), org_id, name, &settings, key, by).await?;
            make_active(state, org_id, &c.id).await
        }
    }
}
