//! MESSAGES-7..12: the outbox as admins see it: messages that failed or are still waiting to
//! be sent, their statistics, and retrying or discarding them one by one or in bulk. Every change
//! goes through the message's conversation actor.

use actix_web::{HttpResponse, get, post, web};
use actors::conversation::{Discard, Requeue};
use actors::views::MessageView;
use entities::enums::MessageStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::messages::own;
use crate::auth::Caller;
use crate::conversations::outbox::{self, FailedBulkResult, FailedMessage, FailedStats, MAX_BULK, Selection};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(stats).service(bulk_retry).service(bulk_discard).service(retry).service(discard);
}

pub use super::pagination::Pagination;

#[derive(Serialize, ToSchema)]
pub struct FailedPage {
    pub data: Vec<FailedMessage>,
    pub pagination: Pagination,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct FailedQuery {
    /// FAILED (default) or PENDING.
    status: Option<String>,
    /// `true`: only messages an admin discarded; `false` (default): only those not discarded.
    permanent: Option<bool>,
    /// Only template messages with this template name.
    template_name: Option<String>,
    /// Text, error message or error code contains this.
    search: Option<String>,
    /// 1-based page, default 1.
    page: Option<u64>,
    /// Default 25, at most 100.
    page_size: Option<u64>,
}

/// List failed (or pending) outbound messages, newest first (admin only).
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(FailedQuery),
    responses((status = 200, body = FailedPage), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody))
)]
#[get("/messages/failed")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<FailedQuery>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let status = match q.status.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("FAILED") => MessageStatus::Failed,
        Some("PENDING") => MessageStatus::Pending,
        Some(_) => return Err(ApiError::validation("status", "status must be FAILED or PENDING")),
    };
    let page = q.page.unwrap_or(1);
    let size = match q.page_size {
        None => 25,
        Some(0) => return Err(ApiError::validation("pageSize", "pageSize must be at least 1")),
        Some(n) => Ord::min(n, 100),
    };
    let skip = crate::api::pagination::offset(page, size)?;
    let filter = outbox::Filter {
        status,
        discarded: q.permanent.unwrap_or(false),
        template_name: q.template_name.clone(),
        search: q.search.clone(),
    };
    let (data, total) = outbox::list(state.db(), &caller.org_id, filter, skip, size).await?;
    let pagination = Pagination { page, limit: size, total, total_pages: total.div_ceil(size) };
    Ok(HttpResponse::Ok().json(FailedPage { data, pagination }))
}

/// Failed message statistics (admin only).
#[utoipa::path(tag = "messages", security(("bearer" = [])), responses((status = 200, body = Data<FailedStats>), (status = 403, body = crate::error::ErrorBody)))]
#[get("/messages/failed/stats")]
pub async fn stats(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(Data::new(outbox::stats(state.db(), &caller.org_id).await?)))
}

/// Send a failed message again, now (admin only).
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "Retried: sent, failed again, or pending a later retry", body = Data<MessageView>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Not a failed outbound message", body = crate::error::ErrorBody),
    )
)]
#[post("/messages/{id}/retry-send")]
pub async fn retry(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let m = own(&state, &caller, &id).await?;
    let msg = Requeue { org_id: caller.org_id.clone(), message_id: m.id.clone() };
    let view = state.rt.ask_conversation(&caller.org_id, &m.conversation_id, msg).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

/// Give up on a failed (or pending) message for good (admin only).
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses((status = 200, body = Data<MessageView>), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody))
)]
#[post("/messages/{id}/discard")]
pub async fn discard(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let m = own(&state, &caller, &id).await?;
    let msg = Discard { org_id: caller.org_id.clone(), message_id: m.id.clone() };
    let view = state.rt.ask_conversation(&caller.org_id, &m.conversation_id, msg).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

/// Which failed messages a bulk retry or discard takes: the ones named in `messageIds`, or, with
/// `all: true`, every failed message not yet discarded. One of the two is required, and unknown
/// fields are refused, so no body that is misread can ever mean "everything".
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailedBulkRequest {
    /// The messages (at most 500).
    pub message_ids: Option<Vec<String>>,
    /// `true`: every failed message of the organization not yet discarded (oldest first, at most
    /// 500 per request). Not together with `messageIds`.
    pub all: Option<bool>,
}

/// What a bulk body selects.
fn selection(body: FailedBulkRequest) -> ApiResult<Selection> {
    match (body.message_ids, body.all) {
        (Some(_), Some(true)) => Err(ApiError::validation("all", "give either messageIds or all: true, not both")),
        (Some(ids), _) if ids.is_empty() => Err(ApiError::validation("messageIds", "messageIds is empty")),
        (Some(ids), _) if ids.len() > MAX_BULK => {
            Err(ApiError::validation("messageIds", format!("at most {MAX_BULK} messages per request")))
        }
        (Some(ids), _) => Ok(Selection::Ids(ids)),
        (None, Some(true)) => Ok(Selection::AllFailed),
        (None, _) => Err(ApiError::validation(
            "messageIds",
            "name the messages in messageIds, or set all: true for every failed message",
        )),
    }
}

async fn bulk(
    state: &AppState,
    caller: &Caller,
    body: FailedBulkRequest,
    requeue: bool,
) -> ApiResult<FailedBulkResult> {
    caller.require_admin()?;
    Ok(outbox::bulk(&state.rt, &caller.org_id, selection(body)?, requeue).await?)
}

/// Retry several failed messages (admin only); reports each one.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    request_body(content = FailedBulkRequest, content_type = "application/json"),
    responses((status = 200, body = Data<FailedBulkResult>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody))
)]
#[post("/messages/failed/bulk-retry")]
pub async fn bulk_retry(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<FailedBulkRequest>,
) -> ApiResult<HttpResponse> {
    let r = bulk(&state, &caller, body.into_inner(), true).await?;
    Ok(HttpResponse::Ok().json(Data::new(r)))
}

/// Discard several failed messages (admin only); reports each one.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    request_body(content = FailedBulkRequest, content_type = "application/json"),
    responses((status = 200, body = Data<FailedBulkResult>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody))
)]
#[post("/messages/failed/bulk-discard")]
pub async fn bulk_discard(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<FailedBulkRequest>,
) -> ApiResult<HttpResponse> {
    let r = bulk(&state, &caller, body.into_inner(), false).await?;
    Ok(HttpResponse::Ok().json(Data::new(r)))
}
