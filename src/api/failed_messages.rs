//! MESSAGES-7..12: the outbox as admins see it: messages that failed or are still waiting to
//! be sent, their statistics, and retrying or discarding them one by one or in bulk. Every change
//! goes through the message's conversation actor.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, post, web};
use actors::conversation::{Discard, Requeue};
use actors::views::MessageView;
use entities::enums::{Direction, MessageStatus};
use entities::{contact, conversation, message};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::messages::own;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(stats).service(bulk_retry).service(bulk_discard).service(retry).service(discard);
}

/// Most messages one bulk request may name.
const MAX_BULK: usize = 500;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedMessage {
    #[serde(flatten)]
    pub message: MessageView,
    /// The customer it was meant for.
    pub contact_wa_id: Option<String>,
    pub contact_name: Option<String>,
    pub discarded_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page: u64,
    pub limit: u64,
    pub total: u64,
    pub total_pages: u64,
}

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

fn outbound_of(org_id: &str) -> sea_orm::Select<message::Entity> {
    message::Entity::find()
        .filter(message::Column::OrgId.eq(org_id))
        .filter(message::Column::Direction.eq(Direction::Outbound.as_str()))
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
    let mut query = outbound_of(&caller.org_id).filter(message::Column::Status.eq(status.as_str()));
    query = if q.permanent.unwrap_or(false) {
        query.filter(message::Column::DiscardedAt.is_not_null())
    } else {
        query.filter(message::Column::DiscardedAt.is_null())
    };
    if let Some(name) = q.template_name.as_deref().filter(|n| !n.is_empty()) {
        query = query.filter(message::Column::MessageType.eq("template")).filter(actors::store::text::contains(
            (message::Entity, message::Column::Content),
            &format!("\"name\":\"{name}\""),
        ));
    }
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        query = query.filter(
            Condition::any()
                .add(actors::store::text::contains((message::Entity, message::Column::Text), s))
                .add(actors::store::text::contains((message::Entity, message::Column::ErrorMessage), s))
                .add(message::Column::ErrorCode.eq(s)),
        );
    }
    let total = query.clone().count(state.db()).await?;
    let rows = query.order_by_desc(message::Column::Id).offset(skip).limit(size).all(state.db()).await?;

    // The customers, in two queries for the whole page.
    let conv_ids: Vec<String> = rows.iter().map(|m| m.conversation_id.clone()).collect();
    let convs: HashMap<String, String> = conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(conv_ids))
        .all(state.db())
        .await?
        .into_iter()
        .map(|c| (c.id, c.contact_id))
        .collect();
    let contacts: HashMap<String, contact::Model> = contact::Entity::find()
        .filter(contact::Column::Id.is_in(convs.values().cloned().collect::<Vec<_>>()))
        .all(state.db())
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let data = rows
        .iter()
        .map(|m| {
            let c = convs.get(&m.conversation_id).and_then(|cid| contacts.get(cid));
            FailedMessage {
                message: MessageView::from(m),
                contact_wa_id: c.map(|c| c.wa_id.clone()),
                contact_name: c.and_then(|c| c.name.clone()),
                discarded_at: m.discarded_at,
            }
        })
        .collect();
    let pagination = Pagination { page, limit: size, total, total_pages: total.div_ceil(size) };
    Ok(HttpResponse::Ok().json(FailedPage { data, pagination }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedStats {
    /// Failed and not discarded: waiting for an admin's decision.
    pub failed: u64,
    /// In the outbox, being sent or retried.
    pub pending: u64,
    pub discarded: u64,
    /// Failed, not discarded, by provider error code, most frequent first.
    pub by_error_code: Vec<ErrorCount>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorCount {
    pub code: Option<String>,
    pub count: i64,
}

/// Failed message statistics (admin only).
#[utoipa::path(tag = "messages", security(("bearer" = [])), responses((status = 200, body = Data<FailedStats>), (status = 403, body = crate::error::ErrorBody)))]
#[get("/messages/failed/stats")]
pub async fn stats(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let failed = || outbound_of(&caller.org_id).filter(message::Column::Status.eq(MessageStatus::Failed.as_str()));
    let open_failed = failed().filter(message::Column::DiscardedAt.is_null()).count(state.db()).await?;
    let discarded = failed().filter(message::Column::DiscardedAt.is_not_null()).count(state.db()).await?;
    let pending = outbound_of(&caller.org_id)
        .filter(message::Column::Status.eq(MessageStatus::Pending.as_str()))
        .count(state.db())
        .await?;
    let by_code: Vec<(Option<String>, i64)> = failed()
        .filter(message::Column::DiscardedAt.is_null())
        .select_only()
        .column(message::Column::ErrorCode)
        .column_as(Expr::col(message::Column::Id).count(), "n")
        .group_by(message::Column::ErrorCode)
        .into_tuple()
        .all(state.db())
        .await?;
    let mut by_error_code: Vec<ErrorCount> =
        by_code.into_iter().map(|(code, count)| ErrorCount { code, count }).collect();
    by_error_code.sort_by_key(|e| std::cmp::Reverse(e.count));
    Ok(HttpResponse::Ok().json(Data::new(FailedStats { failed: open_failed, pending, discarded, by_error_code })))
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

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedBulkResult {
    /// Messages the action was applied to.
    pub succeeded: Vec<String>,
    /// Messages it could not be applied to, with why.
    pub failed: Vec<FailedBulkFailure>,
}

#[derive(Serialize, ToSchema)]
pub struct FailedBulkFailure {
    pub id: String,
    pub reason: String,
}

/// What a bulk body selects: `Some(ids)`, or `None` for every failed message.
fn selection(body: FailedBulkRequest) -> ApiResult<Option<Vec<String>>> {
    match (body.message_ids, body.all) {
        (Some(_), Some(true)) => Err(ApiError::validation("all", "give either messageIds or all: true, not both")),
        (Some(ids), _) if ids.is_empty() => Err(ApiError::validation("messageIds", "messageIds is empty")),
        (Some(ids), _) if ids.len() > MAX_BULK => {
            Err(ApiError::validation("messageIds", format!("at most {MAX_BULK} messages per request")))
        }
        (Some(ids), _) => Ok(Some(ids)),
        (None, Some(true)) => Ok(None),
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
    // The messages, in one query; each change then goes through its conversation's actor.
    let (ids, mut found): (Vec<String>, HashMap<String, message::Model>) = match selection(body)? {
        Some(ids) => {
            let rows = message::Entity::find()
                .filter(message::Column::OrgId.eq(caller.org_id.clone()))
                .filter(message::Column::Id.is_in(ids.clone()))
                .all(state.db())
                .await?;
            // An id that names no message of the organization is a fault of the request: nothing
            // is done (a message that is not failed is reported on its own below).
            if let Some(unknown) = ids.iter().find(|id| !rows.iter().any(|m| &m.id == *id)) {
                return Err(ApiError::validation(
                    "messageIds",
                    format!("messageIds holds {unknown}, which names no message of this organization"),
                ));
            }
            (ids, rows.into_iter().map(|m| (m.id.clone(), m)).collect())
        }
        None => {
            let rows = outbound_of(&caller.org_id)
                .filter(message::Column::Status.eq(MessageStatus::Failed.as_str()))
                .filter(message::Column::DiscardedAt.is_null())
                .order_by_asc(message::Column::Id)
                .limit(MAX_BULK as u64)
                .all(state.db())
                .await?;
            (rows.iter().map(|m| m.id.clone()).collect(), rows.into_iter().map(|m| (m.id.clone(), m)).collect())
        }
    };
    let mut result = FailedBulkResult { succeeded: Vec::new(), failed: Vec::new() };
    for id in ids {
        let outcome = match found.remove(&id) {
            None => Err(ApiError::NotFound("message")),
            Some(m) => {
                let (org, conv) = (caller.org_id.clone(), m.conversation_id.clone());
                let r = if requeue {
                    state.rt.ask_conversation(&org, &conv, Requeue { org_id: org.clone(), message_id: m.id }).await
                } else {
                    state.rt.ask_conversation(&org, &conv, Discard { org_id: org.clone(), message_id: m.id }).await
                };
                r.map_err(ApiError::from)
            }
        };
        match outcome {
            Ok(_) => result.succeeded.push(id),
            Err(e) => result.failed.push(FailedBulkFailure { id, reason: e.to_string() }),
        }
    }
    Ok(result)
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
