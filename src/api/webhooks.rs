//! `GET /webhooks/whatsapp` (Meta's verify handshake) and `POST /webhooks/whatsapp` (messages
//! and statuses): the signature is checked over the raw body, which is read up to a limit, then
//! `channels::whatsapp::webhook::ingest` stores it. The POST answers 200 only after everything in
//! it is committed; on a failure it answers 503 so Meta redelivers.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::channels::whatsapp::signature;
use crate::channels::whatsapp::webhook::{IngestReport, ingest};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct VerifyQuery {
    #[serde(rename = "hub.mode")]
    #[param(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    #[param(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    #[param(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's subscription handshake: echo `hub.challenge` when the verify token matches.
#[utoipa::path(
    tag = "webhooks",
    params(VerifyQuery),
    responses((status = 200, description = "The challenge, as plain text"), (status = 403, description = "Wrong or missing verify token"))
)]
#[get("/webhooks/whatsapp")]
pub async fn verify(state: web::Data<AppState>, q: web::Query<VerifyQuery>) -> ApiResult<HttpResponse> {
    use subtle::ConstantTimeEq;
    let expected = state.config.whatsapp_verify_token.as_deref();
    // Compared in constant time, like the signature.
    let matches = match (q.verify_token.as_deref(), expected) {
        (Some(given), Some(expected)) => bool::from(given.as_bytes().ct_eq(expected.as_bytes())),
        _ => false,
    };
    let ok = q.mode.as_deref() == Some("subscribe") && matches;
    if !ok {
        return Err(ApiError::Forbidden("the verify token does not match".into()));
    }
    Ok(HttpResponse::Ok().content_type("text/plain").body(q.challenge.clone().unwrap_or_default()))
}

/// The webhook's answer: `{"data": report}`, like every success of the API.
#[derive(Serialize, ToSchema)]
pub struct IngestAnswer {
    pub data: IngestReport,
}

/// Customer messages and delivery statuses from Meta, signed with `X-Hub-Signature-256`.
#[utoipa::path(
    tag = "webhooks",
    request_body(content = Object, description = "Meta's WhatsApp Business Account webhook payload"),
    responses(
        (status = 200, description = "Committed: every readable part is stored; unreadable parts and other objects are counted", body = IngestAnswer),
        (status = 401, description = "Missing or wrong signature; nothing stored", body = crate::error::ErrorBody),
        (status = 400, description = "Not a JSON object", body = crate::error::ErrorBody),
        (status = 413, description = "Larger than CX_WEBHOOK_MAX_BYTES; nothing read", body = crate::error::ErrorBody),
        (status = 503, description = "Could not commit; Meta will redeliver", body = crate::error::ErrorBody),
    )
)]
#[post("/webhooks/whatsapp")]
pub async fn receive(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> ApiResult<HttpResponse> {
    let Some(secret) = state.config.whatsapp_app_secret.as_deref() else {
        tracing::warn!("webhook refused: CX_WHATSAPP_APP_SECRET is not set, so signatures cannot be checked");
        return Err(ApiError::Unauthorized(
            "webhook signatures cannot be verified: no app secret is configured".into(),
        ));
    };
    let body = read_limited(&req, payload, state.config.webhook_max_bytes).await?;
    let header = req.headers().get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if !signature::verify(secret.as_bytes(), &body, header) {
        metrics::counter!("cx_webhook_requests_refused_total", "reason" => "signature").increment(1);
        return Err(ApiError::Unauthorized("missing or invalid X-Hub-Signature-256".into()));
    }
    let report = ingest(&state, &body).await?;
    Ok(HttpResponse::Ok().json(IngestAnswer { data: report }))
}

/// The request body, refused with a 413 as soon as it is known to be larger than `limit`: by
/// its Content-Length before anything is read, else while it streams in.
async fn read_limited(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> ApiResult<web::Bytes> {
    use futures_util::StreamExt;
    let too_large = || {
        metrics::counter!("cx_webhook_requests_refused_total", "reason" => "too_large").increment(1);
        ApiError::TooLarge(format!("webhook bodies are limited to {limit} bytes"))
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the webhook body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
