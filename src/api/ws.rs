//! `GET /api/v1/ws`: the agent WebSocket. Authenticated before the upgrade (`?token=` or
//! `Authorization: Bearer`); `?since=<cursor>` resumes after the last event the client saw.

use actix_web::{HttpRequest, HttpResponse, get, web};
use actors::{AgentSession, Cursor};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::caller::{authenticate, bearer};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(connect);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsQuery {
    /// Access token or API key, for clients that cannot set headers on a WebSocket.
    token: Option<String>,
    /// The `cursor` of the last event received: every later event is sent first, once.
    since: Option<String>,
}

/// Open the agent event stream. Each frame is
/// `{"event", "conversationId", "seq", "cursor", "data"}`; `seq` grows by one per event within a
/// conversation and `cursor` marks the position in the organization's stream.
#[utoipa::path(
    tag = "realtime",
    params(WsQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Invalid `since` cursor, or not a WebSocket handshake (no `Upgrade: websocket`)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or invalid token; no upgrade", body = crate::error::ErrorBody),
    )
)]
#[get("/ws")]
pub async fn connect(
    state: web::Data<AppState>,
    req: HttpRequest,
    stream: web::Payload,
    q: web::Query<WsQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let token =
        q.token.clone().or_else(|| bearer(&req)).ok_or_else(|| ApiError::Unauthorized("missing token".into()))?;
    let caller = authenticate(&state, &token).await?;
    let since = match q.since.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            Cursor::decode(s)
                .ok_or_else(|| ApiError::validation("since", "since is not a cursor this server issued"))?
                .0,
        ),
        None => None,
    };
    // A key's socket is the integration's, not its creator's: it never makes them present (and
    // so never draws conversations to them).
    let user = match &caller.api_key_id {
        Some(key) => format!("api-key:{key}"),
        None => caller.user_id.clone().unwrap_or_default(),
    };
    let session = AgentSession::new(state.rt.clone(), caller.org_id.clone(), user, since);
    actix_web_actors::ws::start(session, &req, stream).map_err(|e| {
        ApiError::BadRequest(format!("this endpoint speaks WebSocket only ({e}): connect with Upgrade: websocket"))
            .into()
    })
}
