//! Refresh tokens and API keys: random, shown once, stored as SHA-256 hashes.

use chrono::{Duration, Utc};
use entities::{api_key, refresh_token, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::crypto::{hash_token, random_token};
use crate::domain::Result;

/// Prefix of API keys, so they are recognisable in logs and secret scanners.
pub const API_KEY_PREFIX: &str = "cxk_";
const REFRESH_PREFIX: &str = "cxr_";

/// Issues a refresh token for `user` in `family` (a new family at login).
pub async fn issue_refresh(
    db: &impl ConnectionTrait,
    user: &user::Model,
    family: Option<String>,
    days: i64,
) -> Result<String> {
    let token = format!("{REFRESH_PREFIX}{}", random_token(32));
    let now = Utc::now();
    refresh_token::ActiveModel {
        id: Set(actors::new_id()),
        user_id: Set(user.id.clone()),
        org_id: Set(user.org_id.clone()),
        family_id: Set(family.unwrap_or_else(actors::new_id)),
        token_hash: Set(hash_token(&token)),
        expires_at: Set(now + Duration::days(days)),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// What presenting a refresh token came to.
pub enum Spent {
    /// Valid and unused: now used; its user and family.
    Fresh(Box<user::Model>, String),
    /// Unknown, expired, revoked, or its user is gone.
    Invalid,
    /// Already used: the sign of a leak. Its family is revoked by now (commit it).
    Reused,
}

/// Spends a refresh token inside `txn`, the write transaction that also issues its successor.
/// The user's row is held first, and every check is part of the conditional update, so a
/// password change or a family revocation that commits meanwhile is seen: no successor outlives
/// a revocation.
pub async fn spend_refresh(txn: &impl ConnectionTrait, presented: &str) -> Result<Spent> {
    use sea_orm::QuerySelect;
    let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_token(presented)))
        .one(txn)
        .await?
    else {
        return Ok(Spent::Invalid);
    };
    let Some(user) = user::Entity::find_by_id(row.user_id.clone())
        .filter(user::Column::DeletedAt.is_null())
        .lock_exclusive()
        .one(txn)
        .await?
    else {
        return Ok(Spent::Invalid);
    };
    let now = Utc::now();
    // Used only if still unused, unrevoked and unexpired, so two concurrent refreshes cannot
    // both win and a revocation cannot be overtaken.
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id.clone()))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .filter(refresh_token::Column::ExpiresAt.gt(now))
        .exec(txn)
        .await?;
    if spent.rows_affected == 1 {
        return Ok(Spent::Fresh(Box::new(user), row.family_id));
    }
    let current = refresh_token::Entity::find_by_id(row.id.clone()).one(txn).await?;
    let reused = current.is_some_and(|t| t.used_at.is_some() && t.revoked_at.is_none() && t.expires_at > now);
    if !reused {
        return Ok(Spent::Invalid);
    }
    tracing::warn!(user_id = %row.user_id, family = %row.family_id, "refresh token reused; revoking its family");
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(row.family_id.clone()))
        .exec(txn)
        .await?;
    Ok(Spent::Reused)
}

/// A new API key's plain text (shown once) and its stored parts.
pub struct NewApiKey {
    pub plain: String,
    pub prefix: String,
    pub hash: String,
}

pub fn new_api_key() -> NewApiKey {
    let plain = format!("{API_KEY_PREFIX}{}", random_token(32));
    let prefix = plain.chars().take(12).collect();
    let hash = hash_token(&plain);
    NewApiKey { plain, prefix, hash }
}

/// The active, unexpired key with this plain text.
pub async fn find_api_key(db: &impl ConnectionTrait, plain: &str) -> Result<Option<api_key::Model>> {
    let key = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash_token(plain)))
        .filter(api_key::Column::IsActive.eq(true))
        .one(db)
        .await?;
    Ok(key.filter(|k| k.expires_at.is_none_or(|t| t > Utc::now())))
}
