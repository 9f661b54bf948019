//! Meta's webhook payload, parsed leniently: unknown fields are ignored, unknown message types
//! are kept whole, and a missing piece never fails the rest of the batch.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Deserialize)]
pub struct Webhook {
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account id.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub value: ChangeValue,
}

#[derive(Debug, Default, Deserialize)]
pub struct ChangeValue {
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<WaContact>,
    /// Kept as JSON so types we do not know are stored, not dropped.
    #[serde(default)]
    pub messages: Vec<Value>,
    #[serde(default)]
    pub statuses: Vec<WaStatus>,
    /// `message_template_status_update`: APPROVED, REJECTED, PAUSED, DISABLED, …
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub message_template_id: Option<Value>,
    #[serde(default)]
    pub message_template_name: Option<String>,
    #[serde(default)]
    pub message_template_language: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub phone_number_id: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct WaContact {
    #[serde(default)]
    pub wa_id: String,
    #[serde(default)]
    pub profile: Option<Profile>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WaStatus {
    /// The wamid of our outbound message.
    #[serde(default)]
    pub id: String,
    /// sent, delivered, read, failed (and others we ignore).
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub errors: Vec<WaError>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WaError {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error_data: Option<ErrorData>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ErrorData {
    #[serde(default)]
    pub details: Option<String>,
}

impl WaError {
    /// The most specific description Meta gave.
    pub fn describe(&self) -> String {
        self.error_data
            .as_ref()
            .and_then(|d| d.details.clone())
            .or_else(|| self.message.clone())
            .or_else(|| self.title.clone())
            .unwrap_or_else(|| "delivery failed".into())
    }
}

/// A customer message reduced to what we store.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedMessage {
    /// Sender's WhatsApp id.
    pub from: String,
    /// The wamid.
    pub id: String,
    pub sent_at: DateTime<Utc>,
    pub message_type: String,
    /// Human-readable text: the body, a caption, a button title, a reaction emoji.
    pub text: Option<String>,
    /// The type-specific object (or, for unknown types, the whole message) as JSON text.
    pub content: Option<String>,
    /// Meta's media id, for the types that carry a file.
    pub media_id: Option<String>,
}

/// Types whose content Meta puts under a key of the type's name.
const KNOWN_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "system",
];

/// Parses a unix-seconds timestamp string; `None` if absent or invalid.
pub fn timestamp(s: Option<&str>) -> Option<DateTime<Utc>> {
    s?.parse::<i64>().ok().and_then(|t| Utc.timestamp_opt(t, 0).single())
}

/// Reduces one entry of `messages[]`; `None` when it has no sender or id (nothing to store).
pub fn parse_message(v: &Value) -> Option<ParsedMessage> {
    let from = v.get("from")?.as_str()?.to_owned();
    let id = v.get("id")?.as_str()?.to_owned();
    let message_type = v.get("type").and_then(Value::as_str).unwrap_or("unsupported").to_owned();
    let sent_at = timestamp(v.get("timestamp").and_then(Value::as_str)).unwrap_or_else(Utc::now);
    let body = v.get(&message_type);
    let s = |path: &[&str]| -> Option<String> {
        let mut cur = body?;
        for p in path {
            cur = cur.get(*p)?;
        }
        cur.as_str().map(str::to_owned)
    };
    let text = match message_type.as_str() {
        "text" => s(&["body"]),
        "image" | "video" | "document" => s(&["caption"]),
        "interactive" => {
            s(&["button_reply", "title"]).or_else(|| s(&["list_reply", "title"])).or_else(|| s(&["nfm_reply", "body"]))
        }
        "button" => s(&["text"]),
        "reaction" => s(&["emoji"]),
        "location" => s(&["name"]).or_else(|| s(&["address"])),
        _ => None,
    };
    let content = match (message_type.as_str(), body) {
        ("text", _) => None,
        (t, Some(b)) if KNOWN_TYPES.contains(&t) => Some(b.to_string()),
        // Unknown or bodiless types: keep everything Meta sent, wherever it put it.
        _ => Some(v.to_string()),
    };
    let content = match (content, v.get("context")) {
        (Some(c), Some(ctx)) => serde_json::from_str::<Value>(&c)
            .ok()
            .map(|mut obj| {
                if let Some(map) = obj.as_object_mut() {
                    map.insert("context".into(), ctx.clone());
                }
                obj.to_string()
            })
            .or(Some(c)),
        (None, Some(ctx)) => Some(serde_json::json!({ "context": ctx }).to_string()),
        (c, None) => c,
    };
    let media_id = match message_type.as_str() {
        "image" | "audio" | "video" | "document" | "sticker" => s(&["id"]),
        _ => None,
    };
    Some(ParsedMessage { from, id, sent_at, message_type, text, content, media_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> ParsedMessage {
        parse_message(&v).unwrap_or_else(|| ParsedMessage {
            from: String::new(),
            id: String::new(),
            sent_at: Utc::now(),
            message_type: "none".into(),
            text: None,
            content: None,
            media_id: None,
        })
    }

    #[test]
    fn text_keeps_its_body() {
        let m = parse(
            json!({"from":"15551234567","id":"wamid.1","timestamp":"1700000000","type":"text","text":{"body":"hi"}}),
        );
        assert_eq!(m.text.as_deref(), Some("hi"));
        assert_eq!(m.content, None);
        assert_eq!(m.sent_at.timestamp(), 1_700_000_000);
    }

    #[test]
    fn media_keeps_its_object_and_caption() {
        let m = parse(
            json!({"from":"1","id":"w","type":"image","image":{"id":"MEDIA1","mime_type":"image/jpeg","caption":"look"}}),
        );
        assert_eq!(m.text.as_deref(), Some("look"));
        let c: Value = serde_json::from_str(m.content.as_deref().unwrap_or("{}")).unwrap_or_default();
        assert_eq!(c["id"], "MEDIA1");
        assert_eq!(m.media_id.as_deref(), Some("MEDIA1"));
    }

    #[test]
    fn interactive_button_and_reaction_have_readable_text() {
        let i = parse(
            json!({"from":"1","id":"w","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Yes"}}}),
        );
        assert_eq!(i.text.as_deref(), Some("Yes"));
        let b = parse(json!({"from":"1","id":"w","type":"button","button":{"payload":"p","text":"Stop"}}));
        assert_eq!(b.text.as_deref(), Some("Stop"));
        let r = parse(json!({"from":"1","id":"w","type":"reaction","reaction":{"message_id":"wamid.X","emoji":"👍"}}));
        assert_eq!(r.text.as_deref(), Some("👍"));
    }

    #[test]
    fn unknown_types_are_kept_whole() {
        let m = parse(json!({"from":"1","id":"w","type":"hologram","hologram":{"x":1},"extra":true}));
        assert_eq!(m.message_type, "hologram");
        let c: Value = serde_json::from_str(m.content.as_deref().unwrap_or("{}")).unwrap_or_default();
        assert_eq!(c["hologram"]["x"], 1);
        assert_eq!(c["extra"], true);
        let u = parse(json!({"from":"1","id":"w","type":"unsupported","errors":[{"code":131051}]}));
        assert!(u.content.as_deref().unwrap_or("").contains("131051"));
    }

    #[test]
    fn a_message_without_sender_or_id_is_skipped() {
        assert!(parse_message(&json!({"id":"w","type":"text"})).is_none());
        assert!(parse_message(&json!({"from":"1","type":"text"})).is_none());
    }

    #[test]
    fn the_whole_payload_parses_with_missing_parts() {
        let w: Webhook = serde_json::from_value(json!({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"P"}}}]}]})).unwrap_or_default();
        assert_eq!(w.entry[0].changes[0].value.metadata.as_ref().map(|m| m.phone_number_id.as_str()), Some("P"));
    }
}
