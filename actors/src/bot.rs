//! The bot as the conversation actor sees it. Contract: [`BotEngine::turn`] reads the
//! conversation (its messages, the organization's active bot config and knowledge) and decides
//! what the bot does now; it never writes the conversation. The actor applies the decision, and
//! only if the conversation is still the bot's, in the same bot epoch: a human who took over while
//! the model was thinking is never talked over. The engine lives in the server
//! (`cx_inbox::bot::engine`); [`NoBot`] stays silent.

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

/// A turn to take in one conversation, started in bot epoch `epoch`.
#[derive(Clone, Debug)]
pub struct TurnRequest {
    pub org_id: String,
    pub conversation_id: String,
    pub epoch: i64,
}

/// What the bot decided.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum TurnOutcome {
    /// Answer the customer. `answered` is the newest customer message the turn read: what the
    /// customer wrote after it (while the model was thinking) is still owed a reply.
    Reply { text: String, trace_id: Option<String>, category: Option<String>, answered: Option<String> },
    /// Give the conversation to humans; `text` is an optional last message to the customer.
    Handoff {
        reason: String,
        summary: Option<String>,
        text: Option<String>,
        trace_id: Option<String>,
        category: Option<String>,
    },
    /// Nothing to do (nothing new to answer, the conversation left the bot meanwhile, or the bot
    /// is switched off: its conversations wait for `reprocess-pending`).
    Silent,
    /// The turn could not be taken for a passing reason on our side (the database busy or
    /// unreachable): the customer still waits, so the actor takes the turn again later instead
    /// of handing the conversation to humans over it.
    Retry { reason: String },
}

pub trait BotEngine: Send + Sync + 'static {
    fn turn(&self, req: TurnRequest) -> BoxFuture<'static, TurnOutcome>;

    /// The turn's reply became message `message_id` (for the trace and feedback).
    fn replied(&self, _org_id: &str, _trace_id: &str, _message_id: &str) {}
}

/// The engine of a runtime without a bot: every turn is silent.
pub struct NoBot;

impl BotEngine for NoBot {
    fn turn(&self, _: TurnRequest) -> BoxFuture<'static, TurnOutcome> {
        Box::pin(async { TurnOutcome::Silent })
    }
}
