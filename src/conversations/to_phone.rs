//! Sending a free-form message (text, or a file by link) from an inbox to a phone number: the
//! customer's open conversation in that inbox is found or opened by the inbox's actor, and the
//! message goes through the conversation's actor and the outbox like any agent reply (the
//! 24-hour window included). This is what the classic Messages API's send does.

use actors::conversation::{ReplyTo, SendMediaLink, SendText};
use actors::inbox::ResolveConversation;
use actors::views::MessageView;
use entities::enums::Channel;
use entities::{inbox, message};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::media::MAX_CAPTION;
use crate::channels::whatsapp::accounts;
use crate::channels::whatsapp::templates::send::wa_id_of;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// Longest WhatsApp text body.
pub const MAX_TEXT: usize = 4096;
/// Longest link to a file.
pub const MAX_LINK: usize = 2048;

/// What is sent.
pub enum Body {
    Text {
        text: String,
    },
    /// A file WhatsApp fetches from `link`: `kind` is image, video, audio or document.
    Link {
        kind: String,
        link: String,
        caption: Option<String>,
        filename: Option<String>,
    },
}

/// A message to a phone number, with the names of the fields it came in (so a refusal names
/// the caller's field).
pub struct Outgoing {
    pub inbox_id: String,
    /// The phone number in E.164 (`+62812345678`).
    pub to: String,
    pub body: Body,
    /// Our id of a message of the same conversation that this one answers.
    pub reply_to: Option<String>,
    pub idempotency_key: Option<String>,
}

/// Field names of the caller's API, for refusals.
pub struct Fields {
    pub inbox_id: &'static str,
    pub to: &'static str,
    pub text: &'static str,
    pub link: &'static str,
    pub caption: &'static str,
    pub reply_to: &'static str,
}

/// The conversation the message went to, and the message as it stands after the send.
pub struct Sent {
    pub conversation_id: String,
    /// The customer's WhatsApp id (the number's digits).
    pub wa_id: String,
    pub message: MessageView,
}

/// Checks the message, opens (or finds) the customer's conversation in the inbox and has its
/// actor send it. The inbox must be a connected WhatsApp number of the organization.
pub async fn send(state: &AppState, org_id: &str, sender_id: &str, out: Outgoing, f: &Fields) -> Result<Sent> {
    let wa_id = wa_id_of(f.to, out.to.trim())?;
    check(&out.body, f)?;
    let inbox = inbox::Entity::find_by_id(out.inbox_id.clone())
        .filter(inbox::Column::OrgId.eq(org_id))
        .filter(inbox::Column::DeletedAt.is_null())
        .one(state.db())
        .await?
        .ok_or(Error::NotFound("inbox"))?;
    if inbox.channel != Channel::Whatsapp {
        return Err(Error::Unprocessable(format!(
            "{} {} is a {} inbox; WhatsApp messages are sent from a whatsapp inbox",
            f.inbox_id,
            inbox.id,
            inbox.channel.as_str()
        )));
    }
    if accounts::by_inbox(state.db(), org_id, &inbox.id).await?.is_none() {
        return Err(Error::Conflict("the inbox's WhatsApp number is not connected".into()));
    }
    // The quoted message is looked up before a conversation is opened for nothing.
    let quoted = match out.reply_to.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(id) => Some(
            message::Entity::find_by_id(id.to_owned())
                .filter(message::Column::OrgId.eq(org_id))
                .one(state.db())
                .await?
                .ok_or(Error::NotFound("message"))?,
        ),
        None => None,
    };
    let resolve = ResolveConversation { wa_id: wa_id.clone(), profile_name: None, closed: None };
    let conversation_id = state.rt.ask_inbox(org_id, &inbox.id, resolve).await?;
    let reply_to = match quoted {
        None => None,
        Some(m) if m.conversation_id != conversation_id => {
            return Err(Error::invalid(f.reply_to, format!("{} names a message of another conversation", f.reply_to)));
        }
        Some(m) => match m.provider_message_id {
            Some(wamid) => Some(ReplyTo { message_id: m.id, provider_message_id: wamid }),
            None => {
                return Err(Error::invalid(
                    f.reply_to,
                    format!("{} names a message WhatsApp never received, which cannot be quoted", f.reply_to),
                ));
            }
        },
    };
    let (org, sender) = (org_id.to_owned(), sender_id.to_owned());
    let message = match out.body {
        Body::Text { text } => {
            let msg = SendText { org_id: org, sender_id: sender, text, idempotency_key: out.idempotency_key, reply_to };
            state.rt.ask_conversation(org_id, &conversation_id, msg).await?
        }
        Body::Link { kind, link, caption, filename } => {
            let msg = SendMediaLink {
                org_id: org,
                sender_id: sender,
                kind,
                link,
                caption,
                filename,
                idempotency_key: out.idempotency_key,
                reply_to,
            };
            state.rt.ask_conversation(org_id, &conversation_id, msg).await?
        }
    };
    Ok(Sent { conversation_id, wa_id, message })
}

/// What WhatsApp takes: a text of 1 to 4096 characters; a file by an http(s) link, with a
/// caption of at most 1024 characters (none on audio).
fn check(body: &Body, f: &Fields) -> Result<()> {
    match body {
        Body::Text { text } => {
            if text.trim().is_empty() {
                return Err(Error::invalid(f.text, format!("{} is required", f.text)));
            }
            if text.chars().count() > MAX_TEXT {
                return Err(Error::invalid(f.text, format!("{} is longer than {MAX_TEXT} characters", f.text)));
            }
        }
        Body::Link { kind, link, caption, .. } => {
            let parsed = reqwest::Url::parse(link.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
            if parsed.is_none_or(|u| u.host_str().is_none()) || link.len() > MAX_LINK {
                return Err(Error::invalid(
                    f.link,
                    format!("{} is the file's public http(s) URL, at most {MAX_LINK} characters", f.link),
                ));
            }
            if let Some(c) = caption {
                if kind == "audio" {
                    return Err(Error::invalid(f.caption, "WhatsApp takes no caption on audio"));
                }
                if c.chars().count() > MAX_CAPTION {
                    return Err(Error::invalid(
                        f.caption,
                        format!("{} is at most {MAX_CAPTION} characters", f.caption),
                    ));
                }
            }
        }
    }
    Ok(())
}
