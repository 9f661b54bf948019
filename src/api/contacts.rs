//! CONTACTS-1..3: customers, searchable, by WhatsApp id, with a name and category agents can set.

use actix_web::{HttpResponse, get, patch, web};
use actors::store::conversations::Page;
use actors::views::ContactView;
use chrono::Utc;
use entities::contact;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::pagination::{self, CursorPage};
use crate::auth::Caller;
use crate::contacts;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(get_one).service(update);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Name, phone or WhatsApp id contains this.
    search: Option<String>,
    cursor: Option<String>,
    /// Default 50, at most 100.
    limit: Option<u64>,
}

/// List or search contacts, newest first.
#[utoipa::path(tag = "contacts", security(("bearer" = [])), params(ContactQuery), responses((status = 200, body = CursorPage<ContactView>), (status = 400, body = crate::error::ErrorBody)))]
#[get("/contacts")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<ContactQuery>) -> ApiResult<HttpResponse> {
    let key = pagination::decode(q.cursor.as_deref())?;
    let limit = pagination::limit(q.limit)?;
    let going_back = matches!(key, Some((Page::After, _)));
    let mut rows = contacts::page(state.db(), &caller.org_id, q.search.as_deref(), key.as_ref(), limit).await?;
    let w = pagination::window(&mut rows, limit, key.as_ref().map(|(p, _)| *p), going_back);
    let next_cursor = rows.last().filter(|_| w.next).map(|c| pagination::encode(Page::Before, &c.id));
    let prev_cursor = rows.first().filter(|_| w.prev).map(|c| pagination::encode(Page::After, &c.id));
    Ok(HttpResponse::Ok().json(CursorPage {
        data: rows.iter().map(ContactView::from).collect::<Vec<_>>(),
        next_cursor,
        prev_cursor,
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactDetail {
    #[serde(flatten)]
    pub contact: ContactView,
    /// How many conversations the contact has had.
    pub conversation_count: u64,
    /// The newest of them.
    pub latest_conversation_id: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

async fn detail(state: &AppState, c: &contact::Model) -> ApiResult<ContactDetail> {
    let (conversation_count, latest_conversation_id) = contacts::conversations_of(state.db(), c).await?;
    Ok(ContactDetail {
        contact: ContactView::from(c),
        conversation_count,
        latest_conversation_id,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

/// Get a contact by WhatsApp id (with or without `+`), or by contact id for a customer who is
/// not on WhatsApp.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("waId" = String, Path, description = "WhatsApp id: the phone number in E.164 without + (or with it); for a customer not on WhatsApp, the contact id")),
    responses((status = 200, body = Data<ContactDetail>), (status = 404, body = crate::error::ErrorBody))
)]
#[get("/contacts/{waId}")]
pub async fn get_one(state: web::Data<AppState>, caller: Caller, wa_id: web::Path<String>) -> ApiResult<HttpResponse> {
    let c = contacts::by_key(state.db(), &caller.org_id, &wa_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &c).await?)))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateContact {
    /// New display name; empty clears it.
    pub name: Option<String>,
    /// New category; empty clears it.
    pub category: Option<String>,
}

/// Update a contact's name or category.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("waId" = String, Path, description = "WhatsApp id, or the contact id for a customer not on WhatsApp")),
    request_body = UpdateContact,
    responses((status = 200, body = Data<ContactDetail>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody))
)]
#[patch("/contacts/{waId}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    wa_id: web::Path<String>,
    body: web::Json<UpdateContact>,
) -> ApiResult<HttpResponse> {
    let c = contacts::by_key(state.db(), &caller.org_id, &wa_id).await?;
    let c = contacts::update(&state.rt, c, body.name.as_deref(), body.category.as_deref()).await?;
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &c).await?)))
}
