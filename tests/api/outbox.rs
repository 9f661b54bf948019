//! The outbound outbox: retries with backoff, restarts, idempotency.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Scripted, TestApp, spawn_app_with};

async fn fast_outbox() -> TestApp {
    spawn_app_with(|c| {
        c.outbox_backoff_ms = 150;
        c.outbox_poll_ms = 50;
    })
    .await
}

fn unavailable() -> Scripted {
    Scripted { status: 503, body: json!({"error": {"message": "Service temporarily unavailable", "code": 2}}) }
}

async fn message(app: &TestApp, token: &str, conv: &str, id: &str) -> Value {
    let (_, body) = app.get(&format!("/api/v1/conversations/{conv}/messages?limit=100"), token).await;
    body["data"].as_array().unwrap().iter().find(|m| m["id"] == id).cloned().unwrap()
}

async fn wait_for(app: &TestApp, token: &str, conv: &str, id: &str, status: &str) -> Value {
    for _ in 0..200 {
        let m = message(app, token, conv, id).await;
        if m["status"] == status {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("message {id} never became {status}: {}", message(app, token, conv, id).await);
}

#[actix_web::test]
async fn three_5xx_then_success_sends_once_and_survives_a_restart_between_failures() {
    let mut app = fast_outbox().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15557001001", "hello").await;
    app.graph.script(vec![unavailable(), unavailable(), unavailable()]);

    let (status, sent) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            json!({"type": "text", "text": "we will get back to you"}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["data"]["status"], "pending", "a transient failure leaves it in the outbox");
    assert_eq!(sent["data"]["attempts"], 1);
    let id = sent["data"]["id"].as_str().unwrap().to_owned();

    // After the second failure, the server restarts.
    for _ in 0..100 {
        if app.graph.sends().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.restart().await;

    let done = wait_for(&app, &org.token, &conv, &id, "sent").await;
    assert_eq!(app.graph.sends().len(), 4, "three failures and one success");
    assert_eq!(app.graph.accepted_sends(), 1, "WhatsApp accepted it exactly once");
    assert_eq!(done["attempts"], 4);
    assert!(done["providerMessageId"].is_string());
    assert!(done["errorCode"].is_null());
}

#[actix_web::test]
async fn a_later_reply_never_overtakes_one_that_is_being_retried() {
    let app = fast_outbox().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15557001002", "hello").await;
    app.graph.script(vec![unavailable(), unavailable()]);
    let path = format!("/api/v1/conversations/{conv}/messages");
    let (_, first) = app.post(&path, &org.token, json!({"type": "text", "text": "one"})).await;
    let (_, second) = app.post(&path, &org.token, json!({"type": "text", "text": "two"})).await;
    assert_eq!(second["data"]["status"], "pending", "held back behind the first");
    wait_for(&app, &org.token, &conv, second["data"]["id"].as_str().unwrap(), "sent").await;
    wait_for(&app, &org.token, &conv, first["data"]["id"].as_str().unwrap(), "sent").await;
    let accepted: Vec<_> =
        app.graph.sends().iter().skip(2).map(|r| r.body["text"]["body"].as_str().unwrap().to_owned()).collect();
    assert_eq!(accepted, vec!["one", "two"]);
}

#[actix_web::test]
async fn the_same_post_with_one_idempotency_key_sends_once() {
    let app = fast_outbox().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15557001003", "hello").await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    let post = || {
        app.client
            .post(app.url(&path))
            .bearer_auth(&org.token)
            .header("Idempotency-Key", "reply-42")
            .json(&json!({"type": "text", "text": "only once"}))
            .send()
    };
    let first: Value = post().await.unwrap().json().await.unwrap();
    let again: Value = post().await.unwrap().json().await.unwrap();
    assert_eq!(first["data"]["id"], again["data"]["id"]);
    assert_eq!(app.graph.sends().len(), 1);
    assert_eq!(app.messages(&org, &conv).await.len(), 2, "the customer's message and one reply");

    // The same key in another conversation is a conflict, not a silent resend.
    let other = app.customer_says(&org, &account, "15557001004", "hi").await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{other}/messages")))
        .bearer_auth(&org.token)
        .header("Idempotency-Key", "reply-42")
        .json(&json!({"type": "text", "text": "only once"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
}

#[actix_web::test]
async fn a_message_that_keeps_failing_transiently_ends_failed_with_the_reason() {
    let app = spawn_app_with(|c| {
        c.outbox_backoff_ms = 10;
        c.outbox_poll_ms = 20;
    })
    .await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15557001005", "hello").await;
    app.graph.script((0..20).map(|_| unavailable()).collect());
    let (_, sent) = app
        .post(&format!("/api/v1/conversations/{conv}/messages"), &org.token, json!({"type": "text", "text": "x"}))
        .await;
    let failed = wait_for(&app, &org.token, &conv, sent["data"]["id"].as_str().unwrap(), "failed").await;
    assert_eq!(failed["attempts"], 10);
    assert!(failed["errorMessage"].as_str().unwrap().contains("gave up after 10 attempts"));
}
