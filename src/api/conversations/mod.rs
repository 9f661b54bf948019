//! The conversation endpoints of the runtime path: list, get, takeover, assign, unassign,
//! resolve, read (CONVERSATIONS-1, -7, -9, -12..15). Reads come from the database; every change
//! goes through the conversation's actor.

use actix_web::{HttpResponse, get, post, web};
use actors::conversation::{Assign, MarkRead, Takeover};
use actors::store;
use actors::views::ConversationView;
use entities::enums::ConversationStatus;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

mod insights;
mod list;
pub mod manage;

pub fn routes(cfg: &mut ServiceConfig) {
    // The fixed paths first: `/conversations/counts` is not a conversation id.
    cfg.service(insights::categories).service(insights::counts);
    cfg.service(list::list)
        .service(get_one)
        .service(manage::update)
        .service(manage::follow_up)
        .service(manage::clear_follow_up)
        .service(manage::return_to_bot)
        .service(manage::handoff_summary)
        .service(manage::re_route)
        .service(insights::contact_history)
        .service(takeover)
        .service(assign)
        .service(unassign)
        .service(resolve)
        .service(read);
}

pub fn parse_statuses(s: Option<&str>) -> ApiResult<Vec<ConversationStatus>> {
    let Some(s) = s.filter(|s| !s.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    s.split(',')
        .map(|p| {
            ConversationStatus::parse(p.trim()).ok_or_else(|| {
                ApiError::validation("status", format!("unknown status {:?}; expected BOT_HANDLING, HUMAN_HANDLING, OPEN, WAITING_FOR_CUSTOMER or CLOSED", p.trim()))
            })
        })
        .collect()
}

/// Renders conversations with their contacts and tags.
pub async fn views(
    state: &AppState,
    org_id: &str,
    rows: &[entities::conversation::Model],
) -> ApiResult<Vec<ConversationView>> {
    Ok(crate::conversations::read::views(state.db(), org_id, rows).await?)
}

/// Sends a change to the conversation's actor; answers with the conversation as it now stands.
async fn change<M>(state: &AppState, caller: &Caller, conversation_id: &str, msg: M) -> ApiResult<HttpResponse>
where
    M: actix::Message<Result = Result<ConversationView, actors::ActorError>>
        + actors::command::Forwardable<Out = ConversationView>,
    actors::ConversationActor: actix::Handler<M>,
{
    let view = state.rt.ask_conversation(&caller.org_id, conversation_id, msg).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

/// Loads a conversation of the caller's organization, or 404.
pub async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<entities::conversation::Model> {
    store::conversations::get(state.db(), &caller.org_id, id).await?.ok_or(ApiError::NotFound("conversation"))
}

/// Get a conversation.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Data<ConversationView>), (status = 404, body = crate::error::ErrorBody))
)]
#[get("/conversations/{id}")]
pub async fn get_one(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let conv = find(&state, &caller, &id).await?;
    let mut v = views(&state, &caller.org_id, std::slice::from_ref(&conv)).await?;
    let view = v.pop().ok_or(ApiError::NotFound("conversation"))?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

/// An agent takes the conversation over from the bot (or the queue): HUMAN_HANDLING, assigned
/// to the caller. From then on the bot does not speak in it until it is returned.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Data<ConversationView>), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "Closed", body = crate::error::ErrorBody))
)]
#[post("/conversations/{id}/takeover")]
pub async fn takeover(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let user_id = caller.require_user()?.to_owned();
    let conv = find(&state, &caller, &id).await?;
    change(&state, &caller, &conv.id, Takeover { org_id: caller.org_id.clone(), user_id }).await
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignRequest {
    /// The agent to assign. Agents may assign only themselves; admins anyone in the
    /// organization. Defaults to the caller.
    pub user_id: Option<String>,
}

/// Assign the conversation to an agent.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    request_body(content = AssignRequest, content_type = "application/json"),
    responses(
        (status = 200, body = Data<ConversationView>),
        (status = 403, description = "An agent assigning someone else", body = crate::error::ErrorBody),
        (status = 400, description = "userId names no active user of the organization", body = crate::error::ErrorBody),
        (status = 404, description = "No such conversation", body = crate::error::ErrorBody),
        (status = 409, description = "Closed", body = crate::error::ErrorBody),
    )
)]
#[post("/conversations/{id}/assign")]
pub async fn assign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: crate::api::body::OptionalJson<AssignRequest>,
) -> ApiResult<HttpResponse> {
    let target = match body.into_inner().and_then(|b| b.user_id) {
        Some(u) => u,
        None => caller.require_user()?.to_owned(),
    };
    if !caller.role.is_admin() && caller.user_id.as_deref() != Some(target.as_str()) {
        return Err(ApiError::Forbidden("agents can assign conversations only to themselves".into()));
    }
    let conv = find(&state, &caller, &id).await?;
    if super::auth::active_user(state.db(), &caller.org_id, &target).await?.is_none() {
        return Err(ApiError::validation("userId", "userId names no active user of this organization"));
    }
    change(&state, &caller, &conv.id, Assign { org_id: caller.org_id.clone(), user_id: Some(target) }).await
}

/// Release the conversation back to the queue.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Data<ConversationView>), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody))
)]
#[post("/conversations/{id}/unassign")]
pub async fn unassign(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let conv = find(&state, &caller, &id).await?;
    if !caller.role.is_admin() && conv.assigned_to.is_some() && conv.assigned_to != caller.user_id {
        return Err(ApiError::Forbidden("agents can release only their own conversations".into()));
    }
    change(&state, &caller, &conv.id, Assign { org_id: caller.org_id.clone(), user_id: None }).await
}

/// Resolve (close) the conversation. A customer who writes again opens a new one. When the
/// inbox's CSAT survey is on and its rule matches the conversation's tags, the customer is
/// sent the survey (on WhatsApp only inside the 24-hour window).
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Data<ConversationView>), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "Already closed", body = crate::error::ErrorBody))
)]
#[post("/conversations/{id}/resolve")]
pub async fn resolve(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let view = crate::csat::resolve(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

/// Mark the conversation read (unread count to zero).
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Data<ConversationView>), (status = 404, body = crate::error::ErrorBody))
)]
#[post("/conversations/{id}/read")]
pub async fn read(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let conv = find(&state, &caller, &id).await?;
    change(&state, &caller, &conv.id, MarkRead { org_id: caller.org_id.clone() }).await
}
