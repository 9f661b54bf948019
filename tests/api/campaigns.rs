//! CAMPAIGNS-1..11 and ANALYTICS-5 against the fake Graph API: recipients checked from a list
//! or CSV, sends through the outbox with per-recipient idempotency, pacing under the number's
//! throughput, statuses that follow the messages and the replies, pause, resume, cancel, export
//! and costs.

use std::time::Duration;

use serde_json::{Value, json};

use super::helpers::*;

/// An approved MARKETING template `promo`: "Hi {{1}}, {{2}} off today."
pub async fn promo(app: &TestApp, org: &Org) -> String {
    app.graph.templates(|t| t.approve_at_once = true);
    let body = json!({"name": "promo", "language": "en", "category": "MARKETING", "components": [
        {"type": "BODY", "text": "Hi {{1}}, {{2}} off today.", "example": {"body_text": [["Ana", "10%"]]}}
    ]});
    let (s, t) = app.post("/api/v1/templates", &org.token, body).await;
    assert_eq!(s, 201, "{t}");
    t["data"]["id"].as_str().unwrap().to_owned()
}

pub fn people(n: usize, from: u64) -> Vec<Value> {
    (0..n).map(|i| json!({"phone": format!("+49151{:07}", from + i as u64), "parameters": {"body": [format!("C{i}"), "10%"]}})).collect()
}

/// Waits until the campaign's status is `want`; answers its detail.
pub async fn until_status(app: &TestApp, org: &Org, id: &str, want: &str, wait: Duration) -> Value {
    let start = std::time::Instant::now();
    loop {
        let (s, d) = app.get(&format!("/api/v1/campaigns/{id}?limit=100"), &org.token).await;
        assert_eq!(s, 200, "{d}");
        if d["data"]["status"] == want {
            return d["data"].clone();
        }
        assert!(start.elapsed() < wait, "campaign still {} after {wait:?}: {}", d["data"]["status"], d["data"]["stats"]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn recipients_are_checked_row_by_row_and_a_dry_run_stores_nothing() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    let template = promo(&app, &org).await;
    let csv = "phone,name,1,2\n+4915112345678,Ana,Ana,10%\n+49 151 1234 5678,Again,A,B\n12345,Bad,x,y\n+4915112345670,Bo,Bo,\n+919812345678,Raj,Raj,5%\n";
    let (s, d) = app.post("/api/v1/campaigns", &org.token, json!({"name": "Winter", "templateId": template, "recipientsCsv": csv, "dryRun": true})).await;
    assert_eq!(s, 200, "{d}");
    let p = &d["data"]["preview"];
    assert_eq!((p["valid"].as_u64(), p["duplicates"].as_u64()), (Some(2), Some(1)), "{p}");
    let problems: Vec<(u64, &str)> = p["invalid"].as_array().unwrap().iter().map(|i| (i["row"].as_u64().unwrap(), i["field"].as_str().unwrap())).collect();
    assert_eq!(problems, vec![(3, "phone"), (4, "parameters.body[1]")]);
    assert_eq!(p["samples"][0], "Hi Ana, 10% off today.");
    let markets: Vec<&str> = p["estimate"]["byMarket"].as_array().unwrap().iter().map(|m| m["market"].as_str().unwrap()).collect();
    assert_eq!(markets, vec!["Germany", "India"]);
    assert!(d["data"]["campaign"].is_null());
    assert_eq!(app.count("campaigns").await, 0);
    // Without skipInvalid the campaign is refused, naming the first row at fault.
    let (s, e) = app.post("/api/v1/campaigns", &org.token, json!({"name": "Winter", "templateId": template, "recipientsCsv": csv})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("recipients[2].phone")), "{e}");
    let (s, e) = app.post("/api/v1/campaigns", &org.token, json!({"name": "Winter", "templateId": template, "recipientsCsv": "phone,1\n+4915112345678,Ana\n"})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("recipientsCsv")), "{e}");
    let (s, e) = app.post("/api/v1/campaigns", &org.token, json!({"name": "Winter", "templateId": template, "recipients": people(1, 0), "scheduledAt": "tomorrow"})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("scheduledAt")), "{e}");
    // Another organization's template is a 400 on the field that names it.
    let other = app.register("Other").await;
    let (s, e) = app.post("/api/v1/campaigns", &other.token, json!({"name": "x", "templateId": template, "recipients": people(1, 0)})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("templateId")), "{e}");
    let (s, _) = app.post("/api/v1/campaigns", &org.token, json!({"name": "Winter", "templateId": template, "recipientsCsv": csv, "skipInvalid": true})).await;
    assert_eq!(s, 201);
    assert_eq!(app.count("campaign_recipients").await, 2);
}

#[actix_web::test]
async fn a_campaign_sends_once_to_each_recipient_and_follows_their_messages_and_replies() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    app.graph.send_statuses_to(&app.url(""));
    let template = promo(&app, &org).await;
    let mut recipients = people(5, 100);
    recipients.push(json!({"phone": "+4915110000999", "parameters": {"body": ["Gone", "10%"]}}));
    app.graph.sending(|f| {
        f.fail_to.insert("4915110000999".into(), (131026, "Message undeliverable".into()));
    });
    let (s, c) = app.post("/api/v1/campaigns", &org.token, json!({"name": "Winter", "templateId": template, "recipients": recipients})).await;
    assert_eq!(s, 201, "{c}");
    let id = c["data"]["campaign"]["id"].as_str().unwrap().to_owned();
    let d = until_status(&app, &org, &id, "COMPLETED", Duration::from_secs(20)).await;
    assert_eq!(app.graph.accepted_sends(), 5);
    let failed: Vec<&Value> = d["recipients"].as_array().unwrap().iter().filter(|r| r["status"] == "FAILED").collect();
    assert_eq!(failed.len(), 1, "{d}");
    assert_eq!(failed[0]["errorCode"], "131026");
    assert!(failed[0]["errorMessage"].as_str().unwrap().contains("undeliverable"));
    let sent = app.graph.sends();
    assert!(sent.iter().all(|r| r.body["type"] == "template" && r.body["biz_opaque_callback_data"].is_string()));
    let to_first = sent.iter().find(|r| r.body["to"] == "491510000100").unwrap();
    assert_eq!(to_first.body["template"]["components"][0]["parameters"][0]["text"], "C0");

    // Meta reports delivery and read; a customer answers.
    // The fake numbers its wamids in the order it accepted the sends.
    let order: Vec<String> = app.graph.sending(|f| f.accepted.iter().map(|(_, to, _)| to.clone()).collect());
    let wamid = |to: &str| format!("wamid.FAKE{}", order.iter().position(|t| t == to).unwrap() + 1);
    app.post_webhook(&status_webhook(&account.phone_number_id, &wamid("491510000100"), "491510000100", "delivered", None)).await;
    app.post_webhook(&status_webhook(&account.phone_number_id, &wamid("491510000101"), "491510000101", "read", None)).await;
    app.post_webhook(&text_webhook(&account.phone_number_id, "491510000102", "C2", "wamid.reply", "yes please")).await;
    let (_, st) = app.get(&format!("/api/v1/campaigns/{id}/stats"), &org.token).await;
    let counts = &st["data"]["counts"];
    assert_eq!(counts["failed"], 1, "{st}");
    assert_eq!(counts["replied"], 1, "{st}");
    assert_eq!(st["data"]["funnel"]["sent"], 5, "{st}");
    assert!(st["data"]["funnel"]["read"].as_u64().unwrap() >= 2, "{st}");
    let (_, replied) = app.get(&format!("/api/v1/campaigns/{id}?status=REPLIED"), &org.token).await;
    assert_eq!(replied["data"]["recipients"][0]["phone"], "+491510000102");

    let res = app.client.get(app.url(&format!("/api/v1/campaigns/{id}/export?status=FAILED"))).bearer_auth(&org.token).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("position,phone,name,status"));
    assert!(lines[1].contains("+4915110000999") && lines[1].contains("FAILED"), "{csv}");

    let (_, global) = app.get("/api/v1/campaigns/stats/global", &org.token).await;
    assert_eq!(global["data"]["campaigns"], 1);
    assert_eq!(global["data"]["counts"]["total"], 6);
    let (_, funnel) = app.get("/api/v1/analytics/campaigns", &org.token).await;
    assert_eq!(funnel["data"]["funnel"]["replied"], 1);
    // Meta's figures: the fake charges 0.05 a template message.
    let (s, cost) = app.get(&format!("/api/v1/campaigns/{id}/meta-cost"), &org.token).await;
    assert_eq!(s, 200, "{cost}");
    assert_eq!(cost["data"]["campaignSent"], 5);
    assert!((cost["data"]["cost"].as_f64().unwrap() - 0.25).abs() < 1e-6, "{cost}");
    let (_, costs) = app.get("/api/v1/campaigns/meta-costs", &org.token).await;
    assert!((costs["data"]["total"].as_f64().unwrap() - 0.25).abs() < 1e-6, "{costs}");
    assert_eq!(costs["data"]["accounts"][0]["templates"][0]["name"], "promo");
}

#[actix_web::test]
async fn a_scheduled_campaign_waits_and_pause_resume_and_cancel_take_effect() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    let template = promo(&app, &org).await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let (s, c) = app.post("/api/v1/campaigns", &org.token, json!({"name": "Later", "templateId": template, "recipients": people(3, 200), "scheduledAt": later})).await;
    assert_eq!(s, 201, "{c}");
    let id = c["data"]["campaign"]["id"].as_str().unwrap().to_owned();
    assert_eq!(c["data"]["campaign"]["status"], "SCHEDULED");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.graph.accepted_sends(), 0);
    let bulk = |action: &str| json!({"action": action, "selection": {"mode": "ids", "ids": [id]}});
    let (_, r) = app.post("/api/v1/campaigns/bulk", &org.token, bulk("pause")).await;
    assert_eq!(r["data"]["succeeded"].as_array().unwrap().len(), 1, "{r}");
    let (_, r) = app.post("/api/v1/campaigns/bulk", &org.token, bulk("pause")).await;
    assert!(r["data"]["failed"][0]["reason"].as_str().unwrap().contains("PAUSED"), "{r}");
    let (_, r) = app.post("/api/v1/campaigns/bulk", &org.token, bulk("resume")).await;
    assert_eq!(r["data"]["succeeded"].as_array().unwrap().len(), 1, "{r}");
    until_status(&app, &org, &id, "COMPLETED", Duration::from_secs(20)).await;
    assert_eq!(app.graph.accepted_sends(), 3);
    let (_, r) = app.post("/api/v1/campaigns/bulk", &org.token, bulk("cancel")).await;
    assert!(r["data"]["failed"][0]["reason"].as_str().unwrap().contains("COMPLETED"), "{r}");
    let (_, r) = app.post("/api/v1/campaigns/bulk", &org.token, bulk("delete")).await;
    assert_eq!(r["data"]["succeeded"].as_array().unwrap().len(), 1, "{r}");
    let (s, _) = app.get(&format!("/api/v1/campaigns/{id}"), &org.token).await;
    assert_eq!(s, 404);
    // Another organization's campaign is a 400 in a bulk body, and a 404 in a path.
    let (_, c2) = app.post("/api/v1/campaigns", &org.token, json!({"name": "Later", "templateId": template, "recipients": people(1, 300), "scheduledAt": later})).await;
    let id2 = c2["data"]["campaign"]["id"].as_str().unwrap();
    let other = app.register("Other").await;
    let (s, e) = app.post("/api/v1/campaigns/bulk", &other.token, json!({"action": "cancel", "selection": {"mode": "ids", "ids": [id2]}})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("selection.ids")), "{e}");
    let (s, _) = app.get(&format!("/api/v1/campaigns/{id2}"), &other.token).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn the_rate_card_prices_an_estimate_by_market_and_category() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    app.connect_account(&org).await;
    let template = promo(&app, &org).await;
    let (s, card) = app.get("/api/v1/campaigns/pricing", &org.token).await;
    assert_eq!(s, 200);
    assert!(card["data"]["effectiveDate"].is_string());
    let de = card["data"]["markets"].as_array().unwrap().iter().find(|m| m["market"] == "Germany").unwrap().clone();
    let body = json!({"templateId": template, "recipients": [{"phone": "+4915112345678"}, {"phone": "+4915112345679"}, {"phone": "nope"}]});
    let (s, e) = app.post("/api/v1/campaigns/estimate", &org.token, body).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["data"]["recipients"], 2);
    assert_eq!(e["data"]["category"], "MARKETING");
    assert!((e["data"]["total"].as_f64().unwrap() - 2.0 * de["marketing"].as_f64().unwrap()).abs() < 1e-6, "{e}");
    assert_eq!(e["data"]["invalid"][0]["row"], 3);
}
