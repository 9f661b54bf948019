//! The API channel end to end: a business's system posts its customers' messages with the
//! inbox's token, and a local receiver gets our messages and conversation changes as signed
//! webhooks, in order, retried, logged, replayable; a failing receiver is turned off with an
//! alert; private addresses are refused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::agents::eventually;
use crate::helpers::{Org, TestApp, serve_fake, spawn_app, spawn_app_with, unique};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Got {
    event: String,
    delivery: String,
    timestamp: String,
    signature: String,
    raw: Vec<u8>,
    body: Value,
    /// What the receiver answered.
    answered: u16,
}

#[derive(Default)]
struct ReceiverState {
    /// Answer 500 to this many requests first.
    fail_first: usize,
    /// Answer 500 to everything while set.
    down: bool,
    /// Answer 500 to this conversation's deliveries.
    down_for: Option<String>,
    got: Vec<Got>,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    state: Arc<Mutex<ReceiverState>>,
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Mutex<ReceiverState>>) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut s = state.lock().unwrap();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let fail = s.down || s.fail_first > 0 || s.down_for.as_deref().is_some_and(|c| parsed["conversationId"] == c);
    s.fail_first = s.fail_first.saturating_sub(1);
    let answered = if fail { 500 } else { 200 };
    s.got.push(Got {
        event: header("X-CX-Event"),
        delivery: header("X-CX-Delivery"),
        timestamp: header("X-CX-Timestamp"),
        signature: header("X-CX-Signature"),
        raw: body.to_vec(),
        body: parsed,
        answered,
    });
    if fail { HttpResponse::InternalServerError().body("nope, not today") } else { HttpResponse::Ok().body("ok") }
}

impl Receiver {
    fn start() -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        Receiver { url: serve_fake(state.clone(), receive), state }
    }
    fn got(&self) -> Vec<Got> {
        self.state.lock().unwrap().got.clone()
    }
    /// The requests answered 2xx.
    fn accepted(&self) -> Vec<Got> {
        self.got().into_iter().filter(|g| g.answered == 200).collect()
    }
    fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
    }
}

struct ApiInbox {
    id: String,
    token: String,
    secret: String,
}

/// A server whose webhooks may reach the local receiver, with retries a thousand times faster.
async fn app_for_webhooks() -> TestApp {
    spawn_app_with(|c| {
        c.webhook_allow_private = true;
        c.webhook_retry_base_ms = 2;
    })
    .await
}

async fn api_inbox(app: &TestApp, org: &Org, webhook_url: &str) -> ApiInbox {
    let (s, b) = app
        .post("/api/v1/inboxes", &org.token, json!({"channel": "api", "name": "Our CRM", "webhookUrl": webhook_url}))
        .await;
    assert_eq!(s, 201, "{b}");
    let d = &b["data"];
    ApiInbox {
        id: d["id"].as_str().unwrap().to_owned(),
        token: d["apiToken"].as_str().unwrap().to_owned(),
        secret: d["webhookSecret"].as_str().unwrap().to_owned(),
    }
}

async fn post_inbound(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let res =
        app.client.post(app.url("/api/v1/api-channel/messages")).bearer_auth(token).json(&body).send().await.unwrap();
    crate::helpers::status_json(res).await
}

async fn customer_says(app: &TestApp, inbox: &ApiInbox, message_id: &str, source_id: &str, text: &str) -> Value {
    let body = json!({"messageId": message_id, "contact": {"sourceId": source_id, "name": "Ana"}, "type": "text", "text": text});
    let (s, b) = post_inbound(app, &inbox.token, body).await;
    assert_eq!(s, 201, "{b}");
    b["data"].clone()
}

async fn agent_says(app: &TestApp, org: &Org, conv: &str, text: &str) -> Value {
    let (s, b) = app
        .post(&format!("/api/v1/conversations/{conv}/messages"), &org.token, json!({"type": "text", "text": text}))
        .await;
    assert_eq!(s, 201, "{b}");
    b["data"].clone()
}

/// The message a message event carries (`message.created` of a customer message also carries its
/// conversation).
fn msg(body: &Value) -> &Value {
    body["data"].get("message").unwrap_or(&body["data"])
}

fn signature_of(secret: &str, timestamp: &str, raw: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(raw);
    format!("v1={}", hex::encode(m.finalize().into_bytes()))
}

/// Every request carries a valid signature over its raw body and a fresh timestamp.
fn assert_signed(got: &[Got], secret: &str) {
    let now = chrono::Utc::now().timestamp();
    for g in got {
        assert_eq!(g.signature, signature_of(secret, &g.timestamp, &g.raw), "signature of {}", g.delivery);
        let ts: i64 = g.timestamp.parse().unwrap();
        assert!((now - ts).abs() < 300, "timestamp within the replay window");
        assert_eq!(g.event, g.body["event"].as_str().unwrap());
        assert_eq!(g.delivery, g.body["id"].as_str().unwrap());
    }
}

async fn deliveries(app: &TestApp, org: &Org, inbox: &ApiInbox) -> Vec<Value> {
    let (s, b) = app.get(&format!("/api/v1/inboxes/{}/webhook-deliveries?limit=100", inbox.id), &org.token).await;
    assert_eq!(s, 200, "{b}");
    b["data"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn the_receiver_fails_five_times_then_every_event_arrives_once_in_order_signed() {
    let app = app_for_webhooks().await;
    let org = app.register("Api Co").await;
    let receiver = Receiver::start();
    receiver.state.lock().unwrap().fail_first = 5;
    let inbox = api_inbox(&app, &org, &format!("{}/hook", receiver.url)).await;

    let first = customer_says(&app, &inbox, "m-1", "cust-1", "Hello, I need help").await;
    let conv = first["conversationId"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
    let texts = ["one", "two", "three"];
    for t in texts {
        agent_says(&app, &org, &conv, t).await;
    }
    let (s, b) = app.post(&format!("/api/v1/conversations/{conv}/resolve"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");

    // Everything queued is delivered, after the first delivery failed five times.
    let all_delivered = eventually(Duration::from_secs(15), || async {
        let ds = deliveries(&app, &org, &inbox).await;
        !ds.is_empty()
            && ds.iter().all(|d| d["status"] == "delivered")
            && ds.iter().any(|d| d["event"] == "conversation.status_changed" && d["seq"].as_i64() > Some(5))
    })
    .await;
    assert!(all_delivered, "{:#?}", deliveries(&app, &org, &inbox).await);
    let ds = deliveries(&app, &org, &inbox).await;
    let got = receiver.got();
    assert_signed(&got, &inbox.secret);

    // Each delivery was accepted exactly once, in the conversation's order.
    let accepted = receiver.accepted();
    let mut ids: Vec<&str> = accepted.iter().map(|g| g.delivery.as_str()).collect();
    assert_eq!(accepted.len(), ds.len(), "one accepted request per delivery");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ds.len(), "no delivery accepted twice");
    let seqs: Vec<i64> = accepted.iter().map(|g| g.body["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    assert!(
        accepted.iter().all(|g| g.body["conversationId"] == conv.as_str() && g.body["inboxId"] == inbox.id.as_str())
    );
    let sent_texts: Vec<&str> = accepted
        .iter()
        .filter(|g| g.event == "message.created")
        .map(|g| msg(&g.body)["text"].as_str().unwrap())
        .collect();
    assert_eq!(sent_texts, texts, "our messages in order, the customer's own never echoed back");
    assert!(accepted.iter().any(|g| g.event == "conversation.status_changed" && g.body["data"]["status"] == "CLOSED"));

    // The first five requests were the first delivery, refused; the log shows its six tries.
    let first_id = got[0].delivery.clone();
    assert!(got[..5].iter().all(|g| g.delivery == first_id && g.answered == 500));
    assert_eq!(got[5].delivery, first_id);
    assert_eq!(got[5].answered, 200);
    let (s, detail) = app.get(&format!("/api/v1/inboxes/{}/webhook-deliveries/{first_id}", inbox.id), &org.token).await;
    assert_eq!(s, 200, "{detail}");
    let log = detail["data"]["attemptsLog"].as_array().unwrap();
    assert_eq!(log.len(), 6, "{detail}");
    assert_eq!(detail["data"]["attempts"], 6);
    assert!(log[..5].iter().all(|a| a["statusCode"] == 500 && a["responseExcerpt"] == "nope, not today"), "{detail}");
    assert!(log[..5].iter().all(|a| a["error"].as_str().unwrap().contains("500")));
    assert_eq!(log[5]["statusCode"], 200);
    assert_eq!(log[5]["error"], Value::Null);
    assert!(log.windows(2).all(|w| w[0]["at"].as_str() < w[1]["at"].as_str()), "backoff between tries");

    // Replay sends that one delivery again, and only it.
    let before = receiver.got().len();
    let (s, b) = app
        .post(&format!("/api/v1/inboxes/{}/webhook-deliveries/{first_id}/replay", inbox.id), &org.token, json!({}))
        .await;
    assert_eq!(s, 202, "{b}");
    assert!(eventually(Duration::from_secs(5), || async { receiver.got().len() > before }).await, "replayed");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = &receiver.got()[before..];
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].delivery, first_id);
    assert_eq!(again[0].raw, got[5].raw, "the same body");
    assert_signed(again, &inbox.secret);
    let (_, detail) = app.get(&format!("/api/v1/inboxes/{}/webhook-deliveries/{first_id}", inbox.id), &org.token).await;
    assert_eq!(detail["data"]["attemptsLog"].as_array().unwrap().len(), 7);
    assert_eq!(detail["data"]["status"], "delivered");

    // The log is the organization's admins' only.
    let other = app.register("Other Co").await;
    let (s, _) = app.get(&format!("/api/v1/inboxes/{}/webhook-deliveries", inbox.id), &other.token).await;
    assert_eq!(s, 404);
    let (s, _) = app.get(&format!("/api/v1/inboxes/{}/webhook-deliveries/{first_id}", inbox.id), &other.token).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn inbound_with_the_same_message_id_is_stored_once() {
    let app = app_for_webhooks().await;
    let org = app.register("Api Co").await;
    let inbox = api_inbox(&app, &org, "https://crm.example/hook").await;
    let source = format!("cust-{}", unique());
    let body = json!({"messageId": "abc-1", "contact": {"sourceId": source, "name": "Ana", "email": "ana@example.com"}, "type": "text", "text": "Hi", "sentAt": "2026-12-07T10:00:00Z"});
    let (s, first) = post_inbound(&app, &inbox.token, body.clone()).await;
    assert_eq!(s, 201, "{first}");
    let (s, again) = post_inbound(&app, &inbox.token, body).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(first["data"]["id"], again["data"]["id"]);
    assert_eq!(again["data"]["text"], "Hi");
    assert_eq!(again["data"]["direction"], "inbound");
    let conv = first["data"]["conversationId"].as_str().unwrap().to_owned();

    // The customer's next message joins the same conversation; one contact for the source id.
    let second = customer_says(&app, &inbox, "abc-2", &source, "Still there?").await;
    assert_eq!(second["conversationId"], conv.as_str());
    let messages = app.messages(&org, &conv).await;
    let inbound: Vec<&Value> = messages.iter().filter(|m| m["direction"] == "inbound").collect();
    assert_eq!(inbound.len(), 2, "{messages:?}");
    let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!(c["data"]["channel"], "api", "{c}");
    let contact_id = c["data"]["contact"]["id"].as_str().or(c["data"]["contactId"].as_str()).unwrap().to_owned();
    let (_, contact) = app.get(&format!("/api/v1/contacts/{contact_id}"), &org.token).await;
    assert_eq!(contact["data"]["name"], "Ana", "{contact}");

    // Bad input names its field.
    for (body, field) in [
        (json!({"messageId": "x", "contact": {"sourceId": "s"}, "type": "image", "text": "Hi"}), "type"),
        (json!({"messageId": "", "contact": {"sourceId": "s"}, "type": "text", "text": "Hi"}), "messageId"),
        (json!({"messageId": "x", "contact": {"sourceId": " "}, "type": "text", "text": "Hi"}), "contact.sourceId"),
        (json!({"messageId": "x", "contact": {"sourceId": "s"}, "type": "text", "text": "a".repeat(4097)}), "text"),
    ] {
        let (s, b) = post_inbound(&app, &inbox.token, body).await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["error"]["details"]["field"], field, "{b}");
    }
    let (s, b) = post_inbound(
        &app,
        &inbox.token,
        json!({"messageId": "x", "contact": {"sourceId": "s"}, "type": "text", "text": "Hi", "extra": 1}),
    )
    .await;
    assert_eq!(s, 400, "unknown fields are refused: {b}");
}

#[actix_web::test]
async fn a_wrong_inbox_token_is_401() {
    let app = app_for_webhooks().await;
    let org = app.register("Api Co").await;
    let inbox = api_inbox(&app, &org, "https://crm.example/hook").await;
    let body = json!({"messageId": "m", "contact": {"sourceId": "s"}, "type": "text", "text": "Hi"});
    for token in ["cxi_not-a-real-token", "", org.token.as_str(), &inbox.token[..inbox.token.len() - 1]] {
        let (s, b) = post_inbound(&app, token, body.clone()).await;
        assert_eq!(s, 401, "{token}: {b}");
        assert_eq!(b["error"]["code"], "unauthorized", "{b}");
    }
    let res = app.client.post(app.url("/api/v1/api-channel/messages")).json(&body).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let (s, _) = post_inbound(&app, &inbox.token, body.clone()).await;
    assert_eq!(s, 201);

    // A turned-off inbox refuses; a deleted one no longer knows its token.
    let (s, b) = app.patch(&format!("/api/v1/inboxes/{}", inbox.id), &org.token, json!({"enabled": false})).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = post_inbound(&app, &inbox.token, body.clone()).await;
    assert_eq!(s, 403, "{b}");
    let (s, _) = app.delete(&format!("/api/v1/inboxes/{}", inbox.id), &org.token).await;
    assert_eq!(s, 204);
    let (s, _) = post_inbound(&app, &inbox.token, body).await;
    assert_eq!(s, 401);

    // Status reports need the token too.
    let res = app
        .client
        .post(app.url("/api/v1/api-channel/messages/some-id/status"))
        .bearer_auth("cxi_nope")
        .json(&json!({"status": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[actix_web::test]
async fn agent_and_bot_messages_and_status_changes_are_all_delivered() {
    let crate::bot::Bot { app, org, .. } = crate::bot::bot_setup_with(|c| {
        c.webhook_allow_private = true;
        c.webhook_retry_base_ms = 2;
    })
    .await;
    let receiver = Receiver::start();
    let inbox = api_inbox(&app, &org, &format!("{}/hook", receiver.url)).await;
    let first = customer_says(&app, &inbox, "b-1", "cust-bot", "Hello bot").await;
    let conv = first["conversationId"].as_str().unwrap().to_owned();

    // The bot answers on the API channel: its reply reaches the receiver, with no sender.
    let bot_reply = eventually(Duration::from_secs(10), || async {
        receiver.accepted().iter().any(|g| g.event == "message.created" && msg(&g.body)["senderId"].is_null())
    })
    .await;
    assert!(bot_reply, "{:#?}", receiver.got());

    // An agent takes over, writes and resolves: all of it reaches the receiver.
    let (s, b) = app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");
    let mine = agent_says(&app, &org, &conv, "A human here").await;
    let (s, b) = app.post(&format!("/api/v1/conversations/{conv}/resolve"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");
    let all = eventually(Duration::from_secs(10), || async {
        let got = receiver.accepted();
        got.iter().any(|g| g.event == "message.created" && msg(&g.body)["text"] == "A human here")
            && got.iter().any(|g| g.event == "conversation.assigned")
            && got.iter().any(|g| g.event == "conversation.status_changed" && g.body["data"]["status"] == "CLOSED")
            && got.iter().any(|g| {
                g.event == "message.updated" && g.body["data"]["id"] == mine["id"] && g.body["data"]["status"] == "sent"
            })
    })
    .await;
    assert!(all, "{:#?}", receiver.accepted().iter().map(|g| (&g.event, &g.body)).collect::<Vec<_>>());
    let got = receiver.accepted();
    let agent_msg = got.iter().find(|g| msg(&g.body)["text"] == "A human here").unwrap();
    assert_eq!(msg(&agent_msg.body)["senderId"], org.user_id.as_str());
    assert!(!got.iter().any(|g| msg(&g.body)["direction"] == "inbound"), "the customer's own messages are not echoed");
    assert_signed(&got, &inbox.secret);

    // The system reports our message read: it is read, and the receiver hears so.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/api-channel/messages/{}/status", mine["id"].as_str().unwrap())))
        .bearer_auth(&inbox.token)
        .json(&json!({"status": "read"}))
        .send()
        .await
        .unwrap();
    let (s, b) = crate::helpers::status_json(res).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["status"], "read");
    let read = eventually(Duration::from_secs(5), || async {
        receiver.accepted().iter().any(|g| {
            g.event == "message.updated" && g.body["data"]["id"] == mine["id"] && g.body["data"]["status"] == "read"
        })
    })
    .await;
    assert!(read);
    // Another inbox's message is not this token's.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/api-channel/messages/{}/status", first["id"].as_str().unwrap())))
        .bearer_auth(&inbox.token)
        .json(&json!({"status": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404, "the customer's own message has no status to report");
}

#[actix_web::test]
async fn a_private_webhook_url_is_refused_at_save() {
    let app = spawn_app().await;
    let org = app.register("Api Co").await;
    for url in [
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.0.0.5/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[fd12::1]/hook",
        "http://crm.example/hook",
    ] {
        let (s, b) =
            app.post("/api/v1/inboxes", &org.token, json!({"channel": "api", "name": "CRM", "webhookUrl": url})).await;
        assert_eq!(s, 400, "{url}: {b}");
        assert_eq!(b["error"]["details"]["field"], "webhookUrl", "{b}");
    }
    let inbox = api_inbox(&app, &org, "https://crm.example/hook").await;
    let (s, b) = app
        .patch(&format!("/api/v1/inboxes/{}", inbox.id), &org.token, json!({"webhookUrl": "https://127.0.0.2/x"}))
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["details"]["field"], "webhookUrl");
}

#[actix_web::test]
async fn a_long_failure_streak_disables_the_webhook_and_raises_an_alert() {
    let app = spawn_app_with(|c| {
        c.webhook_allow_private = true;
        c.webhook_retry_base_ms = 1;
    })
    .await;
    let org = app.register("Api Co").await;
    let receiver = Receiver::start();
    receiver.set_down(true);
    let inbox = api_inbox(&app, &org, &format!("{}/hook", receiver.url)).await;
    let first = customer_says(&app, &inbox, "f-1", "cust-f", "Hello").await;
    let conv = first["conversationId"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
    agent_says(&app, &org, &conv, "Are you there?").await;

    let alerted = eventually(Duration::from_secs(20), || async {
        let (_, b) = app.get("/api/v1/whatsapp-accounts/alerts", &org.token).await;
        b["data"].as_array().is_some_and(|a| a.iter().any(|x| x["type"] == "WEBHOOK_DISABLED"))
    })
    .await;
    assert!(alerted, "no alert after {} tries", receiver.got().len());
    let (_, b) = app.get("/api/v1/whatsapp-accounts/alerts", &org.token).await;
    let alert = b["data"].as_array().unwrap().iter().find(|x| x["type"] == "WEBHOOK_DISABLED").unwrap().clone();
    assert_eq!(alert["severity"], "CRITICAL");
    assert_eq!(alert["details"]["inboxId"], inbox.id.as_str());
    assert!(alert["description"].as_str().unwrap().contains("webhook/enable"), "{alert}");
    assert_eq!(receiver.got().len(), 20, "turned off after 20 failures in a row");

    // Turned off: nothing more is tried, and nothing is lost.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.got().len(), 20);
    let ds = deliveries(&app, &org, &inbox).await;
    assert!(ds.iter().all(|d| d["status"] == "pending"), "{ds:?}");

    // Fixed and enabled again by an admin: the waiting deliveries go out, in order.
    receiver.set_down(false);
    let (s, b) = app.post(&format!("/api/v1/inboxes/{}/webhook/enable", inbox.id), &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["enabled"], true);
    let delivered = eventually(Duration::from_secs(5), || async {
        deliveries(&app, &org, &inbox).await.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert!(delivered, "{:?}", deliveries(&app, &org, &inbox).await);
    let seqs: Vec<i64> = receiver.accepted().iter().map(|g| g.body["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[actix_web::test]
async fn deliveries_survive_a_restart() {
    let mut app = app_for_webhooks().await;
    let org = app.register("Api Co").await;
    let receiver = Receiver::start();
    receiver.set_down(true);
    let inbox = api_inbox(&app, &org, &format!("{}/hook", receiver.url)).await;
    let first = customer_says(&app, &inbox, "r-1", "cust-r", "Hello").await;
    let conv = first["conversationId"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
    agent_says(&app, &org, &conv, "before the restart").await;
    assert!(eventually(Duration::from_secs(5), || async { !receiver.got().is_empty() }).await);

    app.restart().await;
    receiver.set_down(false);
    agent_says(&app, &org, &conv, "after the restart").await;
    let done = eventually(Duration::from_secs(10), || async {
        let ds = deliveries(&app, &org, &inbox).await;
        ds.iter().all(|d| d["status"] == "delivered")
            && receiver.accepted().iter().any(|g| msg(&g.body)["text"] == "after the restart")
    })
    .await;
    assert!(done, "{:?}", deliveries(&app, &org, &inbox).await);
    let accepted = receiver.accepted();
    let texts: Vec<&str> = accepted
        .iter()
        .filter(|g| g.event == "message.created")
        .map(|g| msg(&g.body)["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["before the restart", "after the restart"]);
    let mut ids: Vec<&str> = accepted.iter().map(|g| g.delivery.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), accepted.len(), "each delivered once");
    assert_eq!(accepted.len(), deliveries(&app, &org, &inbox).await.len());
}

#[actix_web::test]
async fn a_failing_conversation_holds_up_only_its_own_later_deliveries() {
    let app = app_for_webhooks().await;
    let org = app.register("Api Co").await;
    let receiver = Receiver::start();
    let inbox = api_inbox(&app, &org, &format!("{}/hook", receiver.url)).await;
    let a =
        customer_says(&app, &inbox, "a-1", "cust-a", "Hi from A").await["conversationId"].as_str().unwrap().to_owned();
    let b =
        customer_says(&app, &inbox, "b-1", "cust-b", "Hi from B").await["conversationId"].as_str().unwrap().to_owned();
    receiver.state.lock().unwrap().down_for = Some(a.clone());
    for conv in [&a, &b] {
        app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
        agent_says(&app, &org, conv, "first").await;
        agent_says(&app, &org, conv, "second").await;
    }

    let of = |ds: &[Value], conv: &str| ds.iter().filter(|d| d["conversationId"] == conv).cloned().collect::<Vec<_>>();
    let b_done = eventually(Duration::from_secs(10), || async {
        let ds = deliveries(&app, &org, &inbox).await;
        let b_ds = of(&ds, &b);
        !b_ds.is_empty() && b_ds.iter().all(|d| d["status"] == "delivered") && b_ds.len() >= 4
    })
    .await;
    assert!(b_done, "{:?}", deliveries(&app, &org, &inbox).await);
    // Meanwhile A's oldest delivery is retried, and nothing after it in A is tried out of order.
    assert!(
        eventually(Duration::from_secs(5), || async {
            let ds = deliveries(&app, &org, &inbox).await;
            of(&ds, &a).iter().any(|d| d["attempts"].as_i64() >= Some(3))
        })
        .await
    );
    let ds = deliveries(&app, &org, &inbox).await;
    let mut a_ds = of(&ds, &a);
    a_ds.sort_by_key(|d| d["seq"].as_i64());
    assert!(a_ds.iter().all(|d| d["status"] == "pending"), "{a_ds:?}");
    assert!(a_ds[0]["attempts"].as_i64() >= Some(3));
    assert!(a_ds[1..].iter().all(|d| d["attempts"] == 0), "only A's head is tried: {a_ds:?}");
    assert!(receiver.accepted().iter().all(|g| g.body["conversationId"] == b.as_str()));

    // A's receiver recovers: A's deliveries follow, in order.
    receiver.state.lock().unwrap().down_for = None;
    let a_done = eventually(Duration::from_secs(10), || async {
        of(&deliveries(&app, &org, &inbox).await, &a).iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert!(a_done);
    let a_seqs: Vec<i64> = receiver
        .accepted()
        .iter()
        .filter(|g| g.body["conversationId"] == a.as_str())
        .map(|g| g.body["seq"].as_i64().unwrap())
        .collect();
    assert!(a_seqs.len() >= 4 && a_seqs.windows(2).all(|w| w[0] < w[1]), "{a_seqs:?}");
}

/// Posts a customer's survey answer with the inbox token.
async fn rates(app: &TestApp, token: &str, conv: &str, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(&format!("/api/v1/api-channel/conversations/{conv}/csat")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    crate::helpers::status_json(res).await
}

#[actix_web::test]
async fn the_csat_survey_reaches_the_receiver_and_the_system_posts_the_rating() {
    let app = app_for_webhooks().await;
    let org = app.register("Acme").await;
    let receiver = Receiver::start();
    let inbox = api_inbox(&app, &org, &format!("{}/hook", receiver.url)).await;
    let body = json!({"csatSurveyEnabled": true, "csatConfig": {"message": "Rate our help"}});
    let (s, b) = app.patch(&format!("/api/v1/inboxes/{}", inbox.id), &org.token, body).await;
    assert_eq!(s, 200, "{b}");
    let first = customer_says(&app, &inbox, "c-1", "cust-csat", "Where is my parcel?").await;
    let conv = first["conversationId"].as_str().unwrap().to_owned();

    // Before any survey, a rating is refused.
    let (s, b) = rates(&app, &inbox.token, &conv, json!({"rating": 5})).await;
    assert_eq!(s, 409, "{b}");

    let (s, b) = app.post(&format!("/api/v1/conversations/{conv}/resolve"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");
    // The survey goes out as a `csat` message with its question and the five choices.
    let survey = eventually(Duration::from_secs(10), || async {
        receiver.accepted().iter().any(|g| g.event == "message.created" && msg(&g.body)["type"] == "csat")
    })
    .await;
    assert!(survey, "{:#?}", receiver.got().iter().map(|g| (&g.event, &g.body)).collect::<Vec<_>>());
    let got = receiver.accepted();
    let survey = got.iter().find(|g| msg(&g.body)["type"] == "csat").unwrap();
    assert_eq!(msg(&survey.body)["text"], "Rate our help");
    assert_eq!(msg(&survey.body)["content"]["options"].as_array().unwrap().len(), 5);
    assert_signed(&got, &inbox.secret);

    // The system posts the customer's answer: it is the conversation's rating.
    let (s, b) = rates(&app, &inbox.token, &conv, json!({"rating": 2, "comment": "Slow"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["data"]["rating"].as_i64(), b["data"]["channel"].as_str()), (Some(2), Some("api")));
    let (_, shown) = app.get(&format!("/api/v1/conversations/{conv}/csat"), &org.token).await;
    assert_eq!(shown["data"]["comment"], "Slow");
    // Out of range, another inbox's token, a conversation of another inbox.
    let (s, b) = rates(&app, &inbox.token, &conv, json!({"rating": 6})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("rating")), "{b}");
    let other = api_inbox(&app, &org, &format!("{}/hook", receiver.url)).await;
    assert_eq!(rates(&app, &other.token, &conv, json!({"rating": 4})).await.0, 404);
    assert_eq!(rates(&app, "cxi_wrong", &conv, json!({"rating": 4})).await.0, 401);
}
