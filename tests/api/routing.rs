//! ROUTING-RULES-1..18 and CONVERSATIONS-6: rules choose the team of a new conversation by its
//! first message, conflicts are found, open conversations are re-routed, and the routing
//! settings are kept.

use serde_json::{Value, json};

use crate::agents::{add_agent, conversation};
use crate::helpers::{Org, TestApp, spawn_app};

async fn team(app: &TestApp, org: &Org, name: &str) -> String {
    let (s, b) = app.post("/api/v1/teams", &org.token, json!({"name": name})).await;
    assert_eq!(s, 201, "{b}");
    b["data"]["id"].as_str().unwrap().to_owned()
}

async fn rule(app: &TestApp, org: &Org, name: &str, team_id: &str, conditions: Value) -> Value {
    let (s, b) = app
        .post("/api/v1/routing-rules", &org.token, json!({"name": name, "teamId": team_id, "conditions": conditions}))
        .await;
    assert_eq!(s, 201, "{b}");
    b["data"].clone()
}

#[actix_web::test]
async fn routing_rules_choose_the_team_of_a_new_whatsapp_conversation_by_keyword() {
    let app = spawn_app().await;
    let org = app.register("Routing").await;
    let account = app.connect_account(&org).await;
    let billing = team(&app, &org, "Billing").await;
    let sales = team(&app, &org, "Sales").await;
    let general = team(&app, &org, "General").await;
    rule(
        &app,
        &org,
        "Money",
        &billing,
        json!([{"field": "message", "operator": "keywords", "value": ["refund", "invoice"]}]),
    )
    .await;
    rule(&app, &org, "Buying", &sales, json!([{"field": "message", "operator": "contains", "value": "price"}])).await;
    let (s, b) = app.put("/api/v1/routing-rules/default-team", &org.token, json!({"teamId": general})).await;
    assert_eq!(s, 200, "{b}");

    let c1 = app.customer_says(&org, &account, "491700000001", "Hi, I need a REFUND for my order").await;
    let c2 = app.customer_says(&org, &account, "491700000002", "What is the price of the blue one?").await;
    let c3 = app.customer_says(&org, &account, "491700000003", "Hello there").await;
    let c4 = app.customer_says(&org, &account, "491700000004", "I was refunded twice").await;
    assert_eq!(conversation(&app, &org, &c1).await["teamId"], billing.as_str());
    assert_eq!(conversation(&app, &org, &c2).await["teamId"], sales.as_str());
    assert_eq!(conversation(&app, &org, &c3).await["teamId"], general.as_str(), "no rule matched: default team");
    assert_eq!(conversation(&app, &org, &c4).await["teamId"], general.as_str(), "keywords match whole words");

    // A later message does not re-route on its own; the re-route endpoint does.
    app.customer_says(&org, &account, "491700000003", "actually, about an invoice").await;
    assert_eq!(conversation(&app, &org, &c3).await["teamId"], general.as_str());
    let (s, b) = app.post(&format!("/api/v1/conversations/{c3}/re-route"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["teamId"], billing.as_str());
    assert_eq!(b["data"]["ruleName"], "Money");
    assert_eq!(b["data"]["changed"], true);
    assert_eq!(conversation(&app, &org, &c3).await["teamId"], billing.as_str());
    // The list and its counts filter by team.
    let (_, counts) = app.get(&format!("/api/v1/conversations/counts?teamId={billing}"), &org.token).await;
    assert_eq!(counts["data"]["all"], 2, "{counts}");
    let (_, list) = app.get(&format!("/api/v1/conversations?teamId={sales}"), &org.token).await;
    let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![c2.as_str()]);
    let other = app.register("Other").await;
    let (s, _) = app.post(&format!("/api/v1/conversations/{c3}/re-route"), &other.token, json!({})).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn a_conflict_check_finds_a_rule_shadowed_by_an_earlier_one() {
    let app = spawn_app().await;
    let org = app.register("Conflicts").await;
    let billing = team(&app, &org, "Billing").await;
    let vip = team(&app, &org, "VIP").await;
    let broad = rule(
        &app,
        &org,
        "Money talk",
        &billing,
        json!([{"field": "message", "operator": "keywords", "value": ["refund", "money"]}]),
    )
    .await;
    assert_eq!(broad["conflicts"], json!([]));

    let narrow = json!([{"field": "message", "operator": "keywords", "value": ["refund"]}]);
    let q = format!("/api/v1/routing-rules/check-conflicts?teamId={vip}&conditions={}", urlencode(&narrow.to_string()));
    let (s, b) = app.get(&q, &org.token).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["hasConflicts"], true, "{b}");
    let c = &b["data"]["conflicts"][0];
    assert_eq!(c["kind"], "SHADOWED_BY");
    assert_eq!(c["ruleId"], broad["id"]);

    // Saving it anyway says so too, and a duplicate is named as one.
    let saved = rule(&app, &org, "Refunds to VIP", &vip, narrow.clone()).await;
    assert_eq!(saved["conflicts"][0]["kind"], "SHADOWED_BY", "{saved}");
    let dup = json!([{"field": "message", "operator": "keywords", "value": ["money", "refund"]}]);
    let q = format!("/api/v1/routing-rules/check-conflicts?teamId={vip}&conditions={}", urlencode(&dup.to_string()));
    let (_, b) = app.get(&q, &org.token).await;
    assert!(b["data"]["conflicts"].as_array().unwrap().iter().any(|c| c["kind"] == "DUPLICATE"), "{b}");

    // A narrower rule first shadows nothing.
    let q = format!(
        "/api/v1/routing-rules/check-conflicts?teamId={vip}&conditions={}&excludeRuleId={}",
        urlencode(&json!([{"field": "contact.category", "operator": "equals", "value": "vip"}]).to_string()),
        saved["id"].as_str().unwrap()
    );
    let (_, b) = app.get(&q, &org.token).await;
    assert_eq!(b["data"]["hasConflicts"], false, "{b}");

    let (s, b) =
        app.get(&format!("/api/v1/routing-rules/check-conflicts?teamId={vip}&conditions=oops"), &org.token).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("conditions")), "{b}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[actix_web::test]
async fn rules_are_validated_ordered_updated_and_deleted() {
    let app = spawn_app().await;
    let org = app.register("Rules").await;
    let agent = add_agent(&app, &org, "Ann").await;
    let a = team(&app, &org, "A").await;
    let b_team = team(&app, &org, "B").await;

    let (s, b) = app
        .post(
            "/api/v1/routing-rules",
            &org.token,
            json!({"name": "Bad", "teamId": a, "conditions": [{"field": "message", "operator": "regex", "value": "(["}]}),
        )
        .await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("conditions[0].value")), "{b}");
    let (s, b) = app.post("/api/v1/routing-rules", &org.token, json!({"name": "No team", "conditions": []})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("teamId")), "{b}");
    let (s, _) = app.post("/api/v1/routing-rules", &agent.token, json!({"name": "x", "teamId": a})).await;
    assert_eq!(s, 403);

    let r1 =
        rule(&app, &org, "One", &a, json!([{"field": "channel", "operator": "equals", "value": "whatsapp"}])).await;
    let r2 = rule(&app, &org, "Two", &b_team, json!([{"field": "tag", "operator": "in", "value": ["vip"]}])).await;
    assert_eq!((r1["priority"].as_i64(), r2["priority"].as_i64()), (Some(1), Some(2)));

    let (s, b) =
        app.post("/api/v1/routing-rules/reorder", &org.token, json!({"orderedIds": [r2["id"], r1["id"]]})).await;
    assert_eq!(s, 200, "{b}");
    let (_, list) = app.get("/api/v1/routing-rules", &agent.token).await;
    assert_eq!(list["data"][0]["id"], r2["id"], "{list}");
    let (s, b) = app.post("/api/v1/routing-rules/reorder", &org.token, json!({"orderedIds": [r2["id"]]})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("orderedIds")), "{b}");

    let path = format!("/api/v1/routing-rules/{}", r1["id"].as_str().unwrap());
    let (s, b) = app.patch(&path, &org.token, json!({"matchType": "ALL", "isActive": false})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["data"]["matchType"].as_str(), b["data"]["isActive"].as_bool()), (Some("ALL"), Some(false)));
    let (s, _) = app.patch(&path, &org.token, json!({"matchType": "SOME"})).await;
    assert_eq!(s, 400);
    let other = app.register("Other").await;
    let (s, _) = app.patch(&path, &other.token, json!({"name": "x"})).await;
    assert_eq!(s, 404);
    let (s, _) = app.delete(&path, &org.token).await;
    assert_eq!(s, 204);
    let (s, _) = app.delete(&path, &org.token).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn run_now_re_routes_open_conversations_and_reports_counts() {
    let app = spawn_app().await;
    let org = app.register("RunNow").await;
    let account = app.connect_account(&org).await;
    let c1 = app.customer_says(&org, &account, "491700000011", "where is my invoice").await;
    let c2 = app.customer_says(&org, &account, "491700000012", "just saying hi").await;
    assert!(conversation(&app, &org, &c1).await["teamId"].is_null());
    let billing = team(&app, &org, "Billing").await;
    rule(&app, &org, "Invoices", &billing, json!([{"field": "message", "operator": "contains", "value": "invoice"}]))
        .await;

    let (s, b) = app.post("/api/v1/routing-rules/run-now", &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["checked"], 2);
    assert_eq!(b["data"]["changed"], 1);
    assert_eq!(b["data"]["unchanged"], 1);
    assert_eq!(b["data"]["byTeam"][&billing], 1);
    assert_eq!(conversation(&app, &org, &c1).await["teamId"], billing.as_str());
    assert!(conversation(&app, &org, &c2).await["teamId"].is_null());
    let agent = add_agent(&app, &org, "Ann").await;
    let (s, _) = app.post("/api/v1/routing-rules/run-now", &agent.token, json!({})).await;
    assert_eq!(s, 403);
}

#[actix_web::test]
async fn routing_settings_are_kept_and_validated() {
    let app = spawn_app().await;
    let org = app.register("Settings").await;
    let agent = add_agent(&app, &org, "Ann").await;

    let (s, b) = app.get("/api/v1/routing-rules/maintenance", &agent.token).await;
    assert_eq!((s, &b["data"]["maintenanceMode"]), (200, &json!(false)));
    let (s, b) = app
        .put("/api/v1/routing-rules/maintenance", &org.token, json!({"maintenanceMode": true, "message": "Back soon"}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["message"], "Back soon");
    assert!(b["data"]["since"].is_string());
    let (s, _) = app.put("/api/v1/routing-rules/maintenance", &agent.token, json!({"maintenanceMode": false})).await;
    assert_eq!(s, 403);
    let (s, _) = app.put("/api/v1/routing-rules/maintenance", &org.token, json!({"message": "  "})).await;
    assert_eq!(s, 400);

    let (s, b) = app.put("/api/v1/routing-rules/off-hours", &org.token, json!({"offHoursAutoReply": true})).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get("/api/v1/routing-rules/off-hours", &org.token).await;
    assert_eq!(b["data"]["offHoursAutoReply"], true);
    assert!(b["data"]["message"].as_str().unwrap().len() > 10, "a default message: {b}");

    let (_, b) = app.get("/api/v1/routing-rules/business-hours", &org.token).await;
    assert_eq!(b["data"]["isEnabled"], false, "{b}");
    let hours = json!({"timezone": "Europe/Berlin", "isEnabled": true, "slots": [{"day": "MON", "start": "09:00", "end": "17:00"}], "holidays": [{"date": "2026-12-25", "name": "Christmas"}]});
    let (s, b) = app.put("/api/v1/routing-rules/business-hours", &org.token, hours).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get("/api/v1/routing-rules/business-hours", &org.token).await;
    assert_eq!(b["data"]["timezone"], "Europe/Berlin");
    assert_eq!(b["data"]["holidays"][0]["name"], "Christmas");
    let (s, b) = app
        .put(
            "/api/v1/routing-rules/business-hours",
            &org.token,
            json!({"timezone": "Europe/Berlin", "slots": [{"day": "XYZ", "start": "09:00", "end": "10:00"}]}),
        )
        .await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("slots[0].day")), "{b}");

    let (s, b) = app.put("/api/v1/routing-rules/default-team", &org.token, json!({"teamId": "nope"})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("teamId")), "{b}");
    let t = team(&app, &org, "Default").await;
    let (s, _) = app.put("/api/v1/routing-rules/default-team", &org.token, json!({"teamId": t})).await;
    assert_eq!(s, 200);
    let (_, b) = app.get("/api/v1/routing-rules/default-team", &org.token).await;
    assert_eq!(b["data"]["teamId"], t.as_str());
    let (_, b) = app.put("/api/v1/routing-rules/default-team", &org.token, json!({"teamId": null})).await;
    assert!(b["data"]["teamId"].is_null());

    let (_, b) = app.get("/api/v1/routing-rules/idle-agent", &org.token).await;
    assert_eq!(b["data"]["enabled"], false);
    let (s, b) = app
        .put(
            "/api/v1/routing-rules/idle-agent",
            &org.token,
            json!({"enabled": true, "noReplyMinutes": 10, "action": "RETURN_TO_QUEUE", "includeAway": true}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["action"], "RETURN_TO_QUEUE");
    assert_eq!(b["data"]["noReplyMinutes"], 10);
    let (s, b) = app.put("/api/v1/routing-rules/idle-agent", &org.token, json!({"noReplyMinutes": 0})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("noReplyMinutes")), "{b}");
    let (s, _) = app.put("/api/v1/routing-rules/idle-agent", &org.token, json!({"action": "EXPLODE"})).await;
    assert_eq!(s, 400);
    let (s, b) = app.post("/api/v1/routing-rules/idle-agent/run", &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["moves"], json!([]));
    let (s, _) = app.post("/api/v1/routing-rules/idle-agent/run", &agent.token, json!({})).await;
    assert_eq!(s, 403);

    // Settings are per organization.
    let other = app.register("Other").await;
    let (_, b) = app.get("/api/v1/routing-rules/maintenance", &other.token).await;
    assert_eq!(b["data"]["maintenanceMode"], false);
}

#[actix_web::test]
async fn concurrent_changes_to_different_settings_both_stay() {
    let app = spawn_app().await;
    let org = app.register("Concurrent").await;
    for round in 0..5 {
        let msg = format!("closed {round}");
        let (a, b) = tokio::join!(
            app.put("/api/v1/routing-rules/off-hours", &org.token, json!({"offHoursAutoReply": true, "message": msg})),
            app.put("/api/v1/routing-rules/idle-agent", &org.token, json!({"noReplyMinutes": 10 + round})),
        );
        assert_eq!((a.0, b.0), (200, 200));
        let (_, off) = app.get("/api/v1/routing-rules/off-hours", &org.token).await;
        let (_, idle) = app.get("/api/v1/routing-rules/idle-agent", &org.token).await;
        assert_eq!(off["data"]["message"], msg.as_str(), "round {round}");
        assert_eq!(idle["data"]["noReplyMinutes"], 10 + round, "round {round}");
    }
}
