//! The organization's routing settings, kept as one JSON document on its row: business hours,
//! the off-hours auto-reply, maintenance mode, the default team and idle-agent detection.

use chrono::{DateTime, Utc};
use entities::organization;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::error::ActorError;
use crate::policy::schedule::WeeklySchedule;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct RoutingSettings {
    /// Business hours; `None` = always open.
    pub business_hours: Option<WeeklySchedule>,
    pub off_hours: OffHours,
    pub maintenance: Maintenance,
    /// The team of conversations no routing rule matched.
    pub default_team_id: Option<String>,
    pub idle_agent: IdleAgentSettings,
}

pub const DEFAULT_OFF_HOURS_MESSAGE: &str =
    "Thanks for your message! We are outside our business hours right now and will reply as soon as we are back.";
pub const DEFAULT_MAINTENANCE_MESSAGE: &str =
    "We are doing some maintenance right now. Your message is safe with us and we will reply shortly.";

/// The reply sent to a customer who writes outside business hours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct OffHours {
    pub off_hours_auto_reply: bool,
    pub message: String,
}

impl Default for OffHours {
    fn default() -> Self {
        OffHours { off_hours_auto_reply: false, message: DEFAULT_OFF_HOURS_MESSAGE.into() }
    }
}

/// Maintenance mode: customers get `message`, and nothing is assigned until it ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct Maintenance {
    pub maintenance_mode: bool,
    pub message: String,
    /// When maintenance mode was last switched on (each period's reply is sent once per
    /// conversation).
    pub since: Option<DateTime<Utc>>,
}

impl Default for Maintenance {
    fn default() -> Self {
        Maintenance { maintenance_mode: false, message: DEFAULT_MAINTENANCE_MESSAGE.into(), since: None }
    }
}

/// What the idle-agent detector does with a conversation whose agent is gone or silent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IdleAction {
    /// To an available teammate (or the queue when there is none).
    #[default]
    #[serde(rename = "REASSIGN")]
    Reassign,
    #[serde(rename = "RETURN_TO_QUEUE")]
    ReturnToQueue,
    /// Leave it, but say so on the timeline and the event stream.
    #[serde(rename = "NOTIFY_ONLY")]
    NotifyOnly,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct IdleAgentSettings {
    pub enabled: bool,
    /// Minutes a customer may wait for the assigned agent's reply.
    pub no_reply_minutes: u32,
    /// Minutes an agent may be OFFLINE (no live connection) before their conversations move.
    pub offline_minutes: u32,
    pub action: IdleAction,
    /// Treat AWAY agents as offline.
    pub include_away: bool,
}

impl Default for IdleAgentSettings {
    fn default() -> Self {
        IdleAgentSettings {
            enabled: false,
            no_reply_minutes: 15,
            offline_minutes: 5,
            action: IdleAction::Reassign,
            include_away: false,
        }
    }
}

impl RoutingSettings {
    /// The settings stored on an organization row (defaults for anything missing or unreadable).
    pub fn of(org: &organization::Model) -> RoutingSettings {
        org.routing_settings.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
    }
}

/// Reads an organization's settings.
pub async fn load(db: &impl ConnectionTrait, org_id: &str) -> Result<RoutingSettings, ActorError> {
    let org = organization::Entity::find_by_id(org_id.to_owned())
        .one(db)
        .await?
        .ok_or(ActorError::NotFound("organization"))?;
    Ok(RoutingSettings::of(&org))
}

/// Reads, changes and writes an organization's settings in one write transaction with the row
/// locked, so two admins changing different sections at once both keep their change; returns
/// the new settings.
pub async fn update(
    db: &crate::Db,
    org_id: &str,
    change: impl FnOnce(&mut RoutingSettings),
) -> Result<RoutingSettings, ActorError> {
    let txn = db.begin_write().await?;
    let org = organization::Entity::find_by_id(org_id.to_owned())
        .lock_exclusive()
        .one(&*txn)
        .await?
        .ok_or(ActorError::NotFound("organization"))?;
    let mut settings = RoutingSettings::of(&org);
    change(&mut settings);
    let mut am = org.into_active_model();
    am.routing_settings = Set(Some(serde_json::to_string(&settings)?));
    am.updated_at = Set(Utc::now());
    am.update(&*txn).await?;
    txn.commit().await?;
    Ok(settings)
}
