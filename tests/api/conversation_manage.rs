use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn patch_sets_status_assignee_and_category_and_refuses_what_the_state_machine_refuses() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15559200001", "my invoice is wrong").await;
    let path = format!("/api/v1/conversations/{conv}");

    let (status, body) = app.patch(&path, &org.token, json!({"status": "HUMAN_HANDLING"})).await;
    assert_eq!(status, 409, "nobody is assigned: {body}");
    let (status, c) = app.patch(&path, &org.token, json!({"assignedTo": org.user_id, "category": "billing"})).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["data"]["status"], "HUMAN_HANDLING");
    assert_eq!(c["data"]["category"], "billing");
    let (_, c) = app.patch(&path, &org.token, json!({"category": null})).await;
    assert!(c["data"]["category"].is_null());
    let (_, c) = app.patch(&path, &org.token, json!({"assignedTo": null})).await;
    assert!(c["data"]["assignedTo"].is_null());
    assert_eq!(c["data"]["status"], "OPEN");
    let (status, c) = app.patch(&path, &org.token, json!({"status": "CLOSED"})).await;
    assert_eq!(status, 200);
    assert_eq!(c["data"]["status"], "CLOSED");
    let (status, _) = app.patch(&path, &org.token, json!({"status": "WAITING_FOR_CUSTOMER"})).await;
    assert_eq!(status, 409);
    let (status, c) = app.patch(&path, &org.token, json!({"status": "OPEN"})).await;
    assert_eq!(status, 200, "a closed conversation reopens");
    assert!(c["data"]["closedAt"].is_null());

    let (status, body) = app.patch(&path, &org.token, json!({"status": "NAPPING"})).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("status")));
    let (status, body) = app.patch(&path, &org.token, json!({"assignedTo": "ghost"})).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("assignedTo")));
    let other = app.register("Other").await;
    assert_eq!(app.patch(&path, &other.token, json!({"category": "x"})).await.0, 404);

    // Reopening is refused when the customer already has a newer open conversation.
    app.patch(&path, &org.token, json!({"status": "CLOSED"})).await;
    let newer = app.customer_says(&org, &account, "15559200001", "hello again").await;
    assert_ne!(newer, conv);
    let (status, body) = app.patch(&path, &org.token, json!({"status": "OPEN"})).await;
    assert_eq!(status, 409, "{body}");
}

#[actix_web::test]
async fn follow_up_marks_are_set_and_cleared() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15559200002", "call me tomorrow").await;
    let (status, c) =
        app.post(&format!("/api/v1/conversations/{conv}/follow-up"), &org.token, json!({"note": "call at 10"})).await;
    assert_eq!(status, 200);
    assert_eq!(c["data"]["followUpNote"], "call at 10");
    assert_eq!(c["data"]["followUpBy"], org.user_id.as_str());
    assert!(c["data"]["followUpAt"].is_string());
    let (status, c) = app.delete(&format!("/api/v1/conversations/{conv}/follow-up"), &org.token).await;
    assert_eq!(status, 200);
    assert!(c["data"]["followUpAt"].is_null());
    assert_eq!(app.post("/api/v1/conversations/nope/follow-up", &org.token, json!({})).await.0, 404);
}

#[actix_web::test]
async fn return_to_bot_carries_the_summary_and_the_preview_needs_no_model() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15559200003", "Where is order 1042?").await;
    app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
    app.post(
        &format!("/api/v1/conversations/{conv}/messages"),
        &org.token,
        json!({"type": "text", "text": "Checking now"}),
    )
    .await;
    app.customer_says(&org, &account, "15559200003", "Thanks, and can I change the address?").await;

    let (status, preview) =
        app.post(&format!("/api/v1/conversations/{conv}/generate-handoff-summary"), &org.token, json!({})).await;
    assert_eq!(status, 200, "{preview}");
    let summary = preview["data"]["summary"].as_str().unwrap();
    assert!(summary.contains("Customer: Where is order 1042?"), "{summary}");
    assert!(summary.contains("Agent: Checking now"), "{summary}");
    assert!(summary.contains("Waiting on a reply to: Thanks, and can I change the address?"), "{summary}");
    assert_eq!(preview["data"]["messageCount"], 3);

    let (status, c) = app
        .post(
            &format!("/api/v1/conversations/{conv}/return-to-bot"),
            &org.token,
            json!({"handoffSummary": "Order 1042 ships Monday; wants an address change."}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["data"]["status"], "BOT_HANDLING");
    assert!(c["data"]["assignedTo"].is_null());
    assert_eq!(c["data"]["handoffSummary"], "Order 1042 ships Monday; wants an address change.");
    let (status, _) = app.post(&format!("/api/v1/conversations/{conv}/return-to-bot"), &org.token, json!({})).await;
    assert_eq!(status, 409, "the bot already has it");
}

#[actix_web::test]
async fn categories_counts_and_contact_history() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let a = app.customer_says(&org, &account, "15559200004", "one").await;
    let b = app.customer_says(&org, &account, "15559200005", "two").await;
    app.patch(
        &format!("/api/v1/conversations/{a}"),
        &org.token,
        json!({"category": "billing", "assignedTo": org.user_id}),
    )
    .await;
    app.patch(&format!("/api/v1/conversations/{b}"), &org.token, json!({"category": "billing"})).await;
    for bad in ["OPEN,CLOSED", ""] {
        let (s, e) = app.patch(&format!("/api/v1/conversations/{b}"), &org.token, json!({"status": bad})).await;
        assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("status")), "{bad:?}: {e}");
    }
    let (_, cats) = app.get("/api/v1/conversations/categories", &org.token).await;
    assert_eq!(cats["data"], json!([{"category": "billing", "count": 2}]));

    let (status, counts) = app.get("/api/v1/conversations/counts", &org.token).await;
    assert_eq!(status, 200);
    assert_eq!(counts["data"], json!({"all": 2, "unread": 2, "needsAction": 1}));
    app.post(&format!("/api/v1/conversations/{a}/read"), &org.token, json!({})).await;
    let (_, mine) = app.get("/api/v1/conversations/counts?assignedTo=me", &org.token).await;
    assert_eq!(mine["data"], json!({"all": 1, "unread": 0, "needsAction": 1}));
    let (_, unassigned) = app.get("/api/v1/conversations/counts?assignedTo=unassigned", &org.token).await;
    assert_eq!(unassigned["data"]["all"], 1);
    assert_eq!(app.get("/api/v1/conversations/counts?status=NOPE", &org.token).await.0, 400);

    app.post(&format!("/api/v1/conversations/{a}/resolve"), &org.token, json!({})).await;
    let again = app.customer_says(&org, &account, "15559200004", "me again").await;
    let (status, history) = app.get(&format!("/api/v1/conversations/{again}/contact-history"), &org.token).await;
    assert_eq!(status, 200);
    let ids: Vec<_> =
        history["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, vec![a]);
    let other = app.register("Other").await;
    assert_eq!(app.get(&format!("/api/v1/conversations/{again}/contact-history"), &other.token).await.0, 404);
}

#[actix_web::test]
async fn patch_moves_a_conversation_to_a_team_whose_online_agent_then_gets_it() {
    let app = spawn_app().await;
    let org = app.register("Teams").await;
    let other = app.register("Other").await;
    let account = app.connect_account(&org).await;
    let (_, team) = app.post("/api/v1/teams", &org.token, json!({"name": "Billing"})).await;
    let team = team["data"]["id"].as_str().unwrap().to_owned();
    let (_, foreign) = app.post("/api/v1/teams", &other.token, json!({"name": "Theirs"})).await;
    let (s, _) = app.put("/api/v1/config/bot-enabled", &org.token, json!({"enabled": false})).await;
    assert_eq!(s, 200);
    let conv = app.customer_says(&org, &account, "15559200077", "hello").await;
    let path = format!("/api/v1/conversations/{conv}");

    let (s, e) = app.patch(&path, &org.token, json!({"teamId": foreign["data"]["id"]})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("teamId")), "{e}");
    let (s, c) = app.patch(&path, &org.token, json!({"teamId": team})).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["data"]["teamId"], team.as_str());
    assert!(c["data"]["assignedTo"].is_null());

    // The team's member comes online: the queued conversation is theirs.
    let (s, b) = app
        .post(&format!("/api/v1/teams/{team}/members"), &org.token, json!({"userId": org.user_id, "role": "MEMBER"}))
        .await;
    assert_eq!(s, 201, "{b}");
    let _socket = app.socket(&org.token, None).await;
    let mut assigned = false;
    for _ in 0..50 {
        let (_, c) = app.get(&path, &org.token).await;
        if c["data"]["assignedTo"] == org.user_id.as_str() {
            assigned = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(assigned, "the team's online agent got the conversation");

    let (s, c) = app.patch(&path, &org.token, json!({"teamId": null})).await;
    assert_eq!(s, 200, "{c}");
    assert!(c["data"]["teamId"].is_null());
}
