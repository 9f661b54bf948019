//! CONVERSATIONS-2, -3, -18: the categories in use, the sub-filter counts of the list, and a
//! contact's other conversations.

use actix_web::{HttpResponse, get, web};
use actors::views::ConversationView;
use entities::conversation;
use entities::enums::ConversationStatus;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{find, parse_statuses, views};
use crate::api::Data;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CategoryCount {
    pub category: String,
    pub count: i64,
}

/// The categories conversations have, with how many have each, most used first.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), responses((status = 200, body = Data<Vec<CategoryCount>>)))]
#[get("/conversations/categories")]
pub async fn categories(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows: Vec<(Option<String>, i64)> = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(caller.org_id.clone()))
        .filter(conversation::Column::Category.is_not_null())
        .select_only()
        .column(conversation::Column::Category)
        .column_as(Expr::col(conversation::Column::Id).count(), "n")
        .group_by(conversation::Column::Category)
        .into_tuple()
        .all(state.db())
        .await?;
    let mut out: Vec<CategoryCount> =
        rows.into_iter().filter_map(|(c, count)| Some(CategoryCount { category: c?, count })).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.category.cmp(&b.category)));
    Ok(HttpResponse::Ok().json(Data::new(out)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct CountsQuery {
    /// One status or several, comma-separated.
    status: Option<String>,
    /// A user id, `me`, or `unassigned`.
    assigned_to: Option<String>,
    /// Only this category.
    category: Option<String>,
    /// Team filter; teams arrive with the routing issue, until then no conversation has a team.
    team_id: Option<String>,
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

/// How many conversations the list's sub-filters hold.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(CountsQuery), responses((status = 200, body = Data<Counts>), (status = 400, body = crate::error::ErrorBody)))]
#[get("/conversations/counts")]
pub async fn counts(state: web::Data<AppState>, caller: Caller, q: web::Query<CountsQuery>) -> ApiResult<HttpResponse> {
    let statuses = parse_statuses(q.status.as_deref())?;
    let mut base = conversation::Entity::find().filter(conversation::Column::OrgId.eq(caller.org_id.clone()));
    if !statuses.is_empty() {
        base = base.filter(conversation::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    match q.assigned_to.as_deref() {
        None | Some("") => {}
        Some("unassigned") => base = base.filter(conversation::Column::AssignedTo.is_null()),
        Some("me") => {
            base = base.filter(conversation::Column::AssignedTo.eq(caller.user_id.clone().unwrap_or_default()))
        }
        Some(id) => base = base.filter(conversation::Column::AssignedTo.eq(id)),
    }
    if let Some(c) = q.category.as_deref().filter(|c| !c.is_empty()) {
        base = base.filter(conversation::Column::Category.eq(c));
    }
    if q.team_id.as_deref().is_some_and(|t| !t.is_empty()) {
        // No conversation belongs to a team yet.
        base = base.filter(Expr::val(1).eq(0));
    }
    if q.origin.as_deref().is_some_and(|o| !o.is_empty() && o != "whatsapp") {
        // Every conversation so far came in through WhatsApp.
        base = base.filter(Expr::val(1).eq(0));
    }
    let all = base.clone().count(state.db()).await?;
    let unread = base.clone().filter(conversation::Column::UnreadCount.gt(0)).count(state.db()).await?;
    let needs_action = base
        .filter(
            conversation::Column::Status
                .is_in([ConversationStatus::HumanHandling.as_str(), ConversationStatus::Open.as_str()]),
        )
        .filter(conversation::Column::AwaitingReply.eq(true))
        .count(state.db())
        .await?;
    Ok(HttpResponse::Ok().json(Data::new(Counts { all, unread, needs_action })))
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
    let rows = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(caller.org_id.clone()))
        .filter(conversation::Column::ContactId.eq(conv.contact_id.clone()))
        .filter(conversation::Column::Id.ne(conv.id.clone()))
        .order_by_desc(conversation::Column::Id)
        .limit(100)
        .all(state.db())
        .await?;
    Ok(HttpResponse::Ok().json(Data::new(views(&state, &caller.org_id, &rows).await?)))
}
