//! BOT-TOOLS-1..8: HTTP tools the bot (and agents) can call, and agent-tools: the model fills a
//! tool's parameters from the conversation, an agent runs it. Targets are checked against
//! private and loopback addresses when saved (literal addresses and `localhost`) and again at
//! every call (after resolving), unless the admin allowed the host on the tool.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::Utc;
use entities::bot_tool;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
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

async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<bot_tool::Model> {
    Ok(crate::domain::find_in_org::<bot_tool::Entity>(state.db(), &caller.org_id, id).await?)
}

/// Checks a tool as it would be stored, including its target, and that its name is free.
async fn check(state: &AppState, caller: &Caller, t: &bot_tool::Model) -> ApiResult<()> {
    check_fields(t)?;
    let dup = bot_tool::Entity::find()
        .filter(bot_tool::Column::OrgId.eq(caller.org_id.clone()))
        .filter(bot_tool::Column::Name.eq(t.name.clone()))
        .filter(bot_tool::Column::Id.ne(t.id.clone()))
        .one(state.db())
        .await?;
    if dup.is_some() {
        return Err(ApiError::Conflict(format!("a tool named {:?} already exists", t.name)));
    }
    Ok(())
}

/// Checks a tool's own fields (the API and imports): name, method, timeout, parameters, and a
/// target that is not a literal private address or localhost unless allowed.
pub fn check_fields(t: &bot_tool::Model) -> ApiResult<()> {
    let name_ok = !t.name.is_empty()
        && t.name.len() <= 64
        && t.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return Err(ApiError::validation("name", "name is 1-64 characters of a-z, 0-9 and _"));
    }
    if t.description.trim().is_empty() || t.description.chars().count() > 1000 {
        return Err(ApiError::validation(
            "description",
            "description is required (it tells the model what the tool does)",
        ));
    }
    if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&t.method.as_str()) {
        return Err(ApiError::validation("method", "method must be GET, POST, PUT, PATCH or DELETE"));
    }
    if !(100..=30_000).contains(&t.timeout_ms) {
        return Err(ApiError::validation("timeoutMs", "timeoutMs must be between 100 and 30000"));
    }
    let params = tools::params_of(t);
    for (i, p) in params.iter().enumerate() {
        if p.name.is_empty() || !p.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ApiError::validation(
                format!("parameters[{i}].name"),
                "parameter names are letters, digits and _",
            ));
        }
        if !["string", "number", "integer", "boolean"].contains(&p.kind.as_str()) {
            return Err(ApiError::validation(
                format!("parameters[{i}].type"),
                "type is string, number, integer or boolean",
            ));
        }
    }
    let url = reqwest::Url::parse(&t.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| ApiError::validation("url", "url must be an absolute http(s) URL"))?;
    let allowed: Vec<String> = serde_json::from_str(&t.allowed_hosts).unwrap_or_default();
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_lowercase();
    let literal = host.parse::<std::net::IpAddr>().ok();
    let private = literal.is_some_and(tools::is_private) || host == "localhost" || host.ends_with(".localhost");
    if private && !allowed.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return Err(ApiError::validation(
            "url",
            format!("{host} is a private, loopback or link-local address; add it to allowedHosts to call it anyway"),
        ));
    }
    Ok(())
}

fn apply(state: &AppState, t: &mut bot_tool::Model, b: ToolBody) {
    if let Some(v) = b.name {
        t.name = v.trim().to_owned();
    }
    if let Some(v) = b.description {
        t.description = v.trim().to_owned();
    }
    if let Some(v) = b.method {
        t.method = v.trim().to_uppercase();
    }
    if let Some(v) = b.url {
        t.url = v.trim().to_owned();
    }
    if let Some(v) = b.headers {
        t.headers = Value::Object(v).to_string();
    }
    if let Some(v) = b.parameters {
        t.parameters = serde_json::to_string(&v).unwrap_or_else(|_| "[]".into());
    }
    if let Some(v) = b.body_template {
        t.body_template = v;
    }
    if let Some(v) = b.timeout_ms {
        t.timeout_ms = v;
    }
    if let Some(v) = b.allowed_hosts {
        let hosts: Vec<String> = v.iter().map(|h| h.trim().to_lowercase()).filter(|h| !h.is_empty()).collect();
        t.allowed_hosts = serde_json::to_string(&hosts).unwrap_or_else(|_| "[]".into());
    }
    match b.secret {
        None => {}
        Some(None) => t.secret = None,
        Some(Some(s)) if s.trim().is_empty() => t.secret = None,
        Some(Some(s)) => t.secret = Some(state.secrets.encrypt(s.trim())),
    }
    if let Some(v) = b.is_active {
        t.is_active = v;
    }
    if let Some(v) = b.agent_enabled {
        t.agent_enabled = v;
    }
}

/// The organization's tools.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<ToolView>>)))]
#[get("/tools")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = bot_tool::Entity::find()
        .filter(bot_tool::Column::OrgId.eq(caller.org_id.clone()))
        .order_by_asc(bot_tool::Column::Name)
        .all(state.db())
        .await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(ToolView::from).collect::<Vec<_>>())))
}

/// Create a tool.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = ToolBody, responses((status = 201, body = Data<ToolView>), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/tools")]
pub async fn create(state: web::Data<AppState>, caller: Caller, body: web::Json<ToolBody>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let now = Utc::now();
    let mut t = bot_tool::Model {
        id: actors::new_id(),
        org_id: caller.org_id.clone(),
        name: String::new(),
        description: String::new(),
        method: "GET".into(),
        url: String::new(),
        headers: "{}".into(),
        parameters: "[]".into(),
        body_template: None,
        timeout_ms: 10_000,
        allowed_hosts: "[]".into(),
        secret: None,
        is_active: true,
        agent_enabled: false,
        created_at: now,
        updated_at: now,
    };
    apply(&state, &mut t, body.into_inner());
    check(&state, &caller, &t).await?;
    let t = bot_tool::ActiveModel::from(t).insert(state.db()).await?;
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
    let mut t = find(&state, &caller, &id).await?;
    apply(&state, &mut t, body.into_inner());
    t.updated_at = Utc::now();
    check(&state, &caller, &t).await?;
    let t = bot_tool::ActiveModel::from(t).reset_all().update(state.db()).await?;
    Ok(HttpResponse::Ok().json(Data::new(ToolView::from(&t))))
}

/// Delete a tool.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/tools/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = find(&state, &caller, &id).await?;
    bot_tool::Entity::delete_by_id(t.id).exec(state.db()).await?;
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
    let t = find(&state, &caller, &id).await?;
    let result = tools::call(&state.secrets, &t, &body.into_inner().params.unwrap_or_default()).await;
    Ok(HttpResponse::Ok().json(Data::new(result)))
}

/// Active tools agents may run from the inbox.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<ToolView>>)))]
#[get("/agent-tools")]
pub async fn agent_tools(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = bot_tool::Entity::find()
        .filter(bot_tool::Column::OrgId.eq(caller.org_id.clone()))
        .filter(bot_tool::Column::IsActive.eq(true))
        .filter(bot_tool::Column::AgentEnabled.eq(true))
        .order_by_asc(bot_tool::Column::Name)
        .all(state.db())
        .await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(ToolView::from).collect::<Vec<_>>())))
}

async fn agent_tool(state: &AppState, caller: &Caller, id: Option<&str>) -> ApiResult<bot_tool::Model> {
    let id = id.ok_or_else(|| ApiError::validation("toolId", "toolId is required"))?;
    let t = find(state, caller, id).await.map_err(crate::api::refs::named_by("toolId"))?;
    if !t.is_active || !t.agent_enabled {
        return Err(ApiError::validation(
            "toolId",
            "toolId names a tool that agents cannot run (inactive or not for agents)",
        ));
    }
    Ok(t)
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
    let t = agent_tool(&state, &caller, b.tool_id.as_deref()).await?;
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
    let t = agent_tool(&state, &caller, b.tool_id.as_deref()).await?;
    let params = b.params.unwrap_or_default();
    tools::check_arguments(&tools::params_of(&t), &params).map_err(|e| ApiError::validation("params", e))?;
    let conv = match &b.conversation_id {
        Some(id) => Some(
            crate::api::conversations::find(&state, &caller, id)
                .await
                .map_err(crate::api::refs::named_by("conversationId"))?,
        ),
        None => None,
    };
    let result = tools::call(&state.secrets, &t, &params).await;
    if let Some(conv) = conv {
        let who = match &caller.user_id {
            Some(id) => entities::user::Entity::find_by_id(id.clone())
                .one(state.db())
                .await?
                .map_or_else(|| "An agent".to_owned(), |u| u.name),
            None => "An API key".into(),
        };
        let outcome = if result.ok {
            "succeeded".to_owned()
        } else {
            format!("failed: {}", result.error.clone().unwrap_or_default())
        };
        let note = format!("{who} ran the tool {}: {outcome}", t.name);
        let msg = actors::conversation::Note { org_id: caller.org_id.clone(), note };
        state.rt.ask_conversation(&caller.org_id, &conv.id, msg).await?;
    }
    Ok(HttpResponse::Ok().json(Data::new(result)))
}
