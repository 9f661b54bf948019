//! Simulated customers for trying the inbox without WhatsApp (the `/dev/simulate` endpoints and
//! the demo). Each simulated message is a webhook payload in Meta's format, signed with the app
//! secret when one is configured and put through the same ingestion as a real delivery. Simulated
//! contacts are marked, so [`cleanup`] removes them and their conversations and nothing else;
//! their conversations are deleted by their actors, like any change of a conversation.

use actors::conversation::Delete;
use chrono::Utc;
use entities::{contact, conversation, whatsapp_account};
use futures_util::{StreamExt, stream};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::channels::whatsapp::{accounts, signature, webhook};
use crate::domain::{Error, Result};
use crate::state::AppState;

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

/// Review outcomes Meta reports for message templates.
pub const TEMPLATE_EVENTS: &[&str] = &[
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

/// One simulated customer: who they are, what they wrote, and where it landed.
pub struct Simulated {
    pub conversation_id: String,
    pub wa_id: String,
    pub name: String,
    pub messages: usize,
}

/// What [`cleanup`] removed.
pub struct Cleanup {
    pub conversations: u64,
    pub messages: u64,
    pub contacts: u64,
}

/// What a simulated template review did.
pub struct TemplateReview {
    pub waba_id: String,
    pub template_name: String,
    pub event: String,
    /// Organizations told (`template.status_changed`).
    pub delivered: usize,
}

/// The account simulations arrive on: the one asked for, or the organization's first.
async fn account(state: &AppState, org_id: &str, id: Option<&str>) -> Result<whatsapp_account::Model> {
    match id {
        Some(id) => accounts::get(state.db(), org_id, id)
            .await?
            .ok_or_else(|| Error::invalid("accountId", "accountId names no WhatsApp account of this organization")),
        None => accounts::list(state.db(), org_id)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Conflict("connect a WhatsApp account first: simulations arrive on one".into())),
    }
}

/// Puts a webhook body through the pipeline as Meta would deliver it: signed when an app secret
/// is configured (and checked, as the real endpoint would).
async fn deliver_body(state: &AppState, payload: serde_json::Value) -> Result<webhook::IngestReport> {
    let body = serde_json::to_vec(&payload)?;
    if let Some(secret) = state.config.whatsapp_app_secret.as_deref() {
        let sig = signature::sign(secret.as_bytes(), &body);
        if !signature::verify(secret.as_bytes(), &body, Some(&sig)) {
            return Err(Error::Internal("simulated webhook failed its own signature".into()));
        }
    }
    webhook::ingest(state, &body).await
}

/// One customer text message, in Meta's webhook format.
async fn deliver(state: &AppState, phone_number_id: &str, wa_id: &str, name: &str, text: &str) -> Result<()> {
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
    deliver_body(state, payload).await.map(|_| ())
}

/// A fresh simulated customer: marked before their first message arrives.
async fn new_customer(state: &AppState, org_id: &str, name: &str) -> Result<String> {
    let wa_id = format!("999{:09}", rand::random::<u32>() % 1_000_000_000);
    let c = actors::store::contacts::upsert_by_wa_id(state.db(), org_id, &wa_id, Some(name)).await?;
    contact::Entity::update_many()
        .col_expr(contact::Column::Simulated, Expr::value(true))
        .filter(contact::Column::Id.eq(c.id))
        .exec(state.db())
        .await?;
    Ok(wa_id)
}

/// A new simulated customer writes `messages` (default one sample question; 1 to 20 of 1 to 4096
/// characters) on the account (default the organization's first). `n` picks the samples.
pub async fn conversation(
    state: &AppState,
    org_id: &str,
    account_id: Option<&str>,
    name: Option<String>,
    messages: Option<Vec<String>>,
    n: usize,
) -> Result<Simulated> {
    let acc = account(state, org_id, account_id).await?;
    let name = name.unwrap_or_else(|| SAMPLE_NAMES[n % SAMPLE_NAMES.len()].to_owned());
    let texts =
        messages.filter(|m| !m.is_empty()).unwrap_or_else(|| vec![SAMPLE_TEXTS[n % SAMPLE_TEXTS.len()].to_owned()]);
    if texts.len() > 20 || texts.iter().any(|t| t.trim().is_empty() || t.chars().count() > 4096) {
        return Err(Error::invalid("messages", "1 to 20 messages of 1 to 4096 characters"));
    }
    let wa_id = new_customer(state, org_id, &name).await?;
    for t in &texts {
        deliver(state, &acc.phone_number_id, &wa_id, &name, t).await?;
    }
    let c =
        actors::store::contacts::find_by_wa_id(state.db(), org_id, &wa_id).await?.ok_or(Error::NotFound("contact"))?;
    let conv = actors::store::conversations::open_for_contact(state.db(), &acc.inbox_id, &c.id)
        .await?
        .ok_or_else(|| Error::Internal("simulated conversation missing".into()))?;
    Ok(Simulated { conversation_id: conv.id, wa_id, name, messages: texts.len() })
}

/// `count` new customers (1 to 50) writing `per` sample messages each (1 to 10).
pub async fn batch(
    state: &AppState,
    org_id: &str,
    account_id: Option<&str>,
    count: usize,
    per: usize,
) -> Result<Vec<Simulated>> {
    if !(1..=50).contains(&count) {
        return Err(Error::invalid("count", "count must be 1 to 50"));
    }
    if !(1..=10).contains(&per) {
        return Err(Error::invalid("messagesPerConversation", "messagesPerConversation must be 1 to 10"));
    }
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let texts = (0..per).map(|k| SAMPLE_TEXTS[(n + k) % SAMPLE_TEXTS.len()].to_owned()).collect();
        out.push(conversation(state, org_id, account_id, None, Some(texts), n).await?);
    }
    Ok(out)
}

/// The customer of a simulated conversation writes again (default a sample follow-up). A closed
/// conversation makes the message open a new one, as with a real customer; the answer names the
/// conversation it landed in.
pub async fn message(state: &AppState, org_id: &str, conversation_id: &str, text: Option<String>) -> Result<Simulated> {
    let conv = actors::store::conversations::get(state.db(), org_id, conversation_id)
        .await?
        .ok_or_else(|| Error::invalid("conversationId", "conversationId names no conversation of this organization"))?;
    let c =
        actors::store::contacts::get(state.db(), org_id, &conv.contact_id).await?.ok_or(Error::NotFound("contact"))?;
    if !c.simulated {
        return Err(Error::Conflict("only simulated conversations take simulated messages".into()));
    }
    let acc =
        accounts::by_inbox(state.db(), org_id, &conv.inbox_id).await?.ok_or(Error::NotFound("WhatsApp account"))?;
    let text = text.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| "Any update?".into());
    if text.chars().count() > 4096 {
        return Err(Error::invalid("text", "text is at most 4096 characters (WhatsApp's limit)"));
    }
    // As WhatsApp would send it: the customer's own profile name, not the one an agent gave.
    let name = c.profile_name.clone().or(c.name.clone()).unwrap_or_default();
    deliver(state, &acc.phone_number_id, &c.wa_id, &name, &text).await?;
    let latest = actors::store::conversations::open_for_contact(state.db(), &conv.inbox_id, &c.id)
        .await?
        .map(|x| x.id)
        .unwrap_or(conv.id);
    Ok(Simulated { conversation_id: latest, wa_id: c.wa_id, name, messages: 1 })
}

/// What a simulated template review says.
pub struct Review {
    pub template_name: Option<String>,
    pub event: Option<String>,
    pub language: Option<String>,
    pub reason: Option<String>,
    pub account_id: Option<String>,
}

/// Puts a `message_template_status_update` webhook through the real pipeline, as if Meta had
/// reviewed a template.
pub async fn template_status(state: &AppState, org_id: &str, r: Review) -> Result<TemplateReview> {
    let name = r.template_name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let name = name.ok_or_else(|| Error::invalid("templateName", "templateName is required"))?;
    if name.chars().count() > 512 {
        return Err(Error::invalid("templateName", "templateName is at most 512 characters"));
    }
    let event = r.event.map(|e| e.trim().to_uppercase()).filter(|e| TEMPLATE_EVENTS.contains(&e.as_str()));
    let event =
        event.ok_or_else(|| Error::invalid("event", format!("event must be one of {}", TEMPLATE_EVENTS.join(", "))))?;
    let acc = account(state, org_id, r.account_id.as_deref()).await?;
    let payload = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": acc.waba_id, "time": Utc::now().timestamp(), "changes": [{"field": "message_template_status_update", "value": {
            "event": event,
            "message_template_id": format!("SIM{}", rand::random::<u32>()),
            "message_template_name": name,
            "message_template_language": r.language.unwrap_or_else(|| "en_US".into()),
            "reason": r.reason.unwrap_or_else(|| "NONE".into()),
        }}]}]
    });
    let report = deliver_body(state, payload).await?;
    Ok(TemplateReview { waba_id: acc.waba_id, template_name: name, event, delivered: report.statuses })
}

/// Deletes every simulated customer with their conversations and messages. Each conversation is
/// deleted by its actor (announced as `conversations.removed`), so a live actor never writes to
/// it again; a customer is deleted once none of their conversations is left.
pub async fn cleanup(state: &AppState, org_id: &str) -> Result<Cleanup> {
    let contacts: Vec<String> = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org_id))
        .filter(contact::Column::Simulated.eq(true))
        .all(state.db())
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut report = Cleanup { conversations: 0, messages: 0, contacts: 0 };
    // A simulated customer may write again while this runs: look until none is left (bounded).
    for _ in 0..3 {
        let conversations = conversations_of(state, org_id, &contacts).await?;
        if conversations.is_empty() {
            break;
        }
        let rt = &state.rt;
        let results: Vec<_> = stream::iter(conversations)
            .map(|(id, _)| {
                let msg = Delete { org_id: org_id.to_owned(), reason: "simulation cleanup".into() };
                async move { rt.ask_conversation(org_id, &id, msg).await }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        for r in results {
            match r {
                Ok(messages) => {
                    report.conversations += 1;
                    report.messages += messages;
                }
                Err(actors::ActorError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let kept: std::collections::HashSet<String> =
        conversations_of(state, org_id, &contacts).await?.into_iter().map(|(_, c)| c).collect();
    let gone: Vec<String> = contacts.into_iter().filter(|c| !kept.contains(c)).collect();
    if !gone.is_empty() {
        let deleted = contact::Entity::delete_many().filter(contact::Column::Id.is_in(gone)).exec(state.db()).await?;
        report.contacts = deleted.rows_affected;
    }
    Ok(report)
}

/// The conversations of these contacts: (conversation id, contact id).
async fn conversations_of(state: &AppState, org_id: &str, contacts: &[String]) -> Result<Vec<(String, String)>> {
    if contacts.is_empty() {
        return Ok(Vec::new());
    }
    let rows = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::ContactId.is_in(contacts.to_vec()))
        .all(state.db())
        .await?;
    Ok(rows.into_iter().map(|c| (c.id, c.contact_id)).collect())
}
