//! The organization's API keys: created with a role (ADMIN or AGENT) and an optional expiry,
//! renamed, deactivated, deleted. The key's text exists once, at creation; a key that stops
//! working is announced (`api_key.revoked`), so its open sockets close on every node.

use actors::Runtime;
use chrono::{Duration, Utc};
use entities::api_key;
use entities::enums::Role;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, ModelTrait,
    QueryFilter, QueryOrder,
};

use crate::auth::tokens;
use crate::domain::{Error, Result};

/// A key to create, as the request spelled it.
pub struct NewKey {
    pub name: String,
    /// ADMIN (default) or AGENT.
    pub role: Option<String>,
    /// 1 to 3650; never expires when absent.
    pub expires_in_days: Option<i64>,
}

fn key_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(Error::invalid("name", "name is required and at most 100 characters"));
    }
    Ok(n.to_owned())
}

fn key_role(role: Option<&str>) -> Result<Role> {
    match role {
        None => Ok(Role::Admin),
        Some(r) => match Role::parse(r) {
            Some(role @ (Role::Admin | Role::Agent)) => Ok(role),
            _ => Err(Error::invalid("role", "role must be ADMIN or AGENT")),
        },
    }
}

/// One key of the organization.
pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<api_key::Model> {
    api_key::Entity::find_by_id(id.to_owned())
        .filter(api_key::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("API key"))
}

/// The organization's keys, newest first.
pub async fn list(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<api_key::Model>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::OrgId.eq(org_id))
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await?)
}

/// Creates a key made by `created_by`; returns it with its full text (the only time it exists).
pub async fn create(
    db: &impl ConnectionTrait,
    org_id: &str,
    created_by: Option<&str>,
    new: NewKey,
) -> Result<(api_key::Model, String)> {
    let name = key_name(&new.name)?;
    let role = key_role(new.role.as_deref())?;
    let expires_at = match new.expires_in_days {
        None => None,
        Some(d) if (1..=3650).contains(&d) => Some(Utc::now() + Duration::days(d)),
        Some(_) => return Err(Error::invalid("expiresInDays", "expiresInDays must be between 1 and 3650")),
    };
    let secret = tokens::new_api_key();
    let now = Utc::now();
    let key = api_key::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(org_id.to_owned()),
        name: Set(name),
        prefix: Set(secret.prefix),
        key_hash: Set(secret.hash),
        role: Set(role),
        created_by: Set(created_by.map(str::to_owned)),
        is_active: Set(true),
        last_used_at: Set(None),
        expires_at: Set(expires_at),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok((key, secret.plain))
}

/// Renames, deactivates or reactivates a key; `None` keeps the field.
pub async fn update(
    rt: &Runtime,
    org_id: &str,
    id: &str,
    name: Option<&str>,
    is_active: Option<bool>,
) -> Result<api_key::Model> {
    let mut am = get(&rt.db.conn, org_id, id).await?.into_active_model();
    if let Some(name) = name {
        am.name = Set(key_name(name)?);
    }
    if let Some(active) = is_active {
        am.is_active = Set(active);
    }
    am.updated_at = Set(Utc::now());
    let key = am.update(&rt.db.conn).await?;
    if is_active == Some(false) {
        revoked(rt, &key).await?;
    }
    Ok(key)
}

/// Deletes a key for good.
pub async fn delete(rt: &Runtime, org_id: &str, id: &str) -> Result<()> {
    let key = get(&rt.db.conn, org_id, id).await?;
    key.clone().delete(&rt.db.conn).await?;
    revoked(rt, &key).await
}

/// Announces that `key` no longer works: its open sockets, on every node, close.
async fn revoked(rt: &Runtime, key: &api_key::Model) -> Result<()> {
    let payload = serde_json::json!({ "apiKeyId": key.id, "userId": format!("api-key:{}", key.id) }).to_string();
    let event =
        actors::store::events::NewEvent { conversation: None, name: actors::events::EventName::ApiKeyRevoked, payload };
    let txn = rt.db.begin_write_in(&key.org_id).await?;
    rt.commit(txn, &key.org_id, vec![event]).await?;
    Ok(())
}
