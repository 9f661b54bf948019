use serde_json::json;

use std::time::Duration;

use crate::helpers::{spawn_app, spawn_app_with};

#[actix_web::test]
async fn a_new_conversation_starts_with_the_bot_and_the_list_filters_by_status() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let c1 = app.customer_says(&org, &account, "15556660001", "one").await;
    let c2 = app.customer_says(&org, &account, "15556660002", "two").await;
    let (_, got) = app.get(&format!("/api/v1/conversations/{c1}"), &org.token).await;
    assert_eq!(got["data"]["status"], "BOT_HANDLING", "the org's bot is on by default");
    assert_eq!(got["data"]["unreadCount"], 1);
    assert_eq!(got["data"]["lastMessagePreview"], "one");

    app.post(&format!("/api/v1/conversations/{c2}/takeover"), &org.token, json!({})).await;
    let (_, human) = app.get("/api/v1/conversations?status=HUMAN_HANDLING", &org.token).await;
    let ids: Vec<_> = human["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![c2.as_str()]);
    let (_, both) = app.get("/api/v1/conversations?status=HUMAN_HANDLING,BOT_HANDLING", &org.token).await;
    assert_eq!(both["data"].as_array().unwrap().len(), 2);
    let (status, body) = app.get("/api/v1/conversations?status=SLEEPING", &org.token).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "status");
    assert_eq!(app.get("/api/v1/conversations?limit=0", &org.token).await.0, 400);
    assert_eq!(app.get("/api/v1/conversations?cursor=zzz", &org.token).await.0, 400);
}

#[actix_web::test]
async fn the_list_pages_with_cursors_both_ways() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.customer_says(&org, &account, &format!("1555777000{i}"), "hi").await);
    }
    ids.reverse(); // newest first
    let (_, p1) = app.get("/api/v1/conversations?limit=2", &org.token).await;
    let page = |v: &serde_json::Value| {
        v["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(page(&p1), ids[0..2]);
    assert!(p1["prevCursor"].is_null());
    let (_, p2) = app
        .get(&format!("/api/v1/conversations?limit=2&cursor={}", p1["nextCursor"].as_str().unwrap()), &org.token)
        .await;
    assert_eq!(page(&p2), ids[2..4]);
    let (_, p3) = app
        .get(&format!("/api/v1/conversations?limit=2&cursor={}", p2["nextCursor"].as_str().unwrap()), &org.token)
        .await;
    assert_eq!(page(&p3), ids[4..5]);
    assert!(p3["nextCursor"].is_null());
    let (_, back) = app
        .get(&format!("/api/v1/conversations?limit=2&cursor={}", p2["prevCursor"].as_str().unwrap()), &org.token)
        .await;
    assert_eq!(page(&back), ids[0..2]);
}

#[actix_web::test]
async fn messages_page_from_the_newest_backwards() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let wa = "15557770101";
    let mut conv = String::new();
    for i in 0..5 {
        conv = app.customer_says(&org, &account, wa, &format!("m{i}")).await;
    }
    let texts = |v: &serde_json::Value| {
        v["data"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let (_, latest) = app.get(&format!("/api/v1/conversations/{conv}/messages?limit=2"), &org.token).await;
    assert_eq!(texts(&latest), vec!["m3", "m4"]);
    let (_, older) = app
        .get(
            &format!("/api/v1/conversations/{conv}/messages?limit=2&cursor={}", latest["nextCursor"].as_str().unwrap()),
            &org.token,
        )
        .await;
    assert_eq!(texts(&older), vec!["m1", "m2"]);
    let (_, newer) = app
        .get(
            &format!("/api/v1/conversations/{conv}/messages?limit=2&cursor={}", older["prevCursor"].as_str().unwrap()),
            &org.token,
        )
        .await;
    assert_eq!(texts(&newer), vec!["m3", "m4"]);
}

#[actix_web::test]
async fn resolve_closes_and_the_next_customer_message_opens_a_new_conversation() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let first = app.customer_says(&org, &account, "15558880001", "help").await;

    let (status, read) = app.post(&format!("/api/v1/conversations/{first}/read"), &org.token, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(read["data"]["unreadCount"], 0);

    let (status, closed) = app.post(&format!("/api/v1/conversations/{first}/resolve"), &org.token, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(closed["data"]["status"], "CLOSED");
    assert!(closed["data"]["closedAt"].is_string());

    let (status, err) = app.post(&format!("/api/v1/conversations/{first}/resolve"), &org.token, json!({})).await;
    assert_eq!(status, 409, "resolving twice is an invalid transition");
    assert!(err["error"]["message"].as_str().unwrap().contains("closed"));
    assert_eq!(app.post(&format!("/api/v1/conversations/{first}/takeover"), &org.token, json!({})).await.0, 409);
    assert_eq!(
        app.post(&format!("/api/v1/conversations/{first}/messages"), &org.token, json!({"type": "text", "text": "x"}))
            .await
            .0,
        409
    );

    let second = app.customer_says(&org, &account, "15558880001", "me again").await;
    assert_ne!(first, second);
    let (_, c) = app.get(&format!("/api/v1/conversations/{second}"), &org.token).await;
    assert_eq!(c["data"]["contact"]["waId"], "15558880001");
    assert_eq!(app.messages(&org, &first).await.len(), 1);
    assert_eq!(app.messages(&org, &second).await.len(), 1);
}

#[actix_web::test]
async fn assign_and_unassign_move_the_conversation_between_agent_and_queue() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15558880002", "hello").await;
    let (status, a) =
        app.post(&format!("/api/v1/conversations/{conv}/assign"), &org.token, json!({"userId": org.user_id})).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["data"]["assignedTo"], org.user_id.as_str());
    assert_eq!(a["data"]["status"], "HUMAN_HANDLING");
    let (status, u) = app.post(&format!("/api/v1/conversations/{conv}/unassign"), &org.token, json!({})).await;
    assert_eq!(status, 200);
    assert!(u["data"]["assignedTo"].is_null());
    assert_eq!(u["data"]["status"], "OPEN");
    assert_eq!(
        app.post(&format!("/api/v1/conversations/{conv}/assign"), &org.token, json!({"userId": "nobody"})).await.0,
        400
    );
}

#[actix_web::test]
async fn an_idle_conversation_actor_stops_and_comes_back_from_the_database() {
    let app = spawn_app_with(|c| c.actor_idle_secs = 1).await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let mut socket = app.socket(&org.token, None).await;
    let conv = app.customer_says(&org, &account, "15558880003", "first").await;
    assert_eq!(app.state.rt.live_conversations(), 1);

    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(app.state.rt.live_conversations(), 0, "passivated after the idle period");

    assert_eq!(app.customer_says(&org, &account, "15558880003", "second").await, conv);
    assert_eq!(app.state.rt.live_conversations(), 1);
    let events = socket.until_count(Duration::from_secs(5), "message.created", 2).await.unwrap();
    let seqs: Vec<_> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(seqs, vec![1, 2, 3], "the respawned actor continues the conversation's sequence");
}
