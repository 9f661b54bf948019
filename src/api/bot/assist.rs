//! WRITING-ASSIST-1..4: suggestions that complete what an agent is typing, streamed as
//! server-sent events, under an organization switch and each agent's own preference.

use actix_web::{HttpResponse, get, patch, post, put, web};
use entities::user;
use futures_util::StreamExt;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::auth::Caller;
use crate::bot::provider::{ChatMessage, ChatRequest, StreamPiece};
use crate::bot::settings::{self, WritingAssist};
use crate::bot::{config, engine};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(complete).service(get_config).service(set_config).service(set_preference);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssistConfig {
    pub organization: WritingAssist,
    /// The caller's own switch (on unless they turned it off).
    pub user_enabled: bool,
    /// Both on: suggestions are offered.
    pub effective: bool,
}

async fn user_pref(state: &AppState, caller: &Caller) -> ApiResult<bool> {
    let Some(id) = &caller.user_id else { return Ok(true) };
    Ok(user::Entity::find_by_id(id.clone()).one(state.db()).await?.and_then(|u| u.writing_assist).unwrap_or(true))
}

async fn current(state: &AppState, caller: &Caller) -> ApiResult<AssistConfig> {
    let org = settings::load(state.db(), &caller.org_id).await?.writing_assist;
    let user_enabled = user_pref(state, caller).await?;
    Ok(AssistConfig { effective: org.enabled && user_enabled, organization: org, user_enabled })
}

/// The organization's writing-assist settings and the caller's preference.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<AssistConfig>)))]
#[get("/config/writing-assist")]
pub async fn get_config(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Data::new(current(&state, &caller).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssistBody {
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub instructions: Option<Option<String>>,
    pub max_tokens: Option<u32>,
}

/// Change the organization's writing-assist settings (admins).
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = AssistBody, responses((status = 200, body = Data<AssistConfig>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
#[put("/config/writing-assist")]
pub async fn set_config(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<AssistBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    if b.max_tokens.is_some_and(|m| !(10..=1000).contains(&m)) {
        return Err(ApiError::validation("maxTokens", "maxTokens must be between 10 and 1000"));
    }
    if b.instructions.as_ref().and_then(|i| i.as_ref()).is_some_and(|i| i.chars().count() > 2000) {
        return Err(ApiError::validation("instructions", "instructions are at most 2000 characters"));
    }
    settings::update(&state.rt.db, &caller.org_id, |s, _| {
        if let Some(e) = b.enabled {
            s.writing_assist.enabled = e;
        }
        if let Some(i) = b.instructions {
            s.writing_assist.instructions = i;
        }
        if let Some(m) = b.max_tokens {
            s.writing_assist.max_tokens = m;
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(Data::new(current(&state, &caller).await?)))
}

#[derive(Deserialize, ToSchema)]
pub struct PreferenceBody {
    pub enabled: Option<bool>,
}

/// Turn writing-assist suggestions on or off for yourself.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = PreferenceBody, responses((status = 200, body = Data<AssistConfig>), (status = 400, body = crate::error::ErrorBody)))]
#[patch("/profile/writing-assist")]
pub async fn set_preference(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PreferenceBody>,
) -> ApiResult<HttpResponse> {
    let id = caller.require_user()?.to_owned();
    let on = body.enabled.ok_or_else(|| ApiError::validation("enabled", "enabled (true or false) is required"))?;
    let u = user::Entity::find_by_id(id).one(state.db()).await?.ok_or(ApiError::NotFound("user"))?;
    let mut am = u.into_active_model();
    am.writing_assist = Set(Some(on));
    am.update(state.db()).await?;
    Ok(HttpResponse::Ok().json(Data::new(current(&state, &caller).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompleteBody {
    pub conversation_id: Option<String>,
    /// What the agent has typed so far.
    pub partial_text: Option<String>,
}

/// Stream a suggestion for the agent's reply: `text/event-stream` with `data: {"delta": "…"}`
/// events, then `event: done` with the whole text (or `event: error`).
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = CompleteBody, responses((status = 200, content_type = "text/event-stream", description = "The suggestion, streamed"), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "Writing assist is off, or no active bot config", body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
#[post("/writing-assist/complete")]
pub async fn complete(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CompleteBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let cid = b.conversation_id.ok_or_else(|| ApiError::validation("conversationId", "conversationId is required"))?;
    let partial = b.partial_text.unwrap_or_default();
    if partial.chars().count() > 4000 {
        return Err(ApiError::validation("partialText", "partialText is at most 4000 characters"));
    }
    let conv = crate::api::conversations::find(&state, &caller, &cid)
        .await
        .map_err(crate::api::refs::named_by("conversationId"))?;
    let cfg = current(&state, &caller).await?;
    if !cfg.effective {
        return Err(ApiError::Conflict("writing assist is off for this organization or for you".into()));
    }
    let c = engine::require_config(state.db(), &caller.org_id).await?;
    let endpoint = config::endpoint(state.db(), &state.secrets, &c).await?;
    let history = engine::history(state.db(), &conv.id, 20).await?;
    let transcript: Vec<String> = history
        .iter()
        .map(|m| format!("{}: {}", if m.role == "user" { "Customer" } else { "Us" }, m.content))
        .collect();
    let instructions = cfg.organization.instructions.clone().unwrap_or_else(|| "Be brief, warm and precise.".into());
    let system = format!(
        "You help a customer-service agent write their next reply. {instructions} \
         Answer with the text that continues the agent's draft, nothing else."
    );
    let user = format!("Conversation:\n{}\n\nThe agent's draft so far: {partial}", transcript.join("\n"));
    let req = ChatRequest {
        model: endpoint.model.clone(),
        messages: vec![ChatMessage::new("system", system), ChatMessage::new("user", user)],
        temperature: Some(0.4),
        max_tokens: Some(cfg.organization.max_tokens),
        json: false,
    };
    let rx = state
        .bot
        .provider(&endpoint)
        .await?
        .chat_stream(&req)
        .await
        .map_err(|e| ApiError::Unavailable(format!("the model could not answer: {e}")))?;
    state.bot.add_usage(&caller.org_id, Default::default(), 1).await?;
    let ctx = (state.into_inner(), caller.org_id);
    let events = futures_util::stream::unfold((rx, String::new(), false), move |(mut rx, mut text, finished)| {
        let ctx = ctx.clone();
        async move {
            if finished {
                return None;
            }
            let event = loop {
                match rx.recv().await {
                    Some(Ok(StreamPiece::Text(piece))) => {
                        text.push_str(&piece);
                        break format!("data: {}\n\n", json!({ "delta": piece }));
                    }
                    // The tokens count against the month like a bot turn's (the call itself was counted
                    // when the stream opened).
                    Some(Ok(StreamPiece::Usage(usage))) => {
                        let (state, org_id) = &ctx;
                        if let Err(e) = state.bot.add_usage(org_id, usage, 0).await {
                            tracing::warn!(error = %e, "writing-assist usage was not recorded");
                        }
                    }
                    Some(Err(e)) => {
                        let out = format!("event: error\ndata: {}\n\n", json!({ "message": e.message }));
                        return Some((Ok::<_, actix_web::Error>(web::Bytes::from(out)), (rx, text, true)));
                    }
                    None => {
                        let out = format!("event: done\ndata: {}\n\n", json!({ "text": text }));
                        return Some((Ok(web::Bytes::from(out)), (rx, text, true)));
                    }
                }
            };
            Some((Ok(web::Bytes::from(event)), (rx, text, false)))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(events.boxed_local()))
}
