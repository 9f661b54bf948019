use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn contacts_are_listed_searched_and_paged() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    for (wa, name) in [("15559100001", "Alice"), ("15559100002", "Bob"), ("15559100003", "Alina")] {
        let hook = crate::helpers::text_webhook(&account.phone_number_id, wa, name, &format!("wamid.{wa}"), "hi");
        app.post_webhook(&hook).await;
    }
    let (status, all) = app.get("/api/v1/contacts", &org.token).await;
    assert_eq!(status, 200);
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    let (_, ali) = app.get("/api/v1/contacts?search=Ali", &org.token).await;
    let names: Vec<_> =
        ali["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, vec!["Alina", "Alice"]);
    // Any case, on both databases; `%` and `_` are plain characters.
    let (_, lower) = app.get("/api/v1/contacts?search=aLI", &org.token).await;
    assert_eq!(lower["data"].as_array().unwrap().len(), 2, "{lower}");
    let (_, pct) = app.get("/api/v1/contacts?search=%25", &org.token).await;
    assert_eq!(pct["data"], json!([]), "{pct}");
    let (_, under) = app.get("/api/v1/contacts?search=B_b", &org.token).await;
    assert_eq!(under["data"], json!([]), "{under}");
    let (_, by_phone) = app.get("/api/v1/contacts?search=%2B1%20555%209100002", &org.token).await;
    assert_eq!(by_phone["data"][0]["name"], "Bob");

    let (_, p1) = app.get("/api/v1/contacts?limit=2", &org.token).await;
    assert_eq!(p1["data"].as_array().unwrap().len(), 2);
    let (_, p2) =
        app.get(&format!("/api/v1/contacts?limit=2&cursor={}", p1["nextCursor"].as_str().unwrap()), &org.token).await;
    assert_eq!(p2["data"][0]["name"], "Alice");
    assert!(p2["nextCursor"].is_null());
    assert_eq!(app.get("/api/v1/contacts?cursor=bad", &org.token).await.0, 400);

    let other = app.register("Other").await;
    let (_, none) = app.get("/api/v1/contacts", &other.token).await;
    assert!(none["data"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn a_contact_is_read_and_updated_by_whatsapp_id() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15559100004", "hello").await;
    let (status, c) = app.get("/api/v1/contacts/15559100004", &org.token).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["data"]["waId"], "15559100004");
    assert_eq!(c["data"]["conversationCount"], 1);
    assert_eq!(c["data"]["latestConversationId"], conv.as_str());
    assert_eq!(app.get("/api/v1/contacts/+15559100004", &org.token).await.0, 200);

    let mut socket = app.socket(&org.token, None).await;
    let (status, updated) =
        app.patch("/api/v1/contacts/15559100004", &org.token, json!({"name": "Dana Q.", "category": "vip"})).await;
    // The conversation's next event carries the contact as it is now.
    let (s, _) = app
        .post(&format!("/api/v1/conversations/{conv}/messages"), &org.token, json!({"type": "text", "text": "hi Dana"}))
        .await;
    assert_eq!(s, 201);
    let seen = socket
        .until(std::time::Duration::from_secs(3), |e| e["event"] == "message.created")
        .await
        .expect("the reply's event");
    assert_eq!(seen.last().unwrap()["data"]["conversation"]["contact"]["name"], "Dana Q.", "{:?}", seen.last());
    assert_eq!(status, 200);
    assert_eq!(updated["data"]["name"], "Dana Q.");
    assert_eq!(updated["data"]["category"], "vip");
    let (status, body) =
        app.patch("/api/v1/contacts/15559100004", &org.token, json!({"category": "x".repeat(51)})).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("category")));

    // The customer changes their WhatsApp name: the name the agent gave stays.
    let hook = crate::helpers::text_webhook(&account.phone_number_id, "15559100004", "D", "wamid.dana.2", "again");
    app.post_webhook(&hook).await;
    let (_, c) = app.get("/api/v1/contacts/15559100004", &org.token).await;
    assert_eq!((c["data"]["name"].as_str(), c["data"]["profileName"].as_str()), (Some("Dana Q."), Some("D")), "{c}");
    // Clearing the name goes back to following the profile name.
    let (_, cleared) = app.patch("/api/v1/contacts/15559100004", &org.token, json!({"name": ""})).await;
    assert_eq!(cleared["data"]["name"], "D", "{cleared}");
    let hook = crate::helpers::text_webhook(&account.phone_number_id, "15559100004", "Dana", "wamid.dana.3", "hi");
    app.post_webhook(&hook).await;
    assert_eq!(app.get("/api/v1/contacts/15559100004", &org.token).await.1["data"]["name"], "Dana");
    // A contact nobody renamed follows its profile name.
    let hook = crate::helpers::text_webhook(&account.phone_number_id, "15559100009", "Eve", "wamid.eve.1", "hi");
    app.post_webhook(&hook).await;
    let mut socket = app.socket(&org.token, None).await;
    let hook = crate::helpers::text_webhook(&account.phone_number_id, "15559100009", "Eve R.", "wamid.eve.2", "hi");
    app.post_webhook(&hook).await;
    let (_, c) = app.get("/api/v1/contacts/15559100009", &org.token).await;
    assert_eq!(c["data"]["name"], "Eve R.", "{c}");
    let seen = socket
        .until(std::time::Duration::from_secs(3), |e| e["event"] == "contact.updated")
        .await
        .expect("the new profile name is announced");
    assert_eq!(seen.last().unwrap()["data"]["profileName"], "Eve R.");

    assert_eq!(app.get("/api/v1/contacts/15550000000", &org.token).await.0, 404);
    let other = app.register("Other").await;
    assert_eq!(app.get("/api/v1/contacts/15559100004", &other.token).await.0, 404);
    assert_eq!(app.patch("/api/v1/contacts/15559100004", &other.token, json!({"name": "x"})).await.0, 404);
}
