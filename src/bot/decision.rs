//! The bot's decision for a turn, as structured data the model returns (a JSON object), never a
//! magic string inside the reply text:
//!
//! ```json
//! {"action": "reply", "text": "…", "sources": ["chunk-id"]}
//! {"action": "handoff", "reason": "…", "summary": "…", "text": "optional goodbye to the customer"}
//! {"action": "tool", "tool": "order_status", "arguments": {"orderId": "123"}}
//! ```
//!
//! Parsing is forgiving where the meaning is clear (a JSON object wrapped in a code fence or in
//! prose) and strict where it is not: an unknown action or a reply without text is an error, so
//! the turn hands off instead of sending something the model did not mean.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Answer the customer.
    Reply { text: String, sources: Vec<String> },
    /// Give the conversation to humans.
    Handoff { reason: String, summary: Option<String>, text: Option<String> },
    /// Run one of the configured tools, then decide again with its result.
    Tool { name: String, arguments: Value },
}

/// Why an answer could not be read as a decision.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the model's answer is not a decision: {0}")]
pub struct NotADecision(pub String);

/// Reads the model's answer.
pub fn parse(answer: &str) -> Result<Decision, NotADecision> {
    let object = extract_object(answer).ok_or_else(|| NotADecision("no JSON object in the answer".into()))?;
    let text_of = |key: &str| object.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let action = text_of("action").map(str::to_lowercase).ok_or_else(|| NotADecision("no action".into()))?;
    match action.as_str() {
        "reply" | "answer" => {
            let text = text_of("text").ok_or_else(|| NotADecision("a reply without text".into()))?.to_owned();
            let sources = object
                .get("sources")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            Ok(Decision::Reply { text, sources })
        }
        "handoff" | "hand_off" | "escalate" => Ok(Decision::Handoff {
            reason: text_of("reason").unwrap_or("the bot handed the conversation to a human").to_owned(),
            summary: text_of("summary").map(str::to_owned),
            text: text_of("text").map(str::to_owned),
        }),
        "tool" | "call_tool" => {
            let name =
                text_of("tool").or(text_of("name")).ok_or_else(|| NotADecision("a tool call without a tool".into()))?;
            let arguments = object.get("arguments").cloned().unwrap_or(Value::Object(Default::default()));
            if !arguments.is_object() {
                return Err(NotADecision("tool arguments must be an object".into()));
            }
            Ok(Decision::Tool { name: name.to_owned(), arguments })
        }
        other => Err(NotADecision(format!("unknown action {other:?}"))),
    }
}

/// The JSON object in a model's answer (see [`parse`] for where it may sit).
pub fn object_of(answer: &str) -> Option<serde_json::Map<String, Value>> {
    extract_object(answer)
}

/// The `category` a classifying answer carries, if any.
pub fn category_of(answer: &str) -> Option<String> {
    category_in(&extract_object(answer)?)
}

/// The `category` of an answer's object, if it names one (at most 60 characters).
pub fn category_in(object: &serde_json::Map<String, Value>) -> Option<String> {
    let c = object.get("category")?.as_str()?.trim();
    (!c.is_empty() && c.chars().count() <= 60).then(|| c.to_owned())
}

/// The first JSON object in `s`: the whole text, a fenced block, or the outermost braces.
fn extract_object(s: &str) -> Option<serde_json::Map<String, Value>> {
    let s = s.trim();
    if let Ok(Value::Object(o)) = serde_json::from_str(s) {
        return Some(o);
    }
    let start = s.find('{')?;
    let end = s.rfind('}')?;
    if end <= start {
        return None;
    }
    match serde_json::from_str(&s[start..=end]) {
        Ok(Value::Object(o)) => Some(o),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn replies_handoffs_and_tool_calls_are_read() {
        assert_eq!(
            parse(r#"{"action":"reply","text":" Hello! ","sources":["c1","c2"]}"#).unwrap(),
            Decision::Reply { text: "Hello!".into(), sources: vec!["c1".into(), "c2".into()] }
        );
        assert_eq!(
            parse(r#"{"action":"handoff","reason":"wants a refund","summary":"Order 12 arrived broken"}"#).unwrap(),
            Decision::Handoff {
                reason: "wants a refund".into(),
                summary: Some("Order 12 arrived broken".into()),
                text: None
            }
        );
        assert_eq!(
            parse(r#"{"action":"tool","tool":"order_status","arguments":{"orderId":"12"}}"#).unwrap(),
            Decision::Tool { name: "order_status".into(), arguments: json!({"orderId": "12"}) }
        );
    }

    #[test]
    fn a_fenced_or_wrapped_object_is_found() {
        let fenced = "```json\n{\"action\": \"reply\", \"text\": \"Hi\"}\n```";
        assert!(matches!(parse(fenced).unwrap(), Decision::Reply { .. }));
        let prose = "Sure. {\"action\": \"HANDOFF\", \"reason\": \"angry\"} Thanks";
        assert!(matches!(parse(prose).unwrap(), Decision::Handoff { .. }));
    }

    #[test]
    fn unclear_answers_are_errors() {
        assert!(parse("Hello there, how can I help?").is_err(), "plain text is not a decision");
        assert!(parse(r#"{"action":"reply"}"#).is_err(), "a reply needs text");
        assert!(parse(r#"{"action":"dance"}"#).is_err());
        assert!(parse(r#"{"text":"hi"}"#).is_err(), "no action");
        assert!(parse(r#"{"action":"tool","tool":"x","arguments":[1]}"#).is_err());
        assert!(parse("}{").is_err());
    }
}
