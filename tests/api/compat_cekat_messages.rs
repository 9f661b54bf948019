//! The classic Messages API (seed 001, Cekat style), driven as the seed's curl and JavaScript
//! examples do: `Authorization: Bearer YOUR_API_KEY`, snake_case bodies, `{success, data}`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{Account, Org, TestApp, spawn_app, status_webhook};

/// An API key of the organization (the seed's `YOUR_API_KEY`).
pub async fn api_key(app: &TestApp, org: &Org) -> String {
    let (status, created) = app.post("/api/v1/api-keys", &org.token, json!({"name": "Cekat client"})).await;
    assert_eq!(status, 201, "{created}");
    created["data"]["key"].as_str().unwrap().to_owned()
}

/// The inbox of a connected WhatsApp number.
async fn inbox_of(app: &TestApp, org: &Org, account: &Account) -> String {
    let (status, list) = app.get("/api/v1/whatsapp-accounts", &org.token).await;
    assert_eq!(status, 200, "{list}");
    let found = list["data"].as_array().unwrap().iter().find(|a| a["id"] == account.id.as_str()).cloned();
    found.unwrap()["inboxId"].as_str().unwrap().to_owned()
}

/// `POST /messages/whatsapp` as the seed's curl sends it.
async fn send(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/messages/whatsapp"))
        .header("Authorization", format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    crate::helpers::status_json(res).await
}

pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().cloned().collect()
}

pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// `2025-03-27T15:30:00Z`: UTC to the second.
fn is_seed_time(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 20 && s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok() && !s.contains('.')
    })
}

/// A refusal in the Cekat shape, with its code.
pub fn assert_cekat_error(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert_eq!(keys(body), set(&["success", "error"]), "{body}");
}

struct World {
    app: TestApp,
    org: Org,
    account: Account,
    key: String,
    inbox: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let key = api_key(&app, &org).await;
    let inbox = inbox_of(&app, &org, &account).await;
    World { app, org, account, key, inbox }
}

#[actix_web::test]
async fn the_seed_send_text_answers_message_id_status_to_timestamp_and_sends_the_cloud_api_body() {
    let World { app, org, account, key, inbox } = world().await;
    let conv = app.customer_says(&org, &account, "62812345678", "Hi, I need help with my order").await;

    // The seed's curl, with a real inbox id.
    let (status, result) = send(
        &app,
        &key,
        json!({"inbox_id": inbox, "to": "+62812345678", "type": "text",
               "content": {"text": "Hello! How can we help you today?"}}),
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(keys(&result), set(&["success", "data"]));
    assert_eq!(result["success"], true);
    let data = &result["data"];
    assert_eq!(keys(data), set(&["message_id", "status", "to", "timestamp"]));
    assert_eq!(data["status"], "sent");
    assert_eq!(data["to"], "+62812345678");
    assert!(is_seed_time(&data["timestamp"]), "{data}");
    let message_id = data["message_id"].as_str().unwrap();

    let sends = app.graph.sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].path, format!("/v21.0/{}/messages", account.phone_number_id));
    assert_eq!(
        sends[0].body,
        json!({
            "biz_opaque_callback_data": message_id,
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "62812345678",
            "type": "text",
            "text": {"preview_url": false, "body": "Hello! How can we help you today?"}
        })
    );
    // It went through the conversation like an agent's reply: the API key's creator took it.
    let thread = app.messages(&org, &conv).await;
    let last = thread.last().unwrap();
    assert_eq!((last["id"].as_str(), last["senderId"].as_str()), (Some(message_id), Some(org.user_id.as_str())));

    // The seed's JavaScript: sendMessage(inboxId, to, message), then result.data.message_id.
    let send_message = |inbox_id: String, to: &'static str, message: &'static str| {
        let (app, key) = (&app, &key);
        async move {
            send(app, key, json!({"inbox_id": inbox_id, "to": to, "type": "text", "content": {"text": message}})).await
        }
    };
    let (status, result) = send_message(inbox.clone(), "+62812345678", "Hello! Thank you for contacting us.").await;
    assert_eq!(status, 200, "{result}");
    let second = result["data"]["message_id"].as_str().unwrap();
    assert_ne!(second, message_id);
    assert_eq!(app.graph.sends()[1].body["text"]["body"], "Hello! Thank you for contacting us.");
}

#[actix_web::test]
async fn each_media_type_and_reply_to_reach_the_graph_api_in_its_shape() {
    let World { app, org, account, key, inbox } = world().await;
    let conv = app.customer_says(&org, &account, "62811110001", "Where is my parcel?").await;
    let inbound = app.messages(&org, &conv).await[0].clone();
    let (inbound_id, wamid) = (inbound["id"].as_str().unwrap(), inbound["providerMessageId"].as_str().unwrap());

    let cases = [
        (
            json!({"type": "image", "content": {"url": "https://cdn.example.com/p.jpg", "caption": "Your parcel"}, "reply_to": inbound_id}),
            json!({"type": "image", "image": {"link": "https://cdn.example.com/p.jpg", "caption": "Your parcel"},
                   "context": {"message_id": wamid}}),
        ),
        (
            json!({"type": "video", "content": {"url": "https://cdn.example.com/v.mp4", "caption": "How to"}}),
            json!({"type": "video", "video": {"link": "https://cdn.example.com/v.mp4", "caption": "How to"}}),
        ),
        (
            json!({"type": "document", "content": {"url": "https://cdn.example.com/i.pdf", "caption": "Invoice", "filename": "invoice.pdf"}}),
            json!({"type": "document", "document": {"link": "https://cdn.example.com/i.pdf", "caption": "Invoice", "filename": "invoice.pdf"}}),
        ),
        (
            json!({"type": "audio", "content": {"url": "https://cdn.example.com/a.ogg"}}),
            json!({"type": "audio", "audio": {"link": "https://cdn.example.com/a.ogg"}}),
        ),
        (
            json!({"type": "text", "content": {"text": "See above"}, "reply_to": inbound_id}),
            json!({"type": "text", "text": {"preview_url": false, "body": "See above"}, "context": {"message_id": wamid}}),
        ),
    ];
    for (i, (request, wanted)) in cases.into_iter().enumerate() {
        let mut body = request.clone();
        body["inbox_id"] = json!(inbox);
        body["to"] = json!("+62811110001");
        let (status, result) = send(&app, &key, body).await;
        assert_eq!(status, 200, "{request}: {result}");
        assert_eq!(result["data"]["status"], "sent", "{result}");
        let mut expected = json!({
            "biz_opaque_callback_data": result["data"]["message_id"],
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "62811110001",
        });
        for (k, v) in wanted.as_object().unwrap() {
            expected[k] = v.clone();
        }
        assert_eq!(app.graph.sends()[i].body, expected, "{request}");
    }
    // The file sent by link reads back with its link; the quoted message is named.
    let (status, image) = app
        .get(&format!("/messages/{}", app.graph.sends()[0].body["biz_opaque_callback_data"].as_str().unwrap()), &key)
        .await;
    assert_eq!(status, 200, "{image}");
    assert_eq!(image["data"]["type"], "image");
    assert_eq!(image["data"]["content"]["url"], "https://cdn.example.com/p.jpg");
    assert_eq!(image["data"]["content"]["caption"], "Your parcel");

    // What WhatsApp would not take is refused before anything is sent, naming the field.
    let sent_before = app.graph.sends().len();
    for (body, field) in [
        (json!({"type": "image", "content": {"url": "ftp://x/y.jpg"}}), "content.url"),
        (json!({"type": "image", "content": {}}), "content.url"),
        (json!({"type": "audio", "content": {"url": "https://x.example/a.ogg", "caption": "no"}}), "content.caption"),
        (json!({"type": "text", "content": {"text": ""}}), "content.text"),
        (json!({"type": "text", "content": {"text": "x".repeat(4097)}}), "content.text"),
        (json!({"type": "sticker", "content": {"url": "https://x.example/s.webp"}}), "type"),
        (json!({"type": "text", "content": {"text": "hi"}, "reply_to": actors::new_id()}), ""),
    ] {
        let mut body = body;
        body["inbox_id"] = json!(inbox);
        body["to"] = json!("+62811110001");
        let (status, answer) = send(&app, &key, body.clone()).await;
        if field.is_empty() {
            assert_cekat_error(status, &answer, 404, "not_found");
        } else {
            assert_cekat_error(status, &answer, 400, "validation_error");
            assert_eq!(answer["error"]["details"]["field"], field, "{body}: {answer}");
        }
    }
    assert_eq!(app.graph.sends().len(), sent_before);
}

#[actix_web::test]
async fn list_pages_back_with_before_and_has_more_in_the_seed_shape() {
    let World { app, org, account, key, .. } = world().await;
    let conv = app.customer_says(&org, &account, "62812345678", "Hi, I need help with my order").await;
    app.customer_says(&org, &account, "62812345678", "Order 42").await;
    let (s, _) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            json!({"type": "text", "text": "Hello! I'd be happy to help."}),
        )
        .await;
    assert_eq!(s, 201);
    app.customer_says(&org, &account, "62812345678", "Thanks").await;
    let (s, _) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            json!({"type": "text", "text": "It ships today"}),
        )
        .await;
    assert_eq!(s, 201);
    let all: Vec<String> =
        app.messages(&org, &conv).await.iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(all.len(), 5);

    // The seed's curl: GET /messages?conversation_id=…&limit=50.
    let (status, page) = app.get(&format!("/messages?conversation_id={conv}&limit=50"), &key).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(keys(&page), set(&["success", "data", "pagination"]));
    assert_eq!(page["success"], true);
    assert_eq!(page["pagination"], json!({"has_more": false, "before": null}));
    let items = page["data"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, all.iter().map(String::as_str).collect::<Vec<_>>(), "chronological");
    let first = &items[0];
    assert_eq!(keys(first), set(&["id", "conversation_id", "direction", "type", "content", "sender", "timestamp"]));
    assert_eq!(first["conversation_id"], conv.as_str());
    assert_eq!(first["direction"], "inbound");
    assert_eq!(first["type"], "text");
    assert_eq!(first["content"], json!({"text": "Hi, I need help with my order"}));
    assert_eq!(first["sender"], json!({"name": "Customer", "phone": "+62812345678"}));
    assert!(is_seed_time(&first["timestamp"]));
    let reply = &items[2];
    assert_eq!(reply["direction"], "outbound");
    assert_eq!(reply["content"], json!({"text": "Hello! I'd be happy to help."}));
    assert_eq!(keys(&reply["sender"]), set(&["name", "user_id"]));
    assert_eq!(reply["sender"]["user_id"], org.user_id.as_str());
    assert!(reply["sender"]["name"].as_str().unwrap().starts_with("Admin "), "{reply}");

    // Two at a time, back in time with `before`.
    let (_, p1) = app.get(&format!("/messages?conversation_id={conv}&limit=2"), &key).await;
    let ids1: Vec<&str> = p1["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids1, vec![all[3].as_str(), all[4].as_str()]);
    assert_eq!(p1["pagination"], json!({"has_more": true, "before": all[3]}));
    let (_, p2) = app.get(&format!("/messages?conversation_id={conv}&limit=2&before={}", all[3]), &key).await;
    let ids2: Vec<&str> = p2["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids2, vec![all[1].as_str(), all[2].as_str()]);
    assert_eq!(p2["pagination"], json!({"has_more": true, "before": all[1]}));
    let (_, p3) = app.get(&format!("/messages?conversation_id={conv}&limit=2&before={}", all[1]), &key).await;
    assert_eq!(p3["data"].as_array().unwrap().len(), 1);
    assert_eq!(p3["pagination"], json!({"has_more": false, "before": null}));

    // Bad queries name the parameter.
    for (query, field) in [
        ("limit=10".to_owned(), "conversation_id"),
        (format!("conversation_id={conv}&limit=101"), "limit"),
        (format!("conversation_id={conv}&limit=0"), "limit"),
        (format!("conversation_id={conv}&limit=many"), "limit"),
        (format!("conversation_id={conv}&before={}", actors::new_id()), "before"),
    ] {
        let (status, answer) = app.get(&format!("/messages?{query}"), &key).await;
        assert_cekat_error(status, &answer, 400, "validation_error");
        assert_eq!(answer["error"]["details"]["field"], field, "{query}: {answer}");
    }
}

#[actix_web::test]
async fn get_one_shows_delivered_at_and_read_at_after_status_webhooks() {
    let World { app, org, account, key, inbox } = world().await;
    app.customer_says(&org, &account, "62812345678", "hello").await;
    let (_, sent) = send(
        &app,
        &key,
        json!({"inbox_id": inbox, "to": "+62812345678", "type": "text", "content": {"text": "Your order has been shipped!"}}),
    )
    .await;
    let id = sent["data"]["message_id"].as_str().unwrap();
    let (status, one) = app.get(&format!("/messages/{id}"), &key).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["data"]["status"], "sent");
    assert_eq!((&one["data"]["delivered_at"], &one["data"]["read_at"]), (&Value::Null, &Value::Null));

    let wamid = app.graph.sends()[0].body["biz_opaque_callback_data"].clone();
    assert_eq!(wamid, json!(id));
    let provider_id =
        app.messages(&org, &app.conversation_of(&org, "62812345678").await).await.last().unwrap()["providerMessageId"]
            .as_str()
            .unwrap()
            .to_owned();
    for s in ["delivered", "read"] {
        let (status, _) =
            app.post_webhook(&status_webhook(&account.phone_number_id, &provider_id, "62812345678", s, None)).await;
        assert_eq!(status, 200);
    }

    // The seed's curl: GET /messages/{id}.
    let (status, one) = app.get(&format!("/messages/{id}"), &key).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(keys(&one), set(&["success", "data"]));
    let m = &one["data"];
    assert_eq!(
        keys(m),
        set(&[
            "id",
            "conversation_id",
            "direction",
            "type",
            "status",
            "content",
            "sender",
            "recipient",
            "timestamp",
            "delivered_at",
            "read_at"
        ])
    );
    assert_eq!(m["status"], "read");
    assert_eq!(m["direction"], "outbound");
    assert_eq!(m["content"], json!({"text": "Your order has been shipped!"}));
    assert_eq!(m["sender"]["user_id"], org.user_id.as_str());
    assert_eq!(m["recipient"], json!({"phone": "+62812345678"}));
    assert!(is_seed_time(&m["timestamp"]) && is_seed_time(&m["delivered_at"]) && is_seed_time(&m["read_at"]), "{m}");
}

#[actix_web::test]
async fn conversations_delete_removes_both_with_their_messages_and_reports_them() {
    let World { app, org, account, key, .. } = world().await;
    let c1 = app.customer_says(&org, &account, "62810000001", "one").await;
    let c2 = app.customer_says(&org, &account, "62810000002", "two").await;
    let keep = app.customer_says(&org, &account, "62810000003", "three").await;

    // The seed's curl.
    let res = app
        .client
        .post(app.url("/v1/backoffice/conversations-delete"))
        .header("Authorization", format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .body(json!({"conversation_ids": [c1, c2]}).to_string())
        .send()
        .await
        .unwrap();
    let (status, deleted) = crate::helpers::status_json(res).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted, json!({"success": true, "data": {"deleted": 2, "conversation_ids": [c1, c2]}}));

    for gone in [&c1, &c2] {
        let (status, answer) = app.get(&format!("/messages?conversation_id={gone}"), &key).await;
        assert_cekat_error(status, &answer, 404, "not_found");
        assert_eq!(app.get(&format!("/api/v1/conversations/{gone}"), &org.token).await.0, 404);
    }
    assert_eq!(app.get(&format!("/messages?conversation_id={keep}"), &key).await.0, 200);
    assert_eq!(app.count("messages").await, 1, "their messages went with them");

    // Unknown fields, an empty list and an agent are refused; nothing is deleted.
    let (status, answer) =
        app.post("/v1/backoffice/conversations-delete", &key, json!({"conversation_ids": [keep], "all": true})).await;
    assert_cekat_error(status, &answer, 400, "validation_error");
    assert_eq!(answer["error"]["details"]["field"], "all");
    let (status, answer) = app.post("/v1/backoffice/conversations-delete", &key, json!({"conversation_ids": []})).await;
    assert_cekat_error(status, &answer, 400, "validation_error");
    assert_eq!(answer["error"]["details"]["field"], "conversation_ids");
    let (status, agent) = app.post("/api/v1/api-keys", &org.token, json!({"name": "agent key", "role": "AGENT"})).await;
    assert_eq!(status, 201, "{agent}");
    let agent_key = agent["data"]["key"].as_str().unwrap();
    let (status, answer) =
        app.post("/v1/backoffice/conversations-delete", agent_key, json!({"conversation_ids": [keep]})).await;
    assert_cekat_error(status, &answer, 403, "forbidden");
    assert_eq!(app.get(&format!("/messages?conversation_id={keep}"), &key).await.0, 200);
}

#[actix_web::test]
async fn a_closed_window_is_409_in_the_cekat_shape() {
    let World { app, key, inbox, .. } = world().await;
    // Nobody at this number ever wrote: only a template could reach them.
    let (status, answer) = send(
        &app,
        &key,
        json!({"inbox_id": inbox, "to": "+62899999999", "type": "text", "content": {"text": "Hello!"}}),
    )
    .await;
    assert_cekat_error(status, &answer, 409, "conflict");
    assert!(answer["error"]["message"].as_str().unwrap().contains("24-hour"), "{answer}");
    assert!(app.graph.sends().is_empty());
}

#[actix_web::test]
async fn another_organizations_ids_are_404_in_the_cekat_shape() {
    let World { app, org, account, key, inbox } = world().await;
    let conv = app.customer_says(&org, &account, "62812345678", "mine").await;
    let theirs = app.register("Other").await;
    let their_account = app.connect_account(&theirs).await;
    let their_inbox = inbox_of(&app, &theirs, &their_account).await;
    let their_conv = app.customer_says(&theirs, &their_account, "62812345679", "theirs").await;
    let their_message = app.messages(&theirs, &their_conv).await[0]["id"].as_str().unwrap().to_owned();

    let (s, a) = send(
        &app,
        &key,
        json!({"inbox_id": their_inbox, "to": "+62812345679", "type": "text", "content": {"text": "hi"}}),
    )
    .await;
    assert_cekat_error(s, &a, 404, "not_found");
    let (s, a) = send(
        &app,
        &key,
        json!({"inbox_id": inbox, "to": "+62812345678", "type": "text", "content": {"text": "hi"}, "reply_to": their_message}),
    )
    .await;
    assert_cekat_error(s, &a, 404, "not_found");
    let (s, a) = app.get(&format!("/messages?conversation_id={their_conv}"), &key).await;
    assert_cekat_error(s, &a, 404, "not_found");
    let (s, a) = app.get(&format!("/messages/{their_message}"), &key).await;
    assert_cekat_error(s, &a, 404, "not_found");
    let (s, a) =
        app.post("/v1/backoffice/conversations-delete", &key, json!({"conversation_ids": [conv, their_conv]})).await;
    assert_cekat_error(s, &a, 404, "not_found");
    // Nothing was deleted, of either.
    assert_eq!(app.get(&format!("/messages?conversation_id={conv}"), &key).await.0, 200);
    assert_eq!(app.messages(&theirs, &their_conv).await.len(), 1);
    assert!(app.graph.sends().is_empty());
}

#[actix_web::test]
async fn unauthenticated_and_malformed_requests_are_refused_in_the_cekat_shape() {
    let World { app, key, inbox, .. } = world().await;
    let id = actors::new_id();
    for (method, path) in [
        ("POST", "/messages/whatsapp".to_owned()),
        ("GET", format!("/messages?conversation_id={id}")),
        ("GET", format!("/messages/{id}")),
        ("POST", "/v1/backoffice/conversations-delete".to_owned()),
    ] {
        for auth in [None, Some("Bearer cxk_not-a-key"), Some("Basic abc")] {
            let mut req = app.client.request(method.parse().unwrap(), app.url(&path)).json(&json!({}));
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            let (status, answer) = crate::helpers::status_json(req.send().await.unwrap()).await;
            assert_cekat_error(status, &answer, 401, "unauthorized");
        }
    }
    // Not JSON, a missing field, a number that is not one.
    let res = app
        .client
        .post(app.url("/messages/whatsapp"))
        .bearer_auth(&key)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, answer) = crate::helpers::status_json(res).await;
    assert_cekat_error(status, &answer, 400, "validation_error");
    for (body, field) in [
        (json!({"to": "+62812345678", "type": "text", "content": {"text": "x"}}), "inbox_id"),
        (json!({"inbox_id": inbox, "type": "text", "content": {"text": "x"}}), "to"),
        (json!({"inbox_id": inbox, "to": "12", "type": "text", "content": {"text": "x"}}), "to"),
        (json!({"inbox_id": inbox, "to": "+62812345678", "content": {"text": "x"}}), "type"),
        (json!({"inbox_id": inbox, "to": "+62812345678", "type": "text"}), "content"),
    ] {
        let (status, answer) = send(&app, &key, body.clone()).await;
        assert_cekat_error(status, &answer, 400, "validation_error");
        assert_eq!(answer["error"]["details"]["field"], field, "{body}: {answer}");
    }
    // An unknown path there is a JSON 404, not the agent app.
    let (status, answer) = app.get("/v1/backoffice/nothing-here", &key).await;
    assert_eq!(status, 404, "{answer}");
}

#[actix_web::test]
async fn every_cekat_route_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let (status, spec) = app.get("/api/v1/openapi.json", "").await;
    assert_eq!(status, 200);
    for (method, path) in [
        ("post", "/messages/whatsapp"),
        ("get", "/messages"),
        ("get", "/messages/{id}"),
        ("post", "/v1/backoffice/conversations-delete"),
    ] {
        let op = &spec["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        assert_eq!(op["tags"], json!(["compat-cekat"]), "{method} {path}");
        assert_eq!(op["security"], json!([{"bearer": []}]), "{method} {path}");
        for status in ["401", "404"] {
            if path == "/messages/whatsapp" || path.starts_with("/messages") || status == "401" {
                let schema = &op["responses"][status]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/CekatErrorBody", "{method} {path} {status}");
            }
        }
    }
}
