//! Meta's Embedded Signup (WHATSAPP-ACCOUNTS-1, -2, -4): the organization's Meta app settings the
//! web app opens Meta's dialog with, and connecting what the dialog gave: the code is exchanged
//! for the business's token (with the app secret from the environment, never stored or shown),
//! the business account and its numbers are found, the app is subscribed to the account's
//! webhooks, each number is registered for the Cloud API and connected like a manual connect.

use chrono::{DateTime, Utc};
use entities::{whatsapp_account, whatsapp_meta_config};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel};
use serde::Serialize;
use utoipa::ToSchema;

use super::accounts::{self, Credentials, meta_id};
use super::graph_accounts::AccountNumber;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// The organization's Meta app settings (WHATSAPP-ACCOUNTS-1). Never the app secret: only
/// whether the server has one.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetaConfig {
    /// The Meta app's id; `None` until an admin saves it.
    pub app_id: Option<String>,
    /// The Embedded Signup configuration id (Meta's "Facebook Login for Business" configuration).
    pub config_id: Option<String>,
    /// Whether the server has the app secret (`CX_WHATSAPP_APP_SECRET`), which the code
    /// exchange needs.
    pub app_secret_configured: bool,
    /// The Graph API version the server speaks, for the web app's Meta SDK.
    pub graph_version: String,
    pub updated_at: Option<DateTime<Utc>>,
}

fn secret(state: &AppState) -> Option<&str> {
    state.config.whatsapp_app_secret.as_deref().filter(|s| !s.is_empty())
}

fn config_view(state: &AppState, row: Option<whatsapp_meta_config::Model>) -> MetaConfig {
    MetaConfig {
        app_id: row.as_ref().map(|r| r.app_id.clone()),
        config_id: row.as_ref().map(|r| r.config_id.clone()),
        app_secret_configured: secret(state).is_some(),
        graph_version: state.config.whatsapp_graph_version.clone(),
        updated_at: row.map(|r| r.updated_at),
    }
}

async fn config_row(db: &impl ConnectionTrait, org_id: &str) -> Result<Option<whatsapp_meta_config::Model>> {
    Ok(whatsapp_meta_config::Entity::find_by_id(org_id.to_owned()).one(db).await?)
}

/// The organization's Meta app settings.
pub async fn meta_config(state: &AppState, org_id: &str) -> Result<MetaConfig> {
    Ok(config_view(state, config_row(state.db(), org_id).await?))
}

/// A Meta app or configuration id: digits, as Meta shows them.
fn numeric_id(field: &str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 32 || !v.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::invalid(field, format!("{field} is required: the number Meta shows for it")));
    }
    Ok(v.to_owned())
}

/// Saves the organization's Meta app id and Embedded Signup configuration id (admins).
pub async fn save_meta_config(
    state: &AppState,
    org_id: &str,
    user_id: &str,
    app_id: &str,
    config_id: &str,
) -> Result<MetaConfig> {
    let app_id = numeric_id("appId", app_id)?;
    let config_id = numeric_id("configId", config_id)?;
    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    let row = match config_row(&*txn, org_id).await? {
        Some(row) => {
            let mut am = row.into_active_model();
            am.app_id = Set(app_id);
            am.config_id = Set(config_id);
            am.updated_by = Set(Some(user_id.to_owned()));
            am.updated_at = Set(now);
            am.update(&*txn).await?
        }
        None => {
            whatsapp_meta_config::ActiveModel {
                org_id: Set(org_id.to_owned()),
                app_id: Set(app_id),
                config_id: Set(config_id),
                updated_by: Set(Some(user_id.to_owned())),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&*txn)
            .await?
        }
    };
    txn.commit().await?;
    Ok(config_view(state, Some(row)))
}

/// What Meta's dialog gave the browser: the code, and (from its session info) the business
/// account and number the business picked, when the web app caught them.
pub struct Signup<'a> {
    pub code: &'a str,
    pub waba_id: Option<&'a str>,
    pub phone_number_id: Option<&'a str>,
    pub alias: Option<&'a str>,
}

/// A number Embedded Signup found but did not connect.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkippedNumber {
    pub waba_id: String,
    pub phone_number_id: String,
    pub display_phone_number: Option<String>,
    pub reason: String,
}

/// What an Embedded Signup connected.
pub struct Connected {
    pub accounts: Vec<whatsapp_account::Model>,
    /// Numbers already connected (here or in another organization).
    pub skipped: Vec<SkippedNumber>,
    /// Steps Meta refused that did not stop the connection (a webhook subscription or a
    /// registration), each with Meta's reason: the admin finishes them in WhatsApp Manager.
    pub warnings: Vec<String>,
}

/// Connects the numbers of an Embedded Signup (admins): see the module's steps. No Meta app
/// settings (or no app secret) is a `Conflict` saying what to configure; a code Meta refuses is
/// invalid `code` with Meta's reason; no number found is `Unprocessable`.
pub async fn connect(state: &AppState, org_id: &str, s: Signup<'_>) -> Result<Connected> {
    let code = s.code.trim();
    if code.is_empty() || code.len() > 4096 {
        return Err(Error::invalid("code", "code is required: the code Meta's Embedded Signup dialog returned"));
    }
    let waba_id = s.waba_id.map(|w| meta_id("wabaId", w)).transpose()?;
    let phone_number_id = s.phone_number_id.map(|p| meta_id("phoneNumberId", p)).transpose()?;
    let Some(config) = config_row(state.db(), org_id).await? else {
        return Err(Error::Conflict(
            "Embedded Signup is not configured: save the Meta app id and configuration id first (PUT /whatsapp-accounts/meta-config)".into(),
        ));
    };
    let Some(app_secret) = secret(state) else {
        return Err(Error::Conflict(
            "the server has no Meta app secret: set CX_WHATSAPP_APP_SECRET to exchange Embedded Signup codes".into(),
        ));
    };
    let token = state.graph.exchange_code(&config.app_id, app_secret, code).await.map_err(|e| {
        if e.transient {
            Error::Unavailable(format!("could not reach Meta to exchange the code: {}", e.message))
        } else {
            Error::invalid("code", format!("Meta refused the code: {}", e.message))
        }
    })?;
    let numbers = numbers(state, &config, app_secret, &token, waba_id, phone_number_id.as_deref()).await?;
    let mut done = Connected { accounts: Vec::new(), skipped: Vec::new(), warnings: Vec::new() };
    let mut subscribed: Vec<String> = Vec::new();
    for (waba, number) in numbers {
        if accounts::by_phone_number_id(state.db(), &number.id).await?.is_some() {
            done.skipped.push(skipped(&waba, &number, "this phone number is already connected"));
            continue;
        }
        if !subscribed.contains(&waba) {
            if let Err(e) = state.graph.subscribe_app(&waba, &token).await {
                done.warnings.push(format!(
                    "Meta did not subscribe the app to business account {waba}'s webhooks: {}",
                    e.message
                ));
            }
            subscribed.push(waba.clone());
        }
        let pin = format!("{:06}", rand::random_range(0..1_000_000u32));
        match state.graph.register_number(&number.id, &token, &pin).await {
            Ok(()) => {}
            Err(e) if e.message.to_ascii_lowercase().contains("already registered") => {}
            Err(e) => done.warnings.push(format!("Meta did not register number {}: {}", number.id, e.message)),
        }
        let creds = Credentials { waba_id: &waba, phone_number_id: &number.id, access_token: &token, alias: s.alias };
        match accounts::connect(state, org_id, creds).await {
            Ok(account) => done.accounts.push(account),
            Err(Error::Conflict(reason)) => done.skipped.push(skipped(&waba, &number, &reason)),
            Err(e) => return Err(e),
        }
    }
    if done.accounts.is_empty() {
        let reasons: Vec<String> =
            done.skipped.iter().map(|s| format!("{}: {}", s.phone_number_id, s.reason)).collect();
        return Err(Error::Conflict(format!("no new number to connect ({})", reasons.join("; "))));
    }
    tracing::info!(%org_id, connected = done.accounts.len(), "Embedded Signup connected");
    Ok(done)
}

fn skipped(waba: &str, n: &AccountNumber, reason: &str) -> SkippedNumber {
    SkippedNumber {
        waba_id: waba.to_owned(),
        phone_number_id: n.id.clone(),
        display_phone_number: n.display_phone_number.clone(),
        reason: reason.to_owned(),
    }
}

/// The numbers to connect, each with its business account: the business accounts are the one
/// the dialog named, else those the token was granted; their numbers, or only the one named.
async fn numbers(
    state: &AppState,
    config: &whatsapp_meta_config::Model,
    app_secret: &str,
    token: &str,
    waba_id: Option<String>,
    phone_number_id: Option<&str>,
) -> Result<Vec<(String, AccountNumber)>> {
    let unreachable = |e: actors::channel::SendError| {
        if e.transient {
            Error::Unavailable(format!("could not reach Meta: {}", e.message))
        } else {
            Error::Unprocessable(format!("Meta did not list the business account's numbers: {}", e.message))
        }
    };
    let wabas = match waba_id {
        Some(w) => vec![w],
        None => {
            let app_token = format!("{}|{app_secret}", config.app_id);
            state.graph.granted_business_accounts(token, &app_token).await.map_err(unreachable)?
        }
    };
    if wabas.is_empty() {
        return Err(Error::Unprocessable(
            "the signup shared no WhatsApp Business Account with this app; run Embedded Signup again and pick one"
                .into(),
        ));
    }
    let mut out = Vec::new();
    for waba in wabas {
        for n in state.graph.account_numbers(&waba, token).await.map_err(unreachable)? {
            if phone_number_id.is_none_or(|p| p == n.id) {
                out.push((waba.clone(), n));
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Unprocessable(match phone_number_id {
            Some(p) => format!("phone number {p} is not in the business account the signup shared"),
            None => "the business account the signup shared has no phone number; add one in WhatsApp Manager".into(),
        }));
    }
    Ok(out)
}
