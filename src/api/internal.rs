//! `POST /internal/v1/conversations/{id}/command`: a conversation command forwarded by another
//! node of the cluster to this one, the conversation's owner. Signed with the cluster key over the
//! raw body; not part of the public API.

use actix_web::{HttpRequest, HttpResponse, post, web};
use actors::ActorError;
use actors::cluster::{SIGNATURE_HEADER, TIME_HEADER};
use actors::command::{Forwarded, NOT_OWNER, WireError};

use crate::error::ApiError;
use crate::state::AppState;

#[post("/internal/v1/conversations/{id}/command")]
pub async fn command(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Some(cluster) = &state.rt.cluster else {
        return Err(ApiError::NotFound("route"));
    };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let time_ms = header(TIME_HEADER).parse::<i64>().unwrap_or_default();
    if !cluster.verify(time_ms, &body, &header(SIGNATURE_HEADER)) {
        return Err(ApiError::Unauthorized("invalid cluster signature".into()));
    }
    let fwd: Forwarded =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("invalid command: {e}")))?;
    match state.rt.execute_here(&fwd.org_id, &id, fwd.command).await {
        Ok(reply) => Ok(HttpResponse::Ok().json(reply)),
        Err(ActorError::Unavailable(why)) if why == NOT_OWNER => Ok(HttpResponse::Conflict().body(NOT_OWNER)),
        Err(e) => {
            let status = match &e {
                ActorError::NotFound(_) => actix_web::http::StatusCode::NOT_FOUND,
                ActorError::Conflict(_) => actix_web::http::StatusCode::CONFLICT,
                ActorError::Invalid { .. } => actix_web::http::StatusCode::BAD_REQUEST,
                ActorError::Stale | ActorError::Unavailable(_) => actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                ActorError::Db(_) | ActorError::Internal(_) => actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            };
            Ok(HttpResponse::build(status).json(WireError::from(&e)))
        }
    }
}
