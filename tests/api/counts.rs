//! The bucket counters (migration 000030): after a burst of concurrent changes of every kind the
//! counts and outbox statistics they give equal counting the rows.

use std::collections::BTreeMap;
use std::time::Duration;

use actors::store::conversation_list::{self, Assigned, ListFilter};
use entities::enums::{ConversationStatus, MessageStatus};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::agents::{add_agent, bot_off};
use crate::helpers::{Org, Scripted, TestApp, spawn_app};
use crate::outbox::{fast_outbox, refused};

/// The filters a view of the list can combine that the buckets answer.
fn views(me: &str, agent: &str) -> Vec<ListFilter> {
    use ConversationStatus::*;
    let statuses =
        [vec![], vec![BotHandling, Open, HumanHandling], vec![Closed], vec![Open], vec![WaitingForCustomer, Closed]];
    let assigned = [
        Assigned::Anyone,
        Assigned::Unassigned,
        Assigned::User(me.into()),
        Assigned::User(agent.into()),
        // A caller without a user id asking for "me".
        Assigned::User(String::new()),
    ];
    let mut out = Vec::new();
    for s in &statuses {
        for a in &assigned {
            for bot in [None, Some(true), Some(false)] {
                for (unread, needs_action) in [(false, false), (true, false), (false, true)] {
                    out.push(ListFilter {
                        statuses: s.clone(),
                        assigned: a.clone(),
                        bot,
                        unread,
                        needs_action,
                        ..Default::default()
                    });
                }
            }
        }
    }
    out
}

/// Rows of `sql` as strings and numbers joined, keyed by all but the last column.
async fn tally(app: &TestApp, sql: &str) -> BTreeMap<String, i64> {
    let backend = app.db.get_database_backend();
    let rows = app.db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap();
    rows.iter()
        .map(|r| {
            let key = (0..r.column_names().len() - 1)
                .map(|i| {
                    r.try_get_by_index::<String>(i)
                        .or_else(|_| r.try_get_by_index::<i64>(i).map(|n| n.to_string()))
                        .or_else(|_| r.try_get_by_index::<i32>(i).map(|n| n.to_string()))
                        .unwrap()
                })
                .collect::<Vec<_>>()
                .join("|");
            (key, r.try_get_by_index::<i64>(r.column_names().len() - 1).unwrap())
        })
        .filter(|(_, n)| *n != 0)
        .collect()
}

async fn buckets_and_recount(app: &TestApp, org: &Org) -> [(BTreeMap<String, i64>, BTreeMap<String, i64>); 2] {
    let o = &org.org_id;
    [
        (
            tally(
                app,
                &format!(
                    "SELECT status, assigned_to, unread, awaiting, n FROM conversation_counts WHERE org_id = '{o}'"
                ),
            )
            .await,
            tally(
                app,
                &format!(
                    "SELECT status, COALESCE(assigned_to, ''), CASE WHEN unread_count > 0 THEN 1 ELSE 0 END, \
                 CASE WHEN awaiting_reply THEN 1 ELSE 0 END, COUNT(*) FROM conversations WHERE org_id = '{o}' \
                 GROUP BY 1, 2, 3, 4"
                ),
            )
            .await,
        ),
        (
            tally(app, &format!("SELECT state, error_code, n FROM outbox_counts WHERE org_id = '{o}'")).await,
            tally(
                app,
                &format!(
                    "SELECT CASE WHEN status = 'pending' THEN 'pending' WHEN discarded_at IS NULL THEN 'failed' \
                 ELSE 'discarded' END, CASE WHEN status = 'failed' AND discarded_at IS NULL \
                 THEN COALESCE(error_code, '') ELSE '' END, COUNT(*) FROM messages WHERE org_id = '{o}' \
                 AND direction = 'outbound' AND status IN ('pending', 'failed') GROUP BY 1, 2"
                ),
            )
            .await,
        ),
    ]
}

#[actix_web::test]
async fn counts_match_a_recount_after_a_burst_of_mixed_changes() {
    let app = fast_outbox().await;
    let org = app.register("Acme").await;
    let other = app.register("Other").await;
    let account = app.connect_account(&org).await;
    let agent = add_agent(&app, &org, "Ana").await;
    bot_off(&app, &org).await;
    // Every third send is refused for good, with one of two codes.
    app.graph.script(
        (0..60)
            .map(|i| {
                if i % 3 == 0 {
                    refused(131026 + (i % 2), "x")
                } else {
                    Scripted { status: 200, body: json!({"messages": [{"id": format!("wamid.c{i}")}]}) }
                }
            })
            .collect(),
    );

    let mut convs = Vec::new();
    for i in 0..16 {
        convs.push(app.customer_says(&org, &account, &format!("1555702{i:04}"), "hello").await);
    }
    let path = |c: &str, what: &str| format!("/api/v1/conversations/{c}/{what}");
    // Each conversation goes its own way, all at once.
    let burst = convs.iter().enumerate().map(|(i, c)| {
        let (app, org, agent, account) = (&app, &org, &agent, &account);
        async move {
            let t = &org.token;
            match i % 8 {
                0 => {
                    app.post(&path(c, "takeover"), t, json!({})).await;
                    app.post(&path(c, "messages"), t, json!({"type": "text", "text": "hi"})).await;
                }
                1 => {
                    app.post(&path(c, "assign"), t, json!({"userId": agent.user_id})).await;
                    app.post(&path(c, "read"), t, json!({})).await;
                }
                2 => {
                    app.post(&path(c, "takeover"), t, json!({})).await;
                    app.post(&path(c, "resolve"), t, json!({})).await;
                }
                3 => {
                    app.patch(&format!("/api/v1/conversations/{c}"), t, json!({"status": "WAITING_FOR_CUSTOMER"}))
                        .await;
                    app.customer_says(org, account, &format!("1555702{i:04}"), "still there?").await;
                }
                4 => {
                    app.post(&path(c, "assign"), t, json!({"userId": agent.user_id})).await;
                    app.post(&path(c, "unassign"), t, json!({})).await;
                    app.post(&path(c, "messages"), t, json!({"type": "text", "text": "a"})).await;
                    app.post(&path(c, "messages"), t, json!({"type": "text", "text": "b"})).await;
                }
                5 => {
                    let deleted = cx_inbox::conversations::removal::delete(
                        &app.state,
                        &org.org_id,
                        std::slice::from_ref(c),
                        "ids",
                        "test",
                    )
                    .await;
                    assert!(deleted.is_ok());
                }
                6 => {
                    app.post(&path(c, "takeover"), t, json!({})).await;
                    app.post(&path(c, "messages"), t, json!({"type": "text", "text": "x"})).await;
                    app.post(&path(c, "resolve"), t, json!({})).await;
                    // A new conversation of the same customer.
                    app.customer_says(org, account, &format!("1555702{i:04}"), "one more thing").await;
                }
                _ => {
                    app.customer_says(org, account, &format!("1555702{i:04}"), "hello again").await;
                    app.post(&path(c, "read"), t, json!({})).await;
                }
            }
        }
    });
    futures_util::future::join_all(burst).await;
    // Writers other than the actors (an import, an operator's SQL) move one part of a bucket at
    // a time.
    let backend = app.db.get_database_backend();
    for sql in [
        format!("UPDATE conversations SET awaiting_reply = NOT awaiting_reply WHERE id = '{}'", convs[7]),
        format!("UPDATE conversations SET unread_count = unread_count + 2 WHERE id = '{}'", convs[1]),
        format!("UPDATE conversations SET assigned_to = '{}' WHERE id = '{}'", agent.user_id, convs[3]),
        format!("UPDATE conversations SET status = 'CLOSED' WHERE id = '{}'", convs[15]),
    ] {
        app.db.execute_raw(Statement::from_string(backend, sql)).await.unwrap();
    }
    // Discard what failed, through the API.
    let (_, failed) = app.get("/api/v1/messages/failed?pageSize=100", &org.token).await;
    for m in failed["data"].as_array().unwrap().iter().step_by(2) {
        app.post(&format!("/api/v1/messages/{}/discard", m["id"].as_str().unwrap()), &org.token, json!({})).await;
    }
    // An operator's SQL that makes a (discarded) failed send something else takes it out of
    // the outbox.
    if let Some(id) = failed["data"].get(0).and_then(|m| m["id"].as_str()) {
        let sql = format!("UPDATE messages SET direction = 'inbound' WHERE id = '{id}'");
        app.db.execute_raw(Statement::from_string(backend, sql)).await.unwrap();
    }

    // Sends and assignments finish in the background: compare once nothing moves (5 s at most).
    let mut last = None;
    for _ in 0..50 {
        let now = buckets_and_recount(&app, &org).await;
        if now.iter().all(|(kept, counted)| kept == counted) {
            last = None;
            break;
        }
        last = Some(now);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(last.is_none(), "the counters drifted from the rows: {last:?}");
    let [(conversations, _), (outbox, _)] = buckets_and_recount(&app, &org).await;
    assert!(conversations.len() >= 4, "the burst spread the conversations over buckets: {conversations:?}");
    assert!(outbox.keys().any(|k| k.starts_with("failed|")), "{outbox:?}");
    assert!(outbox.keys().any(|k| k.starts_with("discarded|")), "{outbox:?}");

    // Every view the buckets answer gives what counting its rows gives.
    let me = org.user_id.clone();
    for view in views(&me, &agent.user_id) {
        let kept = conversation_list::counts(&app.db, &org.org_id, &view).await.unwrap();
        let counted = conversation_list::count_rows(&app.db, &org.org_id, &view).await.unwrap();
        assert_eq!(kept, counted, "{view:?}");
    }
    // The endpoint reads them, and another organization's buckets are its own.
    let (s, all) = app.get("/api/v1/conversations/counts", &org.token).await;
    assert_eq!(s, 200, "{all}");
    let total = conversation_list::count_rows(&app.db, &org.org_id, &ListFilter::default()).await.unwrap();
    assert_eq!(all["data"]["all"], total.all);
    assert_eq!(all["data"]["unread"], total.unread);
    assert_eq!(all["data"]["needsAction"], total.needs_action);
    let (_, theirs) = app.get("/api/v1/conversations/counts", &other.token).await;
    assert_eq!(theirs["data"], json!({"all": 0, "unread": 0, "needsAction": 0}));

    // The outbox statistics are the rows' figures.
    let (_, stats) = app.get("/api/v1/messages/failed/stats", &org.token).await;
    let count = |status: MessageStatus, discarded: bool| {
        let f = cx_inbox::conversations::outbox::Filter { status, discarded, template_name: None, search: None };
        sea_orm::PaginatorTrait::count(cx_inbox::conversations::outbox::filtered(&org.org_id, &f), &app.db)
    };
    assert_eq!(stats["data"]["failed"], count(MessageStatus::Failed, false).await.unwrap(), "{stats}");
    assert_eq!(stats["data"]["discarded"], count(MessageStatus::Failed, true).await.unwrap(), "{stats}");
    let pending =
        count(MessageStatus::Pending, false).await.unwrap() + count(MessageStatus::Pending, true).await.unwrap();
    assert_eq!(stats["data"]["pending"], pending, "{stats}");
    let by_code: i64 =
        stats["data"]["byErrorCode"].as_array().unwrap().iter().map(|c| c["count"].as_i64().unwrap()).sum();
    assert_eq!(by_code, stats["data"]["failed"].as_i64().unwrap());
    let (_, theirs) = app.get("/api/v1/messages/failed/stats", &other.token).await;
    assert_eq!(theirs["data"], json!({"failed": 0, "pending": 0, "discarded": 0, "byErrorCode": []}));
}

#[actix_web::test]
async fn a_filter_the_buckets_cannot_answer_counts_rows() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    bot_off(&app, &org).await;
    for i in 0..3 {
        app.customer_says(&org, &account, &format!("1555703{i:04}"), "hello").await;
    }
    // A category, a team, a search: the buckets do not know them, the rows do.
    for q in ["category=billing", "teamId=none", "search=nobody", "origin=livechat"] {
        let (s, c) = app.get(&format!("/api/v1/conversations/counts?{q}"), &org.token).await;
        assert_eq!((s, &c["data"]["all"]), (200, &json!(0)), "{q}: {c}");
    }
    let (_, c) = app.get("/api/v1/conversations/counts?origin=whatsapp&status=OPEN", &org.token).await;
    assert_eq!(c["data"]["all"], 3, "{c}");
}

#[actix_web::test]
async fn the_migration_fills_the_counters_from_the_rows_already_there() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    bot_off(&app, &org).await;
    app.graph.script(vec![refused(131026, "x")]);
    let mut convs = Vec::new();
    for i in 0..4 {
        convs.push(app.customer_says(&org, &account, &format!("1555704{i:04}"), "hello").await);
    }
    app.post(&format!("/api/v1/conversations/{}/takeover", convs[0]), &org.token, json!({})).await;
    app.post(&format!("/api/v1/conversations/{}/messages", convs[0]), &org.token, json!({"type": "text", "text": "x"}))
        .await;
    app.post(&format!("/api/v1/conversations/{}/resolve", convs[1]), &org.token, json!({})).await;
    let before = buckets_and_recount(&app, &org).await;

    // Down to just before the migration and up again: the counters are made from the rows.
    use migrations::MigratorTrait;
    let steps = migrations::Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m20261209_000030_bucket_counts")
        .unwrap()
        + 1;
    migrations::Migrator::down(&app.db, Some(steps as u32)).await.unwrap();
    migrations::Migrator::up(&app.db, None).await.unwrap();
    let after = buckets_and_recount(&app, &org).await;
    for (kept, counted) in &after {
        assert_eq!(kept, counted);
    }
    assert_eq!(before, after);
    assert!(after[0].0.values().sum::<i64>() == 4, "{after:?}");
    assert_eq!(after[1].0.get("failed|131026"), Some(&1), "{after:?}");
}
