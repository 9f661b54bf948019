//! DEV-1..4: simulated customers for trying the inbox without WhatsApp. Each simulated message
//! is a webhook payload in Meta's format, signed with the app secret when one is configured and
//! put through the same ingestion as a real delivery (stored, pushed to agent sockets, routed,
//! answered by the bot once it exists). Simulated contacts are marked, so cleanup removes them
//! and their conversations and nothing else. Admins only, and only when `CX_DEV_ENDPOINTS` is on
//! (by default with SQLite, not with PostgreSQL). DEV-5 (template status) waits for templates.

use actix_web::{HttpResponse, delete, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::simulation;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(simulate_conversation)
        .service(simulate_batch)
        .service(simulate_message)
        .service(simulate_template_status)
        .service(cleanup);
}

/// Admin, dev endpoints on.
fn allowed(state: &AppState, caller: &Caller) -> ApiResult<()> {
    if !state.config.dev_endpoints_on() {
        return Err(ApiError::NotFound("route"));
    }
    caller.require_admin()
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct SimulateConversation {
    /// The WhatsApp account it arrives on; default the organization's first.
    pub account_id: Option<String>,
    /// Customer name; default a sample one.
    pub name: Option<String>,
    /// The customer's messages, in order; default one sample question.
    pub messages: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Simulated {
    pub conversation_id: String,
    pub wa_id: String,
    pub name: String,
    pub messages: usize,
}

impl From<simulation::Simulated> for Simulated {
    fn from(s: simulation::Simulated) -> Self {
        Simulated { conversation_id: s.conversation_id, wa_id: s.wa_id, name: s.name, messages: s.messages }
    }
}

/// Simulate one new customer writing in.
#[utoipa::path(
    tag = "dev",
    security(("bearer" = [])),
    request_body(content = SimulateConversation, content_type = "application/json"),
    responses(
        (status = 201, body = Data<Simulated>),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, description = "Dev endpoints are off", body = crate::error::ErrorBody),
        (status = 409, description = "No WhatsApp account connected", body = crate::error::ErrorBody),
    )
)]
#[post("/dev/simulate/conversation")]
pub async fn simulate_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    body: crate::api::body::OptionalJson<SimulateConversation>,
) -> ApiResult<HttpResponse> {
    allowed(&state, &caller)?;
    let b = body.into_inner().unwrap_or_default();
    let sim = simulation::conversation(&state, &caller.org_id, b.account_id.as_deref(), b.name, b.messages, 0).await?;
    Ok(HttpResponse::Created().json(Data::new(Simulated::from(sim))))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct SimulateBatch {
    pub account_id: Option<String>,
    /// How many customers, 1 to 50 (default 5).
    pub count: Option<usize>,
    /// Messages each, 1 to 10 (default 1).
    pub messages_per_conversation: Option<usize>,
}

/// Simulate several customers writing in.
#[utoipa::path(
    tag = "dev",
    security(("bearer" = [])),
    request_body(content = SimulateBatch, content_type = "application/json"),
    responses((status = 201, body = Data<Vec<Simulated>>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody))
)]
#[post("/dev/simulate/batch")]
pub async fn simulate_batch(
    state: web::Data<AppState>,
    caller: Caller,
    body: crate::api::body::OptionalJson<SimulateBatch>,
) -> ApiResult<HttpResponse> {
    allowed(&state, &caller)?;
    let b = body.into_inner().unwrap_or_default();
    let (count, per) = (b.count.unwrap_or(5), b.messages_per_conversation.unwrap_or(1));
    let all = simulation::batch(&state, &caller.org_id, b.account_id.as_deref(), count, per).await?;
    let out: Vec<Simulated> = all.into_iter().map(Simulated::from).collect();
    Ok(HttpResponse::Created().json(Data::new(out)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SimulateMessage {
    pub conversation_id: String,
    /// Default a sample follow-up.
    pub text: Option<String>,
}

/// Simulate the customer of a simulated conversation writing again.
#[utoipa::path(
    tag = "dev",
    security(("bearer" = [])),
    request_body = SimulateMessage,
    responses(
        (status = 201, body = Data<Simulated>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Not a simulated conversation", body = crate::error::ErrorBody),
    )
)]
#[post("/dev/simulate/message")]
pub async fn simulate_message(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SimulateMessage>,
) -> ApiResult<HttpResponse> {
    allowed(&state, &caller)?;
    let b = body.into_inner();
    let sim = simulation::message(&state, &caller.org_id, &b.conversation_id, b.text).await?;
    Ok(HttpResponse::Created().json(Data::new(Simulated::from(sim))))
}

/// A template review outcome Meta announces, for the API document ([`simulation::TEMPLATE_EVENTS`]).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateEvent {
    Approved,
    Rejected,
    Pending,
    Paused,
    Disabled,
    Flagged,
    InAppeal,
    PendingDeletion,
    Deleted,
    Reinstated,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SimulateTemplateStatus {
    pub template_name: Option<String>,
    /// APPROVED, REJECTED, PENDING, PAUSED, DISABLED, FLAGGED, IN_APPEAL, PENDING_DELETION, DELETED
    /// or REINSTATED.
    #[schema(value_type = Option<TemplateEvent>)]
    pub event: Option<String>,
    /// Default `en_US`.
    pub language: Option<String>,
    /// Meta's reason (for REJECTED, PAUSED, …); default `NONE`.
    pub reason: Option<String>,
    /// The WhatsApp account whose business account the template belongs to; default the first.
    pub account_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SimulatedTemplateStatus {
    pub waba_id: String,
    pub template_name: String,
    pub event: String,
    /// Organizations told (`template.status_changed`).
    pub delivered: usize,
}

/// Put a `message_template_status_update` webhook through the real pipeline (signed as Meta
/// would), as if Meta had reviewed a template.
#[utoipa::path(
    tag = "dev",
    security(("bearer" = [])),
    request_body = SimulateTemplateStatus,
    responses(
        (status = 201, body = Data<SimulatedTemplateStatus>),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "No WhatsApp account connected", body = crate::error::ErrorBody),
    )
)]
#[post("/dev/simulate/template-status")]
pub async fn simulate_template_status(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SimulateTemplateStatus>,
) -> ApiResult<HttpResponse> {
    allowed(&state, &caller)?;
    let b = body.into_inner();
    let review = simulation::Review {
        template_name: b.template_name,
        event: b.event,
        language: b.language,
        reason: b.reason,
        account_id: b.account_id,
    };
    let r = simulation::template_status(&state, &caller.org_id, review).await?;
    Ok(HttpResponse::Created().json(Data::new(SimulatedTemplateStatus {
        waba_id: r.waba_id,
        template_name: r.template_name,
        event: r.event,
        delivered: r.delivered,
    })))
}

#[derive(Serialize, ToSchema)]
pub struct CleanupReport {
    pub conversations: u64,
    pub messages: u64,
    pub contacts: u64,
}

/// Delete every simulated customer with their conversations and messages.
#[utoipa::path(tag = "dev", security(("bearer" = [])), responses((status = 200, body = Data<CleanupReport>), (status = 403, body = crate::error::ErrorBody)))]
#[delete("/dev/simulate/cleanup")]
pub async fn cleanup(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    allowed(&state, &caller)?;
    let r = simulation::cleanup(&state, &caller.org_id).await?;
    let report = CleanupReport { conversations: r.conversations, messages: r.messages, contacts: r.contacts };
    Ok(HttpResponse::Ok().json(Data::new(report)))
}
