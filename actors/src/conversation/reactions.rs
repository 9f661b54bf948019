//! Reactions attach to the message they react to. A customer's reaction arrives as a WhatsApp
//! message of type `reaction` and updates its target (an empty emoji takes it back); an agent's
//! goes out to WhatsApp first and is recorded once WhatsApp took it. One reaction per person per
//! message: a new one replaces the old.

use actix::prelude::*;
use chrono::Utc;
use entities::message;
use sea_orm::{ActiveValue::Set, IntoActiveModel};
use serde::{Deserialize, Serialize};

use super::outbound::{own_message, update_message};
use super::{ConversationActor, Loaded};
use crate::channel::{OutboundContent, OutboundRequest};
use crate::error::ActorError;
use crate::runtime::Runtime;
use crate::store;
use crate::views::{MessageView, Reaction, stored_reactions};

/// An agent reacts to a message (empty `emoji`: takes the reaction back).
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<MessageView, ActorError>")]
pub struct React {
    pub org_id: String,
    pub message_id: String,
    pub emoji: String,
    pub by: String,
}

/// The message's reactions with `by`'s replaced by `emoji` at `at` (an empty emoji stays as the
/// record that the reaction was taken back at that time).
fn with_reaction(m: &message::Model, by: &str, emoji: &str, at: chrono::DateTime<Utc>) -> Option<String> {
    let mut all: Vec<Reaction> = stored_reactions(m).into_iter().filter(|r| r.by != by).collect();
    all.push(Reaction { emoji: emoji.to_owned(), by: by.to_owned(), at });
    Some(serde_json::to_string(&all).unwrap_or_default())
}

/// Applies a customer's reaction, sent at `sent_at`, to its target in this conversation; `None`
/// when the target is not one of this conversation's messages (the caller then keeps the
/// reaction as a message). A reaction older than the one applied last (WhatsApp delivering an
/// earlier webhook again) changes nothing, and neither does the same one again.
pub(super) async fn customer_reaction(
    rt: &Runtime,
    s: &mut Loaded,
    target_wamid: &str,
    emoji: &str,
    sent_at: chrono::DateTime<Utc>,
) -> Result<Option<MessageView>, ActorError> {
    let found = store::messages::by_provider_id(&rt.db.conn, &s.conv.inbox_id, target_wamid).await?;
    let Some(target) = found.filter(|m| m.conversation_id == s.conv.id) else { return Ok(None) };
    let last = stored_reactions(&target).into_iter().find(|r| r.by == "customer");
    if last.is_some_and(|r| r.at > sent_at || (r.at == sent_at && r.emoji == emoji)) {
        return Ok(Some(MessageView::from(&target)));
    }
    let reactions = with_reaction(&target, "customer", emoji, sent_at);
    let mut am = target.into_active_model();
    am.reactions = Set(reactions);
    am.updated_at = Set(Utc::now());
    let updated = update_message(rt, s, am).await?;
    Ok(Some(MessageView::from(&updated)))
}

impl Handler<React> for ConversationActor {
    type Result = AtomicResponse<Self, Result<MessageView, ActorError>>;
    fn handle(&mut self, msg: React, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, mut s| async move {
            let target = own_message(&rt, &s, &msg.message_id).await?;
            let Some(wamid) = target.provider_message_id.clone() else {
                return Err(ActorError::Conflict(
                    "the message has not reached WhatsApp, so it cannot be reacted to".into(),
                ));
            };
            let Some(to) = s.contact.as_ref().map(|c| c.wa_id.clone()) else {
                return Err(ActorError::Conflict("the conversation has no contact".into()));
            };
            super::outbound::window_open(&s)?;
            let request = OutboundRequest {
                org_id: s.conv.org_id.clone(),
                inbox_id: s.conv.inbox_id.clone(),
                conversation_id: s.conv.id.clone(),
                channel: s.channel,
                to,
                content: OutboundContent::Reaction { message_id: wamid, emoji: msg.emoji.clone() },
                message_id: None,
                bulk: false,
                reply_to: None,
            };
            rt.channel.send(request).await.map_err(|e| {
                ActorError::Conflict(format!("WhatsApp did not take the reaction: {} ({})", e.message, e.code))
            })?;
            let reactions = with_reaction(&target, &msg.by, &msg.emoji, Utc::now());
            let mut am = target.into_active_model();
            am.reactions = Set(reactions);
            am.updated_at = Set(Utc::now());
            let updated = update_message(&rt, &mut s, am).await?;
            Ok((s, MessageView::from(&updated)))
        })
    }
}
