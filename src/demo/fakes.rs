//! The demo's stand-ins for the outside world, on one loopback port: `/graph/…` answers like
//! Meta's Graph API (number lookups, sends, media uploads) and reports each send delivered, then
//! read, through signed status webhooks; `/model/…` answers like an OpenAI-compatible model with
//! decisions made from the prompt's words (deterministic, so the demo needs no key).

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::channels::whatsapp::signature;

pub struct Outside {
    addr: String,
    state: Arc<Shared>,
}

struct Shared {
    app_secret: String,
    /// Where status webhooks go: the demo's server, known once it is bound.
    server: Mutex<Option<String>>,
    sent: Mutex<u64>,
    http: reqwest::Client,
}

impl Outside {
    pub fn start(app_secret: String) -> std::io::Result<Outside> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = format!("http://{}", listener.local_addr()?);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let state = Arc::new(Shared { app_secret, server: Mutex::new(None), sent: Mutex::new(0), http });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(32 * 1024 * 1024))
                .service(web::scope("/graph").default_service(web::to(graph)))
                .service(web::scope("/model").default_service(web::to(model)))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        actix_web::rt::spawn(server);
        Ok(Outside { addr, state })
    }

    pub fn graph_url(&self) -> String {
        format!("{}/graph", self.addr)
    }

    pub fn model_url(&self) -> String {
        format!("{}/model/v1", self.addr)
    }

    pub fn serve_webhooks_to(&self, server: &str) {
        if let Ok(mut s) = self.state.server.lock() {
            *s = Some(server.to_owned());
        }
    }
}

async fn graph(req: HttpRequest, body: web::Bytes, state: web::Data<Shared>) -> HttpResponse {
    let path = req.path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method().as_str().to_owned();
    if method == "POST" && path.ends_with("/messages") {
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let to = body["to"].as_str().unwrap_or_default().to_owned();
        let n = match state.sent.lock() {
            Ok(mut sent) => {
                *sent += 1;
                *sent
            }
            Err(_) => 0,
        };
        let wamid = format!("wamid.DEMO{n:08}.{}", &actors::new_id()[24..]);
        // /graph/{version}/{phone_number_id}/messages
        let phone_number_id = segments.iter().rev().nth(1).map(|s| (*s).to_owned()).unwrap_or_default();
        let st = state.clone();
        let (id, recipient) = (wamid.clone(), to.clone());
        actix_web::rt::spawn(async move {
            actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
            report(&st, &phone_number_id, &id, &recipient, "delivered").await;
            actix_web::rt::time::sleep(Duration::from_millis(3500)).await;
            report(&st, &phone_number_id, &id, &recipient, "read").await;
        });
        return HttpResponse::Ok().json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid}]
        }));
    }
    if method == "POST" && path.ends_with("/media") {
        return HttpResponse::Ok().json(json!({"id": format!("DEMOMEDIA{}", &actors::new_id()[24..])}));
    }
    if method == "GET" {
        let id = segments.last().copied().unwrap_or_default();
        return HttpResponse::Ok().json(json!({
            "display_phone_number": "+1 555-0100",
            "verified_name": "Demo Shop",
            "quality_rating": "GREEN",
            "id": id
        }));
    }
    HttpResponse::NotFound().json(json!({"error": {"message": "unknown path", "code": 100}}))
}

/// A status webhook for a send, signed like Meta's.
async fn report(state: &Shared, phone_number_id: &str, wamid: &str, recipient: &str, status: &str) {
    let Some(server) = state.server.lock().ok().and_then(|s| s.clone()) else { return };
    let payload = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "demo-waba", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100", "phone_number_id": phone_number_id},
            "statuses": [{"id": wamid, "status": status, "timestamp": chrono::Utc::now().timestamp().to_string(), "recipient_id": recipient}]
        }}]}]
    });
    let body = payload.to_string().into_bytes();
    let sig = signature::sign(state.app_secret.as_bytes(), &body);
    let sent = state
        .http
        .post(format!("{server}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await;
    if let Err(e) = sent {
        tracing::warn!(%e, "demo: status webhook not delivered");
    }
}

async fn model(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let path = req.path().to_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if path.ends_with("/models") {
        return HttpResponse::Ok().json(json!({"object": "list", "data": [{"id": "demo-model"}]}));
    }
    if !path.ends_with("/chat/completions") {
        return HttpResponse::NotFound().json(json!({"error": {"message": "no such route"}}));
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    if body["stream"] == true {
        let words = ["Thanks", " for", " your", " patience,", " I'm", " looking", " into", " it", " now."];
        let mut out = String::new();
        for w in words {
            out.push_str(&format!("data: {}\n\n", json!({"choices": [{"delta": {"content": w}, "index": 0}]})));
        }
        out.push_str("data: [DONE]\n\n");
        return HttpResponse::Ok().content_type("text/event-stream").body(out);
    }
    let content = decide(&messages).to_string();
    HttpResponse::Ok().json(json!({
        "id": "chatcmpl-demo",
        "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    }))
}

fn words(text: &str) -> Vec<String> {
    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 3).map(str::to_owned).collect()
}

/// The decision the demo model makes: summaries and categories when asked for them; a hand-off
/// for refunds, damage and complaints; otherwise the knowledge passage that shares the most words
/// with the customer's message, or a polite question back.
pub fn decide(messages: &[Value]) -> Value {
    let system =
        messages.first().filter(|m| m["role"] == "system").and_then(|m| m["content"].as_str()).unwrap_or_default();
    let user =
        messages.iter().rev().find(|m| m["role"] == "user").and_then(|m| m["content"].as_str()).unwrap_or_default();
    let lower = user.to_lowercase();
    if user.starts_with("Summarize") {
        let asks: Vec<&str> =
            user.lines().filter_map(|l| l.strip_prefix("user: ").or_else(|| l.strip_prefix("customer: "))).collect();
        let summary = match asks.last() {
            Some(last) => format!("The customer wrote {} time(s); latest: \"{}\".", asks.len(), last.trim()),
            None => "The customer has not written anything yet.".to_owned(),
        };
        return json!({"summary": summary});
    }
    if user.starts_with("Classify") {
        return json!({"category": category_of(&lower)});
    }
    let mut d = if ["refund", "broken", "damaged", "complain", "wrong item"].iter().any(|w| lower.contains(w)) {
        json!({
            "action": "handoff",
            "reason": "the customer reports a problem with an order",
            "summary": format!("Customer reports a problem and may want a refund: \"{}\"", user.trim())
        })
    } else {
        let asked = words(user);
        // The passages follow "Knowledge" as `[id] text`, a passage over several lines; the
        // answer is the line that shares the most words with the question.
        let knowledge = system.split_once("\n\nKnowledge").map(|(_, k)| k).unwrap_or_default();
        let best = knowledge
            .split("\n[")
            .skip(1)
            .filter_map(|seg| seg.split_once("] "))
            .flat_map(|(id, text)| {
                let text = text.split("\n\n").next().unwrap_or_default();
                text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(move |l| (id, l))
            })
            .map(|(id, line)| {
                // "ship" finds "shipping": a word matches what it begins or what begins it.
                let known = words(line);
                let shared =
                    asked.iter().filter(|w| known.iter().any(|k| k.starts_with(*w) || w.starts_with(k))).count();
                (shared, id, line)
            })
            .filter(|(score, _, _)| *score > 0)
            .max_by_key(|(score, _, _)| *score);
        match best {
            Some((_, id, text)) => json!({"action": "reply", "text": text.trim(), "sources": [id]}),
            None => json!({
                "action": "reply",
                "text": "Thanks for your message! I can help with opening hours, shipping, returns and our products. What would you like to know?"
            }),
        }
    };
    if system.contains("Also add \"category\"") {
        d["category"] = json!(category_of(&lower));
    }
    d
}

fn category_of(lower: &str) -> &'static str {
    if ["refund", "invoice", "price", "pay"].iter().any(|w| lower.contains(w)) {
        "billing"
    } else if ["ship", "deliver", "order", "late"].iter().any(|w| lower.contains(w)) {
        "shipping"
    } else {
        "general"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_model_answers_from_the_passage_that_shares_the_most_words() {
        let messages = vec![
            json!({"role": "system", "content": "Be kind.\n\nKnowledge (cite the ids you use in \"sources\"):\n[c1] # FAQ\nWe open at nine on Saturday.\nReturns are free.\n[c2] Shipping to Germany takes two days.\nShipping to Spain takes a week.\n\nKnown intents:\n- spain: shipping"}),
            json!({"role": "user", "content": "How long does shipping to Spain take?"}),
        ];
        let d = decide(&messages);
        assert_eq!(d["action"], "reply");
        assert_eq!(d["sources"], json!(["c2"]));
        assert_eq!(d["text"], "Shipping to Spain takes a week.");
        let d = decide(&[messages[0].clone(), json!({"role": "user", "content": "Are you open on Saturday?"})]);
        assert_eq!((d["text"].as_str(), d["sources"].clone()), (Some("We open at nine on Saturday."), json!(["c1"])));
    }

    #[test]
    fn the_demo_model_hands_refunds_to_humans_and_classifies() {
        let d = decide(&[json!({"role": "user", "content": "My lamp arrived broken, I want a refund"})]);
        assert_eq!(d["action"], "handoff");
        let c = decide(&[json!({"role": "user", "content": "Classify: where is my order? it's late"})]);
        assert_eq!(c["category"], "shipping");
    }
}
