use std::time::Duration;

use serde_json::json;

use crate::helpers::{Scripted, message_webhook, spawn_app, status_webhook};

#[actix_web::test]
async fn takeover_and_reply_send_the_exact_cloud_api_body_with_the_account_token() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15551110001", "Hi, I need help").await;

    let (status, taken) = app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
    assert_eq!(status, 200, "{taken}");
    assert_eq!(taken["data"]["status"], "HUMAN_HANDLING");
    assert_eq!(taken["data"]["assignedTo"], org.user_id.as_str());

    let (status, sent) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            json!({"type": "text", "text": "Happy to help!"}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let m = &sent["data"];
    assert_eq!(m["status"], "sent");
    assert_eq!(m["direction"], "outbound");
    assert_eq!(m["providerMessageId"], "wamid.FAKE1");
    assert_eq!(m["senderId"], org.user_id.as_str());

    let sends = app.graph.sends();
    assert_eq!(sends.len(), 1);
    let req = &sends[0];
    assert_eq!(req.path, format!("/v21.0/{}/messages", account.phone_number_id));
    assert_eq!(req.authorization.as_deref(), Some(format!("Bearer {}", account.access_token).as_str()));
    assert_eq!(
        req.body,
        json!({
            "biz_opaque_callback_data": m["id"],
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "15551110001",
            "type": "text",
            "text": {"preview_url": false, "body": "Happy to help!"}
        })
    );
    let (_, got) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!(got["data"]["status"], "WAITING_FOR_CUSTOMER");
}

#[actix_web::test]
async fn status_webhooks_move_a_reply_to_delivered_then_read_and_never_back() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15551110002", "hello").await;
    let (_, sent) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            json!({"type": "text", "text": "hi there"}),
        )
        .await;
    let wamid = sent["data"]["providerMessageId"].as_str().unwrap().to_owned();
    let mut socket = app.socket(&org.token, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (status, body) =
        app.post_webhook(&status_webhook(&account.phone_number_id, &wamid, "15551110002", "delivered", None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["statuses"], 1);
    let messages = app.messages(&org, &conv).await;
    assert_eq!(messages.last().unwrap()["status"], "delivered");
    assert!(messages.last().unwrap()["deliveredAt"].is_string());

    app.post_webhook(&status_webhook(&account.phone_number_id, &wamid, "15551110002", "read", None)).await;
    // A late "delivered" after "read" changes nothing.
    app.post_webhook(&status_webhook(&account.phone_number_id, &wamid, "15551110002", "delivered", None)).await;
    let messages = app.messages(&org, &conv).await;
    assert_eq!(messages.last().unwrap()["status"], "read");

    let events = socket.drain(Duration::from_millis(700)).await;
    let statuses: Vec<_> =
        events.iter().filter(|e| e["event"] == "message.updated").map(|e| e["data"]["status"].clone()).collect();
    assert_eq!(statuses, vec![json!("delivered"), json!("read")]);
}

#[actix_web::test]
async fn a_graph_api_error_becomes_a_failed_message_with_the_reason() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15551110003", "hello").await;
    app.graph.script(vec![Scripted {
        status: 400,
        body: json!({"error": {"message": "(#131026) Message undeliverable", "type": "OAuthException", "code": 131026,
            "error_data": {"messaging_product": "whatsapp", "details": "Receiver is incapable of receiving this message"}}}),
    }]);
    let (status, sent) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            json!({"type": "text", "text": "are you there?"}),
        )
        .await;
    assert_eq!(status, 201, "a provider refusal is not a server error: {sent}");
    assert_eq!(sent["data"]["status"], "failed");
    assert_eq!(sent["data"]["errorCode"], "131026");
    assert_eq!(sent["data"]["errorMessage"], "Receiver is incapable of receiving this message");

    // A failure reported later by status webhook is recorded too.
    let (_, ok) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            json!({"type": "text", "text": "second try"}),
        )
        .await;
    let wamid = ok["data"]["providerMessageId"].as_str().unwrap();
    let errors = json!([{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
        "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]);
    app.post_webhook(&status_webhook(&account.phone_number_id, wamid, "15551110003", "failed", Some(errors))).await;
    let last = app.messages(&org, &conv).await.pop().unwrap();
    assert_eq!(last["status"], "failed");
    assert_eq!(last["errorCode"], "131047");
    assert!(last["errorMessage"].as_str().unwrap().contains("24 hours"));
}

#[actix_web::test]
async fn free_text_outside_the_24_hour_window_is_refused_with_409() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let old = (chrono::Utc::now() - chrono::Duration::hours(25)).timestamp().to_string();
    let hook = message_webhook(
        &account.phone_number_id,
        "15551110004",
        "Late",
        json!({"from": "15551110004", "id": "wamid.old", "timestamp": old, "type": "text", "text": {"body": "yesterday's question"}}),
    );
    app.post_webhook(&hook).await;
    let conv = app.conversation_of(&org, "15551110004").await;
    let (_, got) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert!(got["data"]["windowClosesAt"].as_str().unwrap() < chrono::Utc::now().to_rfc3339().as_str());

    let (status, err) = app
        .post(&format!("/api/v1/conversations/{conv}/messages"), &org.token, json!({"type": "text", "text": "sorry"}))
        .await;
    assert_eq!(status, 409);
    assert!(err["error"]["message"].as_str().unwrap().contains("template"));
    // A reaction is a free-form message too.
    let question = app.messages(&org, &conv).await[0]["id"].as_str().unwrap().to_owned();
    let (status, err) =
        app.post(&format!("/api/v1/messages/{question}/react"), &org.token, json!({"emoji": "👍"})).await;
    assert_eq!(status, 409, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("24-hour"), "{err}");
    assert!(app.graph.sends().is_empty());
}

#[actix_web::test]
async fn sending_checks_its_input() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15551110005", "hello").await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    let (status, body) = app.post(&path, &org.token, json!({"type": "text", "text": "  "})).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("text")));
    let (status, body) = app.post(&path, &org.token, json!({"type": "carrier-pigeon", "text": "x"})).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("type")));
    let (status, body) = app.post(&path, &org.token, json!({"text": "x"})).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("type")));
    let (status, _) = app.post(&path, &org.token, json!({"type": "text", "text": "x".repeat(4097)})).await;
    assert_eq!(status, 400);
    assert_eq!(
        app.post("/api/v1/conversations/no-such-id/messages", &org.token, json!({"type": "text", "text": "x"})).await.0,
        404
    );
}

#[actix_web::test]
async fn a_status_that_arrives_before_the_send_returns_is_applied_not_lost() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15551110006", "hello").await;
    app.graph.slow_down(Duration::from_millis(600));

    let path = format!("/api/v1/conversations/{conv}/messages");
    let send = app.post(&path, &org.token, json!({"type": "text", "text": "on its way"}));
    let early_status = async {
        // Meta reports "delivered" while our send call is still waiting for its answer.
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.post_webhook(&status_webhook(&account.phone_number_id, "wamid.FAKE1", "15551110006", "delivered", None))
            .await
    };
    let ((send_status, sent), (hook_status, hook)) = tokio::join!(send, early_status);
    assert_eq!(send_status, 201, "{sent}");
    assert_eq!(hook_status, 200);
    assert_eq!(hook["data"]["statuses"], 1, "{hook}");
    let last = app.messages(&org, &conv).await.pop().unwrap();
    assert_eq!(last["providerMessageId"], "wamid.FAKE1");
    assert_eq!(last["status"], "delivered");
}

#[actix_web::test]
async fn reactions_attach_to_their_message_both_ways() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15551110007", "can you help?").await;
    let (_, reply) = app
        .post(&format!("/api/v1/conversations/{conv}/messages"), &org.token, json!({"type": "text", "text": "Sure!"}))
        .await;
    let reply_id = reply["data"]["id"].as_str().unwrap().to_owned();
    let reply_wamid = reply["data"]["providerMessageId"].as_str().unwrap().to_owned();

    // The customer reacts to the reply: no new message, the reply carries the reaction.
    let ts = chrono::Utc::now().timestamp().to_string();
    let reaction = |wamid: &str, emoji: &str| {
        message_webhook(
            &account.phone_number_id,
            "15551110007",
            "C",
            json!({"from": "15551110007", "id": format!("wamid.r.{}", crate::helpers::unique()), "timestamp": ts, "type": "reaction",
                "reaction": {"message_id": wamid, "emoji": emoji}}),
        )
    };
    let (status, _) = app.post_webhook(&reaction(&reply_wamid, "👍")).await;
    assert_eq!(status, 200);
    let messages = app.messages(&org, &conv).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["reactions"][0]["emoji"], "👍");
    assert_eq!(messages[1]["reactions"][0]["by"], "customer");
    app.post_webhook(&reaction(&reply_wamid, "")).await;
    assert_eq!(app.messages(&org, &conv).await[1]["reactions"], json!([]), "an empty emoji takes it back");

    // WhatsApp delivers an earlier reaction late (sent a minute before the take-back): the
    // taken-back state stands. The newer one applies.
    let at = |secs: i64, id: &str, emoji: &str| {
        message_webhook(
            &account.phone_number_id,
            "15551110007",
            "C",
            json!({"from": "15551110007", "id": id, "timestamp": (chrono::Utc::now().timestamp() + secs).to_string(),
                "type": "reaction", "reaction": {"message_id": reply_wamid, "emoji": emoji}}),
        )
    };
    let (status, _) = app.post_webhook(&at(-60, "wamid.r.late", "😮")).await;
    assert_eq!(status, 200);
    assert_eq!(app.messages(&org, &conv).await[1]["reactions"], json!([]), "a late, older reaction changes nothing");
    app.post_webhook(&at(5, "wamid.r.new", "🎉")).await;
    assert_eq!(app.messages(&org, &conv).await[1]["reactions"][0]["emoji"], "🎉");
    assert_eq!(app.messages(&org, &conv).await.len(), 2, "reactions are not messages");

    // An agent reacts to the customer's message: it goes to WhatsApp, then onto the message.
    let first = app.messages(&org, &conv).await[0].clone();
    let (status, reacted) = app
        .post(&format!("/api/v1/messages/{}/react", first["id"].as_str().unwrap()), &org.token, json!({"emoji": "❤️"}))
        .await;
    assert_eq!(status, 200, "{reacted}");
    assert_eq!(reacted["data"]["reactions"][0]["by"], org.user_id.as_str());
    let sent = app.graph.sends().pop().unwrap();
    assert_eq!(sent.body["type"], "reaction");
    assert_eq!(sent.body["reaction"], json!({"message_id": first["providerMessageId"], "emoji": "❤️"}));

    let (status, body) =
        app.post(&format!("/api/v1/messages/{reply_id}/react"), &org.token, json!({"emoji": "ok"})).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("emoji")));
    let other = app.register("Other").await;
    assert_eq!(
        app.post(&format!("/api/v1/messages/{reply_id}/react"), &other.token, json!({"emoji": "👍"})).await.0,
        404
    );
}
