use std::time::Duration;

use serde_json::json;

use crate::helpers::{spawn_app, text_webhook, unique};

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

#[actix_web::test]
async fn a_deleted_tag_never_comes_back_on_conversations_whose_actors_were_live() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let phones = ["15558100001", "15558100002", "15558100003"];
    let mut convs = Vec::new();
    for p in phones {
        convs.push(app.customer_says(&org, &account, p, "hello").await);
    }
    let (_, vip) = app.post("/api/v1/tags", &org.token, json!({"name": "VIP", "color": "purple"})).await;
    let (_, keep) = app.post("/api/v1/tags", &org.token, json!({"name": "Keep"})).await;
    let (vip, keep) = (vip["data"]["id"].as_str().unwrap().to_owned(), keep["data"]["id"].as_str().unwrap().to_owned());
    for c in &convs {
        for t in [&vip, &keep] {
            let (status, _) =
                app.post(&format!("/api/v1/conversations/{c}/tags"), &org.token, json!({"tagId": t})).await;
            assert_eq!(status, 200);
        }
    }
    let mut socket = app.socket(&org.token, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    assert_eq!(app.delete(&format!("/api/v1/tags/{vip}"), &org.token).await.0, 204);
    // Each conversation's actor took it off and said so, keeping the other tag.
    let updates = socket.until_count(Duration::from_secs(5), "conversation.updated", convs.len()).await.unwrap();
    let mut updated: Vec<String> = updates
        .iter()
        .filter(|e| e["event"] == "conversation.updated")
        .map(|e| {
            assert_eq!(e["data"]["tags"], json!([{"id": keep, "name": "Keep", "color": "gray"}]), "{e}");
            e["data"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    updated.sort();
    let mut want = convs.clone();
    want.sort();
    assert_eq!(updated, want);

    // A customer message and an agent edit on each: the tag stays gone.
    for (c, p) in convs.iter().zip(phones) {
        let hook = text_webhook(&account.phone_number_id, p, "Customer", &format!("wamid.{}", unique()), "again");
        assert_eq!(app.post_webhook(&hook).await.0, 200);
        let (status, edited) =
            app.patch(&format!("/api/v1/conversations/{c}"), &org.token, json!({"category": "vip"})).await;
        assert_eq!(status, 200, "{edited}");
        let (_, one) = app.get(&format!("/api/v1/conversations/{c}"), &org.token).await;
        assert_eq!(one["data"]["tags"], json!([{"id": keep, "name": "Keep", "color": "gray"}]));
        // And it cannot be put back.
        let (status, _) = app.post(&format!("/api/v1/conversations/{c}/tags"), &org.token, json!({"tagId": vip})).await;
        assert_eq!(status, 400);
    }
    let (_, list) = app.get("/api/v1/conversations", &org.token).await;
    for c in list["data"].as_array().unwrap() {
        assert!(c["tags"].as_array().unwrap().iter().all(|t| t["id"] != vip.as_str()), "{c}");
    }
    assert_eq!(app.count("conversation_tags").await, 3, "only the kept tag's links are left");
}
