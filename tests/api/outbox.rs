//! The outbound outbox: retries with backoff, restarts, idempotency.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Scripted, TestApp, spawn_app_with};

pub(crate) async fn fast_outbox() -> TestApp {
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

    // Once the second failure is recorded, the server restarts (the third attempt is due
    // 300 ms later).
    for _ in 0..200 {
        if message(&app, &org.token, &conv, &id).await["attempts"] == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(message(&app, &org.token, &conv, &id).await["status"], "pending");
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

    // The same key with another text in the same conversation is refused, not answered with
    // the first message (which would drop this one).
    let res = app
        .client
        .post(app.url(&path))
        .bearer_auth(&org.token)
        .header("Idempotency-Key", "reply-42")
        .json(&json!({"type": "text", "text": "something else"}))
        .send()
        .await
        .unwrap();
    let (s, e) = crate::helpers::status_json(res).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("Idempotency-Key")), "{e}");
    assert_eq!(app.graph.sends().len(), 1);
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

pub(crate) fn refused(code: i64, details: &str) -> Scripted {
    Scripted {
        status: 400,
        body: json!({"error": {"message": "refused", "code": code, "error_data": {"details": details}}}),
    }
}

#[actix_web::test]
async fn admins_list_count_retry_and_discard_failed_messages() {
    let app = fast_outbox().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15557001006", "hello").await;
    app.graph.script(vec![
        refused(131026, "Receiver is incapable"),
        refused(131026, "Receiver is incapable"),
        refused(131000, "Something"),
    ]);
    let path = format!("/api/v1/conversations/{conv}/messages");
    let mut ids = Vec::new();
    for text in ["a", "b", "c"] {
        let (_, m) = app.post(&path, &org.token, json!({"type": "text", "text": text})).await;
        ids.push(m["data"]["id"].as_str().unwrap().to_owned());
    }
    // "c" failed with 131000, which is transient: it is retried and goes out.
    wait_for(&app, &org.token, &conv, &ids[2], "sent").await;

    let (status, page) = app.get("/api/v1/messages/failed?pageSize=1", &org.token).await;
    assert_eq!(status, 200, "{page}");
    let (s, e) = app.get("/api/v1/messages/failed?pageSize=100&page=184467440737095516", &org.token).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("page")), "{e}");
    assert_eq!(page["pagination"], json!({"page": 1, "limit": 1, "total": 2, "totalPages": 2}));
    assert_eq!(page["data"][0]["contactWaId"], "15557001006");
    assert_eq!(page["data"][0]["errorCode"], "131026");
    let (_, searched) = app.get("/api/v1/messages/failed?search=incapable", &org.token).await;
    assert_eq!(searched["data"].as_array().unwrap().len(), 2);
    let (status, body) = app.get("/api/v1/messages/failed?status=LOST", &org.token).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("status")));

    let (_, stats) = app.get("/api/v1/messages/failed/stats", &org.token).await;
    assert_eq!(stats["data"]["failed"], 2);
    assert_eq!(stats["data"]["byErrorCode"][0], json!({"code": "131026", "count": 2}));

    // Retry "a": this time WhatsApp takes it.
    let (status, retried) = app.post(&format!("/api/v1/messages/{}/retry-send", ids[0]), &org.token, json!({})).await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["data"]["status"], "sent");
    let (status, _) = app.post(&format!("/api/v1/messages/{}/retry-send", ids[0]), &org.token, json!({})).await;
    assert_eq!(status, 409, "a sent message is not retried");

    // Discard "b".
    let (status, discarded) = app.post(&format!("/api/v1/messages/{}/discard", ids[1]), &org.token, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(discarded["data"]["status"], "failed");
    let (_, page) = app.get("/api/v1/messages/failed", &org.token).await;
    assert_eq!(page["pagination"]["total"], 0);
    let (_, permanent) = app.get("/api/v1/messages/failed?permanent=true", &org.token).await;
    assert_eq!(permanent["data"][0]["id"], ids[1].as_str());
    assert!(permanent["data"][0]["discardedAt"].is_string());

    assert_eq!(app.post("/api/v1/messages/no-such/retry-send", &org.token, json!({})).await.0, 404);
    let other = app.register("Other").await;
    assert_eq!(app.post(&format!("/api/v1/messages/{}/discard", ids[1]), &other.token, json!({})).await.0, 404);
    let (_, key) = app.post("/api/v1/api-keys", &org.token, json!({"name": "agent", "role": "AGENT"})).await;
    assert_eq!(app.get("/api/v1/messages/failed", key["data"]["key"].as_str().unwrap()).await.0, 403);
}

#[actix_web::test]
async fn bulk_retry_and_discard_report_each_message() {
    let app = fast_outbox().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15557001007", "hello").await;
    app.graph.script(vec![refused(131026, "x"), refused(131026, "x"), refused(131026, "x")]);
    let path = format!("/api/v1/conversations/{conv}/messages");
    let mut ids = Vec::new();
    for text in ["a", "b", "c"] {
        let (_, m) = app.post(&path, &org.token, json!({"type": "text", "text": text})).await;
        ids.push(m["data"]["id"].as_str().unwrap().to_owned());
    }
    // An id that names no message of the organization refuses the whole request.
    let (status, r) =
        app.post("/api/v1/messages/failed/bulk-discard", &org.token, json!({"messageIds": [ids[0], "nope"]})).await;
    assert_eq!((status, r["error"]["details"]["field"].as_str()), (400, Some("messageIds")), "{r}");
    // A message that cannot be discarded (an inbound one) is reported on its own.
    let inbound = app.messages(&org, &conv).await[0]["id"].as_str().unwrap().to_owned();
    let (status, r) =
        app.post("/api/v1/messages/failed/bulk-discard", &org.token, json!({"messageIds": [ids[0], inbound]})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["data"]["succeeded"], json!([ids[0]]));
    assert_eq!(r["data"]["failed"][0]["id"], inbound.as_str());

    // A body that does not say which messages acts on none: the users' bulk shape, an empty
    // body, an empty list, both choices at once.
    for path in ["/api/v1/messages/failed/bulk-discard", "/api/v1/messages/failed/bulk-retry"] {
        for (body, field) in [
            (json!({"action": "discard", "selection": {"mode": "ids", "ids": [ids[1]]}}), "action"),
            (json!({"messageIds": [ids[1]], "mode": "ids"}), "mode"),
            (json!({}), "messageIds"),
            (json!({"messageIds": []}), "messageIds"),
            (json!({"messageIds": [ids[1]], "all": true}), "all"),
            (json!({"all": false}), "messageIds"),
        ] {
            let (status, r) = app.post(path, &org.token, body.clone()).await;
            assert_eq!((status, r["error"]["details"]["field"].as_str()), (400, Some(field)), "{path} {body}: {r}");
        }
        let res = app.client.post(app.url(path)).bearer_auth(&org.token).send().await.unwrap();
        assert_eq!(res.status(), 400, "{path} without a body");
    }
    let (_, page) = app.get("/api/v1/messages/failed", &org.token).await;
    assert_eq!(page["pagination"]["total"], 2, "the refused requests discarded nothing: {page}");

    let (status, r) = app.post("/api/v1/messages/failed/bulk-retry", &org.token, json!({"all": true})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["data"]["succeeded"], json!([ids[1], ids[2]]), "all failed, not discarded ones");
    assert_eq!(message(&app, &org.token, &conv, &ids[2]).await["status"], "sent");
}

#[actix_web::test]
async fn a_hidden_message_stays_stored_and_can_be_shown_again() {
    let app = spawn_app_with(|_| {}).await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15557001008", "rude words").await;
    let id = app.messages(&org, &conv).await[0]["id"].as_str().unwrap().to_owned();
    let (status, hidden) = app.post(&format!("/api/v1/messages/{id}/toggle-hide"), &org.token, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(hidden["data"]["hidden"], true);
    assert_eq!(app.messages(&org, &conv).await[0]["hidden"], true, "still there, marked hidden");
    let (_, shown) = app.post(&format!("/api/v1/messages/{id}/toggle-hide"), &org.token, json!({})).await;
    assert_eq!(shown["data"]["hidden"], false);
    let other = app.register("Other").await;
    assert_eq!(app.post(&format!("/api/v1/messages/{id}/toggle-hide"), &other.token, json!({})).await.0, 404);
}
