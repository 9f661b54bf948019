//! BOT-INTENTS-1..5: the intents of a bot config (the current one, or `configId`), in order.

use actix_web::{HttpResponse, delete, get, post, put, web};
use entities::bot_intent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use super::configs::ConfigQuery;
use crate::auth::Caller;
use crate::bot::{config, intents};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(reorder).service(update).service(remove);
}

#[derive(Serialize, Deserialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub struct IntentView {
    pub id: String,
    pub config_id: String,
    pub name: String,
    pub description: Option<String>,
    pub examples: Vec<String>,
    /// `ANSWER` (the model answers, from knowledge), `REPLY` (the fixed `response`), `HANDOFF`, `TOOL`.
    pub action: String,
    pub response: Option<String>,
    pub tool_id: Option<String>,
    pub position: i32,
    pub is_active: bool,
}

impl From<&bot_intent::Model> for IntentView {
    fn from(i: &bot_intent::Model) -> Self {
        IntentView {
            id: i.id.clone(),
            config_id: i.config_id.clone(),
            name: i.name.clone(),
            description: i.description.clone(),
            examples: serde_json::from_str(&i.examples).unwrap_or_default(),
            action: i.action.clone(),
            response: i.response.clone(),
            tool_id: i.tool_id.clone(),
            position: i.position,
            is_active: i.is_active,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntentBody {
    pub config_id: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub examples: Option<Vec<String>>,
    pub action: Option<String>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub response: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub tool_id: Option<Option<String>>,
    pub is_active: Option<bool>,
}

impl From<IntentBody> for intents::Fields {
    fn from(b: IntentBody) -> Self {
        intents::Fields {
            name: b.name,
            description: b.description,
            examples: b.examples,
            action: b.action,
            response: b.response,
            tool_id: b.tool_id,
            is_active: b.is_active,
        }
    }
}

/// The config's intents, in order.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(ConfigQuery), responses((status = 200, body = Data<Vec<IntentView>>)))]
#[get("/bot-config/intents")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<ConfigQuery>) -> ApiResult<HttpResponse> {
    let c = config::current(state.db(), &caller.org_id, q.config_id.as_deref()).await?;
    let rows = intents::of_config(state.db(), &c.id).await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(IntentView::from).collect::<Vec<_>>())))
}

/// Add an intent at the end of the config's list.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = IntentBody, responses((status = 201, body = Data<IntentView>), (status = 400, body = crate::error::ErrorBody)))]
#[post("/bot-config/intents")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<IntentBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let c = config::current(state.db(), &caller.org_id, b.config_id.as_deref())
        .await
        .map_err(crate::api::refs::named_by_if(b.config_id.is_some(), "configId"))?;
    let i = intents::create(state.db(), &c, b.into()).await?;
    Ok(HttpResponse::Created().json(Data::new(IntentView::from(&i))))
}

/// Change an intent.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), request_body = IntentBody, responses((status = 200, body = Data<IntentView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[put("/bot-config/intents/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<IntentBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    if let Some(config_id) = b.config_id.as_deref() {
        let i = intents::find(state.db(), &caller.org_id, &id).await?;
        if config_id != i.config_id {
            return Err(ApiError::validation(
                "configId",
                "an intent stays in its config: configId must be the intent's own",
            ));
        }
    }
    let i = intents::update(state.db(), &caller.org_id, &id, b.into()).await?;
    Ok(HttpResponse::Ok().json(Data::new(IntentView::from(&i))))
}

/// Delete an intent.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/bot-config/intents/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    intents::delete(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderBody {
    /// Every intent id of one config, in the new order.
    pub ids: Option<Vec<String>>,
}

/// Put a config's intents in a new order (all of them, each once).
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = ReorderBody, responses((status = 200, body = Data<Vec<IntentView>>), (status = 400, body = crate::error::ErrorBody)))]
#[put("/bot-config/intents/reorder")]
pub async fn reorder(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ReorderBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let ids = body.into_inner().ids.filter(|i| !i.is_empty());
    let ids = ids.ok_or_else(|| ApiError::validation("ids", "ids is required"))?;
    let out = intents::reorder(&state.rt, &caller.org_id, ids).await?;
    Ok(HttpResponse::Ok().json(Data::new(out.iter().map(IntentView::from).collect::<Vec<_>>())))
}
