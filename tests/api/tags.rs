use std::time::Duration;

use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn tags_are_created_listed_renamed_and_colored_from_the_palette() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (status, colors) = app.get("/api/v1/tags/colors", &org.token).await;
    assert_eq!(status, 200);
    assert!(colors["data"].as_array().unwrap().iter().any(|c| c["name"] == "blue" && c["hex"] == "#3B82F6"));

    let (status, vip) = app.post("/api/v1/tags", &org.token, json!({"name": "VIP", "color": "purple"})).await;
    assert_eq!(status, 201, "{vip}");
    assert_eq!(vip["data"]["hex"], "#A855F7");
    let (status, body) = app.post("/api/v1/tags", &org.token, json!({"name": "vip"})).await;
    assert_eq!(status, 409, "names are unique per org, case-insensitively: {body}");
    let (status, body) = app.post("/api/v1/tags", &org.token, json!({"name": "Billing", "color": "chartreuse"})).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("color")));
    let (status, body) = app.post("/api/v1/tags", &org.token, json!({"color": "red"})).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("name")));
    let (_, billing) = app.post("/api/v1/tags", &org.token, json!({"name": "Billing"})).await;
    assert_eq!(billing["data"]["color"], "gray");

    let id = vip["data"]["id"].as_str().unwrap();
    let (status, renamed) =
        app.put(&format!("/api/v1/tags/{id}"), &org.token, json!({"name": "Gold", "color": "amber"})).await;
    assert_eq!(status, 200);
    assert_eq!(renamed["data"]["color"], "amber");
    let (status, _) = app.put(&format!("/api/v1/tags/{id}"), &org.token, json!({"name": "billing"})).await;
    assert_eq!(status, 409);
    let (_, list) = app.get("/api/v1/tags", &org.token).await;
    let names: Vec<_> =
        list["data"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, vec!["Billing", "Gold"]);

    // One name in different cases, created at the same moment: one tag. The list orders by
    // name in any case, the same on both databases.
    let tries =
        ["urgent", "URGENT", "Urgent", "uRgEnT"].map(|n| app.post("/api/v1/tags", &org.token, json!({"name": n})));
    let mut statuses: Vec<u16> = futures_util::future::join_all(tries).await.into_iter().map(|(s, _)| s).collect();
    statuses.sort();
    assert_eq!(statuses, vec![201, 409, 409, 409]);
    app.post("/api/v1/tags", &org.token, json!({"name": "apple"})).await;
    let (_, list) = app.get("/api/v1/tags", &org.token).await;
    let names: Vec<String> =
        list["data"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_lowercase()).collect();
    assert_eq!(names, vec!["apple", "billing", "gold", "urgent"]);

    let other = app.register("Other").await;
    let (_, other_list) = app.get("/api/v1/tags", &other.token).await;
    assert!(other_list["data"].as_array().unwrap().is_empty());
    assert_eq!(app.put(&format!("/api/v1/tags/{id}"), &other.token, json!({"name": "x"})).await.0, 404);
    assert_eq!(app.delete(&format!("/api/v1/tags/{id}"), &other.token).await.0, 404);
}

#[actix_web::test]
async fn tagging_a_conversation_filters_the_list_and_deleting_the_tag_removes_it_everywhere() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let c1 = app.customer_says(&org, &account, "15558000001", "refund please").await;
    let c2 = app.customer_says(&org, &account, "15558000002", "hello").await;
    let (_, refund) = app.post("/api/v1/tags", &org.token, json!({"name": "Refund", "color": "red"})).await;
    let tag_id = refund["data"]["id"].as_str().unwrap().to_owned();
    let mut socket = app.socket(&org.token, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (status, tagged) =
        app.post(&format!("/api/v1/conversations/{c1}/tags"), &org.token, json!({"tagId": tag_id})).await;
    assert_eq!(status, 200, "{tagged}");
    assert_eq!(tagged["data"]["tags"], json!([{"id": tag_id, "name": "Refund", "color": "red"}]));
    let (status, _) = app.post(&format!("/api/v1/conversations/{c1}/tags"), &org.token, json!({"tagId": tag_id})).await;
    assert_eq!(status, 200, "adding twice changes nothing");
    assert_eq!(
        app.post(&format!("/api/v1/conversations/{c2}/tags"), &org.token, json!({"tagId": "nope"})).await.0,
        400
    );

    let event = socket.until(Duration::from_secs(3), |e| e["event"] == "conversation.updated").await.unwrap();
    assert_eq!(event.last().unwrap()["data"]["tags"][0]["name"], "Refund");

    let (_, filtered) = app.get(&format!("/api/v1/conversations?tags={tag_id}"), &org.token).await;
    let ids: Vec<_> =
        filtered["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, vec![c1.clone()]);
    let (_, one) = app.get(&format!("/api/v1/conversations/{c1}"), &org.token).await;
    assert_eq!(one["data"]["tags"][0]["id"], tag_id.as_str());

    let (status, untagged) = app.delete(&format!("/api/v1/conversations/{c1}/tags/{tag_id}"), &org.token).await;
    assert_eq!(status, 200);
    assert_eq!(untagged["data"]["tags"], json!([]));
    assert_eq!(app.delete(&format!("/api/v1/conversations/{c1}/tags/{tag_id}"), &org.token).await.0, 404);

    app.post(&format!("/api/v1/conversations/{c2}/tags"), &org.token, json!({"tagId": tag_id})).await;
    assert_eq!(app.delete(&format!("/api/v1/tags/{tag_id}"), &org.token).await.0, 204);
    let (_, after) = app.get(&format!("/api/v1/conversations/{c2}"), &org.token).await;
    assert_eq!(after["data"]["tags"], json!([]), "the delete cascaded");
    assert_eq!(app.count("conversation_tags").await, 0);
    let deleted = socket.until(Duration::from_secs(3), |e| e["event"] == "tag.deleted").await.unwrap();
    assert_eq!(deleted.last().unwrap()["data"]["conversationIds"], json!([c2]));
}
