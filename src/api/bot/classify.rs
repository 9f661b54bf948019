//! CONVERSATIONS-4/5: classify conversations with the model and route them again
//! (`bot::classify` does it).

use actix_web::{HttpResponse, post, web};
use entities::enums::ConversationStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::auth::Caller;
use crate::bot::classify::{self, Classified};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(bulk).service(one);
}

/// Classify one conversation with the model and route it again.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = String, Path, description = "Conversation id")), responses((status = 200, body = Data<Classified>), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "Closed, no active bot config, or no categories", body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
#[post("/conversations/{id}/re-classify")]
pub async fn one(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let conv = crate::api::conversations::find(&state, &caller, &id).await?;
    if conv.status == ConversationStatus::Closed {
        return Err(ApiError::Conflict("the conversation is closed".into()));
    }
    Ok(HttpResponse::Ok().json(Data::new(classify::conversation(&state, &caller.org_id, &conv).await?)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReclassifyRequest {
    /// Only conversations without a category.
    pub only_uncategorized: Option<bool>,
    /// At most this many (newest first); default 100, at most 500.
    pub limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReclassifyReport {
    pub processed: usize,
    pub changed: usize,
    pub failed: usize,
    pub results: Vec<Classified>,
}

/// Classify and route again every open conversation (admins).
#[utoipa::path(tag = "conversations", security(("bearer" = [])), request_body = ReclassifyRequest, responses((status = 200, body = Data<ReclassifyReport>), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/conversations/re-classify")]
pub async fn bulk(
    state: web::Data<AppState>,
    caller: Caller,
    body: crate::api::body::OptionalJson<ReclassifyRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner().unwrap_or_default();
    let only = b.only_uncategorized == Some(true);
    let (results, failed) = classify::open_conversations(&state, &caller.org_id, only, b.limit.unwrap_or(100)).await?;
    let changed = results.iter().filter(|r| r.changed).count();
    Ok(HttpResponse::Ok().json(Data::new(ReclassifyReport {
        processed: results.len() + failed,
        changed,
        failed,
        results,
    })))
}
