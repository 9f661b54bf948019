//! Meta's webhook payload, parsed leniently and part by part: unknown fields are ignored, unknown
//! message types are kept whole, and a missing or malformed piece never fails the rest of the
//! delivery (it is skipped, logged and counted).

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value;

/// The only `object` whose deliveries are WhatsApp's; Meta uses the same webhook shape for
/// Pages, Instagram and others.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// One webhook delivery, read part by part: an entry, change, contact, message or status that
/// cannot be read is skipped (and counted) without costing the rest of the delivery.
#[derive(Debug, Default)]
pub struct Delivery {
    pub object: Option<String>,
    pub changes: Vec<Change>,
    /// Parts that could not be read, each logged with what identifies it.
    pub skipped: usize,
}

#[derive(Debug, Default)]
pub struct Change {
    /// The WhatsApp Business Account id of the entry.
    pub waba_id: Option<String>,
    pub field: Option<String>,
    pub value: ChangeValue,
    /// The entry's `time` (unix seconds), which Meta sends with account-level changes.
    pub time: Option<i64>,
    /// The change's value as sent, for the account-level fields ([`ACCOUNT_FIELDS`]), which are
    /// stored as they come; `Null` for the others.
    pub raw: Value,
}

/// The account-level webhook fields whose values are kept whole (`Change::raw`): account
/// alerts, quality and limit changes of a number, bans and restrictions.
pub const ACCOUNT_FIELDS: &[&str] = &["account_alerts", "phone_number_quality_update", "account_update"];

#[derive(Debug, Default)]
pub struct ChangeValue {
    pub metadata: Option<Metadata>,
    pub contacts: Vec<WaContact>,
    /// Kept as JSON so types we do not know are stored, not dropped.
    pub messages: Vec<Value>,
    pub statuses: Vec<WaStatus>,
    /// `message_template_status_update`: APPROVED, REJECTED, PAUSED, DISABLED, …
    pub event: Option<String>,
    pub message_template_id: Option<Value>,
    pub message_template_name: Option<String>,
    pub message_template_language: Option<String>,
    pub reason: Option<String>,
    /// `message_template_quality_update`: the new score.
    pub new_quality_score: Option<String>,
    /// `template_category_update`: the new category.
    pub new_category: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub display_phone_number: Option<String>,
    pub phone_number_id: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct WaContact {
    pub wa_id: String,
    #[serde(default)]
    pub profile: Option<Profile>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Default)]
pub struct WaStatus {
    /// The wamid of our outbound message.
    pub id: String,
    /// sent, delivered, read, failed (and others we ignore).
    pub status: String,
    pub timestamp: Option<String>,
    pub recipient_id: Option<String>,
    /// What we sent along (`biz_opaque_callback_data`): our message id.
    pub callback_data: Option<String>,
    pub errors: Vec<WaError>,
}

/// Reads a delivery; `Err` only when the body is not a JSON object at all.
pub fn parse_delivery(body: &[u8]) -> Result<Delivery, String> {
    let root: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let Some(root) = root.as_object() else { return Err("the body is not a JSON object".into()) };
    let mut d =
        Delivery { object: root.get("object").and_then(Value::as_str).map(str::to_owned), ..Delivery::default() };
    let entries = match root.get("entry") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => {
            skip(&mut d.skipped, "entry", "not a list", None);
            &[][..]
        }
    };
    for entry in entries {
        if !entry.is_object() {
            skip(&mut d.skipped, "entry", "not an object", None);
            continue;
        }
        let waba_id = entry.get("id").and_then(id_text);
        let time = entry.get("time").and_then(|t| t.as_i64().or_else(|| t.as_str()?.trim().parse().ok()));
        let changes = match entry.get("changes") {
            Some(Value::Array(a)) => a.as_slice(),
            None | Some(Value::Null) => &[][..],
            Some(_) => {
                skip(&mut d.skipped, "entry", "changes is not a list", waba_id.as_deref());
                continue;
            }
        };
        for change in changes {
            let Some(change) = change.as_object() else {
                skip(&mut d.skipped, "change", "not an object", waba_id.as_deref());
                continue;
            };
            let field = change.get("field").and_then(Value::as_str).map(str::to_owned);
            let value = match change.get("value") {
                Some(v @ Value::Object(_)) => ChangeValue::read(v, &mut d.skipped),
                None | Some(Value::Null) => ChangeValue::default(),
                Some(_) => {
                    skip(&mut d.skipped, "change", "value is not an object", waba_id.as_deref());
                    continue;
                }
            };
            let raw = match (field.as_deref(), change.get("value")) {
                (Some(f), Some(v)) if ACCOUNT_FIELDS.contains(&f) => v.clone(),
                _ => Value::Null,
            };
            d.changes.push(Change { waba_id: waba_id.clone(), field, value, time, raw });
        }
    }
    Ok(d)
}

/// Logs a part that cannot be read and counts it.
fn skip(skipped: &mut usize, part: &str, why: &str, id: Option<&str>) {
    *skipped += 1;
    tracing::warn!(part, reason = why, id = id.unwrap_or("-"), "unreadable part of a webhook delivery skipped");
}

/// An id Meta sends as a string (and sometimes as a number).
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The elements of `v[key]` when it is a list; anything else there is one skipped part.
fn list<'a>(v: &'a Value, key: &str, skipped: &mut usize) -> &'a [Value] {
    match v.get(key) {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => &[],
        Some(_) => {
            skip(skipped, key, "not a list", None);
            &[]
        }
    }
}

impl ChangeValue {
    fn read(v: &Value, skipped: &mut usize) -> ChangeValue {
        let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        let metadata = match v.get("metadata") {
            None | Some(Value::Null) => None,
            Some(m) => match Metadata::deserialize(m) {
                Ok(m) => Some(m),
                Err(e) => {
                    skip(skipped, "metadata", &e.to_string(), None);
                    None
                }
            },
        };
        let mut contacts = Vec::new();
        for c in list(v, "contacts", skipped) {
            match WaContact::deserialize(c) {
                Ok(c) => contacts.push(c),
                Err(e) => skip(skipped, "contact", &e.to_string(), c.get("wa_id").and_then(Value::as_str)),
            }
        }
        let messages = list(v, "messages", skipped).to_vec();
        let mut statuses = Vec::new();
        for st in list(v, "statuses", skipped) {
            if let Some(st) = WaStatus::read(st, skipped) {
                statuses.push(st);
            }
        }
        ChangeValue {
            metadata,
            contacts,
            messages,
            statuses,
            event: text("event"),
            message_template_id: v.get("message_template_id").cloned(),
            message_template_name: text("message_template_name"),
            message_template_language: text("message_template_language"),
            reason: text("reason"),
            new_quality_score: text("new_quality_score"),
            new_category: text("new_category"),
        }
    }
}

impl WaStatus {
    /// A status needs its wamid and status; errors that cannot be read are dropped (and
    /// counted), the status itself is still applied.
    fn read(v: &Value, skipped: &mut usize) -> Option<WaStatus> {
        let wamid = v.get("id").and_then(Value::as_str);
        let (Some(id), Some(status)) = (wamid, v.get("status").and_then(Value::as_str)) else {
            skip(skipped, "status", "no wamid or status", wamid);
            return None;
        };
        let mut errors = Vec::new();
        match v.get("errors") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for e in list {
                    match WaError::deserialize(e) {
                        Ok(e) => errors.push(e),
                        Err(why) => skip(skipped, "status error", &why.to_string(), Some(id)),
                    }
                }
            }
            Some(_) => skip(skipped, "status errors", "not a list", Some(id)),
        }
        Some(WaStatus {
            id: id.to_owned(),
            status: status.to_owned(),
            timestamp: v.get("timestamp").and_then(id_text),
            recipient_id: v.get("recipient_id").and_then(id_text),
            callback_data: v.get("biz_opaque_callback_data").and_then(Value::as_str).map(str::to_owned),
            errors,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct WaError {
    #[serde(default, deserialize_with = "lenient_code")]
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

/// An error code as a number or a numeric string; anything else is no code.
fn lenient_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
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

/// Longest text stored for a customer message: WhatsApp's own limit for a text body (captions
/// and titles are shorter). Anything longer did not come from WhatsApp and is cut.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Largest type-specific content stored (an order, a contact card, an unknown type kept whole);
/// past it only its size is kept.
pub const MAX_CONTENT_BYTES: usize = 64 * 1024;
/// Longest WhatsApp profile name kept.
pub const MAX_NAME_CHARS: usize = 256;

/// `s` cut to at most `max` characters; `None` when it was short enough already.
pub fn cut(s: &str, max: usize) -> Option<String> {
    s.char_indices().nth(max).map(|(i, _)| s[..i].to_owned())
}

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
    let text = match text {
        Some(t) => match cut(&t, MAX_TEXT_CHARS) {
            Some(short) => {
                tracing::warn!(wamid = %id, chars = t.chars().count(), "message text longer than WhatsApp allows; stored cut");
                Some(short)
            }
            None => Some(t),
        },
        None => None,
    };
    let content = match content {
        Some(c) if c.len() > MAX_CONTENT_BYTES => {
            tracing::warn!(wamid = %id, bytes = c.len(), "message content too large; only its size is stored");
            Some(serde_json::json!({ "omitted": "content too large to store", "bytes": c.len() }).to_string())
        }
        other => other,
    };
    let message_type: String = message_type.chars().take(64).collect();
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

    fn delivery(v: Value) -> Delivery {
        parse_delivery(v.to_string().as_bytes()).unwrap_or_default()
    }

    #[test]
    fn the_whole_payload_parses_with_missing_parts() {
        let d = delivery(
            json!({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"P"}}}]}]}),
        );
        assert_eq!(d.object.as_deref(), Some(WHATSAPP_OBJECT));
        assert_eq!(d.changes[0].value.metadata.as_ref().map(|m| m.phone_number_id.as_str()), Some("P"));
        assert_eq!(d.skipped, 0);
    }

    #[test]
    fn an_unreadable_part_costs_only_itself() {
        let d = delivery(json!({"object":"whatsapp_business_account","entry":[
            "not an entry",
            {"id":"W","changes":[
                7,
                {"field":"messages","value":{
                    "metadata":{"phone_number_id":"P"},
                    "contacts":[{"wa_id":"1","profile":{"name":"Ann"}}, {"profile":"x"}],
                    "messages":[{"from":"1","id":"wamid.ok","type":"text","text":{"body":"hi"}}],
                    "statuses":[
                        {"id":"wamid.s1","status":"failed","errors":"boom"},
                        {"id":"wamid.s2","status":"delivered","errors":[{"code":"131026","title":"x"}, 5]},
                        {"status":"read"}
                    ]
                }}
            ]}
        ]}));
        let v = &d.changes[0].value;
        assert_eq!(v.contacts.len(), 1);
        assert_eq!(v.messages.len(), 1);
        let ids: Vec<&str> = v.statuses.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, vec!["wamid.s1", "wamid.s2"]);
        assert_eq!(v.statuses[1].errors[0].code, Some(131026));
        // The string entry, the change that is a number, the second contact, the string errors,
        // the error that is a number and the status without a wamid.
        assert_eq!(d.skipped, 6);
        assert!(parse_delivery(b"not json").is_err());
        assert!(parse_delivery(b"[1]").is_err());
    }

    #[test]
    fn text_and_content_are_kept_within_limits() {
        let long = "é".repeat(MAX_TEXT_CHARS + 10);
        let m = parse(json!({"from":"1","id":"w","type":"text","text":{"body": long}}));
        assert_eq!(m.text.as_deref().map(|t| t.chars().count()), Some(MAX_TEXT_CHARS));
        let big = "x".repeat(MAX_CONTENT_BYTES + 1);
        let m = parse(json!({"from":"1","id":"w","type":"hologram","hologram":{"x": big}}));
        assert!(m.content.as_deref().unwrap_or_default().len() < 200, "{:?}", m.content);
        assert_eq!(cut("abc", 3), None);
        assert_eq!(cut("abcd", 3).as_deref(), Some("abc"));
    }
}
