//! The Chatwoot-style account-scoped inbox API (seed 002), driven as the seed's curl examples
//! do: `api_access_token: <key>`, `/api/v1/accounts/{account_id}/inboxes…` with the caller's
//! organization as the account and real ids for the seed's numbers, snake_case bodies, bare
//! answers and `{"error": "…"}` refusals.

use serde_json::{Value, json};

use crate::compat_cekat_messages::{api_key, keys, set};
use crate::helpers::{Account, Org, TestApp, spawn_app};

/// A request as the seed's curl sends it: the `api_access_token` header and a JSON body.
async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.client.request(m, app.url(path));
    if let Some(t) = token {
        req = req.header("api_access_token", t);
    }
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_string());
    }
    crate::helpers::status_json(req.send().await.unwrap()).await
}

/// `/api/v1/accounts/{account_id}/inboxes` of the organization, plus `rest`.
fn inboxes(org: &Org, rest: &str) -> String {
    format!("/api/v1/accounts/{}/inboxes{rest}", org.org_id)
}

/// A refusal in this API's shape: only `error`, a sentence.
fn assert_error(status: u16, body: &Value, want: u16) -> String {
    assert_eq!(status, want, "{body}");
    assert_eq!(keys(body), set(&["error"]), "{body}");
    body["error"].as_str().unwrap_or_else(|| panic!("error is not a sentence: {body}")).to_owned()
}

const SEED_WEB_WIDGET: &str = r##"{
  "name": "Website Support",
  "channel": {
    "type": "web_widget",
    "website_url": "https://example.com",
    "welcome_title": "Welcome!",
    "welcome_tagline": "How can we help?",
    "widget_color": "#1f93ff"
  },
  "greeting_enabled": true,
  "greeting_message": "Hi there! How can I help you today?",
  "enable_auto_assignment": true
}"##;

const SEED_API: &str = r#"{
  "name": "Mobile App",
  "channel": {
    "type": "api",
    "webhook_url": "https://example.com/webhooks/chatwoot"
  },
  "enable_auto_assignment": true
}"#;

const SEED_EMAIL: &str = r#"{
  "name": "Support Email",
  "channel": {
    "type": "email",
    "email": "[email protected]",
    "imap_enabled": true,
    "imap_address": "imap.gmail.com",
    "imap_port": 993,
    "imap_email": "[email protected]",
    "imap_password": "app_password",
    "smtp_enabled": true,
    "smtp_address": "smtp.gmail.com",
    "smtp_port": 587,
    "smtp_email": "[email protected]",
    "smtp_password": "app_password"
  }
}"#;

fn seed(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// An organization with its key, a connected number, and the seed's web widget.
struct Setup {
    app: TestApp,
    org: Org,
    key: String,
    account: Account,
    widget: Value,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let key = api_key(&app, &org).await;
    let account = app.connect_account(&org).await;
    let (s, widget) = call(&app, "POST", &inboxes(&org, ""), Some(&key), Some(seed(SEED_WEB_WIDGET))).await;
    assert_eq!(s, 200, "{widget}");
    Setup { app, org, key, account, widget }
}

/// The inbox of the connected number, as this API lists it.
async fn whatsapp_inbox(s: &Setup) -> Value {
    let (status, list) = call(&s.app, "GET", &inboxes(&s.org, ""), Some(&s.key), None).await;
    assert_eq!(status, 200, "{list}");
    let found = list["payload"].as_array().unwrap().iter().find(|i| i["channel_type"] == "Channel::Whatsapp").cloned();
    found.unwrap_or_else(|| panic!("no WhatsApp inbox in {list}"))
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

const SEED_LIST_KEYS: [&str; 10] = [
    "id",
    "name",
    "channel_id",
    "channel_type",
    "greeting_enabled",
    "greeting_message",
    "enable_auto_assignment",
    "working_hours_enabled",
    "timezone",
    "avatar_url",
];

#[actix_web::test]
async fn list_payload() {
    let s = setup().await;
    // curl -X GET …/api/v1/accounts/1/inboxes -H "api_access_token: YOUR_ACCESS_TOKEN"
    let (status, body) = call(&s.app, "GET", &inboxes(&s.org, ""), Some(&s.key), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), set(&["payload"]));
    let payload = body["payload"].as_array().unwrap();
    assert_eq!(payload.len(), 2, "{body}");
    for inbox in payload {
        let have = keys(inbox);
        assert!(SEED_LIST_KEYS.iter().all(|k| have.contains(*k)), "{inbox}");
        assert_eq!(inbox["hmac_token"], Value::Null, "no secrets in the list: {inbox}");
    }
    let wa = &payload[0];
    assert_eq!(
        (wa["channel_type"].as_str(), wa["channel_id"].as_str()),
        (Some("Channel::Whatsapp"), Some(s.account.id.as_str()))
    );
    assert_eq!(wa["provider"], "whatsapp_cloud");
    assert!(wa["phone_number"].is_string(), "{wa}");
    let web = &payload[1];
    assert_eq!((web["id"].clone(), web["channel_type"].as_str()), (s.widget["id"].clone(), Some("Channel::WebWidget")));
    assert_eq!(web["channel_id"], web["id"]);
    assert_eq!((web["greeting_enabled"].clone(), web["enable_auto_assignment"].clone()), (json!(true), json!(true)));
    assert_eq!((web["working_hours_enabled"].clone(), web["timezone"].clone()), (json!(false), Value::Null));
}

#[actix_web::test]
async fn get_one() {
    let s = setup().await;
    // curl -X GET …/api/v1/accounts/1/inboxes/1
    let path = inboxes(&s.org, &format!("/{}", id(&s.widget)));
    let (status, inbox) = call(&s.app, "GET", &path, Some(&s.key), None).await;
    assert_eq!(status, 200, "{inbox}");
    assert_eq!(inbox["name"], "Website Support");
    assert_eq!(inbox["welcome_tagline"], "How can we help?");
    assert_eq!(inbox["website_token"], s.widget["website_token"]);
    assert!(inbox["hmac_token"].as_str().is_some_and(|t| t.len() >= 40), "an admin's key sees it: {inbox}");
    let agent = crate::agents::add_agent(&s.app, &s.org, "Ann").await;
    let (status, seen) = call(&s.app, "GET", &path, Some(&agent.token), None).await;
    assert_eq!((status, seen["hmac_token"].clone()), (200, Value::Null), "{seen}");
    let (status, body) =
        call(&s.app, "GET", &inboxes(&s.org, &format!("/{}", actors::new_id())), Some(&s.key), None).await;
    assert_eq!(assert_error(status, &body, 404), "Inbox not found");
}

#[actix_web::test]
async fn create_web_widget_seed_body() {
    let s = setup().await;
    let w = &s.widget;
    assert_eq!(w["channel_type"], "Channel::WebWidget");
    assert_eq!((w["name"].as_str(), w["greeting_enabled"].as_bool()), (Some("Website Support"), Some(true)));
    assert_eq!(w["greeting_message"], "Hi there! How can I help you today?");
    assert_eq!(w["enable_auto_assignment"], true);
    assert_eq!((w["website_url"].as_str(), w["widget_color"].as_str()), (Some("https://example.com"), Some("#1f93ff")));
    assert_eq!(
        (w["welcome_title"].as_str(), w["welcome_tagline"].as_str()),
        (Some("Welcome!"), Some("How can we help?"))
    );
    assert!(w["website_token"].as_str().is_some_and(|t| t.len() >= 20), "{w}");
    assert_eq!((w["api_token"].clone(), w["webhook_url"].clone()), (Value::Null, Value::Null));
    // The native API reads the same inbox.
    let (status, native) = s.app.get(&format!("/api/v1/inboxes/{}", id(w)), &s.org.token).await;
    assert_eq!(status, 200, "{native}");
    assert_eq!(native["data"]["channel"], "livechat");
    assert_eq!(native["data"]["widgetSettings"]["welcomeTitle"], "Welcome!");
}

#[actix_web::test]
async fn create_api_seed_body() {
    let s = setup().await;
    let (status, api) = call(&s.app, "POST", &inboxes(&s.org, ""), Some(&s.key), Some(seed(SEED_API))).await;
    assert_eq!(status, 200, "{api}");
    assert_eq!((api["name"].as_str(), api["channel_type"].as_str()), (Some("Mobile App"), Some("Channel::Api")));
    assert_eq!(api["webhook_url"], "https://example.com/webhooks/chatwoot");
    assert_eq!(api["enable_auto_assignment"], true);
    let token = api["api_token"].as_str().unwrap_or_else(|| panic!("no token: {api}"));
    assert!(token.starts_with("cxi_") && token.starts_with(api["inbox_identifier"].as_str().unwrap()), "{api}");
    // The token is shown once: never in a read.
    let (_, again) = call(&s.app, "GET", &inboxes(&s.org, &format!("/{}", id(&api))), Some(&s.key), None).await;
    assert_eq!(
        (again["api_token"].clone(), again["inbox_identifier"].clone()),
        (Value::Null, api["inbox_identifier"].clone())
    );
}

#[actix_web::test]
async fn create_email_seed_body_is_422_naming_supported_types() {
    let s = setup().await;
    let (status, body) = call(&s.app, "POST", &inboxes(&s.org, ""), Some(&s.key), Some(seed(SEED_EMAIL))).await;
    assert_eq!(
        assert_error(status, &body, 422),
        "Channel type email is not supported; supported: web_widget, api, whatsapp"
    );
    for kind in ["line", "telegram", "sms"] {
        let body = json!({"name": "Other", "channel": {"type": kind, "bot_token": "x", "phone_number": "+15550100"}});
        let (status, answer) = call(&s.app, "POST", &inboxes(&s.org, ""), Some(&s.key), Some(body)).await;
        let sentence = assert_error(status, &answer, 422);
        assert!(sentence.contains(kind) && sentence.contains("web_widget, api, whatsapp"), "{sentence}");
    }
    let (_, list) = call(&s.app, "GET", &inboxes(&s.org, ""), Some(&s.key), None).await;
    assert_eq!(list["payload"].as_array().map(Vec::len), Some(2), "nothing was created: {list}");
}

#[actix_web::test]
async fn unknown_channel_type_is_invalid_channel_type() {
    let s = setup().await;
    let body = json!({"name": "Fax", "channel": {"type": "fax"}});
    let (status, answer) = call(&s.app, "POST", &inboxes(&s.org, ""), Some(&s.key), Some(body)).await;
    assert_eq!(status, 422);
    assert_eq!(answer, json!({"error": "Invalid channel type"}));
    // No type at all is a field at fault; so is a missing name.
    let (status, answer) = call(&s.app, "POST", &inboxes(&s.org, ""), Some(&s.key), Some(json!({"name": "X"}))).await;
    assert!(assert_error(status, &answer, 400).starts_with("channel.type: "), "{answer}");
    let body = json!({"channel": {"type": "api"}});
    let (status, answer) = call(&s.app, "POST", &inboxes(&s.org, ""), Some(&s.key), Some(body)).await;
    assert!(assert_error(status, &answer, 400).starts_with("name: "), "{answer}");
    let body = json!({"name": "Web", "channel": {"type": "web_widget", "widget_color": "blue"}});
    let (status, answer) = call(&s.app, "POST", &inboxes(&s.org, ""), Some(&s.key), Some(body)).await;
    assert!(assert_error(status, &answer, 400).starts_with("channel.widget_color: "), "{answer}");
}

#[actix_web::test]
async fn create_whatsapp_connects_the_number_with_metas_ids() {
    let s = setup().await;
    let n = crate::helpers::unique();
    let body = json!({"name": "Sales WhatsApp", "greeting_enabled": true, "channel": {
        "type": "whatsapp", "phone_number": "+15550100", "provider": "whatsapp_cloud",
        "provider_config": {"api_key": format!("EAAG-{n}"), "phone_number_id": format!("2{n:014}"), "business_account_id": format!("8{n}")}
    }});
    let (status, wa) = call(&s.app, "POST", &inboxes(&s.org, ""), Some(&s.key), Some(body.clone())).await;
    assert_eq!(status, 200, "{wa}");
    assert_eq!((wa["channel_type"].as_str(), wa["name"].as_str()), (Some("Channel::Whatsapp"), Some("Sales WhatsApp")));
    assert_eq!((wa["greeting_enabled"].as_bool(), wa["provider"].as_str()), (Some(true), Some("whatsapp_cloud")));
    let (_, accounts) = s.app.get("/api/v1/whatsapp-accounts", &s.org.token).await;
    let account = accounts["data"].as_array().unwrap().iter().find(|a| a["inboxId"] == wa["id"]).cloned();
    assert_eq!(account.map(|a| a["id"].clone()), Some(wa["channel_id"].clone()), "{accounts}");
    // The same number again is a conflict; a missing id is named.
    let (status, again) = call(&s.app, "POST", &inboxes(&s.org, ""), Some(&s.key), Some(body)).await;
    assert_error(status, &again, 409);
    let body = json!({"name": "WA", "channel": {"type": "whatsapp", "provider_config": {"api_key": "EAAG-x", "business_account_id": "81"}}});
    let (status, missing) = call(&s.app, "POST", &inboxes(&s.org, ""), Some(&s.key), Some(body)).await;
    assert!(assert_error(status, &missing, 422).contains("channel.provider_config.phone_number_id"), "{missing}");
}

#[actix_web::test]
async fn patch_seed_body() {
    let s = setup().await;
    // curl -X PATCH …/api/v1/accounts/1/inboxes/1 -d '{"name": "Updated Inbox Name", …}'
    let path = inboxes(&s.org, &format!("/{}", id(&s.widget)));
    let body = json!({"name": "Updated Inbox Name", "greeting_message": "Welcome! We are here to help.", "enable_auto_assignment": false});
    let (status, changed) = call(&s.app, "PATCH", &path, Some(&s.key), Some(body)).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "Updated Inbox Name");
    assert_eq!(changed["greeting_message"], "Welcome! We are here to help.");
    assert_eq!(
        (changed["enable_auto_assignment"].clone(), changed["greeting_enabled"].clone()),
        (json!(false), json!(true))
    );
    // The widget's look changes by field; the rest is kept.
    let (_, recolored) =
        call(&s.app, "PATCH", &path, Some(&s.key), Some(json!({"channel": {"widget_color": "#000000"}}))).await;
    assert_eq!(
        (recolored["widget_color"].as_str(), recolored["welcome_title"].as_str()),
        (Some("#000000"), Some("Welcome!"))
    );
    let (_, read) = call(&s.app, "GET", &path, Some(&s.key), None).await;
    assert_eq!(read["name"], "Updated Inbox Name");
    // A setting of another channel is refused on its field; an agent may not write.
    let (status, refused) =
        call(&s.app, "PATCH", &path, Some(&s.key), Some(json!({"channel": {"webhook_url": "https://x.example"}})))
            .await;
    assert!(assert_error(status, &refused, 400).starts_with("channel.webhook_url: "), "{refused}");
    let agent = crate::agents::add_agent(&s.app, &s.org, "Ann").await;
    let (status, body) = call(&s.app, "PATCH", &path, Some(&agent.token), Some(json!({"name": "Mine"}))).await;
    assert_error(status, &body, 403);
}

#[actix_web::test]
async fn working_hours_and_csat_objects_round_trip() {
    let s = setup().await;
    let path = inboxes(&s.org, &format!("/{}", id(&s.widget)));
    let hours = json!({"working_hours_enabled": true, "timezone": "America/New_York", "working_hours": [
        {"day_of_week": 1, "open_hour": 9, "open_minutes": 0, "close_hour": 17, "close_minutes": 0, "closed_all_day": false}
    ]});
    let csat = json!({"csat_survey_enabled": true, "csat_config": {"display_type": "emoji", "message": "How would you rate your experience?",
        "button_text": "Rate us", "language": "en", "survey_rules": {"operator": "contains", "values": ["resolved"]}}});
    let (status, _) = call(&s.app, "PATCH", &path, Some(&s.key), Some(hours.clone())).await;
    assert_eq!(status, 200);
    let (status, _) = call(&s.app, "PATCH", &path, Some(&s.key), Some(csat.clone())).await;
    assert_eq!(status, 200);
    let (_, inbox) = call(&s.app, "GET", &path, Some(&s.key), None).await;
    assert_eq!(
        (inbox["working_hours_enabled"].clone(), inbox["timezone"].clone()),
        (json!(true), json!("America/New_York"))
    );
    let days = inbox["working_hours"].as_array().unwrap();
    assert_eq!(days.len(), 7, "{inbox}");
    let monday = &days[1];
    for (k, v) in hours["working_hours"][0].as_object().unwrap() {
        assert_eq!(&monday[k], v, "{k} of {monday}");
    }
    assert!(days.iter().filter(|d| d["day_of_week"] != 1).all(|d| d["closed_all_day"] == true), "{days:?}");
    assert_eq!(
        (inbox["csat_survey_enabled"].clone(), inbox["csat_config"].clone()),
        (json!(true), csat["csat_config"].clone())
    );
    // The native API reads the same schedule and survey.
    let (_, native) = s.app.get(&format!("/api/v1/inboxes/{}", id(&s.widget)), &s.org.token).await;
    assert_eq!(native["data"]["workingHours"]["slots"], json!([{"day": "MON", "start": "09:00", "end": "17:00"}]));
    assert_eq!(native["data"]["csatConfig"]["surveyRule"]["values"], json!(["resolved"]));
    // Another day changes alone; a day closed drops its hours; a bad hour is named.
    let tuesday = json!({"working_hours": [{"day_of_week": 2, "open_all_day": true}, {"day_of_week": 1, "closed_all_day": true}]});
    let (_, changed) = call(&s.app, "PATCH", &path, Some(&s.key), Some(tuesday)).await;
    let days = &changed["working_hours"];
    assert_eq!(
        (days[2]["open_all_day"].clone(), days[1]["closed_all_day"].clone()),
        (json!(true), json!(true)),
        "{changed}"
    );
    assert_eq!(days[1]["open_hour"], Value::Null);
    let bad = json!({"working_hours": [{"day_of_week": 3, "open_hour": 25, "close_hour": 17}]});
    let (status, answer) = call(&s.app, "PATCH", &path, Some(&s.key), Some(bad)).await;
    assert!(assert_error(status, &answer, 400).starts_with("working_hours[0].open_hour: "), "{answer}");
    let bad = json!({"timezone": "Mars/Base"});
    let (status, answer) = call(&s.app, "PATCH", &path, Some(&s.key), Some(bad)).await;
    assert!(assert_error(status, &answer, 400).starts_with("timezone: "), "{answer}");
    let bad = json!({"csat_config": {"display_type": "stars"}});
    let (status, answer) = call(&s.app, "PATCH", &path, Some(&s.key), Some(bad)).await;
    assert!(assert_error(status, &answer, 400).starts_with("csat_config.display_type: "), "{answer}");
}

#[actix_web::test]
async fn delete_removes_conversations() {
    let s = setup().await;
    let wa_id = format!("4917{}", crate::helpers::unique());
    let conversation = s.app.customer_says(&s.org, &s.account, &wa_id, "hello").await;
    let wa = whatsapp_inbox(&s).await;
    assert_eq!(s.app.count("conversations").await, 1);
    assert!(s.app.count("messages").await >= 1);
    // curl -X DELETE …/api/v1/accounts/1/inboxes/3
    let (status, body) = call(&s.app, "DELETE", &inboxes(&s.org, &format!("/{}", id(&wa))), Some(&s.key), None).await;
    assert_eq!((status, body), (200, json!("")));
    assert_eq!((s.app.count("conversations").await, s.app.count("messages").await), (0, 0));
    let (status, gone) = s.app.get(&format!("/api/v1/conversations/{conversation}"), &s.org.token).await;
    assert_eq!(status, 404, "{gone}");
    let (status, body) = call(&s.app, "GET", &inboxes(&s.org, &format!("/{}", id(&wa))), Some(&s.key), None).await;
    assert_eq!(assert_error(status, &body, 404), "Inbox not found");
    let (_, accounts) = s.app.get("/api/v1/whatsapp-accounts", &s.org.token).await;
    assert_eq!(accounts["data"], json!([]), "the number went with its inbox");
    // The web widget, with no conversations, goes too; twice is 404.
    let path = inboxes(&s.org, &format!("/{}", id(&s.widget)));
    assert_eq!(call(&s.app, "DELETE", &path, Some(&s.key), None).await.0, 200);
    let (status, body) = call(&s.app, "DELETE", &path, Some(&s.key), None).await;
    assert_eq!(assert_error(status, &body, 404), "Inbox not found");
}

#[actix_web::test]
async fn agent_bot_get_and_set_and_clear() {
    let s = setup().await;
    let llm = crate::fake_llm::FakeLlm::start();
    let bot = crate::bot::configure(&s.app, &s.org, &llm).await;
    let bot_id = bot["data"]["id"].as_str().unwrap().to_owned();
    let other = s.app.register("Other").await;
    let foreign = crate::bot::configure(&s.app, &other, &llm).await;
    let one = inboxes(&s.org, &format!("/{}", id(&s.widget)));
    let (bot_path, set_path) = (format!("{one}/agent_bot"), format!("{one}/set_agent_bot"));
    let get = || call(&s.app, "GET", &bot_path, Some(&s.key), None);
    let set = |v: Value| call(&s.app, "POST", &set_path, Some(&s.key), Some(v));
    let (status, none) = get().await;
    assert_eq!(assert_error(status, &none, 404), "Agent bot not found");
    // curl -X POST …/inboxes/1/set_agent_bot -d '{"agent_bot": 1}'
    assert_eq!(set(json!({"agent_bot": bot_id})).await, (200, json!({})));
    let (status, got) = get().await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got, json!({"id": bot_id, "name": bot["data"]["name"], "description": null}));
    let (_, native) = s.app.get(&format!("/api/v1/inboxes/{}", id(&s.widget)), &s.org.token).await;
    assert_eq!(native["data"]["botConfigId"], bot_id.as_str());
    // Another organization's bot, or none named, is refused on the field; null clears.
    let (status, answer) = set(json!({"agent_bot": foreign["data"]["id"]})).await;
    assert!(assert_error(status, &answer, 400).starts_with("agent_bot: "), "{answer}");
    let (status, answer) = set(json!({})).await;
    assert!(assert_error(status, &answer, 400).starts_with("agent_bot: "), "{answer}");
    assert_eq!(get().await.0, 200, "a refused change keeps the bot");
    assert_eq!(set(json!({"agent_bot": null})).await, (200, json!({})));
    assert_eq!(get().await.0, 404);
}

#[actix_web::test]
async fn avatar_delete() {
    let s = setup().await;
    let inbox_id = id(&s.widget);
    let png = b"\x89PNG\r\n\x1a\nrest-of-image".to_vec();
    let key = format!("avatars/inboxes/{inbox_id}.png");
    s.app.state.media.put(&key, png.clone()).await.unwrap();
    {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
        let row = entities::inbox::Entity::find_by_id(inbox_id.clone()).one(&s.app.db).await.unwrap().unwrap();
        let mut am = row.into_active_model();
        am.avatar_path = Set(Some(key.clone()));
        am.update(&s.app.db).await.unwrap();
    }
    let path = inboxes(&s.org, &format!("/{inbox_id}"));
    let (_, inbox) = call(&s.app, "GET", &path, Some(&s.key), None).await;
    let url = inbox["avatar_url"].as_str().unwrap_or_else(|| panic!("no avatar_url: {inbox}")).to_owned();
    assert_eq!(url, format!("{path}/avatar"));
    let res = s.app.client.get(s.app.url(&url)).header("api_access_token", &s.key).send().await.unwrap();
    assert_eq!(
        (res.status().as_u16(), res.headers()["content-type"].to_str().unwrap().to_owned()),
        (200, "image/png".to_owned())
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), png);
    // curl -X DELETE …/inboxes/1/avatar
    assert_eq!(call(&s.app, "DELETE", &url, Some(&s.key), None).await, (200, json!({})));
    let (_, inbox) = call(&s.app, "GET", &path, Some(&s.key), None).await;
    assert_eq!(inbox["avatar_url"], Value::Null);
    assert!(s.app.state.media.get(&key).await.is_err(), "the file went with it");
    let (status, body) = call(&s.app, "GET", &url, Some(&s.key), None).await;
    assert_eq!(assert_error(status, &body, 404), "Avatar not found");
    assert_eq!(call(&s.app, "DELETE", &url, Some(&s.key), None).await.0, 200, "nothing to remove is fine");
}

#[actix_web::test]
async fn campaigns_of_the_inbox() {
    let s = setup().await;
    let template = crate::campaigns::promo(&s.app, &s.org).await;
    let later = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let body = json!({"name": "Winter", "templateId": template, "recipients": crate::campaigns::people(2, 100), "scheduledAt": later});
    let (status, created) = s.app.post("/api/v1/campaigns", &s.org.token, body).await;
    assert_eq!(status, 201, "{created}");
    let wa = whatsapp_inbox(&s).await;
    // curl -X GET …/inboxes/1/campaigns
    let (status, list) =
        call(&s.app, "GET", &inboxes(&s.org, &format!("/{}/campaigns", id(&wa))), Some(&s.key), None).await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().unwrap_or_else(|| panic!("not a bare array: {list}"));
    assert_eq!(list.len(), 1);
    let c = &list[0];
    assert_eq!((c["title"].as_str(), c["campaign_status"].as_str()), (Some("Winter"), Some("active")));
    assert_eq!((c["status"].as_str(), c["audience_size"].as_i64()), (Some("scheduled"), Some(2)));
    assert_eq!((c["template_name"].as_str(), c["inbox_id"].clone()), (Some("promo"), wa["id"].clone()));
    let (status, none) =
        call(&s.app, "GET", &inboxes(&s.org, &format!("/{}/campaigns", id(&s.widget))), Some(&s.key), None).await;
    assert_eq!((status, none), (200, json!([])));
}

#[actix_web::test]
async fn sync_templates_whatsapp_only() {
    let s = setup().await;
    let waba = crate::templates::waba_of(&s.app, &s.org, &s.account).await;
    s.app.graph.templates(|f| {
        f.stored.push((
            waba.clone(),
            json!({"id": "991", "name": "made_at_meta", "language": "en", "status": "APPROVED",
            "category": "UTILITY", "components": [{"type": "BODY", "text": "Hello"}]}),
        ));
    });
    let wa = whatsapp_inbox(&s).await;
    // curl -X POST …/inboxes/1/sync_templates
    let (status, report) =
        call(&s.app, "POST", &inboxes(&s.org, &format!("/{}/sync_templates", id(&wa))), Some(&s.key), None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report, json!({"created": 1, "updated": 0, "unchanged": 0, "removed": 0, "errors": []}));
    let (_, templates) = s.app.get("/api/v1/templates?status=APPROVED", &s.org.token).await;
    assert_eq!(templates["data"][0]["name"], "made_at_meta", "{templates}");
    let (status, body) =
        call(&s.app, "POST", &inboxes(&s.org, &format!("/{}/sync_templates", id(&s.widget))), Some(&s.key), None).await;
    assert_eq!(assert_error(status, &body, 422), "Template sync is only available for WhatsApp channels");
}

#[actix_web::test]
async fn health_in_the_seed_shape() {
    let s = setup().await;
    s.app.graph.set_health(&s.account.phone_number_id, "GREEN", "TIER_1K", json!("STANDARD"));
    let wa = whatsapp_inbox(&s).await;
    // curl -X GET …/inboxes/1/health
    let path = inboxes(&s.org, &format!("/{}/health", id(&wa)));
    let (status, health) = call(&s.app, "GET", &path, Some(&s.key), None).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health, json!({"status": "healthy", "quality_rating": "green", "messaging_limit": "tier_1k"}));
    let (status, body) =
        call(&s.app, "GET", &inboxes(&s.org, &format!("/{}/health", id(&s.widget))), Some(&s.key), None).await;
    assert!(assert_error(status, &body, 422).contains("WhatsApp"), "{body}");
}

#[actix_web::test]
async fn api_access_token_header_authenticates_and_bearer_too() {
    let s = setup().await;
    let path = inboxes(&s.org, "");
    // An API key and an access token, each in either header.
    for token in [s.key.as_str(), s.org.token.as_str()] {
        let (status, body) = call(&s.app, "GET", &path, Some(token), None).await;
        assert_eq!((status, body["payload"].as_array().map(Vec::len)), (200, Some(2)), "{body}");
        let res = s.app.client.get(s.app.url(&path)).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
    // The header wins over a bad Bearer.
    let res =
        s.app.client.get(s.app.url(&path)).header("api_access_token", &s.key).bearer_auth("nope").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[actix_web::test]
async fn unauthenticated_is_401_in_the_surface_shape() {
    let s = setup().await;
    let one = inboxes(&s.org, &format!("/{}", id(&s.widget)));
    for (method, path) in
        [("GET", inboxes(&s.org, "")), ("GET", one.clone()), ("DELETE", one.clone()), ("GET", format!("{one}/health"))]
    {
        for token in [None, Some("cxk_not-a-key"), Some("not-a-jwt")] {
            let (status, body) = call(&s.app, method, &path, token, None).await;
            assert_error(status, &body, 401);
        }
    }
    let (status, body) = call(&s.app, "POST", &inboxes(&s.org, ""), None, Some(seed(SEED_API))).await;
    assert_error(status, &body, 401);
    assert_eq!(
        call(&s.app, "GET", &inboxes(&s.org, ""), Some(&s.key), None).await.1["payload"].as_array().map(Vec::len),
        Some(2)
    );
}

#[actix_web::test]
async fn another_accounts_ids_are_404_in_the_surface_shape() {
    let s = setup().await;
    let other = s.app.register("Other").await;
    let other_key = api_key(&s.app, &other).await;
    let one = format!("/{}", id(&s.widget));
    // The other organization's key, on its own account path, meets none of these inboxes.
    for (method, rest, body) in [
        ("GET", one.clone(), None),
        ("PATCH", one.clone(), Some(json!({"name": "Taken"}))),
        ("DELETE", one.clone(), None),
        ("GET", format!("{one}/agent_bot"), None),
        ("POST", format!("{one}/set_agent_bot"), Some(json!({"agent_bot": null}))),
        ("DELETE", format!("{one}/avatar"), None),
        ("GET", format!("{one}/campaigns"), None),
        ("POST", format!("{one}/sync_templates"), None),
        ("GET", format!("{one}/health"), None),
    ] {
        let (status, answer) = call(&s.app, method, &inboxes(&other, &rest), Some(&other_key), body.clone()).await;
        assert_eq!(assert_error(status, &answer, 404), "Inbox not found", "{method} {rest}");
        // Its key on this organization's account path: the account is not its own.
        let (status, answer) = call(&s.app, method, &inboxes(&s.org, &rest), Some(&other_key), body).await;
        assert_eq!(assert_error(status, &answer, 404), "Account not found", "{method} {rest}");
    }
    let (status, answer) = call(&s.app, "GET", &inboxes(&s.org, ""), Some(&other_key), None).await;
    assert_eq!(assert_error(status, &answer, 404), "Account not found");
    let (status, list) = call(&s.app, "GET", &inboxes(&other, ""), Some(&other_key), None).await;
    assert_eq!((status, list), (200, json!({"payload": []})));
    // Still there, unchanged.
    let (_, mine) = call(&s.app, "GET", &inboxes(&s.org, &one), Some(&s.key), None).await;
    assert_eq!(mine["name"], "Website Support");
}

#[actix_web::test]
async fn what_the_scope_refuses_by_itself_is_in_the_surface_shape() {
    let s = setup().await;
    let one = inboxes(&s.org, &format!("/{}", id(&s.widget)));
    // A body that is not JSON, or of the wrong type.
    let res = s
        .app
        .client
        .patch(s.app.url(&one))
        .header("api_access_token", &s.key)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::status_json(res).await;
    assert_error(status, &body, 400);
    let (status, body) = call(&s.app, "PATCH", &one, Some(&s.key), Some(json!({"greeting_enabled": "yes"}))).await;
    assert!(assert_error(status, &body, 400).contains("invalid request body"), "{body}");
    let (status, body) = call(&s.app, "PATCH", &one, Some(&s.key), Some(json!({"csat_config": {"colour": 1}}))).await;
    assert!(assert_error(status, &body, 400).starts_with("colour: "), "{body}");
    // A method no route takes there, and a path this API does not serve.
    let (status, body) = call(&s.app, "PUT", &one, Some(&s.key), Some(json!({}))).await;
    assert_eq!(assert_error(status, &body, 404), "Route not found");
    let contacts = format!("/api/v1/accounts/{}/contacts", s.org.org_id);
    let (status, body) = call(&s.app, "GET", &contacts, Some(&s.key), None).await;
    assert_eq!(assert_error(status, &body, 404), "Route not found");
    // A body over the limit.
    let big = json!({"name": "x".repeat(cx_inbox::startup::JSON_LIMIT + 1)});
    let (status, body) = call(&s.app, "PATCH", &one, Some(&s.key), Some(big)).await;
    assert_error(status, &body, 413);
    // The native API keeps its own shape.
    let (status, native) = s.app.get("/api/v1/inboxes/nope", &s.org.token).await;
    assert_eq!((status, native["error"]["code"].as_str()), (404, Some("not_found")));
}

#[actix_web::test]
async fn every_compat_route_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let (status, spec) = app.get("/api/v1/openapi.json", "").await;
    assert_eq!(status, 200);
    let scheme = &spec["components"]["securitySchemes"]["api_access_token"];
    assert_eq!(
        (scheme["type"].as_str(), scheme["in"].as_str(), scheme["name"].as_str()),
        (Some("apiKey"), Some("header"), Some("api_access_token"))
    );
    let base = "/api/v1/accounts/{account_id}/inboxes";
    for (method, rest) in [
        ("get", ""),
        ("post", ""),
        ("get", "/{id}"),
        ("patch", "/{id}"),
        ("delete", "/{id}"),
        ("get", "/{id}/agent_bot"),
        ("post", "/{id}/set_agent_bot"),
        ("get", "/{id}/avatar"),
        ("delete", "/{id}/avatar"),
        ("get", "/{id}/campaigns"),
        ("post", "/{id}/sync_templates"),
        ("get", "/{id}/health"),
    ] {
        let op = &spec["paths"][format!("{base}{rest}")][method];
        assert_eq!(op["tags"], json!(["compat-chatwoot"]), "{method} {rest}: {op}");
        assert_eq!(op["security"], json!([{"api_access_token": []}, {"bearer": []}]), "{method} {rest}");
        let names: Vec<&str> = op["parameters"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
        let want: Vec<&str> = if rest.is_empty() { vec!["account_id"] } else { vec!["account_id", "id"] };
        assert_eq!(names, want, "{method} {rest}");
        assert!(op["responses"]["401"].is_object(), "{method} {rest}");
    }
    let tagged = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|m| m.as_object().unwrap().values())
        .filter(|op| op["tags"] == json!(["compat-chatwoot"]))
        .count();
    assert_eq!(tagged, 12, "no Chatwoot route outside the list above");
}
