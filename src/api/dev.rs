//! DEV-1..4: simulated customers for trying the inbox without WhatsApp. Each simulated message
//! is a webhook payload in Meta's format, signed with the app secret when one is configured and
//! put through the same ingestion as a real delivery (stored, pushed to agent sockets, routed,
//! answered by the bot once it exists). Simulated contacts are marked, so cleanup removes them
//! and their conversations and nothing else. Admins only, and only when `CX_DEV_ENDPOINTS` is on
//! (by default with SQLite, not with PostgreSQL). DEV-5 (template status) waits for templates.

use actix_web::{HttpResponse, delete, post, web};
use chrono::Utc;
use entities::{contact, conversation, conversation_tag, message};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::auth::Caller;
use crate::channels::whatsapp::{accounts, signature, webhook};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(simulate_conversation)
        .service(simulate_batch)
        .service(simulate_message)
        .service(simulate_template_status)
        .service(cleanup);
}

const SAMPLE_NAMES: &[&str] = &[
    "Ana Souza",
    "Budi Santoso",
    "Chen Wei",
    "Dara Okafor",
    "Emil Novak",
    "Fatima Zahra",
    "Gustavo Lima",
    "Hana Sato",
];
const SAMPLE_TEXTS: &[&str] = &[
    "Hi, where is my order?",
    "I was charged twice this month",
    "Can I change my delivery address?",
    "Do you ship to Jakarta?",
    "The app keeps logging me out",
    "I'd like a refund please",
];

/// Admin, dev endpoints on.
fn allowed(state: &AppState, caller: &Caller) -> ApiResult<()> {
    if !state.config.dev_endpoints_on() {
        return Err(ApiError::NotFound("route"));
    }
    caller.require_admin()
}

/// The account simulations arrive on: the one asked for, or the organization's first.
async fn account(state: &AppState, caller: &Caller, id: Option<&str>) -> ApiResult<entities::whatsapp_account::Model> {
    match id {
        Some(id) => accounts::get(state.db(), &caller.org_id, id).await?.ok_or_else(|| {
            ApiError::validation("accountId", "accountId names no WhatsApp account of this organization")
        }),
        None => accounts::list(state.db(), &caller.org_id)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::Conflict("connect a WhatsApp account first: simulations arrive on one".into())),
    }
}

/// Puts one customer message through the webhook pipeline, as Meta would deliver it.
async fn deliver(state: &AppState, phone_number_id: &str, wa_id: &str, name: &str, text: &str) -> ApiResult<()> {
    let payload = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "SIMULATED", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "SIMULATED", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": format!("wamid.SIM.{}", actors::new_id()), "timestamp": Utc::now().timestamp().to_string(),
                "type": "text", "text": {"body": text}}]
        }}]}]
    });
    let body = serde_json::to_vec(&payload).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(secret) = state.config.whatsapp_app_secret.as_deref() {
        let sig = signature::sign(secret.as_bytes(), &body);
        if !signature::verify(secret.as_bytes(), &body, Some(&sig)) {
            return Err(ApiError::Internal("simulated webhook failed its own signature".into()));
        }
    }
    webhook::ingest(state, &body).await?;
    Ok(())
}

/// A fresh simulated customer: marked before their first message arrives.
async fn new_customer(state: &AppState, org_id: &str, name: &str) -> ApiResult<String> {
    let wa_id = format!("999{:09}", rand::random::<u32>() % 1_000_000_000);
    let c = actors::store::contacts::upsert_by_wa_id(state.db(), org_id, &wa_id, Some(name)).await?;
    contact::Entity::update_many()
        .col_expr(contact::Column::Simulated, Expr::value(true))
        .filter(contact::Column::Id.eq(c.id))
        .exec(state.db())
        .await?;
    Ok(wa_id)
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

async fn simulate_one(state: &AppState, caller: &Caller, req: SimulateConversation, n: usize) -> ApiResult<Simulated> {
    let acc = account(state, caller, req.account_id.as_deref()).await?;
    let name = req.name.unwrap_or_else(|| SAMPLE_NAMES[n % SAMPLE_NAMES.len()].to_owned());
    let texts =
        req.messages.filter(|m| !m.is_empty()).unwrap_or_else(|| vec![SAMPLE_TEXTS[n % SAMPLE_TEXTS.len()].to_owned()]);
    if texts.len() > 20 || texts.iter().any(|t| t.trim().is_empty() || t.chars().count() > 4096) {
        return Err(ApiError::validation("messages", "1 to 20 messages of 1 to 4096 characters"));
    }
    let wa_id = new_customer(state, &caller.org_id, &name).await?;
    for t in &texts {
        deliver(state, &acc.phone_number_id, &wa_id, &name, t).await?;
    }
    let c = actors::store::contacts::find_by_wa_id(state.db(), &caller.org_id, &wa_id)
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    let conv = actors::store::conversations::open_for_contact(state.db(), &acc.inbox_id, &c.id)
        .await?
        .ok_or_else(|| ApiError::Internal("simulated conversation missing".into()))?;
    Ok(Simulated { conversation_id: conv.id, wa_id, name, messages: texts.len() })
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
    let sim = simulate_one(&state, &caller, body.into_inner().unwrap_or_default(), 0).await?;
    Ok(HttpResponse::Created().json(Data::new(sim)))
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
    let count = b.count.unwrap_or(5);
    let per = b.messages_per_conversation.unwrap_or(1);
    if !(1..=50).contains(&count) {
        return Err(ApiError::validation("count", "count must be 1 to 50"));
    }
    if !(1..=10).contains(&per) {
        return Err(ApiError::validation("messagesPerConversation", "messagesPerConversation must be 1 to 10"));
    }
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let texts = (0..per).map(|k| SAMPLE_TEXTS[(n + k) % SAMPLE_TEXTS.len()].to_owned()).collect();
        let req = SimulateConversation { account_id: b.account_id.clone(), name: None, messages: Some(texts) };
        out.push(simulate_one(&state, &caller, req, n).await?);
    }
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
    let conv = super::conversations::find(&state, &caller, &body.conversation_id)
        .await
        .map_err(super::refs::named_by("conversationId"))?;
    let c = actors::store::contacts::get(state.db(), &caller.org_id, &conv.contact_id)
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    if !c.simulated {
        return Err(ApiError::Conflict("only simulated conversations take simulated messages".into()));
    }
    let acc = accounts::by_inbox(state.db(), &caller.org_id, &conv.inbox_id)
        .await?
        .ok_or(ApiError::NotFound("WhatsApp account"))?;
    let text = body.text.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| "Any update?".into());
    if text.chars().count() > 4096 {
        return Err(ApiError::validation("text", "text is at most 4096 characters (WhatsApp's limit)"));
    }
    // As WhatsApp would send it: the customer's own profile name, not the one an agent gave.
    let name = c.profile_name.clone().or(c.name.clone()).unwrap_or_default();
    deliver(&state, &acc.phone_number_id, &c.wa_id, &name, &text).await?;
    // A closed conversation makes the message open a new one, as with a real customer.
    let latest = actors::store::conversations::open_for_contact(state.db(), &conv.inbox_id, &c.id)
        .await?
        .map(|x| x.id)
        .unwrap_or(conv.id);
    Ok(HttpResponse::Created().json(Data::new(Simulated {
        conversation_id: latest,
        wa_id: c.wa_id,
        name,
        messages: 1,
    })))
}

/// Review outcomes Meta reports for message templates.
const TEMPLATE_EVENTS: &[&str] = &[
    "APPROVED",
    "REJECTED",
    "PENDING",
    "PAUSED",
    "DISABLED",
    "FLAGGED",
    "IN_APPEAL",
    "PENDING_DELETION",
    "DELETED",
    "REINSTATED",
];

/// A template review outcome Meta announces, for the API document ([`TEMPLATE_EVENTS`]).
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
    let name = b.template_name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let name = name.ok_or_else(|| ApiError::validation("templateName", "templateName is required"))?;
    if name.chars().count() > 512 {
        return Err(ApiError::validation("templateName", "templateName is at most 512 characters"));
    }
    let event = b.event.map(|e| e.trim().to_uppercase()).filter(|e| TEMPLATE_EVENTS.contains(&e.as_str()));
    let event = event
        .ok_or_else(|| ApiError::validation("event", format!("event must be one of {}", TEMPLATE_EVENTS.join(", "))))?;
    let acc = account(&state, &caller, b.account_id.as_deref()).await?;
    let payload = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": acc.waba_id, "time": Utc::now().timestamp(), "changes": [{"field": "message_template_status_update", "value": {
            "event": event,
            "message_template_id": format!("SIM{}", rand::random::<u32>()),
            "message_template_name": name,
            "message_template_language": b.language.unwrap_or_else(|| "en_US".into()),
            "reason": b.reason.unwrap_or_else(|| "NONE".into()),
        }}]}]
    });
    let body = serde_json::to_vec(&payload).map_err(|e| ApiError::Internal(e.to_string()))?;
    let report = webhook::ingest(&state, &body).await?;
    Ok(HttpResponse::Created().json(Data::new(SimulatedTemplateStatus {
        waba_id: acc.waba_id,
        template_name: name,
        event,
        delivered: report.statuses,
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
    let contacts: Vec<String> = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(caller.org_id.clone()))
        .filter(contact::Column::Simulated.eq(true))
        .all(state.db())
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let conversations: Vec<String> = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(caller.org_id.clone()))
        .filter(conversation::Column::ContactId.is_in(contacts.clone()))
        .all(state.db())
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let txn = state.rt.db.begin_write().await?;
    let messages = message::Entity::delete_many()
        .filter(message::Column::ConversationId.is_in(conversations.clone()))
        .exec(&*txn)
        .await?;
    conversation_tag::Entity::delete_many()
        .filter(conversation_tag::Column::ConversationId.is_in(conversations.clone()))
        .exec(&*txn)
        .await?;
    let convs = conversation::Entity::delete_many()
        .filter(conversation::Column::Id.is_in(conversations.clone()))
        .exec(&*txn)
        .await?;
    let cs = contact::Entity::delete_many().filter(contact::Column::Id.is_in(contacts)).exec(&*txn).await?;
    // Open inboxes drop them live, as they would drop a deleted tag.
    let events = if conversations.is_empty() {
        vec![]
    } else {
        let payload =
            serde_json::json!({ "conversationIds": conversations, "reason": "simulation cleanup" }).to_string();
        let removed = actors::store::events::NewEvent {
            conversation: None,
            name: actors::events::EventName::ConversationsRemoved,
            payload,
        };
        actors::store::events::append(&*txn, &caller.org_id, vec![removed]).await?
    };
    txn.commit().await?;
    state.rt.publish(events);
    Ok(HttpResponse::Ok().json(Data::new(CleanupReport {
        conversations: convs.rows_affected,
        messages: messages.rows_affected,
        contacts: cs.rows_affected,
    })))
}
