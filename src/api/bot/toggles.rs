//! CONFIG-8..11, 14, 15: the switches the bot reads: bot on/off, bot mode flags and
//! auto-categorization.

use actix_web::{HttpResponse, get, put, web};
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::auth::Caller;
use crate::bot::settings::{self, BotMode};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_bot_enabled)
        .service(set_bot_enabled)
        .service(get_bot_mode)
        .service(set_bot_mode)
        .service(get_auto_categorize)
        .service(set_auto_categorize);
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Enabled {
    pub enabled: Option<bool>,
}

fn enabled(body: &Enabled) -> ApiResult<bool> {
    body.enabled.ok_or_else(|| ApiError::validation("enabled", "enabled (true or false) is required"))
}

/// Whether the bot answers new conversations of this organization.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Enabled>)))]
#[get("/config/bot-enabled")]
pub async fn get_bot_enabled(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let org = settings::org(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(Enabled { enabled: Some(org.bot_enabled) })))
}

/// Turn the bot on or off. Off: new conversations start OPEN for humans and bot turns stay
/// silent.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = Enabled, responses((status = 200, body = Data<Enabled>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
#[put("/config/bot-enabled")]
pub async fn set_bot_enabled(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Enabled>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let on = enabled(&body)?;
    let (_, org) = settings::update(&state.rt.db, &caller.org_id, |_, am| am.bot_enabled = Set(on)).await?;
    Ok(HttpResponse::Ok().json(Data::new(Enabled { enabled: Some(org.bot_enabled) })))
}

/// The bot mode flags.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<BotMode>)))]
#[get("/config/bot-mode")]
pub async fn get_bot_mode(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Data::new(settings::load(state.db(), &caller.org_id).await?.mode)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BotModeBody {
    pub handoff_enabled: Option<bool>,
    pub knowledge_only: Option<bool>,
    pub handoff_on_request: Option<bool>,
}

/// Change bot mode flags; flags left out keep their value.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = BotModeBody, responses((status = 200, body = Data<BotMode>), (status = 400, body = crate::error::ErrorBody)))]
#[put("/config/bot-mode")]
pub async fn set_bot_mode(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<BotModeBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner();
    let (s, _) = settings::update(&state.rt.db, &caller.org_id, |s, _| {
        if let Some(v) = b.handoff_enabled {
            s.mode.handoff_enabled = v;
        }
        if let Some(v) = b.knowledge_only {
            s.mode.knowledge_only = v;
        }
        if let Some(v) = b.handoff_on_request {
            s.mode.handoff_on_request = v;
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(Data::new(s.mode)))
}

/// Whether the bot classifies conversations (their category feeds routing rules).
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Enabled>)))]
#[get("/config/auto-categorize")]
pub async fn get_auto_categorize(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let s = settings::load(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(Enabled { enabled: Some(s.auto_categorize) })))
}

/// Turn auto-categorization on or off.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = Enabled, responses((status = 200, body = Data<Enabled>), (status = 400, body = crate::error::ErrorBody)))]
#[put("/config/auto-categorize")]
pub async fn set_auto_categorize(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Enabled>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let on = enabled(&body)?;
    let (s, _) = settings::update(&state.rt.db, &caller.org_id, |s, _| s.auto_categorize = on).await?;
    Ok(HttpResponse::Ok().json(Data::new(Enabled { enabled: Some(s.auto_categorize) })))
}
