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
}

#[actix_web::test]
async fn bot_configs_drafts_activation_duplicates_prompt_versions_and_snapshots() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let (_, active) = app.get("/api/v1/bot-config", t).await;
    let active_id = active["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(active["data"]["apiKey"], "••••1234", "masked on read");
    let (s, key) = app.get("/api/v1/bot-config/reveal-key", t).await;
    assert_eq!((s, key["data"]["apiKey"].as_str()), (200, Some("sk-test-abcdefgh1234")));

    // Bad input names the field.
    let (s, e) = app.post("/api/v1/bot-config", t, json!({"name": "X", "temperature": 5})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("temperature")));
    let (s, e) = app.post("/api/v1/bot-config", t, json!({"name": "X", "bogus": 1})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("bogus")));
    let (s, e) = app.post("/api/v1/bot-config", t, json!({"name": ""})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("name")));

    let (s, draft) =
        app.post("/api/v1/bot-config", t, json!({"name": "Draft", "systemPrompt": "You are terse."})).await;
    assert_eq!(s, 201, "{draft}");
    assert_eq!(draft["data"]["status"], "DRAFT");
    let draft_id = draft["data"]["id"].as_str().unwrap().to_owned();
    let (s, _) = app
        .post(
            "/api/v1/bot-config/intents",
            t,
            json!({"configId": draft_id, "name": "greet", "examples": ["hello"], "action": "REPLY", "response": "Hi!"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, dup) = app.post(&format!("/api/v1/bot-config/{draft_id}/duplicate"), t, json!({})).await;
    assert_eq!(s, 201, "{dup}");
    assert_eq!(dup["data"]["name"], "Draft (copy)");
    assert_eq!(dup["data"]["intentCount"], 1, "deep copy with intents");
    let (_, list) = app.get("/api/v1/bot-config/list", t).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    assert_eq!(list["data"][0]["id"], active_id.as_str(), "the active one first");

    // One active at a time; the active one cannot be deleted.
    let (s, act) = app.put(&format!("/api/v1/bot-config/{draft_id}/activate"), t, json!({})).await;
    assert_eq!((s, act["data"]["status"].as_str()), (200, Some("ACTIVE")));
    let (_, old) = app.get(&format!("/api/v1/bot-config?configId={active_id}"), t).await;
    assert_eq!(old["data"]["status"], "DRAFT");
    let (s, _) = app.delete(&format!("/api/v1/bot-config/{draft_id}"), t).await;
    assert_eq!(s, 409);
    let (s, _) = app.delete(&format!("/api/v1/bot-config/{}", dup["data"]["id"].as_str().unwrap()), t).await;
    assert_eq!(s, 204);

    // Prompt versions and rollback.
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

    // Snapshots: save, change, restore.
    let (s, snap) = app.post("/api/v1/bot-config/snapshots", t, json!({"name": "before"})).await;
    assert_eq!(s, 201, "{snap}");
    let snap_id = snap["data"]["id"].as_str().unwrap().to_owned();
    app.put("/api/v1/bot-config", t, json!({"systemPrompt": "Changed.", "topK": 9})).await;
    let (_, intents) = app.get("/api/v1/bot-config/intents", t).await;
    app.delete(&format!("/api/v1/bot-config/intents/{}", intents["data"][0]["id"].as_str().unwrap()), t).await;
    let (s, restored) = app.post(&format!("/api/v1/bot-config/snapshots/{snap_id}/restore"), t, json!({})).await;
    assert_eq!(s, 200, "{restored}");
    assert_eq!(restored["data"]["settings"]["systemPrompt"], "You are terse.");
    assert_eq!(restored["data"]["settings"]["topK"], 4);
    assert_eq!(restored["data"]["intentCount"], 1);
    let (_, snaps) = app.get("/api/v1/bot-config/snapshots", t).await;
    assert_eq!(snaps["data"][0]["name"], "before");
    assert!(snaps["data"][0].get("data").is_none(), "metadata only");
    let (s, _) = app.delete(&format!("/api/v1/bot-config/snapshots/{snap_id}"), t).await;
    assert_eq!(s, 204);

    // JSON export, and another organization cannot see any of it.
    let (s, export) = app.get("/api/v1/bot-config/export?tier=config", t).await;
    assert_eq!(s, 200);
    assert_eq!(export["format"], "cx-inbox.bot/1");
    assert_eq!(export["intents"][0]["name"], "greet");
    let (s, _) = app.get("/api/v1/bot-config/export?tier=huge", t).await;
    assert_eq!(s, 400);
    let stranger = app.register("Stranger").await;
    let (s, _) = app.get(&format!("/api/v1/bot-config?configId={draft_id}"), &stranger.token).await;
    assert_eq!(s, 404);
    let (s, _) = app.post(&format!("/api/v1/bot-config/snapshots/{snap_id}/restore"), &stranger.token, json!({})).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn knowledge_intents_presets_providers_and_switches() {
    let Bot { app, llm, org, .. } = bot_setup().await;
    let t = &org.token;
    // Knowledge: HTML is read as text, PDF is refused up front, retrieval is explained.
    let doc = upload(
        &app,
        &org,
        "faq.html",
        "text/html",
        "<h1>FAQ</h1><p>Shipping takes three days.</p><script>x()</script>",
    )
    .await;
    assert_eq!(doc["status"], "READY");
    assert_eq!(doc["chunkCount"], 1);
    let part =
        reqwest::multipart::Part::bytes(b"%PDF-1.4".to_vec()).file_name("a.pdf").mime_str("application/pdf").unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/bot-config/documents"))
        .bearer_auth(t)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let (s, e) = crate::helpers::status_json(res).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("file")), "{e}");
    let (s, rag) = app.post("/api/v1/bot-config/test-rag", t, json!({"query": "how long does shipping take"})).await;
    assert_eq!(s, 200);
    assert_eq!(rag["data"]["mode"], "keyword");
    assert!(rag["data"]["hits"][0]["text"].as_str().unwrap().contains("three days"));
    assert!(!rag["data"]["hits"][0]["text"].as_str().unwrap().contains("x()"));
    let (s, _) = app.post("/api/v1/bot-config/test-rag", t, json!({})).await;
    assert_eq!(s, 400);
    // With an embedding model, documents get vectors and retrieval is hybrid.
    app.put("/api/v1/bot-config", t, json!({"embeddingModel": "fake-embed"})).await;
    let doc2 = upload(&app, &org, "more.txt", "text/plain", "Returns are free for members.").await;
    assert_eq!(doc2["embedded"], true, "{doc2}");
    let (_, info) = app.get("/api/v1/bot-config/embedding-info", t).await;
    assert_eq!((info["data"]["retrieval"].as_str(), info["data"]["documents"].as_u64()), (Some("hybrid"), Some(2)));
    assert_eq!(info["data"]["dimensions"], 32);
    let (_, rag) = app.post("/api/v1/bot-config/test-rag", t, json!({"query": "are returns free"})).await;
    assert_eq!(rag["data"]["mode"], "hybrid");
    assert!(rag["data"]["hits"][0]["vectorScore"].as_f64().unwrap() > 0.5, "{rag}");
    let (s, _) = app.delete(&format!("/api/v1/bot-config/documents/{}", doc2["id"].as_str().unwrap()), t).await;
    assert_eq!(s, 204);
    let (s, _) = app.get(&format!("/api/v1/bot-config/documents/{}/status", doc2["id"].as_str().unwrap()), t).await;
    assert_eq!(s, 404);

    // Intents: validation, order.
    let (s, e) = app.post("/api/v1/bot-config/intents", t, json!({"name": "a", "action": "REPLY"})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("response")));
    let (s, e) = app.post("/api/v1/bot-config/intents", t, json!({"name": "a", "action": "DANCE"})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("action")));
    let mut ids = vec![];
    for name in ["one", "two", "three"] {
        let (s, i) =
            app.post("/api/v1/bot-config/intents", t, json!({"name": name, "examples": [format!("say {name}")]})).await;
        assert_eq!(s, 201, "{i}");
        ids.push(i["data"]["id"].as_str().unwrap().to_owned());
    }
    ids.reverse();
    let (s, order) = app.put("/api/v1/bot-config/intents/reorder", t, json!({"ids": ids})).await;
    assert_eq!(s, 200, "{order}");
    let (_, listed) = app.get("/api/v1/bot-config/intents", t).await;
    assert_eq!(listed["data"][0]["name"], "three");
    let (s, _) = app.put("/api/v1/bot-config/intents/reorder", t, json!({"ids": [ids[0]]})).await;
    assert_eq!(s, 400, "all of them, each once");
    let (s, upd) = app.put(&format!("/api/v1/bot-config/intents/{}", ids[0]), t, json!({"action": "HANDOFF"})).await;
    assert_eq!((s, upd["data"]["action"].as_str()), (200, Some("HANDOFF")));
    let out = sandbox(&app, &org, "please say three").await;
    assert_eq!(out["decision"]["action"], "handoff", "{out}");

    // Presets and providers.
    let (s, p) = app.post("/api/v1/bot-config/presets", t, json!({"name": "Fake", "provider": "local", "baseUrl": llm.url, "model": "fake-chat", "apiKey": "pk-1234567890"})).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!((p["data"]["provider"].as_str(), p["data"]["apiKey"].as_str()), (Some("LOCAL"), Some("••••7890")));
    let pid = p["data"]["id"].as_str().unwrap();
    let (s, _) = app.put(&format!("/api/v1/bot-config/presets/{pid}"), t, json!({"model": ""})).await;
    assert_eq!(s, 400);
    let (_, presets) = app.get("/api/v1/bot-config/presets", t).await;
    assert_eq!(presets["data"].as_array().unwrap().len(), 1);
    let (s, models) = app.get("/api/v1/bot-config/models?provider=LOCAL", t).await;
    assert_eq!(s, 200, "{models}");
    assert_eq!(models["data"]["models"], json!(["fake-chat", "fake-embed"]));
    let (s, _) = app.get("/api/v1/bot-config/models?provider=NOPE", t).await;
    assert_eq!(s, 400);
    let (s, _) = app.get("/api/v1/bot-config/models?provider=GOOGLE", t).await;
    assert_eq!(s, 409, "no key for that provider");
    let (s, v) = app
        .post(
            "/api/v1/bot-config/validate-key",
            t,
            json!({"provider": "OPENAI", "apiKey": "good", "model": "fake-chat", "baseUrl": llm.url}),
        )
        .await;
    assert_eq!((s, v["data"]["valid"].as_bool(), v["data"]["modelAvailable"].as_bool()), (200, Some(true), Some(true)));
    let (s, v) = app
        .post(
            "/api/v1/bot-config/validate-key",
            t,
            json!({"provider": "OPENAI", "apiKey": "bad-key", "baseUrl": llm.url}),
        )
        .await;
    assert_eq!((s, v["data"]["valid"].as_bool()), (200, Some(false)));
    let (s, _) = app.delete(&format!("/api/v1/bot-config/presets/{pid}"), t).await;
    assert_eq!(s, 204);

    // Switches.
    let (_, on) = app.get("/api/v1/config/bot-enabled", t).await;
    assert_eq!(on["data"]["enabled"], true);
    let (s, e) = app.put("/api/v1/config/bot-enabled", t, json!({})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("enabled")));
    let (_, off) = app.put("/api/v1/config/bot-enabled", t, json!({"enabled": false})).await;
    assert_eq!(off["data"]["enabled"], false);
    let (_, mode) = app.put("/api/v1/config/bot-mode", t, json!({"knowledgeOnly": true})).await;
    assert_eq!(
        (mode["data"]["knowledgeOnly"].as_bool(), mode["data"]["handoffEnabled"].as_bool()),
        (Some(true), Some(true))
    );
    let (s, _) = app.put("/api/v1/config/bot-mode", t, json!({"nonsense": true})).await;
    assert_eq!(s, 400);
    let (_, mode) = app.get("/api/v1/config/bot-mode", t).await;
    assert_eq!(mode["data"]["knowledgeOnly"], true);
    let (_, cat) = app.put("/api/v1/config/auto-categorize", t, json!({"enabled": true})).await;
    assert_eq!(cat["data"]["enabled"], true);
    let (_, cat) = app.get("/api/v1/config/auto-categorize", t).await;
    assert_eq!(cat["data"]["enabled"], true);
    // Agents may read but not change.
    let agent = crate::agents::add_agent(&app, &org, "Ann").await;
    let (s, _) = app.put("/api/v1/config/bot-enabled", &agent.token, json!({"enabled": true})).await;
    assert_eq!(s, 403);
}
