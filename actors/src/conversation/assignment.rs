//! Moves made by the runtime rather than by an agent: auto-assignment claims a queued
//! conversation, and the idle-agent detector (or a user's removal) moves one away from its agent.
//! Both are guarded inside the actor, so a move decided on stale information does nothing: a
//! claim only takes a conversation that is still queued, and a move only takes one that is still
//! with the agent it was decided about.

use actix::prelude::*;
use chrono::Utc;
use entities::enums::{ConversationStatus, Direction, MessageStatus};
use entities::message;
use sea_orm::ActiveModelTrait;
use serde::{Deserialize, Serialize};

use super::{ConversationActor, Loaded, Outbox, commit, leave_bot, new_message, state, transition};
use crate::error::ActorError;
use crate::events::EventName;
use crate::runtime::Runtime;
use crate::views::{ConversationView, MessageCreated, MessageView, StatusChanged};

/// Give a queued conversation to `user_id`; `None` if it is no longer queued.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<Option<ConversationView>, ActorError>")]
pub struct AutoAssign {
    pub org_id: String,
    pub user_id: String,
}

/// Move the conversation away from `from` to `to` (`None`: back to the queue), writing `note` on
/// its timeline; `None` if it is no longer with `from`.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<Option<ConversationView>, ActorError>")]
pub struct Reassign {
    pub org_id: String,
    pub from: String,
    pub to: Option<String>,
    pub note: String,
}

/// Write `note` on the conversation's timeline without moving it.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<Option<ConversationView>, ActorError>")]
pub struct Note {
    pub org_id: String,
    pub note: String,
}

impl Handler<AutoAssign> for ConversationActor {
    type Result = AtomicResponse<Self, Result<Option<ConversationView>, ActorError>>;
    fn handle(&mut self, msg: AutoAssign, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, s| async move {
            if s.status() != ConversationStatus::Open || s.conv.assigned_to.is_some() {
                return Ok((s, None));
            }
            let (s, view) = transition(rt, s, ConversationStatus::HumanHandling, Some(msg.user_id), |_| {}).await?;
            Ok((s, Some(view)))
        })
    }
}

impl Handler<Reassign> for ConversationActor {
    type Result = AtomicResponse<Self, Result<Option<ConversationView>, ActorError>>;
    fn handle(&mut self, msg: Reassign, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, s| async move {
            if s.conv.assigned_to.as_deref() != Some(msg.from.as_str()) || s.status() == ConversationStatus::Closed {
                return Ok((s, None));
            }
            let (s, view) = with_note(rt, s, Some(msg.to), msg.note).await?;
            Ok((s, Some(view)))
        })
    }
}

impl Handler<Note> for ConversationActor {
    type Result = AtomicResponse<Self, Result<Option<ConversationView>, ActorError>>;
    fn handle(&mut self, msg: Note, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, s| async move {
            let (s, view) = with_note(rt, s, None, msg.note).await?;
            Ok((s, Some(view)))
        })
    }
}

/// Writes a timeline entry and, with `assign`, the new assignee, in one transaction.
async fn with_note(
    rt: Runtime,
    s: Loaded,
    assign: Option<Option<String>>,
    note: String,
) -> Result<(Loaded, ConversationView), ActorError> {
    let prev = s.status();
    let next = match &assign {
        Some(to) => state::on_assign(prev, to.is_some()).map_err(|r| ActorError::Conflict(r.into()))?,
        None => prev,
    };
    let assign = assign.unwrap_or_else(|| s.conv.assigned_to.clone());
    noted_change(rt, s, next, assign, note, |_| {}).await
}

/// Moves the conversation to `next` with `assign` as its assignee, writes `note` on its timeline
/// and applies `extra`, in one transaction.
pub(super) async fn noted_change(
    rt: Runtime,
    mut s: Loaded,
    next: ConversationStatus,
    assign: Option<String>,
    note: String,
    extra: impl FnOnce(&mut entities::conversation::Model),
) -> Result<(Loaded, ConversationView), ActorError> {
    let prev = s.status();
    let now = Utc::now();
    let row = message::Model {
        text: Some(note),
        ..new_message(&s.conv, Direction::System, "activity", MessageStatus::Received, now)
    };
    let txn = rt.db.begin_write_in(&s.conv.org_id).await?;
    message::ActiveModel::from(row.clone()).reset_all().insert(&*txn).await?;
    let assigned_changed = s.conv.assigned_to != assign;
    s.conv.assigned_to = assign;
    extra(&mut s.conv);
    s.conv.status = next;
    leave_bot(&mut s.conv, prev, next);
    s.conv.updated_at = now;
    let mut out = Outbox::new(&s.conv);
    s.conv.event_seq += 1 + i64::from(assigned_changed) + i64::from(prev != next);
    let view = s.view();
    let message = MessageView::from(&row);
    out.push(
        EventName::MessageCreated,
        serde_json::to_string(&MessageCreated { message: &message, conversation: &view })?,
    );
    if assigned_changed {
        out.push(EventName::ConversationAssigned, serde_json::to_string(&view)?);
    }
    if prev != next {
        out.push(
            EventName::ConversationStatusChanged,
            serde_json::to_string(&StatusChanged { conversation: &view, previous_status: prev.as_str() })?,
        );
    }
    commit(&rt, txn, &mut s.conv, out).await?;
    Ok((s, view))
}
