//! `GET /metrics`: the operator's Prometheus scrape (see `crate::metrics`).

use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::error::ApiResult;
use crate::state::AppState;

/// Operator metrics in Prometheus' text format. Off (404) unless `CX_METRICS_TOKEN` is set; the
/// scrape sends that token as a bearer token.
#[utoipa::path(
    tag = "health",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, description = "Metrics are off", body = crate::error::ErrorBody)
    )
)]
#[get("/metrics")]
pub async fn scrape(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let bearer = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    crate::metrics::authorize(&state, bearer)?;
    let text = crate::metrics::render(&state).await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(text))
}
