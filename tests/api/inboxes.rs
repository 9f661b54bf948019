//! Inboxes as channels: live-chat and API inboxes are created here, a WhatsApp inbox comes from
//! connecting its number; every inbox's settings are changed here; writes are admins', reads
//! every member's; another organization's inbox does not exist.

use serde_json::{Value, json};

use crate::agents::add_agent;
use crate::helpers::{TestApp, spawn_app};

fn field(body: &Value) -> Value {
    body["error"]["details"]["field"].clone()
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/inboxes", token, body).await;
    assert_eq!(status, 201, "{created}");
    created["data"].clone()
}

#[actix_web::test]
async fn an_admin_creates_lists_updates_and_deletes_inboxes_of_each_type() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let t = &org.token;
    let account = app.connect_account(&org).await;

    // Live chat: its website token and identity secret come with it.
    let chat = create(
        &app,
        t,
        json!({
            "channel": "livechat", "name": "Website", "greetingEnabled": true, "greetingMessage": "Hi there!",
            "widgetSettings": {"websiteUrl": "https://shop.example", "widgetColor": "#1F93FF", "welcomeTitle": "Hello"},
            "allowedOrigins": ["https://shop.example", "https://Shop.example/"],
            "workingHours": {"timezone": "America/New_York", "isEnabled": true, "slots": [{"day": "MON", "start": "09:00", "end": "17:00"}]},
            "csatSurveyEnabled": true,
            "csatConfig": {"displayType": "emoji", "message": "How did we do?", "surveyRule": {"operator": "contains", "values": ["resolved"]}}
        }),
    )
    .await;
    assert_eq!(chat["channel"], "livechat");
    assert_eq!(chat["status"], "active");
    assert!(chat["websiteToken"].as_str().is_some_and(|s| s.len() >= 20), "{chat}");
    assert!(chat["hmacSecret"].as_str().is_some_and(|s| s.len() >= 40), "{chat}");
    assert_eq!(chat["apiToken"], Value::Null);
    assert_eq!(chat["allowedOrigins"], json!(["https://shop.example"]));
    assert_eq!(chat["workingHours"]["timezone"], "America/New_York");
    assert_eq!(chat["workingHours"]["isEnabled"], true);
    assert_eq!(chat["csatConfig"]["surveyRule"]["values"], json!(["resolved"]));
    assert_eq!(chat["enableAutoAssignment"], true);

    // `webchat` is the live chat's other name. The API inbox's token is shown once.
    let web = create(&app, t, json!({"channel": "webchat", "name": "Help center"})).await;
    assert_eq!(web["channel"], "livechat");
    let api =
        create(&app, t, json!({"channel": "api", "name": "Our CRM", "webhookUrl": "https://crm.example/hooks"})).await;
    let token = api["apiToken"].as_str().unwrap();
    assert!(token.starts_with("cxi_") && token.starts_with(api["apiTokenPrefix"].as_str().unwrap()), "{api}");
    assert!(api["webhookSecret"].as_str().is_some_and(|s| s.len() >= 40));
    assert_eq!(api["webhookUrl"], "https://crm.example/hooks");
    assert_eq!(api["websiteToken"], Value::Null);

    // The secrets are stored encrypted and the token hashed, never in clear.
    let stored = stored_inbox(&app, api["id"].as_str().unwrap()).await;
    assert!(!stored.webhook_secret_enc.unwrap().contains(api["webhookSecret"].as_str().unwrap()));
    assert_ne!(stored.api_token_hash.as_deref(), Some(token));
    let stored = stored_inbox(&app, chat["id"].as_str().unwrap()).await;
    assert!(!stored.hmac_secret_enc.unwrap().contains(chat["hmacSecret"].as_str().unwrap()));

    // The list pages every inbox, the WhatsApp one with its number; no secrets in it.
    let (status, page) = app.get("/api/v1/inboxes?limit=2", t).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["pagination"], json!({"page": 1, "limit": 2, "total": 4, "totalPages": 2}));
    let first = &page["data"][0];
    assert_eq!(first["channel"], "whatsapp");
    assert_eq!(first["whatsappAccountId"], account.id.as_str());
    let (_, page2) = app.get("/api/v1/inboxes?page=2&limit=2", t).await;
    let all: Vec<Value> =
        page["data"].as_array().unwrap().iter().chain(page2["data"].as_array().unwrap()).cloned().collect();
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|i| i["hmacSecret"].is_null() && i["webhookSecret"].is_null()), "{all:?}");

    // Reading one as an admin shows its secrets; an agent reads it without them and may not write.
    let chat_path = format!("/api/v1/inboxes/{}", chat["id"].as_str().unwrap());
    let (status, one) = app.get(&chat_path, t).await;
    assert_eq!((status, &one["data"]["hmacSecret"]), (200, &chat["hmacSecret"]));
    let agent = add_agent(&app, &org, "Ann").await;
    let (status, seen) = app.get(&chat_path, &agent.token).await;
    assert_eq!((status, &seen["data"]["hmacSecret"]), (200, &Value::Null));
    assert_eq!(seen["data"]["websiteToken"], chat["websiteToken"]);
    assert_eq!(app.get("/api/v1/inboxes", &agent.token).await.0, 200);
    assert_eq!(app.patch(&chat_path, &agent.token, json!({"name": "Mine"})).await.0, 403);
    assert_eq!(app.post("/api/v1/inboxes", &agent.token, json!({"channel": "api", "name": "x"})).await.0, 403);
    assert_eq!(app.delete(&chat_path, &agent.token).await.0, 403);

    // Changes: kept fields stay, null clears, off turns the inbox inactive.
    let (status, changed) = app
        .patch(
            &chat_path,
            t,
            json!({"name": "Website chat", "enableAutoAssignment": false, "greetingMessage": null, "hmacMandatory": true, "enabled": false}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    let c = &changed["data"];
    assert_eq!((c["name"].as_str(), c["status"].as_str()), (Some("Website chat"), Some("inactive")));
    assert_eq!((c["enableAutoAssignment"].clone(), c["greetingMessage"].clone()), (json!(false), Value::Null));
    assert_eq!((c["hmacMandatory"].clone(), c["greetingEnabled"].clone()), (json!(true), json!(true)));
    assert_eq!(c["websiteToken"], chat["websiteToken"], "the token does not change with the settings");
    let (_, back_on) = app.patch(&chat_path, t, json!({"enabled": true, "workingHours": null})).await;
    assert_eq!((back_on["data"]["status"].as_str(), &back_on["data"]["workingHours"]), (Some("active"), &Value::Null));

    // A WhatsApp inbox's shared settings change here too; its bot config must be the org's.
    let wa_path = format!("/api/v1/inboxes/{}", first["id"].as_str().unwrap());
    let (status, wa) = app.patch(&wa_path, t, json!({"enableAutoAssignment": false, "greetingEnabled": true})).await;
    assert_eq!((status, wa["data"]["enableAutoAssignment"].clone()), (200, json!(false)), "{wa}");

    // Deleting is soft: gone from the list and the reads; the WhatsApp number is disconnected.
    let api_path = format!("/api/v1/inboxes/{}", api["id"].as_str().unwrap());
    assert_eq!(app.delete(&api_path, t).await.0, 204);
    assert_eq!(app.get(&api_path, t).await.0, 404);
    assert_eq!(app.delete(&api_path, t).await.0, 404);
    assert!(stored_inbox(&app, api["id"].as_str().unwrap()).await.deleted_at.is_some());
    assert_eq!(app.delete(&wa_path, t).await.0, 204);
    let (_, accounts) = app.get("/api/v1/whatsapp-accounts", t).await;
    assert_eq!(accounts["data"], json!([]), "the number went with its inbox");
    let (_, page) = app.get("/api/v1/inboxes", t).await;
    let left: Vec<&str> = page["data"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(left, vec!["Website chat", "Help center"]);
}

async fn stored_inbox(app: &TestApp, id: &str) -> entities::inbox::Model {
    use sea_orm::EntityTrait;
    entities::inbox::Entity::find_by_id(id.to_owned()).one(&app.db).await.unwrap().unwrap()
}

#[actix_web::test]
async fn bad_inbox_input_is_a_400_on_its_field_and_a_whatsapp_inbox_is_made_by_connecting() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let t = &org.token;
    let other = app.register("Other").await;
    let llm = crate::fake_llm::FakeLlm::start();
    let foreign = crate::bot::configure(&app, &other, &llm).await;
    let own = crate::bot::configure(&app, &org, &llm).await;

    let (status, body) = app.post("/api/v1/inboxes", t, json!({"channel": "whatsapp", "name": "WA"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("/api/v1/whatsapp-accounts/connect-manual"), "{body}");

    for (body, at) in [
        (json!({"name": "x"}), "channel"),
        (json!({"channel": "email", "name": "x"}), "channel"),
        (json!({"channel": "api"}), "name"),
        (json!({"channel": "api", "name": "  "}), "name"),
        (json!({"channel": "api", "name": "x", "allowedOrigins": ["https://a.example"]}), "allowedOrigins"),
        (json!({"channel": "livechat", "name": "x", "webhookUrl": "https://a.example"}), "webhookUrl"),
        (json!({"channel": "api", "name": "x", "webhookUrl": "not a url"}), "webhookUrl"),
        (json!({"channel": "livechat", "name": "x", "allowedOrigins": ["https://a.example/page"]}), "allowedOrigins"),
        (
            json!({"channel": "livechat", "name": "x", "widgetSettings": {"widgetColor": "blue"}}),
            "widgetSettings.widgetColor",
        ),
        (
            json!({"channel": "livechat", "name": "x", "workingHours": {"timezone": "Mars/Base"}}),
            "workingHours.timezone",
        ),
        (
            json!({"channel": "livechat", "name": "x", "workingHours": {"timezone": "UTC", "slots": [{"day": "MON", "start": "18:00", "end": "09:00"}]}}),
            "workingHours.slots[0].end",
        ),
        (json!({"channel": "livechat", "name": "x", "csatConfig": {"displayType": "stars"}}), "csatConfig.displayType"),
        (
            json!({"channel": "livechat", "name": "x", "csatConfig": {"surveyRule": {"operator": "contains", "values": []}}}),
            "csatConfig.surveyRule.values",
        ),
        (json!({"channel": "livechat", "name": "x", "botConfigId": "nope"}), "botConfigId"),
        (json!({"channel": "livechat", "name": "x", "botConfigId": foreign["data"]["id"]}), "botConfigId"),
    ] {
        let (status, answer) = app.post("/api/v1/inboxes", t, body.clone()).await;
        assert_eq!((status, field(&answer)), (400, json!(at)), "{body} -> {answer}");
    }
    let (_, page) = app.get("/api/v1/inboxes", t).await;
    assert_eq!(page["pagination"]["total"], 0, "nothing was created by a refused request");
    let chat = create(&app, t, json!({"channel": "livechat", "name": "x", "botConfigId": own["data"]["id"]})).await;
    assert_eq!(chat["botConfigId"], own["data"]["id"]);
    let (status, answer) = app.get("/api/v1/inboxes?limit=0", t).await;
    assert_eq!((status, field(&answer)), (400, json!("limit")));
}

#[actix_web::test]
async fn an_inbox_of_another_org_is_404() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let other = app.register("Other").await;
    let chat = create(&app, &org.token, json!({"channel": "livechat", "name": "Website"})).await;
    let path = format!("/api/v1/inboxes/{}", chat["id"].as_str().unwrap());
    for (status, body) in [
        app.get(&path, &other.token).await,
        app.patch(&path, &other.token, json!({"name": "Taken"})).await,
        app.delete(&path, &other.token).await,
    ] {
        assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
    }
    let (_, theirs) = app.get("/api/v1/inboxes", &other.token).await;
    assert_eq!(theirs["data"], json!([]));
    let (_, ours) = app.get(&path, &org.token).await;
    assert_eq!(ours["data"]["name"], "Website", "unchanged by the other organization");
}

/// Opens a conversation in `inbox_id` through its inbox actor, as the live-chat channel will.
async fn open_conversation(app: &TestApp, org_id: &str, inbox_id: &str, customer: &str) -> String {
    let msg = actors::inbox::ResolveConversation { wa_id: customer.into(), profile_name: None, closed: None };
    app.state.rt.ask_inbox(org_id, inbox_id, msg).await.unwrap()
}

#[actix_web::test]
async fn a_live_chat_conversation_has_no_24_hour_window_and_says_its_channel() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let wa = app.customer_says(&org, &account, "15559500001", "hi").await;
    let chat = create(&app, &org.token, json!({"channel": "livechat", "name": "Website"})).await;
    let conv = open_conversation(&app, &org.org_id, chat["id"].as_str().unwrap(), "visitor-1").await;

    let (_, view) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!((view["data"]["channel"].as_str(), &view["data"]["windowClosesAt"]), (Some("livechat"), &Value::Null));
    let (_, view) = app.get(&format!("/api/v1/conversations/{wa}"), &org.token).await;
    assert_eq!(view["data"]["channel"], "whatsapp");
    assert!(view["data"]["windowClosesAt"].is_string());
    let (_, list) = app.get("/api/v1/conversations?channel=webchat", &org.token).await;
    assert_eq!(list["data"][0]["channel"], "livechat");

    // The customer has never written, yet an agent may write: there is no window off WhatsApp.
    let (status, sent) = app
        .post(&format!("/api/v1/conversations/{conv}/messages"), &org.token, json!({"type": "text", "text": "Hello!"}))
        .await;
    assert_eq!(status, 201, "{sent}");
    // Live chat delivers through the visitor's socket: the reply is sent at once, its receipt
    // our own id, and WhatsApp is not asked.
    let last = app.messages(&org, &conv).await.pop().unwrap();
    assert_eq!(
        (last["status"].as_str(), last["providerMessageId"].as_str(), last["errorCode"].as_str()),
        (Some("sent"), last["id"].as_str(), None),
        "{last}"
    );
    assert!(app.graph.requests().iter().all(|r| !r.body.to_string().contains("Hello!")), "nothing went to WhatsApp");
}

#[actix_web::test]
async fn a_conversation_the_customer_opens_gets_the_inbox_greeting_once() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let first = app.customer_says(&org, &account, "15556660001", "hello").await;
    let (_, conv) = app.get(&format!("/api/v1/conversations/{first}"), &org.token).await;
    let inbox = conv["data"]["inboxId"].as_str().unwrap().to_owned();
    let greetings =
        |app: &TestApp| app.graph.sends().into_iter().filter(|r| r.body["text"]["body"] == "Welcome to Acme!").count();
    assert_eq!(greetings(&app), 0, "no greeting before it is turned on");

    let body = json!({"greetingEnabled": true, "greetingMessage": "Welcome to Acme!"});
    let (status, updated) = app.patch(&format!("/api/v1/inboxes/{inbox}"), &org.token, body).await;
    assert_eq!(status, 200, "{updated}");
    let second = app.customer_says(&org, &account, "15556660002", "hi").await;
    app.customer_says(&org, &account, "15556660002", "anyone there?").await;
    assert_eq!(greetings(&app), 1, "one greeting, for the first message");
    let thread = app.messages(&org, &second).await;
    let greeting = thread.iter().find(|m| m["text"] == "Welcome to Acme!").expect("the greeting is in the thread");
    assert_eq!(greeting["direction"], "outbound");
    assert_eq!(greeting["senderId"], Value::Null);
    // The greeting answers nothing: the customer still waits for a reply.
    let (_, conv) = app.get(&format!("/api/v1/conversations/{second}"), &org.token).await;
    assert_eq!(conv["data"]["awaitingReply"], true, "{conv}");
}

#[actix_web::test]
async fn an_admin_rotates_each_secret_of_its_channel_and_the_old_one_is_gone() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let t = &org.token;
    let chat = create(&app, t, json!({"channel": "livechat", "name": "Website"})).await;
    let api = create(&app, t, json!({"channel": "api", "name": "CRM"})).await;
    let (chat, api) = (&chat, &api);
    let (chat_id, api_id) = (chat["id"].as_str().unwrap(), api["id"].as_str().unwrap());
    let app = &app;
    let rotate = |id: &str, secret: &str| {
        let (path, body) = (format!("/api/v1/inboxes/{id}/rotate-secret"), json!({"secret": secret}));
        async move { app.post(&path, t, body).await }
    };

    let (status, rotated) = rotate(chat_id, "identity").await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["data"]["hmacSecret"], chat["hmacSecret"]);
    assert!(rotated["data"]["hmacSecret"].as_str().is_some_and(|s| s.len() >= 40));
    assert_eq!(rotated["data"]["websiteToken"], chat["websiteToken"], "the public token stays");
    let (_, read) = app.get(&format!("/api/v1/inboxes/{chat_id}"), t).await;
    assert_eq!(read["data"]["hmacSecret"], rotated["data"]["hmacSecret"]);

    let (status, rotated) = rotate(api_id, "webhook").await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["data"]["webhookSecret"], api["webhookSecret"]);
    assert_eq!(rotated["data"]["apiToken"], Value::Null, "no token unless asked");
    let (status, rotated) = rotate(api_id, "apiToken").await;
    assert_eq!(status, 200, "{rotated}");
    let token = rotated["data"]["apiToken"].as_str().unwrap();
    assert!(token.starts_with("cxi_") && token != api["apiToken"].as_str().unwrap());
    let stored = stored_inbox(app, api_id).await;
    assert_ne!(stored.api_token_hash.as_deref(), Some(token), "kept hashed");
    assert_eq!(stored.api_token_prefix.as_deref(), rotated["data"]["apiTokenPrefix"].as_str());

    // A secret of another channel, an unknown one, an agent, another organization.
    let (status, body) = rotate(chat_id, "apiToken").await;
    assert_eq!((status, field(&body)), (400, json!("secret")), "{body}");
    let (status, body) = rotate(api_id, "password").await;
    assert_eq!((status, field(&body)), (400, json!("secret")), "{body}");
    let agent = add_agent(app, &org, "Ann").await;
    let path = format!("/api/v1/inboxes/{api_id}/rotate-secret");
    assert_eq!(app.post(&path, &agent.token, json!({"secret": "webhook"})).await.0, 403);
    let other = app.register("Globex").await;
    assert_eq!(app.post(&path, &other.token, json!({"secret": "webhook"})).await.0, 404);
}
