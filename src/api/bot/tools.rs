//! BOT-TOOLS-1..8: HTTP tools the bot (and agents) can call, and agent-tools: the model fills a
//! tool's parameters from the conversation, an agent runs it. Targets are checked against
//! private and loopback addresses when saved (literal addresses and `localhost`) and again at
//! every call (after resolving), unless the admin allowed the host on the tool.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::Utc;
use entities::bot_tool;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::auth::Caller;
use crate::bot::tools::{self, Param, ToolResult};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(agent_tools)
        .service(extract_params)
        .service(execute)
        .service(list)
        .service(create)
        .service(remove)
        .service(update)
        .service(test);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub method: String,
    pub url: String,
    #[schema(value_type = Object)]
    pub headers: Value,
    pub parameters: Vec<Param>,
    pub body_template: Option<String>,
    pub timeout_ms: i32,
    /// Hosts allowed even though they are private or loopback.
    pub allowed_hosts: Vec<String>,
    /// A secret is set (it is never shown).
    pub has_secret: bool,
    pub is_active: bool,
    pub agent_enabled: bool,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<&bot_tool::Model> for ToolView {
    fn from(t: &bot_tool::Model) -> Self {
        ToolView {
            id: t.id.clone(),
            name: t.name.clone(),
            description: t.description.clone(),
            method: t.method.clone(),
            url: t.url.clone(),
            headers: serde_json::from_str(&t.headers).unwrap_or(json!({})),
            parameters: tools::params_of(t),
            body_template: t.body_template.clone(),
            timeout_ms: t.timeout_ms,
            allowed_hosts: serde_json::from_str(&t.allowed_hosts).unwrap_or_default(),
            has_secret: t.secret.is_some(),
            is_active: t.is_active,
            agent_enabled: t.agent_enabled,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolBody {
    /// `[a-z0-9_]`, unique in the organization: the name the model calls it by.
    pub name: Option<String>,
    pub description: Option<String>,
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: Option<String>,
    /// `{param}` placeholders are filled (URL-encoded) from the arguments.
    pub url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub headers: Option<Map<String, Value>>,
    pub parameters: Option<Vec<Param>>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub body_template: Option<Option<String>>,
    pub timeout_ms: Option<i32>,
    pub allowed_hosts: Option<Vec<String>>,
    /// Write-only; null or "" removes it.
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub secret: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub agent_enabled: Option<bool>,
}

impl From<ToolBody> for tools::Fields {
    fn from(b: ToolBody) -> Self {
        tools::Fields {
            name: b.name,
            description: b.description,
            method: b.method,
            url: b.url,
            headers: b.headers,
            parameters: b.parameters,
            body_template: b.body_template,
            timeout_ms: b.timeout_ms,
            allowed_hosts: b.allowed_hosts,
            secret: b.secret,
            is_active: b.is_active,
            agent_enabled: b.agent_enabled,
        }
    }
}

/// The organization's tools.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<ToolView>>)))]
#[get("/tools")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = tools::list(state.db(), &caller.org_id, false).await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(ToolView::from).collect::<Vec<_>>())))
}

/// Create a tool.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = ToolBody, responses((status = 201, body = Data<ToolView>), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/tools")]
pub async fn create(state: web::Data<AppState>, caller: Caller, body: web::Json<ToolBody>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = tools::create(state.db(), &state.secrets, &caller.org_id, body.into_inner().into()).await?;
    Ok(HttpResponse::Created().json(Data::new(ToolView::from(&t))))
}

/// Change a tool.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), request_body = ToolBody, responses((status = 200, body = Data<ToolView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[put("/tools/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<ToolBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = tools::update(state.db(), &state.secrets, &caller.org_id, &id, body.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(Data::new(ToolView::from(&t))))
}

/// Delete a tool.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/tools/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    tools::delete(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct TestToolBody {
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
}

/// Call a tool with example parameters and show what it answered.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), request_body = TestToolBody, responses((status = 200, body = Data<ToolResult>), (status = 404, body = crate::error::ErrorBody)))]
#[post("/tools/{id}/test")]
pub async fn test(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<TestToolBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = crate::domain::find_in_org::<bot_tool::Entity>(state.db(), &caller.org_id, &id).await?;
    let result = tools::call(&state.secrets, &t, &body.into_inner().params.unwrap_or_default()).await;
    Ok(HttpResponse::Ok().json(Data::new(result)))
}

/// Active tools agents may run from the inbox.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<ToolView>>)))]
#[get("/agent-tools")]
pub async fn agent_tools(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = tools::list(state.db(), &caller.org_id, true).await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(ToolView::from).collect::<Vec<_>>())))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExtractBody {
    pub tool_id: Option<String>,
    pub conversation_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Extracted {
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
    /// Required parameters the conversation does not tell.
    pub missing: Vec<String>,
}

/// Fill a tool's parameters from the conversation with the model, for the agent to check.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = ExtractBody, responses((status = 200, body = Data<Extracted>), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "No active bot config", body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
#[post("/agent-tools/extract-params")]
pub async fn extract_params(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ExtractBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let t = tools::for_agent(state.db(), &caller.org_id, b.tool_id.as_deref()).await?;
    let cid = b.conversation_id.ok_or_else(|| ApiError::validation("conversationId", "conversationId is required"))?;
    let conv = crate::api::conversations::find(&state, &caller, &cid)
        .await
        .map_err(crate::api::refs::named_by("conversationId"))?;
    let (params, missing) = tools::extract_params(&state, &caller.org_id, &t, &conv.id).await?;
    Ok(HttpResponse::Ok().json(Data::new(Extracted { params, missing })))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteBody {
    pub tool_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
    pub conversation_id: Option<String>,
}

/// Run a tool as an agent; with a conversation, the run is noted on its timeline.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = ExecuteBody, responses((status = 200, body = Data<ToolResult>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[post("/agent-tools/execute")]
pub async fn execute(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ExecuteBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let t = tools::for_agent(state.db(), &caller.org_id, b.tool_id.as_deref()).await?;
    let conv = match &b.conversation_id {
        Some(id) => Some(
            crate::api::conversations::find(&state, &caller, id)
                .await
                .map_err(crate::api::refs::named_by("conversationId"))?,
        ),
        None => None,
    };
    let params = b.params.unwrap_or_default();
    let result = tools::run_for_agent(&state, &t, &params, caller.user_id.as_deref(), conv.as_ref()).await?;
    Ok(HttpResponse::Ok().json(Data::new(result)))
}
