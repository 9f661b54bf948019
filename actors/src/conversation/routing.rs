//! Routing inside the conversation actor: the team of a new conversation is decided with its
//! first customer message, `Reroute` decides it again, and after a customer message the
//! automatic notices go out: the maintenance message, or the off-hours auto-reply (each at most
//! once per conversation per period, and never while the bot is handling the conversation).

use actix::prelude::*;
use chrono::Utc;
use entities::enums::{Channel, ConversationStatus};
use serde::{Deserialize, Serialize};

use super::outbound::{Draft, send_draft};
use super::{ConversationActor, Loaded, transition};
use crate::error::ActorError;
use crate::people::{routing, settings};
use crate::runtime::Runtime;
use crate::store;
use crate::views::ConversationView;

/// Evaluate the routing rules again and set the team they choose.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<Rerouted, ActorError>")]
pub struct Reroute {
    pub org_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Rerouted {
    pub conversation: ConversationView,
    pub previous_team_id: Option<String>,
    pub team_id: Option<String>,
    /// The rule that matched; `None` = the default team (or no team).
    pub rule_id: Option<String>,
    pub rule_name: Option<String>,
    pub changed: bool,
}

impl Handler<Reroute> for ConversationActor {
    type Result = AtomicResponse<Self, Result<Rerouted, ActorError>>;
    fn handle(&mut self, msg: Reroute, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, s| async move {
            if s.status() == ConversationStatus::Closed {
                return Err(ActorError::Conflict("the conversation is closed".into()));
            }
            let settings = settings::load(&rt.db.conn, &s.conv.org_id).await?;
            let input = routing::input_for(&rt.db.conn, &s.conv, s.contact.as_ref(), None, &settings).await?;
            let (team, rule) = routing::decide(&rt.db.conn, &s.conv.org_id, &input, &settings).await?;
            let previous = s.conv.team_id.clone();
            let (status, assignee) = (s.status(), s.conv.assigned_to.clone());
            let new_team = team.clone();
            let (s, view) = transition(rt, s, status, assignee, move |c| c.team_id = new_team).await?;
            let out = Rerouted {
                conversation: view,
                changed: previous != team,
                previous_team_id: previous,
                team_id: team,
                rule_id: rule.as_ref().map(|r| r.id.clone()),
                rule_name: rule.map(|r| r.name),
            };
            Ok((s, out))
        })
    }
}

/// The team for a conversation's first customer message.
pub(super) async fn first_route(rt: &Runtime, s: &Loaded, text: &str) -> Result<Option<String>, ActorError> {
    let settings = settings::load(&rt.db.conn, &s.conv.org_id).await?;
    let input = routing::input_for(&rt.db.conn, &s.conv, s.contact.as_ref(), Some(text), &settings).await?;
    Ok(routing::decide(&rt.db.conn, &s.conv.org_id, &input, &settings).await?.0)
}

/// Greets the customer whose first message opened the conversation, when the inbox has a
/// greeting on. The live-chat widget shows its greeting itself, before the first message, so
/// it is not sent there. A failure is logged, never the customer message's failure.
pub(super) async fn greet(rt: &Runtime, s: Loaded) -> Loaded {
    if s.channel == Channel::Livechat {
        return s;
    }
    let backup = s.clone();
    let sent = async {
        let Some(text) = store::inboxes::greeting(&rt.db.conn, &s.conv.inbox_id).await? else { return Ok(s) };
        let draft = Draft { notice: Some(GREETING.into()), ..Draft::automatic(text) };
        Ok::<_, ActorError>(send_draft(rt, s, draft).await?.0)
    };
    match sent.await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(conversation_id = %backup.conv.id, error = %e, "greeting not sent");
            backup
        }
    }
}

/// The notice marker of a greeting.
pub const GREETING: &str = "greeting";

/// Sends the notice due after a customer message, if any. A failure is logged, never the
/// customer message's failure (that is stored already).
pub(super) async fn notice_after_inbound(rt: &Runtime, s: Loaded) -> Loaded {
    if s.status() == ConversationStatus::BotHandling {
        return s;
    }
    let backup = s.clone();
    match send_notice(rt, s).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(conversation_id = %backup.conv.id, error = %e, "automatic notice not sent");
            backup
        }
    }
}

async fn send_notice(rt: &Runtime, s: Loaded) -> Result<Loaded, ActorError> {
    let settings = settings::load(&rt.db.conn, &s.conv.org_id).await?;
    // The inbox's own working hours, when it has them on, replace the organization's; read
    // only when an off-hours reply could be due.
    let inbox_hours = if settings.off_hours.off_hours_auto_reply && !settings.maintenance.maintenance_mode {
        store::inboxes::working_hours(&rt.db.conn, &s.conv.inbox_id).await?
    } else {
        None
    };
    let now = Utc::now();
    let (marker, text) = if settings.maintenance.maintenance_mode {
        let since = settings.maintenance.since.map(|t| t.timestamp()).unwrap_or_default();
        (format!("maintenance:{since}"), settings.maintenance.message.clone())
    } else if settings.off_hours.off_hours_auto_reply
        && let Some(hours) = inbox_hours.as_ref().or(settings.business_hours.as_ref())
        && !hours.is_open(now)
    {
        let period = hours.closed_period_start(now).map(|t| t.timestamp()).unwrap_or_default();
        (format!("off_hours:{period}"), settings.off_hours.message.clone())
    } else {
        return Ok(s);
    };
    if s.conv.notice_marker.as_deref() == Some(marker.as_str()) || text.trim().is_empty() {
        return Ok(s);
    }
    let draft = Draft {
        sender_id: None,
        idempotency_key: None,
        message_type: "text".into(),
        text: Some(text),
        content: None,
        media: None,
        notice: Some(marker),
        bot_epoch: None,
        answers: None,
        reply_to: None,
    };
    Ok(send_draft(rt, s, draft).await?.0)
}
