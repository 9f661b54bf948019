//! Ingesting what Meta's webhook delivers (messages and statuses): everything is committed when
//! [`ingest`] returns; a failure of ours is `Unavailable`, so Meta redelivers, which is safe because
//! messages are deduplicated by wamid. The HTTP side (signature, size limit) is `api::webhooks`.

use actors::ActorError;
use actors::conversation::{ApplyStatus, InboundMessage};
use entities::enums::MessageStatus;
use serde::Serialize;
use utoipa::ToSchema;

use super::alerts;
use super::payload::{self, ChangeValue};
use super::templates::{self, sync::TemplateNews};
use crate::conversations::inbound::{self, Customer, Placed};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// What a webhook delivery did.
#[derive(Default, Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct IngestReport {
    /// New messages stored.
    pub stored: usize,
    /// Messages already stored (redeliveries).
    pub duplicates: usize,
    /// Delivery statuses applied.
    pub statuses: usize,
    /// Changes for phone numbers that are not connected here (acknowledged, ignored).
    pub unknown_numbers: usize,
    /// Parts that could not be read (an entry, change, contact, message or status that is not
    /// in Meta's shape); each is logged, the rest of the delivery is stored.
    pub skipped: usize,
    /// Deliveries for another kind of object than `whatsapp_business_account` (a Page,
    /// Instagram…): acknowledged, nothing stored.
    pub ignored: usize,
    /// Account alerts stored (`account_alerts`, `phone_number_quality_update`,
    /// `account_update`), one per organization told; a redelivered one counts as a duplicate.
    pub alerts: usize,
    /// Satisfaction ratings picked from a survey (stored with their conversation).
    pub ratings: usize,
}

/// Stores what a (verified) webhook body carries; everything is committed when this returns.
/// Each part is read on its own: what cannot be read is skipped and counted, and the rest is
/// stored, so one malformed status never costs a customer's message (Meta would redeliver the
/// same bytes, and they would fail the same way).
pub async fn ingest(state: &AppState, body: &[u8]) -> Result<IngestReport> {
    let delivery = payload::parse_delivery(body).map_err(|e| Error::Malformed(format!("invalid webhook JSON: {e}")))?;
    let mut report = IngestReport { skipped: delivery.skipped, ..IngestReport::default() };
    if delivery.object.as_deref() != Some(payload::WHATSAPP_OBJECT) {
        tracing::info!(
            object = delivery.object.as_deref().unwrap_or("-"),
            "webhook for another object than WhatsApp; acknowledged and ignored"
        );
        report.ignored += 1;
        return Ok(report);
    }
    for change in &delivery.changes {
        let result = if change.field.as_deref().is_some_and(|f| TEMPLATE_FIELDS.contains(&f)) {
            template_news(state, change, &mut report).await
        } else if let Some(source) = alerts::Source::of(change.field.as_deref()) {
            alerts::ingest(state, source, change, &mut report).await
        } else {
            ingest_change(state, &change.value, &mut report).await
        };
        result.map_err(redeliver)?;
    }
    for (outcome, n) in [
        ("stored", report.stored),
        ("duplicate", report.duplicates),
        ("skipped", report.skipped),
        ("rated", report.ratings),
    ] {
        if n > 0 {
            metrics::counter!("cx_webhook_messages_total", "outcome" => outcome).increment(n as u64);
        }
    }
    Ok(report)
}

/// The template webhooks Meta sends about an account's templates.
const TEMPLATE_FIELDS: &[&str] =
    &["message_template_status_update", "message_template_quality_update", "template_category_update"];

/// A template's review status, quality or category changed at Meta: every organization's copy
/// is updated and the change announced (see `templates::sync::apply`).
async fn template_news(state: &AppState, change: &payload::Change, report: &mut IngestReport) -> Result<()> {
    let value = &change.value;
    let news = TemplateNews {
        waba_id: change.waba_id.clone().unwrap_or_default(),
        meta_id: value.message_template_id.as_ref().map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        name: value.message_template_name.clone(),
        language: value.message_template_language.clone(),
        event: value.event.clone(),
        reason: value.reason.clone(),
        quality: value.new_quality_score.clone(),
        category: value.new_category.clone(),
    };
    let told = templates::sync::apply(state, change.field.as_deref().unwrap_or_default(), news).await?;
    if told == 0 {
        report.unknown_numbers += 1;
    }
    report.statuses += told;
    Ok(())
}

async fn ingest_change(state: &AppState, value: &ChangeValue, report: &mut IngestReport) -> Result<()> {
    let Some(meta) = &value.metadata else {
        return Ok(());
    };
    if value.messages.is_empty() && value.statuses.is_empty() {
        return Ok(());
    }
    let Some(account) = state.wa_accounts.by_phone_number_id(state.db(), &meta.phone_number_id).await? else {
        tracing::warn!(phone_number_id = %meta.phone_number_id, "webhook for a phone number that is not connected; acknowledged and ignored");
        report.unknown_numbers += 1;
        return Ok(());
    };
    let rt = &state.rt;
    for raw in &value.messages {
        let Some(m) = payload::parse_message(raw) else {
            let wamid = raw.get("id").and_then(|v| v.as_str()).unwrap_or("-");
            tracing::warn!(wamid, "webhook message without sender or id; skipped");
            report.skipped += 1;
            continue;
        };
        if actors::store::messages::by_provider_id(state.db(), &account.inbox_id, &m.id).await?.is_some() {
            report.duplicates += 1;
            continue;
        }
        let profile_name = value
            .contacts
            .iter()
            .find(|c| c.wa_id == m.from)
            .and_then(|c| c.profile.as_ref()?.name.as_deref())
            .map(|n| payload::cut(n, payload::MAX_NAME_CHARS).unwrap_or_else(|| n.to_owned()));
        let inbound = InboundMessage {
            provider_message_id: m.id.clone(),
            message_type: m.message_type.clone(),
            text: m.text.clone(),
            content: m.content.clone(),
            sent_at: m.sent_at,
            media_id: m.media_id.clone(),
            profile_name: profile_name.clone(),
            stored_media: None,
        };
        // A rating picked from a satisfaction survey is stored with its conversation (closed
        // by then); it opens no new one.
        if m.message_type == "interactive"
            && crate::csat::whatsapp_reply(state, &account.org_id, &account.inbox_id, &m.from, m.content.as_deref())
                .await?
        {
            report.ratings += 1;
            continue;
        }
        let customer = Customer::WhatsApp { wa_id: m.from.clone(), profile_name };
        match inbound::place(rt, &account.org_id, &account.inbox_id, &customer, inbound).await? {
            Placed::Stored { .. } => report.stored += 1,
            Placed::Duplicate { .. } => report.duplicates += 1,
        }
    }
    for st in &value.statuses {
        let Some(status) = MessageStatus::parse(&st.status).filter(|s| s.rank() > 0) else {
            continue; // e.g. "deleted", "warning": nothing to apply to delivery state
        };
        let Some(conversation_id) = status_conversation(state, &account, st).await? else {
            tracing::info!(wamid = %st.id, status = %st.status, "status for a message we do not know; ignored");
            continue;
        };
        let first_error = st.errors.first();
        let apply = ApplyStatus {
            org_id: account.org_id.clone(),
            provider_message_id: st.id.clone(),
            message_id: st.callback_data.clone(),
            status,
            at: payload::timestamp(st.timestamp.as_deref()).unwrap_or_else(chrono::Utc::now),
            error_code: first_error.and_then(|e| e.code).map(|c| c.to_string()),
            error_message: first_error.map(|e| e.describe()),
        };
        match rt.ask_conversation(&account.org_id, &conversation_id, apply).await {
            Ok(()) => report.statuses += 1,
            Err(ActorError::NotFound(_)) => {
                tracing::info!(wamid = %st.id, "status for a message we do not know; ignored")
            }
            Err(e) => return Err(inbound::internal(e)),
        }
    }
    Ok(())
}

/// The conversation a status belongs to: the one holding the wamid, or, when the wamid is not
/// recorded yet (Meta can report `sent` before our send call has returned), the recipient's open
/// conversation, whose actor applies the status after the send it is waiting on.
async fn status_conversation(
    state: &AppState,
    account: &entities::whatsapp_account::Model,
    st: &payload::WaStatus,
) -> Result<Option<String>> {
    if let Some(m) = actors::store::messages::by_provider_id(state.db(), &account.inbox_id, &st.id).await? {
        return Ok(Some(m.conversation_id));
    }
    // A send whose answer we never stored (the node died during the call) names itself.
    if let Some(id) = st.callback_data.as_deref()
        && let Some(m) = actors::store::messages::get(state.db(), id).await?
        && m.inbox_id == account.inbox_id
    {
        return Ok(Some(m.conversation_id));
    }
    let Some(recipient) = st.recipient_id.as_deref() else {
        return Ok(None);
    };
    let Some(contact) = actors::store::contacts::find_by_wa_id(state.db(), &account.org_id, recipient).await? else {
        return Ok(None);
    };
    Ok(actors::store::conversations::open_for_contact(state.db(), &account.inbox_id, &contact.id).await?.map(|c| c.id))
}

/// Any runtime failure while ingesting is ours, not the sender's: Meta should retry. A database
/// that is busy or down says so (it answers 503 as it is); anything else is logged and becomes
/// `Unavailable`, so Meta redelivers.
fn redeliver(e: Error) -> Error {
    let cause = match e {
        Error::Db(sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_)) | Error::Unavailable(_) => return e,
        Error::Db(db) => db.to_string(),
        Error::Internal(cause) => cause,
        other => return other,
    };
    tracing::error!(%cause, "webhook processing failed; asking Meta to redeliver");
    Error::Unavailable("could not store the webhook; it will be redelivered".into())
}
