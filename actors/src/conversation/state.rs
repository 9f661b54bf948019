//! The conversation state machine, as plain functions the actor calls.
//!
//! | from \ on            | customer writes                     | agent replies        | takeover       | assign          | unassign | return to bot | resolve |
//! |----------------------|-------------------------------------|----------------------|----------------|-----------------|----------|---------------|---------|
//! | BOT_HANDLING         | stays                               | HUMAN -> WAITING (1) | HUMAN_HANDLING | HUMAN_HANDLING  | stays    | 409           | CLOSED  |
//! | OPEN                 | stays                               | WAITING (1)          | HUMAN_HANDLING | HUMAN_HANDLING  | stays    | BOT_HANDLING  | CLOSED  |
//! | HUMAN_HANDLING       | stays                               | WAITING              | HUMAN_HANDLING | stays           | OPEN     | BOT_HANDLING  | CLOSED  |
//! | WAITING_FOR_CUSTOMER | HUMAN_HANDLING if assigned, else OPEN | WAITING            | HUMAN_HANDLING | stays           | OPEN     | BOT_HANDLING  | CLOSED  |
//! | CLOSED               | a new conversation is opened        | 409                  | 409            | 409             | 409      | 409           | 409     |
//!
//! Set directly (`PATCH`), see [`on_set_status`]: a closed conversation may be reopened to OPEN.
//!
//! (1) An agent who replies to an unassigned conversation takes it: it is assigned to them, and
//! the bot never speaks into it again until it is returned.

use entities::enums::ConversationStatus as S;

/// Why a transition is refused; becomes a 409 with this reason.
pub type Refusal = &'static str;

const CLOSED: Refusal = "the conversation is closed";

/// Status after a customer message; `Err` when closed (the inbox opens a new conversation).
pub fn on_customer_message(s: S, assigned: bool) -> Result<S, Refusal> {
    match s {
        S::Closed => Err(CLOSED),
        S::WaitingForCustomer if assigned => Ok(S::HumanHandling),
        S::WaitingForCustomer => Ok(S::Open),
        other => Ok(other),
    }
}

/// Status after an agent's reply.
pub fn on_agent_reply(s: S) -> Result<S, Refusal> {
    match s {
        S::Closed => Err(CLOSED),
        _ => Ok(S::WaitingForCustomer),
    }
}

/// Status after a human takes the conversation over from the bot or the queue.
pub fn on_takeover(s: S) -> Result<S, Refusal> {
    match s {
        S::Closed => Err(CLOSED),
        _ => Ok(S::HumanHandling),
    }
}

/// Status after assignment to an agent (`to_agent`) or release back to the queue.
pub fn on_assign(s: S, to_agent: bool) -> Result<S, Refusal> {
    match (s, to_agent) {
        (S::Closed, _) => Err(CLOSED),
        (S::BotHandling | S::Open, true) => Ok(S::HumanHandling),
        (S::HumanHandling | S::WaitingForCustomer, false) => Ok(S::Open),
        (other, _) => Ok(other),
    }
}

/// Status after an agent hands the conversation back to the bot.
pub fn on_return_to_bot(s: S) -> Result<S, Refusal> {
    match s {
        S::Closed => Err(CLOSED),
        S::BotHandling => Err("the bot is already handling the conversation"),
        _ => Ok(S::BotHandling),
    }
}

/// Whether an agent may set the status to `to` directly (`PATCH /conversations/{id}`).
/// CLOSED is resolve, BOT_HANDLING is return-to-bot; HUMAN_HANDLING needs someone assigned;
/// a closed conversation can be reopened (to OPEN) unless the customer already has a newer one.
pub fn on_set_status(from: S, to: S, assigned: bool) -> Result<S, Refusal> {
    match (from, to) {
        (f, t) if f == t => Ok(t),
        (_, S::Closed) => on_resolve(from),
        (_, S::BotHandling) => on_return_to_bot(from),
        (S::Closed, S::Open) => Ok(S::Open),
        (S::Closed, _) => Err("a closed conversation can only be reopened to OPEN"),
        (_, S::HumanHandling) if !assigned => Err("HUMAN_HANDLING needs an assigned agent"),
        (_, t) => Ok(t),
    }
}

/// Status after resolve.
pub fn on_resolve(s: S) -> Result<S, Refusal> {
    match s {
        S::Closed => Err("the conversation is already closed"),
        _ => Ok(S::Closed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_reply_wakes_a_waiting_conversation() {
        assert_eq!(on_customer_message(S::WaitingForCustomer, true), Ok(S::HumanHandling));
        assert_eq!(on_customer_message(S::WaitingForCustomer, false), Ok(S::Open));
        assert_eq!(on_customer_message(S::BotHandling, false), Ok(S::BotHandling));
        assert!(on_customer_message(S::Closed, true).is_err());
    }

    #[test]
    fn nothing_but_a_new_conversation_leaves_closed() {
        assert!(on_agent_reply(S::Closed).is_err());
        assert!(on_takeover(S::Closed).is_err());
        assert!(on_assign(S::Closed, true).is_err());
        assert!(on_resolve(S::Closed).is_err());
    }

    #[test]
    fn return_to_bot_and_direct_status_changes() {
        assert_eq!(on_return_to_bot(S::HumanHandling), Ok(S::BotHandling));
        assert!(on_return_to_bot(S::BotHandling).is_err());
        assert!(on_return_to_bot(S::Closed).is_err());
        assert_eq!(on_set_status(S::Closed, S::Open, false), Ok(S::Open));
        assert!(on_set_status(S::Closed, S::HumanHandling, true).is_err());
        assert!(on_set_status(S::Open, S::HumanHandling, false).is_err());
        assert_eq!(on_set_status(S::Open, S::HumanHandling, true), Ok(S::HumanHandling));
        assert_eq!(on_set_status(S::HumanHandling, S::WaitingForCustomer, true), Ok(S::WaitingForCustomer));
        assert!(on_set_status(S::Closed, S::Closed, false).is_ok(), "no change is not a conflict");
        assert!(on_set_status(S::BotHandling, S::BotHandling, false).is_ok());
        assert!(on_set_status(S::WaitingForCustomer, S::Closed, true).is_ok());
    }

    /// Every (from, event) pair is either allowed or refused as the module table says.
    #[test]
    fn every_transition_is_decided() {
        for &from in S::ALL {
            let closed = from == S::Closed;
            assert_eq!(on_agent_reply(from).is_err(), closed);
            assert_eq!(on_takeover(from).is_err(), closed);
            assert_eq!(on_assign(from, true).is_err(), closed);
            assert_eq!(on_assign(from, false).is_err(), closed);
            assert_eq!(on_resolve(from).is_err(), closed);
            assert_eq!(on_customer_message(from, true).is_err(), closed);
            assert_eq!(on_return_to_bot(from).is_err(), closed || from == S::BotHandling);
        }
    }

    #[test]
    fn agent_actions_move_as_the_table_says() {
        assert_eq!(on_agent_reply(S::BotHandling), Ok(S::WaitingForCustomer));
        assert_eq!(on_takeover(S::BotHandling), Ok(S::HumanHandling));
        assert_eq!(on_assign(S::Open, true), Ok(S::HumanHandling));
        assert_eq!(on_assign(S::HumanHandling, false), Ok(S::Open));
        assert_eq!(on_assign(S::WaitingForCustomer, true), Ok(S::WaitingForCustomer));
        assert_eq!(on_resolve(S::WaitingForCustomer), Ok(S::Closed));
    }
}
