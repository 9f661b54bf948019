//! Outbound messages through the outbox. A reply is committed as `pending` (due now) before any
//! provider call; then the actor sends what is due in this conversation, oldest first. A
//! transient failure (rate limit, 5xx, timeout) leaves the message pending with a later due time
//! and holds the messages after it back, so customers never get replies out of order; a
//! permanent one marks it `failed` with the provider's reason. The node's outbox sweeper sends
//! [`Flush`] to conversations with due messages, which is also how sending resumes after a
//! restart.

use actix::prelude::*;
use chrono::Utc;
use entities::enums::{Channel, ConversationStatus, Direction, MessageStatus};
use entities::message;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use serde::{Deserialize, Serialize};

use super::{ConversationActor, Loaded, Outbox, SendText, commit, commit_statements, preview, state};
use crate::channel::{OutboundContent, OutboundRequest, SurveyContent, TemplateContent};
use crate::db::Written;
use crate::error::ActorError;
use crate::events::EventName;
use crate::runtime::Runtime;
use crate::store;
use crate::views::{MessageCreated, MessageView, SERVICE_WINDOW, StatusChanged};

/// Attempts before a message that keeps failing transiently is given up as failed.
pub const MAX_ATTEMPTS: i32 = 10;

/// Send whatever is due in this conversation.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<(), ActorError>")]
pub struct Flush {
    pub org_id: String,
}

/// Put a failed (or pending) outbound message back in the outbox, due now, and send it.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<MessageView, ActorError>")]
pub struct Requeue {
    pub org_id: String,
    pub message_id: String,
}

/// Give up on a failed or pending outbound message for good.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<MessageView, ActorError>")]
pub struct Discard {
    pub org_id: String,
    pub message_id: String,
}

/// Hide a message from agents, or show it again (it stays stored either way).
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<MessageView, ActorError>")]
pub struct ToggleHide {
    pub org_id: String,
    pub message_id: String,
}

/// Loads one of this conversation's messages.
pub(super) async fn own_message(rt: &Runtime, s: &Loaded, id: &str) -> Result<message::Model, ActorError> {
    store::messages::get(&rt.db.conn, id)
        .await?
        .filter(|m| m.conversation_id == s.conv.id)
        .ok_or(ActorError::NotFound("message"))
}

/// Writes a changed message with its `message.updated` event.
pub(super) async fn update_message(
    rt: &Runtime,
    s: &mut Loaded,
    am: message::ActiveModel,
) -> Result<message::Model, ActorError> {
    let txn = rt.db.begin_write_in(&s.conv.org_id).await?;
    let updated = am.update(&*txn).await?;
    let mut out = Outbox::new(&s.conv);
    out.push(EventName::MessageUpdated, serde_json::to_string(&MessageView::from(&updated))?);
    commit(rt, txn, &mut s.conv, out).await?;
    Ok(updated)
}

impl Handler<Requeue> for ConversationActor {
    type Result = AtomicResponse<Self, Result<MessageView, ActorError>>;
    fn handle(&mut self, msg: Requeue, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, mut s| async move {
            let m = own_message(&rt, &s, &msg.message_id).await?;
            if m.direction != Direction::Outbound {
                return Err(ActorError::Conflict("only outbound messages can be sent again".into()));
            }
            let status = Some(m.status);
            if !matches!(status, Some(MessageStatus::Failed | MessageStatus::Pending)) {
                return Err(ActorError::Conflict(format!("the message is {}, not failed", m.status)));
            }
            if stale_bot_reply(&m, &s) {
                return Err(ActorError::Conflict(
                    "this is a bot reply and a human has the conversation now: it cannot be sent".into(),
                ));
            }
            if m.message_type != TEMPLATE {
                window_open(&s)?;
            }
            let mut am = m.into_active_model();
            am.status = Set(MessageStatus::Pending);
            am.next_attempt_at = Set(Some(Utc::now()));
            am.attempts = Set(0);
            am.discarded_at = Set(None);
            am.updated_at = Set(Utc::now());
            update_message(&rt, &mut s, am).await?;
            let s = flush(&rt, s).await?;
            let row = own_message(&rt, &s, &msg.message_id).await?;
            Ok((s, MessageView::from(&row)))
        })
    }
}

impl Handler<Discard> for ConversationActor {
    type Result = AtomicResponse<Self, Result<MessageView, ActorError>>;
    fn handle(&mut self, msg: Discard, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, mut s| async move {
            let m = own_message(&rt, &s, &msg.message_id).await?;
            let status = Some(m.status);
            if m.direction != Direction::Outbound
                || !matches!(status, Some(MessageStatus::Failed | MessageStatus::Pending))
            {
                return Err(ActorError::Conflict("only failed or pending outbound messages can be discarded".into()));
            }
            if m.discarded_at.is_some() {
                return Ok((s, MessageView::from(&m)));
            }
            let now = Utc::now();
            let mut am = m.clone().into_active_model();
            am.status = Set(MessageStatus::Failed);
            am.next_attempt_at = Set(None);
            am.discarded_at = Set(Some(now));
            am.updated_at = Set(now);
            if m.error_message.is_none() {
                am.error_message = Set(Some("discarded before it was sent".into()));
            }
            let updated = update_message(&rt, &mut s, am).await?;
            Ok((s, MessageView::from(&updated)))
        })
    }
}

impl Handler<ToggleHide> for ConversationActor {
    type Result = AtomicResponse<Self, Result<MessageView, ActorError>>;
    fn handle(&mut self, msg: ToggleHide, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, mut s| async move {
            let m = own_message(&rt, &s, &msg.message_id).await?;
            let hidden = !m.hidden;
            let mut am = m.into_active_model();
            am.hidden = Set(hidden);
            am.updated_at = Set(Utc::now());
            let updated = update_message(&rt, &mut s, am).await?;
            Ok((s, MessageView::from(&updated)))
        })
    }
}

/// Send a file an agent uploaded (already in the media store) with an optional caption.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<MessageView, ActorError>")]
pub struct SendMedia {
    pub org_id: String,
    pub sender_id: String,
    /// image, video, audio or document.
    pub kind: String,
    pub path: String,
    pub mime: String,
    pub size: i64,
    pub caption: Option<String>,
    pub filename: Option<String>,
    pub idempotency_key: Option<String>,
    /// The message this one answers.
    #[serde(default)]
    pub reply_to: Option<ReplyTo>,
}

/// Send a file the provider fetches from a public link (image, video, audio, document), with
/// an optional caption: nothing is stored on our side but the link.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<MessageView, ActorError>")]
pub struct SendMediaLink {
    pub org_id: String,
    pub sender_id: String,
    /// image, video, audio or document.
    pub kind: String,
    pub link: String,
    pub caption: Option<String>,
    pub filename: Option<String>,
    pub idempotency_key: Option<String>,
    pub reply_to: Option<ReplyTo>,
}

/// The message a reply answers: ours, and the provider's id the customer's app knows it by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    pub message_id: String,
    pub provider_message_id: String,
}

/// The bot's answer, from a turn that started in bot epoch `epoch`. Sent only if the
/// conversation is still the bot's and no human took it in the meantime; otherwise dropped
/// (`Ok(None)`), even if the turn was already in flight when the takeover landed.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<Option<MessageView>, ActorError>")]
pub struct BotReply {
    pub org_id: String,
    pub epoch: i64,
    pub text: String,
}

impl Handler<BotReply> for ConversationActor {
    type Result = AtomicResponse<Self, Result<Option<MessageView>, ActorError>>;
    fn handle(&mut self, msg: BotReply, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, s| async move {
            if s.status() != ConversationStatus::BotHandling || s.conv.bot_epoch != msg.epoch {
                tracing::info!(conversation_id = %s.conv.id, "bot reply dropped: a human has the conversation");
                return Ok((s, None));
            }
            let epoch = s.conv.bot_epoch;
            let (s, view) = send_draft(&rt, s, Draft::bot(msg.text, epoch, None)).await?;
            Ok((s, Some(view)))
        })
    }
}

impl Handler<SendMedia> for ConversationActor {
    type Result = AtomicResponse<Self, Result<MessageView, ActorError>>;
    fn handle(&mut self, msg: SendMedia, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, s| async move {
            let draft = Draft {
                sender_id: Some(msg.sender_id.clone()),
                idempotency_key: msg.idempotency_key.clone(),
                message_type: msg.kind.clone(),
                text: msg.caption.clone(),
                content: msg.filename.as_ref().map(|f| serde_json::json!({ "filename": f }).to_string()),
                media: Some(StoredFile { path: msg.path.clone(), mime: msg.mime.clone(), size: msg.size }),
                notice: None,
                bot_epoch: None,
                answers: None,
                reply_to: msg.reply_to.clone(),
            };
            send_draft(&rt, s, draft).await
        })
    }
}

impl Handler<SendMediaLink> for ConversationActor {
    type Result = AtomicResponse<Self, Result<MessageView, ActorError>>;
    fn handle(&mut self, msg: SendMediaLink, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, s| async move {
            let mut content = serde_json::json!({ "link": msg.link });
            if let Some(f) = &msg.filename {
                content["filename"] = serde_json::json!(f);
            }
            let draft = Draft {
                sender_id: Some(msg.sender_id.clone()),
                idempotency_key: msg.idempotency_key.clone(),
                message_type: msg.kind.clone(),
                text: msg.caption.clone(),
                content: Some(content.to_string()),
                media: None,
                notice: None,
                bot_epoch: None,
                answers: None,
                reply_to: msg.reply_to.clone(),
            };
            send_draft(&rt, s, draft).await
        })
    }
}

/// The message type of a template message.
pub const TEMPLATE: &str = "template";
/// The message type of a satisfaction survey.
pub const SURVEY: &str = "csat";

/// Sends a satisfaction survey as an automatic message (it moves nothing). On WhatsApp it needs
/// the customer service window; outside it the survey is skipped, not an error.
pub(super) async fn send_survey(
    rt: &Runtime,
    s: Loaded,
    question: String,
    content: &SurveyContent,
) -> Result<Loaded, ActorError> {
    if window_open(&s).is_err() || s.contact.is_none() {
        return Ok(s);
    }
    let draft = Draft {
        message_type: SURVEY.into(),
        content: Some(serde_json::to_string(content)?),
        ..Draft::automatic(question)
    };
    let (s, _) = enqueue(rt, s, draft).await?;
    flush(rt, s).await
}

/// Send an approved WhatsApp template: allowed outside the 24-hour window. `sender_id` is the
/// agent; `None` for a campaign, which leaves the conversation where it is.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<MessageView, ActorError>")]
pub struct SendTemplate {
    pub org_id: String,
    pub sender_id: Option<String>,
    pub template: TemplateContent,
    /// The text the thread shows: the template with its parameters filled in.
    pub text: String,
    pub idempotency_key: Option<String>,
}

impl Handler<SendTemplate> for ConversationActor {
    type Result = AtomicResponse<Self, Result<MessageView, ActorError>>;
    fn handle(&mut self, msg: SendTemplate, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, s| async move {
            let draft = Draft {
                sender_id: msg.sender_id.clone(),
                idempotency_key: msg.idempotency_key.clone(),
                message_type: TEMPLATE.into(),
                text: Some(msg.text.clone()),
                content: Some(serde_json::to_string(&msg.template)?),
                media: None,
                notice: None,
                bot_epoch: None,
                answers: None,
                reply_to: None,
            };
            send_draft(&rt, s, draft).await
        })
    }
}

impl Handler<SendText> for ConversationActor {
    type Result = AtomicResponse<Self, Result<MessageView, ActorError>>;
    fn handle(&mut self, msg: SendText, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, s| async move { send_draft(&rt, s, Draft::from(&msg)).await })
    }
}

impl Handler<Flush> for ConversationActor {
    type Result = AtomicResponse<Self, Result<(), ActorError>>;
    fn handle(&mut self, msg: Flush, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, s| async move { Ok((flush(&rt, s).await?, ())) })
    }
}

/// Commits the reply as pending, with its events; returns its id.
/// What an agent sends: text, or a file already in the media store.
pub(super) struct Draft {
    /// The agent; `None` for the bot.
    pub sender_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub message_type: String,
    /// The text, or a file's caption.
    pub text: Option<String>,
    /// Type-specific content (a file's name), JSON.
    pub content: Option<String>,
    pub media: Option<StoredFile>,
    /// An automatic notice (off-hours, maintenance) with its marker: it neither answers the
    /// customer nor moves the conversation, and the marker keeps it to once per period.
    pub notice: Option<String>,
    /// A bot reply: the bot epoch it was written in (see [`flush`]).
    pub bot_epoch: Option<i64>,
    /// A bot reply: the newest customer message its turn read. Anything the customer wrote
    /// after it is not answered by this reply, so the conversation keeps awaiting one.
    pub answers: Option<String>,
    /// The message this one quotes; kept in the content as `context.message_id` (the
    /// provider's id, as WhatsApp's own messages carry it) and `replyTo` (ours).
    pub reply_to: Option<ReplyTo>,
}

/// A file in the media store.
pub(super) struct StoredFile {
    pub path: String,
    pub mime: String,
    pub size: i64,
}

impl Draft {
    /// A reply from the bot, written in bot epoch `epoch` (no sender: the conversation stays with
    /// the bot). It is withdrawn rather than sent if a human takes the conversation first.
    pub(super) fn bot(text: String, epoch: i64, answers: Option<String>) -> Draft {
        Draft { bot_epoch: Some(epoch), answers, ..Draft::automatic(text) }
    }

    /// A text without a sender that is not a bot reply: the bot's farewell when it hands the
    /// conversation to humans goes out whoever picks it up.
    pub(super) fn automatic(text: String) -> Draft {
        Draft {
            sender_id: None,
            idempotency_key: None,
            message_type: "text".into(),
            text: Some(text),
            content: None,
            media: None,
            notice: None,
            bot_epoch: None,
            answers: None,
            reply_to: None,
        }
    }
}

impl From<&SendText> for Draft {
    fn from(msg: &SendText) -> Draft {
        Draft {
            sender_id: Some(msg.sender_id.clone()),
            idempotency_key: msg.idempotency_key.clone(),
            message_type: "text".into(),
            text: Some(msg.text.clone()),
            content: None,
            media: None,
            notice: None,
            bot_epoch: None,
            answers: None,
            reply_to: msg.reply_to.clone(),
        }
    }
}

/// Sends a draft through the outbox and answers with the message as it then stands. A repeated
/// idempotency key answers with the first request's message and sends nothing.
pub(super) async fn send_draft(rt: &Runtime, s: Loaded, draft: Draft) -> Result<(Loaded, MessageView), ActorError> {
    if let Some(key) = &draft.idempotency_key
        && let Some(existing) = store::messages::by_idempotency_key(&rt.db.conn, &s.conv.org_id, key).await?
    {
        if existing.conversation_id != s.conv.id {
            return Err(ActorError::Conflict("this Idempotency-Key was already used for another conversation".into()));
        }
        // The same key with a different request is a client bug; answering with the first
        // message would silently drop this one.
        if existing.sender_id != draft.sender_id
            || existing.message_type != draft.message_type
            || existing.text != draft.text
        {
            return Err(ActorError::Invalid {
                field: "Idempotency-Key",
                message: "this Idempotency-Key was already used for a different message; use a new key".into(),
            });
        }
        return Ok((s, MessageView::from(&existing)));
    }
    let (s, id) = enqueue(rt, s, draft).await?;
    let s = flush(rt, s).await?;
    let row = store::messages::get(&rt.db.conn, &id).await?.ok_or(ActorError::NotFound("message"))?;
    Ok((s, MessageView::from(&row)))
}

async fn enqueue(rt: &Runtime, mut s: Loaded, msg: Draft) -> Result<(Loaded, String), ActorError> {
    let prev = s.status();
    // The bot answers without moving the conversation; an agent's reply takes it from the bot.
    let next = match &msg.sender_id {
        None => prev,
        Some(_) => state::on_agent_reply(prev).map_err(|r| ActorError::Conflict(r.into()))?,
    };
    let now = Utc::now();
    // Outside the customer service window only a template may be sent; templates are WhatsApp's.
    if msg.message_type != TEMPLATE {
        window_open(&s)?;
    } else if s.channel != Channel::Whatsapp {
        return Err(ActorError::Conflict(format!("templates are WhatsApp only; this is a {} conversation", s.channel)));
    }
    if s.contact.is_none() {
        return Err(ActorError::Conflict("the conversation has no contact to send to".into()));
    }
    // A bot reply answers what its turn read; a customer message that came in after that is
    // still owed an answer (read before the transaction: it holds no second connection).
    let unanswered = match &msg.answers {
        Some(answered) => store::messages::latest_inbound_id(&rt.db.conn, &s.conv.id)
            .await?
            .filter(|latest| latest != answered)
            .map(|_| answered.clone()),
        None => None,
    };
    let row = message::Model {
        text: msg.text.clone(),
        content: with_reply(msg.content.as_deref(), msg.reply_to.as_ref()),
        sender_id: msg.sender_id.clone(),
        // Leased from the start (see `flush`): should this node die before the provider's
        // answer is stored, the message waits for the provider's status webhook to settle it.
        next_attempt_at: Some(now + rt.config.outbox_in_flight_lease),
        idempotency_key: msg.idempotency_key.clone(),
        bot_epoch: msg.bot_epoch,
        media_status: msg.media.as_ref().map(|_| super::media::MEDIA_DOWNLOADED.to_owned()),
        media_path: msg.media.as_ref().map(|f| f.path.clone()),
        media_mime: msg.media.as_ref().map(|f| f.mime.clone()),
        media_size: msg.media.as_ref().map(|f| f.size),
        ..super::new_message(&s.conv, Direction::Outbound, &msg.message_type, MessageStatus::Pending, now)
    };
    let prev_assignee = s.conv.assigned_to.clone();
    let before = s.conv.clone();
    let c = &mut s.conv;
    c.status = next;
    if c.assigned_to.is_none() {
        c.assigned_to = msg.sender_id.clone();
    }
    super::leave_bot(c, prev, next);
    c.last_message_at = Some(now);
    c.last_message_preview = Some(preview(msg.text.as_deref(), &msg.message_type));
    match &msg.notice {
        Some(marker) => c.notice_marker = Some(marker.clone()),
        // A campaign's template answers nobody: what the customer wrote stays unanswered.
        None if msg.sender_id.is_none() && msg.message_type == TEMPLATE => {}
        None => {
            c.unread_count = 0;
            c.awaiting_reply = unanswered.is_some();
            c.answered_through = unanswered;
        }
    }
    c.updated_at = now;
    let assigned_changed = s.conv.assigned_to != prev_assignee;
    let mut out = Outbox::new(&s.conv);
    s.conv.event_seq += 1 + i64::from(prev != next) + i64::from(assigned_changed);
    let view = MessageView::from(&row);
    let conv_view = s.view();
    out.push(
        EventName::MessageCreated,
        serde_json::to_string(&MessageCreated { message: &view, conversation: &conv_view })?,
    );
    if prev != next {
        out.push(
            EventName::ConversationStatusChanged,
            serde_json::to_string(&StatusChanged { conversation: &conv_view, previous_status: prev.as_str() })?,
        );
    }
    if assigned_changed {
        out.push(EventName::ConversationAssigned, serde_json::to_string(&conv_view)?);
    }
    let insert = store::messages::insert_statement(rt.db.backend(), &row);
    if commit_statements(rt, None, &row, insert, &mut s.conv, &before, out).await? == Written::Conflict {
        // Only the organization's idempotency keys are unique among a new message's columns:
        // another conversation stored this key in the meantime.
        return Err(ActorError::Invalid {
            field: "Idempotency-Key",
            message: "this Idempotency-Key was already used for a different message; use a new key".into(),
        });
    }
    s.enqueued.insert(row.id.clone());
    Ok((s, row.id))
}

/// A draft's content with the message it answers put in.
fn with_reply(content: Option<&str>, reply: Option<&ReplyTo>) -> Option<String> {
    let Some(r) = reply else { return content.map(str::to_owned) };
    let mut v = content.and_then(|c| serde_json::from_str(c).ok()).unwrap_or_else(|| serde_json::json!({}));
    v["context"] = serde_json::json!({ "message_id": r.provider_message_id });
    v["replyTo"] = serde_json::json!(r.message_id);
    Some(v.to_string())
}

/// The provider id of the message a stored outbound message answers.
fn reply_of(m: &message::Model) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(m.content.as_deref()?).ok()?;
    v.get("context")?.get("message_id")?.as_str().map(str::to_owned)
}

/// What to hand the channel for a stored outbound message.
fn content_of(m: &message::Model) -> OutboundContent {
    let json = || m.content.as_deref().and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok());
    let field = |name: &str| json().and_then(|c| c.get(name).and_then(|v| v.as_str()).map(str::to_owned));
    match (m.message_type.as_str(), &m.media_path) {
        ("image" | "video" | "audio" | "document", None) if field("link").is_some() => OutboundContent::MediaLink {
            kind: m.message_type.clone(),
            link: field("link").unwrap_or_default(),
            caption: m.text.clone(),
            filename: field("filename"),
        },
        ("image" | "video" | "audio" | "document", Some(path)) => {
            let filename = m
                .content
                .as_deref()
                .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
                .and_then(|c| c.get("filename").and_then(|f| f.as_str()).map(str::to_owned));
            OutboundContent::Media {
                kind: m.message_type.clone(),
                path: path.clone(),
                mime: m.media_mime.clone().unwrap_or_default(),
                caption: m.text.clone(),
                filename,
            }
        }
        (SURVEY, _) => match m.content.as_deref().map(serde_json::from_str::<SurveyContent>) {
            Some(Ok(c)) => OutboundContent::Survey {
                question: m.text.clone().unwrap_or_default(),
                button: c.button,
                options: c.options,
            },
            _ => OutboundContent::Text { body: m.text.clone().unwrap_or_default() },
        },
        ("template", _) => match m.content.as_deref().map(serde_json::from_str::<TemplateContent>) {
            Some(Ok(t)) => OutboundContent::Template {
                name: t.name,
                language: t.language,
                components: t.components,
                header_file: t.header_file,
            },
            // Never stored so; sent as text rather than lost.
            _ => OutboundContent::Text { body: m.text.clone().unwrap_or_default() },
        },
        _ => OutboundContent::Text { body: m.text.clone().unwrap_or_default() },
    }
}

/// How long to wait before attempt `attempts + 1`: the base doubled per attempt, at most 5 minutes.
pub fn backoff(base: std::time::Duration, attempts: i32) -> chrono::Duration {
    let factor = 2u32.saturating_pow(attempts.clamp(0, 20) as u32);
    let wait = base.saturating_mul(factor).min(std::time::Duration::from_secs(300));
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(300))
}

/// Refuses a free-form send (text, media, reaction, a retry) outside the 24-hour customer
/// service window.
pub(super) fn window_open(s: &Loaded) -> Result<(), ActorError> {
    window_rule(s.channel, s.conv.last_inbound_at, Utc::now())
}

/// WhatsApp's rule: free-form messages only within 24 hours of the customer's last message.
/// Other channels have no such window.
fn window_rule(
    channel: Channel,
    last_inbound_at: Option<chrono::DateTime<Utc>>,
    now: chrono::DateTime<Utc>,
) -> Result<(), ActorError> {
    if channel == Channel::Whatsapp && last_inbound_at.is_none_or(|t| now >= t + SERVICE_WINDOW) {
        return Err(ActorError::Conflict(
            "outside the 24-hour customer service window: the customer has not written in the last 24 hours, so only a template message can be sent".into(),
        ));
    }
    Ok(())
}

/// Whether `m` is a bot reply written before a human took the conversation.
fn stale_bot_reply(m: &message::Model, s: &Loaded) -> bool {
    m.bot_epoch.is_some_and(|e| e != s.conv.bot_epoch || s.status() != ConversationStatus::BotHandling)
}

/// Why a bot reply still in the outbox is not sent.
pub const WITHDRAWN: &str = "withdrawn: a human took the conversation before the bot's reply could be sent";

/// Sends the conversation's due outbound messages, oldest first. A bot reply whose bot epoch is
/// no longer the conversation's (a human took it while the reply waited for a retry) is
/// withdrawn instead: marked failed and discarded, never sent, and it holds nothing back.
async fn flush(rt: &Runtime, mut s: Loaded) -> Result<Loaded, ActorError> {
    let Some(to) = s.contact.as_ref().map(|c| c.wa_id.clone()) else { return Ok(s) };
    let pending = store::messages::pending_outbound(&rt.db.conn, &s.conv.id).await?;
    for m in pending {
        let now = Utc::now();
        if stale_bot_reply(&m, &s) {
            tracing::info!(message_id = %m.id, conversation_id = %s.conv.id, "bot reply withdrawn: a human has the conversation");
            let mut am = m.into_active_model();
            am.status = Set(MessageStatus::Failed);
            am.next_attempt_at = Set(None);
            am.discarded_at = Set(Some(now));
            am.updated_at = Set(now);
            am.error_code = Set(Some("withdrawn".into()));
            am.error_message = Set(Some(WITHDRAWN.into()));
            update_message(rt, &mut s, am).await?;
            continue;
        }
        // A message this actor stored and never tried is due whatever its lease says; any other
        // is due at its time (a retry's backoff, or the lease of a send a dead node made).
        let fresh = m.attempts == 0 && s.enqueued.contains(&m.id);
        if !fresh && m.next_attempt_at.is_some_and(|t| t > now) {
            break; // not due yet, and nothing after it may overtake it
        }
        let request = OutboundRequest {
            org_id: m.org_id.clone(),
            inbox_id: m.inbox_id.clone(),
            conversation_id: s.conv.id.clone(),
            channel: s.channel,
            to: to.clone(),
            content: content_of(&m),
            message_id: Some(m.id.clone()),
            bulk: m.message_type == TEMPLATE && m.sender_id.is_none(),
            reply_to: reply_of(&m),
        };
        // While the call is out, the message is not due: if this node dies before the answer is
        // stored, the provider may have it, and its status webhook (which names the message)
        // settles it before the lease runs out; only then is it sent again.
        let lease = now + rt.config.outbox_in_flight_lease;
        if m.next_attempt_at.is_none_or(|t| t < lease - rt.config.outbox_in_flight_lease / 2) {
            store::messages::lease(&rt.db.conn, &m.id, lease).await?;
        }
        let result = rt.channel.send(request).await;
        let attempts = m.attempts + 1;
        let outcome = match &result {
            Ok(_) => "sent",
            Err(e) if e.transient && attempts < MAX_ATTEMPTS => "retry",
            Err(_) => "failed",
        };
        metrics::counter!("cx_outbox_sends_total", "outcome" => outcome).increment(1);
        let done = Utc::now();
        let mut am = m.clone().into_active_model();
        am.attempts = Set(attempts);
        am.updated_at = Set(done);
        let mut held_back = false;
        match result {
            Ok(receipt) => {
                am.status = Set(MessageStatus::Sent);
                am.provider_message_id = Set(Some(receipt.provider_message_id));
                am.sent_at = Set(Some(done));
                am.next_attempt_at = Set(None);
                am.error_code = Set(None);
                am.error_message = Set(None);
            }
            Err(e) if e.transient && attempts < MAX_ATTEMPTS => {
                tracing::info!(message_id = %m.id, attempts, code = %e.code, error = %e.message, "send failed; will retry");
                am.next_attempt_at = Set(Some(done + backoff(rt.config.outbox_backoff, attempts - 1)));
                am.error_code = Set(Some(e.code));
                am.error_message = Set(Some(e.message));
                held_back = true;
            }
            Err(e) => {
                tracing::info!(message_id = %m.id, attempts, code = %e.code, error = %e.message, "send failed for good");
                am.status = Set(MessageStatus::Failed);
                am.next_attempt_at = Set(None);
                am.error_code = Set(Some(e.code));
                let reason =
                    if e.transient { format!("gave up after {attempts} attempts: {}", e.message) } else { e.message };
                am.error_message = Set(Some(reason));
            }
        }
        update_message(rt, &mut s, am).await?;
        if held_back {
            break;
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(1);
        assert_eq!(backoff(base, 0), chrono::Duration::seconds(1));
        assert_eq!(backoff(base, 3), chrono::Duration::seconds(8));
        assert_eq!(backoff(base, 30), chrono::Duration::seconds(300));
    }

    #[test]
    fn window_rule_applies_to_whatsapp_only() {
        let now = Utc::now();
        let recent = Some(now - chrono::Duration::hours(2));
        let old = Some(now - chrono::Duration::hours(25));
        assert!(window_rule(Channel::Whatsapp, recent, now).is_ok());
        assert!(window_rule(Channel::Whatsapp, old, now).is_err());
        assert!(window_rule(Channel::Whatsapp, None, now).is_err());
        for channel in [Channel::Livechat, Channel::Api] {
            assert!(window_rule(channel, old, now).is_ok(), "{channel} has no window");
            assert!(window_rule(channel, None, now).is_ok(), "{channel} has no window");
        }
    }
}
