//! The organization's routing settings (what `actors::people::settings` stores): maintenance
//! mode, the off-hours auto-reply, business hours and idle-agent detection, each checked here and
//! saved in one write of the organization's settings.

use actors::Runtime;
use actors::people::settings::{self, IdleAction, IdleAgentSettings, Maintenance, OffHours};
use actors::policy::schedule::WeeklySchedule;
use chrono::Utc;

use crate::domain::{Error, Result};

/// A message customers are sent: 1 to 4096 characters (WhatsApp's limit).
fn message_field(field: &str, m: &str) -> Result<String> {
    let m = m.trim();
    if m.is_empty() || m.chars().count() > 4096 {
        return Err(Error::invalid(field, "message must be 1 to 4096 characters"));
    }
    Ok(m.to_owned())
}

/// Maintenance mode on or off, and what customers are told while it is on. Turning it off lets
/// auto-assignment resume at once.
pub async fn set_maintenance(
    rt: &Runtime,
    org_id: &str,
    on: Option<bool>,
    message: Option<&str>,
) -> Result<Maintenance> {
    let message = message.map(|m| message_field("message", m)).transpose()?;
    let s = settings::update(&rt.db, org_id, |s| {
        if let Some(on) = on {
            if on && !s.maintenance.maintenance_mode {
                s.maintenance.since = Some(Utc::now());
            }
            s.maintenance.maintenance_mode = on;
        }
        if let Some(m) = message {
            s.maintenance.message = m;
        }
    })
    .await?;
    if !s.maintenance.maintenance_mode {
        rt.request_drain(org_id); // assignment resumes
    }
    Ok(s.maintenance)
}

/// The off-hours auto-reply on or off, and its message.
pub async fn set_off_hours(rt: &Runtime, org_id: &str, on: Option<bool>, message: Option<&str>) -> Result<OffHours> {
    let message = message.map(|m| message_field("message", m)).transpose()?;
    let s = settings::update(&rt.db, org_id, |s| {
        if let Some(on) = on {
            s.off_hours.off_hours_auto_reply = on;
        }
        if let Some(m) = message {
            s.off_hours.message = m;
        }
    })
    .await?;
    Ok(s.off_hours)
}

/// A weekly schedule as a client sent it, checked (time zone, slots, holidays).
pub fn parse_schedule(body: serde_json::Value) -> Result<WeeklySchedule> {
    let schedule: WeeklySchedule =
        serde_json::from_value(body).map_err(|e| Error::invalid("body", format!("not a schedule: {e}")))?;
    schedule.validate().map_err(|e| Error::invalid(e.field, e.message))?;
    Ok(schedule)
}

/// The organization's business hours.
pub async fn set_business_hours(rt: &Runtime, org_id: &str, body: serde_json::Value) -> Result<WeeklySchedule> {
    let hours = parse_schedule(body)?;
    let saved = hours.clone();
    settings::update(&rt.db, org_id, move |s| s.business_hours = Some(saved)).await?;
    Ok(hours)
}

/// A change of idle-agent detection; `None` keeps a field.
#[derive(Default)]
pub struct IdleChange {
    pub enabled: Option<bool>,
    /// 1 to 1440.
    pub no_reply_minutes: Option<i64>,
    /// 0 to 1440 (0: as soon as the agent is OFFLINE).
    pub offline_minutes: Option<i64>,
    /// `REASSIGN`, `RETURN_TO_QUEUE` or `NOTIFY_ONLY`, in any case.
    pub action: Option<String>,
    pub include_away: Option<bool>,
}

fn minutes(field: &str, v: Option<i64>, min: i64) -> Result<Option<u32>> {
    match v {
        Some(n) if !(min..=1440).contains(&n) => {
            Err(Error::invalid(field, format!("{field} must be between {min} and 1440")))
        }
        Some(n) => Ok(Some(n as u32)),
        None => Ok(None),
    }
}

pub async fn set_idle(rt: &Runtime, org_id: &str, c: IdleChange) -> Result<IdleAgentSettings> {
    let no_reply = minutes("noReplyMinutes", c.no_reply_minutes, 1)?;
    let offline = minutes("offlineMinutes", c.offline_minutes, 0)?;
    let action = match c.action.as_deref().map(|a| a.trim().to_uppercase()) {
        None => None,
        Some(a) => Some(match a.as_str() {
            "REASSIGN" => IdleAction::Reassign,
            "RETURN_TO_QUEUE" => IdleAction::ReturnToQueue,
            "NOTIFY_ONLY" => IdleAction::NotifyOnly,
            _ => return Err(Error::invalid("action", "action must be REASSIGN, RETURN_TO_QUEUE or NOTIFY_ONLY")),
        }),
    };
    let s = settings::update(&rt.db, org_id, |s| {
        let i = &mut s.idle_agent;
        if let Some(e) = c.enabled {
            i.enabled = e;
        }
        if let Some(n) = no_reply {
            i.no_reply_minutes = n;
        }
        if let Some(n) = offline {
            i.offline_minutes = n;
        }
        if let Some(a) = action {
            i.action = a;
        }
        if let Some(a) = c.include_away {
            i.include_away = a;
        }
    })
    .await?;
    Ok(s.idle_agent)
}
