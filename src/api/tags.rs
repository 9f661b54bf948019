//! TAGS-1..7: organization tags with a fixed color palette, and tags on conversations. Tagging
//! a conversation goes through its actor; deleting a tag removes it from every conversation.

use actix_web::{HttpResponse, delete, get, post, put, web};
use actors::conversation::{AddTag, RemoveTag};
use actors::events::EventName;
use actors::store::events::NewEvent;
use actors::views::{ConversationView, TagView};
use chrono::Utc;
use entities::{conversation_tag, tag};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(colors)
        .service(create)
        .service(update)
        .service(remove)
        .service(add_to_conversation)
        .service(remove_from_conversation);
}

/// The palette tags are colored from.
pub const PALETTE: &[(&str, &str)] = &[
    ("gray", "#6B7280"),
    ("red", "#EF4444"),
    ("orange", "#F97316"),
    ("amber", "#F59E0B"),
    ("green", "#22C55E"),
    ("teal", "#14B8A6"),
    ("blue", "#3B82F6"),
    ("indigo", "#6366F1"),
    ("purple", "#A855F7"),
    ("pink", "#EC4899"),
];

#[derive(Serialize, ToSchema)]
pub struct TagColor {
    pub name: &'static str,
    pub hex: &'static str,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TagDetail {
    pub id: String,
    pub name: String,
    /// A palette color name.
    pub color: String,
    /// The color as hex.
    pub hex: String,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<&tag::Model> for TagDetail {
    fn from(t: &tag::Model) -> Self {
        TagDetail {
            id: t.id.clone(),
            name: t.name.clone(),
            color: t.color.clone(),
            hex: PALETTE.iter().find(|(n, _)| *n == t.color).map(|(_, h)| (*h).to_owned()).unwrap_or_default(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct TagRequest {
    pub name: Option<String>,
    /// A palette color name (see `/tags/colors`); default `gray`.
    pub color: Option<String>,
}

fn tag_name(name: &str) -> ApiResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 50 {
        return Err(ApiError::validation("name", "name is required and at most 50 characters"));
    }
    Ok(n.to_owned())
}

fn tag_color(color: &str) -> ApiResult<String> {
    let c = color.trim().to_lowercase();
    if PALETTE.iter().any(|(n, _)| *n == c) {
        Ok(c)
    } else {
        Err(ApiError::validation(
            "color",
            format!("color must be one of {}", PALETTE.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")),
        ))
    }
}

/// Refuses a name another tag of the organization has (case-insensitively).
async fn ensure_unique(state: &AppState, caller: &Caller, name: &str, except: Option<&str>) -> ApiResult<()> {
    let all = tag::Entity::find().filter(tag::Column::OrgId.eq(caller.org_id.clone())).all(state.db()).await?;
    // Any case in all of Unicode (at least as strict as either database's `lower()` in the index).
    let wanted = name.to_lowercase();
    if all.iter().any(|t| t.name.to_lowercase() == wanted && Some(t.id.as_str()) != except) {
        return Err(ApiError::Conflict(format!("a tag named {name:?} already exists")));
    }
    Ok(())
}

/// Announces an organization-level tag change on the event stream.
async fn announce(state: &AppState, org_id: &str, name: EventName, payload: serde_json::Value) -> ApiResult<()> {
    let txn = state.rt.db.begin_write().await?;
    let events = actors::store::events::append(
        &*txn,
        org_id,
        vec![NewEvent { conversation: None, name, payload: payload.to_string() }],
    )
    .await?;
    txn.commit().await?;
    state.rt.publish(events);
    Ok(())
}

/// List the organization's tags, by name.
#[utoipa::path(tag = "tags", security(("bearer" = [])), responses((status = 200, body = Data<Vec<TagDetail>>)))]
#[get("/tags")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let mut tags = tag::Entity::find().filter(tag::Column::OrgId.eq(caller.org_id.clone())).all(state.db()).await?;
    // By name in any case, the same on every database (their collations differ).
    tags.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.id.cmp(&b.id)));
    Ok(HttpResponse::Ok().json(Data::new(tags.iter().map(TagDetail::from).collect::<Vec<_>>())))
}

/// The color palette.
#[utoipa::path(tag = "tags", security(("bearer" = [])), responses((status = 200, body = Data<Vec<TagColor>>)))]
#[get("/tags/colors")]
pub async fn colors(_caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(Data::new(PALETTE.iter().map(|(name, hex)| TagColor { name, hex }).collect::<Vec<_>>()))
}

/// Create a tag.
#[utoipa::path(
    tag = "tags",
    security(("bearer" = [])),
    request_body = TagRequest,
    responses((status = 201, body = Data<TagDetail>), (status = 400, body = crate::error::ErrorBody), (status = 409, description = "Name taken", body = crate::error::ErrorBody))
)]
#[post("/tags")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TagRequest>,
) -> ApiResult<HttpResponse> {
    let name = tag_name(body.name.as_deref().unwrap_or_default())?;
    let color = tag_color(body.color.as_deref().unwrap_or("gray"))?;
    ensure_unique(&state, &caller, &name, None).await?;
    let now = Utc::now();
    let t = tag::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(caller.org_id.clone()),
        name: Set(name),
        color: Set(color),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(state.db())
    .await?;
    announce(
        &state,
        &caller.org_id,
        EventName::TagCreated,
        serde_json::to_value(TagView::from(&t)).unwrap_or_default(),
    )
    .await?;
    Ok(HttpResponse::Created().json(Data::new(TagDetail::from(&t))))
}

/// Rename or recolor a tag.
#[utoipa::path(
    tag = "tags",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Tag id")),
    request_body = TagRequest,
    responses((status = 200, body = Data<TagDetail>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody))
)]
#[put("/tags/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<TagRequest>,
) -> ApiResult<HttpResponse> {
    let t = actors::store::tags::get(state.db(), &caller.org_id, &id).await?.ok_or(ApiError::NotFound("tag"))?;
    let mut am = t.into_active_model();
    if let Some(name) = &body.name {
        let name = tag_name(name)?;
        ensure_unique(&state, &caller, &name, Some(&id)).await?;
        am.name = Set(name);
    }
    if let Some(color) = &body.color {
        am.color = Set(tag_color(color)?);
    }
    am.updated_at = Set(Utc::now());
    let t = am.update(state.db()).await?;
    announce(
        &state,
        &caller.org_id,
        EventName::TagUpdated,
        serde_json::to_value(TagView::from(&t)).unwrap_or_default(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(Data::new(TagDetail::from(&t))))
}

/// Delete a tag; it is removed from every conversation that had it.
#[utoipa::path(
    tag = "tags",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Tag id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody))
)]
#[delete("/tags/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let t = actors::store::tags::get(state.db(), &caller.org_id, &id).await?.ok_or(ApiError::NotFound("tag"))?;
    let txn = state.rt.db.begin_write().await?;
    let links =
        conversation_tag::Entity::find().filter(conversation_tag::Column::TagId.eq(t.id.clone())).all(&*txn).await?;
    conversation_tag::Entity::delete_many()
        .filter(conversation_tag::Column::TagId.eq(t.id.clone()))
        .exec(&*txn)
        .await?;
    tag::Entity::delete_by_id(t.id.clone()).exec(&*txn).await?;
    let payload = serde_json::json!({ "id": t.id, "conversationIds": links.iter().map(|l| &l.conversation_id).collect::<Vec<_>>() });
    let events = actors::store::events::append(
        &*txn,
        &caller.org_id,
        vec![NewEvent { conversation: None, name: EventName::TagDeleted, payload: payload.to_string() }],
    )
    .await?;
    txn.commit().await?;
    state.rt.publish(events);
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddTagRequest {
    pub tag_id: String,
}

/// Add a tag to a conversation.
#[utoipa::path(
    tag = "tags",
    security(("bearer" = [])),
    params(("conversationId" = String, Path, description = "Conversation id")),
    request_body = AddTagRequest,
    responses(
        (status = 200, body = Data<ConversationView>),
        (status = 400, description = "tagId names no tag of the organization", body = crate::error::ErrorBody),
        (status = 404, description = "No such conversation", body = crate::error::ErrorBody)
    )
)]
#[post("/conversations/{conversationId}/tags")]
pub async fn add_to_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<AddTagRequest>,
) -> ApiResult<HttpResponse> {
    let conv = super::conversations::find(&state, &caller, &path).await?;
    super::refs::require(state.db(), &caller.org_id, "tagId", super::refs::Kind::Tag, &body.tag_id).await?;
    let msg = AddTag { org_id: caller.org_id.clone(), tag_id: body.tag_id.clone() };
    let view = state.rt.ask_conversation(&caller.org_id, &conv.id, msg).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}

/// Remove a tag from a conversation.
#[utoipa::path(
    tag = "tags",
    security(("bearer" = [])),
    params(("conversationId" = String, Path, description = "Conversation id"), ("tagId" = String, Path, description = "Tag id")),
    responses((status = 200, body = Data<ConversationView>), (status = 404, description = "No such conversation, or the tag is not on it", body = crate::error::ErrorBody))
)]
#[delete("/conversations/{conversationId}/tags/{tagId}")]
pub async fn remove_from_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (conversation_id, tag_id) = path.into_inner();
    let conv = super::conversations::find(&state, &caller, &conversation_id).await?;
    let msg = RemoveTag { org_id: caller.org_id.clone(), tag_id };
    let view = state.rt.ask_conversation(&caller.org_id, &conv.id, msg).await?;
    Ok(HttpResponse::Ok().json(Data::new(view)))
}
