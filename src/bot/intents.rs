//! The intents of a bot config: what the bot recognizes and what it does then (answer from
//! knowledge, a fixed reply, hand-off, a tool), in order.

use chrono::Utc;
use entities::{bot_config, bot_intent, bot_tool};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use crate::domain::{Error, Result};

pub const ACTIONS: &[&str] = &["ANSWER", "REPLY", "HANDOFF", "TOOL"];

/// An intent's fields as a client gives them; `None` keeps (or defaults) one, `Some(None)`
/// clears an optional one.
#[derive(Default)]
pub struct Fields {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub examples: Option<Vec<String>>,
    pub action: Option<String>,
    pub response: Option<Option<String>>,
    pub tool_id: Option<Option<String>>,
    pub is_active: Option<bool>,
}

/// One intent of the organization.
pub async fn find(db: &DatabaseConnection, org_id: &str, id: &str) -> Result<bot_intent::Model> {
    crate::domain::find_in_org::<bot_intent::Entity>(db, org_id, id).await
}

/// Checks an intent as it would be stored, including that its tool is the organization's.
async fn check(db: &DatabaseConnection, org_id: &str, i: &bot_intent::Model) -> Result<()> {
    check_fields(i)?;
    if let Some(t) = &i.tool_id {
        let found = bot_tool::Entity::find_by_id(t.clone()).filter(bot_tool::Column::OrgId.eq(org_id)).one(db).await?;
        if found.is_none() {
            return Err(Error::invalid("toolId", "no such tool"));
        }
    }
    Ok(())
}

/// Checks an intent's own fields (the API and imports).
pub fn check_fields(i: &bot_intent::Model) -> Result<()> {
    if i.name.trim().is_empty() || i.name.chars().count() > 100 {
        return Err(Error::invalid("name", "name is required and at most 100 characters"));
    }
    if !ACTIONS.contains(&i.action.as_str()) {
        return Err(Error::invalid("action", format!("action must be one of {}", ACTIONS.join(", "))));
    }
    let examples: Vec<String> = serde_json::from_str(&i.examples).unwrap_or_default();
    if examples.len() > 100 || examples.iter().any(|e| e.trim().is_empty() || e.chars().count() > 500) {
        return Err(Error::invalid("examples", "up to 100 non-empty examples of at most 500 characters"));
    }
    if i.action == "REPLY" && i.response.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(Error::invalid("response", "a REPLY intent needs a response"));
    }
    if i.tool_id.is_none() && i.action == "TOOL" {
        return Err(Error::invalid("toolId", "a TOOL intent needs a toolId"));
    }
    Ok(())
}

/// The config's intents, in order.
pub async fn of_config(db: &DatabaseConnection, config_id: &str) -> Result<Vec<bot_intent::Model>> {
    Ok(bot_intent::Entity::find()
        .filter(bot_intent::Column::ConfigId.eq(config_id))
        .order_by_asc(bot_intent::Column::Position)
        .all(db)
        .await?)
}

/// Adds an intent at the end of the config's list (action `ANSWER` and active unless given).
pub async fn create(db: &DatabaseConnection, c: &bot_config::Model, f: Fields) -> Result<bot_intent::Model> {
    let count = bot_intent::Entity::find().filter(bot_intent::Column::ConfigId.eq(c.id.clone())).count(db).await?;
    let now = Utc::now();
    let i = bot_intent::Model {
        id: actors::new_id(),
        org_id: c.org_id.clone(),
        config_id: c.id.clone(),
        name: f.name.unwrap_or_default().trim().to_owned(),
        description: f.description.flatten(),
        examples: serde_json::to_string(&f.examples.unwrap_or_default())?,
        action: f.action.unwrap_or_else(|| "ANSWER".into()).to_uppercase(),
        response: f.response.flatten(),
        tool_id: f.tool_id.flatten(),
        position: count as i32,
        is_active: f.is_active.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    check(db, &c.org_id, &i).await?;
    Ok(bot_intent::ActiveModel::from(i).insert(db).await?)
}

/// Changes an intent's fields (it stays in its config).
pub async fn update(db: &DatabaseConnection, org_id: &str, id: &str, f: Fields) -> Result<bot_intent::Model> {
    let mut i = find(db, org_id, id).await?;
    if let Some(n) = f.name {
        i.name = n.trim().to_owned();
    }
    if let Some(d) = f.description {
        i.description = d;
    }
    if let Some(e) = f.examples {
        i.examples = serde_json::to_string(&e)?;
    }
    if let Some(a) = f.action {
        i.action = a.to_uppercase();
    }
    if let Some(r) = f.response {
        i.response = r;
    }
    if let Some(t) = f.tool_id {
        i.tool_id = t;
    }
    if let Some(a) = f.is_active {
        i.is_active = a;
    }
    i.updated_at = Utc::now();
    check(db, org_id, &i).await?;
    Ok(bot_intent::ActiveModel::from(i).reset_all().update(db).await?)
}

/// Deletes an intent.
pub async fn delete(db: &DatabaseConnection, org_id: &str, id: &str) -> Result<()> {
    let i = find(db, org_id, id).await?;
    bot_intent::Entity::delete_by_id(i.id).exec(db).await?;
    Ok(())
}

/// Puts a config's intents in a new order: `ids` lists every intent of one config, each once.
pub async fn reorder(rt: &actors::Runtime, org_id: &str, ids: Vec<String>) -> Result<Vec<bot_intent::Model>> {
    let Some(first) = ids.first() else { return Err(Error::invalid("ids", "ids is required")) };
    let first = find(&rt.db.conn, org_id, first).await.map_err(|_| Error::invalid("ids", "unknown intent id"))?;
    let txn = rt.db.begin_write().await?;
    let all =
        bot_intent::Entity::find().filter(bot_intent::Column::ConfigId.eq(first.config_id.clone())).all(&*txn).await?;
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != ids.len() || ids.len() != all.len() || !all.iter().all(|i| ids.contains(&i.id)) {
        return Err(Error::invalid("ids", "ids must list every intent of the config exactly once"));
    }
    let mut out = Vec::new();
    for (pos, id) in ids.iter().enumerate() {
        let Some(i) = all.iter().find(|i| &i.id == id) else { continue };
        let mut am = i.clone().into_active_model();
        am.position = Set(pos as i32);
        out.push(am.update(&*txn).await?);
    }
    txn.commit().await?;
    Ok(out)
}
