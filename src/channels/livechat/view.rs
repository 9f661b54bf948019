//! What a visitor may see of its conversation: its own messages and the business's answers,
//! with the agent's public name (or the bot's), never system rows, hidden rows, agent emails or
//! internal fields. The socket's frames and the REST answers share this projection.

use std::collections::HashMap;
use std::sync::Mutex;

use actors::views::MessageView;
use chrono::{DateTime, Utc};
use entities::user;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::Serialize;
use utoipa::ToSchema;

/// A message as the widget shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetMessage {
    pub id: String,
    /// The id the widget gave its own message (idempotency); null for the business's messages.
    pub client_id: Option<String>,
    /// `inbound` (the visitor's) or `outbound` (the business's).
    pub direction: String,
    /// text, image, document, audio, video, or csat (a satisfaction survey: see `survey`).
    #[serde(rename = "type")]
    pub message_type: String,
    pub text: Option<String>,
    pub attachment: Option<WidgetAttachment>,
    /// Who answered (outbound only): the agent's public name, or the bot's.
    pub sender: Option<WidgetSender>,
    /// A `csat` message's choices; the visitor answers with `POST /widget/csat`.
    pub survey: Option<WidgetSurvey>,
    /// pending, sent, delivered, read or failed.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// A satisfaction survey as the widget shows it: `text` is the question.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetSurvey {
    /// `emoji` or `star`.
    pub display_type: String,
    /// Ratings 5 down to 1, each with its label.
    pub options: Vec<WidgetSurveyOption>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetSurveyOption {
    pub rating: i32,
    pub label: String,
}

fn survey_of(content: Option<&serde_json::Value>) -> Option<WidgetSurvey> {
    let c: actors::channel::SurveyContent = serde_json::from_value(content?.clone()).ok()?;
    let options = c.options.into_iter().map(|o| WidgetSurveyOption { rating: o.rating, label: o.label }).collect();
    Some(WidgetSurvey { display_type: c.display_type, options })
}

/// A message's file, fetched with the visitor token.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetAttachment {
    /// `/widget/media/{messageId}`: add `?visitorToken=` or the `X-Visitor-Token` header.
    pub url: String,
    pub mime: Option<String>,
    pub name: Option<String>,
    pub size: Option<i64>,
}

/// The public face of who wrote.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetSender {
    pub name: String,
    pub avatar_url: Option<String>,
}

/// The visitor's view of a message, or `None` for what visitors never see.
pub fn widget_message(m: &MessageView, sender: Option<WidgetSender>) -> Option<WidgetMessage> {
    if m.hidden || (m.direction != "inbound" && m.direction != "outbound") {
        return None;
    }
    let content = m.content.as_ref();
    let client_id = content.and_then(|c| c.get("clientId")).and_then(|v| v.as_str()).map(str::to_owned);
    let message_type = match m.message_type.as_str() {
        t @ ("text" | "image" | "document" | "audio" | "video" | actors::conversation::SURVEY) => t.to_owned(),
        _ => "text".to_owned(),
    };
    let attachment = m.media_status.as_ref().map(|_| WidgetAttachment {
        url: format!("/widget/media/{}", m.id),
        mime: m.media_mime.clone(),
        name: content.and_then(|c| c.get("filename")).and_then(|v| v.as_str()).map(str::to_owned),
        size: m.media_size,
    });
    let text =
        m.text.clone().or_else(|| content.and_then(|c| c.get("caption")).and_then(|v| v.as_str()).map(str::to_owned));
    let status = match m.status.as_str() {
        "received" => "sent".to_owned(),
        s => s.to_owned(),
    };
    let outbound = m.direction == "outbound";
    Some(WidgetMessage {
        id: m.id.clone(),
        client_id: if outbound { None } else { client_id },
        direction: m.direction.clone(),
        message_type,
        text,
        attachment,
        sender: if outbound { sender } else { None },
        survey: if m.message_type == actors::conversation::SURVEY { survey_of(content) } else { None },
        status,
        created_at: m.created_at,
    })
}

/// Public names of who answers, cached: an agent's name rarely changes, and the socket
/// projects every message of every live visitor.
#[derive(Default)]
pub struct Names {
    cache: Mutex<HashMap<String, WidgetSender>>,
}

impl Names {
    /// The agent `sender_id`, or (none) the bot answering `inbox_id`.
    pub async fn sender(
        &self,
        db: &impl ConnectionTrait,
        org_id: &str,
        inbox_id: &str,
        sender_id: Option<&str>,
    ) -> WidgetSender {
        let key = match sender_id {
            Some(id) => format!("user:{id}"),
            None => format!("bot:{inbox_id}"),
        };
        if let Some(s) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return s;
        }
        let sender = match sender_id {
            Some(id) => {
                let agent =
                    user::Entity::find_by_id(id.to_owned()).one(db).await.ok().flatten().filter(|u| u.org_id == org_id);
                WidgetSender {
                    name: agent.as_ref().map(|u| u.name.clone()).unwrap_or_else(|| "Support".to_owned()),
                    avatar_url: agent
                        .filter(|u| u.avatar_path.is_some())
                        .map(|u| format!("/widget/inboxes/{inbox_id}/agents/{}/avatar", u.id)),
                }
            }
            None => WidgetSender {
                name: bot_name(db, org_id, inbox_id).await.unwrap_or_else(|| "Assistant".to_owned()),
                avatar_url: None,
            },
        };
        if let Ok(mut c) = self.cache.lock() {
            if c.len() > 10_000 {
                c.clear();
            }
            c.insert(key, sender.clone());
        }
        sender
    }
}

/// The name of the bot config answering the inbox: its own, else the organization's active one.
async fn bot_name(db: &impl ConnectionTrait, org_id: &str, inbox_id: &str) -> Option<String> {
    crate::bot::config::answering(db, org_id, inbox_id).await.ok().flatten().map(|c| c.name)
}
