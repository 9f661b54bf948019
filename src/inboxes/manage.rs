//! Creating, listing, changing and deleting an organization's inboxes. A live-chat or API inbox
//! is made here; a WhatsApp inbox is made by connecting its number (its account holds the Meta
//! credentials), and is changed and deleted here like the others. Deleting soft-deletes: the
//! inbox's conversations and messages stay.

use std::collections::HashMap;

use chrono::Utc;
use entities::enums::Channel;
use entities::{conversation, inbox, whatsapp_account};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::settings::{self, parse_channel};
use super::tokens;
use crate::channels::whatsapp::accounts;
use crate::conversations::removal;
use crate::domain::refs::{self, Kind};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// An inbox with what belongs to it: its WhatsApp account (WhatsApp inboxes) and, when read one
/// by one, its decrypted secrets (for admins to configure their site or receiver).
pub struct Inbox {
    pub model: inbox::Model,
    pub account: Option<whatsapp_account::Model>,
    /// The identity-verification secret (live chat).
    pub hmac_secret: Option<String>,
    /// The webhook signing secret (API channel).
    pub webhook_secret: Option<String>,
}

/// A new inbox and, for an API inbox, its token: the only time its text exists.
pub struct Created {
    pub inbox: Inbox,
    pub api_token: Option<String>,
}

/// The settings a create or an edit gives; `None` keeps (or, on create, defaults) a field, and
/// `Some(None)` clears a nullable one. JSON settings arrive raw so a fault names its field.
#[derive(Clone, Default)]
pub struct InboxInput {
    pub name: Option<String>,
    pub greeting_enabled: Option<bool>,
    pub greeting_message: Option<Option<String>>,
    pub enable_auto_assignment: Option<bool>,
    /// A `WeeklySchedule`; its `isEnabled` and `timezone` are the inbox's.
    pub working_hours: Option<Option<serde_json::Value>>,
    pub csat_survey_enabled: Option<bool>,
    pub csat_config: Option<Option<serde_json::Value>>,
    pub bot_config_id: Option<Option<String>>,
    /// Live chat only.
    pub widget_settings: Option<Option<serde_json::Value>>,
    /// Live chat only.
    pub hmac_mandatory: Option<bool>,
    /// Live chat only.
    pub allowed_origins: Option<Vec<String>>,
    /// API channel only.
    pub webhook_url: Option<Option<String>>,
    /// False turns the inbox off (status `inactive`), true on again.
    pub enabled: Option<bool>,
}

/// The settings columns of a new inbox as the migration defaults them; the caller sets the rest.
pub fn defaults() -> inbox::ActiveModel {
    inbox::ActiveModel {
        deleted_at: Set(None),
        greeting_enabled: Set(false),
        greeting_message: Set(None),
        enable_auto_assignment: Set(true),
        working_hours_enabled: Set(false),
        working_hours: Set(None),
        timezone: Set(None),
        csat_survey_enabled: Set(false),
        csat_config: Set(None),
        bot_config_id: Set(None),
        avatar_path: Set(None),
        website_token: Set(None),
        widget_settings: Set(None),
        hmac_secret_enc: Set(None),
        hmac_mandatory: Set(false),
        allowed_origins: Set(None),
        webhook_url: Set(None),
        webhook_secret_enc: Set(None),
        api_token_hash: Set(None),
        api_token_prefix: Set(None),
        disabled_at: Set(None),
        webhook_cursor: Set(0),
        webhook_failure_streak: Set(0),
        webhook_disabled_at: Set(None),
        ..Default::default()
    }
}

fn inbox_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(Error::invalid("name", "name is required and at most 100 characters"));
    }
    Ok(n.to_owned())
}

fn only_for(channel: Channel, wanted: Channel, field: &str, given: bool) -> Result<()> {
    if given && channel != wanted {
        return Err(Error::invalid(field, format!("{field} applies to {wanted} inboxes only, not {channel}")));
    }
    Ok(())
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    Ok(serde_json::to_string(v)?)
}

/// Checks `input` against the inbox's channel and writes it into `am`. `allow_private`
/// (`CX_WEBHOOK_ALLOW_PRIVATE`) lets a webhook URL be http or a private address.
async fn apply(
    db: &impl ConnectionTrait,
    allow_private: bool,
    org_id: &str,
    channel: Channel,
    input: InboxInput,
    am: &mut inbox::ActiveModel,
) -> Result<()> {
    only_for(channel, Channel::Livechat, "widgetSettings", input.widget_settings.is_some())?;
    only_for(channel, Channel::Livechat, "hmacMandatory", input.hmac_mandatory.is_some())?;
    only_for(channel, Channel::Livechat, "allowedOrigins", input.allowed_origins.is_some())?;
    only_for(channel, Channel::Api, "webhookUrl", input.webhook_url.is_some())?;
    if let Some(name) = &input.name {
        am.name = Set(inbox_name(name)?);
    }
    if let Some(on) = input.greeting_enabled {
        am.greeting_enabled = Set(on);
    }
    if let Some(message) = input.greeting_message {
        let message = message.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
        if message.as_ref().is_some_and(|m| m.chars().count() > 4096) {
            return Err(Error::invalid("greetingMessage", "greetingMessage is at most 4096 characters"));
        }
        am.greeting_message = Set(message);
    }
    if let Some(on) = input.enable_auto_assignment {
        am.enable_auto_assignment = Set(on);
    }
    if let Some(hours) = input.working_hours {
        match hours {
            Some(v) => {
                let schedule = settings::parse_working_hours(v)?;
                am.working_hours_enabled = Set(schedule.is_enabled);
                am.timezone = Set(Some(schedule.timezone.clone()));
                am.working_hours = Set(Some(json(&schedule)?));
            }
            None => {
                am.working_hours_enabled = Set(false);
                am.timezone = Set(None);
                am.working_hours = Set(None);
            }
        }
    }
    if let Some(on) = input.csat_survey_enabled {
        am.csat_survey_enabled = Set(on);
    }
    if let Some(config) = input.csat_config {
        am.csat_config = Set(config.map(settings::parse_csat).transpose()?.map(|c| json(&c)).transpose()?);
    }
    if let Some(config) = input.bot_config_id {
        if let Some(id) = &config {
            refs::require(db, org_id, "botConfigId", Kind::Config, id).await?;
        }
        am.bot_config_id = Set(config);
    }
    if let Some(widget) = input.widget_settings {
        am.widget_settings = Set(widget.map(settings::parse_widget).transpose()?.map(|w| json(&w)).transpose()?);
    }
    if let Some(on) = input.hmac_mandatory {
        am.hmac_mandatory = Set(on);
    }
    if let Some(origins) = input.allowed_origins {
        am.allowed_origins = Set(Some(json(&settings::parse_origins(&origins)?)?));
    }
    if let Some(url) = input.webhook_url {
        let url = url.filter(|u| !u.trim().is_empty()).map(|u| settings::parse_webhook_url(&u)).transpose()?;
        if let Some(url) = &url {
            crate::channels::api::guard::check_at_save(url, allow_private)
                .await
                .map_err(|refused| Error::invalid("webhookUrl", refused.to_string()))?;
        }
        am.webhook_url = Set(url);
    }
    if let Some(on) = input.enabled {
        am.disabled_at = Set(if on { None } else { Some(Utc::now()) });
    }
    Ok(())
}

/// Checks `input` for an inbox of `channel` without writing anything.
pub(super) async fn check(state: &AppState, org_id: &str, channel: Channel, input: InboxInput) -> Result<()> {
    apply(state.db(), state.config.webhook_allow_private, org_id, channel, input, &mut defaults()).await
}

fn live(org_id: &str) -> sea_orm::Select<inbox::Entity> {
    inbox::Entity::find().filter(inbox::Column::OrgId.eq(org_id)).filter(inbox::Column::DeletedAt.is_null())
}

/// A page of the organization's inboxes (oldest first) and how many there are in all.
pub async fn list(db: &impl ConnectionTrait, org_id: &str, skip: u64, size: u64) -> Result<(Vec<Inbox>, u64)> {
    let total = live(org_id).count(db).await?;
    let rows = live(org_id)
        .order_by_asc(inbox::Column::CreatedAt)
        .order_by_asc(inbox::Column::Id)
        .offset(skip)
        .limit(size)
        .all(db)
        .await?;
    let mut by_inbox: HashMap<String, whatsapp_account::Model> =
        accounts::list(db, org_id).await?.into_iter().map(|a| (a.inbox_id.clone(), a)).collect();
    let inboxes = rows
        .into_iter()
        .map(|model| Inbox { account: by_inbox.remove(&model.id), model, hmac_secret: None, webhook_secret: None })
        .collect();
    Ok((inboxes, total))
}

/// One inbox of the organization with its secrets decrypted; another organization's, or a
/// deleted one, is not found.
pub async fn get(state: &AppState, org_id: &str, id: &str) -> Result<Inbox> {
    let db = state.db();
    let model = live(org_id).filter(inbox::Column::Id.eq(id)).one(db).await?.ok_or(Error::NotFound("inbox"))?;
    let account = accounts::by_inbox(db, org_id, &model.id).await?;
    let open = |enc: &Option<String>| -> Result<Option<String>> {
        enc.as_deref()
            .map(|e| state.secrets.decrypt(e).map_err(|e| Error::Internal(format!("inbox {id}: {e}"))))
            .transpose()
    };
    let hmac_secret = open(&model.hmac_secret_enc)?;
    let webhook_secret = open(&model.webhook_secret_enc)?;
    Ok(Inbox { model, account, hmac_secret, webhook_secret })
}

/// Creates a live-chat or API inbox with its secrets. A WhatsApp inbox is refused: it comes
/// from connecting a number, which also checks the credentials with Meta.
pub async fn create(state: &AppState, org_id: &str, channel: Option<&str>, input: InboxInput) -> Result<Created> {
    let channel = parse_channel(channel)?;
    if channel == Channel::Whatsapp {
        return Err(Error::Unprocessable(
            "a WhatsApp inbox is created by connecting its number: POST /api/v1/whatsapp-accounts/connect-manual \
             (or Embedded Signup); the new inbox is then listed here"
                .into(),
        ));
    }
    if input.name.is_none() {
        return Err(Error::invalid("name", "name is required and at most 100 characters"));
    }
    let now = Utc::now();
    let mut am = inbox::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(org_id.to_owned()),
        channel: Set(channel),
        name: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        ..defaults()
    };
    let mut api_token = None;
    match channel {
        Channel::Livechat => {
            am.website_token = Set(Some(tokens::website_token()));
            am.hmac_secret_enc = Set(Some(state.secrets.encrypt(&tokens::hmac_secret())));
            am.allowed_origins = Set(Some("[]".into()));
        }
        Channel::Api => {
            let token = tokens::api_token();
            am.api_token_hash = Set(Some(token.hash));
            am.api_token_prefix = Set(Some(token.prefix));
            am.webhook_secret_enc = Set(Some(state.secrets.encrypt(&tokens::hmac_secret())));
            api_token = Some(token.plain);
        }
        Channel::Whatsapp => {}
    }
    apply(state.db(), state.config.webhook_allow_private, org_id, channel, input, &mut am).await?;
    let model = am.insert(state.db()).await?;
    tracing::info!(%org_id, inbox_id = %model.id, %channel, "inbox created");
    Ok(Created { inbox: get(state, org_id, &model.id).await?, api_token })
}

/// Changes an inbox's settings (any channel); a setting of another channel is refused.
pub async fn update(state: &AppState, org_id: &str, id: &str, input: InboxInput) -> Result<Inbox> {
    let current = get(state, org_id, id).await?.model;
    let channel = current.channel;
    let mut am = current.into_active_model();
    apply(state.db(), state.config.webhook_allow_private, org_id, channel, input, &mut am).await?;
    am.updated_at = Set(Utc::now());
    am.update(state.db()).await?;
    get(state, org_id, id).await
}

/// Which secret of an inbox to replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    /// Live chat: the identity-verification HMAC secret (identities signed with the old one
    /// stop verifying).
    Identity,
    /// API channel: the webhook signing secret.
    Webhook,
    /// API channel: the token its system sends with (the old one stops working at once).
    ApiToken,
}

impl Secret {
    pub fn parse(name: &str) -> Result<Secret> {
        match name {
            "identity" => Ok(Secret::Identity),
            "webhook" => Ok(Secret::Webhook),
            "apiToken" => Ok(Secret::ApiToken),
            other => {
                Err(Error::invalid("secret", format!("secret {other:?} is not one of identity, webhook, apiToken")))
            }
        }
    }
    fn channel(self) -> Channel {
        match self {
            Secret::Identity => Channel::Livechat,
            Secret::Webhook | Secret::ApiToken => Channel::Api,
        }
    }
}

/// Replaces one secret of the inbox with a new random one; a new API token is answered this
/// once, like on create.
pub async fn rotate(state: &AppState, org_id: &str, id: &str, secret: Secret) -> Result<Created> {
    let current = get(state, org_id, id).await?.model;
    if current.channel != secret.channel() {
        return Err(Error::invalid(
            "secret",
            format!("a {} inbox has no such secret; it is a {} inbox's", current.channel, secret.channel()),
        ));
    }
    let mut am = current.into_active_model();
    let mut api_token = None;
    match secret {
        Secret::Identity => am.hmac_secret_enc = Set(Some(state.secrets.encrypt(&tokens::hmac_secret()))),
        Secret::Webhook => am.webhook_secret_enc = Set(Some(state.secrets.encrypt(&tokens::hmac_secret()))),
        Secret::ApiToken => {
            let token = tokens::api_token();
            am.api_token_hash = Set(Some(token.hash));
            am.api_token_prefix = Set(Some(token.prefix));
            api_token = Some(token.plain);
        }
    }
    am.updated_at = Set(Utc::now());
    am.update(state.db()).await?;
    tracing::info!(%org_id, inbox_id = %id, ?secret, "inbox secret rotated");
    Ok(Created { inbox: get(state, org_id, id).await?, api_token })
}

/// Deletes an inbox (soft: its conversations stay). A WhatsApp inbox's number is disconnected
/// with it, as a disconnect of the account would.
pub async fn delete(state: &AppState, org_id: &str, id: &str) -> Result<()> {
    let inbox = get(state, org_id, id).await?;
    if let Some(account) = inbox.account {
        return accounts::disconnect(state, org_id, &account.id).await;
    }
    let now = Utc::now();
    let mut am = inbox.model.into_active_model();
    am.deleted_at = Set(Some(now));
    am.updated_at = Set(now);
    am.update(state.db()).await?;
    tracing::info!(%org_id, inbox_id = %id, "inbox deleted");
    Ok(())
}

/// A page of inboxes as the Cekat inbox list shows them: each with whether it is active and the
/// bot that answers its customers.
pub struct Listed {
    pub inboxes: Vec<Inbox>,
    pub total: u64,
    /// The bot config that answers each inbox's customers, by inbox id, while the organization's
    /// bot is on: the inbox's own `botConfigId`, else the organization's ACTIVE config.
    pub answering: HashMap<String, entities::bot_config::Model>,
}

impl Inbox {
    /// Whether the inbox takes conversations: not disabled, and (WhatsApp) its number connected.
    pub fn is_active(&self) -> bool {
        self.model.disabled_at.is_none()
            && self.account.as_ref().is_none_or(|a| a.status != entities::enums::AccountStatus::Disconnected)
    }
}

/// The organization's inboxes by page, with the bot that answers them.
pub async fn list_with_bot(db: &impl ConnectionTrait, org_id: &str, skip: u64, size: u64) -> Result<Listed> {
    use entities::bot_config;
    let (inboxes, total) = list(db, org_id, skip, size).await?;
    let org = entities::organization::Entity::find_by_id(org_id.to_owned()).one(db).await?;
    if !org.is_some_and(|o| o.bot_enabled) {
        return Ok(Listed { inboxes, total, answering: HashMap::new() });
    }
    // As `bot::config::answering` decides it per inbox, for the whole page in two queries.
    let active = crate::bot::config::active(db, org_id).await?;
    let named: Vec<String> = inboxes.iter().filter_map(|i| i.model.bot_config_id.clone()).collect();
    let own: HashMap<String, bot_config::Model> = bot_config::Entity::find()
        .filter(bot_config::Column::OrgId.eq(org_id))
        .filter(bot_config::Column::Id.is_in(named))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let answering = inboxes
        .iter()
        .filter_map(|i| {
            let own = i.model.bot_config_id.as_ref().and_then(|id| own.get(id));
            own.or(active.as_ref()).map(|c| (i.model.id.clone(), c.clone()))
        })
        .collect();
    Ok(Listed { inboxes, total, answering })
}

/// Deletes an inbox together with its conversations and their messages (the Chatwoot-style
/// delete). The conversations go first, each through its actor so no message in flight writes
/// after it; a failure there leaves the inbox in place, so the delete can be tried again.
/// Answers how many conversations were deleted.
pub async fn delete_with_conversations(state: &AppState, org_id: &str, id: &str) -> Result<usize> {
    let inbox = get(state, org_id, id).await?;
    let ids: Vec<String> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::InboxId.eq(&inbox.model.id))
        .into_tuple()
        .all(state.db())
        .await?;
    let deleted = removal::delete_found(state, org_id, ids, "inbox deleted").await?;
    delete(state, org_id, id).await?;
    Ok(deleted.len())
}

/// The bot config an inbox names (its `botConfigId`), if any.
pub async fn bot(state: &AppState, org_id: &str, id: &str) -> Result<Option<entities::bot_config::Model>> {
    let inbox = get(state, org_id, id).await?;
    match inbox.model.bot_config_id {
        Some(config) => Ok(Some(crate::bot::config::get(state.db(), org_id, &config).await?)),
        None => Ok(None),
    }
}
