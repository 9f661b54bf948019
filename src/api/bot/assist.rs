//! WRITING-ASSIST-1..4: suggestions that complete what an agent is typing, streamed as
//! server-sent events, under an organization switch and each agent's own preference.

use actix_web::{HttpResponse, get, patch, post, put, web};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::auth::Caller;
use crate::bot::assist::{self, AssistConfig};
use crate::bot::provider::StreamPiece;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(complete).service(get_config).service(set_config).service(set_preference);
}

async fn current(state: &AppState, caller: &Caller) -> ApiResult<AssistConfig> {
    Ok(assist::config_for(state.db(), &caller.org_id, caller.user_id.as_deref()).await?)
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
    let change = assist::Change { enabled: b.enabled, instructions: b.instructions, max_tokens: b.max_tokens };
    assist::configure(&state.rt.db, &caller.org_id, change).await?;
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
    assist::set_preference(state.db(), &id, on).await?;
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
    let conv = crate::api::conversations::find(&state, &caller, &cid)
        .await
        .map_err(crate::api::refs::named_by("conversationId"))?;
    let partial = b.partial_text.unwrap_or_default();
    let rx = assist::suggest(&state, caller.user_id.as_deref(), &conv, &partial).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(events(rx, state.into_inner(), caller.org_id)))
}

/// The suggestion as server-sent events: `data: {"delta"}` per piece, then `event: done` with
/// the whole text or `event: error`; the tokens are counted when the stream reports them.
fn events(
    rx: tokio::sync::mpsc::Receiver<Result<StreamPiece, crate::bot::provider::ProviderError>>,
    state: std::sync::Arc<AppState>,
    org_id: String,
) -> futures_util::stream::LocalBoxStream<'static, Result<web::Bytes, actix_web::Error>> {
    let ctx = (state, org_id);
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
    events.boxed_local()
}
