use std::time::Duration;

use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn an_agent_of_another_org_gets_404_for_everything_of_org_a_and_sees_none_of_its_events() {
    let app = spawn_app().await;
    let a = app.register("A").await;
    let b = app.register("B").await;
    let account = app.connect_account(&a).await;
    let mut b_socket = app.socket(&b.token, None).await;
    let conv = app.customer_says(&a, &account, "15553330001", "private matter").await;

    for path in [format!("/api/v1/conversations/{conv}"), format!("/api/v1/conversations/{conv}/messages")] {
        let (status, body) = app.get(&path, &b.token).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    for action in ["takeover", "resolve", "read", "assign", "unassign"] {
        let (status, _) = app.post(&format!("/api/v1/conversations/{conv}/{action}"), &b.token, json!({})).await;
        assert_eq!(status, 404, "{action}");
    }
    let (status, _) = app
        .post(&format!("/api/v1/conversations/{conv}/messages"), &b.token, json!({"type": "text", "text": "hi"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.patch(&format!("/api/v1/whatsapp-accounts/{}", account.id), &b.token, json!({"alias": "mine"})).await.0,
        404
    );
    assert_eq!(app.delete(&format!("/api/v1/whatsapp-accounts/{}", account.id), &b.token).await.0, 404);
    let (_, accounts) = app.get("/api/v1/whatsapp-accounts", &b.token).await;
    assert_eq!(accounts["data"].as_array().unwrap().len(), 0);
    let (_, list) = app.get("/api/v1/conversations", &b.token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);

    // Assigning one of A's conversations to B's user, from A: B's user is no user of A's (a 400
    // on the field that names it, never a hint that it exists elsewhere).
    let (status, e) =
        app.post(&format!("/api/v1/conversations/{conv}/assign"), &a.token, json!({"userId": b.user_id})).await;
    assert_eq!((status, e["error"]["details"]["field"].as_str()), (400, Some("userId")), "{e}");

    // B hears only its own organization: its own agents' presence, nothing of A.
    let heard = b_socket.drain(Duration::from_millis(500)).await;
    assert!(
        heard.iter().all(|e| e["event"] == "agent.presence_changed" && e["data"]["userId"] == b.user_id.as_str()),
        "{heard:?}"
    );
    assert!(app.graph.sends().is_empty());
}
