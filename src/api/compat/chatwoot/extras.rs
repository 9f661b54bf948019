//! What hangs off an inbox in this API (seed 002): its agent bot (a bot config of the
//! organization), its avatar, its campaigns, and for a WhatsApp inbox its template sync and
//! its number's health.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::envelope::{ChatwootCaller, ChatwootErrorBody, ChatwootResult};
use super::inboxes::InboxPath;
use crate::api::nullable;
use crate::campaigns;
use crate::channels::whatsapp::health::AccountHealth;
use crate::error::ApiError;
use crate::inboxes::{self, InboxInput};
use crate::state::AppState;

/// The bot config that answers the inbox, as Chatwoot's agent bot.
#[derive(Serialize, ToSchema)]
pub struct ChatwootAgentBot {
    /// The bot config's id.
    pub id: String,
    pub name: String,
    /// Always null: bot configs have no description.
    pub description: Option<String>,
}

/// An empty JSON object, `{}`.
#[derive(Serialize, ToSchema)]
pub struct ChatwootEmpty {}

/// The inbox's agent bot: the bot config it names, its native `botConfigId` (`404 Agent bot
/// not found` when none).
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(InboxPath),
    responses(
        (status = 200, body = ChatwootAgentBot),
        (status = 401, body = ChatwootErrorBody),
        (status = 404, description = "`Inbox not found`, `Agent bot not found`, or another account", body = ChatwootErrorBody),
    )
)]
#[get("/inboxes/{id}/agent_bot")]
pub async fn agent_bot(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    path: web::Path<InboxPath>,
) -> ChatwootResult<HttpResponse> {
    let bot = inboxes::bot(&state, &caller.org_id, &path.id).await?.ok_or(ApiError::NotFound("agent bot"))?;
    Ok(HttpResponse::Ok().json(ChatwootAgentBot { id: bot.id, name: bot.name, description: None }))
}

/// `{"agent_bot": id}`; `null` removes the bot.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatwootSetAgentBot {
    /// A bot config of the organization, or null.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub agent_bot: Option<Option<String>>,
}

/// Set the inbox's agent bot (admin only): a bot config of the organization, or `null` to
/// remove it. It is the inbox's `botConfigId` of the native API: that config answers the inbox's
/// customers instead of the organization's active one.
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(InboxPath),
    request_body = ChatwootSetAgentBot,
    responses(
        (status = 200, body = ChatwootEmpty),
        (status = 400, description = "`agent_bot` is missing, or names no bot config of the organization", body = ChatwootErrorBody),
        (status = 401, body = ChatwootErrorBody),
        (status = 403, body = ChatwootErrorBody),
        (status = 404, description = "`Inbox not found`, or another account", body = ChatwootErrorBody),
    )
)]
#[post("/inboxes/{id}/set_agent_bot")]
pub async fn set_agent_bot(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    path: web::Path<InboxPath>,
    body: web::Json<ChatwootSetAgentBot>,
) -> ChatwootResult<HttpResponse> {
    caller.require_admin()?;
    let bot = body.into_inner().agent_bot.ok_or_else(|| {
        ApiError::validation("agent_bot", "agent_bot is required: a bot config id, or null to remove the bot")
    })?;
    let input = InboxInput { bot_config_id: Some(bot), ..InboxInput::default() };
    inboxes::update(&state, &caller.org_id, &path.id, input).await?;
    Ok(HttpResponse::Ok().json(ChatwootEmpty {}))
}

/// The inbox's avatar image (what `avatar_url` points to).
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(InboxPath),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 401, body = ChatwootErrorBody),
        (status = 404, description = "No such inbox, or no avatar", body = ChatwootErrorBody),
    )
)]
#[get("/inboxes/{id}/avatar")]
pub async fn avatar(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    path: web::Path<InboxPath>,
) -> ChatwootResult<HttpResponse> {
    let (bytes, content_type) = inboxes::avatar::get(&state, &caller.org_id, &path.id).await?;
    Ok(HttpResponse::Ok().content_type(content_type).body(bytes))
}

/// Remove the inbox's avatar image (admin only); nothing to remove is not an error.
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(InboxPath),
    responses(
        (status = 200, body = ChatwootEmpty),
        (status = 401, body = ChatwootErrorBody),
        (status = 403, body = ChatwootErrorBody),
        (status = 404, description = "`Inbox not found`, or another account", body = ChatwootErrorBody),
    )
)]
#[delete("/inboxes/{id}/avatar")]
pub async fn delete_avatar(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    path: web::Path<InboxPath>,
) -> ChatwootResult<HttpResponse> {
    caller.require_admin()?;
    inboxes::avatar::remove(&state, &caller.org_id, &path.id).await?;
    Ok(HttpResponse::Ok().json(ChatwootEmpty {}))
}

/// A campaign that sends from the inbox (one template to many recipients).
#[derive(Serialize, ToSchema)]
pub struct ChatwootCampaign {
    pub id: String,
    /// The campaign's name.
    pub title: String,
    /// Always `one_off`: a campaign sends once, now or at `scheduled_at`.
    pub campaign_type: String,
    /// `active` until it completes or is cancelled, then `completed`.
    pub campaign_status: String,
    /// False while paused, and once over.
    pub enabled: bool,
    /// This server's status: `scheduled`, `running`, `paused`, `completed` or `cancelled`.
    pub status: String,
    pub inbox_id: String,
    /// The WhatsApp template it sends, and its language.
    pub template_name: String,
    pub language: String,
    /// How many recipients.
    pub audience_size: i32,
    pub scheduled_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn campaign(c: entities::campaign::Model) -> ChatwootCampaign {
    use entities::enums::CampaignStatus as S;
    let over = matches!(c.status, S::Completed | S::Cancelled);
    ChatwootCampaign {
        id: c.id,
        title: c.name,
        campaign_type: "one_off".into(),
        campaign_status: if over { "completed" } else { "active" }.into(),
        enabled: !over && c.status != S::Paused,
        status: c.status.as_str().to_lowercase(),
        inbox_id: c.inbox_id,
        template_name: c.template_name,
        language: c.language,
        audience_size: c.total,
        scheduled_at: c.scheduled_at,
        created_at: c.created_at,
    }
}

/// The campaigns that send from the inbox, newest first (a bare array).
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(InboxPath),
    responses(
        (status = 200, body = Vec<ChatwootCampaign>),
        (status = 401, body = ChatwootErrorBody),
        (status = 404, description = "`Inbox not found`, or another account", body = ChatwootErrorBody),
    )
)]
#[get("/inboxes/{id}/campaigns")]
pub async fn inbox_campaigns(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    path: web::Path<InboxPath>,
) -> ChatwootResult<HttpResponse> {
    let inbox = inboxes::get(&state, &caller.org_id, &path.id).await?;
    let rows = campaigns::of_inbox(state.db(), &caller.org_id, &inbox.model.id).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(campaign).collect::<Vec<_>>()))
}

/// What a template sync did.
#[derive(Serialize, ToSchema)]
pub struct ChatwootSyncReport {
    /// Templates Meta has that were not here.
    pub created: usize,
    /// Templates whose status, category, quality or components changed.
    pub updated: usize,
    pub unchanged: usize,
    /// Templates Meta no longer has.
    pub removed: usize,
    /// Why Meta could not be asked, if it could not.
    pub errors: Vec<String>,
}

/// Sync the message templates of a WhatsApp inbox's business account from Meta (admin only).
/// Template sync is only available for WhatsApp channels: any other inbox is 422.
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(InboxPath),
    responses(
        (status = 200, body = ChatwootSyncReport),
        (status = 401, body = ChatwootErrorBody),
        (status = 403, body = ChatwootErrorBody),
        (status = 404, description = "`Inbox not found`, or another account", body = ChatwootErrorBody),
        (status = 422, description = "Not a WhatsApp inbox", body = ChatwootErrorBody),
    )
)]
#[post("/inboxes/{id}/sync_templates")]
pub async fn sync_templates(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    path: web::Path<InboxPath>,
) -> ChatwootResult<HttpResponse> {
    caller.require_admin()?;
    let r = inboxes::whatsapp::sync_templates(&state, &caller.org_id, &path.id).await?;
    let errors = r.failed.into_iter().map(|f| f.reason).collect();
    let (created, updated, unchanged, removed) = (r.created, r.updated, r.unchanged, r.removed);
    Ok(HttpResponse::Ok().json(ChatwootSyncReport { created, updated, unchanged, removed, errors }))
}

/// A WhatsApp number's health in the seed's words.
#[derive(Serialize, ToSchema)]
pub struct ChatwootHealth {
    /// `healthy`; `degraded` (quality yellow, sending limited, number flagged); `unhealthy`
    /// (quality red, account blocked, number restricted or banned); `unknown` (never checked).
    pub status: String,
    /// Meta's quality rating, lower-cased: `green`, `yellow`, `red`, `unknown`.
    pub quality_rating: Option<String>,
    /// Meta's messaging limit tier, lower-cased: `tier_250`, `tier_1k` … `tier_unlimited`.
    pub messaging_limit: Option<String>,
}

impl From<AccountHealth> for ChatwootHealth {
    fn from(h: AccountHealth) -> Self {
        let up = |v: &Option<String>| v.as_deref().map(str::to_uppercase).unwrap_or_default();
        let (quality, standing, phone) = (up(&h.quality_rating), up(&h.can_send_message), up(&h.phone_status));
        let status = if h.checked_at.is_none() {
            "unknown"
        } else if quality == "RED" || standing == "BLOCKED" || ["RESTRICTED", "BANNED"].contains(&phone.as_str()) {
            "unhealthy"
        } else if quality == "YELLOW" || standing == "LIMITED" || phone == "FLAGGED" {
            "degraded"
        } else {
            "healthy"
        };
        ChatwootHealth {
            status: status.into(),
            quality_rating: h.quality_rating.map(|q| q.to_lowercase()),
            messaging_limit: h.messaging_limit_tier.map(|t| t.to_lowercase()),
        }
    }
}

/// The health of a WhatsApp inbox's number (Meta's figures, reused for a minute); any other
/// inbox is 422.
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(InboxPath),
    responses(
        (status = 200, body = ChatwootHealth),
        (status = 401, body = ChatwootErrorBody),
        (status = 404, description = "`Inbox not found`, or another account", body = ChatwootErrorBody),
        (status = 422, description = "Not a WhatsApp inbox", body = ChatwootErrorBody),
    )
)]
#[get("/inboxes/{id}/health")]
pub async fn health(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    path: web::Path<InboxPath>,
) -> ChatwootResult<HttpResponse> {
    let h = inboxes::whatsapp::health(&state, &caller.org_id, &path.id).await?;
    Ok(HttpResponse::Ok().json(ChatwootHealth::from(h)))
}
