//! The AI bot end to end: a real server, the fake Graph API and a fake OpenAI-compatible
//! provider.

use std::time::Duration;

use serde_json::{Value, json};

use crate::agents::eventually;
use crate::fake_llm::FakeLlm;
use crate::helpers::{Account, Org, TestApp, spawn_app_with, unique};

pub struct Bot {
    pub app: TestApp,
    pub llm: FakeLlm,
    pub org: Org,
    pub account: Account,
}

/// A server whose organization has an active bot config on the fake provider.
pub async fn bot_setup() -> Bot {
    let app = spawn_app_with(|c| c.bot_debounce_ms = 300).await;
    let llm = FakeLlm::start();
    let org = app.register("Bot Co").await;
    let account = app.connect_account(&org).await;
    configure(&app, &org, &llm).await;
    Bot { app, llm, org, account }
}

/// Gives `org` an active config on the fake provider.
pub async fn configure(app: &TestApp, org: &Org, llm: &FakeLlm) -> Value {
    let (s, c) = app
        .put(
            "/api/v1/bot-config",
            &org.token,
            json!({"name": "Main", "provider": "OPENAI", "model": "fake-chat", "baseUrl": llm.url, "apiKey": "sk-test-abcdefgh1234"}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["data"]["status"], "ACTIVE");
    c
}

/// Uploads a document and waits until it is indexed; answers the document.
pub async fn upload(app: &TestApp, org: &Org, name: &str, mime: &str, text: &str) -> Value {
    let part =
        reqwest::multipart::Part::bytes(text.as_bytes().to_vec()).file_name(name.to_owned()).mime_str(mime).unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/bot-config/documents"))
        .bearer_auth(&org.token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let (s, doc) = crate::helpers::status_json(res).await;
    assert_eq!(s, 202, "{doc}");
    let id = doc["data"]["id"].as_str().unwrap().to_owned();
    let mut last = Value::Null;
    for _ in 0..100 {
        let (_, st) = app.get(&format!("/api/v1/bot-config/documents/{id}/status"), &org.token).await;
        if st["data"]["status"] != "PROCESSING" {
            return st["data"].clone();
        }
        last = st;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("document never processed: {last}");
}

const REFUNDS: &str = "Refunds are accepted within 30 days of purchase. Bring the receipt to any store.\n\n\
    Our stores open at nine in the morning on weekdays.";

fn texts_sent(app: &TestApp) -> Vec<String> {
    app.graph.sends().iter().filter_map(|r| r.body["text"]["body"].as_str().map(str::to_owned)).collect()
}

#[actix_web::test]
async fn two_quick_messages_get_one_bot_reply_grounded_in_the_uploaded_document() {
    let Bot { app, llm, org, account } = bot_setup().await;
    let doc = upload(&app, &org, "refunds.md", "text/markdown", REFUNDS).await;
    assert_eq!(doc["status"], "READY", "{doc}");
    let (_, chunks) =
        app.get(&format!("/api/v1/bot-config/documents/{}/chunks", doc["id"].as_str().unwrap()), &org.token).await;
    let chunk_id = chunks["data"][0]["id"].as_str().unwrap().to_owned();

    let wa = format!("34{}", unique());
    app.customer_says(&org, &account, &wa, "Hello there").await;
    let conv = app.customer_says(&org, &account, &wa, "How do refunds work?").await;

    assert!(eventually(Duration::from_secs(5), || async { !texts_sent(&app).is_empty() }).await, "no bot reply");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let sent = texts_sent(&app);
    assert_eq!(sent, vec!["From our docs: Refunds are accepted within 30 days of purchase".to_owned()], "one reply");
    let chats = llm.chats();
    assert_eq!(chats.len(), 1, "one model call answers both messages");
    let asked: Vec<String> = chats[0]["body"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        asked.contains(&"Hello there".to_owned()) && asked.contains(&"How do refunds work?".to_owned()),
        "{asked:?}"
    );
    assert_eq!(chats[0]["authorization"], "Bearer sk-test-abcdefgh1234");

    // The reply is an outbound message of the conversation, and the conversation stays the bot's.
    let messages = app.messages(&org, &conv).await;
    let last = messages.last().unwrap();
    assert_eq!(last["direction"], "outbound");
    assert_eq!(last["text"], "From our docs: Refunds are accepted within 30 days of purchase");
    let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!(c["data"]["status"], "BOT_HANDLING");

    // The turn's trace names the passage it used, and links the reply.
    let (s, traces) = app.get("/api/v1/bot-config/metrics/traces", &org.token).await;
    assert_eq!(s, 200, "{traces}");
    let trace = traces["data"]["recent"].as_array().unwrap().iter().find(|t| t["kind"] == "TURN").cloned().unwrap();
    let (s, detail) =
        app.get(&format!("/api/v1/bot-config/metrics/traces/{}", trace["id"].as_str().unwrap()), &org.token).await;
    assert_eq!(s, 200, "{detail}");
    assert_eq!(detail["data"]["conversationId"], conv.as_str());
    assert_eq!(detail["data"]["chunkIds"][0], chunk_id.as_str());
    assert_eq!(detail["data"]["messageId"], last["id"]);
    assert!(detail["data"]["steps"].as_array().unwrap().iter().any(|s| s["kind"] == "retrieval"));
}

#[actix_web::test]
async fn a_takeover_while_the_model_is_slow_means_the_bot_reply_is_never_sent() {
    let Bot { app, llm, org, account } = bot_setup().await;
    llm.slow_down(Duration::from_millis(1500));
    let wa = format!("34{}", unique());
    let conv = app.customer_says(&org, &account, &wa, "Is anyone there?").await;
    assert!(eventually(Duration::from_secs(3), || async { !llm.chats().is_empty() }).await, "the turn never started");

    let (s, body) = app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(texts_sent(&app).is_empty(), "the bot talked over the human: {:?}", texts_sent(&app));
    let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!(c["data"]["status"], "HUMAN_HANDLING");
    assert!(app.messages(&org, &conv).await.iter().all(|m| m["direction"] != "outbound"));
}

#[actix_web::test]
async fn a_handoff_decision_opens_the_conversation_for_its_team_with_the_summary() {
    let Bot { app, org, account, .. } = bot_setup().await;
    let (s, team) = app.post("/api/v1/teams", &org.token, json!({"name": "Billing"})).await;
    assert_eq!(s, 201, "{team}");
    let team_id = team["data"]["id"].as_str().unwrap().to_owned();
    let rule = json!({"name": "refunds", "teamId": team_id, "conditions": [{"field": "message", "operator": "contains", "value": "refund"}]});
    let (s, body) = app.post("/api/v1/routing-rules", &org.token, rule).await;
    assert_eq!(s, 201, "{body}");

    let wa = format!("34{}", unique());
    let conv = app.customer_says(&org, &account, &wa, "HANDOFF please, I need my refund").await;
    let status = || async {
        let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
        c["data"].clone()
    };
    assert!(
        eventually(Duration::from_secs(5), || async { status().await["status"] == "OPEN" }).await,
        "{}",
        status().await
    );
    let c = status().await;
    assert_eq!(c["teamId"], team_id.as_str());
    assert!(c["assignedTo"].is_null());
    assert_eq!(c["handoffSummary"], "Customer asks for a refund of order 42");
    assert_eq!(texts_sent(&app), vec!["Let me connect you with a member of our team.".to_owned()]);
    let messages = app.messages(&org, &conv).await;
    assert!(
        messages.iter().any(|m| m["direction"] == "system"
            && m["text"].as_str().unwrap_or_default().contains("the customer wants a refund")),
        "{messages:?}"
    );
    // The bot session ended as escalated.
    let (_, sessions) = app.get("/api/v1/bot-config/metrics/sessions?closureType=ESCALATED", &org.token).await;
    assert_eq!(sessions["data"][0]["conversationId"], conv.as_str(), "{sessions}");
}

#[actix_web::test]
async fn a_tool_pointed_at_loopback_or_metadata_addresses_is_refused_unless_allowed() {
    let Bot { app, llm, org, .. } = bot_setup().await;
    let tool = |url: &str, allowed: Value| {
        json!({"name": format!("t{}", unique()), "description": "Looks up an order", "method": "GET", "url": url,
               "parameters": [{"name": "orderId", "type": "string", "required": true}], "allowedHosts": allowed})
    };
    for url in [
        "http://127.0.0.1:9/orders/{orderId}",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/x",
        "http://[::1]/x",
    ] {
        let (s, body) = app.post("/api/v1/tools", &org.token, tool(url, json!([]))).await;
        assert_eq!(s, 400, "{url}: {body}");
        assert_eq!(body["error"]["details"]["field"], "url", "{body}");
    }
    // Allowed explicitly: saved, and the call goes through (to the fake provider's model list).
    let models_url = format!("{}/models?order={{orderId}}", llm.url);
    let (s, created) = app.post("/api/v1/tools", &org.token, tool(&models_url, json!(["127.0.0.1"]))).await;
    assert_eq!(s, 201, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let (s, result) =
        app.post(&format!("/api/v1/tools/{id}/test"), &org.token, json!({"params": {"orderId": "42"}})).await;
    assert_eq!(s, 200, "{result}");
    assert_eq!(result["data"]["ok"], true, "{result}");
    assert_eq!(result["data"]["body"]["data"][0]["id"], "fake-chat");
    // Taking the permission away again is refused too.
    let (s, body) = app.put(&format!("/api/v1/tools/{id}"), &org.token, json!({"allowedHosts": []})).await;
    assert_eq!(s, 400, "{body}");
}
