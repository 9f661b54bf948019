//! Presence, auto-assignment and idle-agent detection, end to end: agents connect and leave,
//! the queue drains to them oldest first within capacity, and an agent who goes offline loses
//! their conversations to an online teammate after the grace period.

use std::time::Duration;

use serde_json::json;

use crate::agents::{Agent, add_agent, bot_off, conversation, eventually, loads, team_with};
use crate::helpers::{Org, TestApp, spawn_app_with};

async fn fast_app() -> TestApp {
    spawn_app_with(|c| {
        c.presence_grace_ms = 300;
        c.idle_check_ms = 200;
    })
    .await
}

/// Opens `n` conversations, one per customer, oldest first.
async fn customers(app: &TestApp, org: &Org, account: &crate::helpers::Account, n: usize, prefix: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(app.customer_says(org, account, &format!("{prefix}{i:04}"), "hello, anyone there?").await);
        // Distinct queue times, so "oldest first" is well defined.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    ids
}

async fn assignee(app: &TestApp, org: &Org, id: &str) -> Option<String> {
    conversation(app, org, id).await["assignedTo"].as_str().map(str::to_owned)
}

#[actix_web::test]
async fn twenty_queued_conversations_drain_to_two_agents_of_capacity_five_oldest_first() {
    let app = fast_app().await;
    let org = app.register("Drain").await;
    let account = app.connect_account(&org).await;
    bot_off(&app, &org).await;
    let ann = add_agent(&app, &org, "Ann").await;
    let bob = add_agent(&app, &org, "Bob").await;
    let team = team_with(&app, &org, "Support", &[&ann, &bob], Some(5)).await;
    let (s, _) = app.put("/api/v1/routing-rules/default-team", &org.token, json!({"teamId": team})).await;
    assert_eq!(s, 200);

    let ids = customers(&app, &org, &account, 20, "4917100").await;
    for id in &ids {
        let c = conversation(&app, &org, id).await;
        assert_eq!((c["status"].as_str(), c["assignedTo"].is_null()), (Some("OPEN"), true), "{c}");
        assert_eq!(c["teamId"], team.as_str());
    }

    // Both come online: the ten oldest go to them, five each.
    let _ann_socket = app.socket(&ann.token, None).await.keep_alive();
    let _bob_socket = app.socket(&bob.token, None).await.keep_alive();
    let drained =
        eventually(Duration::from_secs(10), || async { loads(&app, &org, &[&ann, &bob]).await == vec![5, 5] }).await;
    assert!(drained, "loads: {:?}", loads(&app, &org, &[&ann, &bob]).await);
    for (i, id) in ids.iter().enumerate() {
        let who = assignee(&app, &org, id).await;
        if i < 10 {
            assert!(who.is_some(), "conversation {i} (among the 10 oldest) is assigned");
        } else {
            assert!(who.is_none(), "conversation {i} still waits");
        }
    }

    // Ann resolves one: the next waiting (the 11th oldest) goes to her.
    let first_of_ann = {
        let mut found = None;
        for id in &ids[..10] {
            if assignee(&app, &org, id).await.as_deref() == Some(ann.user_id.as_str()) {
                found = Some(id.clone());
                break;
            }
        }
        found.unwrap()
    };
    let (s, b) = app.post(&format!("/api/v1/conversations/{first_of_ann}/resolve"), &ann.token, json!({})).await;
    assert_eq!(s, 200, "{b}");
    let next = ids[10].clone();
    let took = eventually(Duration::from_secs(10), || async {
        assignee(&app, &org, &next).await.as_deref() == Some(ann.user_id.as_str())
    })
    .await;
    assert!(took, "the 11th conversation goes to Ann");
    assert!(assignee(&app, &org, &ids[11]).await.is_none(), "and only that one");
    assert_eq!(loads(&app, &org, &[&ann, &bob]).await, vec![5, 5]);
}

#[actix_web::test]
async fn a_team_outside_its_working_hours_takes_nothing_until_it_opens() {
    let app = fast_app().await;
    let org = app.register("Hours").await;
    let account = app.connect_account(&org).await;
    bot_off(&app, &org).await;
    let ann = add_agent(&app, &org, "Ann").await;
    let team = team_with(&app, &org, "Night shift", &[&ann], None).await;
    let (s, _) = app.put("/api/v1/routing-rules/default-team", &org.token, json!({"teamId": team})).await;
    assert_eq!(s, 200);
    // Enforced hours with no open slot: closed now.
    let closed = json!({"timezone": "Asia/Tokyo", "slots": []});
    let (s, b) = app.put(&format!("/api/v1/teams/{team}/schedule"), &org.token, closed).await;
    assert_eq!(s, 200, "{b}");
    let _ann_socket = app.socket(&ann.token, None).await.keep_alive();
    let ids = customers(&app, &org, &account, 2, "4917200").await;
    // Several drains pass (every 200 ms): the team is closed, so nothing is assigned.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for id in &ids {
        let c = conversation(&app, &org, id).await;
        assert!(c["assignedTo"].is_null(), "assigned while the team is closed: {c}");
    }
    // The team's hours stop being enforced: it works now, and the queue drains to Ann.
    let open = json!({"timezone": "Asia/Tokyo", "isEnabled": false, "slots": []});
    let (s, b) = app.put(&format!("/api/v1/teams/{team}/schedule"), &org.token, open).await;
    assert_eq!(s, 200, "{b}");
    let drained = eventually(Duration::from_secs(5), || async { loads(&app, &org, &[&ann]).await == vec![2] }).await;
    assert!(drained, "loads: {:?}", loads(&app, &org, &[&ann]).await);
}

#[actix_web::test]
async fn an_agent_who_goes_offline_loses_their_conversations_to_an_online_teammate() {
    let app = fast_app().await;
    let org = app.register("Offline").await;
    let account = app.connect_account(&org).await;
    bot_off(&app, &org).await;
    let ann = add_agent(&app, &org, "Ann").await;
    let bob = add_agent(&app, &org, "Bob").await;
    let cid = add_agent(&app, &org, "Cid").await;
    let team = team_with(&app, &org, "Support", &[&ann, &bob, &cid], Some(10)).await;
    app.put("/api/v1/routing-rules/default-team", &org.token, json!({"teamId": team})).await;
    let (s, b) = app
        .put(
            "/api/v1/routing-rules/idle-agent",
            &org.token,
            json!({"enabled": true, "offlineMinutes": 0, "noReplyMinutes": 5, "action": "REASSIGN"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    // Ann is alone online: she gets all three.
    let ann_socket = app.socket(&ann.token, None).await.keep_alive();
    let ids = customers(&app, &org, &account, 3, "4917200").await;
    let all_ann = eventually(Duration::from_secs(10), || async { loads(&app, &org, &[&ann]).await == vec![3] }).await;
    assert!(all_ann);

    // Bob comes online (nothing queued for him); Ann closes her socket.
    let mut bob_socket = app.socket(&bob.token, None).await;
    ann_socket.close();

    // After the grace period Ann is OFFLINE and her conversations move to Bob.
    let offline = bob_socket
        .until(Duration::from_secs(10), |e| {
            e["event"] == "agent.presence_changed"
                && e["data"]["userId"] == ann.user_id.as_str()
                && e["data"]["status"] == "OFFLINE"
        })
        .await;
    assert!(offline.is_some(), "Bob's socket hears that Ann went offline");
    let moved =
        eventually(Duration::from_secs(10), || async { loads(&app, &org, &[&ann, &bob]).await == vec![0, 3] }).await;
    assert!(moved, "loads: {:?}", loads(&app, &org, &[&ann, &bob]).await);
    for id in &ids {
        let timeline = app.messages(&org, id).await;
        let note = timeline.iter().find(|m| m["direction"] == "system").unwrap_or_else(|| panic!("{timeline:?}"));
        let text = note["text"].as_str().unwrap();
        assert!(text.contains("Reassigned from Ann to Bob") && text.contains("offline"), "{text}");
    }
    let _ = cid;
}

#[actix_web::test]
async fn an_agent_who_keeps_answering_keeps_their_conversation_and_a_silent_one_loses_it() {
    let app = fast_app().await;
    let org = app.register("Silent").await;
    let account = app.connect_account(&org).await;
    bot_off(&app, &org).await;
    let ann = add_agent(&app, &org, "Ann").await;
    let bob = add_agent(&app, &org, "Bob").await;
    let team = team_with(&app, &org, "Support", &[&ann, &bob], None).await;
    app.put("/api/v1/routing-rules/default-team", &org.token, json!({"teamId": team})).await;
    app.put(
        "/api/v1/routing-rules/idle-agent",
        &org.token,
        json!({"enabled": false, "offlineMinutes": 0, "noReplyMinutes": 5, "action": "RETURN_TO_QUEUE"}),
    )
    .await;
    let _ann_socket = app.socket(&ann.token, None).await.keep_alive();
    let _bob_socket = app.socket(&bob.token, None).await.keep_alive();
    let answered = app.customer_says(&org, &account, "491730000001", "question one").await;
    let ignored = app.customer_says(&org, &account, "491730000002", "question two").await;
    assert!(
        eventually(Duration::from_secs(10), || async {
            loads(&app, &org, &[&ann, &bob]).await.iter().sum::<usize>() == 2
        })
        .await
    );
    // Put both with Ann.
    for id in [&answered, &ignored] {
        let (s, b) =
            app.post(&format!("/api/v1/conversations/{id}/assign"), &org.token, json!({"userId": ann.user_id})).await;
        assert_eq!(s, 200, "{b}");
    }
    // Ann answers one; the customers write again; both have been waiting ten minutes.
    let (s, b) = app
        .post(
            &format!("/api/v1/conversations/{answered}/messages"),
            &ann.token,
            json!({"type": "text", "text": "on it"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    app.customer_says(&org, &account, "491730000001", "thanks, and?").await;
    app.customer_says(&org, &account, "491730000002", "hello??").await;
    backdate_wait(&app, &[&answered, &ignored], 10).await;

    let (s, report) = app.post("/api/v1/routing-rules/idle-agent/run", &org.token, json!({})).await;
    assert_eq!(s, 200, "{report}");
    let moves = report["data"]["moves"].as_array().unwrap();
    assert_eq!(moves.len(), 1, "{report}");
    assert_eq!(moves[0]["conversationId"], ignored.as_str());
    assert_eq!(moves[0]["action"], "RETURNED_TO_QUEUE");
    assert_eq!(
        assignee(&app, &org, &answered).await.as_deref(),
        Some(ann.user_id.as_str()),
        "Ann replied within the threshold"
    );
    // Back in the queue, it goes to Bob (Ann has more open).
    let to_bob = eventually(Duration::from_secs(10), || async {
        assignee(&app, &org, &ignored).await.as_deref() == Some(bob.user_id.as_str())
    })
    .await;
    if !to_bob {
        let (_, users) = app.get("/api/v1/users", &org.token).await;
        panic!("not with Bob: {}\nusers: {users}\nmoves: {report}", conversation(&app, &org, &ignored).await);
    }
    let timeline = app.messages(&org, &ignored).await;
    assert!(
        timeline.iter().any(|m| m["direction"] == "system" && m["text"].as_str().unwrap().contains("waited")),
        "{timeline:?}"
    );
    let _: &Agent = &bob;
}

/// Pretends the customers of these conversations began waiting `minutes` ago.
async fn backdate_wait(app: &TestApp, ids: &[&String], minutes: i64) {
    backdate_wait_to(app, ids, chrono::Utc::now() - chrono::Duration::minutes(minutes)).await;
}

/// Pretends the customers of these conversations began waiting at `then`.
async fn backdate_wait_to(app: &TestApp, ids: &[&String], then: chrono::DateTime<chrono::Utc>) {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let ids: Vec<String> = ids.iter().map(|s| (*s).clone()).collect();
    entities::conversation::Entity::update_many()
        .col_expr(entities::conversation::Column::AwaitingSince, Expr::value(then))
        .filter(entities::conversation::Column::Id.is_in(ids))
        .exec(&app.db)
        .await
        .unwrap();
}

#[actix_web::test]
async fn an_api_keys_socket_hears_events_but_never_makes_its_creator_present() {
    let app = fast_app().await;
    let org = app.register("Keys").await;
    let account = app.connect_account(&org).await;
    let (s, key) = app.post("/api/v1/api-keys", &org.token, json!({"name": "crm"})).await;
    assert_eq!(s, 201, "{key}");
    let mut socket = app.socket(key["data"]["key"].as_str().unwrap(), None).await;
    app.customer_says(&org, &account, "4917300000", "hello").await;
    let heard = socket.until(Duration::from_secs(3), |e| e["event"] == "message.created").await;
    assert!(heard.is_some(), "the integration hears the organization's events");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, online) = app.get("/api/v1/users?status=ONLINE", &org.token).await;
    assert_eq!(online["data"], json!([]), "the key's creator is not present: {online}");
}

#[actix_web::test]
async fn presence_follows_the_sockets() {
    let app = fast_app().await;
    let org = app.register("Presence").await;
    let ann = add_agent(&app, &org, "Ann").await;
    let mut admin = app.socket(&org.token, None).await;
    let ann_socket = app.socket(&ann.token, None).await;
    let online = admin
        .until(Duration::from_secs(5), |e| {
            e["event"] == "agent.presence_changed"
                && e["data"]["userId"] == ann.user_id.as_str()
                && e["data"]["status"] == "ONLINE"
        })
        .await;
    assert!(online.is_some(), "connecting makes an OFFLINE agent ONLINE");
    ann_socket.close().await;
    let offline = admin
        .until(Duration::from_secs(5), |e| {
            e["event"] == "agent.presence_changed"
                && e["data"]["userId"] == ann.user_id.as_str()
                && e["data"]["status"] == "OFFLINE"
        })
        .await;
    assert!(offline.is_some(), "no socket for the grace period makes the agent OFFLINE");
}

#[actix_web::test]
async fn maintenance_replies_once_and_holds_assignment_and_off_hours_replies_once() {
    let app = fast_app().await;
    let org = app.register("Notices").await;
    let account = app.connect_account(&org).await;
    bot_off(&app, &org).await;
    let ann = add_agent(&app, &org, "Ann").await;
    let _ann_socket = app.socket(&ann.token, None).await.keep_alive();
    let (s, _) = app
        .put(
            "/api/v1/routing-rules/maintenance",
            &org.token,
            json!({"maintenanceMode": true, "message": "Down for maintenance"}),
        )
        .await;
    assert_eq!(s, 200);
    let c = app.customer_says(&org, &account, "491740000001", "hello").await;
    app.customer_says(&org, &account, "491740000001", "hello again").await;
    let outbound =
        |msgs: Vec<serde_json::Value>| msgs.into_iter().filter(|m| m["direction"] == "outbound").collect::<Vec<_>>();
    let sent = outbound(app.messages(&org, &c).await);
    assert_eq!(sent.len(), 1, "one maintenance reply: {sent:?}");
    assert_eq!(sent[0]["text"], "Down for maintenance");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(assignee(&app, &org, &c).await.is_none(), "maintenance holds assignment");
    let awaiting = conversation(&app, &org, &c).await;
    assert_eq!(awaiting["awaitingReply"], true, "the notice does not answer the customer");

    // Maintenance ends: the queue drains.
    app.put("/api/v1/routing-rules/maintenance", &org.token, json!({"maintenanceMode": false})).await;
    assert!(eventually(Duration::from_secs(5), || async { assignee(&app, &org, &c).await.is_some() }).await);

    // Off-hours: closed all week, auto-reply on.
    app.put(
        "/api/v1/routing-rules/business-hours",
        &org.token,
        json!({"timezone": "Europe/Berlin", "isEnabled": true, "slots": []}),
    )
    .await;
    app.put(
        "/api/v1/routing-rules/off-hours",
        &org.token,
        json!({"offHoursAutoReply": true, "message": "We are closed"}),
    )
    .await;
    let d = app.customer_says(&org, &account, "491740000002", "anyone?").await;
    app.customer_says(&org, &account, "491740000002", "hello?").await;
    let sent = outbound(app.messages(&org, &d).await);
    assert_eq!(sent.iter().filter(|m| m["text"] == "We are closed").count(), 1, "{sent:?}");

    // Never while the bot has the conversation.
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entities::organization::Entity::update_many()
        .col_expr(entities::organization::Column::BotEnabled, Expr::value(true))
        .filter(entities::organization::Column::Id.eq(org.org_id.clone()))
        .exec(&app.db)
        .await
        .unwrap();
    let e = app.customer_says(&org, &account, "491740000003", "hi bot").await;
    assert_eq!(conversation(&app, &org, &e).await["status"], "BOT_HANDLING");
    assert!(outbound(app.messages(&org, &e).await).is_empty());
}

#[actix_web::test]
async fn notify_only_flags_a_silent_agent_once_and_moves_nothing() {
    let app = fast_app().await;
    let org = app.register("Notify").await;
    let account = app.connect_account(&org).await;
    bot_off(&app, &org).await;
    let ann = add_agent(&app, &org, "Ann").await;
    let _ann_socket = app.socket(&ann.token, None).await.keep_alive();
    app.put(
        "/api/v1/routing-rules/idle-agent",
        &org.token,
        json!({"enabled": false, "noReplyMinutes": 5, "action": "NOTIFY_ONLY"}),
    )
    .await;
    let c = app.customer_says(&org, &account, "491750000001", "hello?").await;
    assert!(eventually(Duration::from_secs(10), || async { assignee(&app, &org, &c).await.is_some() }).await);
    let waiting_since = chrono::Utc::now() - chrono::Duration::minutes(10);
    backdate_wait_to(&app, &[&c], waiting_since).await;

    let (s, report) = app.post("/api/v1/routing-rules/idle-agent/run", &org.token, json!({})).await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["data"]["notified"], 1, "{report}");
    assert_eq!(report["data"]["moves"][0]["action"], "NOTIFIED");
    assert_eq!(assignee(&app, &org, &c).await.as_deref(), Some(ann.user_id.as_str()), "nothing moved");
    let notes = app.messages(&org, &c).await.into_iter().filter(|m| m["direction"] == "system").count();
    assert_eq!(notes, 1, "one timeline entry");

    // The same silence (the customer still waiting since then) is flagged once, not every run.
    backdate_wait_to(&app, &[&c], waiting_since).await;
    let (_, again) = app.post("/api/v1/routing-rules/idle-agent/run", &org.token, json!({})).await;
    assert_eq!(again["data"]["notified"], 0, "{again}");
}

#[actix_web::test]
async fn an_inbox_with_auto_assignment_off_keeps_its_conversations_in_the_queue() {
    let app = fast_app().await;
    let org = app.register("Manual").await;
    let (manual, auto) = (app.connect_account(&org).await, app.connect_account(&org).await);
    bot_off(&app, &org).await;
    let (_, inboxes) = app.get("/api/v1/inboxes", &org.token).await;
    let manual_inbox = inboxes["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["whatsappAccountId"] == manual.id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/inboxes/{manual_inbox}");
    let (s, b) = app.patch(&path, &org.token, json!({"enableAutoAssignment": false})).await;
    assert_eq!(s, 200, "{b}");

    let ann = add_agent(&app, &org, "Ann").await;
    let _socket = app.socket(&ann.token, None).await.keep_alive();
    let waits = app.customer_says(&org, &manual, "4917200001", "hello?").await;
    let served = app.customer_says(&org, &auto, "4917200002", "hello?").await;
    let assigned =
        eventually(Duration::from_secs(10), || async { assignee(&app, &org, &served).await.is_some() }).await;
    assert!(assigned, "the other inbox's conversation is auto-assigned");
    // Several drains later, the manual inbox's conversation still waits in the queue.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let c = conversation(&app, &org, &waits).await;
    assert_eq!((c["status"].as_str(), c["assignedTo"].is_null()), (Some("OPEN"), true), "{c}");
    let (_, queue) = app.get("/api/v1/conversations?assignedTo=unassigned&status=OPEN", &org.token).await;
    assert_eq!(queue["data"][0]["id"], waits.as_str(), "{queue}");

    // Turned back on, the inbox's queue drains as before.
    app.patch(&path, &org.token, json!({"enableAutoAssignment": true})).await;
    let assigned = eventually(Duration::from_secs(10), || async {
        assignee(&app, &org, &waits).await.as_deref() == Some(ann.user_id.as_str())
    })
    .await;
    assert!(assigned, "auto-assignment resumed for the inbox");
}

#[actix_web::test]
async fn an_idle_agents_conversation_in_an_inbox_without_auto_assignment_returns_to_the_queue() {
    let app = fast_app().await;
    let org = app.register("Manual idle").await;
    let account = app.connect_account(&org).await;
    bot_off(&app, &org).await;
    let (_, inboxes) = app.get("/api/v1/inboxes", &org.token).await;
    let path = format!("/api/v1/inboxes/{}", inboxes["data"][0]["id"].as_str().unwrap());
    app.patch(&path, &org.token, json!({"enableAutoAssignment": false})).await;
    let idle = json!({"enabled": true, "offlineMinutes": 0, "noReplyMinutes": 5, "action": "REASSIGN"});
    let (s, b) = app.put("/api/v1/routing-rules/idle-agent", &org.token, idle).await;
    assert_eq!(s, 200, "{b}");
    let ann = add_agent(&app, &org, "Ann").await;
    let bob = add_agent(&app, &org, "Bob").await;
    let ann_socket = app.socket(&ann.token, None).await.keep_alive();
    let id = app.customer_says(&org, &account, "4917300001", "hello?").await;
    let (s, b) =
        app.patch(&format!("/api/v1/conversations/{id}"), &org.token, json!({"assignedTo": ann.user_id})).await;
    assert_eq!(s, 200, "{b}");

    // Ann leaves while Bob is online: her conversation goes back to the queue, not to Bob.
    let _bob_socket = app.socket(&bob.token, None).await.keep_alive();
    ann_socket.close();
    let queued = eventually(Duration::from_secs(10), || async { assignee(&app, &org, &id).await.is_none() }).await;
    assert!(queued, "Ann's conversation left her");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let c = conversation(&app, &org, &id).await;
    assert_eq!((c["status"].as_str(), c["assignedTo"].is_null()), (Some("OPEN"), true), "{c}");
    let timeline = app.messages(&org, &id).await;
    let note = timeline.iter().find(|m| m["direction"] == "system").unwrap_or_else(|| panic!("{timeline:?}"));
    assert!(note["text"].as_str().unwrap().contains("Returned to the queue from Ann"), "{note}");
}

#[actix_web::test]
async fn inbox_working_hours_send_the_off_hours_reply_instead_of_the_orgs() {
    let app = fast_app().await;
    let org = app.register("Inbox hours").await;
    let (closed, open) = (app.connect_account(&org).await, app.connect_account(&org).await);
    bot_off(&app, &org).await;
    // The organization is open around the clock; one inbox keeps its own hours: closed all week.
    let days = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    let slots: Vec<_> = days.iter().map(|d| json!({"day": d, "start": "00:00", "end": "24:00"})).collect();
    let always = json!({"timezone": "UTC", "isEnabled": true, "slots": slots});
    let (s, b) = app.put("/api/v1/routing-rules/business-hours", &org.token, always).await;
    assert_eq!(s, 200, "{b}");
    app.put(
        "/api/v1/routing-rules/off-hours",
        &org.token,
        json!({"offHoursAutoReply": true, "message": "We are closed"}),
    )
    .await;
    let (_, inboxes) = app.get("/api/v1/inboxes", &org.token).await;
    let closed_inbox =
        inboxes["data"].as_array().unwrap().iter().find(|i| i["whatsappAccountId"] == closed.id.as_str());
    let path = format!("/api/v1/inboxes/{}", closed_inbox.unwrap()["id"].as_str().unwrap());
    let hours = json!({"timezone": "Europe/Berlin", "isEnabled": true, "slots": []});
    let (s, b) = app.patch(&path, &org.token, json!({"workingHours": hours})).await;
    assert_eq!(s, 200, "{b}");

    let replies = |id: String| {
        let app = &app;
        let org = &org;
        async move {
            let msgs = app.messages(org, &id).await;
            msgs.into_iter().filter(|m| m["text"] == "We are closed").count()
        }
    };
    let c = app.customer_says(&org, &closed, "491750000001", "anyone?").await;
    app.customer_says(&org, &closed, "491750000001", "hello?").await;
    assert_eq!(replies(c).await, 1, "the inbox's hours say closed: one off-hours reply");
    let d = app.customer_says(&org, &open, "491750000002", "anyone?").await;
    assert_eq!(replies(d).await, 0, "the other inbox follows the organization's hours: open");

    // With its hours turned off, the inbox follows the organization's again.
    let off = json!({"workingHours": {"timezone": "Europe/Berlin", "isEnabled": false, "slots": []}});
    app.patch(&path, &org.token, off).await;
    let e = app.customer_says(&org, &closed, "491750000003", "anyone?").await;
    assert_eq!(replies(e).await, 0);
}
