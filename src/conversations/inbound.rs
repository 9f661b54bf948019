//! A customer's message into its conversation, for every channel: the inbox's actor finds or
//! opens the customer's conversation, the conversation's actor stores the message (once per
//! provider message id). A conversation closed (or deleted) between the two steps makes the
//! inbox open a new one; the second time, the caller is told to try again, so nothing
//! acknowledged is ever lost.

use actors::ActorError;
use actors::conversation::{Inbound, InboundMessage, InboundOutcome};
use actors::inbox::{ResolveContact, ResolveConversation};
use actors::runtime::Runtime;
use actors::views::MessageView;

use crate::domain::{Error, Result};

/// Who wrote: a WhatsApp customer by their WhatsApp id (the inbox creates or updates the
/// contact), or a contact the channel has already found or created.
#[derive(Clone, Debug)]
pub enum Customer {
    WhatsApp { wa_id: String, profile_name: Option<String> },
    Contact(String),
}

/// What became of a customer's message.
#[derive(Debug)]
pub enum Placed {
    Stored {
        conversation_id: String,
        message: Box<MessageView>,
    },
    /// The same provider message id was stored before (a redelivery).
    Duplicate {
        conversation_id: String,
    },
}

impl Placed {
    pub fn conversation_id(&self) -> &str {
        match self {
            Placed::Stored { conversation_id, .. } | Placed::Duplicate { conversation_id } => conversation_id,
        }
    }
}

pub async fn place(
    rt: &Runtime,
    org_id: &str,
    inbox_id: &str,
    customer: &Customer,
    message: InboundMessage,
) -> Result<Placed> {
    let mut closed = None;
    // At most twice: the second time after the inbox opened a new conversation because the one
    // it had was closed in the meantime.
    for _ in 0..2 {
        let conversation_id = match customer {
            Customer::WhatsApp { wa_id, profile_name } => {
                let resolve = ResolveConversation {
                    wa_id: wa_id.clone(),
                    profile_name: profile_name.clone(),
                    closed: closed.take(),
                };
                rt.ask_inbox(org_id, inbox_id, resolve).await
            }
            Customer::Contact(contact_id) => {
                let resolve = ResolveContact { contact_id: contact_id.clone(), closed: closed.take() };
                rt.ask_inbox(org_id, inbox_id, resolve).await
            }
        }
        .map_err(internal)?;
        let msg = Inbound { org_id: org_id.to_owned(), message: message.clone() };
        match rt.ask_conversation(org_id, &conversation_id, msg).await {
            Ok(InboundOutcome::Stored(message)) => return Ok(Placed::Stored { conversation_id, message }),
            Ok(InboundOutcome::Duplicate) => return Ok(Placed::Duplicate { conversation_id }),
            // Closed, or deleted since the inbox remembered it: the inbox opens a new one.
            Ok(InboundOutcome::Closed) | Err(ActorError::NotFound("conversation")) => closed = Some(conversation_id),
            Err(e) => return Err(internal(e)),
        }
    }
    // Closed under us twice: the caller answers 503 so the message is sent again, not lost.
    Err(Error::Unavailable(format!(
        "message {} could not be placed in a conversation; send it again",
        message.provider_message_id
    )))
}

/// A runtime failure while storing what a channel delivered: ours, never the sender's (the
/// channel's handler answers so that it is delivered again).
pub(crate) fn internal(e: ActorError) -> Error {
    match e {
        ActorError::NotFound(what) => Error::Internal(format!("{what} vanished during ingest")),
        ActorError::Db(db) => Error::Db(db),
        other => Error::Internal(other.to_string()),
    }
}
