//! CONVERSATIONS-2, -3, -18: the categories in use, the sub-filter counts of the list, and a
//! contact's other conversations.

use actix_web::{HttpResponse, get, web};
use actors::views::ConversationView;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use actors::store::conversation_list;

use super::find;
use crate::api::Data;
use crate::auth::Caller;
use crate::conversations::read;
use crate::error::ApiResult;
use crate::state::AppState;

pub use crate::conversations::read::CategoryCount;

/// The categories conversations have, with how many have each, most used first.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), responses((status = 200, body = Data<Vec<CategoryCount>>)))]
#[get("/conversations/categories")]
pub async fn categories(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let out = read::categories(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(out)))
}

/// The query words of `/counts` (the list's words are accepted too).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
#[allow(non_snake_case)]
pub struct CountsParams {
    /// One status or several, comma-separated.
    status: Option<String>,
    /// A user id, `me`, or `unassigned`.
    assignedTo: Option<String>,
    /// Only this category.
    category: Option<String>,
    /// Team filter; teams arrive with the routing issue, until then no conversation has a team.
    teamId: Option<String>,
    /// Channel of the inbox (`whatsapp`).
    origin: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub all: u64,
    /// With messages nobody has read.
    pub unread: u64,
    /// Open, with a human, and the customer spoke last: someone owes them a reply.
    pub needs_action: u64,
}

/// How many conversations the list's sub-filters hold: the list's own filter, counted.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(CountsParams), responses((status = 200, body = Data<Counts>), (status = 400, body = crate::error::ErrorBody)))]
#[get("/conversations/counts")]
pub async fn counts(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<Vec<(String, String)>>,
) -> ApiResult<HttpResponse> {
    let mut pairs = q.into_inner();
    for (k, _) in pairs.iter_mut() {
        if k == "origin" {
            *k = "channel".into();
        }
    }
    let (filter, _, _) = super::list::parse(&caller, &pairs)?;
    let c = conversation_list::counts(state.db(), &caller.org_id, &filter).await?;
    Ok(HttpResponse::Ok().json(Data::new(Counts { all: c.all, unread: c.unread, needs_action: c.needs_action })))
}

/// The contact's other conversations, newest first.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Data<Vec<ConversationView>>), (status = 404, body = crate::error::ErrorBody))
)]
#[get("/conversations/{id}/contact-history")]
pub async fn contact_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let conv = find(&state, &caller, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(read::contact_history(state.db(), &conv).await?)))
}
