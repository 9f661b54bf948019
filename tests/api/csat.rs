//! Customer satisfaction: a resolved conversation whose inbox asks for it (and whose tags match
//! the rule) sends the customer a survey; on WhatsApp an interactive list, whose pick comes back
//! as the rating of that conversation without reopening it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::agents::add_agent;
use crate::helpers::{Account, Org, TestApp, message_webhook, spawn_app, unique};

/// Turns the survey on for the inbox of `conversation`, with a rule when given.
async fn survey_on(app: &TestApp, org: &Org, conversation: &str, rule: Option<Value>) -> String {
    let (_, conv) = app.get(&format!("/api/v1/conversations/{conversation}"), &org.token).await;
    let inbox = conv["data"]["inboxId"].as_str().unwrap().to_owned();
    let mut config = json!({"displayType": "emoji", "message": "How did we do?", "buttonText": "Rate us"});
    if let Some(rule) = rule {
        config["surveyRule"] = rule;
    }
    let (status, body) = app
        .patch(
            &format!("/api/v1/inboxes/{inbox}"),
            &org.token,
            json!({"csatSurveyEnabled": true, "csatConfig": config}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    inbox
}

async fn tag(app: &TestApp, org: &Org, conversation: &str, name: &str) {
    let (_, t) = app.post("/api/v1/tags", &org.token, json!({"name": name})).await;
    let id = t["data"]["id"].as_str().unwrap();
    let (status, body) =
        app.post(&format!("/api/v1/conversations/{conversation}/tags"), &org.token, json!({"tagId": id})).await;
    assert_eq!(status, 200, "{body}");
}

/// The interactive list sends the fake Graph API received.
fn surveys(app: &TestApp) -> Vec<Value> {
    app.graph.sends().into_iter().map(|r| r.body).filter(|b| b["type"] == "interactive").collect()
}

/// The customer picks `row_id` from a list.
async fn picks(app: &TestApp, account: &Account, wa_id: &str, row_id: &str) -> Value {
    let message = json!({
        "from": wa_id, "id": format!("wamid.{}", unique()), "timestamp": chrono::Utc::now().timestamp().to_string(),
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": "🙂 Good"}}
    });
    let (status, body) = app.post_webhook(&message_webhook(&account.phone_number_id, wa_id, "Customer", message)).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[actix_web::test]
async fn a_resolved_conversation_matching_the_rule_gets_the_whatsapp_survey_and_the_rating_is_stored() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let wa = "15557770001";
    let conv = app.customer_says(&org, &account, wa, "my order is late").await;
    let inbox = survey_on(&app, &org, &conv, Some(json!({"operator": "contains", "values": ["Resolved"]}))).await;
    tag(&app, &org, &conv, "resolved").await;
    let mut socket = app.socket(&org.token, None).await;

    let (status, closed) = app.post(&format!("/api/v1/conversations/{conv}/resolve"), &org.token, json!({})).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["data"]["status"], "CLOSED");

    // WhatsApp shows the five ratings as an interactive list, best first.
    let sent = surveys(&app);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let list = &sent[0]["interactive"];
    assert_eq!(sent[0]["to"], wa);
    assert_eq!(list["type"], "list");
    assert_eq!(list["body"]["text"], "How did we do?");
    assert_eq!(list["action"]["button"], "Rate us");
    let rows = list["action"]["sections"][0]["rows"].as_array().unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, (1..=5).rev().map(|r| format!("csat:{conv}:{r}")).collect::<Vec<_>>());
    assert!(rows.iter().all(|r| r["title"].as_str().unwrap().chars().count() <= 24));
    // The survey is in the thread, and the conversation stays closed.
    let thread = app.messages(&org, &conv).await;
    let survey = thread.iter().find(|m| m["type"] == "csat").expect("the survey is a message of the thread");
    assert_eq!(survey["text"], "How did we do?");

    // The customer picks 4: it is the conversation's rating, and no conversation opens.
    let report = picks(&app, &account, wa, &format!("csat:{conv}:4")).await;
    assert_eq!(report["data"]["ratings"], 1, "{report}");
    let (_, rating) = app.get(&format!("/api/v1/conversations/{conv}/csat"), &org.token).await;
    assert_eq!(rating["data"]["rating"], 4, "{rating}");
    assert_eq!(rating["data"]["channel"], "whatsapp");
    assert_eq!(rating["data"]["inboxId"], inbox.as_str());
    let rated = socket.until(Duration::from_secs(3), |e| e["event"] == "conversation.rated").await.unwrap();
    assert_eq!(rated.last().unwrap()["data"]["rating"], 4);
    let (_, list) = app.get("/api/v1/conversations?limit=100", &org.token).await;
    let theirs = list["data"].as_array().unwrap().iter().filter(|c| c["contact"]["waId"] == wa).count();
    assert_eq!(theirs, 1, "a rating opens no conversation: {list}");
    let (_, conv_now) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert_eq!(conv_now["data"]["status"], "CLOSED");

    // Picking again changes the rating; the report counts one rating.
    picks(&app, &account, wa, &format!("csat:{conv}:5")).await;
    let (status, report) = app.get("/api/v1/csat", &org.token).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["summary"]["count"], 1);
    assert_eq!(report["summary"]["average"], 5.0);
    assert_eq!(report["summary"]["distribution"], json!([0, 0, 0, 0, 1]));
    assert_eq!(report["data"][0]["conversationId"], conv.as_str());
    let (_, by_inbox) = app.get(&format!("/api/v1/csat?inboxId={inbox}"), &org.token).await;
    assert_eq!(by_inbox["summary"]["count"], 1);
    let (_, other_inbox) = app.get("/api/v1/csat?inboxId=nope", &org.token).await;
    assert_eq!(other_inbox["summary"]["count"], 0);
}

#[actix_web::test]
async fn no_survey_when_the_rule_does_not_match_or_the_window_is_closed() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;

    // The rule asks for a "vip" tag this conversation does not have.
    let plain = app.customer_says(&org, &account, "15557770002", "hi").await;
    survey_on(&app, &org, &plain, Some(json!({"operator": "contains", "values": ["vip"]}))).await;
    let (status, _) = app.post(&format!("/api/v1/conversations/{plain}/resolve"), &org.token, json!({})).await;
    assert_eq!(status, 200);
    assert!(surveys(&app).is_empty());

    // `does_not_contain`: a conversation tagged "spam" gets none, another one does.
    let spam = app.customer_says(&org, &account, "15557770003", "buy now").await;
    survey_on(&app, &org, &spam, Some(json!({"operator": "does_not_contain", "values": ["spam"]}))).await;
    tag(&app, &org, &spam, "spam").await;
    app.post(&format!("/api/v1/conversations/{spam}/resolve"), &org.token, json!({})).await;
    assert!(surveys(&app).is_empty());
    let fine = app.customer_says(&org, &account, "15557770004", "thanks").await;
    app.post(&format!("/api/v1/conversations/{fine}/resolve"), &org.token, json!({})).await;
    assert_eq!(surveys(&app).len(), 1);

    // Outside the 24-hour window WhatsApp takes no free-form message: resolving still works and
    // sends nothing.
    // The customer's last message is from 25 hours ago (Meta's timestamp).
    let wa = "15557770005";
    let old = (chrono::Utc::now() - chrono::Duration::hours(25)).timestamp().to_string();
    let hook = message_webhook(
        &account.phone_number_id,
        wa,
        "Late",
        json!({"from": wa, "id": "wamid.old.csat", "timestamp": old, "type": "text", "text": {"body": "hello?"}}),
    );
    assert_eq!(app.post_webhook(&hook).await.0, 200);
    let late = app.conversation_of(&org, wa).await;
    let (status, body) = app.post(&format!("/api/v1/conversations/{late}/resolve"), &org.token, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(surveys(&app).len(), 1, "no survey outside the window");
}

#[actix_web::test]
async fn a_rating_needs_a_survey_and_ratings_stay_within_their_organization() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let wa = "15557770006";
    let conv = app.customer_says(&org, &account, wa, "hi").await;

    // A list reply that looks like a rating, for a conversation that was sent no survey, is an
    // ordinary message.
    let report = picks(&app, &account, wa, &format!("csat:{conv}:1")).await;
    assert_eq!(report["data"]["ratings"], 0, "{report}");
    assert_eq!(report["data"]["stored"], 1, "{report}");
    let (_, none) = app.get(&format!("/api/v1/conversations/{conv}/csat"), &org.token).await;
    assert_eq!(none["data"], Value::Null);

    // Another organization sees neither the conversation's rating nor counts it.
    let other = app.register("Globex").await;
    let (status, body) = app.get(&format!("/api/v1/conversations/{conv}/csat"), &other.token).await;
    assert_eq!(status, 404, "{body}");
    let (_, theirs) = app.get("/api/v1/csat", &other.token).await;
    assert_eq!(theirs["summary"]["count"], 0);
    // The report is for admins; bad filters are named.
    let agent = add_agent(&app, &org, "Ann").await;
    assert_eq!(app.get("/api/v1/csat", &agent.token).await.0, 403);
    let (status, body) = app.get("/api/v1/csat?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", &org.token).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (400, Some("to")), "{body}");
    let (status, _) = app.get("/api/v1/csat?colour=red", &org.token).await;
    assert_eq!(status, 400);
}
