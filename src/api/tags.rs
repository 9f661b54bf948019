//! TAGS-1..7: organization tags with a fixed color palette, and tags on conversations. Tagging
//! a conversation goes through its actor; deleting a tag removes it from every conversation.

use actix_web::{HttpResponse, delete, get, post, put, web};
use actors::conversation::{AddTag, RemoveTag};
use actors::views::ConversationView;
use chrono::Utc;
use entities::tag;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::workspace::tags::{self, TagInput};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(colors)
        .service(create)
        .service(update)
        .service(remove)
        .service(add_to_conversation)
        .service(remove_from_conversation);
}

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
            hex: tags::hex_of(&t.color).to_owned(),
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

impl From<TagRequest> for TagInput {
    fn from(r: TagRequest) -> Self {
        TagInput { name: r.name, color: r.color }
    }
}

/// List the organization's tags, by name.
#[utoipa::path(tag = "tags", security(("bearer" = [])), responses((status = 200, body = Data<Vec<TagDetail>>)))]
#[get("/tags")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let all = tags::list(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(all.iter().map(TagDetail::from).collect::<Vec<_>>())))
}

/// The color palette.
#[utoipa::path(tag = "tags", security(("bearer" = [])), responses((status = 200, body = Data<Vec<TagColor>>)))]
#[get("/tags/colors")]
pub async fn colors(_caller: Caller) -> HttpResponse {
    HttpResponse::Ok()
        .json(Data::new(tags::PALETTE.iter().map(|(name, hex)| TagColor { name, hex }).collect::<Vec<_>>()))
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
    let t = tags::create(&state.rt, &caller.org_id, body.into_inner().into()).await?;
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
    let t = tags::update(&state.rt, &caller.org_id, &id, body.into_inner().into()).await?;
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
    tags::delete(&state.rt, &caller.org_id, &id).await?;
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
