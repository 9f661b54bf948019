//! Sending an approved template to a conversation, or to a phone number (opening or reusing its
//! conversation). The send's values are checked against the template here; the message then
//! goes through the conversation's actor and the outbox like any reply (retries, idempotency,
//! order), and is allowed outside the 24-hour customer service window.

use actors::channel::{HeaderFile, TemplateContent};
use actors::conversation::SendTemplate;
use actors::inbox::ResolveConversation;
use actors::views::MessageView;
use entities::enums::TemplateStatus;
use entities::{conversation, whatsapp_account, whatsapp_template};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::params::{self, Parameters};
use super::store::{self, components_of};
use crate::channels::whatsapp::accounts;
use crate::domain::refs::{self, Kind};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// TEMPLATES-9: what a send to a conversation gives.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct SendToConversation {
    pub conversation_id: Option<String>,
    /// Needed when the template exists in several languages.
    pub language: Option<String>,
    #[serde(default)]
    pub parameters: Parameters,
}

/// TEMPLATES-10: what a send to a phone number gives.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct SendToPhone {
    /// The customer's number in E.164 (`+4915112345678`); spaces and dashes are ignored.
    pub phone: Option<String>,
    pub language: Option<String>,
    /// The number to send from, when the template's business account has several.
    pub account_id: Option<String>,
    #[serde(default)]
    pub parameters: Parameters,
}

/// A send to a phone: the conversation it went to and the message.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhoneSend {
    pub conversation_id: String,
    pub message: MessageView,
}

/// The WhatsApp id of a phone number in E.164 (digits only), or a field error.
pub fn wa_id_of(field: &str, phone: &str) -> Result<String> {
    let cleaned: String = phone.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
    let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    if digits.len() < 8 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) || digits.starts_with('0') {
        return Err(Error::invalid(field, format!("{field} is a phone number in E.164, such as +4915112345678")));
    }
    Ok(digits.to_owned())
}

/// The approved template `name` of a business account (in `language`, which may be left out
/// when it has one). Any other status is a clear refusal.
pub async fn sendable(
    state: &AppState,
    org_id: &str,
    waba_id: Option<&str>,
    name: &str,
    language: Option<&str>,
) -> Result<whatsapp_template::Model> {
    let mut q = whatsapp_template::Entity::find()
        .filter(whatsapp_template::Column::OrgId.eq(org_id))
        .filter(whatsapp_template::Column::Name.eq(name))
        .filter(whatsapp_template::Column::Status.ne(TemplateStatus::Removed.as_str()));
    if let Some(w) = waba_id {
        q = q.filter(whatsapp_template::Column::WabaId.eq(w));
    }
    if let Some(l) = language.filter(|l| !l.is_empty()) {
        q = q.filter(whatsapp_template::Column::Language.eq(l));
    }
    let mut found = q.all(state.db()).await?;
    let t = match found.len() {
        0 => return Err(Error::NotFound("template")),
        1 => found.remove(0),
        _ => {
            // One approved copy is the one meant; else the caller says which language.
            let approved: Vec<usize> =
                (0..found.len()).filter(|i| found[*i].status == TemplateStatus::Approved).collect();
            let languages: Vec<String> = found.iter().map(|t| t.language.clone()).collect();
            if approved.len() == 1 && found.iter().all(|t| t.language == found[approved[0]].language) {
                found.remove(approved[0])
            } else {
                return Err(Error::invalid(
                    "language",
                    format!("the template exists in several languages ({}): say which", languages.join(", ")),
                ));
            }
        }
    };
    match t.status {
        TemplateStatus::Approved => Ok(t),
        TemplateStatus::Paused | TemplateStatus::Disabled => Err(Error::Conflict(format!(
            "the template is {} by Meta (its quality fell): it cannot be sent until Meta reinstates it",
            t.status
        ))),
        other => Err(Error::Conflict(format!("the template is {other}: only an APPROVED template can be sent"))),
    }
}

/// The actor message for a send of `t` with `p`: values checked, rendered.
pub fn message_for(
    org_id: &str,
    sender_id: Option<&str>,
    t: &whatsapp_template::Model,
    p: &Parameters,
    idempotency_key: Option<String>,
) -> Result<SendTemplate> {
    let components = components_of(t);
    let named = t.parameter_format == "NAMED";
    let prepared = params::prepare(&components, named, p, t.header_media_path.is_some()).map_err(store::invalid)?;
    let header_file = match (&t.header_media_path, prepared.uses_stored_header) {
        (Some(path), true) => Some(HeaderFile {
            kind: params::header_format(&components).unwrap_or_default().to_ascii_lowercase(),
            path: path.clone(),
            mime: t.header_media_mime.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(SendTemplate {
        org_id: org_id.to_owned(),
        sender_id: sender_id.map(str::to_owned),
        template: TemplateContent {
            name: t.name.clone(),
            language: t.language.clone(),
            components: prepared.components,
            header_file,
        },
        text: prepared.text,
        idempotency_key,
    })
}

/// TEMPLATES-9: sends template `name` into a conversation.
pub async fn to_conversation(
    state: &AppState,
    org_id: &str,
    sender_id: Option<&str>,
    name: &str,
    req: SendToConversation,
    idempotency_key: Option<String>,
) -> Result<MessageView> {
    let conv_id = req
        .conversation_id
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::invalid("conversationId", "conversationId is required"))?;
    refs::require(state.db(), org_id, "conversationId", Kind::Conversation, &conv_id).await?;
    let conv = conversation::Entity::find_by_id(conv_id.clone())
        .one(state.db())
        .await?
        .ok_or(Error::NotFound("conversation"))?;
    let account = accounts::by_inbox(state.db(), org_id, &conv.inbox_id)
        .await?
        .ok_or_else(|| Error::Conflict("the conversation's WhatsApp number is no longer connected".into()))?;
    let t = sendable(state, org_id, Some(&account.waba_id), name, req.language.as_deref()).await?;
    let msg = message_for(org_id, sender_id, &t, &req.parameters, idempotency_key)?;
    Ok(state.rt.ask_conversation(org_id, &conv_id, msg).await?)
}

/// The connected number a send to a phone goes from.
async fn sending_account(
    state: &AppState,
    org_id: &str,
    t: &whatsapp_template::Model,
    account_id: Option<&str>,
) -> Result<whatsapp_account::Model> {
    if let Some(id) = account_id.filter(|a| !a.is_empty()) {
        let a = accounts::get(state.db(), org_id, id).await?.ok_or_else(|| {
            Error::invalid("accountId", "accountId names no connected WhatsApp account of this organization")
        })?;
        if t.waba_id.as_deref() != Some(a.waba_id.as_str()) {
            return Err(Error::invalid(
                "accountId",
                "the template belongs to another business account than this number",
            ));
        }
        return Ok(a);
    }
    let all = accounts::list(state.db(), org_id).await?;
    all.iter()
        .find(|a| t.account_id.as_deref() == Some(a.id.as_str()))
        .or_else(|| all.iter().find(|a| t.waba_id.as_deref() == Some(a.waba_id.as_str())))
        .cloned()
        .ok_or_else(|| Error::Conflict("no connected number belongs to the template's business account".into()))
}

/// TEMPLATES-10: sends template `name` to a phone number, in its open conversation or a new one.
pub async fn to_phone(
    state: &AppState,
    org_id: &str,
    sender_id: Option<&str>,
    name: &str,
    req: SendToPhone,
    idempotency_key: Option<String>,
) -> Result<PhoneSend> {
    let waba = match req.account_id.as_deref().filter(|a| !a.is_empty()) {
        Some(id) => Some(
            accounts::get(state.db(), org_id, id)
                .await?
                .ok_or_else(|| {
                    Error::invalid("accountId", "accountId names no connected WhatsApp account of this organization")
                })?
                .waba_id,
        ),
        None => None,
    };
    let phone = req
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Error::invalid("phone", "phone is required"))?;
    let wa_id = wa_id_of("phone", phone)?;
    let t = sendable(state, org_id, waba.as_deref(), name, req.language.as_deref()).await?;
    let account = sending_account(state, org_id, &t, req.account_id.as_deref()).await?;
    // Checked before a conversation is opened for nothing.
    let msg = message_for(org_id, sender_id, &t, &req.parameters, idempotency_key)?;
    let resolve = ResolveConversation { wa_id, profile_name: None, closed: None };
    let conversation_id = state.rt.ask_inbox(org_id, &account.inbox_id, resolve).await?;
    let message = state.rt.ask_conversation(org_id, &conversation_id, msg).await?;
    Ok(PhoneSend { conversation_id, message })
}
