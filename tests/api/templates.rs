//! TEMPLATES-1..15 against the fake Graph API playing Meta: Meta's rules before submission,
//! drafts, review webhooks, sync, edits and deletes at Meta, and sends (allowed outside the
//! 24-hour window, through the outbox).

use std::time::Duration;

use serde_json::{Value, json};

use super::helpers::*;

/// The WhatsApp Business Account id of a connected account.
pub(crate) async fn waba_of(app: &TestApp, org: &Org, account: &Account) -> String {
    let (_, list) = app.get("/api/v1/whatsapp-accounts", &org.token).await;
    let a = list["data"].as_array().unwrap().iter().find(|a| a["id"] == account.id.as_str()).unwrap();
    a["wabaId"].as_str().unwrap().to_owned()
}

/// An order update: a text header with one parameter, a body with two, a footer, a quick reply
/// and a URL button with a parameter.
pub(crate) fn order_update(name: &str) -> Value {
    json!({
        "name": name,
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["1042"]}},
            {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships today.", "example": {"body_text": [["Ana", "1042"]]}},
            {"type": "FOOTER", "text": "Demo Shop"},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {"type": "URL", "text": "Track", "url": "https://shop.test/t/{{1}}", "example": ["https://shop.test/t/1042"]}
            ]}
        ]
    })
}

fn order_parameters() -> Value {
    json!({"header": ["77"], "body": ["Ana", "77"], "buttons": [null, "77"]})
}

pub(crate) fn template_webhook(waba: &str, field: &str, value: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": waba, "time": chrono::Utc::now().timestamp(), "changes": [{"field": field, "value": value}]}]})
}

/// A conversation whose customer last wrote 25 hours ago.
pub(crate) async fn closed_window(app: &TestApp, org: &Org, account: &Account, wa_id: &str) -> String {
    let old = (chrono::Utc::now() - chrono::Duration::hours(25)).timestamp().to_string();
    let hook = message_webhook(
        &account.phone_number_id,
        wa_id,
        "Late",
        json!({"from": wa_id, "id": format!("wamid.old{}", unique()), "timestamp": old, "type": "text", "text": {"body": "where is my order?"}}),
    );
    app.post_webhook(&hook).await;
    app.conversation_of(org, wa_id).await
}

pub(crate) async fn approved(app: &TestApp, org: &Org, body: Value) -> Value {
    app.graph.templates(|t| t.approve_at_once = true);
    let (s, t) = app.post("/api/v1/templates", &org.token, body).await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["data"]["status"], "APPROVED", "{t}");
    t["data"].clone()
}

pub(crate) async fn wait_for_sends(app: &TestApp, n: usize) -> Vec<GraphRequest> {
    for _ in 0..100 {
        let sends = app.graph.sends();
        if sends.len() >= n {
            return sends;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the fake Graph API got {} sends, not {n}", app.graph.sends().len());
}

#[actix_web::test]
async fn an_approved_template_reaches_a_customer_whose_window_closed_and_their_reply_reopens_it() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = closed_window(&app, &org, &account, "15552220001").await;
    let (s, _) = app
        .post(&format!("/api/v1/conversations/{conv}/messages"), &org.token, json!({"type": "text", "text": "hi"}))
        .await;
    assert_eq!(s, 409);
    approved(&app, &org, order_update("order_update")).await;

    let (s, sent) = app
        .post(
            "/api/v1/templates/order_update/send",
            &org.token,
            json!({"conversationId": conv, "parameters": order_parameters()}),
        )
        .await;
    assert_eq!(s, 201, "{sent}");
    assert_eq!(sent["data"]["type"], "template");
    assert_eq!(sent["data"]["status"], "sent", "{sent}");
    assert_eq!(sent["data"]["text"], "Order 77\nHi Ana, your order 77 ships today.\nDemo Shop\n[Thanks] [Track]");
    let body = &wait_for_sends(&app, 1).await[0].body;
    assert_eq!(body["type"], "template");
    assert_eq!(body["to"], "15552220001");
    assert_eq!(body["template"]["name"], "order_update");
    assert_eq!(body["template"]["language"]["code"], "en_US");
    assert_eq!(
        body["template"]["components"],
        json!([
            {"type": "header", "parameters": [{"type": "text", "text": "77"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "77"}]},
            {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "77"}]}
        ])
    );

    // The customer answers: the window is open again for free text.
    app.post_webhook(&text_webhook(&account.phone_number_id, "15552220001", "Late", "wamid.back", "thanks!")).await;
    let (s, reply) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            json!({"type": "text", "text": "you're welcome"}),
        )
        .await;
    assert_eq!(s, 201, "{reply}");
    let sends = wait_for_sends(&app, 2).await;
    assert_eq!(sends[1].body["text"]["body"], "you're welcome");
}

#[actix_web::test]
async fn a_send_checks_its_parameters_against_the_template() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = closed_window(&app, &org, &account, "15552220002").await;
    approved(&app, &org, order_update("order_update")).await;
    let send = |params: Value| {
        let conv = conv.clone();
        let app = &app;
        let token = org.token.clone();
        async move {
            app.post(
                "/api/v1/templates/order_update/send",
                &token,
                json!({"conversationId": conv, "parameters": params}),
            )
            .await
        }
    };
    let (s, e) = send(json!({"header": ["77"], "body": ["Ana"], "buttons": [null, "77"]})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("parameters.body")), "{e}");
    let (s, e) = send(json!({"header": ["77"], "body": ["Ana", "7\n7"], "buttons": [null, "77"]})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("parameters.body[1]")), "{e}");
    let (s, e) = send(json!({"header": ["77"], "body": ["Ana", "77"]})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("parameters.buttons[1]")), "{e}");
    let (s, _) = app.post("/api/v1/templates/no_such/send", &org.token, json!({"conversationId": conv})).await;
    assert_eq!(s, 404);
    // Another organization's conversation is a 400 on the field that names it.
    let other = app.register("Other").await;
    let (s, e) = app.post("/api/v1/templates/order_update/send", &other.token, json!({"conversationId": conv})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("conversationId")), "{e}");
    assert!(app.graph.sends().is_empty());
}

#[actix_web::test]
async fn metas_rules_are_checked_before_meta_sees_a_template() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    let mut bad = order_update("Order Update");
    let (s, e) = app.post("/api/v1/templates", &org.token, bad.clone()).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("name")), "{e}");
    bad["name"] = json!("order_update");
    bad["components"][1]["example"] = json!({"body_text": [["Ana"]]});
    let (s, e) = app.post("/api/v1/templates", &org.token, bad.clone()).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("components[1].example")), "{e}");
    bad["category"] = json!("PROMO");
    let (s, e) = app.post("/api/v1/templates", &org.token, bad).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("category")), "{e}");
    assert!(app.graph.requests().iter().all(|r| !r.path.ends_with("/message_templates")));
    // Agents do not create templates.
    let (s, _) = app.get("/api/v1/templates", &org.token).await;
    assert_eq!(s, 200);
}

#[actix_web::test]
async fn a_draft_stays_local_until_submitted_and_then_only_meta_edits_apply() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    let (s, d) = app
        .post(
            "/api/v1/templates/draft",
            &org.token,
            json!({"name": "welcome", "language": "en", "category": "MARKETING"}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["data"]["status"], "DRAFT");
    let id = d["data"]["id"].as_str().unwrap().to_owned();
    // Incomplete drafts are kept; submitting one is refused with the rule it breaks.
    let (s, e) = app.post(&format!("/api/v1/templates/{id}/submit"), &org.token, json!({})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("components")), "{e}");
    let (s, d) = app
        .put(&format!("/api/v1/templates/{id}/draft"), &org.token, json!({"components": [{"type": "BODY", "text": "Welcome to {{shop}}!", "example": {"body_text_named_params": [{"param_name": "shop", "example": "Demo"}]}}]}))
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["data"]["parameterFormat"], "NAMED");
    assert_eq!(d["data"]["parameters"][0]["name"], "shop");
    assert!(app.graph.requests().iter().all(|r| !r.path.ends_with("/message_templates")));

    let (s, t) = app.post(&format!("/api/v1/templates/{id}/submit"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["data"]["status"], "PENDING");
    assert!(t["data"]["metaId"].is_string());
    let submitted = app
        .graph
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/message_templates"))
        .unwrap();
    assert_eq!(submitted.body["parameter_format"], "NAMED");
    assert_eq!(submitted.body["components"][0]["text"], "Welcome to {{shop}}!");
    let (s, _) = app.post(&format!("/api/v1/templates/{id}/submit"), &org.token, json!({})).await;
    assert_eq!(s, 409);
    let (s, _) = app.put(&format!("/api/v1/templates/{id}/draft"), &org.token, json!({"category": "UTILITY"})).await;
    assert_eq!(s, 409);
    // A pending template is not edited at Meta either.
    let (s, _) = app.put(&format!("/api/v1/templates/{id}"), &org.token, json!({"components": []})).await;
    assert_eq!(s, 409);

    let (s, copy) = app.post(&format!("/api/v1/templates/{id}/duplicate"), &org.token, json!({})).await;
    assert_eq!(s, 201, "{copy}");
    assert_eq!((copy["data"]["name"].as_str(), copy["data"]["status"].as_str()), (Some("welcome_copy"), Some("DRAFT")));
    let (_, copy2) = app.post(&format!("/api/v1/templates/{id}/duplicate"), &org.token, json!({})).await;
    assert_eq!(copy2["data"]["name"], "welcome_copy_2");
    // The same name and language twice is refused.
    let (s, _) = app
        .post(
            "/api/v1/templates/draft",
            &org.token,
            json!({"name": "welcome", "language": "en", "category": "MARKETING"}),
        )
        .await;
    assert_eq!(s, 409);

    let (s, removed) = app.delete(&format!("/api/v1/templates/{id}"), &org.token).await;
    assert_eq!((s, removed["data"]["status"].as_str()), (200, Some("REMOVED")));
    let (_, list) = app.get("/api/v1/templates", &org.token).await;
    let names: Vec<&str> = list["data"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["welcome_copy", "welcome_copy_2"]);
    assert_eq!(list["pagination"]["total"], 2);
    let (_, list) = app.get("/api/v1/templates?status=REMOVED", &org.token).await;
    assert_eq!(list["data"][0]["id"], id.as_str());
    // Once removed, the name is free again.
    let (s, _) = app
        .post(
            "/api/v1/templates/draft",
            &org.token,
            json!({"name": "welcome", "language": "en", "category": "MARKETING"}),
        )
        .await;
    assert_eq!(s, 201);
}

#[actix_web::test]
async fn metas_review_quality_and_category_webhooks_update_templates_and_are_pushed() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let waba = waba_of(&app, &org, &account).await;
    let conv = closed_window(&app, &org, &account, "15552220003").await;
    let (s, t) = app.post("/api/v1/templates", &org.token, order_update("order_update")).await;
    assert_eq!((s, t["data"]["status"].as_str()), (201, Some("PENDING")), "{t}");
    let (id, meta_id) =
        (t["data"]["id"].as_str().unwrap().to_owned(), t["data"]["metaId"].as_str().unwrap().to_owned());
    let mut socket = app.socket(&org.token, None).await;

    let review = |event: &str, reason: &str| {
        template_webhook(
            &waba,
            "message_template_status_update",
            json!({"event": event, "message_template_id": meta_id.parse::<u64>().unwrap(), "message_template_name": "order_update", "message_template_language": "en_US", "reason": reason}),
        )
    };
    let (s, _) = app.post_webhook(&review("REJECTED", "INVALID_FORMAT")).await;
    assert_eq!(s, 200);
    let events =
        socket.until(Duration::from_secs(3), |e| e["event"] == "template.status_changed").await.expect("pushed");
    let pushed = &events.last().unwrap()["data"];
    assert_eq!(pushed["template"]["status"], "REJECTED");
    assert_eq!(pushed["previous"]["status"], "PENDING");
    let (_, got) = app.get(&format!("/api/v1/templates/{id}"), &org.token).await;
    assert_eq!(
        (got["data"]["status"].as_str(), got["data"]["rejectedReason"].as_str()),
        (Some("REJECTED"), Some("INVALID_FORMAT"))
    );
    let params = json!({"conversationId": conv, "parameters": order_parameters()});
    let (s, e) = app.post("/api/v1/templates/order_update/send", &org.token, params.clone()).await;
    assert_eq!(s, 409);
    assert!(e["error"]["message"].as_str().unwrap().contains("REJECTED"), "{e}");

    app.post_webhook(&review("APPROVED", "NONE")).await;
    let (_, got) = app.get(&format!("/api/v1/templates/{id}"), &org.token).await;
    assert_eq!((got["data"]["status"].as_str(), got["data"]["rejectedReason"].as_str()), (Some("APPROVED"), None));
    let quality = template_webhook(
        &waba,
        "message_template_quality_update",
        json!({"previous_quality_score": "GREEN", "new_quality_score": "RED", "message_template_id": meta_id, "message_template_name": "order_update", "message_template_language": "en_US"}),
    );
    app.post_webhook(&quality).await;
    socket.until(Duration::from_secs(3), |e| e["event"] == "template.quality_changed").await.expect("quality pushed");
    app.post_webhook(&review("PAUSED", "NONE")).await;
    let (s, e) = app.post("/api/v1/templates/order_update/send", &org.token, params.clone()).await;
    assert_eq!(s, 409);
    assert!(e["error"]["message"].as_str().unwrap().contains("PAUSED"), "{e}");
    let (_, got) = app.get(&format!("/api/v1/templates/{id}"), &org.token).await;
    assert_eq!(got["data"]["quality"], "RED");
    app.post_webhook(&review("REINSTATED", "NONE")).await;
    let category = template_webhook(
        &waba,
        "template_category_update",
        json!({"message_template_id": meta_id, "message_template_name": "order_update", "message_template_language": "en_US", "previous_category": "UTILITY", "new_category": "MARKETING"}),
    );
    app.post_webhook(&category).await;
    let (_, got) = app.get(&format!("/api/v1/templates/{id}"), &org.token).await;
    assert_eq!(
        (got["data"]["category"].as_str(), got["data"]["previousCategory"].as_str()),
        (Some("MARKETING"), Some("UTILITY"))
    );
    let (s, sent) = app.post("/api/v1/templates/order_update/send", &org.token, params).await;
    assert_eq!(s, 201, "{sent}");
    // Another organization hears nothing of it.
    let other = app.register("Other").await;
    let (s, _) = app.get(&format!("/api/v1/templates/{id}"), &other.token).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn a_sync_reads_every_page_and_reconciles() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let waba = waba_of(&app, &org, &account).await;
    // Made here and submitted, then deleted in Meta's own tools.
    let (_, gone) = app.post("/api/v1/templates", &org.token, order_update("old_promo")).await;
    app.graph.templates(|f| {
        f.stored.retain(|(_, t)| t["name"] != "old_promo");
        f.page_size = Some(2);
        for (i, status) in ["APPROVED", "REJECTED", "PAUSED"].iter().enumerate() {
            f.stored.push((waba.clone(), json!({"id": format!("77{i}"), "name": format!("made_at_meta_{i}"), "language": "en", "status": status, "category": "MARKETING", "components": [{"type": "BODY", "text": "Hello"}], "quality_score": {"score": "GREEN"}})));
        }
    });
    let (s, r) = app.post("/api/v1/templates/sync", &org.token, json!({})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r["data"],
        json!({"accounts": 1, "created": 3, "updated": 0, "unchanged": 0, "removed": 1, "failed": []})
    );
    let pages =
        app.graph.requests().iter().filter(|r| r.method == "GET" && r.path.ends_with("/message_templates")).count();
    assert_eq!(pages, 2);
    let (_, list) = app.get("/api/v1/templates?status=PAUSED", &org.token).await;
    assert_eq!(list["data"][0]["name"], "made_at_meta_2");
    assert_eq!(list["data"][0]["quality"], "GREEN");
    let (_, got) = app.get(&format!("/api/v1/templates/{}", gone["data"]["id"].as_str().unwrap()), &org.token).await;
    assert_eq!(got["data"]["status"], "REMOVED");
    app.graph.templates(|f| f.stored[0].1["status"] = json!("APPROVED"));
    let (_, r) = app.post("/api/v1/templates/sync", &org.token, json!({})).await;
    assert_eq!((r["data"]["unchanged"].as_u64(), r["data"]["created"].as_u64()), (Some(3), Some(0)), "{r}");
}

#[actix_web::test]
async fn edits_and_deletes_go_to_meta() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    let t = approved(&app, &org, order_update("order_update")).await;
    let id = t["id"].as_str().unwrap();
    let mut components = order_update("x")["components"].clone();
    components[2]["text"] = json!("Demo Shop, Berlin");
    let (s, e) = app.put(&format!("/api/v1/templates/{id}"), &org.token, json!({"name": "renamed"})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("name")));
    let (s, edited) = app.put(&format!("/api/v1/templates/{id}"), &org.token, json!({"components": components})).await;
    assert_eq!(s, 200, "{edited}");
    assert_eq!(edited["data"]["status"], "PENDING");
    let at_meta = app.graph.templates(|f| f.stored[0].1.clone());
    assert_eq!(at_meta["components"][2]["text"], "Demo Shop, Berlin");
    let (s, removed) = app.delete(&format!("/api/v1/templates/{id}/meta"), &org.token).await;
    assert_eq!((s, removed["data"]["status"].as_str()), (200, Some("REMOVED")), "{removed}");
    assert!(app.graph.templates(|f| f.stored.is_empty()));
}

#[actix_web::test]
async fn a_send_to_a_phone_opens_its_conversation_once() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    approved(&app, &org, order_update("order_update")).await;
    let body = json!({"phone": "+1 555-222-0009", "parameters": order_parameters()});
    let send = || async {
        let res = app
            .client
            .post(app.url("/api/v1/templates/order_update/send-to-phone"))
            .bearer_auth(&org.token)
            .header("Idempotency-Key", "campaign-1-row-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        status_json(res).await
    };
    let (s, first) = send().await;
    assert_eq!(s, 201, "{first}");
    let conv = first["data"]["conversationId"].as_str().unwrap();
    assert_eq!(app.conversation_of(&org, "15552220009").await, conv);
    let (s, again) = send().await;
    assert_eq!(s, 201);
    assert_eq!(again["data"]["message"]["id"], first["data"]["message"]["id"]);
    assert_eq!(wait_for_sends(&app, 1).await.len(), 1);
    let (s, e) = app
        .post(
            "/api/v1/templates/order_update/send-to-phone",
            &org.token,
            json!({"phone": "12", "parameters": order_parameters()}),
        )
        .await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("phone")));
}

#[actix_web::test]
async fn bulk_actions_report_each_template_and_stay_in_the_organization() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    let mut ids = Vec::new();
    for name in ["a_one", "a_two"] {
        let (_, d) = app
            .post(
                "/api/v1/templates/draft",
                &org.token,
                json!({"name": name, "language": "en", "category": "MARKETING"}),
            )
            .await;
        ids.push(d["data"]["id"].as_str().unwrap().to_owned());
    }
    let other = app.register("Other").await;
    let (_, theirs) = app
        .post("/api/v1/templates/draft", &other.token, json!({"name": "b", "language": "en", "category": "MARKETING"}))
        .await;
    let (s, e) = app
        .post(
            "/api/v1/templates/bulk",
            &org.token,
            json!({"action": "delete", "selection": {"mode": "ids", "ids": [ids[0], theirs["data"]["id"]]}}),
        )
        .await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("selection.ids")), "{e}");
    // Incomplete drafts fail to submit, each with its reason.
    let (s, r) = app
        .post(
            "/api/v1/templates/bulk",
            &org.token,
            json!({"action": "submit", "selection": {"mode": "ids", "ids": ids}}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["data"]["failed"].as_array().unwrap().len(), 2);
    let (_, r) = app
        .post(
            "/api/v1/templates/bulk",
            &org.token,
            json!({"action": "delete", "selection": {"mode": "filter", "status": "DRAFT"}}),
        )
        .await;
    assert_eq!(r["data"]["succeeded"].as_array().unwrap().len(), 2, "{r}");
    let (_, list) = app.get("/api/v1/templates", &org.token).await;
    assert_eq!(list["pagination"]["total"], 0);
    let (_, list) = app.get("/api/v1/templates", &other.token).await;
    assert_eq!(list["pagination"]["total"], 1);
}

async fn upload(app: &TestApp, org: &Org, bytes: Vec<u8>, name: &str) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    let res = app
        .client
        .post(app.url("/api/v1/templates/upload-media"))
        .bearer_auth(&org.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    status_json(res).await
}

#[actix_web::test]
async fn a_media_header_is_uploaded_to_meta_kept_here_and_sent_with_the_template() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let png = [&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], &[7u8; 64][..]].concat();
    // Meta's upload belongs to the app: without its id there is nothing to upload to.
    let (s, e) = upload(&app, &org, png.clone(), "banner.png").await;
    assert_eq!(s, 409, "{e}");
    let (s, _) = app
        .put(
            "/api/v1/whatsapp-accounts/meta-config",
            &org.token,
            json!({"appId": "1234567890", "configId": "987654321"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, e) = upload(&app, &org, b"just text".to_vec(), "notes.txt").await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("file")), "{e}");
    let (s, up) = upload(&app, &org, png.clone(), "banner.png").await;
    assert_eq!(s, 201, "{up}");
    assert_eq!((up["data"]["format"].as_str(), up["data"]["mime"].as_str()), (Some("IMAGE"), Some("image/png")));
    let handle = up["data"]["handle"].as_str().unwrap().to_owned();
    let reqs = app.graph.requests();
    assert!(reqs.iter().any(|r| r.path == "/v21.0/1234567890/uploads"), "the app's upload session");
    assert!(
        reqs.iter().any(|r| r.path.starts_with("/v21.0/upload:")
            && r.authorization.as_deref().is_some_and(|a| a.starts_with("OAuth ")))
    );

    let body = json!({"name": "new_arrivals", "language": "en", "category": "MARKETING", "headerFile": up["data"]["file"], "components": [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [handle]}},
        {"type": "BODY", "text": "New arrivals are in."}
    ]});
    let t = approved(&app, &org, body).await;
    assert_eq!(
        app.graph.templates(|f| f.stored[0].1["components"][0]["example"]["header_handle"][0].clone()),
        json!(handle)
    );
    let res =
        app.client.get(app.url(t["headerMediaUrl"].as_str().unwrap())).bearer_auth(&org.token).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().to_vec(), png);

    let conv = closed_window(&app, &org, &account, "15552220011").await;
    let (s, sent) = app.post("/api/v1/templates/new_arrivals/send", &org.token, json!({"conversationId": conv})).await;
    assert_eq!(s, 201, "{sent}");
    let send = &wait_for_sends(&app, 1).await[0].body;
    let header = &send["template"]["components"][0];
    assert_eq!(header["type"], "header");
    assert!(header["parameters"][0]["image"]["id"].as_str().unwrap().starts_with("MEDUP"), "{send}");
    // The file went up as the number's media first.
    assert!(
        app.graph
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with(&format!("{}/media", account.phone_number_id)))
    );
}
