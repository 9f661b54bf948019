use std::time::Duration;

use serde_json::json;

use crate::helpers::{spawn_app_with, text_webhook, unique};

#[actix_web::test]
async fn simulated_customers_go_through_the_pipeline_and_cleanup_removes_only_them() {
    // On by default only with SQLite; this test runs on PostgreSQL too.
    let app = spawn_app_with(|c| c.dev_endpoints = Some(true)).await;
    let org = app.register("Acme").await;
    let (status, _) = app.post("/api/v1/dev/simulate/conversation", &org.token, json!({})).await;
    assert_eq!(status, 409, "needs a WhatsApp account");
    let account = app.connect_account(&org).await;
    let real = app.customer_says(&org, &account, "15559500001", "a real customer").await;
    let mut socket = app.socket(&org.token, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (status, sim) = app
        .post(
            "/api/v1/dev/simulate/conversation",
            &org.token,
            json!({"name": "Sim One", "messages": ["hello", "anyone?"]}),
        )
        .await;
    assert_eq!(status, 201, "{sim}");
    let conv = sim["data"]["conversationId"].as_str().unwrap().to_owned();
    let texts: Vec<_> =
        app.messages(&org, &conv).await.iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts, vec!["hello", "anyone?"]);
    let pushed =
        socket.until_count(Duration::from_secs(3), "message.created", 2).await.expect("pushed like a real message");
    assert_eq!(pushed.last().unwrap()["data"]["conversation"]["contact"]["name"], "Sim One");

    let (status, again) = app
        .post("/api/v1/dev/simulate/message", &org.token, json!({"conversationId": conv, "text": "still waiting"}))
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(app.messages(&org, &conv).await.len(), 3);
    let (status, _) = app.post("/api/v1/dev/simulate/message", &org.token, json!({"conversationId": real})).await;
    assert_eq!(status, 409, "a real customer's conversation takes no simulated messages");
    let (status, body) = app
        .post("/api/v1/dev/simulate/message", &org.token, json!({"conversationId": conv, "text": "x".repeat(5000)}))
        .await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (400, Some("text")), "{body}");

    let (status, batch) =
        app.post("/api/v1/dev/simulate/batch", &org.token, json!({"count": 3, "messagesPerConversation": 2})).await;
    assert_eq!(status, 201);
    assert_eq!(batch["data"].as_array().unwrap().len(), 3);
    let (status, body) = app.post("/api/v1/dev/simulate/batch", &org.token, json!({"count": 500})).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("count")));

    let mut socket = app.socket(&org.token, None).await;
    let (status, report) = app.delete("/api/v1/dev/simulate/cleanup", &org.token).await;
    assert_eq!(status, 200);
    assert_eq!(report["data"], json!({"conversations": 4, "messages": 9, "contacts": 4}));
    // Each conversation is deleted by its actor and announced on its own: together they name
    // exactly the four simulated conversations.
    let seen = socket
        .until_count(std::time::Duration::from_secs(3), "conversations.removed", 4)
        .await
        .expect("open inboxes hear of the removal");
    let mut removed: Vec<String> = seen
        .iter()
        .filter(|e| e["event"] == "conversations.removed")
        .flat_map(|e| e["data"]["conversationIds"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()))
        .collect();
    removed.sort();
    let mut simulated: Vec<String> = std::iter::once(conv.clone())
        .chain(batch["data"].as_array().unwrap().iter().map(|s| s["conversationId"].as_str().unwrap().to_owned()))
        .collect();
    simulated.sort();
    assert_eq!(removed, simulated);
    let (_, list) = app.get("/api/v1/conversations", &org.token).await;
    let ids: Vec<_> = list["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, vec![real], "the real conversation stays");

    let (_, key) = app.post("/api/v1/api-keys", &org.token, json!({"name": "agent", "role": "AGENT"})).await;
    assert_eq!(
        app.post("/api/v1/dev/simulate/conversation", key["data"]["key"].as_str().unwrap(), json!({})).await.0,
        403
    );
}

#[actix_web::test]
async fn dev_endpoints_are_absent_when_switched_off() {
    let app = spawn_app_with(|c| c.dev_endpoints = Some(false)).await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    assert_eq!(app.post("/api/v1/dev/simulate/conversation", &org.token, json!({})).await.0, 404);
    assert_eq!(app.delete("/api/v1/dev/simulate/cleanup", &org.token).await.0, 404);
}

#[actix_web::test]
async fn a_simulated_template_review_reaches_agents_through_the_webhook_pipeline() {
    let app = spawn_app_with(|c| c.dev_endpoints = Some(true)).await;
    let org = app.register("Acme").await;
    let body = json!({"templateName": "order_update", "event": "APPROVED"});
    let (status, _) = app.post("/api/v1/dev/simulate/template-status", &org.token, body.clone()).await;
    assert_eq!(status, 409, "needs a WhatsApp account");
    let account = app.connect_account(&org).await;
    let other = app.register("Other").await;
    app.connect_account(&other).await;
    let mut socket = app.socket(&org.token, None).await;
    let mut other_socket = app.socket(&other.token, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (status, sim) = app
        .post(
            "/api/v1/dev/simulate/template-status",
            &org.token,
            json!({"templateName": "order_update", "event": "rejected", "reason": "INCORRECT_CATEGORY", "accountId": account.id}),
        )
        .await;
    assert_eq!(status, 201, "{sim}");
    assert_eq!((sim["data"]["event"].as_str(), sim["data"]["delivered"].as_u64()), (Some("REJECTED"), Some(1)));
    let events = socket
        .until(Duration::from_secs(3), |e| e["event"] == "template.status_changed")
        .await
        .expect("agents hear the review");
    let e = &events.last().unwrap()["data"];
    assert_eq!((e["templateName"].as_str(), e["status"].as_str()), (Some("order_update"), Some("REJECTED")));
    assert_eq!(e["reason"], "INCORRECT_CATEGORY");
    assert!(
        other_socket.until(Duration::from_millis(500), |e| e["event"] == "template.status_changed").await.is_none(),
        "another organization's business account hears nothing"
    );

    for (bad, field) in
        [(json!({"event": "APPROVED"}), "templateName"), (json!({"templateName": "x", "event": "MAYBE"}), "event")]
    {
        let (status, e) = app.post("/api/v1/dev/simulate/template-status", &org.token, bad).await;
        assert_eq!((status, e["error"]["details"]["field"].as_str()), (400, Some(field)), "{e}");
    }
    let agent = crate::agents::add_agent(&app, &org, "Ann").await;
    let (status, _) = app.post("/api/v1/dev/simulate/template-status", &agent.token, body).await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn cleaned_up_conversations_with_live_actors_never_come_back() {
    let app = spawn_app_with(|c| c.dev_endpoints = Some(true)).await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let (status, sim) =
        app.post("/api/v1/dev/simulate/conversation", &org.token, json!({"name": "Sim", "messages": ["first"]})).await;
    assert_eq!(status, 201, "{sim}");
    let old = sim["data"]["conversationId"].as_str().unwrap().to_owned();
    let wa_id = sim["data"]["waId"].as_str().unwrap().to_owned();
    // The actor is live and holds the row: an agent edit goes through it.
    let (status, _) =
        app.patch(&format!("/api/v1/conversations/{old}"), &org.token, json!({"category": "sales"})).await;
    assert_eq!(status, 200);

    let (status, report) = app.delete("/api/v1/dev/simulate/cleanup", &org.token).await;
    assert_eq!(status, 200);
    assert_eq!(report["data"], json!({"conversations": 1, "messages": 1, "contacts": 1}));

    // The customer writes again: a new conversation, with only the new message.
    let hook = text_webhook(&account.phone_number_id, &wa_id, "Sim", &format!("wamid.{}", unique()), "back again");
    assert_eq!(app.post_webhook(&hook).await.0, 200);
    let new = app.conversation_of(&org, &wa_id).await;
    assert_ne!(new, old);
    let texts: Vec<_> = app.messages(&org, &new).await.iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts, vec!["back again"]);
    // The agent edits the old one: it is gone, and stays gone.
    let (status, _) = app.patch(&format!("/api/v1/conversations/{old}"), &org.token, json!({"category": "x"})).await;
    assert_eq!(status, 404);
    assert_eq!(app.get(&format!("/api/v1/conversations/{old}"), &org.token).await.0, 404);
    assert_eq!(app.post(&format!("/api/v1/conversations/{old}/takeover"), &org.token, json!({})).await.0, 404);
    let (_, list) = app.get("/api/v1/conversations", &org.token).await;
    let ids: Vec<_> = list["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, vec![new]);
    assert_eq!(app.count("conversations").await, 1);
    assert_eq!(app.count("messages").await, 1);
}
