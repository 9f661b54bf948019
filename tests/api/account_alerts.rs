//! Account alerts from Meta's webhooks (WHATSAPP-ACCOUNTS-9..12): stored once per organization
//! with the business account, pushed as `account.alert`, counted and acknowledged.

use std::time::Duration;

use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::agents::add_agent;
use crate::helpers::{Org, TestApp, spawn_app, unique};

/// Connects a number Meta knows as `display`, of business account `waba`; answers its account id.
pub async fn connect_number(app: &TestApp, org: &Org, waba: &str, display: &str) -> (String, String) {
    let number = format!("3{:014}", unique());
    app.graph.add_number(waba, &number, display);
    let body = json!({"wabaId": waba, "phoneNumberId": number, "accessToken": format!("EAAG-{number}")});
    let (status, body) = app.post("/api/v1/whatsapp-accounts/connect-manual", &org.token, body).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["displayPhoneNumber"], display);
    (body["data"]["id"].as_str().unwrap().to_owned(), number)
}

/// An account-level webhook as Meta sends it: the change under an entry with its `time`.
pub fn account_webhook(waba: &str, time: i64, field: &str, value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": waba, "time": time, "changes": [{"field": field, "value": value}]}]
    })
}

fn downgrade(waba: &str, time: i64, display: &str) -> Value {
    account_webhook(
        waba,
        time,
        "phone_number_quality_update",
        json!({"display_phone_number": display, "event": "DOWNGRADE", "current_limit": "TIER_1K", "old_limit": "TIER_10K"}),
    )
}

async fn unread(app: &TestApp, token: &str) -> u64 {
    let (status, body) = app.get("/api/v1/whatsapp-accounts/alerts/unread-count", token).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["count"].as_u64().unwrap()
}

fn waba_id() -> String {
    format!("7{}", unique())
}

#[actix_web::test]
async fn a_quality_downgrade_is_stored_slows_the_number_and_reaches_the_agent_socket() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let waba = waba_id();
    let (account_id, number) = connect_number(&app, &org, &waba, "+1 555-0177").await;
    // Another organization with another number of the same business account hears of it too.
    let other = app.register("Partner").await;
    let (other_account, _) = connect_number(&app, &other, &waba, "+1 555-0178").await;
    app.graph.set_health(&number, "GREEN", "TIER_10K", json!("STANDARD"));
    let health = format!("/api/v1/whatsapp-accounts/{account_id}/health");
    let (status, body) = app.get(&health, &org.token).await;
    assert_eq!((status, body["data"]["pacing"]["dailyUniqueLimit"].as_u64()), (200, Some(10_000)));
    let mut socket = app.socket(&org.token, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let webhook = downgrade(&waba, 1_765_000_000, "15550177");
    let (status, body) = app.post_webhook(&webhook).await;
    assert_eq!((status, body["data"]["alerts"].as_u64()), (200, Some(2)), "{body}");

    let events = socket.until(Duration::from_secs(3), |e| e["event"] == "account.alert").await.expect("pushed");
    let alert = &events.last().unwrap()["data"];
    assert_eq!((alert["type"].as_str(), alert["severity"].as_str()), (Some("DOWNGRADE"), Some("CRITICAL")));
    assert_eq!((alert["accountId"].as_str(), alert["wabaId"].as_str()), (Some(&*account_id), Some(&*waba)));
    assert_eq!(alert["source"], "phone_number_quality_update");
    assert_eq!(alert["acknowledged"], false);
    assert_eq!(alert["occurredAt"], "2025-12-06T05:46:40Z");

    // The tier is lowered where the campaign pacer reads it, and the health (from the last
    // minute's check, not Meta) shows it.
    let row = entities::whatsapp_account::Entity::find_by_id(account_id.clone()).one(&app.db).await.unwrap().unwrap();
    assert_eq!(row.messaging_limit_tier.as_deref(), Some("TIER_1K"));
    let (_, body) = app.get(&health, &org.token).await;
    assert_eq!(
        (body["data"]["messagingLimitTier"].as_str(), body["data"]["cached"].as_bool()),
        (Some("TIER_1K"), Some(true))
    );
    assert_eq!(body["data"]["pacing"], json!({"perSecond": 80, "dailyUniqueLimit": 1000}));
    let (_, list) = app.get("/api/v1/whatsapp-accounts/alerts", &org.token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], alert["id"]);

    // The partner's copy names no account of theirs, and their number keeps its tier.
    let (_, theirs) = app.get("/api/v1/whatsapp-accounts/alerts", &other.token).await;
    assert_eq!(
        (theirs["data"][0]["type"].as_str(), theirs["data"][0]["accountId"].clone()),
        (Some("DOWNGRADE"), Value::Null)
    );
    let theirs = entities::whatsapp_account::Entity::find_by_id(other_account).one(&app.db).await.unwrap().unwrap();
    assert_eq!(theirs.messaging_limit_tier, None);

    // Meta delivers the same webhook again: nothing new.
    let (status, body) = app.post_webhook(&webhook).await;
    assert_eq!((status, body["data"]["alerts"].as_u64(), body["data"]["duplicates"].as_u64()), (200, Some(0), Some(2)));
    assert_eq!(app.count("account_alerts").await, 2);
    assert!(socket.until(Duration::from_millis(500), |e| e["event"] == "account.alert").await.is_none());
    // A later downgrade is a new alert.
    let (_, body) = app.post_webhook(&downgrade(&waba, 1_765_000_100, "15550177")).await;
    assert_eq!(body["data"]["alerts"], 2);
}

#[actix_web::test]
async fn account_alerts_and_account_updates_are_stored_in_metas_words_newest_first() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let waba = waba_id();
    let (account_id, number) = connect_number(&app, &org, &waba, "+1 555-0190").await;

    let alert = json!({"entity_type": "PHONE_NUMBER", "entity_id": number, "alert_info": {
        "alert_severity": "WARNING", "alert_status": "ACTIVE", "alert_type": "INCREASED_CAPACITY_THRESHOLD",
        "alert_description": "Your number can message more customers"}});
    let (status, body) = app.post_webhook(&account_webhook(&waba, 1_765_000_000, "account_alerts", alert)).await;
    assert_eq!((status, body["data"]["alerts"].as_u64()), (200, Some(1)), "{body}");
    let ban = json!({"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "SCHEDULE_FOR_DISABLE", "waba_ban_date": "2026-12-24"}});
    let (_, body) = app.post_webhook(&account_webhook(&waba, 1_765_000_500, "account_update", ban)).await;
    assert_eq!(body["data"]["alerts"], 1, "{body}");

    let (status, list) = app.get("/api/v1/whatsapp-accounts/alerts?acknowledged=false", &org.token).await;
    assert_eq!(status, 200, "{list}");
    let items = list["data"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!((items[0]["type"].as_str(), items[0]["severity"].as_str()), (Some("DISABLED_UPDATE"), Some("CRITICAL")));
    assert!(items[0]["title"].as_str().unwrap().contains("SCHEDULE_FOR_DISABLE"));
    assert_eq!(items[0]["details"]["ban_info"]["waba_ban_date"], "2026-12-24");
    let a = &items[1];
    assert_eq!(
        (a["type"].as_str(), a["severity"].as_str(), a["status"].as_str()),
        (Some("INCREASED_CAPACITY_THRESHOLD"), Some("WARNING"), Some("ACTIVE"))
    );
    assert_eq!(
        (a["accountId"].as_str(), a["description"].as_str()),
        (Some(&*account_id), Some("Your number can message more customers"))
    );
    assert_eq!(list["pagination"], json!({"page": 1, "limit": 20, "total": 2, "totalPages": 1}));

    let (_, page) = app.get("/api/v1/whatsapp-accounts/alerts?limit=1&page=2", &org.token).await;
    assert_eq!(page["data"][0]["id"], a["id"]);
    assert_eq!(page["pagination"]["totalPages"], 2);
    let (status, e) = app.get("/api/v1/whatsapp-accounts/alerts?acknowledged=maybe", &org.token).await;
    assert_eq!((status, e["error"]["details"]["field"].as_str()), (400, Some("acknowledged")));
    let (status, e) = app.get("/api/v1/whatsapp-accounts/alerts?page=0", &org.token).await;
    assert_eq!((status, e["error"]["details"]["field"].as_str()), (400, Some("page")));

    // A business account nobody connected here: acknowledged, nothing stored.
    let (status, body) = app
        .post_webhook(&account_webhook(
            &waba_id(),
            1_765_000_000,
            "account_update",
            json!({"event": "VERIFIED_ACCOUNT"}),
        ))
        .await;
    assert_eq!((status, body["data"]["unknownNumbers"].as_u64()), (200, Some(1)));
    assert_eq!(app.count("account_alerts").await, 2);
}

#[actix_web::test]
async fn alerts_are_counted_acknowledged_one_or_all_and_kept_to_their_organization() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let waba = waba_id();
    connect_number(&app, &org, &waba, "+1 555-0191").await;
    for t in 0..3 {
        let (_, body) = app.post_webhook(&downgrade(&waba, 1_765_000_000 + t, "15550191")).await;
        assert_eq!(body["data"]["alerts"], 1, "{body}");
    }
    assert_eq!(unread(&app, &org.token).await, 3);
    let (_, list) = app.get("/api/v1/whatsapp-accounts/alerts", &org.token).await;
    let id = list["data"][0]["id"].as_str().unwrap().to_owned();
    let ack = format!("/api/v1/whatsapp-accounts/alerts/{id}/acknowledge");

    let agent = add_agent(&app, &org, "Ann").await;
    assert_eq!(unread(&app, &agent.token).await, 3, "agents see the count");
    assert_eq!(app.post(&ack, &agent.token, json!({})).await.0, 403);
    let other = app.register("Other").await;
    assert_eq!(app.post(&ack, &other.token, json!({})).await.0, 404, "another organization's alert");
    assert_eq!(unread(&app, &other.token).await, 0);
    assert_eq!(app.get("/api/v1/whatsapp-accounts/alerts", &other.token).await.1["data"], json!([]));
    assert_eq!(app.post("/api/v1/whatsapp-accounts/alerts/nope/acknowledge", &org.token, json!({})).await.0, 404);

    let (status, body) = app.post(&ack, &org.token, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["data"]["acknowledged"].as_bool(), body["data"]["acknowledgedBy"].as_str()),
        (Some(true), Some(&*org.user_id))
    );
    let at = body["data"]["acknowledgedAt"].clone();
    assert!(at.is_string());
    assert_eq!(unread(&app, &org.token).await, 2);
    let (_, again) = app.post(&ack, &org.token, json!({})).await;
    assert_eq!(again["data"]["acknowledgedAt"], at, "acknowledging again keeps who and when");

    assert_eq!(app.post("/api/v1/whatsapp-accounts/alerts/acknowledge-all", &agent.token, json!({})).await.0, 403);
    let (status, body) = app.post("/api/v1/whatsapp-accounts/alerts/acknowledge-all", &org.token, json!({})).await;
    assert_eq!((status, body["data"]["count"].as_u64()), (200, Some(2)), "{body}");
    assert_eq!(unread(&app, &org.token).await, 0);
    let (_, done) = app.get("/api/v1/whatsapp-accounts/alerts?acknowledged=true", &org.token).await;
    assert_eq!(done["pagination"]["total"], 3);
    assert!(done["data"].as_array().unwrap().iter().all(|a| a["acknowledgedBy"] == org.user_id.as_str()));
    let (_, open) = app.get("/api/v1/whatsapp-accounts/alerts?acknowledged=false", &org.token).await;
    assert_eq!(open["data"], json!([]));
}
