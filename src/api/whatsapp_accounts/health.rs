//! WHATSAPP-ACCOUNTS-8: a number's health at Meta.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::Data;
use crate::auth::Caller;
use crate::channels::whatsapp::health::{self, AccountHealth};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_health);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HealthQuery {
    /// `true`: ask Meta now, even if the last check is younger than a minute.
    refresh: Option<bool>,
}

/// The number's quality rating, messaging-limit tier, throughput and display-name status, and
/// the business account's review and standing, from Meta's Graph API. A check is reused for
/// 60 s (`cached`); when Meta cannot answer, the last figures come back with `stale: true` and
/// the reason.
#[utoipa::path(
    tag = "whatsapp-accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id"), HealthQuery),
    responses((status = 200, body = Data<AccountHealth>), (status = 404, body = crate::error::ErrorBody))
)]
#[get("/whatsapp-accounts/{id}/health")]
pub async fn get_health(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<HealthQuery>,
) -> ApiResult<HttpResponse> {
    let h = health::health(&state, &caller.org_id, &id, q.refresh.unwrap_or(false)).await?;
    Ok(HttpResponse::Ok().json(Data::new(h)))
}
