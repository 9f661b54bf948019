//! BOT-INTENTS-1..5: the intents of a bot config (the current one, or `configId`), in order.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::Utc;
use entities::{bot_intent, bot_tool};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use super::configs::ConfigQuery;
use crate::auth::Caller;
use crate::bot::config;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(reorder).service(update).service(remove);
}

pub const ACTIONS: &[&str] = &["ANSWER", "REPLY", "HANDOFF", "TOOL"];

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

async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<bot_intent::Model> {
    bot_intent::Entity::find_by_id(id.to_owned())
        .filter(bot_intent::Column::OrgId.eq(caller.org_id.clone()))
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("intent"))
}

/// Checks an intent as it would be stored, including that its tool is the organization's.
async fn check(state: &AppState, caller: &Caller, i: &bot_intent::Model) -> ApiResult<()> {
    check_fields(i)?;
    if let Some(t) = &i.tool_id {
        let found = bot_tool::Entity::find_by_id(t.clone())
            .filter(bot_tool::Column::OrgId.eq(caller.org_id.clone()))
            .one(state.db())
            .await?;
        if found.is_none() {
            return Err(ApiError::validation("toolId", "no such tool"));
        }
    }
    Ok(())
}

/// Checks an intent's own fields (the API and imports).
pub fn check_fields(i: &bot_intent::Model) -> ApiResult<()> {
    if i.name.trim().is_empty() || i.name.chars().count() > 100 {
        return Err(ApiError::validation("name", "name is required and at most 100 characters"));
    }
    if !ACTIONS.contains(&i.action.as_str()) {
        return Err(ApiError::validation("action", format!("action must be one of {}", ACTIONS.join(", "))));
    }
    let examples: Vec<String> = serde_json::from_str(&i.examples).unwrap_or_default();
    if examples.len() > 100 || examples.iter().any(|e| e.trim().is_empty() || e.chars().count() > 500) {
        return Err(ApiError::validation("examples", "up to 100 non-empty examples of at most 500 characters"));
    }
    if i.action == "REPLY" && i.response.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(ApiError::validation("response", "a REPLY intent needs a response"));
    }
    if i.tool_id.is_none() && i.action == "TOOL" {
        return Err(ApiError::validation("toolId", "a TOOL intent needs a toolId"));
    }
    Ok(())
}

/// The config's intents, in order.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(ConfigQuery), responses((status = 200, body = Data<Vec<IntentView>>)))]
#[get("/bot-config/intents")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<ConfigQuery>) -> ApiResult<HttpResponse> {
    let c = config::current(state.db(), &caller.org_id, q.config_id.as_deref()).await?;
    let rows = bot_intent::Entity::find()
        .filter(bot_intent::Column::ConfigId.eq(c.id))
        .order_by_asc(bot_intent::Column::Position)
        .all(state.db())
        .await?;
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
    let count = sea_orm::PaginatorTrait::count(
        bot_intent::Entity::find().filter(bot_intent::Column::ConfigId.eq(c.id.clone())),
        state.db(),
    )
    .await?;
    let now = Utc::now();
    let i = bot_intent::Model {
        id: actors::new_id(),
        org_id: caller.org_id.clone(),
        config_id: c.id,
        name: b.name.unwrap_or_default().trim().to_owned(),
        description: b.description.flatten(),
        examples: serde_json::to_string(&b.examples.unwrap_or_default()).unwrap_or_default(),
        action: b.action.unwrap_or_else(|| "ANSWER".into()).to_uppercase(),
        response: b.response.flatten(),
        tool_id: b.tool_id.flatten(),
        position: count as i32,
        is_active: b.is_active.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    check(&state, &caller, &i).await?;
    let i = bot_intent::ActiveModel::from(i).insert(state.db()).await?;
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
    let mut i = find(&state, &caller, &id).await?;
    if b.config_id.as_deref().is_some_and(|c| c != i.config_id) {
        return Err(ApiError::validation(
            "configId",
            "an intent stays in its config: configId must be the intent's own",
        ));
    }
    if let Some(n) = b.name {
        i.name = n.trim().to_owned();
    }
    if let Some(d) = b.description {
        i.description = d;
    }
    if let Some(e) = b.examples {
        i.examples = serde_json::to_string(&e).unwrap_or_default();
    }
    if let Some(a) = b.action {
        i.action = a.to_uppercase();
    }
    if let Some(r) = b.response {
        i.response = r;
    }
    if let Some(t) = b.tool_id {
        i.tool_id = t;
    }
    if let Some(a) = b.is_active {
        i.is_active = a;
    }
    i.updated_at = Utc::now();
    check(&state, &caller, &i).await?;
    let i = bot_intent::ActiveModel::from(i).reset_all().update(state.db()).await?;
    Ok(HttpResponse::Ok().json(Data::new(IntentView::from(&i))))
}

/// Delete an intent.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/bot-config/intents/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let i = find(&state, &caller, &id).await?;
    bot_intent::Entity::delete_by_id(i.id).exec(state.db()).await?;
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
    let first = find(&state, &caller, &ids[0]).await.map_err(|_| ApiError::validation("ids", "unknown intent id"))?;
    let txn = state.rt.db.begin_write().await?;
    let all =
        bot_intent::Entity::find().filter(bot_intent::Column::ConfigId.eq(first.config_id.clone())).all(&*txn).await?;
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != ids.len() || ids.len() != all.len() || !all.iter().all(|i| ids.contains(&i.id)) {
        return Err(ApiError::validation("ids", "ids must list every intent of the config exactly once"));
    }
    let mut out = Vec::new();
    for (pos, id) in ids.iter().enumerate() {
        let Some(i) = all.iter().find(|i| &i.id == id) else { continue };
        let mut am = i.clone().into_active_model();
        am.position = Set(pos as i32);
        out.push(am.update(&*txn).await?);
    }
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(Data::new(out.iter().map(IntentView::from).collect::<Vec<_>>())))
}
