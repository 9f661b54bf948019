//! The Cekat inbox list (seed 000), driven as the seed's curl and JavaScript examples do.

use serde_json::{Value, json};

use crate::compat_cekat_messages::{api_key, assert_cekat_error, keys, set};
use crate::helpers::{TestApp, spawn_app};

/// `GET /api/inboxes` as the seed's curl sends it.
async fn inboxes(app: &TestApp, key: Option<&str>, query: &str) -> (u16, Value) {
    let mut req = app.client.get(app.url(&format!("/api/inboxes{query}")));
    if let Some(key) = key {
        req = req.header("Authorization", format!("Bearer {key}"));
    }
    crate::helpers::status_json(req.send().await.unwrap()).await
}

const SEED_KEYS: [&str; 13] = [
    "id",
    "name",
    "type",
    "status",
    "flow_id",
    "flow_mode",
    "flow_name",
    "ai_agent_id",
    "ai_agent_name",
    "auto_reassign",
    "phone_number",
    "business_id",
    "created_at",
];

#[actix_web::test]
async fn the_seed_curl_and_js_filter_find_the_active_whatsapp_inbox_and_pages_hold() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    let (s, live) =
        app.post("/api/v1/inboxes", &org.token, json!({"channel": "livechat", "name": "Live Chat Support"})).await;
    assert_eq!(s, 201, "{live}");
    let key = api_key(&app, &org).await;

    let (s, body) = inboxes(&app, Some(&key), "").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(keys(&body), set(&["success", "data", "metadata"]));
    assert_eq!(body["success"], true);
    assert_eq!(body["metadata"]["pagination"], json!({"total_page": 1, "total_items": 2, "current_page": 1}));
    let data = body["data"].as_array().unwrap();
    for inbox in data {
        assert_eq!(keys(inbox), set(&SEED_KEYS), "{inbox}");
        assert_eq!(inbox["business_id"], org.org_id.as_str());
        assert_eq!((inbox["flow_id"].clone(), inbox["flow_mode"].clone()), (Value::Null, json!(false)));
        assert!(chrono::DateTime::parse_from_rfc3339(inbox["created_at"].as_str().unwrap()).is_ok(), "{inbox}");
    }
    // The seed's JavaScript: inboxes.data.filter(inbox => inbox.type === 'whatsapp' && inbox.status === 'active')
    let active_whatsapp: Vec<&Value> =
        data.iter().filter(|i| i["type"] == "whatsapp" && i["status"] == "active").collect();
    assert_eq!(active_whatsapp.len(), 1, "{body}");
    let number = active_whatsapp[0]["phone_number"].as_str().unwrap();
    assert!(!number.is_empty() && number.chars().all(|c| c.is_ascii_digit()), "{number}");
    let chat = data.iter().find(|i| i["type"] == "livechat").unwrap();
    assert_eq!((chat["name"].as_str(), chat["phone_number"].clone()), (Some("Live Chat Support"), Value::Null));
    assert_eq!(chat["auto_reassign"], true);

    // Pages: the second of one-per-page is the live chat; a disabled inbox is inactive.
    let id = chat["id"].as_str().unwrap();
    let (s, b) = app.patch(&format!("/api/v1/inboxes/{id}"), &org.token, json!({"enabled": false})).await;
    assert_eq!(s, 200, "{b}");
    let (s, page) = inboxes(&app, Some(&key), "?page=2&limit=1").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["metadata"]["pagination"], json!({"total_page": 2, "total_items": 2, "current_page": 2}));
    assert_eq!((page["data"][0]["id"].as_str(), page["data"][0]["status"].as_str()), (Some(id), Some("inactive")));
    let (s, past) = inboxes(&app, Some(&key), "?page=3&limit=1").await;
    assert_eq!((s, past["data"].as_array().map(Vec::len)), (200, Some(0)), "{past}");
}

#[actix_web::test]
async fn bad_paging_is_a_400_another_organization_sees_none_and_no_key_is_a_401() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    let key = api_key(&app, &org).await;
    for (query, field) in [("?limit=0", "limit"), ("?limit=x", "limit"), ("?page=abc", "page"), ("?page=0", "page")] {
        let (s, body) = inboxes(&app, Some(&key), query).await;
        assert_cekat_error(s, &body, 400, "validation_error");
        assert_eq!(body["error"]["details"]["field"], field, "{query}: {body}");
    }
    // Past the largest page size is the largest page size, as in the native lists.
    let (s, body) = inboxes(&app, Some(&key), "?limit=101").await;
    assert_eq!((s, body["metadata"]["pagination"]["total_items"].as_u64()), (200, Some(1)), "{body}");
    let other = app.register("Other").await;
    let other_key = api_key(&app, &other).await;
    let (s, body) = inboxes(&app, Some(&other_key), "").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["data"], json!([]));
    assert_eq!(body["metadata"]["pagination"], json!({"total_page": 0, "total_items": 0, "current_page": 1}));
    let (s, body) = inboxes(&app, None, "").await;
    assert_cekat_error(s, &body, 401, "unauthorized");
}

#[actix_web::test]
async fn the_inbox_list_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let (status, spec) = app.get("/api/v1/openapi.json", "").await;
    assert_eq!(status, 200);
    let op = &spec["paths"]["/api/inboxes"]["get"];
    assert_eq!(op["tags"], json!(["compat-cekat"]), "{op}");
    assert_eq!(op["security"], json!([{"bearer": []}]));
    let names: Vec<&str> = op["parameters"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["page", "limit"]);
}

#[actix_web::test]
async fn each_inbox_shows_the_bot_that_answers_it_as_its_ai_agent() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let key = api_key(&app, &org).await;
    let llm = crate::fake_llm::FakeLlm::start();
    let main = crate::bot::configure(&app, &org, &llm).await;
    let body = json!({"name": "Web helper", "provider": "OPENAI", "model": "fake-chat", "baseUrl": llm.url, "apiKey": "sk-test-abcdefgh1234"});
    let (s, own) = app.post("/api/v1/bot-config", &org.token, body).await;
    assert_eq!(s, 201, "{own}");
    let (s, web) = app
        .post(
            "/api/v1/inboxes",
            &org.token,
            json!({"channel": "livechat", "name": "Web", "botConfigId": own["data"]["id"]}),
        )
        .await;
    assert_eq!(s, 201, "{web}");
    let (s, plain) = app.post("/api/v1/inboxes", &org.token, json!({"channel": "livechat", "name": "Plain"})).await;
    assert_eq!(s, 201, "{plain}");

    let (s, page) = inboxes(&app, Some(&key), "").await;
    assert_eq!(s, 200, "{page}");
    let agent_of = |id: &Value| {
        let i = page["data"].as_array().unwrap().iter().find(|i| i["id"] == *id).unwrap();
        (i["ai_agent_id"].clone(), i["ai_agent_name"].clone())
    };
    assert_eq!(agent_of(&web["data"]["id"]), (own["data"]["id"].clone(), json!("Web helper")), "its own config");
    assert_eq!(agent_of(&plain["data"]["id"]), (main["data"]["id"].clone(), json!("Main")), "the organization's");
    // With the organization's bot off, no inbox is answered by one.
    let (s, _) = app.put("/api/v1/config/bot-enabled", &org.token, json!({"enabled": false})).await;
    assert_eq!(s, 200);
    let (_, page) = inboxes(&app, Some(&key), "").await;
    assert!(page["data"].as_array().unwrap().iter().all(|i| i["ai_agent_id"].is_null()), "{page}");
}
