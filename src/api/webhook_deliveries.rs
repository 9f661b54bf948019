//! An API inbox's webhook delivery log (admins): list, one with its tries, replay, and turning
//! the webhook on again after it was turned off for failing. (No screen yet: the API only.)

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::pagination::{Pagination, numbered};
use crate::auth::Caller;
use crate::channels::api::deliveries::{self, DeliveryDetail, DeliveryView, WebhookState};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(get_one).service(replay).service(enable);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    page: Option<u64>,
    /// Default 25, at most 100.
    limit: Option<u64>,
    /// `pending`, `delivered` or `failed`.
    status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    pub data: Vec<DeliveryView>,
    pub pagination: Pagination,
}

/// List the inbox's webhook deliveries, newest first (admin only).
#[utoipa::path(
    tag = "api-channel",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Inbox id"), DeliveryQuery),
    responses(
        (status = 200, body = DeliveryPage),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "Not an API inbox", body = crate::error::ErrorBody)
    )
)]
#[get("/inboxes/{id}/webhook-deliveries")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<DeliveryQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let (page, size, skip) = numbered(q.page, q.limit, 25)?;
    let (data, total) = deliveries::list(state.db(), &caller.org_id, &id, q.status.as_deref(), skip, size).await?;
    Ok(HttpResponse::Ok().json(DeliveryPage { data, pagination: Pagination::new(page, size, total) }))
}

/// Get one delivery with its data and every try (admin only).
#[utoipa::path(
    tag = "api-channel",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Inbox id"), ("deliveryId" = String, Path, description = "Delivery id")),
    responses(
        (status = 200, body = Data<DeliveryDetail>),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "Not an API inbox", body = crate::error::ErrorBody)
    )
)]
#[get("/inboxes/{id}/webhook-deliveries/{deliveryId}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let (id, delivery_id) = path.into_inner();
    let detail = deliveries::get(state.db(), &caller.org_id, &id, &delivery_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail)))
}

/// Send a delivery again now (admin only); its tries go on counting in the log.
#[utoipa::path(
    tag = "api-channel",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Inbox id"), ("deliveryId" = String, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued to be sent now", body = Data<DeliveryView>),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Being sent right now", body = crate::error::ErrorBody),
        (status = 422, description = "Not an API inbox", body = crate::error::ErrorBody)
    )
)]
#[post("/inboxes/{id}/webhook-deliveries/{deliveryId}/replay")]
pub async fn replay(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let (id, delivery_id) = path.into_inner();
    let view = deliveries::replay(state.db(), &state.webhook_wake, &caller.org_id, &id, &delivery_id).await?;
    Ok(HttpResponse::Accepted().json(Data::new(view)))
}

/// Turn the inbox's webhook on again after it was turned off for failing (admin only): the
/// waiting deliveries go out now.
#[utoipa::path(
    tag = "api-channel",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Inbox id")),
    responses(
        (status = 200, body = Data<WebhookState>),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "Not an API inbox", body = crate::error::ErrorBody)
    )
)]
#[post("/inboxes/{id}/webhook/enable")]
pub async fn enable(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let webhook = deliveries::enable(state.db(), &state.webhook_wake, &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(webhook)))
}
