//! BOT-CORE-1..13: bot configs (drafts, one active), their prompt versions, the test and
//! sandbox runs, reprocessing unanswered bot conversations, and replies from an n8n workflow.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::Utc;
use entities::bot_config;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::auth::Caller;
use crate::bot::config::{self, Settings};
use crate::bot::configs::make_active;
use crate::bot::engine::{Final, RunInput, RunOutput};
use crate::bot::provider::ChatMessage;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_current)
        .service(create)
        .service(upsert)
        .service(list)
        .service(duplicate)
        .service(activate)
        .service(test)
        .service(sandbox)
        .service(prompt_versions)
        .service(rollback)
        .service(reprocess_pending)
        .service(n8n_response)
        .service(remove);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotConfigView {
    pub id: String,
    pub name: String,
    /// `DRAFT` or `ACTIVE`.
    pub status: String,
    pub settings: Settings,
    pub has_api_key: bool,
    /// The key's last four characters only; `GET /bot-config/reveal-key` shows it whole.
    pub api_key: Option<String>,
    pub prompt_version: i32,
    pub intent_count: u64,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

pub async fn view(state: &AppState, c: &bot_config::Model) -> ApiResult<BotConfigView> {
    let intent_count = crate::bot::configs::intent_count(state.db(), &c.id).await?;
    let key = c.api_key.as_deref().and_then(|k| state.secrets.decrypt(k).ok());
    Ok(BotConfigView {
        id: c.id.clone(),
        name: c.name.clone(),
        status: c.status.to_string(),
        settings: Settings::of(c),
        has_api_key: key.is_some(),
        api_key: key.as_deref().map(config::mask),
        prompt_version: c.prompt_version,
        intent_count,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

/// A config body: `name`, `apiKey` (empty string or null clears it) and any settings field;
/// fields left out keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigBody {
    /// The config to change (`PUT /bot-config` only); default: the current one.
    pub id: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Option<String>>,
    /// Any of the settings fields (`systemPrompt`, `provider`, `model`, `baseUrl`, `presetId`…).
    #[serde(flatten)]
    #[schema(value_type = crate::bot::config::Settings)]
    pub settings: Map<String, Value>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ConfigQuery {
    /// A config id; default: the active config, else the last edited.
    pub config_id: Option<String>,
}

/// The current bot config: the active one, else the last edited draft.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(ConfigQuery), responses((status = 200, body = Data<BotConfigView>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/bot-config")]
pub async fn get_current(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ConfigQuery>,
) -> ApiResult<HttpResponse> {
    let c = config::current(state.db(), &caller.org_id, q.config_id.as_deref()).await?;
    Ok(HttpResponse::Ok().json(Data::new(view(&state, &c).await?)))
}

/// Create a draft config.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = ConfigBody, responses((status = 201, body = Data<BotConfigView>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
#[post("/bot-config")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ConfigBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let input = crate::bot::configs::Input { name: b.name, api_key: b.api_key, settings: b.settings };
    let c = crate::bot::configs::create(&state, &caller.org_id, caller.user_id.clone(), input).await?;
    Ok(HttpResponse::Created().json(Data::new(view(&state, &c).await?)))
}

/// Update the current config (or `id`); with none yet, create one and make it active.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = ConfigBody, responses((status = 200, body = Data<BotConfigView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[put("/bot-config")]
pub async fn upsert(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ConfigBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let input = crate::bot::configs::Input { name: b.name, api_key: b.api_key, settings: b.settings };
    let by = caller.user_id.clone();
    let c = crate::bot::configs::upsert(&state, &caller.org_id, by, b.id.as_deref(), input).await?;
    Ok(HttpResponse::Ok().json(Data::new(view(&state, &c).await?)))
}

/// Every config of the organization, the active one first.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<BotConfigView>>)))]
#[get("/bot-config/list")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let mut out = Vec::new();
    for c in crate::bot::configs::list(state.db(), &caller.org_id).await? {
        out.push(view(&state, &c).await?);
    }
    Ok(HttpResponse::Ok().json(Data::new(out)))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct DuplicateBody {
    pub name: Option<String>,
}

/// Duplicate a config as a draft, with its intents.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), request_body = DuplicateBody, responses((status = 201, body = Data<BotConfigView>), (status = 404, body = crate::error::ErrorBody)))]
#[post("/bot-config/{id}/duplicate")]
pub async fn duplicate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: crate::api::body::OptionalJson<DuplicateBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let name = body.into_inner().and_then(|b| b.name);
    let c =
        crate::bot::configs::duplicate(&state.rt, &caller.org_id, &id, name.as_deref(), caller.user_id.clone()).await?;
    Ok(HttpResponse::Created().json(Data::new(view(&state, &c).await?)))
}

/// Activate a config; the one active before becomes a draft.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<BotConfigView>), (status = 404, body = crate::error::ErrorBody)))]
#[put("/bot-config/{id}/activate")]
pub async fn activate(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let c = make_active(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(view(&state, &c).await?)))
}

/// Delete a draft config with its intents, prompt versions and snapshots.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "The config is active", body = crate::error::ErrorBody)))]
#[delete("/bot-config/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    crate::bot::configs::delete(&state.rt, &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestBody {
    pub message: Option<String>,
    /// Earlier turns of a sandbox chat, oldest first (`role`: `user` or `assistant`).
    #[serde(default)]
    pub history: Vec<ChatTurn>,
    /// The config to test; default: the current one.
    pub config_id: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema, Clone)]
pub struct ChatTurn {
    pub role: String,
    pub content: String,
}

async fn run_test(state: &AppState, caller: &Caller, body: TestBody, kind: &'static str) -> ApiResult<RunOutput> {
    let message = body.message.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let message = message.ok_or_else(|| ApiError::validation("message", "message is required"))?;
    if message.chars().count() > 4096 {
        return Err(ApiError::validation("message", "message is at most 4096 characters"));
    }
    if body.history.len() > 50 {
        return Err(ApiError::validation("history", "history is at most 50 turns"));
    }
    let mut history = Vec::new();
    for (i, t) in body.history.iter().enumerate() {
        if t.role != "user" && t.role != "assistant" {
            return Err(ApiError::validation(format!("history[{i}].role"), "role must be user or assistant"));
        }
        history.push(ChatMessage::new(&t.role, t.content.clone()));
    }
    history.push(ChatMessage::new("user", message));
    let config = config::current(state.db(), &caller.org_id, body.config_id.as_deref())
        .await
        .map_err(crate::api::refs::named_by_if(body.config_id.is_some(), "configId"))?;
    state
        .bot
        .run(RunInput {
            org_id: caller.org_id.clone(),
            conversation_id: None,
            config,
            history,
            context: None,
            kind,
            admitted: true,
            categorize: false,
        })
        .await
        .map_err(Into::into)
}

/// Run the bot's pipeline on one message (nothing is sent anywhere); the answer shows the
/// decision, the passages retrieved, tool calls, tokens and the trace id.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = TestBody, responses((status = 200, body = Data<RunOutput>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[post("/bot-config/test")]
pub async fn test(state: web::Data<AppState>, caller: Caller, body: web::Json<TestBody>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(Data::new(run_test(&state, &caller, body.into_inner(), "TEST").await?)))
}

/// Chat with the bot as a customer would, without WhatsApp: send the earlier turns in
/// `history` to continue a chat.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = TestBody, responses((status = 200, body = Data<RunOutput>), (status = 400, body = crate::error::ErrorBody)))]
#[post("/bot-config/test-sandbox")]
pub async fn sandbox(state: web::Data<AppState>, caller: Caller, body: web::Json<TestBody>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(Data::new(run_test(&state, &caller, body.into_inner(), "SANDBOX").await?)))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromptVersionView {
    pub id: String,
    pub config_id: String,
    pub version: i32,
    pub prompt: String,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
    /// The version the config uses now.
    pub current: bool,
}

/// The system prompt's versions of the current config (or `configId`), newest first.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(ConfigQuery), responses((status = 200, body = Data<Vec<PromptVersionView>>)))]
#[get("/bot-config/prompt-versions")]
pub async fn prompt_versions(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ConfigQuery>,
) -> ApiResult<HttpResponse> {
    let c = config::current(state.db(), &caller.org_id, q.config_id.as_deref()).await?;
    let rows = crate::bot::configs::prompt_versions(state.db(), &c.id).await?;
    let out: Vec<_> = rows
        .into_iter()
        .map(|v| PromptVersionView {
            current: v.version == c.prompt_version,
            id: v.id,
            config_id: v.config_id,
            version: v.version,
            prompt: v.prompt,
            created_by: v.created_by,
            created_at: v.created_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Data::new(out)))
}

/// Roll the config's system prompt back to a version (history is kept: the config points at it).
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path, description = "Prompt version id")), responses((status = 200, body = Data<BotConfigView>), (status = 404, body = crate::error::ErrorBody)))]
#[post("/bot-config/prompt-versions/{id}/activate")]
pub async fn rollback(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let c = crate::bot::configs::roll_back(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(view(&state, &c).await?)))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reprocessed {
    /// Conversations the bot now takes a turn in.
    pub count: usize,
    pub conversation_ids: Vec<String>,
}

/// Take a bot turn in every BOT_HANDLING conversation whose customer still waits for an answer
/// (after an outage of the model, or a config fixed late).
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Reprocessed>)))]
#[post("/bot-config/reprocess-pending")]
pub async fn reprocess_pending(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let woken = crate::bot::configs::reprocess_pending(&state.rt, &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(Reprocessed { count: woken.len(), conversation_ids: woken })))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct N8nBody {
    pub conversation_id: Option<String>,
    /// `{"text": "…"}` or a string.
    #[schema(value_type = Option<N8nMessage>)]
    pub message: Option<Value>,
    /// The bot epoch the workflow started in (from the event it was triggered by); default the
    /// current one.
    pub epoch: Option<i64>,
}

/// What [`N8nBody::message`] holds, for the API document.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum N8nMessage {
    Text(String),
    Object { text: String },
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct N8nOutcome {
    /// `false` when the conversation is no longer the bot's: the reply was dropped.
    pub sent: bool,
    pub message: Option<actors::views::MessageView>,
}

/// A reply computed by an n8n workflow, sent as the bot's, only while the bot still has the
/// conversation.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = N8nBody, responses((status = 200, body = Data<N8nOutcome>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[post("/n8n/bot-response")]
pub async fn n8n_response(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<N8nBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let id =
        body.conversation_id.ok_or_else(|| ApiError::validation("conversationId", "conversationId is required"))?;
    let text = match &body.message {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("text").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let text = text
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::validation("message", "message must be a string or {\"text\": \"…\"}"))?;
    if text.chars().count() > 4096 {
        return Err(ApiError::validation("message", "the text is at most 4096 characters"));
    }
    let conv = crate::api::conversations::find(&state, &caller, &id)
        .await
        .map_err(crate::api::refs::named_by("conversationId"))?;
    let epoch = body.epoch.unwrap_or(conv.bot_epoch);
    let msg = actors::conversation::BotReply { org_id: caller.org_id.clone(), epoch, text };
    let sent = state.rt.ask_conversation(&caller.org_id, &conv.id, msg).await?;
    Ok(HttpResponse::Ok().json(Data::new(N8nOutcome { sent: sent.is_some(), message: sent })))
}

/// Summary of a run for clients that only need the answer.
pub fn answer_text(out: &RunOutput) -> String {
    match &out.decision {
        Final::Reply { text, .. } => text.clone(),
        Final::Handoff { text, reason, .. } => text.clone().unwrap_or_else(|| reason.clone()),
    }
}
