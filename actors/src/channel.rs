//! The outbound side of a channel, as the conversation actor sees it. Contract: `send` delivers
//! one message to the customer of an inbox and returns the provider's message id, or says why
//! not and whether trying again may help. One implementation per provider lives in the server
//! (`cx_inbox::channels`); tests use a fake provider behind the same code.

use entities::enums::Channel;
use futures_util::future::BoxFuture;

/// What to send, to whom, through which inbox.
#[derive(Clone, Debug)]
pub struct OutboundRequest {
    pub org_id: String,
    pub inbox_id: String,
    /// The conversation it belongs to: a channel without a provider (live chat, API) delivers
    /// by conversation.
    pub conversation_id: String,
    /// The inbox's channel: which sender takes the message.
    pub channel: Channel,
    /// The customer's address on the channel: their WhatsApp id on WhatsApp; empty on the
    /// channels that deliver by conversation.
    pub to: String,
    pub content: OutboundContent,
    /// Our id of the message: the provider echoes it in its status webhooks (WhatsApp's
    /// `biz_opaque_callback_data`), so a send whose answer was lost (a crash during the call)
    /// is still recognized when its status arrives.
    pub message_id: Option<String>,
    /// A bulk send (a campaign's): it yields the number's throughput to conversations.
    pub bulk: bool,
    /// The provider's id of the customer's (or our) message this one answers: WhatsApp shows
    /// it quoted (`context.message_id`).
    pub reply_to: Option<String>,
}

#[derive(Clone, Debug)]
pub enum OutboundContent {
    Text {
        body: String,
    },
    /// A reaction to the provider message `message_id`; an empty emoji removes it.
    Reaction {
        message_id: String,
        emoji: String,
    },
    /// A file from the media store: `kind` is image, video, audio or document.
    Media {
        kind: String,
        path: String,
        mime: String,
        caption: Option<String>,
        filename: Option<String>,
    },
    /// A file the provider fetches itself from a public `link` (kind as for `Media`).
    MediaLink {
        kind: String,
        link: String,
        caption: Option<String>,
        filename: Option<String>,
    },
    /// A satisfaction survey: a question and the ratings to choose from, each with the id the
    /// customer's choice comes back with (WhatsApp shows an interactive list).
    Survey {
        question: String,
        button: String,
        options: Vec<SurveyOption>,
    },
    /// An approved WhatsApp template with its send components (Meta's shape, parameters filled
    /// in); a header file from the media store is uploaded and put in as the header parameter.
    Template {
        name: String,
        language: String,
        components: serde_json::Value,
        header_file: Option<HeaderFile>,
    },
}

/// One rating of a survey.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurveyOption {
    /// `csat:<conversation id>:<rating>`: what the customer's choice answers with.
    pub id: String,
    pub rating: i32,
    pub label: String,
}

/// What a survey message stores as its content (and what the outbox sends from it).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurveyContent {
    /// `emoji` or `star`.
    pub display_type: String,
    pub button: String,
    pub options: Vec<SurveyOption>,
}

/// A template's header image, video or document, kept in the media store.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeaderFile {
    /// image, video or document.
    pub kind: String,
    pub path: String,
    pub mime: String,
}

/// What a template message stores as its content (and what the outbox sends from it).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateContent {
    pub name: String,
    pub language: String,
    pub components: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_file: Option<HeaderFile>,
}

/// The provider accepted the message.
#[derive(Clone, Debug)]
pub struct SendReceipt {
    pub provider_message_id: String,
}

/// The provider refused or could not be reached.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// The provider's error code (e.g. WhatsApp `131047`), or a local one (`network`, `no_account`).
    pub code: String,
    pub message: String,
    /// Whether the same request may succeed later (rate limit, 5xx, timeout).
    pub transient: bool,
}

pub trait ChannelSender: Send + Sync + 'static {
    fn send(&self, req: OutboundRequest) -> BoxFuture<'static, Result<SendReceipt, SendError>>;
}
