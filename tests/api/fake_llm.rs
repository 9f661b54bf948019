//! A fake OpenAI-compatible provider: chat completions (plain and streamed), embeddings and the
//! model list, answering deterministically from what it is sent, so bot tests can check what
//! the server asked and what it did with the answer.
//!
//! Chat rules, first match wins:
//! - `Authorization: Bearer bad-key` -> 401.
//! - An "Extract the parameters" prompt -> `{"params": {"orderId": "42"}}`.
//! - A "Summarize" prompt -> a fixed summary.
//! - A "Classify" prompt -> `{"category": "billing"}`.
//! - The customer's last message contains `HANDOFF` -> a hand-off decision with a summary.
//! - It is a tool result -> a reply quoting it.
//! - It contains `TOOL:<name>` -> a call of that tool.
//! - The system prompt carries knowledge (`[<id>] text`) -> a reply quoting the first passage,
//!   citing its id.
//! - Otherwise -> `Echo: <last message>`.
//!
//! With categorization asked for, every decision also carries `"category": "billing"`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

#[derive(Default)]
struct LlmState {
    requests: Vec<Value>,
    delay: Duration,
}

#[derive(Clone)]
pub struct FakeLlm {
    /// The OpenAI-compatible base URL (`…/v1`).
    pub url: String,
    state: Arc<Mutex<LlmState>>,
}

impl FakeLlm {
    pub fn start() -> FakeLlm {
        let state = Arc::new(Mutex::new(LlmState::default()));
        let url = format!("{}/v1", crate::helpers::serve_fake(state.clone(), answer));
        FakeLlm { url, state }
    }

    /// Chat and embedding answers come only after `delay`.
    pub fn slow_down(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// Chat completion requests so far.
    pub fn chats(&self) -> Vec<Value> {
        let s = self.state.lock().unwrap();
        s.requests
            .iter()
            .filter(|r| r["path"].as_str().unwrap_or_default().ends_with("/chat/completions"))
            .cloned()
            .collect()
    }
}

fn last_user(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

fn decide(messages: &[Value]) -> Value {
    let system =
        messages.first().filter(|m| m["role"] == "system").and_then(|m| m["content"].as_str()).unwrap_or_default();
    let user = last_user(messages);
    if user.starts_with("Extract the parameters") {
        return json!({"params": {"orderId": "42"}});
    }
    if user.starts_with("Summarize") {
        return json!({"summary": "The customer waits for a refund of order 42."});
    }
    if user.starts_with("Classify") {
        return json!({"category": "billing"});
    }
    let mut d = if let Some(result) = user.strip_prefix("Result of tool") {
        json!({"action": "reply", "text": format!("Tool said:{}", result.lines().next().unwrap_or_default())})
    } else if user.contains("HANDOFF") {
        json!({"action": "handoff", "reason": "the customer wants a refund", "summary": "Customer asks for a refund of order 42"})
    } else if let Some(name) =
        user.split("TOOL:").nth(1).map(|s| s.split_whitespace().next().unwrap_or_default().to_owned())
    {
        json!({"action": "tool", "tool": name, "arguments": {"orderId": "42"}})
    } else if let Some(line) = system.lines().find(|l| l.starts_with('[') && l.contains("] ")) {
        let (id, text) = line[1..].split_once("] ").unwrap();
        let first = text.split(". ").next().unwrap_or(text);
        json!({"action": "reply", "text": format!("From our docs: {first}"), "sources": [id]})
    } else {
        json!({"action": "reply", "text": format!("Echo: {user}")})
    };
    if system.contains("Also add \"category\"") {
        d["category"] = json!("billing");
    }
    d
}

/// A bag-of-words vector: the same words give the same direction.
fn embed(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; 32];
    for w in text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2) {
        let h = w.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        v[(h % 32) as usize] += 1.0;
    }
    v
}

async fn answer(req: HttpRequest, body: web::Bytes, state: web::Data<Mutex<LlmState>>) -> HttpResponse {
    let path = req.path().to_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let delay = {
        let mut s = state.lock().unwrap();
        s.requests.push(json!({"path": path, "body": body, "authorization": auth}));
        s.delay
    };
    if auth == "Bearer bad-key" {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}));
    }
    if path.ends_with("/models") {
        return HttpResponse::Ok().json(json!({"object": "list", "data": [{"id": "fake-chat"}, {"id": "fake-embed"}]}));
    }
    if path.ends_with("/embeddings") {
        if !delay.is_zero() {
            actix_web::rt::time::sleep(delay).await;
        }
        let inputs: Vec<String> = match &body["input"] {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => vec![],
        };
        let data: Vec<Value> =
            inputs.iter().enumerate().map(|(i, t)| json!({"index": i, "embedding": embed(t)})).collect();
        return HttpResponse::Ok()
            .json(json!({"data": data, "model": body["model"], "usage": {"prompt_tokens": 5, "total_tokens": 5}}));
    }
    if path.ends_with("/chat/completions") {
        if !delay.is_zero() {
            actix_web::rt::time::sleep(delay).await;
        }
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        if body["stream"] == true {
            let words = ["Thanks", " for", " your", " patience,", " we", " are", " on", " it."];
            let mut out = String::new();
            for w in words {
                out.push_str(&format!("data: {}\n\n", json!({"choices": [{"delta": {"content": w}, "index": 0}]})));
            }
            if body["stream_options"]["include_usage"] == true {
                let usage = json!({"choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": 8}});
                out.push_str(&format!("data: {usage}\n\n"));
            }
            out.push_str("data: [DONE]\n\n");
            return HttpResponse::Ok().content_type("text/event-stream").body(out);
        }
        let content = decide(&messages).to_string();
        return HttpResponse::Ok().json(json!({
            "id": "chatcmpl-fake",
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }));
    }
    HttpResponse::NotFound().json(json!({"error": {"message": "no such route"}}))
}
