//! The live-chat widget's server side (`docs/widget-protocol.md`), over HTTP and WebSocket as
//! the widget speaks it: sessions and identity, messages, the visitor socket, limits.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::helpers::{Org, TestApp, spawn_app, spawn_app_with, status_json};

const WAIT: Duration = Duration::from_secs(5);

/// A live-chat inbox of `org` with `extra` settings; answers the inbox (with its secrets).
async fn widget_inbox(app: &TestApp, org: &Org, extra: Value) -> Value {
    let mut body = json!({"channel": "livechat", "name": "Website"});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let (s, b) = app.post("/api/v1/inboxes", &org.token, body).await;
    assert_eq!(s, 201, "{b}");
    b["data"].clone()
}

fn website_token(inbox: &Value) -> String {
    inbox["websiteToken"].as_str().unwrap().to_owned()
}

async fn session(app: &TestApp, body: Value) -> (u16, Value) {
    app.post_anon("/widget/sessions", body).await
}

/// A new visitor of the inbox: its visitor token.
async fn visitor(app: &TestApp, inbox: &Value) -> String {
    let (s, b) = session(app, json!({"websiteToken": website_token(inbox)})).await;
    assert_eq!(s, 200, "{b}");
    b["data"]["visitorToken"].as_str().unwrap().to_owned()
}

async fn vpost(app: &TestApp, vt: &str, path: &str, body: Value) -> (u16, Value, reqwest::header::HeaderMap) {
    let res = app.client.post(app.url(path)).header("X-Visitor-Token", vt).json(&body).send().await.unwrap();
    let headers = res.headers().clone();
    let (s, b) = status_json(res).await;
    (s, b, headers)
}

async fn upload(app: &TestApp, vt: &str, form: reqwest::multipart::Form) -> (u16, Value) {
    let req = app.client.post(app.url("/widget/messages/media")).header("X-Visitor-Token", vt).multipart(form);
    status_json(req.send().await.unwrap()).await
}

async fn vget(app: &TestApp, vt: &str, path: &str) -> (u16, Value) {
    status_json(app.client.get(app.url(path)).header("X-Visitor-Token", vt).send().await.unwrap()).await
}

async fn says(app: &TestApp, vt: &str, client_id: &str, text: &str) -> Value {
    let (s, b, _) = vpost(app, vt, "/widget/messages", json!({"clientId": client_id, "text": text})).await;
    assert_eq!(s, 201, "{b}");
    b["data"].clone()
}

/// The visitor's conversation id as its session says.
async fn conversation_of(app: &TestApp, inbox: &Value, vt: &str) -> String {
    let (s, b) = session(app, json!({"websiteToken": website_token(inbox), "visitorToken": vt})).await;
    assert_eq!(s, 200, "{b}");
    b["data"]["conversationId"].as_str().unwrap().to_owned()
}

struct VisitorSocket {
    stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl VisitorSocket {
    async fn open(app: &TestApp, vt: &str, since: Option<i64>) -> VisitorSocket {
        let mut url = format!("ws://127.0.0.1:{}/widget/ws?visitorToken={vt}", app.port);
        if let Some(s) = since {
            url.push_str(&format!("&since={s}"));
        }
        let (stream, _) = tokio_tungstenite::connect_async(url).await.expect("visitor socket connects");
        VisitorSocket { stream }
    }

    async fn next(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Ok(Some(Ok(WsMessage::Text(t)))) => return serde_json::from_str(&t).ok(),
                Ok(Some(Ok(WsMessage::Close(_)))) | Ok(None) | Err(_) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Frames until one satisfies `pred` (included); panics after `wait`.
    async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(f) = self.next(left).await else { panic!("no matching frame; got {out:?}") };
            let done = pred(&f);
            out.push(f);
            if done {
                return out;
            }
        }
    }

    async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(f) = self.next(wait).await {
            out.push(f);
        }
        out
    }

    async fn send(&mut self, v: Value) {
        self.stream.send(WsMessage::Text(v.to_string().into())).await.unwrap();
    }
}

/// The agent takes the conversation and answers; the answer's id.
async fn agent_answers(app: &TestApp, org: &Org, conv: &str, text: &str) -> String {
    let (s, b) = app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
    assert!(s == 200 || s == 409, "{b}");
    let (s, b) = app
        .post(&format!("/api/v1/conversations/{conv}/messages"), &org.token, json!({"type": "text", "text": text}))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["data"]["status"], "sent", "live chat sends at once: {b}");
    b["data"]["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_visitor_message_reaches_the_agent_socket_and_the_reply_reaches_the_visitor_socket() {
    let app = spawn_app().await;
    let org = app.register("Shop").await;
    let inbox = widget_inbox(&app, &org, json!({})).await;
    let res = app.client.get(app.url(&format!("/widget/config?websiteToken={}", website_token(&inbox)))).send().await;
    let (s, config) = status_json(res.unwrap()).await;
    assert_eq!(s, 200, "{config}");
    assert_eq!(config["data"]["inboxId"], inbox["id"]);
    assert_eq!(
        (config["data"]["openNow"].as_bool(), config["data"]["identityRequired"].as_bool()),
        (Some(true), Some(false))
    );
    let vt = visitor(&app, &inbox).await;
    let mut agent = app.socket(&org.token, None).await;
    let mut vs = VisitorSocket::open(&app, &vt, None).await;
    let ready = vs.next(WAIT).await.unwrap();
    assert_eq!((ready["type"].as_str(), &ready["conversationId"]), (Some("ready"), &Value::Null), "{ready}");

    let mine = says(&app, &vt, "c-1", "Hello, is the blue one in stock?").await;
    assert_eq!((mine["direction"].as_str(), mine["clientId"].as_str()), (Some("inbound"), Some("c-1")));
    let seen = agent.until(WAIT, |e| e["event"] == "message.created").await.expect("the agent socket hears it");
    let created = seen.last().unwrap();
    assert_eq!(created["data"]["text"], "Hello, is the blue one in stock?");
    assert_eq!(created["data"]["conversation"]["channel"], "livechat");
    let conv = created["conversationId"].as_str().unwrap().to_owned();
    // The visitor's socket announces the new conversation, then its own message.
    let frames = vs.until(|f| f["type"] == "message").await;
    assert!(frames.iter().any(|f| f["type"] == "conversation" && f["conversationId"] == conv.as_str()), "{frames:?}");
    assert_eq!(frames.last().unwrap()["message"]["id"], mine["id"]);

    let reply = agent_answers(&app, &org, &conv, "Yes, we have it!").await;
    let frames = vs.until(|f| f["type"] == "message" && f["message"]["direction"] == "outbound").await;
    let got = frames.last().unwrap();
    assert_eq!(got["message"]["id"], reply.as_str());
    assert_eq!(got["message"]["text"], "Yes, we have it!");
    assert_eq!(got["message"]["status"], "sent");
    assert!(got["message"]["sender"]["name"].as_str().is_some_and(|n| !n.is_empty()), "{got}");
    assert!(got["seq"].as_i64().is_some());
    // The visitor is typing: the agents see it, ephemeral (no cursor).
    vs.send(json!({"type": "typing", "typing": true})).await;
    let typing = agent.until(WAIT, |e| e["event"] == "typing.visitor").await.expect("agent sees typing");
    let t = typing.last().unwrap();
    assert_eq!((t["data"]["typing"].as_bool(), t["cursor"].is_null()), (Some(true), true), "{t}");
    // The agent is typing: the visitor sees it with the agent's name.
    let mut agent_out = app.socket(&org.token, None).await;
    agent_out.send_text(json!({"type": "typing", "conversationId": conv, "typing": true}).to_string()).await;
    let frames = vs.until(|f| f["type"] == "typing").await;
    assert_eq!(frames.last().unwrap()["typing"], true);
    // Ping.
    vs.send(json!({"type": "ping"})).await;
    vs.until(|f| f["type"] == "pong").await;
    // History holds both, oldest first.
    let (s, h) = vget(&app, &vt, "/widget/messages").await;
    assert_eq!(s, 200, "{h}");
    let ids: Vec<&str> = h["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![mine["id"].as_str().unwrap(), reply.as_str()]);
    assert_eq!(h["hasMore"], false);
}

#[actix_web::test]
async fn a_visitor_resumes_with_since_and_gets_each_missed_event_once() {
    let app = spawn_app().await;
    let org = app.register("Shop").await;
    let inbox = widget_inbox(&app, &org, json!({})).await;
    let vt = visitor(&app, &inbox).await;
    says(&app, &vt, "c-1", "first").await;
    let conv = conversation_of(&app, &inbox, &vt).await;
    let mut vs = VisitorSocket::open(&app, &vt, None).await;
    let ready = vs.next(WAIT).await.unwrap();
    let since = ready["seq"].as_i64().unwrap();
    assert!(since >= 2, "{ready}");
    drop(vs);

    // Missed while away: two answers and another own message.
    let a1 = agent_answers(&app, &org, &conv, "answer one").await;
    says(&app, &vt, "c-2", "second").await;
    let a2 = agent_answers(&app, &org, &conv, "answer two").await;

    let mut vs = VisitorSocket::open(&app, &vt, Some(since)).await;
    let frames = vs.drain(Duration::from_millis(800)).await;
    assert_eq!(frames[0]["type"], "ready");
    let seqs: Vec<i64> = frames.iter().filter_map(|f| f["seq"].as_i64()).skip(1).collect();
    let mut sorted = seqs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seqs, sorted, "in order and each once: {frames:?}");
    assert!(seqs.iter().all(|s| *s > since));
    let messages: Vec<&str> =
        frames.iter().filter(|f| f["type"] == "message").map(|f| f["message"]["text"].as_str().unwrap()).collect();
    assert_eq!(messages, vec!["answer one", "second", "answer two"], "{frames:?}");
    assert!(
        frames.iter().any(|f| f["message"]["id"] == a1.as_str())
            && frames.iter().any(|f| f["message"]["id"] == a2.as_str())
    );
    // Live after the backlog, still once.
    let a3 = agent_answers(&app, &org, &conv, "answer three").await;
    let live = vs.until(|f| f["type"] == "message" && f["message"]["id"] == a3.as_str()).await;
    assert_eq!(live.iter().filter(|f| f["type"] == "message").count(), 1, "{live:?}");
}

#[actix_web::test]
async fn the_same_visitor_token_continues_the_conversation() {
    let app = spawn_app().await;
    let org = app.register("Shop").await;
    let inbox = widget_inbox(&app, &org, json!({})).await;
    let (s, first) =
        session(&app, json!({"websiteToken": website_token(&inbox), "name": "Ann", "email": "ann@example.com"})).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["data"]["conversationId"], Value::Null);
    let vt = first["data"]["visitorToken"].as_str().unwrap().to_owned();
    let m = says(&app, &vt, "c-1", "hi").await;
    // The same clientId again: the same message, 200, stored once.
    let (s, again, _) = vpost(&app, &vt, "/widget/messages", json!({"clientId": "c-1", "text": "hi"})).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["data"]["id"], m["id"]);
    // A reload: the stored token continues the same contact and conversation.
    let (s, later) = session(&app, json!({"websiteToken": website_token(&inbox), "visitorToken": vt})).await;
    assert_eq!(s, 200, "{later}");
    assert_eq!(later["data"]["contactId"], first["data"]["contactId"]);
    let conv = later["data"]["conversationId"].as_str().unwrap().to_owned();
    let vt2 = later["data"]["visitorToken"].as_str().unwrap();
    says(&app, vt2, "c-2", "still me").await;
    let msgs = app.messages(&org, &conv).await;
    let texts: Vec<&str> =
        msgs.iter().filter(|m| m["direction"] == "inbound").map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, vec!["hi", "still me"]);
    let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!(c["data"]["contact"]["name"], "Ann", "{c}");
    // A forged token is refused; a token for another inbox does not continue there.
    let (s, b) = vget(&app, &format!("{vt}x"), "/widget/messages").await;
    assert_eq!((s, b["error"]["code"].as_str()), (401, Some("unauthorized")));
    let other = widget_inbox(&app, &org, json!({"name": "Other"})).await;
    let (_, there) = session(&app, json!({"websiteToken": website_token(&other), "visitorToken": vt})).await;
    assert_ne!(there["data"]["contactId"], first["data"]["contactId"]);
    let (s, _) = session(&app, json!({"websiteToken": "nope"})).await;
    assert_eq!(s, 404);
}

fn hmac_hex(secret: &str, identifier: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(identifier.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

#[actix_web::test]
async fn a_wrong_identifier_hash_is_refused_when_enforced() {
    let app = spawn_app().await;
    let org = app.register("Shop").await;
    let inbox = widget_inbox(&app, &org, json!({"hmacMandatory": true})).await;
    let secret = inbox["hmacSecret"].as_str().expect("the identity secret is shown to admins").to_owned();
    let wt = website_token(&inbox);
    let before = app.count("contacts").await;
    for body in [
        json!({"websiteToken": wt}),
        json!({"websiteToken": wt, "identifier": "user-42"}),
        json!({"websiteToken": wt, "identifier": "user-42", "identifierHash": hmac_hex(&secret, "user-43")}),
        json!({"websiteToken": wt, "identifier": "user-42", "identifierHash": hmac_hex("wrong", "user-42")}),
    ] {
        let (s, b) = session(&app, body.clone()).await;
        assert_eq!((s, b["error"]["code"].as_str()), (401, Some("identity_verification_failed")), "{body} → {b}");
    }
    assert_eq!(app.count("contacts").await, before, "no session, no contact");
    let (_, config) =
        status_json(app.client.get(app.url(&format!("/widget/config?websiteToken={wt}"))).send().await.unwrap()).await;
    assert_eq!(config["data"]["identityRequired"], true);
}

#[actix_web::test]
async fn the_right_hash_resumes_that_identity_from_a_new_visitor_token() {
    let app = spawn_app().await;
    let org = app.register("Shop").await;
    let inbox = widget_inbox(&app, &org, json!({"hmacMandatory": true})).await;
    let secret = inbox["hmacSecret"].as_str().unwrap().to_owned();
    let wt = website_token(&inbox);
    let hash = hmac_hex(&secret, "user-42");
    // Browser one.
    let (s, one) = session(&app, json!({"websiteToken": wt, "identifier": "user-42", "identifierHash": hash})).await;
    assert_eq!(s, 200, "{one}");
    let vt1 = one["data"]["visitorToken"].as_str().unwrap().to_owned();
    let m = says(&app, &vt1, "c-1", "my order is late").await;
    // Browser two: no visitor token, the same identity (upper-case hex is the same hash).
    let (s, two) =
        session(&app, json!({"websiteToken": wt, "identifier": "user-42", "identifierHash": hash.to_uppercase()}))
            .await;
    assert_eq!(s, 200, "{two}");
    assert_eq!(two["data"]["contactId"], one["data"]["contactId"]);
    assert!(two["data"]["conversationId"].is_string());
    let vt2 = two["data"]["visitorToken"].as_str().unwrap();
    assert_ne!(vt2, vt1);
    let (s, h) = vget(&app, vt2, "/widget/messages").await;
    assert_eq!(s, 200);
    assert_eq!(h["data"][0]["id"], m["id"], "the second browser sees the first one's conversation");
    // Another identity is another contact.
    let (_, other) = session(
        &app,
        json!({"websiteToken": wt, "identifier": "user-7", "identifierHash": hmac_hex(&secret, "user-7")}),
    )
    .await;
    assert_ne!(other["data"]["contactId"], one["data"]["contactId"]);
}

#[actix_web::test]
async fn an_unlisted_origin_is_refused_and_the_widget_page_sends_frame_ancestors() {
    let app = spawn_app().await;
    let org = app.register("Shop").await;
    let inbox = widget_inbox(&app, &org, json!({"allowedOrigins": ["https://shop.example"]})).await;
    let wt = website_token(&inbox);
    let res = app.client.get(app.url(&format!("/widget?websiteToken={wt}"))).send().await.unwrap();
    let csp = res.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(csp.as_deref(), Some("frame-ancestors https://shop.example"));
    let (s, _) = status_json(app.client.get(app.url("/widget?websiteToken=unknown")).send().await.unwrap()).await;
    assert_eq!(s, 404);
    let open = widget_inbox(&app, &org, json!({"name": "Anywhere"})).await;
    let res = app.client.get(app.url(&format!("/widget?websiteToken={}", website_token(&open)))).send().await.unwrap();
    assert_eq!(res.headers().get("content-security-policy").unwrap(), "frame-ancestors *");

    let post = |origin: &'static str| {
        app.client.post(app.url("/widget/sessions")).header("Origin", origin).json(&json!({"websiteToken": wt})).send()
    };
    let (s, b) = status_json(post("https://evil.example").await.unwrap()).await;
    assert_eq!((s, b["error"]["code"].as_str()), (403, Some("forbidden")), "{b}");
    let (s, b) = status_json(post("https://shop.example").await.unwrap()).await;
    assert_eq!(s, 200, "{b}");
    let vt = b["data"]["visitorToken"].as_str().unwrap().to_owned();
    // Same origin (the widget's own iframe) is always allowed.
    let own = format!("http://127.0.0.1:{}", app.port);
    let res = app
        .client
        .get(app.url("/widget/messages"))
        .header("X-Visitor-Token", &vt)
        .header("Origin", own)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = app
        .client
        .post(app.url("/widget/messages"))
        .header("X-Visitor-Token", &vt)
        .header("Origin", "https://evil.example")
        .json(&json!({"clientId": "x", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

#[actix_web::test]
async fn a_visitor_over_the_rate_limit_gets_429_with_retry_after() {
    let app = spawn_app_with(|c| {
        c.widget_visitor_rate = 3;
        c.widget_ip_rate = 5;
    })
    .await;
    let org = app.register("Shop").await;
    let inbox = widget_inbox(&app, &org, json!({})).await;
    let vt = visitor(&app, &inbox).await;
    for i in 0..3 {
        says(&app, &vt, &format!("c-{i}"), "hello").await;
    }
    let (s, b, h) = vpost(&app, &vt, "/widget/messages", json!({"clientId": "c-3", "text": "hello"})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (429, Some("rate_limited")), "{b}");
    let retry: u64 = h.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry));
    // A retry of a stored message is still answered.
    let (s, _, _) = vpost(&app, &vt, "/widget/messages", json!({"clientId": "c-0", "text": "hello"})).await;
    assert_eq!(s, 200);

    // Per IP: other visitors from the same address share its allowance (5 in all).
    let others = [visitor(&app, &inbox).await, visitor(&app, &inbox).await];
    let (mut ok, mut limited) = (0, 0);
    for (i, v) in others.iter().cycle().take(6).enumerate() {
        let (s, _, h) = vpost(&app, v, "/widget/messages", json!({"clientId": format!("ip-{i}"), "text": "hi"})).await;
        match s {
            201 => ok += 1,
            429 => {
                limited += 1;
                assert!(h.get("retry-after").is_some());
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!((ok, limited), (2, 4), "3 of the address's 5 went to the first visitor");
}

#[actix_web::test]
async fn an_oversized_message_is_refused_naming_the_field_or_413() {
    let app = spawn_app().await;
    let org = app.register("Shop").await;
    let inbox = widget_inbox(&app, &org, json!({})).await;
    let vt = visitor(&app, &inbox).await;
    let (s, b, _) = vpost(&app, &vt, "/widget/messages", json!({"clientId": "c-1", "text": "x".repeat(4097)})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("text")), "{b}");
    let (s, b, _) = vpost(&app, &vt, "/widget/messages", json!({"clientId": "c-1", "text": "x".repeat(4096)})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b, _) = vpost(&app, &vt, "/widget/messages", json!({"clientId": "", "text": "x"})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("clientId")), "{b}");
    let (s, _, _) = vpost(&app, &vt, "/widget/messages", json!({"clientId": "c-2", "text": "x", "extra": 1})).await;
    assert_eq!(s, 400, "unknown fields are refused");

    // A file over the cap is 413; one under it is a message whose file the visitor can fetch.
    let big = reqwest::multipart::Form::new().text("clientId", "f-1").part(
        "file",
        reqwest::multipart::Part::bytes(vec![7u8; 10 * 1024 * 1024 + 1])
            .file_name("big.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let (s, b) = upload(&app, &vt, big).await;
    assert_eq!((s, b["error"]["code"].as_str()), (413, Some("payload_too_large")), "{b}");
    let small = reqwest::multipart::Form::new().text("clientId", "f-2").text("caption", "my receipt").part(
        "file",
        reqwest::multipart::Part::bytes(b"%PDF-1.4 tiny".to_vec())
            .file_name("receipt.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let (s, b) = upload(&app, &vt, small).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!((b["data"]["type"].as_str(), b["data"]["text"].as_str()), (Some("document"), Some("my receipt")));
    let url = b["data"]["attachment"]["url"].as_str().unwrap().to_owned();
    let res = app.client.get(app.url(&format!("{url}?visitorToken={vt}"))).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"%PDF-1.4 tiny");
    // Stored as downloaded: the Graph fetcher never looks for it.
    let conv = conversation_of(&app, &inbox, &vt).await;
    let agent_view = app.messages(&org, &conv).await;
    let file = agent_view.iter().find(|m| m["id"] == b["data"]["id"]).unwrap();
    assert_eq!(file["mediaStatus"], "downloaded", "{file}");
    // Another visitor cannot fetch it.
    let stranger = visitor(&app, &inbox).await;
    let res = app.client.get(app.url(&format!("{url}?visitorToken={stranger}"))).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

#[actix_web::test]
async fn visitor_acks_mark_the_reply_delivered_then_read_for_the_agent() {
    let app = spawn_app().await;
    let org = app.register("Shop").await;
    let inbox = widget_inbox(&app, &org, json!({})).await;
    let vt = visitor(&app, &inbox).await;
    says(&app, &vt, "c-1", "hi").await;
    let conv = conversation_of(&app, &inbox, &vt).await;
    let mut vs = VisitorSocket::open(&app, &vt, None).await;
    vs.next(WAIT).await.unwrap();
    let mut agent = app.socket(&org.token, None).await;
    let reply = agent_answers(&app, &org, &conv, "hello!").await;
    vs.until(|f| f["type"] == "message" && f["message"]["id"] == reply.as_str()).await;
    for status in ["delivered", "read"] {
        vs.send(json!({"type": "ack", "ids": [reply], "status": status})).await;
        let seen = agent
            .until(WAIT, |e| {
                e["event"] == "message.updated" && e["data"]["id"] == reply.as_str() && e["data"]["status"] == status
            })
            .await;
        assert!(seen.is_some(), "the agent sees {status}");
        let f = vs.until(|f| f["type"] == "message.updated" && f["message"]["status"] == status).await;
        assert_eq!(f.last().unwrap()["message"]["id"], reply.as_str());
    }
    let msgs = app.messages(&org, &conv).await;
    let m = msgs.iter().find(|m| m["id"] == reply.as_str()).unwrap();
    assert!(m["deliveredAt"].is_string() && m["readAt"].is_string(), "{m}");
    // An ack for a message of another conversation changes nothing.
    let other = visitor(&app, &inbox).await;
    says(&app, &other, "o-1", "hi").await;
    let other_conv = conversation_of(&app, &inbox, &other).await;
    let theirs = agent_answers(&app, &org, &other_conv, "for them").await;
    vs.send(json!({"type": "ack", "ids": [theirs], "status": "read"})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let msgs = app.messages(&org, &other_conv).await;
    assert_eq!(msgs.iter().find(|m| m["id"] == theirs.as_str()).unwrap()["status"], "sent");
}

/// Writes a note on the conversation's timeline through its actor.
async fn cx_inbox_note(app: &TestApp, org_id: &str, conv: &str, note: &str) -> Option<Value> {
    let msg = actors::conversation::Note { org_id: org_id.to_owned(), note: note.to_owned() };
    let view = app.state.rt.ask_conversation(org_id, conv, msg).await.unwrap();
    view.map(|v| serde_json::to_value(v).unwrap())
}

#[actix_web::test]
async fn private_notes_and_system_rows_never_reach_the_visitor() {
    let app = spawn_app().await;
    let org = app.register("Shop").await;
    let inbox = widget_inbox(&app, &org, json!({})).await;
    let vt = visitor(&app, &inbox).await;
    says(&app, &vt, "c-1", "hi").await;
    let conv = conversation_of(&app, &inbox, &vt).await;
    let mut vs = VisitorSocket::open(&app, &vt, None).await;
    vs.next(WAIT).await.unwrap();
    // A note on the timeline (a system row, as the bot's tools and auto-assignment write),
    // then an answer.
    let note = cx_inbox_note(&app, &org.org_id, &conv, "internal: VIP, check stock first").await;
    let _ = note;
    let reply = agent_answers(&app, &org, &conv, "an answer").await;
    let system: Vec<Value> =
        app.messages(&org, &conv).await.into_iter().filter(|m| m["direction"] == "system").collect();
    assert!(!system.is_empty(), "the note is a system row");
    let frames = vs.drain(Duration::from_millis(800)).await;
    let shown: Vec<&str> = frames.iter().filter_map(|f| f["message"]["id"].as_str()).collect();
    assert_eq!(shown, vec![reply.as_str()], "{frames:?}");
    for f in &frames {
        let text = f.to_string();
        assert!(!text.contains(&org.user_id) && !text.contains("@"), "no agent ids or emails: {text}");
    }
    let (_, h) = vget(&app, &vt, "/widget/messages").await;
    assert!(h["data"].as_array().unwrap().iter().all(|m| m["direction"] != "system"));
    assert_eq!(h["data"].as_array().unwrap().len(), 2);
    // Resolved: the visitor hears the status.
    let (s, b) = app.post(&format!("/api/v1/conversations/{conv}/resolve"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");
    let f = vs.until(|f| f["type"] == "conversation").await;
    assert_eq!(f.last().unwrap()["status"], "CLOSED");
}

#[actix_web::test]
async fn outside_working_hours_the_widget_takes_an_email_and_the_message() {
    let app = spawn_app().await;
    let org = app.register("Shop").await;
    // Open only on a day that is never today: closed now.
    let today = chrono::Utc::now().format("%a").to_string().to_uppercase();
    let day = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"].into_iter().find(|d| *d != today).unwrap();
    let hours =
        json!({"timezone": "UTC", "isEnabled": true, "slots": [{"day": day, "start": "09:00", "end": "10:00"}]});
    let inbox = widget_inbox(&app, &org, json!({"workingHours": hours})).await;
    let (_, config) = status_json(
        app.client
            .get(app.url(&format!("/widget/config?websiteToken={}", website_token(&inbox))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(config["data"]["openNow"], false, "{config}");
    let vt = visitor(&app, &inbox).await;
    let (s, b, _) = vpost(&app, &vt, "/widget/offline", json!({"email": "not-an-email", "text": "call me"})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("email")));
    let (s, b, _) =
        vpost(&app, &vt, "/widget/offline", json!({"email": "bob@example.com", "text": "Please call me back"})).await;
    assert_eq!(s, 201, "{b}");
    let conv = conversation_of(&app, &inbox, &vt).await;
    let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!(c["data"]["contact"]["email"], "bob@example.com", "{c}");
    let msgs = app.messages(&org, &conv).await;
    assert!(msgs.iter().any(|m| m["text"] == "Please call me back"));
}

#[actix_web::test]
async fn the_bot_answers_a_widget_visitor_and_hands_off_to_the_queue() {
    let crate::bot::Bot { app, org, .. } = crate::bot::bot_setup().await;
    let (s, team) = app.post("/api/v1/teams", &org.token, json!({"name": "Billing"})).await;
    assert_eq!(s, 201, "{team}");
    let team_id = team["data"]["id"].as_str().unwrap().to_owned();
    let rule = json!({"name": "refunds", "teamId": team_id, "conditions": [{"field": "message", "operator": "contains", "value": "refund"}]});
    let (s, body) = app.post("/api/v1/routing-rules", &org.token, rule).await;
    assert_eq!(s, 201, "{body}");
    let inbox = widget_inbox(&app, &org, json!({})).await;
    let vt = visitor(&app, &inbox).await;
    let mut vs = VisitorSocket::open(&app, &vt, None).await;
    vs.next(WAIT).await.unwrap();

    says(&app, &vt, "c-1", "I have a question about a refund").await;
    let frames = vs.until(|f| f["type"] == "message" && f["message"]["direction"] == "outbound").await;
    let answer = &frames.last().unwrap()["message"];
    assert_eq!(answer["text"], "Echo: I have a question about a refund", "{answer}");
    assert_eq!(answer["sender"]["name"], "Main", "the bot's name: {answer}");
    let conv = conversation_of(&app, &inbox, &vt).await;
    let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!(
        (c["data"]["status"].as_str(), c["data"]["teamId"].as_str()),
        (Some("BOT_HANDLING"), Some(team_id.as_str()))
    );

    says(&app, &vt, "c-2", "HANDOFF please").await;
    let frames = vs.until(|f| f["type"] == "conversation" && f["status"] == "OPEN").await;
    assert!(
        frames.iter().any(|f| f["message"]["text"] == "Let me connect you with a member of our team."),
        "{frames:?}"
    );
    let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!(c["data"]["status"], "OPEN", "{c}");
    assert!(c["data"]["assignedTo"].is_null());
    assert_eq!(c["data"]["handoffSummary"], "Customer asks for a refund of order 42");
    // The hand-off note is a system row: the agents see it, the visitor never does.
    let msgs = app.messages(&org, &conv).await;
    assert!(msgs.iter().any(|m| m["direction"] == "system"));
    let (_, h) = vget(&app, &vt, "/widget/messages").await;
    assert!(h["data"].as_array().unwrap().iter().all(|m| m["direction"] != "system"), "{h}");
    assert!(frames.iter().all(|f| f["message"]["direction"] != "system"));
}

#[actix_web::test]
async fn routing_rules_and_auto_assignment_treat_a_widget_conversation_like_a_whatsapp_one() {
    use crate::agents::{add_agent, bot_off, conversation, eventually, team_with};
    let app = spawn_app_with(|c| {
        c.presence_grace_ms = 300;
        c.idle_check_ms = 200;
    })
    .await;
    let org = app.register("Route").await;
    let account = app.connect_account(&org).await;
    bot_off(&app, &org).await;
    let ann = add_agent(&app, &org, "Ann").await;
    let sales = team_with(&app, &org, "Sales", &[&ann], Some(5)).await;
    let rule = json!({"name": "buying", "teamId": sales, "conditions": [{"field": "message", "operator": "contains", "value": "price"}]});
    let (s, b) = app.post("/api/v1/routing-rules", &org.token, rule).await;
    assert_eq!(s, 201, "{b}");
    let _ann_socket = app.socket(&ann.token, None).await.keep_alive();

    // The same words on WhatsApp and in the widget.
    let wa = app.customer_says(&org, &account, "4917000000042", "What is the price of the blue one?").await;
    let inbox = widget_inbox(&app, &org, json!({})).await;
    let vt = visitor(&app, &inbox).await;
    says(&app, &vt, "c-1", "What is the price of the blue one?").await;
    let web = conversation_of(&app, &inbox, &vt).await;
    for id in [&wa, &web] {
        let assigned = eventually(Duration::from_secs(5), || async {
            conversation(&app, &org, id).await["assignedTo"] == ann.user_id.as_str()
        })
        .await;
        let c = conversation(&app, &org, id).await;
        assert!(assigned, "{c}");
        assert_eq!(c["teamId"], sales.as_str());
    }
    // Ann answers in the widget: the visitor gets her name.
    let mut vs = VisitorSocket::open(&app, &vt, None).await;
    vs.next(WAIT).await.unwrap();
    let (s, b) = app
        .post(
            &format!("/api/v1/conversations/{web}/messages"),
            &ann.token,
            json!({"type": "text", "text": "It is 20 EUR"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let f = vs.until(|f| f["type"] == "message" && f["message"]["direction"] == "outbound").await;
    assert_eq!(f.last().unwrap()["message"]["sender"]["name"], "Ann");

    // With auto-assignment off, the widget inbox's conversations wait in the queue.
    let (s, b) = app
        .patch(
            &format!("/api/v1/inboxes/{}", inbox["id"].as_str().unwrap()),
            &org.token,
            json!({"enableAutoAssignment": false}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let other = visitor(&app, &inbox).await;
    says(&app, &other, "c-1", "price of the red one?").await;
    let queued = conversation_of(&app, &inbox, &other).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let c = conversation(&app, &org, &queued).await;
    assert!(c["assignedTo"].is_null(), "{c}");
    assert_eq!(c["teamId"], sales.as_str());
}

#[actix_web::test]
async fn the_inbox_bot_config_answers_its_visitors_instead_of_the_org_active_one() {
    let crate::bot::Bot { app, org, llm, .. } = crate::bot::bot_setup().await;
    let body = json!({"name": "Web helper", "systemPrompt": "You are the web shop's helper.", "provider": "OPENAI",
        "model": "fake-web", "baseUrl": llm.url, "apiKey": "sk-test-abcdefgh1234"});
    let (s, own) = app.post("/api/v1/bot-config", &org.token, body).await;
    assert_eq!(s, 201, "{own}");
    let inbox = widget_inbox(&app, &org, json!({"botConfigId": own["data"]["id"]})).await;
    let vt = visitor(&app, &inbox).await;
    let mut vs = VisitorSocket::open(&app, &vt, None).await;
    vs.next(WAIT).await.unwrap();
    says(&app, &vt, "c-1", "Do you ship abroad?").await;
    let frames = vs.until(|f| f["type"] == "message" && f["message"]["direction"] == "outbound").await;
    assert_eq!(frames.last().unwrap()["message"]["sender"]["name"], "Web helper");
    let chats = llm.chats();
    let last = chats.last().unwrap();
    assert_eq!(last["body"]["model"], "fake-web", "the inbox's own config asked the model");
    // A WhatsApp customer of the same organization still gets the active config.
    let account = app.connect_account(&org).await;
    app.customer_says(&org, &account, "4917000000099", "Hello").await;
    assert!(
        crate::agents::eventually(WAIT, || async { llm.chats().iter().any(|c| c["body"]["model"] == "fake-chat") })
            .await,
        "the org's active config answers WhatsApp"
    );
}

#[actix_web::test]
async fn a_widget_visitor_rates_with_buttons() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let inbox = widget_inbox(
        &app,
        &org,
        json!({"csatSurveyEnabled": true, "csatConfig": {"displayType": "star", "message": "How was our chat?"}}),
    )
    .await;
    let vt = visitor(&app, &inbox).await;
    says(&app, &vt, "c-1", "Can I change my order?").await;
    let conv = conversation_of(&app, &inbox, &vt).await;
    let mut socket = VisitorSocket::open(&app, &vt, None).await;
    agent_answers(&app, &org, &conv, "Done!").await;
    let (s, b) = app.post(&format!("/api/v1/conversations/{conv}/resolve"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");

    // The survey reaches the visitor's socket with its five choices.
    let frames = socket.until(|f| f["type"] == "message" && f["message"]["type"] == "csat").await;
    let survey = &frames.last().unwrap()["message"];
    assert_eq!(survey["text"], "How was our chat?");
    assert_eq!(survey["survey"]["displayType"], "star");
    let ratings: Vec<i64> =
        survey["survey"]["options"].as_array().unwrap().iter().map(|o| o["rating"].as_i64().unwrap()).collect();
    assert_eq!(ratings, vec![5, 4, 3, 2, 1]);
    let survey_id = survey["id"].as_str().unwrap();

    // The visitor taps a star: the conversation's rating, which the agents see.
    let (s, b, _) =
        vpost(&app, &vt, "/widget/csat", json!({"messageId": survey_id, "rating": 5, "comment": "Quick!"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["data"]["rating"].as_i64(), b["data"]["channel"].as_str()), (Some(5), Some("livechat")));
    let (_, shown) = app.get(&format!("/api/v1/conversations/{conv}/csat"), &org.token).await;
    assert_eq!(shown["data"]["comment"], "Quick!");

    // Another visitor cannot answer this survey; a message that is no survey is not one.
    let stranger = visitor(&app, &inbox).await;
    says(&app, &stranger, "s-1", "hi").await;
    let (s, _, _) = vpost(&app, &stranger, "/widget/csat", json!({"messageId": survey_id, "rating": 1})).await;
    assert_eq!(s, 404);
    let (_, history) = vget(&app, &vt, "/widget/messages").await;
    let text_id = history["data"][0]["id"].as_str().unwrap();
    let (s, _, _) = vpost(&app, &vt, "/widget/csat", json!({"messageId": text_id, "rating": 3})).await;
    assert_eq!(s, 404);
    let (s, b, _) = vpost(&app, &vt, "/widget/csat", json!({"messageId": survey_id, "rating": 0})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("rating")), "{b}");
}

#[actix_web::test]
async fn the_visitor_sees_the_agents_name_and_picture_beside_the_answer() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let inbox = widget_inbox(&app, &org, json!({})).await;
    let (s, p) = crate::profile::upload(&app, &org.token, "avatar", crate::profile::PNG.to_vec()).await;
    assert_eq!(s, 200, "{p}");
    let vt = visitor(&app, &inbox).await;
    says(&app, &vt, "c-1", "Hello?").await;
    let conv = conversation_of(&app, &inbox, &vt).await;
    agent_answers(&app, &org, &conv, "Hi, I'm here").await;

    let (_, history) = vget(&app, &vt, "/widget/messages").await;
    let answer = history["data"].as_array().unwrap().iter().find(|m| m["direction"] == "outbound").unwrap().clone();
    let url = answer["sender"]["avatarUrl"].as_str().expect("the agent's picture").to_owned();
    assert!(url.starts_with(&format!("/widget/inboxes/{}/agents/", inbox["id"].as_str().unwrap())), "{url}");
    let res = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), crate::profile::PNG);
    // Through another organization's widget, the same agent has no picture.
    let other = app.register("Globex").await;
    let theirs = widget_inbox(&app, &other, json!({})).await;
    let foreign = url.replace(inbox["id"].as_str().unwrap(), theirs["id"].as_str().unwrap());
    assert_eq!(app.client.get(app.url(&foreign)).send().await.unwrap().status(), 404);
}
