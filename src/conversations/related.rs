//! What a page of conversations refers to, for list representations that embed it (the
//! ChatbotX-style list embeds the contact, the assigned user and team, the inbox, the latest
//! message). Each kind is loaded in one query for the whole page.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::enums::Direction;
use entities::{contact, conversation, inbox, message, team, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::Result;

/// The objects a page of conversations refers to, by id (messages by conversation id).
#[derive(Default)]
pub struct Related {
    pub contacts: HashMap<String, contact::Model>,
    /// Assigned users (deleted ones included: the conversation still names them).
    pub users: HashMap<String, user::Model>,
    pub teams: HashMap<String, team::Model>,
    pub inboxes: HashMap<String, inbox::Model>,
    /// The id of each contact's stored address in an inbox, by (contact, inbox).
    pub addresses: HashMap<(String, String), String>,
    /// Each conversation's newest message (system notes and hidden messages left out).
    pub latest: HashMap<String, message::Model>,
    /// When the customer read the newest outbound message they read.
    pub contact_read_at: HashMap<String, DateTime<Utc>>,
    /// When an agent (not the bot) last wrote to the customer.
    pub agent_replied_at: HashMap<String, DateTime<Utc>>,
}

/// Loads what `rows` refer to, in a fixed number of queries.
pub async fn of(db: &impl ConnectionTrait, org_id: &str, rows: &[conversation::Model]) -> Result<Related> {
    if rows.is_empty() {
        return Ok(Related::default());
    }
    let ids = |f: fn(&conversation::Model) -> Option<String>| {
        let mut v: Vec<String> = rows.iter().filter_map(f).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let contacts = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org_id))
        .filter(contact::Column::Id.is_in(ids(|c| Some(c.contact_id.clone()))))
        .all(db)
        .await?;
    let users = user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::Id.is_in(ids(|c| c.assigned_to.clone())))
        .all(db)
        .await?;
    let teams = team::Entity::find()
        .filter(team::Column::OrgId.eq(org_id))
        .filter(team::Column::Id.is_in(ids(|c| c.team_id.clone())))
        .all(db)
        .await?;
    let inboxes = inbox::Entity::find()
        .filter(inbox::Column::OrgId.eq(org_id))
        .filter(inbox::Column::Id.is_in(ids(|c| Some(c.inbox_id.clone()))))
        .all(db)
        .await?;
    let addresses = actors::store::contacts::addresses(db, &ids(|c| Some(c.contact_id.clone()))).await?;
    let conv_ids = ids(|c| Some(c.id.clone()));
    // Ids are time-ordered, so the newest message of a kind is the one with the largest id.
    let newest = |extra: sea_orm::Condition| {
        message::Entity::find()
            .select_only()
            .column(message::Column::ConversationId)
            .column_as(message::Column::Id.max(), "newest")
            .filter(message::Column::ConversationId.is_in(conv_ids.clone()))
            .filter(extra)
            .group_by(message::Column::ConversationId)
            .into_tuple::<(String, Option<String>)>()
            .all(db)
    };
    let visible = sea_orm::Condition::all()
        .add(message::Column::Direction.ne(Direction::System.as_str()))
        .add(message::Column::Hidden.eq(false));
    let outbound = || sea_orm::Condition::all().add(message::Column::Direction.eq(Direction::Outbound.as_str()));
    let latest = newest(visible).await?;
    let read = newest(outbound().add(message::Column::ReadAt.is_not_null())).await?;
    let replied = newest(outbound().add(message::Column::SenderId.is_not_null())).await?;
    let mut wanted: Vec<String> = latest.iter().chain(&read).chain(&replied).filter_map(|(_, id)| id.clone()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let messages: HashMap<String, message::Model> = if wanted.is_empty() {
        HashMap::new()
    } else {
        message::Entity::find()
            .filter(message::Column::Id.is_in(wanted))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect()
    };
    let pick = |pairs: Vec<(String, Option<String>)>| -> Vec<(String, message::Model)> {
        pairs.into_iter().filter_map(|(conv, id)| Some((conv, messages.get(&id?)?.clone()))).collect()
    };
    Ok(Related {
        contacts: contacts.into_iter().map(|c| (c.id.clone(), c)).collect(),
        users: users.into_iter().map(|u| (u.id.clone(), u)).collect(),
        teams: teams.into_iter().map(|t| (t.id.clone(), t)).collect(),
        inboxes: inboxes.into_iter().map(|i| (i.id.clone(), i)).collect(),
        addresses: addresses.into_iter().map(|a| ((a.contact_id, a.inbox_id), a.id)).collect(),
        contact_read_at: pick(read).into_iter().filter_map(|(c, m)| Some((c, m.read_at?))).collect(),
        agent_replied_at: pick(replied).into_iter().map(|(c, m)| (c, m.created_at)).collect(),
        latest: pick(latest).into_iter().collect(),
    })
}
