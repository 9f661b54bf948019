//! A conversation's messages as an outside system reads them: what the customer and the
//! business said (no system notes, nothing hidden), newest page first, with who said it. The
//! classic Messages API reads conversations through here.

use std::collections::HashMap;

use entities::enums::Direction;
use entities::{contact, conversation, message, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::channels::whatsapp::accounts;
use crate::domain::{Error, Result};

/// Messages with what it takes to say who sent them and to whom.
pub struct Thread {
    pub conversation: conversation::Model,
    pub contact: Option<contact::Model>,
    /// The business's number the conversation is on, as WhatsApp displays it.
    pub business_phone: Option<String>,
    /// Chronological.
    pub messages: Vec<message::Model>,
    /// The names of the agents who sent any of `messages`.
    pub agents: HashMap<String, String>,
    /// The name of the organization's active bot, for the messages without a sender.
    pub bot_name: Option<String>,
    /// There are older messages than the first of `messages`.
    pub has_more: bool,
}

/// A page of `limit` messages of the conversation `conversation_id`: the latest, or with
/// `before` (a message id of the conversation) the ones just older than it. `before_field` names
/// the cursor in the caller's API.
pub async fn page(
    db: &impl sea_orm::ConnectionTrait,
    org_id: &str,
    conversation_id: &str,
    before: Option<&str>,
    before_field: &str,
    limit: u64,
) -> Result<Thread> {
    let conv =
        actors::store::conversations::get(db, org_id, conversation_id).await?.ok_or(Error::NotFound("conversation"))?;
    let mut q = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conv.id.clone()))
        .filter(message::Column::Direction.ne(Direction::System.as_str()))
        .filter(message::Column::Hidden.eq(false));
    if let Some(cursor) = before {
        let known = message::Entity::find_by_id(cursor.to_owned())
            .filter(message::Column::ConversationId.eq(conv.id.clone()))
            .one(db)
            .await?
            .is_some();
        if !known {
            return Err(Error::invalid(before_field, format!("{before_field} names no message of this conversation")));
        }
        q = q.filter(message::Column::Id.lt(cursor));
    }
    let mut rows = q.order_by_desc(message::Column::Id).limit(limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    rows.reverse();
    around(db, conv, rows, has_more).await
}

/// One message of the organization, with its conversation.
pub async fn one(db: &impl sea_orm::ConnectionTrait, org_id: &str, id: &str) -> Result<Thread> {
    let m = message::Entity::find_by_id(id.to_owned())
        .filter(message::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("message"))?;
    let conv =
        actors::store::conversations::get(db, org_id, &m.conversation_id).await?.ok_or(Error::NotFound("message"))?;
    around(db, conv, vec![m], false).await
}

/// The contact, the business number, the senders' names and the bot's name, in a fixed number
/// of queries whatever the page size.
async fn around(
    db: &impl sea_orm::ConnectionTrait,
    conv: conversation::Model,
    messages: Vec<message::Model>,
    has_more: bool,
) -> Result<Thread> {
    let contact = actors::store::contacts::get(db, &conv.org_id, &conv.contact_id).await?;
    let business_phone =
        accounts::by_inbox(db, &conv.org_id, &conv.inbox_id).await?.and_then(|a| a.display_phone_number);
    let mut ids: Vec<String> = messages.iter().filter_map(|m| m.sender_id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let agents = if ids.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .filter(user::Column::OrgId.eq(conv.org_id.clone()))
            .filter(user::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect()
    };
    let bot_sent = messages.iter().any(|m| m.direction == Direction::Outbound && m.sender_id.is_none());
    let bot_name = if bot_sent { crate::bot::config::active(db, &conv.org_id).await?.map(|c| c.name) } else { None };
    Ok(Thread { conversation: conv, contact, business_phone, messages, agents, bot_name, has_more })
}
