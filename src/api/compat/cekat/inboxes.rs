//! The Cekat inbox list (seed 000): `GET /api/inboxes?page=&limit=` in the
//! `{success, data, metadata.pagination}` shape.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::envelope::{self, CekatCaller, CekatErrorBody, CekatResult};
use crate::api::pagination::numbered;
use crate::inboxes::{self, Inbox};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 10;

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Page number, from 1 (default 1).
    page: Option<String>,
    /// Inboxes per page, at least 1 (default 10; more than 100 gives 100).
    limit: Option<String>,
}

/// An inbox as the Cekat API shows it.
#[derive(Serialize, ToSchema)]
pub struct CekatInbox {
    pub id: String,
    pub name: String,
    /// `whatsapp`, `livechat` or `api` (this product's API channel).
    #[serde(rename = "type")]
    pub kind: String,
    /// `active`, or `inactive` when the inbox is disabled or its WhatsApp number disconnected.
    pub status: String,
    /// Always null: this product has no flows.
    pub flow_id: Option<String>,
    pub flow_mode: bool,
    pub flow_name: Option<String>,
    /// The bot config that answers the inbox's customers.
    pub ai_agent_id: Option<String>,
    pub ai_agent_name: Option<String>,
    /// Whether conversations are assigned to agents automatically.
    pub auto_reassign: bool,
    /// The WhatsApp number's digits (WhatsApp inboxes only).
    pub phone_number: Option<String>,
    /// The organization.
    pub business_id: String,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct CekatPageNumbers {
    pub total_page: u64,
    pub total_items: u64,
    pub current_page: u64,
}

#[derive(Serialize, ToSchema)]
pub struct CekatPageNumbersMetadata {
    pub pagination: CekatPageNumbers,
}

/// `{success, data, metadata: {pagination}}`.
#[derive(Serialize, ToSchema)]
pub struct CekatInboxPage {
    pub success: bool,
    pub data: Vec<CekatInbox>,
    pub metadata: CekatPageNumbersMetadata,
}

fn view(i: Inbox, bot: Option<&entities::bot_config::Model>) -> CekatInbox {
    let status = if i.is_active() { "active" } else { "inactive" };
    let phone_number = i
        .account
        .as_ref()
        .and_then(|a| a.display_phone_number.as_deref())
        .map(|d| d.chars().filter(char::is_ascii_digit).collect::<String>());
    CekatInbox {
        status: status.into(),
        id: i.model.id,
        name: i.model.name,
        kind: i.model.channel.to_string(),
        flow_id: None,
        flow_mode: false,
        flow_name: None,
        ai_agent_id: bot.map(|b| b.id.clone()),
        ai_agent_name: bot.map(|b| b.name.clone()),
        auto_reassign: i.model.enable_auto_assignment,
        phone_number,
        business_id: i.model.org_id,
        created_at: i.model.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, false),
    }
}

/// The organization's inboxes, a page at a time (oldest first).
#[utoipa::path(
    tag = "compat-cekat",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = CekatInboxPage),
        (status = 400, description = "`page` or `limit` is not a whole number, or is 0 (`error.details.field`)", body = CekatErrorBody),
        (status = 401, body = CekatErrorBody),
    )
)]
#[get("/api/inboxes")]
pub async fn list(
    state: web::Data<AppState>,
    CekatCaller(caller): CekatCaller,
    req: HttpRequest,
) -> CekatResult<HttpResponse> {
    let q: ListQuery = envelope::query(&req)?;
    let page = envelope::integer("page", q.page.as_deref())?;
    let limit = envelope::integer("limit", q.limit.as_deref())?;
    let (page, limit, skip) = numbered(page, limit, DEFAULT_LIMIT)?;
    let listed = inboxes::list_with_bot(state.db(), &caller.org_id, skip, limit).await?;
    let bots = &listed.answering;
    Ok(HttpResponse::Ok().json(CekatInboxPage {
        success: true,
        data: listed
            .inboxes
            .into_iter()
            .map(|i| {
                let bot = bots.get(&i.model.id);
                view(i, bot)
            })
            .collect(),
        metadata: CekatPageNumbersMetadata {
            pagination: CekatPageNumbers {
                total_page: listed.total.div_ceil(limit),
                total_items: listed.total,
                current_page: page,
            },
        },
    }))
}
