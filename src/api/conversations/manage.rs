//! CONVERSATIONS-8, -10, -11, -16, -17: set status, assignee or category directly; hand a
//! conversation back to the bot with a summary (and preview one); follow-up marks.

use actix_web::{HttpResponse, delete, patch, post, web};
use actors::conversation::{FollowUp, ReturnToBot};
use actors::store;
use actors::views::ConversationView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{change, find, parse_statuses};
use crate::api::Data;
use crate::auth::Caller;
use crate::conversations::manage;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use crate::api::nullable;
pub use crate::bot::summary::summarize;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateConversation {
    /// New status; CLOSED resolves, BOT_HANDLING returns to the bot, OPEN reopens a closed one.
    pub status: Option<String>,
    /// Agent to assign, or `null` to release to the queue.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub assigned_to: Option<Option<String>>,
    /// Category, or `null` to clear it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// Team that owns the conversation, or `null` for none. A queued conversation is then
    /// offered to that team's available agents.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub team_id: Option<Option<String>>,
}

/// Update status, assignment, category or team. Transitions the state machine refuses are 409.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    request_body = UpdateConversation,
    responses(
        (status = 200, body = Data<ConversationView>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, description = "An agent assigning someone else", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "A transition the state machine refuses", body = crate::error::ErrorBody),
    )
)]
#[patch("/conversations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<UpdateConversation>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    // One status: a list or an empty string is a mistake to report, not to half-apply.
    let status = match body.status.as_deref() {
        Some(s) => match parse_statuses(Some(s))?.as_slice() {
            [one] => Some(*one),
            _ => {
                return Err(ApiError::validation(
                    "status",
                    "status is one of BOT_HANDLING, HUMAN_HANDLING, OPEN, WAITING_FOR_CUSTOMER or CLOSED",
                ));
            }
        },
        None => None,
    };
    let asker = manage::Asker { is_admin: caller.role.is_admin(), user_id: caller.user_id.as_deref() };
    let changes =
        manage::Changes { status, assigned_to: body.assigned_to, category: body.category, team_id: body.team_id };
    let view = manage::update(&state, &caller.org_id, asker, &id, changes).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct FollowUpRequest {
    /// Why it needs a follow-up.
    pub note: Option<String>,
}

/// Mark the conversation for follow-up.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    request_body(content = FollowUpRequest, content_type = "application/json"),
    responses((status = 200, body = Data<ConversationView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody))
)]
#[post("/conversations/{id}/follow-up")]
pub async fn follow_up(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: crate::api::body::OptionalJson<FollowUpRequest>,
) -> ApiResult<HttpResponse> {
    let note = body.into_inner().and_then(|b| b.note).map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::validation("note", "note is at most 2000 characters"));
    }
    let conv = find(&state, &caller, &id).await?;
    let msg = FollowUp { org_id: caller.org_id.clone(), set: true, by: caller.user_id.clone(), note };
    change(&state, &caller, &conv.id, msg).await
}

/// Remove the follow-up mark.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Data<ConversationView>), (status = 404, body = crate::error::ErrorBody))
)]
#[delete("/conversations/{id}/follow-up")]
pub async fn clear_follow_up(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let conv = find(&state, &caller, &id).await?;
    change(&state, &caller, &conv.id, FollowUp { org_id: caller.org_id.clone(), set: false, by: None, note: None })
        .await
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct ReturnToBotRequest {
    /// What the bot should know to carry on; shown on the conversation and given to the bot.
    pub handoff_summary: Option<String>,
}

/// Hand the conversation back to the bot: BOT_HANDLING, unassigned, with the agent's summary.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    request_body(content = ReturnToBotRequest, content_type = "application/json"),
    responses(
        (status = 200, body = Data<ConversationView>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Closed, or the bot already has it", body = crate::error::ErrorBody),
    )
)]
#[post("/conversations/{id}/return-to-bot")]
pub async fn return_to_bot(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: crate::api::body::OptionalJson<ReturnToBotRequest>,
) -> ApiResult<HttpResponse> {
    let summary =
        body.into_inner().and_then(|b| b.handoff_summary).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if summary.as_ref().is_some_and(|s| s.chars().count() > 4000) {
        return Err(ApiError::validation("handoffSummary", "handoffSummary is at most 4000 characters"));
    }
    let conv = find(&state, &caller, &id).await?;
    change(&state, &caller, &conv.id, ReturnToBot { org_id: caller.org_id.clone(), handoff_summary: summary }).await
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffSummary {
    pub summary: String,
    /// `model`: written by the active bot config's model; `recent-messages`: built from the
    /// latest messages without a model (no active config, or the model could not answer).
    pub source: &'static str,
    /// Messages the summary looked at.
    pub message_count: usize,
}

/// Messages a summary looks back at.
const SUMMARY_WINDOW: u64 = 12;

/// Preview a handoff summary of the recent messages, for the agent to edit before
/// return-to-bot.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Data<HandoffSummary>), (status = 404, body = crate::error::ErrorBody))
)]
#[post("/conversations/{id}/generate-handoff-summary")]
pub async fn handoff_summary(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let conv = find(&state, &caller, &id).await?;
    let contact = store::contacts::get(state.db(), &caller.org_id, &conv.contact_id).await?;
    let messages = store::messages::page(state.db(), &conv.id, None, SUMMARY_WINDOW).await?;
    let name = contact.as_ref().map(|c| c.display_name());
    let status = conv.status;
    let (summary, source) = match state.bot.model_summary(&caller.org_id, &conv.id).await {
        Some(s) => (s, "model"),
        None => (summarize(name.as_deref(), status, &messages), "recent-messages"),
    };
    Ok(HttpResponse::Ok().json(Data::new(HandoffSummary { summary, source, message_count: messages.len() })))
}

/// Evaluate the routing rules again for this conversation and set the team they choose (the
/// default team when none matches). The answer says which rule matched and whether the team
/// changed; a queued conversation is then offered to the new team's available agents.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, body = Data<actors::conversation::Rerouted>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "The conversation is closed", body = crate::error::ErrorBody),
    )
)]
#[post("/conversations/{id}/re-route")]
pub async fn re_route(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let conv = find(&state, &caller, &id).await?;
    let msg = actors::conversation::Reroute { org_id: caller.org_id.clone() };
    let out = state.rt.ask_conversation(&caller.org_id, &conv.id, msg).await?;
    Ok(HttpResponse::Ok().json(Data::new(out)))
}
