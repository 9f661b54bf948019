//! Connected WhatsApp accounts: connecting one (its credentials checked with Meta, the token kept
//! encrypted), renaming, a new token, disconnecting; and the lookups the webhook, the sender and
//! the API use.

use std::collections::HashMap;
use std::time::Instant;

use chrono::Utc;
use entities::enums::{AccountStatus, Channel};
use entities::{inbox, whatsapp_account};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};

pub use super::health::Pacing;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// The connected account with this Meta phone number id, in any organization.
pub async fn by_phone_number_id(
    db: &impl ConnectionTrait,
    phone_number_id: &str,
) -> std::result::Result<Option<whatsapp_account::Model>, DbErr> {
    whatsapp_account::Entity::find()
        .filter(whatsapp_account::Column::PhoneNumberId.eq(phone_number_id))
        .filter(whatsapp_account::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// How long the webhook may use an account it looked up: a change made on another node of a
/// cluster reaches this node's webhooks within it (one made here, at once).
pub const ACCOUNT_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Connected accounts by Meta phone number id, for the webhook: one look-up per number per
/// [`ACCOUNT_CACHE_TTL`] instead of one per webhook (a busy number receives up to 1,000 a
/// second). Connecting, updating and disconnecting an account here forget it at once.
#[derive(Clone, Default)]
pub struct AccountCache {
    accounts: std::sync::Arc<std::sync::RwLock<HashMap<String, (Instant, whatsapp_account::Model)>>>,
}

impl AccountCache {
    /// [`by_phone_number_id`], answered from the cache while the entry is fresh. Numbers that
    /// are not connected are not remembered: connecting one takes effect at once everywhere.
    pub async fn by_phone_number_id(
        &self,
        db: &impl ConnectionTrait,
        phone_number_id: &str,
    ) -> std::result::Result<Option<whatsapp_account::Model>, DbErr> {
        let fresh = self.accounts.read().ok().and_then(|m| {
            m.get(phone_number_id).filter(|(at, _)| at.elapsed() < ACCOUNT_CACHE_TTL).map(|(_, a)| a.clone())
        });
        if fresh.is_some() {
            return Ok(fresh);
        }
        let found = by_phone_number_id(db, phone_number_id).await?;
        if let Ok(mut m) = self.accounts.write() {
            match &found {
                Some(a) => {
                    m.insert(phone_number_id.to_owned(), (Instant::now(), a.clone()));
                }
                None => {
                    m.remove(phone_number_id);
                }
            }
            if m.len() > MAX_CACHED_ACCOUNTS {
                m.retain(|_, (at, _)| at.elapsed() < ACCOUNT_CACHE_TTL);
            }
        }
        Ok(found)
    }

    /// The account of this number changed: the next webhook looks it up again.
    pub fn forget(&self, phone_number_id: &str) {
        if let Ok(mut m) = self.accounts.write() {
            m.remove(phone_number_id);
        }
    }
}

/// Entries past which the cache drops the expired ones.
const MAX_CACHED_ACCOUNTS: usize = 10_000;

/// The connected account behind an inbox.
pub async fn by_inbox(
    db: &impl ConnectionTrait,
    org_id: &str,
    inbox_id: &str,
) -> std::result::Result<Option<whatsapp_account::Model>, DbErr> {
    whatsapp_account::Entity::find()
        .filter(whatsapp_account::Column::OrgId.eq(org_id))
        .filter(whatsapp_account::Column::InboxId.eq(inbox_id))
        .filter(whatsapp_account::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// One of the organization's connected accounts.
pub async fn get(
    db: &impl ConnectionTrait,
    org_id: &str,
    id: &str,
) -> std::result::Result<Option<whatsapp_account::Model>, DbErr> {
    whatsapp_account::Entity::find_by_id(id.to_owned())
        .filter(whatsapp_account::Column::OrgId.eq(org_id))
        .filter(whatsapp_account::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// The organization's connected accounts, oldest first.
pub async fn list(db: &impl ConnectionTrait, org_id: &str) -> std::result::Result<Vec<whatsapp_account::Model>, DbErr> {
    whatsapp_account::Entity::find()
        .filter(whatsapp_account::Column::OrgId.eq(org_id))
        .filter(whatsapp_account::Column::DeletedAt.is_null())
        .order_by_asc(whatsapp_account::Column::Id)
        .all(db)
        .await
}

/// How fast and how widely the organization's account may send (its throughput and
/// messaging-limit tier as last read from Meta; see [`Pacing`] for the defaults when never read).
/// The campaign pacer asks this before each batch, so a tier or quality change that a webhook or
/// a health check brought slows a running campaign at once.
pub async fn pacing(db: &impl ConnectionTrait, org_id: &str, account_id: &str) -> Result<Pacing> {
    let account = get(db, org_id, account_id).await?.ok_or(Error::NotFound("WhatsApp account"))?;
    Ok(Pacing::of(&account))
}

/// The id Meta shows for a WhatsApp Business Account or a phone number.
pub(super) fn meta_id(field: &str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(Error::invalid(field, format!("{field} is required: the id Meta shows for it")));
    }
    Ok(v.to_owned())
}

fn token(v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 4096 {
        return Err(Error::invalid("accessToken", "accessToken is required"));
    }
    Ok(v.to_owned())
}

/// Asks Meta about the number with the token: a token Meta rejects is refused; when Meta cannot
/// be reached the account is connected as `unverified`.
async fn check_with_meta(
    state: &AppState,
    phone_number_id: &str,
    token: &str,
) -> Result<(AccountStatus, Option<String>)> {
    match state.graph.phone_number(phone_number_id, token).await {
        Ok(info) => Ok((AccountStatus::Connected, info.display_phone_number)),
        Err(e) if e.transient => {
            tracing::warn!(%phone_number_id, error = %e, "could not reach Meta to check the account; connecting unverified");
            Ok((AccountStatus::Unverified, None))
        }
        Err(e) => {
            Err(Error::Unprocessable(format!("Meta refused the credentials for this phone number: {}", e.message)))
        }
    }
}

/// What a manual connect gives: the ids and token from Meta's dashboard, and an optional alias.
pub struct Credentials<'a> {
    pub waba_id: &'a str,
    pub phone_number_id: &'a str,
    pub access_token: &'a str,
    pub alias: Option<&'a str>,
}

/// Connects a number with credentials from Meta's dashboard and creates its inbox. The token is
/// checked with Meta (refused when Meta rejects it; `unverified` when Meta cannot be reached)
/// and stored encrypted.
pub async fn connect(state: &AppState, org_id: &str, c: Credentials<'_>) -> Result<whatsapp_account::Model> {
    let waba_id = meta_id("wabaId", c.waba_id)?;
    let phone_number_id = meta_id("phoneNumberId", c.phone_number_id)?;
    let access_token = token(c.access_token)?;
    let alias = c.alias.map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
    if by_phone_number_id(state.db(), &phone_number_id).await?.is_some() {
        return Err(Error::Conflict("this phone number is already connected".into()));
    }
    let (status, display) = check_with_meta(state, &phone_number_id, &access_token).await?;
    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    // Checked again inside the write transaction so two concurrent connects cannot both win.
    if by_phone_number_id(&*txn, &phone_number_id).await?.is_some() {
        return Err(Error::Conflict("this phone number is already connected".into()));
    }
    let inbox_name = alias.clone().or_else(|| display.clone()).unwrap_or_else(|| format!("WhatsApp {phone_number_id}"));
    let inbox = inbox::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(org_id.to_owned()),
        channel: Set(Channel::Whatsapp),
        name: Set(inbox_name),
        created_at: Set(now),
        updated_at: Set(now),
        ..crate::inboxes::defaults()
    }
    .insert(&*txn)
    .await?;
    let account = whatsapp_account::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(org_id.to_owned()),
        inbox_id: Set(inbox.id.clone()),
        waba_id: Set(waba_id),
        phone_number_id: Set(phone_number_id),
        display_phone_number: Set(display),
        alias: Set(alias),
        access_token_enc: Set(state.secrets.encrypt(&access_token)),
        status: Set(status),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        quality_rating: Set(None),
        messaging_limit_tier: Set(None),
        throughput_level: Set(None),
        name_status: Set(None),
        health_detail: Set(None),
        health_checked_at: Set(None),
    }
    .insert(&*txn)
    .await?;
    txn.commit().await?;
    state.wa_accounts.forget(&account.phone_number_id);
    tracing::info!(%org_id, account_id = %account.id, "WhatsApp account connected");
    Ok(account)
}

/// Renames an account (`alias`, empty clears it) or gives it a new access token (checked with
/// Meta like a connect).
pub async fn update(
    state: &AppState,
    org_id: &str,
    id: &str,
    alias: Option<&str>,
    access_token: Option<&str>,
) -> Result<whatsapp_account::Model> {
    let account = get(state.db(), org_id, id).await?.ok_or(Error::NotFound("WhatsApp account"))?;
    let phone_number_id = account.phone_number_id.clone();
    let mut am = account.into_active_model();
    if let Some(alias) = alias {
        let a = alias.trim();
        if a.chars().count() > 100 {
            return Err(Error::invalid("alias", "alias is at most 100 characters"));
        }
        am.alias = Set((!a.is_empty()).then(|| a.to_owned()));
    }
    if let Some(t) = access_token {
        let t = token(t)?;
        let (status, display) = check_with_meta(state, &phone_number_id, &t).await?;
        am.access_token_enc = Set(state.secrets.encrypt(&t));
        am.status = Set(status);
        if display.is_some() {
            am.display_phone_number = Set(display);
        }
    }
    am.updated_at = Set(Utc::now());
    let account = am.update(state.db()).await?;
    state.wa_accounts.forget(&phone_number_id);
    Ok(account)
}

/// Disconnects an account: it and its inbox are marked deleted; its conversations and messages
/// stay, and new webhooks for the number are acknowledged and ignored.
pub async fn disconnect(state: &AppState, org_id: &str, id: &str) -> Result<()> {
    let account = get(state.db(), org_id, id).await?.ok_or(Error::NotFound("WhatsApp account"))?;
    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    if let Some(ib) = inbox::Entity::find_by_id(account.inbox_id.clone()).one(&*txn).await? {
        let mut am = ib.into_active_model();
        am.deleted_at = Set(Some(now));
        am.updated_at = Set(now);
        am.update(&*txn).await?;
    }
    let mut am = account.into_active_model();
    am.deleted_at = Set(Some(now));
    am.status = Set(AccountStatus::Disconnected);
    am.updated_at = Set(now);
    let account = am.update(&*txn).await?;
    txn.commit().await?;
    state.wa_accounts.forget(&account.phone_number_id);
    Ok(())
}
