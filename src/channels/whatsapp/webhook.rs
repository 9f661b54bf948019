//! `GET /webhooks/whatsapp` (Meta's verify handshake) and `POST /webhooks/whatsapp` (messages
//! and statuses). The POST answers 200 only after everything in it is committed; on a failure
//! it answers 503 so Meta redelivers, which is safe because messages are deduplicated by wamid.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use actors::ActorError;
use actors::conversation::{ApplyStatus, Inbound, InboundMessage, InboundOutcome};
use actors::inbox::ResolveConversation;
use entities::enums::MessageStatus;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::payload::{self, ChangeValue};
use super::{accounts, signature};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct VerifyQuery {
    #[serde(rename = "hub.mode")]
    #[param(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    #[param(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    #[param(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's subscription handshake: echo `hub.challenge` when the verify token matches.
#[utoipa::path(
    tag = "webhooks",
    params(VerifyQuery),
    responses((status = 200, description = "The challenge, as plain text"), (status = 403, description = "Wrong or missing verify token"))
)]
#[get("/webhooks/whatsapp")]
pub async fn verify(state: web::Data<AppState>, q: web::Query<VerifyQuery>) -> ApiResult<HttpResponse> {
    use subtle::ConstantTimeEq;
    let expected = state.config.whatsapp_verify_token.as_deref();
    // Compared in constant time, like the signature.
    let matches = match (q.verify_token.as_deref(), expected) {
        (Some(given), Some(expected)) => bool::from(given.as_bytes().ct_eq(expected.as_bytes())),
        _ => false,
    };
    let ok = q.mode.as_deref() == Some("subscribe") && matches;
    if !ok {
        return Err(ApiError::Forbidden("the verify token does not match".into()));
    }
    Ok(HttpResponse::Ok().content_type("text/plain").body(q.challenge.clone().unwrap_or_default()))
}

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
}

/// The webhook's answer: `{"data": report}`, like every success of the API.
#[derive(Serialize, ToSchema)]
pub struct IngestAnswer {
    pub data: IngestReport,
}

/// Customer messages and delivery statuses from Meta, signed with `X-Hub-Signature-256`.
#[utoipa::path(
    tag = "webhooks",
    request_body(content = Object, description = "Meta's WhatsApp Business Account webhook payload"),
    responses(
        (status = 200, description = "Committed: every readable part is stored; unreadable parts and other objects are counted", body = IngestAnswer),
        (status = 401, description = "Missing or wrong signature; nothing stored", body = crate::error::ErrorBody),
        (status = 400, description = "Not a JSON object", body = crate::error::ErrorBody),
        (status = 413, description = "Larger than CX_WEBHOOK_MAX_BYTES; nothing read", body = crate::error::ErrorBody),
        (status = 503, description = "Could not commit; Meta will redeliver", body = crate::error::ErrorBody),
    )
)]
#[post("/webhooks/whatsapp")]
pub async fn receive(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> ApiResult<HttpResponse> {
    let Some(secret) = state.config.whatsapp_app_secret.as_deref() else {
        tracing::warn!("webhook refused: CX_WHATSAPP_APP_SECRET is not set, so signatures cannot be checked");
        return Err(ApiError::Unauthorized(
            "webhook signatures cannot be verified: no app secret is configured".into(),
        ));
    };
    let body = read_limited(&req, payload, state.config.webhook_max_bytes).await?;
    let header = req.headers().get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if !signature::verify(secret.as_bytes(), &body, header) {
        return Err(ApiError::Unauthorized("missing or invalid X-Hub-Signature-256".into()));
    }
    let report = ingest(&state, &body).await?;
    Ok(HttpResponse::Ok().json(IngestAnswer { data: report }))
}

/// The request body, refused with a 413 as soon as it is known to be larger than `limit`: by
/// its Content-Length before anything is read, else while it streams in.
async fn read_limited(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> ApiResult<web::Bytes> {
    use futures_util::StreamExt;
    let too_large = || ApiError::TooLarge(format!("webhook bodies are limited to {limit} bytes"));
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the webhook body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Stores what a (verified) webhook body carries; everything is committed when this returns.
/// Each part is read on its own: what cannot be read is skipped and counted, and the rest is
/// stored, so one malformed status never costs a customer's message (Meta would redeliver the
/// same bytes, and they would fail the same way).
pub async fn ingest(state: &AppState, body: &[u8]) -> ApiResult<IngestReport> {
    let delivery =
        payload::parse_delivery(body).map_err(|e| ApiError::BadRequest(format!("invalid webhook JSON: {e}")))?;
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
        let result = if change.field.as_deref() == Some("message_template_status_update") {
            template_status(state, change.waba_id.as_deref().unwrap_or_default(), &change.value, &mut report).await
        } else {
            ingest_change(state, &change.value, &mut report).await
        };
        result.map_err(|e| match e {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "webhook processing failed; asking Meta to redeliver");
                ApiError::Unavailable("could not store the webhook; it will be redelivered".into())
            }
            other => other,
        })?;
    }
    Ok(report)
}

/// A template's review status changed at Meta: announced to every organization that has the
/// WhatsApp Business Account connected, as `template.status_changed`.
async fn template_status(
    state: &AppState,
    waba_id: &str,
    value: &ChangeValue,
    report: &mut IngestReport,
) -> ApiResult<()> {
    let Some(event) = value.event.as_deref() else { return Ok(()) };
    let accounts = entities::whatsapp_account::Entity::find()
        .filter(entities::whatsapp_account::Column::WabaId.eq(waba_id))
        .all(state.db())
        .await?;
    if accounts.is_empty() {
        report.unknown_numbers += 1;
        return Ok(());
    }
    let template_id = value.message_template_id.as_ref().map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let mut orgs: Vec<&str> = accounts.iter().map(|a| a.org_id.as_str()).collect();
    orgs.sort_unstable();
    orgs.dedup();
    for org_id in orgs {
        let payload = serde_json::json!({
            "wabaId": waba_id,
            "templateId": template_id,
            "templateName": value.message_template_name,
            "language": value.message_template_language,
            "status": event,
            "reason": value.reason,
        });
        let txn = state.rt.db.begin_write().await?;
        let events = actors::store::events::append(
            &*txn,
            org_id,
            vec![actors::store::events::NewEvent {
                conversation: None,
                name: actors::events::EventName::TemplateStatusChanged,
                payload: payload.to_string(),
            }],
        )
        .await?;
        txn.commit().await?;
        state.rt.publish(events);
        report.statuses += 1;
    }
    Ok(())
}

async fn ingest_change(state: &AppState, value: &ChangeValue, report: &mut IngestReport) -> ApiResult<()> {
    let Some(meta) = &value.metadata else {
        return Ok(());
    };
    if value.messages.is_empty() && value.statuses.is_empty() {
        return Ok(());
    }
    let Some(account) = accounts::by_phone_number_id(state.db(), &meta.phone_number_id).await? else {
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
        };
        let mut closed = None;
        let mut placed = false;
        // At most twice: the second time after the inbox opened a new conversation because
        // the one it had was closed in the meantime.
        for _ in 0..2 {
            let resolve = ResolveConversation {
                wa_id: m.from.clone(),
                profile_name: profile_name.clone(),
                closed: closed.take(),
            };
            let conversation_id = rt.ask_inbox(&account.org_id, &account.inbox_id, resolve).await.map_err(internal)?;
            let msg = Inbound { org_id: account.org_id.clone(), message: inbound.clone() };
            match rt.ask_conversation(&account.org_id, &conversation_id, msg).await {
                Ok(InboundOutcome::Stored(_)) => report.stored += 1,
                Ok(InboundOutcome::Duplicate) => report.duplicates += 1,
                // Closed, or deleted since the inbox remembered it: the inbox opens a new one.
                Ok(InboundOutcome::Closed) | Err(ActorError::NotFound("conversation")) => {
                    closed = Some(conversation_id);
                    continue;
                }
                Err(e) => return Err(internal(e)),
            }
            placed = true;
            break;
        }
        if !placed {
            // Closed under us twice: answer 503 so Meta delivers it again rather than lose it.
            return Err(ApiError::Unavailable(format!(
                "message {} could not be placed in a conversation; deliver it again",
                m.id
            )));
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
            Err(e) => return Err(internal(e)),
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
) -> ApiResult<Option<String>> {
    if let Some(m) = actors::store::messages::by_provider_id(state.db(), &account.inbox_id, &st.id).await? {
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
/// that is busy says so (503 with `Retry-After`); anything else is logged as an internal error
/// and answered 503.
fn internal(e: ActorError) -> ApiError {
    match e {
        ActorError::NotFound(what) => ApiError::Internal(format!("{what} vanished during ingest")),
        ActorError::Db(db @ sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)) => ApiError::from(db),
        other => ApiError::Internal(other.to_string()),
    }
}
