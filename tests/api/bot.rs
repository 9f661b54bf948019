//! The AI bot end to end: a real server, the fake Graph API and a fake OpenAI-compatible
//! provider.

use std::time::Duration;

use serde_json::{Value, json};

use crate::agents::eventually;
use crate::fake_llm::FakeLlm;
use crate::helpers::{Account, Org, Scripted, TestApp, spawn_app, spawn_app_with, unique};

pub struct Bot {
    pub app: TestApp,
    pub llm: FakeLlm,
    pub org: Org,
    pub account: Account,
}

/// A server whose organization has an active bot config on the fake provider.
pub async fn bot_setup() -> Bot {
    bot_setup_with(|_| {}).await
}

pub async fn bot_setup_with(tweak: impl FnOnce(&mut cx_inbox::config::Config)) -> Bot {
    let app = spawn_app_with(|c| {
        c.bot_debounce_ms = 300;
        // The fake provider listens on loopback: the operator allows it.
        c.llm_private_hosts = vec!["127.0.0.1".into()];
        tweak(c);
    })
    .await;
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
    upload_bytes(app, org, name, mime, text.as_bytes().to_vec()).await
}

#[actix_web::test]
async fn a_document_deleted_while_it_is_processed_leaves_no_passages() {
    let Bot { app, llm, org, .. } = bot_setup().await;
    let t = &org.token;
    let (s, body) = app.put("/api/v1/bot-config", t, json!({"embeddingModel": "fake-embed"})).await;
    assert_eq!(s, 200, "{body}");
    llm.slow_down(Duration::from_millis(800));
    let (s, doc) = post_file(
        &app,
        t,
        "/api/v1/bot-config/documents",
        "warranty.txt",
        "text/plain",
        b"The warranty lasts two years.".to_vec(),
    )
    .await;
    assert_eq!((s, doc["data"]["status"].as_str()), (202, Some("PROCESSING")), "{doc}");
    let (s, _) = app.delete(&format!("/api/v1/bot-config/documents/{}", doc["data"]["id"].as_str().unwrap()), t).await;
    assert_eq!(s, 204);
    // The embeddings arrive after the delete: nothing of the document may stay retrievable.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (s, rag) = app.post("/api/v1/bot-config/test-rag", t, json!({"query": "how long is the warranty"})).await;
    assert_eq!(s, 200, "{rag}");
    assert_eq!(rag["data"]["hits"], json!([]), "{rag}");
}

/// POSTs one file as the multipart field `file`; answers the status and the JSON body.
pub async fn post_file(app: &TestApp, token: &str, path: &str, name: &str, mime: &str, bytes: Vec<u8>) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()).mime_str(mime).unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let res = app.client.post(app.url(path)).bearer_auth(token).multipart(form).send().await.unwrap();
    crate::helpers::status_json(res).await
}

/// Uploads a file and waits until it is processed (READY or FAILED); answers the document.
pub async fn upload_bytes(app: &TestApp, org: &Org, name: &str, mime: &str, bytes: Vec<u8>) -> Value {
    let (s, doc) = post_file(app, &org.token, "/api/v1/bot-config/documents", name, mime, bytes).await;
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
async fn a_message_sent_while_the_bot_is_answering_gets_its_own_answer() {
    let Bot { app, llm, org, account } = bot_setup().await;
    llm.slow_down(Duration::from_millis(2000));
    let wa = format!("34{}", unique());
    let conv = app.customer_says(&org, &account, &wa, "Do you sell lamps?").await;
    assert!(eventually(Duration::from_secs(3), || async { !llm.chats().is_empty() }).await, "the turn never started");
    // The model has the lamps question; the customer writes again before it answers.
    app.customer_says(&org, &account, &wa, "And chairs?").await;

    let answered = eventually(Duration::from_secs(10), || async { texts_sent(&app).len() >= 2 }).await;
    assert!(answered, "only {:?} was sent: the second question was never answered", texts_sent(&app));
    assert_eq!(texts_sent(&app), vec!["Echo: Do you sell lamps?".to_owned(), "Echo: And chairs?".to_owned()]);
    // The second turn read the lamps answer before the chairs question, and ends on it.
    let chats = llm.chats();
    let second = chats[1]["body"]["messages"].as_array().unwrap();
    let turns: Vec<(&str, &str)> =
        second.iter().skip(1).map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap())).collect();
    assert_eq!(
        turns,
        vec![("user", "Do you sell lamps?"), ("assistant", "Echo: Do you sell lamps?"), ("user", "And chairs?")],
        "{second:?}"
    );
    let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!(
        (c["data"]["status"].as_str(), c["data"]["awaitingReply"].as_bool()),
        (Some("BOT_HANDLING"), Some(false))
    );
    // Nothing is left over for a third turn.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(llm.chats().len(), 2);
    assert_eq!(texts_sent(&app).len(), 2);
}

#[actix_web::test]
async fn a_bot_reply_waiting_for_a_retry_is_withdrawn_when_a_human_takes_over() {
    let Bot { app, org, account, .. } = bot_setup_with(|c| {
        c.outbox_backoff_ms = 600;
        c.outbox_poll_ms = 50;
    })
    .await;
    let busy = json!({"error": {"message": "Service temporarily unavailable", "code": 2}});
    app.graph.script(vec![Scripted { status: 503, body: busy }]);
    let conv = app.customer_says(&org, &account, &format!("34{}", unique()), "Hello there").await;
    let pending_reply = || async {
        app.messages(&org, &conv).await.into_iter().find(|m| m["direction"] == "outbound" && m["status"] == "pending")
    };
    assert!(eventually(Duration::from_secs(5), || async { pending_reply().await.is_some() }).await, "no bot reply");
    let bot_reply = pending_reply().await.unwrap();

    let (s, body) = app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{body}");
    let (s, mine) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            json!({"type": "text", "text": "Ann here, hi!"}),
        )
        .await;
    assert_eq!((s, mine["data"]["status"].as_str()), (201, Some("sent")), "{mine}");
    // Well past the bot reply's retry time: WhatsApp got the first failed attempt and the
    // agent's message, and nothing else.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.graph.accepted_sends(), 1);
    assert_eq!(texts_sent(&app).last().map(String::as_str), Some("Ann here, hi!"));
    assert_eq!(texts_sent(&app).len(), 2, "{:?}", texts_sent(&app));
    let withdrawn = app.messages(&org, &conv).await.into_iter().find(|m| m["id"] == bot_reply["id"]).unwrap();
    assert_eq!((withdrawn["status"].as_str(), withdrawn["errorCode"].as_str()), (Some("failed"), Some("withdrawn")));
    let (s, e) = app
        .post(&format!("/api/v1/messages/{}/retry-send", bot_reply["id"].as_str().unwrap()), &org.token, json!({}))
        .await;
    assert_eq!(s, 409, "{e}");
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

async fn sandbox(app: &TestApp, org: &Org, message: &str) -> Value {
    let (s, out) = app.post("/api/v1/bot-config/test-sandbox", &org.token, json!({"message": message})).await;
    assert_eq!(s, 200, "{out}");
    out["data"].clone()
}

#[actix_web::test]
async fn a_zip_export_imported_into_another_organization_answers_the_same() {
    let Bot { app, llm, org, .. } = bot_setup().await;
    upload(&app, &org, "refunds.md", "text/markdown", REFUNDS).await;
    let (s, _) = app
        .post(
            "/api/v1/bot-config/intents",
            &org.token,
            json!({"name": "hours", "examples": ["opening hours"], "action": "REPLY", "response": "We open at nine."}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .post("/api/v1/tools", &org.token, json!({"name": "order_status", "description": "Order status", "url": "https://shop.example.com/orders/{orderId}", "secret": "s3cr3t"}))
        .await;
    assert_eq!(s, 201);
    let before_refund = sandbox(&app, &org, "How do refunds work?").await;
    let before_hours = sandbox(&app, &org, "What are your opening hours?").await;
    assert_eq!(before_hours["decision"]["text"], "We open at nine.");

    let res = app
        .client
        .get(app.url("/api/v1/bot-config/export-zip?tier=full"))
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let zip = res.bytes().await.unwrap().to_vec();
    assert!(zip.starts_with(b"PK"));
    assert!(!String::from_utf8_lossy(&zip).contains("s3cr3t"), "secrets never leave");

    let other = app.register("Other Co").await;
    let part = reqwest::multipart::Part::bytes(zip).file_name("bot.zip").mime_str("application/zip").unwrap();
    let form = reqwest::multipart::Form::new().part("file", part).text("activate", "true");
    let res = app
        .client
        .post(app.url("/api/v1/bot-config/import"))
        .bearer_auth(&other.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (s, imported) = crate::helpers::status_json(res).await;
    assert_eq!(s, 201, "{imported}");
    assert_eq!(imported["data"]["documents"], 1);
    assert_eq!(imported["data"]["tools"], 1);
    assert_eq!(imported["data"]["intents"], 1);
    assert_eq!(imported["data"]["config"]["status"], "ACTIVE");
    assert_eq!(imported["data"]["config"]["hasApiKey"], false);
    // Wait for the imported document to be indexed.
    assert!(
        eventually(Duration::from_secs(5), || async {
            let (_, docs) = app.get("/api/v1/bot-config/documents", &other.token).await;
            docs["data"][0]["status"] == "READY"
        })
        .await
    );
    let after_refund = sandbox(&app, &other, "How do refunds work?").await;
    let after_hours = sandbox(&app, &other, "What are your opening hours?").await;
    // Passage ids differ between organizations; the answer does not.
    assert_eq!(after_refund["decision"]["action"], "reply");
    assert_eq!(after_refund["decision"]["text"], before_refund["decision"]["text"]);
    assert_eq!(after_refund["chunks"][0]["text"], before_refund["chunks"][0]["text"]);
    assert_eq!(after_hours["decision"], before_hours["decision"]);
    // The imported tool is the other organization's, without the secret.
    let (_, tools) = app.get("/api/v1/tools", &other.token).await;
    assert_eq!(tools["data"][0]["name"], "order_status");
    assert_eq!(tools["data"][0]["hasSecret"], false);
    assert!(llm.chats().len() >= 2);

    // A hand-edited JSON bundle gets the API's checks: a second tool of one name, a tool with a
    // bad method or a private target, and a REPLY intent without a response are left out.
    let (s, mut bundle) = app.get("/api/v1/bot-config/export?tier=full", &org.token).await;
    assert_eq!(s, 200, "{bundle}");
    let tool = bundle["tools"][0].clone();
    let with = |k: &str, v: Value| {
        let mut t = tool.clone();
        t[k] = v;
        t
    };
    bundle["tools"] =
        json!([tool.clone(), tool.clone(), with("method", json!("TRACE")), with("name", json!("metadata")),]);
    bundle["tools"][2]["name"] = json!("tracer");
    bundle["tools"][3]["url"] = json!("http://169.254.169.254/latest");
    bundle["intents"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "broken", "examples": [], "action": "REPLY", "isActive": true}));
    let third = app.register("Third Co").await;
    let bytes = serde_json::to_vec(&bundle).unwrap();
    let (s, imported) =
        post_file(&app, &third.token, "/api/v1/bot-config/import", "bot.json", "application/json", bytes).await;
    assert_eq!(s, 201, "{imported}");
    assert_eq!(
        (imported["data"]["tools"].as_u64(), imported["data"]["intents"].as_u64()),
        (Some(1), Some(1)),
        "{imported}"
    );
    let warnings = imported["data"]["warnings"].to_string();
    for expected in ["already has a tool of that name", "method must be", "169.254.169.254", "needs a response"] {
        assert!(warnings.contains(expected), "{expected}: {warnings}");
    }
    let (_, tools) = app.get("/api/v1/tools", &third.token).await;
    assert_eq!(tools["data"].as_array().unwrap().len(), 1, "{tools}");
}

#[actix_web::test]
async fn the_api_key_is_masked_on_read_and_revealed_only_when_asked_for() {
    let Bot { app, org, .. } = bot_setup().await;
    let (_, active) = app.get("/api/v1/bot-config", &org.token).await;
    assert_eq!(active["data"]["apiKey"], "••••1234", "masked on read");
    let (s, key) = app.get("/api/v1/bot-config/reveal-key", &org.token).await;
    assert_eq!((s, key["data"]["apiKey"].as_str()), (200, Some("sk-test-abcdefgh1234")));
}

#[actix_web::test]
async fn a_config_with_bad_input_is_refused_naming_the_field() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let (s, e) = app.post("/api/v1/bot-config", t, json!({"name": "X", "temperature": 5})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("temperature")));
    let (s, e) = app.post("/api/v1/bot-config", t, json!({"name": "X", "bogus": 1})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("bogus")));
    let (s, e) = app.post("/api/v1/bot-config", t, json!({"name": ""})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("name")));
}

/// Creates the DRAFT config "Draft" (prompt "You are terse.") with the intent "greet"; answers
/// its id.
async fn draft_with_greeting(app: &TestApp, org: &Org) -> String {
    let t = &org.token;
    let (s, draft) =
        app.post("/api/v1/bot-config", t, json!({"name": "Draft", "systemPrompt": "You are terse."})).await;
    assert_eq!(s, 201, "{draft}");
    assert_eq!(draft["data"]["status"], "DRAFT");
    let draft_id = draft["data"]["id"].as_str().unwrap().to_owned();
    let greet =
        json!({"configId": draft_id, "name": "greet", "examples": ["hello"], "action": "REPLY", "response": "Hi!"});
    let (s, _) = app.post("/api/v1/bot-config/intents", t, greet).await;
    assert_eq!(s, 201);
    draft_id
}

/// Activates the config `id`.
async fn activate(app: &TestApp, org: &Org, id: &str) {
    let (s, act) = app.put(&format!("/api/v1/bot-config/{id}/activate"), &org.token, json!({})).await;
    assert_eq!((s, act["data"]["status"].as_str()), (200, Some("ACTIVE")));
}

/// Saves a snapshot of the active config; answers its id.
async fn snapshot(app: &TestApp, org: &Org, name: &str) -> String {
    let (s, snap) = app.post("/api/v1/bot-config/snapshots", &org.token, json!({"name": name})).await;
    assert_eq!(s, 201, "{snap}");
    snap["data"]["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_duplicated_draft_is_a_deep_copy_with_its_intents_listed_after_the_active_config() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let (_, active) = app.get("/api/v1/bot-config", t).await;
    let active_id = active["data"]["id"].as_str().unwrap().to_owned();
    let draft_id = draft_with_greeting(&app, &org).await;
    let (s, dup) = app.post(&format!("/api/v1/bot-config/{draft_id}/duplicate"), t, json!({})).await;
    assert_eq!(s, 201, "{dup}");
    assert_eq!(dup["data"]["name"], "Draft (copy)");
    assert_eq!(dup["data"]["intentCount"], 1, "deep copy with intents");
    let (_, list) = app.get("/api/v1/bot-config/list", t).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    assert_eq!(list["data"][0]["id"], active_id.as_str(), "the active one first");
}

#[actix_web::test]
async fn one_config_is_active_at_a_time_and_only_drafts_can_be_deleted() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let (_, active) = app.get("/api/v1/bot-config", t).await;
    let active_id = active["data"]["id"].as_str().unwrap().to_owned();
    let draft_id = draft_with_greeting(&app, &org).await;
    let (s, dup) = app.post(&format!("/api/v1/bot-config/{draft_id}/duplicate"), t, json!({})).await;
    assert_eq!(s, 201, "{dup}");
    activate(&app, &org, &draft_id).await;
    let (_, old) = app.get(&format!("/api/v1/bot-config?configId={active_id}"), t).await;
    assert_eq!(old["data"]["status"], "DRAFT");
    let (s, _) = app.delete(&format!("/api/v1/bot-config/{draft_id}"), t).await;
    assert_eq!(s, 409);
    let (s, _) = app.delete(&format!("/api/v1/bot-config/{}", dup["data"]["id"].as_str().unwrap()), t).await;
    assert_eq!(s, 204);
}

#[actix_web::test]
async fn a_changed_prompt_is_a_new_version_and_the_previous_one_can_be_brought_back() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    activate(&app, &org, &draft_with_greeting(&app, &org).await).await;
    let (s, _) = app.put("/api/v1/bot-config", t, json!({"systemPrompt": "You are chatty."})).await;
    assert_eq!(s, 200);
    let (_, versions) = app.get("/api/v1/bot-config/prompt-versions", t).await;
    let v = versions["data"].as_array().unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!((v[0]["version"].as_i64(), v[0]["current"].as_bool()), (Some(2), Some(true)));
    let first = v[1]["id"].as_str().unwrap();
    let (s, rolled) = app.post(&format!("/api/v1/bot-config/prompt-versions/{first}/activate"), t, json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(rolled["data"]["settings"]["systemPrompt"], "You are terse.");
    assert_eq!(rolled["data"]["promptVersion"], 1);
}

#[actix_web::test]
async fn a_snapshot_restores_the_settings_and_intents_it_was_taken_with() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    activate(&app, &org, &draft_with_greeting(&app, &org).await).await;
    let snap_id = snapshot(&app, &org, "before").await;
    app.put("/api/v1/bot-config", t, json!({"systemPrompt": "Changed.", "topK": 9})).await;
    let (_, intents) = app.get("/api/v1/bot-config/intents", t).await;
    app.delete(&format!("/api/v1/bot-config/intents/{}", intents["data"][0]["id"].as_str().unwrap()), t).await;
    let (s, restored) = app.post(&format!("/api/v1/bot-config/snapshots/{snap_id}/restore"), t, json!({})).await;
    assert_eq!(s, 200, "{restored}");
    assert_eq!(restored["data"]["settings"]["systemPrompt"], "You are terse.");
    assert_eq!(restored["data"]["settings"]["topK"], 4);
    assert_eq!(restored["data"]["intentCount"], 1);
}

#[actix_web::test]
async fn snapshots_are_listed_without_their_data_and_can_be_deleted() {
    let Bot { app, org, .. } = bot_setup().await;
    let snap_id = snapshot(&app, &org, "before").await;
    let (_, snaps) = app.get("/api/v1/bot-config/snapshots", &org.token).await;
    assert_eq!(snaps["data"][0]["name"], "before");
    assert!(snaps["data"][0].get("data").is_none(), "metadata only");
    let (s, _) = app.delete(&format!("/api/v1/bot-config/snapshots/{snap_id}"), &org.token).await;
    assert_eq!(s, 204);
}

#[actix_web::test]
async fn the_json_export_of_the_config_tier_carries_the_format_and_the_intents() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    activate(&app, &org, &draft_with_greeting(&app, &org).await).await;
    let (s, export) = app.get("/api/v1/bot-config/export?tier=config", t).await;
    assert_eq!(s, 200);
    assert_eq!(export["format"], "cx-inbox.bot/1");
    assert_eq!(export["intents"][0]["name"], "greet");
    let (s, _) = app.get("/api/v1/bot-config/export?tier=huge", t).await;
    assert_eq!(s, 400);
}

#[actix_web::test]
async fn another_organization_can_neither_read_a_config_nor_restore_a_snapshot() {
    let Bot { app, org, .. } = bot_setup().await;
    let draft_id = draft_with_greeting(&app, &org).await;
    let snap_id = snapshot(&app, &org, "before").await;
    let stranger = app.register("Stranger").await;
    let (s, _) = app.get(&format!("/api/v1/bot-config?configId={draft_id}"), &stranger.token).await;
    assert_eq!(s, 404);
    let (s, _) = app.post(&format!("/api/v1/bot-config/snapshots/{snap_id}/restore"), &stranger.token, json!({})).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn an_html_page_is_indexed_as_its_text_and_found_by_keyword() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let html = "<h1>FAQ</h1><p>Shipping takes three days.</p><script>x()</script>";
    let doc = upload(&app, &org, "faq.html", "text/html", html).await;
    assert_eq!(doc["status"], "READY");
    assert_eq!(doc["chunkCount"], 1);
    let (s, rag) = app.post("/api/v1/bot-config/test-rag", t, json!({"query": "how long does shipping take"})).await;
    assert_eq!(s, 200);
    assert_eq!(rag["data"]["mode"], "keyword");
    assert!(rag["data"]["hits"][0]["text"].as_str().unwrap().contains("three days"));
    assert!(!rag["data"]["hits"][0]["text"].as_str().unwrap().contains("x()"));
}

#[actix_web::test]
async fn a_retrieval_test_without_a_query_is_refused() {
    let Bot { app, org, .. } = bot_setup().await;
    let (s, _) = app.post("/api/v1/bot-config/test-rag", &org.token, json!({})).await;
    assert_eq!(s, 400);
}

#[actix_web::test]
async fn a_pdf_is_indexed_as_its_text_and_a_broken_one_fails_with_the_reason() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let pdf = upload_bytes(&app, &org, "policy.pdf", "application/pdf", minimal_pdf("Gift cards never expire.")).await;
    assert_eq!(pdf["status"], "READY", "{pdf}");
    let (_, chunks) = app.get(&format!("/api/v1/bot-config/documents/{}/chunks", pdf["id"].as_str().unwrap()), t).await;
    assert_eq!(chunks["data"][0]["text"], "Gift cards never expire.");
    let broken = upload_bytes(&app, &org, "broken.pdf", "application/pdf", b"%PDF-1.4 nothing".to_vec()).await;
    assert_eq!(broken["status"], "FAILED");
    assert!(broken["error"].as_str().unwrap().contains("PDF"), "{broken}");
    // The failed document stays, to show why.
    let (_, info) = app.get("/api/v1/bot-config/embedding-info", t).await;
    assert_eq!(info["data"]["documents"], 2, "{info}");
}

#[actix_web::test]
async fn a_file_that_is_not_a_text_document_is_refused_up_front() {
    let Bot { app, org, .. } = bot_setup().await;
    let (s, e) =
        post_file(&app, &org.token, "/api/v1/bot-config/documents", "a.png", "image/png", vec![0x89, b'P']).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("file")), "{e}");
}

/// Gives the active config the fake provider's embedding model.
async fn use_embeddings(app: &TestApp, org: &Org) {
    let (s, body) = app.put("/api/v1/bot-config", &org.token, json!({"embeddingModel": "fake-embed"})).await;
    assert_eq!(s, 200, "{body}");
}

#[actix_web::test]
async fn with_an_embedding_model_documents_get_vectors_and_retrieval_is_hybrid() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    use_embeddings(&app, &org).await;
    let doc = upload(&app, &org, "more.txt", "text/plain", "Returns are free for members.").await;
    assert_eq!(doc["embedded"], true, "{doc}");
    let (_, info) = app.get("/api/v1/bot-config/embedding-info", t).await;
    assert_eq!((info["data"]["retrieval"].as_str(), info["data"]["documents"].as_u64()), (Some("hybrid"), Some(1)));
    assert_eq!(info["data"]["dimensions"], 32);
    let (_, rag) = app.post("/api/v1/bot-config/test-rag", t, json!({"query": "are returns free"})).await;
    assert_eq!(rag["data"]["mode"], "hybrid");
    assert!(rag["data"]["hits"][0]["vectorScore"].as_f64().unwrap() > 0.5, "{rag}");
}

#[actix_web::test]
async fn a_deleted_document_has_no_status_any_more() {
    let Bot { app, org, .. } = bot_setup().await;
    use_embeddings(&app, &org).await;
    let doc = upload(&app, &org, "more.txt", "text/plain", "Returns are free for members.").await;
    let id = doc["id"].as_str().unwrap();
    let (s, _) = app.delete(&format!("/api/v1/bot-config/documents/{id}"), &org.token).await;
    assert_eq!(s, 204);
    let (s, _) = app.get(&format!("/api/v1/bot-config/documents/{id}/status"), &org.token).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn an_intent_needs_a_known_action_and_a_response_to_reply_with() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let (s, e) = app.post("/api/v1/bot-config/intents", t, json!({"name": "a", "action": "REPLY"})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("response")));
    let (s, e) = app.post("/api/v1/bot-config/intents", t, json!({"name": "a", "action": "DANCE"})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("action")));
}

/// Creates one intent per name, with the example "say <name>"; answers their ids in order.
async fn create_intents(app: &TestApp, org: &Org, names: &[&str]) -> Vec<String> {
    let mut ids = vec![];
    for name in names {
        let body = json!({"name": name, "examples": [format!("say {name}")]});
        let (s, i) = app.post("/api/v1/bot-config/intents", &org.token, body).await;
        assert_eq!(s, 201, "{i}");
        ids.push(i["data"]["id"].as_str().unwrap().to_owned());
    }
    ids
}

#[actix_web::test]
async fn intents_are_reordered_only_by_a_list_naming_each_of_them_once() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let mut ids = create_intents(&app, &org, &["one", "two", "three"]).await;
    ids.reverse();
    let (s, order) = app.put("/api/v1/bot-config/intents/reorder", t, json!({"ids": ids})).await;
    assert_eq!(s, 200, "{order}");
    let (_, listed) = app.get("/api/v1/bot-config/intents", t).await;
    assert_eq!(listed["data"][0]["name"], "three");
    let (s, _) = app.put("/api/v1/bot-config/intents/reorder", t, json!({"ids": [ids[0]]})).await;
    assert_eq!(s, 400, "all of them, each once");
}

#[actix_web::test]
async fn an_intent_switched_to_handoff_hands_its_matching_message_to_a_human() {
    let Bot { app, org, .. } = bot_setup().await;
    let ids = create_intents(&app, &org, &["one", "two", "three"]).await;
    let three = &ids[2];
    let (s, upd) =
        app.put(&format!("/api/v1/bot-config/intents/{three}"), &org.token, json!({"action": "HANDOFF"})).await;
    assert_eq!((s, upd["data"]["action"].as_str()), (200, Some("HANDOFF")));
    let out = sandbox(&app, &org, "please say three").await;
    assert_eq!(out["decision"]["action"], "handoff", "{out}");
}

/// Saves a LOCAL preset on the fake provider; answers it.
async fn local_preset(app: &TestApp, org: &Org, llm: &FakeLlm) -> Value {
    let body = json!({"name": "Fake", "provider": "local", "baseUrl": llm.url, "model": "fake-chat", "apiKey": "pk-1234567890"});
    let (s, p) = app.post("/api/v1/bot-config/presets", &org.token, body).await;
    assert_eq!(s, 201, "{p}");
    p["data"].clone()
}

#[actix_web::test]
async fn a_preset_is_saved_with_a_masked_key_needs_a_model_and_can_be_deleted() {
    let Bot { app, llm, org, .. } = bot_setup().await;
    let t = &org.token;
    let p = local_preset(&app, &org, &llm).await;
    assert_eq!((p["provider"].as_str(), p["apiKey"].as_str()), (Some("LOCAL"), Some("••••7890")));
    let pid = p["id"].as_str().unwrap();
    let (s, _) = app.put(&format!("/api/v1/bot-config/presets/{pid}"), t, json!({"model": ""})).await;
    assert_eq!(s, 400);
    let (_, presets) = app.get("/api/v1/bot-config/presets", t).await;
    assert_eq!(presets["data"].as_array().unwrap().len(), 1);
    let (s, _) = app.delete(&format!("/api/v1/bot-config/presets/{pid}"), t).await;
    assert_eq!(s, 204);
}

#[actix_web::test]
async fn a_providers_models_are_listed_with_the_organizations_key_for_that_provider() {
    let Bot { app, llm, org, .. } = bot_setup().await;
    let t = &org.token;
    local_preset(&app, &org, &llm).await;
    let (s, models) = app.get("/api/v1/bot-config/models?provider=LOCAL", t).await;
    assert_eq!(s, 200, "{models}");
    assert_eq!(models["data"]["models"], json!(["fake-chat", "fake-embed"]));
    let (s, _) = app.get("/api/v1/bot-config/models?provider=NOPE", t).await;
    assert_eq!(s, 400);
    let (s, _) = app.get("/api/v1/bot-config/models?provider=GOOGLE", t).await;
    assert_eq!(s, 409, "no key for that provider");
}

#[actix_web::test]
async fn a_key_is_validated_by_asking_the_provider_whether_it_accepts_it() {
    let Bot { app, llm, org, .. } = bot_setup().await;
    let t = &org.token;
    let good = json!({"provider": "OPENAI", "apiKey": "good", "model": "fake-chat", "baseUrl": llm.url});
    let (s, v) = app.post("/api/v1/bot-config/validate-key", t, good).await;
    assert_eq!((s, v["data"]["valid"].as_bool(), v["data"]["modelAvailable"].as_bool()), (200, Some(true), Some(true)));
    let bad = json!({"provider": "OPENAI", "apiKey": "bad-key", "baseUrl": llm.url});
    let (s, v) = app.post("/api/v1/bot-config/validate-key", t, bad).await;
    assert_eq!((s, v["data"]["valid"].as_bool()), (200, Some(false)));
}

#[actix_web::test]
async fn the_bot_is_on_by_default_and_is_switched_off_with_an_explicit_value() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let (_, on) = app.get("/api/v1/config/bot-enabled", t).await;
    assert_eq!(on["data"]["enabled"], true);
    let (s, e) = app.put("/api/v1/config/bot-enabled", t, json!({})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("enabled")));
    let (_, off) = app.put("/api/v1/config/bot-enabled", t, json!({"enabled": false})).await;
    assert_eq!(off["data"]["enabled"], false);
}

#[actix_web::test]
async fn knowledge_only_mode_is_kept_and_leaves_handoff_on() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let (_, mode) = app.put("/api/v1/config/bot-mode", t, json!({"knowledgeOnly": true})).await;
    assert_eq!(
        (mode["data"]["knowledgeOnly"].as_bool(), mode["data"]["handoffEnabled"].as_bool()),
        (Some(true), Some(true))
    );
    let (s, _) = app.put("/api/v1/config/bot-mode", t, json!({"nonsense": true})).await;
    assert_eq!(s, 400);
    let (_, mode) = app.get("/api/v1/config/bot-mode", t).await;
    assert_eq!(mode["data"]["knowledgeOnly"], true);
}

#[actix_web::test]
async fn auto_categorization_switched_on_stays_on() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let (_, cat) = app.put("/api/v1/config/auto-categorize", t, json!({"enabled": true})).await;
    assert_eq!(cat["data"]["enabled"], true);
    let (_, cat) = app.get("/api/v1/config/auto-categorize", t).await;
    assert_eq!(cat["data"]["enabled"], true);
}

#[actix_web::test]
async fn agents_may_read_the_bot_switch_but_not_change_it() {
    let Bot { app, org, .. } = bot_setup().await;
    let agent = crate::agents::add_agent(&app, &org, "Ann").await;
    let (s, on) = app.get("/api/v1/config/bot-enabled", &agent.token).await;
    assert_eq!((s, on["data"]["enabled"].as_bool()), (200, Some(true)), "{on}");
    let (s, _) = app.put("/api/v1/config/bot-enabled", &agent.token, json!({"enabled": true})).await;
    assert_eq!(s, 403);
}

#[actix_web::test]
async fn the_bot_calls_a_tool_and_answers_with_its_result_and_agents_run_tools_too() {
    let Bot { app, llm, org, account } = bot_setup().await;
    let t = &org.token;
    // The "customer system" is the fake provider's model list, allowed explicitly.
    let url = format!("{}/models?order={{orderId}}", llm.url);
    let (s, tool) = app
        .post("/api/v1/tools", t, json!({"name": "order_status", "description": "Status of an order", "url": url,
            "parameters": [{"name": "orderId", "type": "string", "required": true}], "allowedHosts": ["127.0.0.1"], "agentEnabled": true}))
        .await;
    assert_eq!(s, 201, "{tool}");
    let tool_id = tool["data"]["id"].as_str().unwrap().to_owned();
    let wa = format!("34{}", unique());
    let conv = app.customer_says(&org, &account, &wa, "Where is my order? TOOL:order_status").await;
    assert!(eventually(Duration::from_secs(5), || async { !texts_sent(&app).is_empty() }).await);
    let sent = texts_sent(&app);
    assert!(sent[0].starts_with("Tool said:") && sent[0].contains("fake-chat"), "{sent:?}");
    let (_, traces) = app.get("/api/v1/bot-config/metrics/traces", t).await;
    let id = traces["data"]["recent"][0]["id"].as_str().unwrap();
    let (_, detail) = app.get(&format!("/api/v1/bot-config/metrics/traces/{id}"), t).await;
    let tool_step = detail["data"]["steps"].as_array().unwrap().iter().find(|s| s["kind"] == "tool").cloned().unwrap();
    assert_eq!(tool_step["detail"]["arguments"]["orderId"], "42");
    assert_eq!(tool_step["detail"]["result"]["ok"], true);

    // Agent tools: listed, parameters extracted from the conversation, run with a timeline note.
    let (_, listed) = app.get("/api/v1/agent-tools", t).await;
    assert_eq!(listed["data"][0]["id"], tool_id.as_str());
    let (s, ex) =
        app.post("/api/v1/agent-tools/extract-params", t, json!({"toolId": tool_id, "conversationId": conv})).await;
    assert_eq!(s, 200, "{ex}");
    assert_eq!(ex["data"]["params"]["orderId"], "42");
    assert_eq!(ex["data"]["missing"], json!([]));
    let (s, e) = app
        .post("/api/v1/agent-tools/execute", t, json!({"toolId": tool_id, "params": {}, "conversationId": conv}))
        .await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("params")), "{e}");
    let (s, run) = app
        .post(
            "/api/v1/agent-tools/execute",
            t,
            json!({"toolId": tool_id, "params": {"orderId": "7"}, "conversationId": conv}),
        )
        .await;
    assert_eq!(s, 200, "{run}");
    assert_eq!(run["data"]["ok"], true);
    assert!(run["data"]["url"].as_str().unwrap().ends_with("order=7"));
    let messages = app.messages(&org, &conv).await;
    assert!(
        messages.iter().any(|m| m["direction"] == "system"
            && m["text"].as_str().unwrap().contains("ran the tool order_status: succeeded"))
    );
    let other = app.register("Other").await;
    // Another organization's tool, named in a body: a 400 on the field, as for an unknown id.
    let (s, e) = app
        .post("/api/v1/agent-tools/execute", &other.token, json!({"toolId": tool_id, "params": {"orderId": "7"}}))
        .await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("toolId")), "{e}");
    let (s, _) = app.delete(&format!("/api/v1/tools/{tool_id}"), t).await;
    assert_eq!(s, 204);
}

#[actix_web::test]
async fn the_monthly_limit_hands_conversations_to_humans_and_usage_shows_it() {
    let Bot { app, org, account, .. } = bot_setup_with(|c| c.bot_monthly_turns = 1).await;
    let t = &org.token;
    let first = app.customer_says(&org, &account, &format!("34{}", unique()), "hi").await;
    assert!(eventually(Duration::from_secs(5), || async { texts_sent(&app).len() == 1 }).await);
    let (_, usage) = app.get("/api/v1/bot-config/usage", t).await;
    assert_eq!(
        (usage["data"]["turns"].as_i64(), usage["data"]["limitReached"].as_bool()),
        (Some(1), Some(true)),
        "{usage}"
    );
    assert_eq!(usage["data"]["promptTokens"], 100);
    let second = app.customer_says(&org, &account, &format!("34{}", unique()), "hello?").await;
    let status = |id: String| {
        let app = &app;
        async move { app.get(&format!("/api/v1/conversations/{id}"), t).await.1["data"]["status"].clone() }
    };
    assert!(
        eventually(Duration::from_secs(5), || async { status(second.clone()).await == "OPEN" }).await,
        "not handed off"
    );
    assert_eq!(status(first).await, "BOT_HANDLING");
    let (_, history) = app.get("/api/v1/bot-config/usage/history", t).await;
    let months = history["data"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(months[11]["turns"], 1);
    assert_eq!(months[0]["turns"], 0);
}

#[actix_web::test]
async fn conversations_answered_at_the_same_time_stay_within_the_monthly_limit() {
    let Bot { app, llm, org, account } = bot_setup_with(|c| c.bot_monthly_turns = 2).await;
    // Slow answers: all five turns are in flight together.
    llm.slow_down(Duration::from_millis(500));
    let mut convs = vec![];
    for i in 0..5 {
        convs.push(app.customer_says(&org, &account, &format!("34{}{i}", unique()), "hi").await);
    }
    let statuses = || async {
        let mut out = vec![];
        for c in &convs {
            out.push(app.get(&format!("/api/v1/conversations/{c}"), &org.token).await.1["data"]["status"].clone());
        }
        out
    };
    let settled =
        || async { texts_sent(&app).len() == 5 && statuses().await.iter().filter(|s| *s == "OPEN").count() == 3 };
    assert!(eventually(Duration::from_secs(8), settled).await, "{:?} {:?}", statuses().await, texts_sent(&app));
    let replies =
        texts_sent(&app).iter().filter(|t| t.as_str() != "Let me connect you with a member of our team.").count();
    assert_eq!(replies, 2, "{:?}", texts_sent(&app));
    let (_, usage) = app.get("/api/v1/bot-config/usage", &org.token).await;
    assert_eq!(usage["data"]["turns"], 2, "{usage}");
}

/// A customer's "hi", answered by the bot. Answers the conversation, the bot's reply and the
/// customer's message.
async fn answered_conversation(app: &TestApp, org: &Org, account: &Account) -> (String, String, String) {
    let before = texts_sent(app).len();
    let conv = app.customer_says(org, account, &format!("34{}", unique()), "hi").await;
    assert!(eventually(Duration::from_secs(5), || async { texts_sent(app).len() == before + 1 }).await);
    let messages = app.messages(org, &conv).await;
    let id = |direction: &str| {
        messages.iter().find(|m| m["direction"] == direction).unwrap()["id"].as_str().unwrap().to_owned()
    };
    let (bot_msg, customer_msg) = (id("outbound"), id("inbound"));
    (conv, bot_msg, customer_msg)
}

#[actix_web::test]
async fn a_second_rating_of_a_bot_reply_replaces_the_first() {
    let Bot { app, org, account, .. } = bot_setup().await;
    let t = &org.token;
    let (conv, bot_msg, _) = answered_conversation(&app, &org, &account).await;
    let first = json!({"messageId": bot_msg, "conversationId": conv, "rating": -1, "comment": "too short"});
    let (s, f) = app.post("/api/v1/bot-feedback", t, first).await;
    assert_eq!(s, 201, "{f}");
    let (s, f) =
        app.post("/api/v1/bot-feedback", t, json!({"messageId": bot_msg, "conversationId": conv, "rating": 1})).await;
    assert_eq!((s, f["data"]["rating"].as_i64()), (201, Some(1)), "a second rating replaces the first");
    let (_, list) = app.get("/api/v1/bot-feedback?limit=10", t).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["rating"], 1);
}

#[actix_web::test]
async fn only_bot_replies_are_rated_and_only_with_minus_one_or_one() {
    let Bot { app, org, account, .. } = bot_setup().await;
    let t = &org.token;
    let (conv, bot_msg, customer_msg) = answered_conversation(&app, &org, &account).await;
    let (s, e) = app
        .post("/api/v1/bot-feedback", t, json!({"messageId": customer_msg, "conversationId": conv, "rating": 1}))
        .await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("messageId")));
    let (s, e) =
        app.post("/api/v1/bot-feedback", t, json!({"messageId": bot_msg, "conversationId": conv, "rating": 5})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("rating")));
}

#[actix_web::test]
async fn quality_metrics_count_turns_replies_and_the_last_rating_of_each_reply() {
    let Bot { app, org, account, .. } = bot_setup().await;
    let t = &org.token;
    let (conv, bot_msg, _) = answered_conversation(&app, &org, &account).await;
    for rating in [-1, 1] {
        let body = json!({"messageId": bot_msg, "conversationId": conv, "rating": rating});
        let (s, f) = app.post("/api/v1/bot-feedback", t, body).await;
        assert_eq!(s, 201, "{f}");
    }
    let (_, q) = app.get("/api/v1/bot-config/metrics/quality?days=7", t).await;
    assert_eq!(
        (q["data"]["turns"].as_u64(), q["data"]["replies"].as_u64(), q["data"]["positiveFeedback"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{q}"
    );
    let (s, _) = app.get("/api/v1/bot-config/metrics/quality?days=0", t).await;
    assert_eq!(s, 400);
}

#[actix_web::test]
async fn a_bot_session_stays_open_until_the_conversation_is_resolved() {
    let Bot { app, org, account, .. } = bot_setup().await;
    let t = &org.token;
    let (conv, ..) = answered_conversation(&app, &org, &account).await;
    let (_, sessions) = app.get("/api/v1/bot-config/metrics/sessions", t).await;
    assert_eq!((sessions["total"].as_u64(), sessions["data"][0]["turns"].as_i64()), (Some(1), Some(1)), "{sessions}");
    assert!(sessions["data"][0]["closureType"].is_null(), "still open");
    // Resolving while the bot has the conversation closes the session as resolved.
    let (s, _) = app.post(&format!("/api/v1/conversations/{conv}/resolve"), t, json!({})).await;
    assert_eq!(s, 200);
    assert!(
        eventually(Duration::from_secs(3), || async {
            let (_, s) = app.get("/api/v1/bot-config/metrics/sessions?closureType=RESOLVED_CONFIRMED", t).await;
            s["total"] == 1
        })
        .await
    );
}

#[actix_web::test]
async fn bot_metrics_refuse_unknown_filters_and_ids() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let (s, _) = app.get("/api/v1/bot-config/metrics/sessions?closureType=LOST", t).await;
    assert_eq!(s, 400);
    let (s, e) = app.get("/api/v1/bot-config/metrics/sessions?limit=1&page=9223372036854775809", t).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("page")), "{e}");
    let (s, _) = app.get("/api/v1/bot-config/metrics/traces?days=31", t).await;
    assert_eq!(s, 400);
    let (s, _) = app.get("/api/v1/bot-config/metrics/traces/nope", t).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn a_customer_who_wrote_while_the_bot_was_off_is_answered_when_pending_turns_are_reprocessed() {
    let Bot { app, org, account, .. } = bot_setup().await;
    let t = &org.token;
    // An answered conversation: nothing of it waits.
    answered_conversation(&app, &org, &account).await;
    // A conversation that starts with the bot on, then a turn that stays silent while it is off.
    let wa = format!("34{}", unique());
    let conv = app.customer_says(&org, &account, &wa, "first").await;
    assert!(eventually(Duration::from_secs(5), || async { texts_sent(&app).len() == 2 }).await);
    app.put("/api/v1/config/bot-enabled", t, json!({"enabled": false})).await;
    app.customer_says(&org, &account, &wa, "anyone?").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(texts_sent(&app).len(), 2, "the bot is off");
    app.put("/api/v1/config/bot-enabled", t, json!({"enabled": true})).await;
    let (s, r) = app.post("/api/v1/bot-config/reprocess-pending", t, json!({})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["data"]["conversationIds"], json!([conv]));
    assert!(eventually(Duration::from_secs(5), || async { texts_sent(&app).len() == 3 }).await);
    assert_eq!(texts_sent(&app)[2], "Echo: anyone?");
}

#[actix_web::test]
async fn n8n_answers_as_the_bot_until_a_human_takes_over() {
    let Bot { app, org, account, .. } = bot_setup().await;
    let t = &org.token;
    let (conv, ..) = answered_conversation(&app, &org, &account).await;
    let (s, sent) =
        app.post("/api/v1/n8n/bot-response", t, json!({"conversationId": conv, "message": {"text": "From n8n"}})).await;
    assert_eq!((s, sent["data"]["sent"].as_bool()), (200, Some(true)), "{sent}");
    let (s, e) = app.post("/api/v1/n8n/bot-response", t, json!({"conversationId": conv, "message": 3})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("message")));
    let (s, body) = app.post(&format!("/api/v1/conversations/{conv}/takeover"), t, json!({})).await;
    assert_eq!(s, 200, "{body}");
    let (s, sent) = app.post("/api/v1/n8n/bot-response", t, json!({"conversationId": conv, "message": "late"})).await;
    assert_eq!((s, sent["data"]["sent"].as_bool()), (200, Some(false)));
    assert_eq!(texts_sent(&app).last().unwrap(), "From n8n");
}

#[actix_web::test]
async fn writing_assist_streams_a_suggestion_when_the_organization_and_the_agent_want_it() {
    let Bot { app, org, account, .. } = bot_setup().await;
    let t = &org.token;
    let conv = app.customer_says(&org, &account, &format!("34{}", unique()), "My parcel is late").await;
    assert!(eventually(Duration::from_secs(5), || async { !texts_sent(&app).is_empty() }).await, "the bot's turn");
    let tokens = || async {
        let (_, usage) = app.get("/api/v1/bot-config/usage", t).await;
        (usage["data"]["promptTokens"].as_i64().unwrap(), usage["data"]["completionTokens"].as_i64().unwrap())
    };
    let before = tokens().await;
    let (s, e) =
        app.post("/api/v1/writing-assist/complete", t, json!({"conversationId": conv, "partialText": "Sorry"})).await;
    assert_eq!(s, 409, "off by default: {e}");
    let (s, cfg) =
        app.put("/api/v1/config/writing-assist", t, json!({"enabled": true, "instructions": "Be kind."})).await;
    assert_eq!((s, cfg["data"]["effective"].as_bool()), (200, Some(true)), "{cfg}");
    let (s, _) = app.put("/api/v1/config/writing-assist", t, json!({"maxTokens": 5})).await;
    assert_eq!(s, 400);
    let res = app
        .client
        .post(app.url("/api/v1/writing-assist/complete"))
        .bearer_auth(t)
        .json(&json!({"conversationId": conv, "partialText": "Sorry"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let body = res.text().await.unwrap();
    assert!(body.contains(r#"data: {"delta":"Thanks"}"#), "{body}");
    assert!(body.contains("event: done\ndata: {\"text\":\"Thanks for your patience, we are on it.\"}"), "{body}");
    // The streamed call's tokens count for the month.
    assert_eq!(tokens().await, (before.0 + 40, before.1 + 8));
    // The agent's own switch.
    let (s, pref) = app.patch("/api/v1/profile/writing-assist", t, json!({"enabled": false})).await;
    assert_eq!(
        (s, pref["data"]["effective"].as_bool(), pref["data"]["userEnabled"].as_bool()),
        (200, Some(false), Some(false))
    );
    let (_, got) = app.get("/api/v1/config/writing-assist", t).await;
    assert_eq!(got["data"]["organization"]["instructions"], "Be kind.");
    let (s, _) = app.post("/api/v1/writing-assist/complete", t, json!({"conversationId": conv})).await;
    assert_eq!(s, 409);
    let (s, e) = app.patch("/api/v1/profile/writing-assist", t, json!({})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("enabled")));
}

#[actix_web::test]
async fn conversations_are_classified_by_the_model_and_routed_by_their_category() {
    let Bot { app, org, account, .. } = bot_setup().await;
    let t = &org.token;
    let (_, team) = app.post("/api/v1/teams", t, json!({"name": "Billing"})).await;
    let team_id = team["data"]["id"].as_str().unwrap().to_owned();
    let rule = json!({"name": "billing", "teamId": team_id, "conditions": [{"field": "category", "operator": "equals", "value": "billing"}]});
    let (s, r) = app.post("/api/v1/routing-rules", t, rule).await;
    assert_eq!(s, 201, "{r}");
    let conv = app.customer_says(&org, &account, &format!("34{}", unique()), "About my invoice").await;
    let (s, e) = app.post(&format!("/api/v1/conversations/{conv}/re-classify"), t, json!({})).await;
    assert_eq!(s, 409, "no categories yet: {e}");
    app.put("/api/v1/bot-config", t, json!({"categories": ["billing", "shipping"]})).await;
    let (s, c) = app.post(&format!("/api/v1/conversations/{conv}/re-classify"), t, json!({})).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (c["data"]["category"].as_str(), c["data"]["teamId"].as_str()),
        (Some("billing"), Some(team_id.as_str()))
    );
    assert_eq!(c["data"]["changed"], true);
    let (s, bulk) = app.post("/api/v1/conversations/re-classify", t, json!({"limit": 10})).await;
    assert_eq!(s, 200, "{bulk}");
    assert_eq!((bulk["data"]["processed"].as_u64(), bulk["data"]["changed"].as_u64()), (Some(1), Some(0)));
    let (s, _) = app.post("/api/v1/conversations/re-classify", t, json!({"limit": 0})).await;
    assert_eq!(s, 400);

    // Auto-categorize: the bot's turn sets the category of a new conversation.
    app.put("/api/v1/config/auto-categorize", t, json!({"enabled": true})).await;
    let conv2 = app.customer_says(&org, &account, &format!("34{}", unique()), "Another question").await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.get(&format!("/api/v1/conversations/{conv2}"), t).await.1["data"]["category"] == "billing"
        })
        .await
    );
}

const PNG: [u8; 8] = [0x89, b'P', b'N', b'G', 1, 2, 3, 4];

fn file_part(bytes: &[u8], name: &str, mime: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()).mime_str(mime).unwrap()
}

/// POSTs a multipart form to the bot's media library; answers the status and the JSON body.
async fn post_media(app: &TestApp, token: &str, form: reqwest::multipart::Form) -> (u16, Value) {
    let res =
        app.client.post(app.url("/api/v1/bot-config/media")).bearer_auth(token).multipart(form).send().await.unwrap();
    crate::helpers::status_json(res).await
}

/// Uploads the image "menu.png", described and tagged; answers the stored media.
async fn upload_menu(app: &TestApp, org: &Org) -> Value {
    let form = reqwest::multipart::Form::new()
        .part("file", file_part(&PNG, "menu.png", "image/png"))
        .text("description", "Our menu")
        .text("tags", "menu, food");
    let (s, m) = post_media(app, &org.token, form).await;
    assert_eq!(s, 201, "{m}");
    m["data"].clone()
}

#[actix_web::test]
async fn an_uploaded_image_is_served_back_as_it_was_with_a_thumbnail() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let m = upload_menu(&app, &org).await;
    assert_eq!((m["kind"].as_str(), m["tags"].clone()), (Some("image"), json!(["menu", "food"])));
    let id = m["id"].as_str().unwrap();
    let file =
        app.client.get(app.url(&format!("/api/v1/bot-config/media/{id}/file"))).bearer_auth(t).send().await.unwrap();
    assert_eq!(file.headers()["content-type"], "image/png");
    assert_eq!(file.bytes().await.unwrap().to_vec(), PNG.to_vec());
    let thumb = app
        .client
        .get(app.url(&format!("/api/v1/bot-config/media/{id}/thumbnail")))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), 200);
}

#[actix_web::test]
async fn a_media_item_is_renamed_and_its_description_cleared() {
    let Bot { app, org, .. } = bot_setup().await;
    let id = upload_menu(&app, &org).await["id"].as_str().unwrap().to_owned();
    let (s, p) = app
        .patch(&format!("/api/v1/bot-config/media/{id}"), &org.token, json!({"name": "Menu", "description": null}))
        .await;
    assert_eq!((s, p["data"]["name"].as_str(), p["data"]["description"].is_null()), (200, Some("Menu"), true));
}

#[actix_web::test]
async fn media_of_any_application_type_is_accepted() {
    let Bot { app, org, .. } = bot_setup().await;
    let form = reqwest::multipart::Form::new().part("file", file_part(&[1, 2], "x.exe", "application/x-msdownload"));
    let (s, m) = post_media(&app, &org.token, form).await;
    assert_eq!(s, 201, "documents of any application type are accepted: {m}");
}

#[actix_web::test]
async fn a_refused_thumbnail_refuses_the_whole_upload_and_nothing_of_it_is_kept() {
    let Bot { app, org, .. } = bot_setup().await;
    let kept = upload_menu(&app, &org).await;
    let form = reqwest::multipart::Form::new()
        .part("file", file_part(&PNG, "a.png", "image/png"))
        .part("thumbnail", file_part(b"GIF89a", "t.gif", "image/gif"));
    let (s, e) = post_media(&app, &org.token, form).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("thumbnail")), "{e}");
    let (_, list) = app.get("/api/v1/bot-config/media", &org.token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], kept["id"], "{list}");
}

#[actix_web::test]
async fn another_organization_cannot_fetch_a_media_file() {
    let Bot { app, org, .. } = bot_setup().await;
    let id = upload_menu(&app, &org).await["id"].as_str().unwrap().to_owned();
    let other = app.register("Other").await;
    let (s, _) = app.get(&format!("/api/v1/bot-config/media/{id}/file"), &other.token).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn deleted_media_is_no_longer_listed() {
    let Bot { app, org, .. } = bot_setup().await;
    let id = upload_menu(&app, &org).await["id"].as_str().unwrap().to_owned();
    let (s, _) = app.delete(&format!("/api/v1/bot-config/media/{id}"), &org.token).await;
    assert_eq!(s, 204);
    let (_, list) = app.get("/api/v1/bot-config/media", &org.token).await;
    assert_eq!(list["data"], json!([]), "{list}");
}

#[actix_web::test]
async fn only_a_super_admin_manages_bot_templates() {
    let Bot { app, org, .. } = bot_setup().await;
    let (s, _) = app.get("/api/v1/admin/bot-templates", &org.token).await;
    assert_eq!(s, 403);
    app.make_super_admin(&org.user_id).await;
    let (s, all) = app.get("/api/v1/admin/bot-templates", &org.token).await;
    assert_eq!(s, 200, "{all}");
}

/// Makes `org`'s user a super admin, gives its config the intent "greet" and makes the template
/// "Shop bot" (slug shop-bot) of it; answers the template.
async fn shop_template(app: &TestApp, org: &Org) -> Value {
    app.make_super_admin(&org.user_id).await;
    let greet = json!({"name": "greet", "examples": ["hello"], "action": "REPLY", "response": "Hi!"});
    let (s, i) = app.post("/api/v1/bot-config/intents", &org.token, greet).await;
    assert_eq!(s, 201, "{i}");
    let body = json!({"name": "Shop bot", "slug": "shop-bot"});
    let (s, tpl) = app.post("/api/v1/admin/bot-templates/from-config", &org.token, body).await;
    assert_eq!(s, 201, "{tpl}");
    tpl["data"].clone()
}

#[actix_web::test]
async fn a_template_made_from_a_config_carries_its_intents_unpublished_under_a_unique_slug() {
    let Bot { app, org, .. } = bot_setup().await;
    let tpl = shop_template(&app, &org).await;
    assert_eq!((tpl["intents"].as_u64(), tpl["published"].as_bool()), (Some(1), Some(false)));
    let (s, _) = app
        .post("/api/v1/admin/bot-templates/from-config", &org.token, json!({"name": "Again", "slug": "shop-bot"}))
        .await;
    assert_eq!(s, 409, "slug taken");
}

#[actix_web::test]
async fn organizations_see_and_import_a_template_only_once_it_is_published() {
    let Bot { app, org, .. } = bot_setup().await;
    let tid = shop_template(&app, &org).await["id"].as_str().unwrap().to_owned();
    let other = app.register("Other").await;
    let (_, published) = app.get("/api/v1/bot-templates", &other.token).await;
    assert_eq!(published["data"].as_array().unwrap().len(), 0);
    let (s, _) = app.post(&format!("/api/v1/bot-templates/import/{tid}"), &other.token, json!({})).await;
    assert_eq!(s, 404, "not published yet");
    let publish = json!({"published": true, "category": "retail"});
    let (s, _) = app.put(&format!("/api/v1/admin/bot-templates/{tid}"), &org.token, publish).await;
    assert_eq!(s, 200);
    let (_, published) = app.get("/api/v1/bot-templates", &other.token).await;
    assert_eq!(published["data"][0]["slug"], "shop-bot");
    let (s, imported) = app.post(&format!("/api/v1/bot-templates/import/{tid}"), &other.token, json!({})).await;
    assert_eq!(s, 201, "{imported}");
    assert_eq!(
        (imported["data"]["config"]["name"].as_str(), imported["data"]["intents"].as_u64()),
        (Some("Shop bot"), Some(1))
    );
}

#[actix_web::test]
async fn a_template_is_created_from_an_export_under_a_well_formed_slug() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    shop_template(&app, &org).await;
    let (_, exported) = app.get("/api/v1/bot-config/export?tier=config", t).await;
    let (s, created) =
        app.post("/api/v1/admin/bot-templates", t, json!({"name": "Raw", "slug": "raw", "data": exported})).await;
    assert_eq!(s, 201, "{created}");
    let (s, e) =
        app.post("/api/v1/admin/bot-templates", t, json!({"name": "Bad", "slug": "Bad Slug", "data": exported})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("slug")));
    let (_, all) = app.get("/api/v1/admin/bot-templates", t).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_deleted_template_is_no_longer_listed() {
    let Bot { app, org, .. } = bot_setup().await;
    let tid = shop_template(&app, &org).await["id"].as_str().unwrap().to_owned();
    let (s, _) = app.delete(&format!("/api/v1/admin/bot-templates/{tid}"), &org.token).await;
    assert_eq!(s, 204);
    let (_, all) = app.get("/api/v1/admin/bot-templates", &org.token).await;
    assert_eq!(all["data"], json!([]), "{all}");
}

#[actix_web::test]
async fn provider_urls_on_private_addresses_are_refused_unless_the_operator_allows_them() {
    // No CX_LLM_PRIVATE_HOSTS: the fake provider on loopback is off limits.
    let app = spawn_app_with(|c| c.bot_debounce_ms = 100).await;
    let llm = FakeLlm::start();
    let org = app.register("Guarded").await;
    let t = &org.token;
    let (s, e) = app
        .post("/api/v1/bot-config/validate-key", t, json!({"provider": "LOCAL", "apiKey": "k", "baseUrl": llm.url}))
        .await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("baseUrl")), "{e}");
    app.put("/api/v1/bot-config", t, json!({"name": "M", "model": "m", "baseUrl": "http://169.254.169.254/v1"})).await;
    let (s, out) = app.post("/api/v1/bot-config/test", t, json!({"message": "hello"})).await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["data"]["decision"]["action"], "handoff", "never silence: {out}");
    assert!(out["data"]["decision"]["reason"].as_str().unwrap().contains("169.254.169.254"), "{out}");
    assert!(llm.chats().is_empty());
    let (s, _) = app.get("/api/v1/bot-config/models?provider=OPENAI", t).await;
    assert_eq!(s, 400);
}

#[actix_web::test]
async fn the_test_endpoint_and_the_model_written_handoff_summary() {
    let Bot { app, org, account, .. } = bot_setup().await;
    let t = &org.token;
    let (s, out) = app.post("/api/v1/bot-config/test", t, json!({"message": "ping"})).await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["data"]["decision"], json!({"action": "reply", "text": "Echo: ping", "sources": []}));
    assert_eq!((out["data"]["promptTokens"].as_u64(), out["data"]["model"].as_str()), (Some(100), Some("fake-chat")));
    let (s, e) = app.post("/api/v1/bot-config/test", t, json!({"message": "  "})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("message")));
    let (_, traces) = app.get("/api/v1/bot-config/metrics/traces", t).await;
    assert_eq!(traces["data"]["byKind"]["TEST"], 1);
    assert_eq!(traces["data"]["recent"][0]["kind"], "TEST");

    let conv = app.customer_says(&org, &account, &format!("34{}", unique()), "Where is my refund?").await;
    let (s, sum) = app.post(&format!("/api/v1/conversations/{conv}/generate-handoff-summary"), t, json!({})).await;
    assert_eq!(s, 200, "{sum}");
    assert_eq!(sum["data"]["source"], "model");
    assert_eq!(sum["data"]["summary"], "The customer waits for a refund of order 42.");
}

/// A one-page PDF with `text` on it.
fn minimal_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = vec![];
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

#[actix_web::test]
async fn a_new_organization_without_a_bot_config_hands_its_customers_to_humans_instead_of_silence() {
    let app = spawn_app().await;
    let org = app.register("No bot yet").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "4917000000001", "Hello, anyone?").await;
    let path = format!("/api/v1/conversations/{conv}");
    let (_, c) = app.get(&path, &org.token).await;
    assert_eq!(c["data"]["status"], "BOT_HANDLING", "the bot is on by default");
    assert!(
        eventually(Duration::from_secs(10), || async {
            app.get(&path, &org.token).await.1["data"]["status"] == "OPEN"
        })
        .await,
        "the conversation left the bot that cannot answer"
    );
    let (_, c) = app.get(&path, &org.token).await;
    assert!(c["data"]["assignedTo"].is_null(), "it waits in the queue: {c}");
    let msgs = app.messages(&org, &conv).await;
    assert!(
        msgs.iter()
            .any(|m| m["direction"] == "system" && m["text"].as_str().unwrap_or_default().contains("no bot is set up")),
        "the timeline says why: {msgs:?}"
    );
    assert!(app.graph.sends().is_empty(), "nothing was sent to the customer");
}
