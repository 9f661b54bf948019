use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Org, TestApp, message_webhook, spawn_app_with, unique};

async fn media_app() -> TestApp {
    spawn_app_with(|c| c.outbox_poll_ms = 50).await
}

async fn wait_media(app: &TestApp, org: &Org, conv: &str, status: &str) -> Value {
    for _ in 0..100 {
        let m = app.messages(org, conv).await.pop().unwrap();
        if m["mediaStatus"] == status {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("media never became {status}: {:?}", app.messages(org, conv).await.pop());
}

fn image(wa: &str, media_id: &str) -> Value {
    json!({"from": wa, "id": format!("wamid.{}", unique()), "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "image",
        "image": {"id": media_id, "mime_type": "image/jpeg", "caption": "receipt"}})
}

#[actix_web::test]
async fn inbound_media_is_downloaded_in_two_steps_and_served_to_agents() {
    let app = media_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    app.post_webhook(&message_webhook(&account.phone_number_id, "15559400001", "Img", image("15559400001", "MEDabc")))
        .await;
    let conv = app.conversation_of(&org, "15559400001").await;
    let m = wait_media(&app, &org, &conv, "downloaded").await;
    assert_eq!(m["mediaMime"], "image/jpeg");
    let url = m["mediaUrl"].as_str().unwrap();

    let res = app.client.get(app.url(url)).bearer_auth(&org.token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.text().await.unwrap(), "bytes of MEDabc");

    // Both Graph API steps carried the account's token.
    let gets: Vec<_> = app.graph.requests().into_iter().filter(|r| r.path.contains("MEDabc")).collect();
    assert_eq!(gets.len(), 2);
    assert!(
        gets.iter().all(|r| r.authorization.as_deref() == Some(format!("Bearer {}", account.access_token).as_str()))
    );

    let anon = app.client.get(app.url(url)).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let other = app.register("Other").await;
    assert_eq!(app.get(url, &other.token).await.0, 404);
}

#[actix_web::test]
async fn a_failed_download_is_marked_and_retry_media_fetches_it() {
    let app = media_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    app.graph.break_media(true);
    app.post_webhook(&message_webhook(
        &account.phone_number_id,
        "15559400002",
        "Img",
        image("15559400002", "MEDBROKEN1"),
    ))
    .await;
    let conv = app.conversation_of(&org, "15559400002").await;
    let failed = wait_media(&app, &org, &conv, "failed").await;
    assert!(failed["mediaError"].as_str().unwrap().contains("does not exist"), "{failed}");
    let id = failed["id"].as_str().unwrap();
    let (status, err) = app.get(&format!("/api/v1/messages/{id}/media"), &org.token).await;
    assert_eq!(status, 409, "{err}");

    app.graph.break_media(false);
    let (status, queued) = app.post(&format!("/api/v1/messages/{id}/retry-media"), &org.token, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(queued["data"]["mediaStatus"], "pending");
    wait_media(&app, &org, &conv, "downloaded").await;
    let (status, _) = app.post(&format!("/api/v1/messages/{id}/retry-media"), &org.token, json!({})).await;
    assert_eq!(status, 409, "already downloaded");

    // A text message has no media to retry.
    let text_conv = app.customer_says(&org, &account, "15559400003", "plain").await;
    let text_id = app.messages(&org, &text_conv).await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.post(&format!("/api/v1/messages/{text_id}/retry-media"), &org.token, json!({})).await.0, 409);
    assert_eq!(app.get(&format!("/api/v1/messages/{text_id}/media"), &org.token).await.0, 404);
}
