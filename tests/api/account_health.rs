//! Meta app settings, Embedded Signup and a number's health (WHATSAPP-ACCOUNTS-1, -2, -4, -8),
//! against the fake Graph API playing Meta.

use serde_json::{Value, json};

use crate::agents::add_agent;
use crate::helpers::{APP_SECRET, Org, TestApp, spawn_app, spawn_app_with, unique};

const APP_ID: &str = "1234567890";
const CONFIG_ID: &str = "987654321";

async fn configure(app: &TestApp, org: &Org) {
    let (status, body) = app
        .put("/api/v1/whatsapp-accounts/meta-config", &org.token, json!({"appId": APP_ID, "configId": CONFIG_ID}))
        .await;
    assert_eq!(status, 200, "{body}");
}

fn ids() -> (String, String) {
    let n = unique();
    (format!("8{n}"), format!("2{n:014}"))
}

#[actix_web::test]
async fn meta_config_round_trips_for_admins_and_never_shows_the_app_secret() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let agent = add_agent(&app, &org, "Ann").await;

    let (status, body) = app.get("/api/v1/whatsapp-accounts/meta-config", &org.token).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["data"]["appId"].clone(), body["data"]["appSecretConfigured"].clone()),
        (Value::Null, json!(true))
    );

    let path = "/api/v1/whatsapp-accounts/meta-config";
    assert_eq!(app.put(path, &agent.token, json!({"appId": APP_ID, "configId": CONFIG_ID})).await.0, 403);
    for (bad, field) in [
        (json!({"appId": "my-app", "configId": CONFIG_ID}), "appId"),
        (json!({"appId": APP_ID, "configId": " "}), "configId"),
    ] {
        let (status, e) = app.put(path, &org.token, bad).await;
        assert_eq!((status, e["error"]["details"]["field"].as_str()), (400, Some(field)), "{e}");
    }
    configure(&app, &org).await;
    let (status, body) = app.put(path, &org.token, json!({"appId": APP_ID, "configId": "555"})).await;
    assert_eq!(status, 200, "{body}");

    let (_, read) = app.get(path, &agent.token).await;
    assert_eq!((read["data"]["appId"].as_str(), read["data"]["configId"].as_str()), (Some(APP_ID), Some("555")));
    assert_eq!(read["data"]["appSecretConfigured"], true);
    assert!(read["data"]["graphVersion"].is_string());
    assert!(!read.to_string().contains(APP_SECRET) && !body.to_string().contains(APP_SECRET));

    let other = app.register("Other").await;
    assert_eq!(app.get(path, &other.token).await.1["data"]["appId"], Value::Null, "settings are per organization");

    let no_secret = spawn_app_with(|c| c.whatsapp_app_secret = None).await;
    let org = no_secret.register("Acme").await;
    assert_eq!(no_secret.get(path, &org.token).await.1["data"]["appSecretConfigured"], false);
}

#[actix_web::test]
async fn embedded_signup_exchanges_the_code_subscribes_registers_and_connects_the_number() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    configure(&app, &org).await;
    let (waba, number) = ids();
    let token = app.graph.embedded_signup("code-ok", &waba, &[(&number, "+1 555-0101")]);

    let (status, body) =
        app.post("/api/v1/whatsapp-accounts/connect", &org.token, json!({"code": "code-ok", "alias": "Sales"})).await;
    assert_eq!(status, 201, "{body}");
    let connected = &body["data"]["accounts"][0];
    assert_eq!((connected["wabaId"].as_str(), connected["phoneNumberId"].as_str()), (Some(&*waba), Some(&*number)));
    assert_eq!(
        (connected["displayPhoneNumber"].as_str(), connected["alias"].as_str()),
        (Some("+1 555-0101"), Some("Sales"))
    );
    assert_eq!(connected["status"], "connected");
    assert_eq!(body["data"]["warnings"], json!([]), "{body}");
    assert!(!body.to_string().contains(&token), "the token is never returned");

    // Meta saw the code exchange with the app's id and secret, and the number's business account
    // was found through debug_token, asked with the app's token.
    let exchange = app.graph.code_exchanges().pop().unwrap();
    for part in [format!("client_id={APP_ID}"), format!("client_secret={APP_SECRET}"), "code=code-ok".into()] {
        assert!(exchange.contains(&part), "{exchange}");
    }
    let requests = app.graph.requests();
    let debug = requests.iter().find(|r| r.path.ends_with("/debug_token")).expect("debug_token asked");
    assert_eq!(debug.authorization.as_deref(), Some(format!("Bearer {APP_ID}|{APP_SECRET}").as_str()));
    let subscribe =
        requests.iter().find(|r| r.method == "POST" && r.path.ends_with(&format!("/{waba}/subscribed_apps")));
    assert_eq!(subscribe.and_then(|r| r.authorization.as_deref()), Some(format!("Bearer {token}").as_str()));
    assert!(app.graph.registered(&number), "the number is registered for the Cloud API");

    use sea_orm::EntityTrait;
    let id = connected["id"].as_str().unwrap();
    let row = entities::whatsapp_account::Entity::find_by_id(id.to_owned()).one(&app.db).await.unwrap().unwrap();
    assert!(!row.access_token_enc.contains(&token), "encrypted at rest");
    assert_eq!(app.state.secrets.decrypt(&row.access_token_enc).unwrap(), token, "the business's token is kept");
    let (_, list) = app.get("/api/v1/whatsapp-accounts", &org.token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    // A code works once.
    let (status, e) = app.post("/api/v1/whatsapp-accounts/connect", &org.token, json!({"code": "code-ok"})).await;
    assert_eq!((status, e["error"]["details"]["field"].as_str()), (400, Some("code")), "{e}");

    // Disconnected and signed up again: Meta says the number is already registered, which is fine.
    assert_eq!(app.delete(&format!("/api/v1/whatsapp-accounts/{id}"), &org.token).await.0, 204);
    app.graph.embedded_signup("code-again", &waba, &[(&number, "+1 555-0101")]);
    let body = json!({"code": "code-again", "wabaId": waba, "phoneNumberId": number});
    let (status, again) = app.post("/api/v1/whatsapp-accounts/connect", &org.token, body).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["data"]["warnings"], json!([]), "{again}");
    assert_eq!(
        app.graph.requests().iter().filter(|r| r.path.ends_with("/debug_token")).count(),
        1,
        "ids given: no lookup"
    );
}

#[actix_web::test]
async fn embedded_signup_refusals_say_what_is_wrong() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let connect = |body: Value| app.post("/api/v1/whatsapp-accounts/connect", &org.token, body);

    let (status, e) = connect(json!({"code": "x"})).await;
    assert_eq!(status, 409, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("meta-config"), "{e}");
    configure(&app, &org).await;

    let (status, e) = connect(json!({"code": "not-a-code-meta-gave"})).await;
    assert_eq!((status, e["error"]["details"]["field"].as_str()), (400, Some("code")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("Error validating verification code"), "{e}");
    let (status, e) = connect(json!({"code": "  "})).await;
    assert_eq!((status, e["error"]["details"]["field"].as_str()), (400, Some("code")), "{e}");
    let agent = add_agent(&app, &org, "Ann").await;
    assert_eq!(app.post("/api/v1/whatsapp-accounts/connect", &agent.token, json!({"code": "x"})).await.0, 403);

    let (waba, number) = ids();
    app.graph.embedded_signup("no-numbers", &waba, &[]);
    let (status, e) = connect(json!({"code": "no-numbers"})).await;
    assert_eq!(status, 422, "{e}");
    app.graph.embedded_signup("other-number", &waba, &[(&number, "+1 555-0102")]);
    let (status, e) = connect(json!({"code": "other-number", "phoneNumberId": "999"})).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(app.count("whatsapp_accounts").await, 0);

    let no_secret = spawn_app_with(|c| c.whatsapp_app_secret = None).await;
    let org = no_secret.register("Acme").await;
    configure(&no_secret, &org).await;
    let (status, e) = no_secret.post("/api/v1/whatsapp-accounts/connect", &org.token, json!({"code": "x"})).await;
    assert_eq!(status, 409);
    assert!(e["error"]["message"].as_str().unwrap().contains("CX_WHATSAPP_APP_SECRET"), "{e}");
}

#[actix_web::test]
async fn health_answers_metas_figures_keeps_them_for_the_pacer_and_goes_stale_when_meta_is_down() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    app.graph.set_health(&account.phone_number_id, "YELLOW", "TIER_10K", json!("HIGH"));
    let path = format!("/api/v1/whatsapp-accounts/{}/health", account.id);
    let (status, body) = app.get(&path, &org.token).await;
    assert_eq!(status, 200, "{body}");
    let h = &body["data"];
    assert_eq!((h["qualityRating"].as_str(), h["messagingLimitTier"].as_str()), (Some("YELLOW"), Some("TIER_10K")));
    assert_eq!((h["throughputLevel"].as_i64(), h["nameStatus"].as_str()), (Some(1000), Some("APPROVED")));
    assert_eq!((h["verifiedName"].as_str(), h["phoneStatus"].as_str()), (Some("Test Co"), Some("CONNECTED")));
    assert_eq!(
        (h["accountReviewStatus"].as_str(), h["canSendMessage"].as_str()),
        (Some("APPROVED"), Some("AVAILABLE"))
    );
    assert_eq!(
        (h["cached"].as_bool(), h["stale"].as_bool(), h["cacheSeconds"].as_i64()),
        (Some(false), Some(false), Some(60))
    );
    assert_eq!(h["pacing"], json!({"perSecond": 1000, "dailyUniqueLimit": 10000}));
    use sea_orm::EntityTrait;
    let row = entities::whatsapp_account::Entity::find_by_id(account.id.clone()).one(&app.db).await.unwrap().unwrap();
    assert_eq!(
        (row.quality_rating.as_deref(), row.messaging_limit_tier.as_deref()),
        (Some("YELLOW"), Some("TIER_10K"))
    );
    assert_eq!(
        (row.throughput_level, row.name_status.as_deref()),
        (Some(1000), Some("APPROVED")),
        "kept for the pacer"
    );
    let health_reads = || app.graph.requests().iter().filter(|r| r.path.ends_with(&account.phone_number_id)).count();
    let reads = health_reads();

    // Within a minute the figures are reused; `refresh` asks Meta again.
    app.graph.set_health(&account.phone_number_id, "RED", "TIER_250", json!(50));
    let (_, body) = app.get(&path, &org.token).await;
    assert_eq!(
        (body["data"]["qualityRating"].as_str(), body["data"]["cached"].as_bool()),
        (Some("YELLOW"), Some(true))
    );
    assert_eq!(health_reads(), reads, "a cached answer does not ask Meta");
    let (_, body) = app.get(&format!("{path}?refresh=true"), &org.token).await;
    let h = &body["data"];
    assert_eq!((h["qualityRating"].as_str(), h["messagingLimitTier"].as_str()), (Some("RED"), Some("TIER_250")));
    assert_eq!(h["throughputLevel"], 50);
    assert_eq!(h["pacing"], json!({"perSecond": 50, "dailyUniqueLimit": 250}));

    // Meta unreachable: the last figures, marked stale with the reason.
    app.graph.set_health_down(true);
    let (status, body) = app.get(&format!("{path}?refresh=true"), &org.token).await;
    assert_eq!(status, 200, "{body}");
    let h = &body["data"];
    assert_eq!((h["stale"].as_bool(), h["qualityRating"].as_str()), (Some(true), Some("RED")));
    assert!(h["staleReason"].as_str().unwrap().contains("could not be reached"), "{body}");
    assert!(h["checkedAt"].is_string());

    let agent = add_agent(&app, &org, "Ann").await;
    assert_eq!(app.get(&path, &agent.token).await.0, 200, "any member reads the health");
    let other = app.register("Other").await;
    assert_eq!(app.get(&path, &other.token).await.0, 404);
    assert_eq!(app.get("/api/v1/whatsapp-accounts/nope/health", &org.token).await.0, 404);
}
