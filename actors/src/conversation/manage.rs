//! What agents change on a conversation besides messages: status and assignment set directly
//! (`PATCH`), category, follow-up marks, and handing it back to the bot.

use actix::prelude::*;
use chrono::Utc;
use entities::enums::ConversationStatus;
use serde::{Deserialize, Serialize};

use super::{ConversationActor, state, transition};
use crate::error::ActorError;
use crate::views::ConversationView;

/// Set fields directly. `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Message, Clone, Debug, Default, Serialize, Deserialize)]
#[rtype(result = "Result<ConversationView, ActorError>")]
pub struct Update {
    pub org_id: String,
    pub status: Option<ConversationStatus>,
    pub assigned_to: Option<Option<String>>,
    pub category: Option<Option<String>>,
    /// The team that owns the conversation (the caller checked it is one of the organization's),
    /// or `None` inside for no team. A queued conversation is then offered to that team.
    pub team_id: Option<Option<String>>,
}

/// Mark for follow-up (`note`), or clear the mark (`set: false`).
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<ConversationView, ActorError>")]
pub struct FollowUp {
    pub org_id: String,
    pub set: bool,
    pub by: Option<String>,
    pub note: Option<String>,
}

/// Hand the conversation back to the bot, with what the agent wants it to know.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<ConversationView, ActorError>")]
pub struct ReturnToBot {
    pub org_id: String,
    pub handoff_summary: Option<String>,
}

impl Handler<Update> for ConversationActor {
    type Result = AtomicResponse<Self, Result<ConversationView, ActorError>>;
    fn handle(&mut self, msg: Update, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, s| async move {
            let from = s.status();
            let assignee = match &msg.assigned_to {
                Some(a) => a.clone(),
                None => s.conv.assigned_to.clone(),
            };
            let mut to = match msg.status {
                Some(to) => {
                    state::on_set_status(from, to, assignee.is_some()).map_err(|r| ActorError::Conflict(r.into()))?
                }
                None => from,
            };
            // Assigning without a status moves the conversation as `assign` would.
            if msg.status.is_none() && msg.assigned_to.is_some() {
                to = state::on_assign(from, assignee.is_some()).map_err(|r| ActorError::Conflict(r.into()))?;
            }
            let assignee = if to == ConversationStatus::BotHandling { None } else { assignee };
            let category = msg.category.clone();
            let team = msg.team_id.clone();
            let reopening = from == ConversationStatus::Closed && to != ConversationStatus::Closed;
            let closing = to == ConversationStatus::Closed && from != ConversationStatus::Closed;
            transition(rt, s, to, assignee, move |c| {
                if let Some(cat) = category {
                    c.category = cat;
                }
                if let Some(team) = team {
                    c.team_id = team;
                }
                if closing {
                    c.closed_at = Some(Utc::now());
                    c.unread_count = 0;
                }
                if reopening {
                    c.closed_at = None;
                }
            })
            .await
        })
    }
}

impl Handler<FollowUp> for ConversationActor {
    type Result = AtomicResponse<Self, Result<ConversationView, ActorError>>;
    fn handle(&mut self, msg: FollowUp, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, s| async move {
            let (status, assignee) = (s.status(), s.conv.assigned_to.clone());
            transition(rt, s, status, assignee, move |c| {
                if msg.set {
                    c.follow_up_at = Some(Utc::now());
                    c.follow_up_note = msg.note;
                    c.follow_up_by = msg.by;
                } else {
                    c.follow_up_at = None;
                    c.follow_up_note = None;
                    c.follow_up_by = None;
                }
            })
            .await
        })
    }
}

impl Handler<ReturnToBot> for ConversationActor {
    type Result = AtomicResponse<Self, Result<ConversationView, ActorError>>;
    fn handle(&mut self, msg: ReturnToBot, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, s| async move {
            let next = state::on_return_to_bot(s.status()).map_err(|r| ActorError::Conflict(r.into()))?;
            transition(rt, s, next, None, move |c| c.handoff_summary = msg.handoff_summary).await
        })
    }
}
