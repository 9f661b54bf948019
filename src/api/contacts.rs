//! CONTACTS-1..3: customers, searchable, by WhatsApp id, with a name and category agents can set.

use actix_web::{HttpResponse, get, patch, web};
use actors::events::EventName;
use actors::store::conversations::Page;
use actors::store::events::NewEvent;
use actors::views::ContactView;
use chrono::Utc;
use entities::{contact, conversation};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::pagination::{self, CursorPage};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
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
    let mut query = contact::Entity::find().filter(contact::Column::OrgId.eq(caller.org_id.clone()));
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let mut any = Condition::any().add(actors::store::text::contains((contact::Entity, contact::Column::Name), s));
        if !digits.is_empty() {
            any = any.add(contact::Column::WaId.contains(&digits));
        }
        query = query.filter(any);
    }
    let going_back = matches!(key, Some((Page::After, _)));
    let mut rows = match &key {
        Some((Page::After, k)) => {
            let mut r = query
                .filter(contact::Column::Id.gt(k.clone()))
                .order_by_asc(contact::Column::Id)
                .limit(limit + 1)
                .all(state.db())
                .await?;
            r.reverse();
            r
        }
        Some((Page::Before, k)) => {
            query
                .filter(contact::Column::Id.lt(k.clone()))
                .order_by_desc(contact::Column::Id)
                .limit(limit + 1)
                .all(state.db())
                .await?
        }
        None => query.order_by_desc(contact::Column::Id).limit(limit + 1).all(state.db()).await?,
    };
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

async fn find(state: &AppState, caller: &Caller, wa_id: &str) -> ApiResult<contact::Model> {
    actors::store::contacts::find_by_wa_id(state.db(), &caller.org_id, wa_id.trim_start_matches('+'))
        .await?
        .ok_or(ApiError::NotFound("contact"))
}

async fn detail(state: &AppState, c: &contact::Model) -> ApiResult<ContactDetail> {
    let convs = conversation::Entity::find().filter(conversation::Column::ContactId.eq(c.id.clone()));
    let conversation_count = convs.clone().count(state.db()).await?;
    let latest = convs.order_by_desc(conversation::Column::Id).one(state.db()).await?;
    Ok(ContactDetail {
        contact: ContactView::from(c),
        conversation_count,
        latest_conversation_id: latest.map(|l| l.id),
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

/// Get a contact by WhatsApp id (with or without `+`).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("waId" = String, Path, description = "WhatsApp id: the phone number in E.164 without +")),
    responses((status = 200, body = Data<ContactDetail>), (status = 404, body = crate::error::ErrorBody))
)]
#[get("/contacts/{waId}")]
pub async fn get_one(state: web::Data<AppState>, caller: Caller, wa_id: web::Path<String>) -> ApiResult<HttpResponse> {
    let c = find(&state, &caller, &wa_id).await?;
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
    params(("waId" = String, Path, description = "WhatsApp id")),
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
    let c = find(&state, &caller, &wa_id).await?;
    let c_profile = c.profile_name.clone();
    let mut am = c.into_active_model();
    let clean = |field: &str, v: &str, max: usize| -> ApiResult<Option<String>> {
        let v = v.trim();
        if v.chars().count() > max {
            return Err(ApiError::validation(field, format!("{field} is at most {max} characters")));
        }
        Ok((!v.is_empty()).then(|| v.to_owned()))
    };
    if let Some(name) = &body.name {
        // A name of one's own stays; clearing it goes back to the WhatsApp profile name.
        match clean("name", name, 200)? {
            Some(n) => {
                am.name = Set(Some(n));
                am.name_edited = Set(true);
            }
            None => {
                am.name = Set(c_profile.clone());
                am.name_edited = Set(false);
            }
        }
    }
    if let Some(category) = &body.category {
        am.category = Set(clean("category", category, 50)?);
    }
    am.updated_at = Set(Utc::now());
    let txn = state.rt.db.begin_write().await?;
    let c = am.update(&*txn).await?;
    let payload = serde_json::to_string(&ContactView::from(&c)).unwrap_or_default();
    let event = NewEvent { conversation: None, name: EventName::ContactUpdated, payload };
    state.rt.commit(txn, &caller.org_id, vec![event]).await?;
    // The contact's open conversations hold it in their actors: they read it again, so their
    // next events do not bring the old name back.
    let open = entities::conversation::Entity::find()
        .filter(entities::conversation::Column::OrgId.eq(caller.org_id.clone()))
        .filter(entities::conversation::Column::ContactId.eq(c.id.clone()))
        .filter(entities::conversation::Column::Status.ne(entities::enums::ConversationStatus::Closed.as_str()))
        .all(state.db())
        .await?;
    for conv in open {
        let refresh = actors::conversation::RefreshContact { org_id: caller.org_id.clone() };
        if let Err(e) = state.rt.ask_conversation(&caller.org_id, &conv.id, refresh).await {
            tracing::warn!(conversation_id = %conv.id, error = %e, "contact not refreshed in its conversation");
        }
    }
    Ok(HttpResponse::Ok().json(Data::new(detail(&state, &c).await?)))
}
