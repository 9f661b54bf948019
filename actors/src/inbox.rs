//! `InboxActor`: one per inbox (a WhatsApp number, a widget, an API channel). It finds or opens
//! the conversation for a customer's message, one at a time, so two messages of a new customer
//! never open two conversations. Routing, assignment and business-hours replies join it later.

use std::collections::HashMap;

use actix::prelude::*;
use chrono::Utc;
use entities::enums::{Channel, ConversationStatus};
use entities::{contact, conversation, organization};
use sea_orm::{ActiveModelTrait, EntityTrait};

use crate::error::ActorError;
use crate::events::EventName;
use crate::runtime::Runtime;
use crate::store::{self, events::NewEvent};
use crate::views::ConversationView;

/// Find or open the conversation of the customer with this WhatsApp id.
#[derive(Message, Clone)]
#[rtype(result = "Result<String, ActorError>")]
pub struct ResolveConversation {
    pub wa_id: String,
    pub profile_name: Option<String>,
    /// A conversation the caller found closed: open a new one instead of returning it.
    pub closed: Option<String>,
}

/// Find or open the conversation of a contact the caller has already found or created (a
/// website visitor, an API inbox's customer), with its address in this inbox recorded.
#[derive(Message, Clone)]
#[rtype(result = "Result<String, ActorError>")]
pub struct ResolveContact {
    pub contact_id: String,
    /// A conversation the caller found closed: open a new one instead of returning it.
    pub closed: Option<String>,
}

pub struct InboxActor {
    rt: Runtime,
    org_id: String,
    id: String,
    /// wa_id (or `contact:<id>` for a customer known by contact) -> open conversation id and
    /// the profile name last seen, so a busy customer costs no lookup per message (a new
    /// profile name goes to the database once).
    open: HashMap<String, (String, Option<String>)>,
}

/// Bound on the cache; past it the cache is cleared and refilled from the database.
const MAX_CACHED: usize = 50_000;

impl InboxActor {
    pub fn new(rt: Runtime, org_id: String, id: String) -> Self {
        InboxActor { rt, org_id, id, open: HashMap::new() }
    }
}

impl Actor for InboxActor {
    type Context = Context<Self>;
}

impl Handler<ResolveConversation> for InboxActor {
    type Result = AtomicResponse<Self, Result<String, ActorError>>;
    fn handle(&mut self, msg: ResolveConversation, _: &mut Context<Self>) -> Self::Result {
        if let Some(closed) = &msg.closed {
            self.open.retain(|_, (c, _)| c != closed);
        }
        let cached = self
            .open
            .get(&msg.wa_id)
            .filter(|(_, seen)| msg.profile_name.is_none() || *seen == msg.profile_name)
            .map(|(id, _)| id.clone());
        let profile_name = msg.profile_name.clone();
        let (rt, org_id, inbox_id) = (self.rt.clone(), self.org_id.clone(), self.id.clone());
        let wa_id = msg.wa_id.clone();
        let fut = async move {
            if let Some(id) = cached {
                return Ok(id);
            }
            match find_or_open(&rt, &org_id, &inbox_id, &msg).await {
                // Another node opened the conversation (or created the contact) at the same
                // moment; the unique indexes refused ours, so theirs is there to be found.
                Err(ActorError::Db(e)) if crate::db::is_unique_violation(&e) => {
                    find_or_open(&rt, &org_id, &inbox_id, &msg).await
                }
                other => other,
            }
        };
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(move |res, act, _| {
            if let Ok(id) = &res {
                if act.open.len() >= MAX_CACHED {
                    act.open.clear();
                }
                act.open.insert(wa_id, (id.clone(), profile_name));
            }
            res
        })))
    }
}

impl Handler<ResolveContact> for InboxActor {
    type Result = AtomicResponse<Self, Result<String, ActorError>>;
    fn handle(&mut self, msg: ResolveContact, _: &mut Context<Self>) -> Self::Result {
        if let Some(closed) = &msg.closed {
            self.open.retain(|_, (c, _)| c != closed);
        }
        let key = format!("contact:{}", msg.contact_id);
        let cached = self.open.get(&key).map(|(id, _)| id.clone());
        let (rt, org_id, inbox_id) = (self.rt.clone(), self.org_id.clone(), self.id.clone());
        let fut = async move {
            if let Some(id) = cached {
                return Ok(id);
            }
            let open = async || {
                let txn = rt.db.begin_write_in(&org_id).await?;
                let org = organization::Entity::find_by_id(org_id.clone())
                    .one(&*txn)
                    .await?
                    .ok_or(ActorError::NotFound("organization"))?;
                let contact = store::contacts::get(&*txn, &org_id, &msg.contact_id)
                    .await?
                    .ok_or(ActorError::NotFound("contact"))?;
                let mut news = Vec::new();
                let id =
                    open_for(&*txn, &org, &inbox_id, &contact, msg.closed.as_deref(), &mut None, &mut news).await?;
                rt.commit(txn, &org_id, news).await?;
                Ok::<_, ActorError>(id)
            };
            match open().await {
                // Another node opened the conversation at the same moment: find theirs.
                Err(ActorError::Db(e)) if crate::db::is_unique_violation(&e) => open().await,
                other => other,
            }
        };
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(move |res, act, _| {
            if let Ok(id) = &res {
                if act.open.len() >= MAX_CACHED {
                    act.open.clear();
                }
                act.open.insert(key, (id.clone(), None));
            }
            res
        })))
    }
}

async fn find_or_open(
    rt: &Runtime,
    org_id: &str,
    inbox_id: &str,
    msg: &ResolveConversation,
) -> Result<String, ActorError> {
    let txn = rt.db.begin_write_in(org_id).await?;
    let org = organization::Entity::find_by_id(org_id.to_owned())
        .one(&*txn)
        .await?
        .ok_or(ActorError::NotFound("organization"))?;
    let mut news = Vec::new();
    let id = open_in(&*txn, &org, inbox_id, msg, &mut None, &mut news).await?;
    rt.commit(txn, org_id, news).await?;
    Ok(id)
}

/// Within a write transaction: the customer's contact (created, or its profile name updated),
/// and their open conversation in this inbox, or a new one; the events to announce go to
/// `news`. `channel` is the inbox's, read at the first conversation opened and kept for the
/// next ones of the same turn.
async fn open_in(
    txn: &impl sea_orm::ConnectionTrait,
    org: &organization::Model,
    inbox_id: &str,
    msg: &ResolveConversation,
    channel: &mut Option<Channel>,
    news: &mut Vec<NewEvent>,
) -> Result<String, ActorError> {
    let org_id = org.id.as_str();
    let (contact, changed) = store::contacts::upsert(txn, org_id, &msg.wa_id, msg.profile_name.as_deref()).await?;
    // A new WhatsApp profile name (and the name, if it follows it) is announced like an edit.
    if changed {
        let payload = serde_json::to_string(&crate::views::ContactView::from(&contact))?;
        news.push(NewEvent { conversation: None, name: EventName::ContactUpdated, payload });
    }
    open_for(txn, org, inbox_id, &contact, msg.closed.as_deref(), channel, news).await
}

/// Within a write transaction: the contact's open conversation in this inbox (unless it is
/// `closed`, which the caller found closed), or a new one.
async fn open_for(
    txn: &impl sea_orm::ConnectionTrait,
    org: &organization::Model,
    inbox_id: &str,
    contact: &contact::Model,
    closed: Option<&str>,
    channel: &mut Option<Channel>,
    news: &mut Vec<NewEvent>,
) -> Result<String, ActorError> {
    let org_id = org.id.as_str();
    if let Some(existing) = store::conversations::open_for_contact(txn, inbox_id, &contact.id).await?
        && closed != Some(existing.id.as_str())
    {
        return Ok(existing.id);
    }
    // A WhatsApp customer's address in this inbox is their WhatsApp id; other channels record
    // theirs before they ask.
    if !contact.wa_id.is_empty() {
        store::contacts::attach(txn, org_id, &contact.id, inbox_id, &contact.wa_id).await?;
    }
    let status = if org.bot_enabled { ConversationStatus::BotHandling } else { ConversationStatus::Open };
    let now = Utc::now();
    let row = conversation::Model {
        id: crate::new_id(),
        org_id: org_id.to_owned(),
        inbox_id: inbox_id.to_owned(),
        contact_id: contact.id.clone(),
        status,
        assigned_to: None,
        unread_count: 0,
        // The message that opens it follows at once; the list sorts on this.
        last_message_at: Some(now),
        last_message_preview: None,
        last_inbound_at: None,
        event_seq: 1,
        closed_at: None,
        category: None,
        follow_up_at: None,
        follow_up_note: None,
        follow_up_by: None,
        handoff_summary: None,
        awaiting_reply: false,
        bot_epoch: 0,
        team_id: None,
        queued_at: (status == ConversationStatus::Open).then_some(now),
        awaiting_since: None,
        notice_marker: None,
        answered_through: None,
        created_at: now,
        updated_at: now,
    };
    conversation::ActiveModel::from(row.clone()).reset_all().insert(txn).await?;
    let channel = match *channel {
        Some(c) => c,
        None => *channel.insert(store::inboxes::channel_of(txn, inbox_id).await?),
    };
    let payload = serde_json::to_string(&ConversationView::new(&row, Some(contact), channel))?;
    news.push(NewEvent { conversation: Some((row.id.clone(), 1)), name: EventName::ConversationCreated, payload });
    Ok(row.id)
}

/// Find or open the conversations of many customers in one turn and one transaction (a
/// campaign's page of recipients), answering their ids in order. Customers' own messages wait
/// behind one such turn instead of behind one turn per recipient.
#[derive(Message, Clone)]
#[rtype(result = "Result<Vec<String>, ActorError>")]
pub struct ResolveMany {
    pub wa_ids: Vec<String>,
}

impl Handler<ResolveMany> for InboxActor {
    type Result = AtomicResponse<Self, Result<Vec<String>, ActorError>>;
    fn handle(&mut self, msg: ResolveMany, _: &mut Context<Self>) -> Self::Result {
        let known: Vec<Option<String>> =
            msg.wa_ids.iter().map(|w| self.open.get(w).map(|(id, _)| id.clone())).collect();
        let (rt, org_id, inbox_id) = (self.rt.clone(), self.org_id.clone(), self.id.clone());
        let wa_ids = msg.wa_ids.clone();
        let fut = async move {
            let missing: Vec<&String> =
                wa_ids.iter().zip(&known).filter(|(_, k)| k.is_none()).map(|(w, _)| w).collect();
            let mut opened = Vec::with_capacity(missing.len());
            if !missing.is_empty() {
                let txn = rt.db.begin_write_in(&org_id).await?;
                let org = organization::Entity::find_by_id(org_id.clone())
                    .one(&*txn)
                    .await?
                    .ok_or(ActorError::NotFound("organization"))?;
                let mut news = Vec::new();
                let mut channel = None;
                for wa_id in missing {
                    let one = ResolveConversation { wa_id: wa_id.clone(), profile_name: None, closed: None };
                    opened.push(open_in(&*txn, &org, &inbox_id, &one, &mut channel, &mut news).await?);
                }
                rt.commit(txn, &org_id, news).await?;
            }
            let mut opened = opened.into_iter();
            Ok(known.into_iter().map(|k| k.or_else(|| opened.next()).unwrap_or_default()).collect::<Vec<String>>())
        };
        let wa_ids = msg.wa_ids;
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(move |res, act, _| {
            if let Ok(ids) = &res {
                if act.open.len() + ids.len() >= MAX_CACHED {
                    act.open.clear();
                }
                for (w, id) in wa_ids.into_iter().zip(ids) {
                    act.open.entry(w).or_insert_with(|| (id.clone(), None));
                }
            }
            res
        })))
    }
}
