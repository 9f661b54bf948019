//! Requests that need the database pass [`actors::admission`] first: at capacity they wait in a
//! queue of known size for a bounded time, and past it they are answered 503 with `Retry-After`
//! at once, instead of queueing on the pool until its timeout. Meta redelivers a refused webhook;
//! an agent's client retries. Health, readiness, the API document and the cluster's forwarded
//! commands (already admitted on the node that forwarded them) pass freely.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use crate::error::ApiError;
use crate::state::AppState;

/// Whether a request reaches the database (and so must be admitted).
pub fn needs_database(method: &Method, path: &str) -> bool {
    if path == "/webhooks/whatsapp" {
        return method == Method::POST; // the verify handshake only compares a token
    }
    let Some(rest) = path.strip_prefix("/api/v1/") else { return false };
    !matches!(rest, "health" | "ready" | "openapi.json") && !rest.starts_with("docs")
}

pub async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let Some(state) = state.filter(|_| needs_database(req.method(), req.path())) else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    match state.rt.admission.request().await {
        Ok(pass) => {
            let res = next.call(req).await;
            drop(pass);
            res.map(ServiceResponse::map_into_left_body)
        }
        Err(refused) => {
            let load = state.rt.admission.load();
            tracing::warn!(
                path = req.path(),
                running = load.running,
                waiting = load.waiting,
                reason = %refused,
                "request refused: the database is at capacity"
            );
            let mut res = ApiError::from(refused).error_response();
            // The body was never read: the connection cannot carry another request after it.
            res.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
            Ok(req.into_response(res).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_needs_the_database() {
        assert!(needs_database(&Method::POST, "/webhooks/whatsapp"));
        assert!(!needs_database(&Method::GET, "/webhooks/whatsapp"));
        assert!(needs_database(&Method::GET, "/api/v1/conversations"));
        assert!(needs_database(&Method::GET, "/api/v1/ws"));
        assert!(!needs_database(&Method::GET, "/api/v1/health"));
        assert!(!needs_database(&Method::GET, "/api/v1/ready"));
        assert!(!needs_database(&Method::GET, "/api/v1/docs/index.html"));
        assert!(!needs_database(&Method::POST, "/internal/v1/conversations/x/command"));
        assert!(!needs_database(&Method::GET, "/"));
    }
}
