//! Bot turns inside the conversation actor. A customer message in a BOT_HANDLING conversation
//! (re)starts a short debounce; when it runs out, one turn answers everything the customer wrote
//! meanwhile. The turn runs beside the actor (the model may take seconds), so the actor keeps
//! handling messages: a takeover that lands meanwhile starts a new bot epoch and aborts the turn,
//! and [`ApplyTurn`] drops any decision of an older epoch, so the bot never talks over a human.
//! Messages that arrive while a turn runs get one more turn after it.

use std::time::Duration;

use actix::prelude::*;
use entities::enums::ConversationStatus;
use futures_util::future::{AbortHandle, abortable};
use serde::{Deserialize, Serialize};

use super::assignment::noted_change;
use super::outbound::{Draft, send_draft};
use super::{ConversationActor, Loaded, transition};
use crate::bot::{TurnOutcome, TurnRequest};
use crate::error::ActorError;
use crate::people::{routing, settings};
use crate::runtime::Runtime;

/// The turn machinery of one conversation actor.
#[derive(Default)]
pub(super) struct TurnState {
    /// The debounce timer of the next turn.
    timer: Option<SpawnHandle>,
    /// The turn the model is working on, by number.
    in_flight: Option<(u64, AbortHandle)>,
    /// Numbers turns, so an aborted turn that finishes late cannot clear a newer one.
    turns: u64,
    /// The customer wrote while a turn was in flight: take another one after it.
    again: bool,
    /// Turns in a row that could not be taken for a passing reason; the next waits longer.
    retries: u32,
}

/// How long to wait before retrying a turn that could not be taken `retries` times in a row:
/// one second, doubling, at most a minute.
fn retry_delay(retries: u32) -> Duration {
    Duration::from_secs(1u64 << retries.min(6)).min(Duration::from_secs(60))
}

/// Look at the conversation now: if it is the bot's and the customer waits for an answer, take a
/// turn (used by `reprocess-pending` and after a restart).
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<bool, ActorError>")]
pub struct WakeBot {
    pub org_id: String,
}

/// The decision of turn `number`, begun in `epoch`; `None` when the turn was aborted.
#[derive(Message)]
#[rtype(result = "()")]
struct ApplyTurn {
    number: u64,
    epoch: i64,
    outcome: Option<TurnOutcome>,
}

impl ConversationActor {
    /// Called after every committed change: a conversation that left the bot loses whatever turn
    /// is pending or running; a new customer message to the bot (re)starts the debounce.
    pub(super) fn after_change(&mut self, ctx: &mut Context<Self>) {
        let Some(s) = self.state.as_mut() else { return };
        let customer_wrote = std::mem::take(&mut s.customer_wrote);
        if s.status() != ConversationStatus::BotHandling {
            self.cancel_turn(ctx);
        } else if customer_wrote {
            self.schedule_turn(ctx, self.rt.config.bot_debounce);
        }
    }

    fn schedule_turn(&mut self, ctx: &mut Context<Self>, after: Duration) {
        if let Some(timer) = self.turn.timer.take() {
            ctx.cancel_future(timer);
        }
        self.turn.timer = Some(ctx.run_later(after, |act, ctx| {
            act.turn.timer = None;
            act.start_turn(ctx);
        }));
    }

    fn cancel_turn(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.turn.timer.take() {
            ctx.cancel_future(timer);
        }
        if let Some((_, turn)) = self.turn.in_flight.take() {
            tracing::info!(conversation_id = %self.id, "bot turn aborted: the conversation left the bot");
            turn.abort();
        }
        self.turn.again = false;
        self.turn.retries = 0;
    }

    fn start_turn(&mut self, ctx: &mut Context<Self>) {
        if self.turn.in_flight.is_some() {
            self.turn.again = true;
            return;
        }
        let Some(s) = &self.state else {
            // The cache was dropped after a failed change: load, then decide.
            ctx.notify(Wake);
            return;
        };
        if s.status() != ConversationStatus::BotHandling || !s.conv.awaiting_reply {
            return;
        }
        let epoch = s.conv.bot_epoch;
        let req = TurnRequest { org_id: self.org_id.clone(), conversation_id: self.id.clone(), epoch };
        let (turn, handle) = abortable(self.rt.bot().turn(req));
        self.turn.turns += 1;
        let number = self.turn.turns;
        self.turn.in_flight = Some((number, handle));
        self.last_active = std::time::Instant::now();
        // The turn runs as a task of its own, not as a future of this actor: an actor future is
        // not polled while the actor waits on a change (`ctx.wait`), and the turn may hold what
        // that change waits for (the writer lock, a database pass), which would never be let go.
        let addr = ctx.address();
        actix::spawn(async move {
            let outcome = turn.await.ok();
            addr.do_send(ApplyTurn { number, epoch, outcome });
        });
    }
}

/// [`WakeBot`] from inside the actor.
#[derive(Message)]
#[rtype(result = "()")]
struct Wake;

impl Handler<Wake> for ConversationActor {
    type Result = ();
    fn handle(&mut self, _: Wake, ctx: &mut Context<Self>) {
        let org_id = self.org_id.clone();
        ctx.wait(self.run_fut(&org_id, |_, s| async move { Ok((s, ())) }).map(|res, act, ctx| {
            if res.is_ok() && act.state.is_some() {
                act.start_turn(ctx);
            }
        }));
    }
}

impl Handler<WakeBot> for ConversationActor {
    type Result = AtomicResponse<Self, Result<bool, ActorError>>;
    fn handle(&mut self, msg: WakeBot, _: &mut Context<Self>) -> Self::Result {
        let fut = self.run_fut(&msg.org_id, |_, s| async move {
            let due = s.status() == ConversationStatus::BotHandling && s.conv.awaiting_reply;
            Ok((s, due))
        });
        AtomicResponse::new(Box::pin(fut.map(|res, act, ctx| {
            if let Ok(true) = res {
                act.start_turn(ctx);
            }
            res
        })))
    }
}

impl Handler<ApplyTurn> for ConversationActor {
    type Result = ();
    fn handle(&mut self, msg: ApplyTurn, ctx: &mut Context<Self>) {
        if self.turn.in_flight.as_ref().is_some_and(|(n, _)| *n == msg.number) {
            self.turn.in_flight = None;
        }
        if let Some(TurnOutcome::Retry { reason }) = &msg.outcome {
            let wait = retry_delay(self.turn.retries);
            self.turn.retries += 1;
            tracing::warn!(conversation_id = %self.id, %reason, retry_in_ms = wait.as_millis() as u64, "bot turn not taken; trying again");
            // Still the bot's, in the same epoch: otherwise the change that took it cancelled turns.
            let due = self
                .state
                .as_ref()
                .is_none_or(|s| s.status() == ConversationStatus::BotHandling && s.conv.bot_epoch == msg.epoch);
            self.turn.again = false;
            if due {
                self.schedule_turn(ctx, wait);
            }
            return;
        }
        self.turn.retries = 0;
        let org_id = self.org_id.clone();
        let fut = self.run_fut(&org_id, move |rt, s| async move {
            let Some(outcome) = msg.outcome else { return Ok((s, ())) };
            if s.status() != ConversationStatus::BotHandling || s.conv.bot_epoch != msg.epoch {
                tracing::info!(conversation_id = %s.conv.id, "bot decision dropped: a human has the conversation");
                return Ok((s, ()));
            }
            // The classifier's category, for a conversation that has none yet (routing reads it).
            let category = match &outcome {
                TurnOutcome::Reply { category, .. } | TurnOutcome::Handoff { category, .. } => category.clone(),
                TurnOutcome::Silent | TurnOutcome::Retry { .. } => None,
            };
            let s = match category.filter(|_| s.conv.category.is_none()) {
                Some(category) => {
                    let (status, assignee) = (s.status(), s.conv.assigned_to.clone());
                    transition(rt.clone(), s, status, assignee, |c| c.category = Some(category)).await?.0
                }
                None => s,
            };
            let s = match outcome {
                TurnOutcome::Silent | TurnOutcome::Retry { .. } => s,
                TurnOutcome::Reply { text, trace_id, answered, .. } => {
                    let epoch = s.conv.bot_epoch;
                    let (s, view) = send_draft(&rt, s, Draft::bot(text, epoch, answered)).await?;
                    if let Some(trace) = trace_id {
                        rt.bot().replied(&s.conv.org_id, &trace, &view.id);
                    }
                    s
                }
                TurnOutcome::Handoff { reason, summary, text, .. } => {
                    let s = match text {
                        Some(text) => match send_draft(&rt, s.clone(), Draft::automatic(text)).await {
                            Ok((s, _)) => s,
                            Err(e) => {
                                tracing::warn!(conversation_id = %s.conv.id, error = %e, "hand-off message not sent");
                                s
                            }
                        },
                        None => s,
                    };
                    handoff(rt, s, reason, summary).await?
                }
            };
            Ok((s, ()))
        });
        ctx.wait(fut.map(|res, act, ctx| {
            if let Err(e) = res {
                tracing::warn!(conversation_id = %act.id, error = %e, "bot turn not applied");
            }
            // Customer messages that came in while the turn ran get their own turn.
            if std::mem::take(&mut act.turn.again) {
                act.schedule_turn(ctx, Duration::ZERO);
            }
        }));
    }
}

/// The bot gives the conversation to humans: OPEN and unassigned (so it joins the queue), with the
/// bot's summary for whoever picks it up, routed to a team if it has none yet.
async fn handoff(rt: Runtime, s: Loaded, reason: String, summary: Option<String>) -> Result<Loaded, ActorError> {
    let team = match &s.conv.team_id {
        Some(team) => Some(team.clone()),
        None => {
            let settings = settings::load(&rt.db.conn, &s.conv.org_id).await?;
            let input = routing::input_for(&rt.db.conn, &s.conv, s.contact.as_ref(), None, &settings).await?;
            routing::decide(&rt.db.conn, &s.conv.org_id, &input, &settings).await?.0
        }
    };
    let note = format!("The bot handed the conversation to a human: {reason}");
    let (s, _) = noted_change(rt, s, ConversationStatus::Open, None, note, move |c| {
        c.handoff_summary = summary;
        c.team_id = team;
    })
    .await?;
    Ok(s)
}
