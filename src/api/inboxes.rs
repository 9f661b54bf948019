//! Inboxes: list and read (any member), create, change and delete (admins). A live-chat or API
//! inbox is created here; a WhatsApp inbox by connecting its number (`/whatsapp-accounts`).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use actors::policy::schedule::WeeklySchedule;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::pagination::{Pagination, numbered};
use super::{Data, nullable};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::inboxes::{self, CsatConfig, Inbox, InboxInput, WidgetSettings};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(get_one).service(update).service(remove).service(rotate_secret);
}

/// The kinds of inbox.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InboxChannel {
    /// A website live-chat widget (`webchat` is accepted for it).
    Livechat,
    /// A channel whose messages come from and go to the business's own system.
    Api,
    /// A connected WhatsApp number (created by connecting it).
    Whatsapp,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxView {
    pub id: String,
    pub name: String,
    #[schema(value_type = InboxChannel)]
    pub channel: String,
    /// `active`, or `inactive` while turned off.
    pub status: &'static str,
    pub greeting_enabled: bool,
    pub greeting_message: Option<String>,
    /// Off: the inbox's conversations wait in the queue for an agent to take them.
    pub enable_auto_assignment: bool,
    /// When enabled, they replace the organization's business hours for this inbox.
    pub working_hours: Option<WeeklySchedule>,
    pub csat_survey_enabled: bool,
    pub csat_config: Option<CsatConfig>,
    /// The bot config that answers this inbox; the organization's active one when null.
    pub bot_config_id: Option<String>,
    /// WhatsApp: the connected account and its number.
    pub whatsapp_account_id: Option<String>,
    pub phone_number: Option<String>,
    /// Live chat: the token of the widget's script tag.
    pub website_token: Option<String>,
    pub widget_settings: Option<WidgetSettings>,
    /// Live chat: the identity-verification HMAC secret (admins, one inbox at a time).
    pub hmac_secret: Option<String>,
    /// Live chat: a visitor without a valid identifier hash is refused.
    pub hmac_mandatory: bool,
    /// Live chat: origins allowed to embed the widget; empty allows any.
    pub allowed_origins: Vec<String>,
    /// API channel: where its events are posted.
    pub webhook_url: Option<String>,
    /// API channel: the webhook signing secret (admins, one inbox at a time).
    pub webhook_secret: Option<String>,
    /// API channel: the first characters of its token.
    pub api_token_prefix: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn stored<T: serde::de::DeserializeOwned>(text: &Option<String>) -> Option<T> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

impl InboxView {
    /// The view of `inbox`; its secrets only when `reveal` (an admin reading one inbox).
    fn of(inbox: &Inbox, reveal: bool) -> InboxView {
        let m = &inbox.model;
        let working_hours = stored::<WeeklySchedule>(&m.working_hours).map(|mut h| {
            h.is_enabled = m.working_hours_enabled;
            h
        });
        InboxView {
            id: m.id.clone(),
            name: m.name.clone(),
            channel: m.channel.to_string(),
            status: if inbox.is_active() { "active" } else { "inactive" },
            greeting_enabled: m.greeting_enabled,
            greeting_message: m.greeting_message.clone(),
            enable_auto_assignment: m.enable_auto_assignment,
            working_hours,
            csat_survey_enabled: m.csat_survey_enabled,
            csat_config: stored(&m.csat_config),
            bot_config_id: m.bot_config_id.clone(),
            whatsapp_account_id: inbox.account.as_ref().map(|a| a.id.clone()),
            phone_number: inbox.account.as_ref().and_then(|a| a.display_phone_number.clone()),
            website_token: m.website_token.clone(),
            widget_settings: stored(&m.widget_settings),
            hmac_secret: inbox.hmac_secret.clone().filter(|_| reveal),
            hmac_mandatory: m.hmac_mandatory,
            allowed_origins: stored(&m.allowed_origins).unwrap_or_default(),
            webhook_url: m.webhook_url.clone(),
            webhook_secret: inbox.webhook_secret.clone().filter(|_| reveal),
            api_token_prefix: m.api_token_prefix.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// An inbox as created: an API inbox's token is shown this once.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedInbox {
    #[serde(flatten)]
    pub inbox: InboxView,
    /// API channel: the token its system sends messages with. Store it now: it cannot be shown again.
    pub api_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct InboxPage {
    pub data: Vec<InboxView>,
    pub pagination: Pagination,
}

/// The settings of an inbox; absent fields are kept, `null` clears a nullable one.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct InboxSettings {
    /// 1 to 100 characters; required on create.
    pub name: Option<String>,
    pub greeting_enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub greeting_message: Option<Option<String>>,
    pub enable_auto_assignment: Option<bool>,
    /// A weekly schedule; its `isEnabled` turns the inbox's working hours on.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<WeeklySchedule>)]
    pub working_hours: Option<Option<serde_json::Value>>,
    pub csat_survey_enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<CsatConfig>)]
    pub csat_config: Option<Option<serde_json::Value>>,
    /// A bot config of the organization; `null` uses the active one.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub bot_config_id: Option<Option<String>>,
    /// Live chat only.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<WidgetSettings>)]
    pub widget_settings: Option<Option<serde_json::Value>>,
    /// Live chat only.
    pub hmac_mandatory: Option<bool>,
    /// Live chat only: `https://host[:port]` origins.
    pub allowed_origins: Option<Vec<String>>,
    /// API channel only: an http(s) URL; `null` stops posting.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
    /// False turns the inbox off, true on again.
    pub enabled: Option<bool>,
}

impl From<InboxSettings> for InboxInput {
    fn from(s: InboxSettings) -> Self {
        InboxInput {
            name: s.name,
            greeting_enabled: s.greeting_enabled,
            greeting_message: s.greeting_message,
            enable_auto_assignment: s.enable_auto_assignment,
            working_hours: s.working_hours,
            csat_survey_enabled: s.csat_survey_enabled,
            csat_config: s.csat_config,
            bot_config_id: s.bot_config_id,
            widget_settings: s.widget_settings,
            hmac_mandatory: s.hmac_mandatory,
            allowed_origins: s.allowed_origins,
            webhook_url: s.webhook_url,
            enabled: s.enabled,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateInbox {
    /// `livechat` (or `webchat`) or `api`. A `whatsapp` inbox is made by connecting its number.
    #[schema(value_type = InboxChannel)]
    pub channel: Option<String>,
    #[serde(flatten)]
    pub settings: InboxSettings,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    page: Option<u64>,
    /// Default 25, at most 100.
    limit: Option<u64>,
}

/// List the organization's inboxes, oldest first (secrets are shown one inbox at a time).
#[utoipa::path(tag = "inboxes", security(("bearer" = [])), params(InboxQuery), responses((status = 200, body = InboxPage), (status = 400, body = crate::error::ErrorBody)))]
#[get("/inboxes")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<InboxQuery>) -> ApiResult<HttpResponse> {
    let (page, size, skip) = numbered(q.page, q.limit, 25)?;
    let (rows, total) = inboxes::list(state.db(), &caller.org_id, skip, size).await?;
    let data = rows.iter().map(|i| InboxView::of(i, false)).collect();
    Ok(HttpResponse::Ok().json(InboxPage { data, pagination: Pagination::new(page, size, total) }))
}

/// Create a live-chat or API inbox (admin only). A live-chat inbox gets its website token and
/// identity secret; an API inbox its webhook secret and its token, shown this once.
#[utoipa::path(
    tag = "inboxes",
    security(("bearer" = [])),
    request_body = CreateInbox,
    responses(
        (status = 201, body = Data<CreatedInbox>),
        (status = 400, description = "A field at fault", body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 422, description = "A WhatsApp inbox: connect its number instead", body = crate::error::ErrorBody),
    )
)]
#[post("/inboxes")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateInbox>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let created = inboxes::create(&state, &caller.org_id, b.channel.as_deref(), b.settings.into()).await?;
    let inbox = InboxView::of(&created.inbox, true);
    Ok(HttpResponse::Created().json(Data::new(CreatedInbox { inbox, api_token: created.api_token })))
}

/// Get an inbox; admins also see its secrets.
#[utoipa::path(
    tag = "inboxes",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Inbox id")),
    responses((status = 200, body = Data<InboxView>), (status = 404, body = crate::error::ErrorBody))
)]
#[get("/inboxes/{id}")]
pub async fn get_one(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let inbox = inboxes::get(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(InboxView::of(&inbox, caller.require_admin().is_ok()))))
}

/// Change an inbox's settings (admin only); settings of another channel are refused.
#[utoipa::path(
    tag = "inboxes",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Inbox id")),
    request_body = InboxSettings,
    responses(
        (status = 200, body = Data<InboxView>),
        (status = 400, description = "A field at fault", body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)
    )
)]
#[patch("/inboxes/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<InboxSettings>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let inbox = inboxes::update(&state, &caller.org_id, &id, body.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(Data::new(InboxView::of(&inbox, true))))
}

/// Delete an inbox (admin only). Its conversations and messages stay; a WhatsApp inbox's
/// number is disconnected.
#[utoipa::path(
    tag = "inboxes",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Inbox id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody))
)]
#[delete("/inboxes/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    inboxes::delete(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateSecret {
    /// `identity` (live chat), `webhook` or `apiToken` (API channel).
    pub secret: String,
}

/// Replace one of an inbox's secrets with a new one (admin only). The old one stops working at
/// once; a new API token is in the answer this once.
#[utoipa::path(
    tag = "inboxes",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Inbox id")),
    request_body = RotateSecret,
    responses(
        (status = 200, body = Data<CreatedInbox>),
        (status = 400, description = "Not a secret of this inbox's channel", body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)
    )
)]
#[post("/inboxes/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<RotateSecret>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let secret = inboxes::Secret::parse(&body.secret)?;
    let rotated = inboxes::rotate(&state, &caller.org_id, &id, secret).await?;
    let inbox = InboxView::of(&rotated.inbox, true);
    Ok(HttpResponse::Ok().json(Data::new(CreatedInbox { inbox, api_token: rotated.api_token })))
}
