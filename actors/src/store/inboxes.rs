//! What the runtime reads of an inbox: its channel (a conversation never changes inbox, so the
//! channel is read once per conversation) and its per-inbox settings (auto-assignment, working
//! hours).

use std::collections::HashMap;

use entities::enums::Channel;
use entities::inbox;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::policy::schedule::WeeklySchedule;

/// The channel of an inbox; a row that is gone counts as WhatsApp, the only channel that
/// existed before inboxes had others.
pub async fn channel_of(db: &impl ConnectionTrait, inbox_id: &str) -> Result<Channel, DbErr> {
    let channel: Option<Channel> = inbox::Entity::find_by_id(inbox_id.to_owned())
        .select_only()
        .column(inbox::Column::Channel)
        .into_tuple()
        .one(db)
        .await?;
    Ok(channel.unwrap_or(Channel::Whatsapp))
}

/// The organization's inboxes whose conversations are never auto-assigned: they wait in the
/// queue until an agent takes them.
pub async fn without_auto_assignment(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<String>, DbErr> {
    inbox::Entity::find()
        .select_only()
        .column(inbox::Column::Id)
        .filter(inbox::Column::OrgId.eq(org_id))
        .filter(inbox::Column::EnableAutoAssignment.eq(false))
        .into_tuple()
        .all(db)
        .await
}

/// The inbox's own working hours when it has them turned on: they replace the organization's
/// business hours for its conversations.
pub async fn working_hours(db: &impl ConnectionTrait, inbox_id: &str) -> Result<Option<WeeklySchedule>, DbErr> {
    let row: Option<(bool, Option<String>)> = inbox::Entity::find_by_id(inbox_id.to_owned())
        .select_only()
        .column(inbox::Column::WorkingHoursEnabled)
        .column(inbox::Column::WorkingHours)
        .into_tuple()
        .one(db)
        .await?;
    let Some((true, Some(text))) = row else { return Ok(None) };
    match serde_json::from_str::<WeeklySchedule>(&text) {
        Ok(hours) => Ok(Some(WeeklySchedule { is_enabled: true, ..hours })),
        Err(e) => {
            tracing::warn!(%inbox_id, error = %e, "unreadable inbox working hours ignored");
            Ok(None)
        }
    }
}

/// The greeting a new conversation of the inbox gets, when the inbox has one turned on.
pub async fn greeting(db: &impl ConnectionTrait, inbox_id: &str) -> Result<Option<String>, DbErr> {
    let row: Option<(bool, Option<String>)> = inbox::Entity::find_by_id(inbox_id.to_owned())
        .select_only()
        .column(inbox::Column::GreetingEnabled)
        .column(inbox::Column::GreetingMessage)
        .into_tuple()
        .one(db)
        .await?;
    Ok(match row {
        Some((true, Some(text))) if !text.trim().is_empty() => Some(text),
        _ => None,
    })
}

/// The channels of the organization's inboxes, by inbox id.
pub async fn channels(db: &impl ConnectionTrait, org_id: &str) -> Result<HashMap<String, Channel>, DbErr> {
    let rows: Vec<(String, Channel)> = inbox::Entity::find()
        .select_only()
        .column(inbox::Column::Id)
        .column(inbox::Column::Channel)
        .filter(inbox::Column::OrgId.eq(org_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
