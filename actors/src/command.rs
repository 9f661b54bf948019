//! Conversation commands as data, so a node can forward one to the conversation's owner and
//! get the answer back. Each actor message maps to a [`ConversationCommand`] variant and its
//! answer to a [`CommandReply`] variant.

use serde::{Deserialize, Serialize};

use crate::conversation::csat::{Rate, RatingView};
use crate::conversation::{
    AddTag, ApplyStatus, Assign, AutoAssign, BotReply, Delete, Discard, Flush, FollowUp, Inbound, InboundOutcome,
    MarkRead, MediaResult, Note, React, Reassign, RefreshContact, RemoveTag, Requeue, Reroute, Rerouted, Resolve,
    RetryMedia, ReturnToBot, SendMedia, SendMediaLink, SendTemplate, SendText, Takeover, ToggleHide, Update, WakeBot,
};
use crate::error::ActorError;
use crate::views::{ConversationView, MessageView};

/// Marker in the answer of a node that does not own the conversation.
pub const NOT_OWNER: &str = "not_owner";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", content = "body", rename_all = "snake_case")]
pub enum ConversationCommand {
    Inbound(Inbound),
    ApplyStatus(ApplyStatus),
    SendText(SendText),
    Takeover(Takeover),
    Assign(Assign),
    Resolve(Resolve),
    Rate(Rate),
    MarkRead(MarkRead),
    Flush(Flush),
    Requeue(Requeue),
    Discard(Discard),
    ToggleHide(ToggleHide),
    AddTag(AddTag),
    RemoveTag(RemoveTag),
    Update(Update),
    FollowUp(FollowUp),
    ReturnToBot(ReturnToBot),
    MediaResult(MediaResult),
    RetryMedia(RetryMedia),
    React(React),
    SendMedia(SendMedia),
    SendMediaLink(SendMediaLink),
    SendTemplate(SendTemplate),
    AutoAssign(AutoAssign),
    Reassign(Reassign),
    Note(Note),
    Reroute(Reroute),
    BotReply(BotReply),
    WakeBot(WakeBot),
    RefreshContact(RefreshContact),
    Delete(Delete),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", content = "body", rename_all = "snake_case")]
pub enum CommandReply {
    Inbound(InboundOutcome),
    Done,
    Message(Box<MessageView>),
    Conversation(Box<ConversationView>),
    MaybeConversation(Option<Box<ConversationView>>),
    Rerouted(Box<Rerouted>),
    MaybeMessage(Option<Box<MessageView>>),
    Flag(bool),
    Count(u64),
    Rating(Box<RatingView>),
}

/// The body of a forwarded command.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forwarded {
    pub org_id: String,
    pub command: ConversationCommand,
}

/// An [`ActorError`] on the wire.
#[derive(Serialize, Deserialize)]
pub struct WireError {
    pub kind: String,
    pub message: String,
    pub field: Option<String>,
}

impl From<&ActorError> for WireError {
    fn from(e: &ActorError) -> Self {
        let (kind, field) = match e {
            ActorError::NotFound(_) => ("not_found", None),
            ActorError::Conflict(_) => ("conflict", None),
            ActorError::Invalid { field, .. } => ("invalid", Some((*field).to_owned())),
            ActorError::Stale | ActorError::Unavailable(_) => ("unavailable", None),
            ActorError::Db(_) | ActorError::Internal(_) => ("internal", None),
        };
        let message = match e {
            ActorError::NotFound(what) => (*what).to_owned(),
            ActorError::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        };
        WireError { kind: kind.into(), message, field }
    }
}

impl From<WireError> for ActorError {
    fn from(w: WireError) -> Self {
        match w.kind.as_str() {
            "not_found" => ActorError::NotFound(match w.message.as_str() {
                "conversation" => "conversation",
                "message" => "message",
                "organization" => "organization",
                "tag" => "tag",
                _ => "object",
            }),
            "conflict" => ActorError::Conflict(w.message),
            "invalid" => ActorError::Invalid { field: "body", message: w.message },
            "unavailable" => ActorError::Unavailable(w.message),
            _ => ActorError::Internal(w.message),
        }
    }
}

/// A conversation actor message that can travel to another node.
pub trait Forwardable: Clone + Send + 'static {
    type Out: Send + 'static;
    fn command(self) -> ConversationCommand;
    fn answer(reply: CommandReply) -> Result<Self::Out, ActorError>;
}

fn unexpected(reply: &CommandReply) -> ActorError {
    ActorError::Internal(format!("unexpected reply from the owner: {reply:?}"))
}

macro_rules! forwardable {
    ($msg:ident, $out:ty, $reply:pat => $value:expr) => {
        impl Forwardable for $msg {
            type Out = $out;
            fn command(self) -> ConversationCommand {
                ConversationCommand::$msg(self)
            }
            fn answer(reply: CommandReply) -> Result<$out, ActorError> {
                match reply {
                    $reply => Ok($value),
                    other => Err(unexpected(&other)),
                }
            }
        }
    };
}

forwardable!(Inbound, InboundOutcome, CommandReply::Inbound(o) => o);
forwardable!(ApplyStatus, (), CommandReply::Done => ());
forwardable!(SendText, MessageView, CommandReply::Message(m) => *m);
forwardable!(Takeover, ConversationView, CommandReply::Conversation(c) => *c);
forwardable!(Assign, ConversationView, CommandReply::Conversation(c) => *c);
forwardable!(Resolve, ConversationView, CommandReply::Conversation(c) => *c);
forwardable!(MarkRead, ConversationView, CommandReply::Conversation(c) => *c);
forwardable!(Rate, RatingView, CommandReply::Rating(r) => *r);
forwardable!(Flush, (), CommandReply::Done => ());
forwardable!(Requeue, MessageView, CommandReply::Message(m) => *m);
forwardable!(Discard, MessageView, CommandReply::Message(m) => *m);
forwardable!(ToggleHide, MessageView, CommandReply::Message(m) => *m);
forwardable!(AddTag, ConversationView, CommandReply::Conversation(c) => *c);
forwardable!(RemoveTag, ConversationView, CommandReply::Conversation(c) => *c);
forwardable!(Update, ConversationView, CommandReply::Conversation(c) => *c);
forwardable!(FollowUp, ConversationView, CommandReply::Conversation(c) => *c);
forwardable!(ReturnToBot, ConversationView, CommandReply::Conversation(c) => *c);
forwardable!(MediaResult, MessageView, CommandReply::Message(m) => *m);
forwardable!(RetryMedia, MessageView, CommandReply::Message(m) => *m);
forwardable!(React, MessageView, CommandReply::Message(m) => *m);
forwardable!(SendMedia, MessageView, CommandReply::Message(m) => *m);
forwardable!(SendMediaLink, MessageView, CommandReply::Message(m) => *m);
forwardable!(SendTemplate, MessageView, CommandReply::Message(m) => *m);
forwardable!(AutoAssign, Option<ConversationView>, CommandReply::MaybeConversation(c) => c.map(|c| *c));
forwardable!(Reassign, Option<ConversationView>, CommandReply::MaybeConversation(c) => c.map(|c| *c));
forwardable!(Reroute, Rerouted, CommandReply::Rerouted(r) => *r);
forwardable!(Note, Option<ConversationView>, CommandReply::MaybeConversation(c) => c.map(|c| *c));
forwardable!(BotReply, Option<MessageView>, CommandReply::MaybeMessage(m) => m.map(|m| *m));
forwardable!(WakeBot, bool, CommandReply::Flag(b) => b);
forwardable!(RefreshContact, (), CommandReply::Done => ());
forwardable!(Delete, u64, CommandReply::Count(n) => n);
