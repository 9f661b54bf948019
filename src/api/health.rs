//! HEALTH-1, HEALTH-2.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub node_id: String,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, body = super::Data<Health>)))]
#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(super::Data::new(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        node_id: state.rt.config.node_id.clone(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Ready {
    /// `ready`, or `degraded` when the node serves but cannot reach Redis (no cross-node
    /// fan-out or ownership until it returns).
    pub status: &'static str,
    pub database: &'static str,
    /// `ok`, `down`, or `disabled` for a node that runs alone.
    pub redis: &'static str,
}

/// Readiness: the database answers (503 otherwise); Redis is reported, and its loss degrades
/// the node rather than failing it.
#[utoipa::path(tag = "health", responses((status = 200, body = super::Data<Ready>), (status = 503, body = crate::error::ErrorBody)))]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    if let Err(e) = state.db().ping().await {
        tracing::warn!(error = %e, "readiness: database unreachable");
        return Ok(HttpResponse::ServiceUnavailable().json(crate::error::ErrorBody {
            error: crate::error::ErrorInfo {
                code: "unavailable",
                message: "the database is unreachable".into(),
                details: None,
            },
        }));
    }
    let redis = match &state.rt.cluster {
        None => "disabled",
        Some(c) if c.is_healthy() => "ok",
        Some(_) => "down",
    };
    let status = if redis == "down" { "degraded" } else { "ready" };
    Ok(HttpResponse::Ok().json(super::Data::new(Ready { status, database: "ok", redis })))
}
