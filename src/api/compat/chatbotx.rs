//! The ChatbotX-style conversation item (seed 003), served by the native list
//! `GET /api/v1/conversations?representation=chatbotx`. The list, its filters, cursors and
//! envelope (`{data, nextCursor, prevCursor}`) are the native ones; only the items differ.
//!
//! Why a query parameter: a ChatbotX client passes every option of this list as a query
//! parameter (filters, `cursor`, `perPage`, `sort`) and only `Authorization` as a header, so
//! one more parameter is what it can send without new code; the native item is what every
//! client gets without it (the envelope and filters are the same, so a ChatbotX client that
//! does not ask still pages and filters correctly).
//!
//! Mapping: `workspaceId` is the organization; `botEnabled` is "the bot handles it";
//! `archivedAt` is the closing time of a closed conversation; `followed` is "marked for
//! follow-up"; `contactRepliedAt` the customer's last message; `adminRepliedAt` an agent's last
//! message (the bot's do not count); `contactLastReadAt` when the customer read our newest read
//! message; `messages` holds the newest message; `aiContextLastMessageId` is the newest
//! customer message a bot reply answered while more came in. `contactInboxes` has the contact's
//! stored address in the conversation's inbox (`contact_inboxes`; `messages[].contactInboxId`
//! names it), with `channel` `whatsapp`, `webchat` (live chat) or `api`. What the product does not keep (`botResumeAt`, `agentLastReadAt`, a contact's email,
//! location, locale, subscriptions) is null, its booleans false.

use chrono::{DateTime, Utc};
use entities::enums::{Channel, ConversationStatus};
use entities::{contact, conversation, message, team, user};
use serde::Serialize;
use utoipa::ToSchema;

use crate::conversations::related::Related;

/// A conversation as a ChatbotX client reads it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatbotxConversation {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub bot_enabled: bool,
    pub bot_resume_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    pub additional_attributes: Option<String>,
    pub contact_last_read_at: Option<DateTime<Utc>>,
    pub agent_last_read_at: Option<DateTime<Utc>>,
    pub last_activity_at: Option<DateTime<Utc>>,
    pub followed: bool,
    pub workspace_id: String,
    pub contact_id: String,
    pub admin_replied_at: Option<DateTime<Utc>>,
    pub contact_replied_at: Option<DateTime<Utc>>,
    pub contact_inboxes: Vec<ChatbotxContactInbox>,
    pub messages: Vec<ChatbotxMessage>,
    pub contact: Option<ChatbotxContact>,
    pub assigned_user: Option<ChatbotxUser>,
    pub assigned_inbox_team: Option<ChatbotxTeam>,
    pub ai_context_last_message_id: Option<String>,
    pub assigned_user_id: Option<String>,
    pub assigned_inbox_team_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatbotxContactInbox {
    /// `<contactId>:<inboxId>`.
    pub id: String,
    pub contact_id: String,
    pub inbox_id: String,
    /// whatsapp, webchat or api.
    pub channel: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatbotxMessage {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub conversation_id: String,
    pub contact_inbox_id: String,
    pub workspace_id: String,
    pub text: Option<String>,
    /// The type-specific content as JSON text.
    pub content_attributes: Option<String>,
    /// The provider's message id (wamid).
    pub source_id: Option<String>,
    /// The agent who sent it; null for the customer and the bot.
    pub sender_id: Option<String>,
    /// The sender's `Idempotency-Key`.
    pub client_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatbotxContact {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub avatar: Option<String>,
    /// E.164.
    pub phone_number: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    pub email_opt_in: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub full_name: Option<String>,
    pub last_read_at: Option<DateTime<Utc>>,
    /// The customer's WhatsApp id.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub location: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub subscribed_at: Option<DateTime<Utc>>,
    pub broadcast_subscribed_at: Option<DateTime<Utc>>,
    pub blocked_at: Option<DateTime<Utc>>,
    pub workspace_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatbotxUser {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    /// Where the avatar is served (authenticated), if the user has one.
    pub image: Option<String>,
    pub is_anonymous: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatbotxTeam {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub workspace_id: String,
    pub name: String,
}

/// The ChatbotX items of a page of conversations.
pub fn items(rows: &[conversation::Model], rel: &Related) -> Vec<ChatbotxConversation> {
    rows.iter().map(|c| item(c, rel)).collect()
}

fn item(c: &conversation::Model, rel: &Related) -> ChatbotxConversation {
    // The contact's stored address in the conversation's inbox (every conversation opened
    // since contact_inboxes exists has one; older ones were backfilled).
    let contact_inbox = rel
        .addresses
        .get(&(c.contact_id.clone(), c.inbox_id.clone()))
        .cloned()
        .unwrap_or_else(|| format!("{}:{}", c.contact_id, c.inbox_id));
    let channel = rel.inboxes.get(&c.inbox_id).map(|i| match i.channel {
        Channel::Livechat => "webchat".to_owned(),
        other => other.as_str().to_owned(),
    });
    ChatbotxConversation {
        id: c.id.clone(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        bot_enabled: c.status == ConversationStatus::BotHandling,
        bot_resume_at: None,
        archived_at: c.closed_at.filter(|_| c.status == ConversationStatus::Closed),
        additional_attributes: None,
        contact_last_read_at: rel.contact_read_at.get(&c.id).copied(),
        agent_last_read_at: None,
        last_activity_at: c.last_message_at,
        followed: c.follow_up_at.is_some(),
        workspace_id: c.org_id.clone(),
        contact_id: c.contact_id.clone(),
        admin_replied_at: rel.agent_replied_at.get(&c.id).copied(),
        contact_replied_at: c.last_inbound_at,
        contact_inboxes: channel
            .map(|channel| ChatbotxContactInbox {
                id: contact_inbox.clone(),
                contact_id: c.contact_id.clone(),
                inbox_id: c.inbox_id.clone(),
                channel,
            })
            .into_iter()
            .collect(),
        messages: rel.latest.get(&c.id).map(|m| message(m, &contact_inbox)).into_iter().collect(),
        contact: rel.contacts.get(&c.contact_id).map(contact),
        assigned_user: c.assigned_to.as_ref().and_then(|u| rel.users.get(u)).map(user),
        assigned_inbox_team: c.team_id.as_ref().and_then(|t| rel.teams.get(t)).map(team),
        ai_context_last_message_id: c.answered_through.clone(),
        assigned_user_id: c.assigned_to.clone(),
        assigned_inbox_team_id: c.team_id.clone(),
    }
}

fn message(m: &message::Model, contact_inbox: &str) -> ChatbotxMessage {
    ChatbotxMessage {
        id: m.id.clone(),
        created_at: m.created_at,
        updated_at: m.updated_at,
        conversation_id: m.conversation_id.clone(),
        contact_inbox_id: contact_inbox.to_owned(),
        workspace_id: m.org_id.clone(),
        text: m.text.clone(),
        content_attributes: m.content.clone(),
        source_id: m.provider_message_id.clone(),
        sender_id: m.sender_id.clone(),
        client_id: m.idempotency_key.clone(),
    }
}

fn contact(c: &contact::Model) -> ChatbotxContact {
    let full = c.name.clone().or_else(|| c.profile_name.clone()).filter(|n| !n.trim().is_empty());
    let (first, last) = match full.as_deref().map(str::trim).and_then(|n| n.split_once(' ')) {
        Some((f, l)) => (Some(f.to_owned()), Some(l.trim().to_owned())),
        None => (full.clone(), None),
    };
    ChatbotxContact {
        id: c.id.clone(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        avatar: None,
        phone_number: Some(format!("+{}", c.wa_id)).filter(|_| !c.wa_id.is_empty()),
        email: None,
        email_verified: false,
        email_opt_in: false,
        first_name: first,
        last_name: last,
        full_name: full,
        last_read_at: None,
        reference: Some(c.wa_id.clone()).filter(|w| !w.is_empty()),
        country: None,
        state: None,
        city: None,
        location: None,
        locale: None,
        timezone: None,
        subscribed_at: None,
        broadcast_subscribed_at: None,
        blocked_at: None,
        workspace_id: c.org_id.clone(),
    }
}

fn user(u: &user::Model) -> ChatbotxUser {
    ChatbotxUser {
        id: u.id.clone(),
        created_at: u.created_at,
        updated_at: u.updated_at,
        name: u.name.clone(),
        email: u.email.clone(),
        // Not tracked.
        email_verified: false,
        image: crate::api::users::avatar_url(u),
        // Every user is a named member of the organization.
        is_anonymous: false,
    }
}

fn team(t: &team::Model) -> ChatbotxTeam {
    ChatbotxTeam {
        id: t.id.clone(),
        created_at: t.created_at,
        updated_at: t.updated_at,
        workspace_id: t.org_id.clone(),
        name: t.name.clone(),
    }
}
