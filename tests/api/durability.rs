//! Acknowledged means stored: a node killed with `kill -9` in the middle of a burst of webhooks
//! (group commits in flight) has stored every message it answered 200 to, once, and a restarted
//! node takes Meta's redeliveries of the rest without storing anything twice. On SQLite (a file)
//! and on PostgreSQL when `CX_TEST_DATABASE_URL` is set.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

use crate::helpers::{APP_SECRET, ProcessNode, VERIFY_TOKEN, post_signed_webhook, spawn_app, text_webhook};

/// A cx-inbox process on the test app's database, so it can be killed for real.
async fn process(database_url: &str, graph_url: &str) -> ProcessNode {
    ProcessNode::start(|dir, port| {
        [
            ("CX_BIND", format!("127.0.0.1:{port}")),
            ("CX_DATA_DIR", dir.display().to_string()),
            ("CX_DATABASE_URL", database_url.to_owned()),
            ("CX_WHATSAPP_GRAPH_URL", graph_url.to_owned()),
            ("CX_WHATSAPP_APP_SECRET", APP_SECRET.to_owned()),
            ("CX_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN.to_owned()),
            ("CX_WORKERS", "2".to_owned()),
            ("CX_LOG", "warn".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    })
    .await
}

async fn post(client: &reqwest::Client, address: &str, hook: &Value) -> Option<u16> {
    post_signed_webhook(client, address, hook).await.ok()
}

async fn column(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<Vec<String>> {
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
    rows.iter()
        .map(|r| {
            (0..3)
                .map_while(|i| {
                    r.try_get_by_index::<String>(i)
                        .ok()
                        .or_else(|| r.try_get_by_index::<i64>(i).ok().map(|n| n.to_string()))
                })
                .collect()
        })
        .collect()
}

#[actix_web::test]
async fn kill_9_mid_burst_loses_no_acknowledged_message_and_redelivery_stores_nothing_twice() {
    // The in-process app creates the organization and its number, then stays idle; the
    // processes that are killed and restarted share its database.
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let url = app.config.database_url();
    let mut node = process(&url, &app.graph.url).await;

    let client = reqwest::Client::new();
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let killed = Arc::new(tokio::sync::Notify::new());
    let hooks: Vec<(String, Value)> = (0..8)
        .flat_map(|poster| (0..120).map(move |n| (poster, n)))
        .map(|(poster, n)| {
            let wa = format!("1555700{:04}", poster * 5 + n % 5);
            let wamid = format!("wamid.kill.{poster}.{n}");
            let hook = text_webhook(&account.phone_number_id, &wa, "C", &wamid, &format!("{wa} {poster} #{n}"));
            (wamid, hook)
        })
        .collect();
    // Eight posters at once, each its own customers, until the node dies under them.
    let posters = (0..8).map(|poster| {
        let (client, acked, address) = (client.clone(), acked.clone(), node.address.clone());
        let mine: Vec<(String, Value)> = hooks[poster * 120..(poster + 1) * 120].to_vec();
        async move {
            for (wamid, hook) in mine {
                match post(&client, &address, &hook).await {
                    Some(200) => {
                        acked.lock().unwrap().insert(wamid);
                    }
                    _ => return,
                }
            }
        }
    });
    let killer = {
        let acked = acked.clone();
        let killed = killed.clone();
        async move {
            while acked.lock().unwrap().len() < 300 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            killed.notify_one();
        }
    };
    let burst = futures_util::future::join_all(posters);
    tokio::pin!(burst);
    tokio::select! {
        _ = &mut burst => panic!("the burst ended before the kill"),
        _ = async { killer.await; killed.notified().await } => {}
    }
    node.kill_9();
    burst.await;
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300, "{} acknowledged before the kill", acked.len());

    let stored: HashSet<String> =
        column(&app.db, "SELECT provider_message_id FROM messages WHERE provider_message_id LIKE 'wamid.kill.%'")
            .await
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect();
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");

    // Meta redelivers everything not acknowledged (and, to be hard, everything else too) to
    // the restarted node: each message ends up stored exactly once.
    let node = process(&url, &app.graph.url).await;
    for (_, hook) in &hooks {
        assert_eq!(post(&client, &node.address, hook).await, Some(200));
    }
    let rows =
        column(&app.db, "SELECT provider_message_id FROM messages WHERE provider_message_id LIKE 'wamid.kill.%'").await;
    assert_eq!(rows.len(), hooks.len(), "every message stored once");

    // The event stream is gap-free, and each conversation's seqs run 1, 2, 3… in org_seq order.
    let events = column(&app.db, "SELECT org_seq, conversation_id, seq FROM events ORDER BY org_seq").await;
    let org_seqs: Vec<i64> = events.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(org_seqs, (1..=org_seqs.len() as i64).collect::<Vec<_>>(), "org_seq has no gap");
    let mut last: std::collections::HashMap<String, i64> = Default::default();
    for r in events.iter().filter(|r| r.len() == 3) {
        let seq: i64 = r[2].parse().unwrap();
        let prev = last.insert(r[1].clone(), seq).unwrap_or(0);
        assert_eq!(seq, prev + 1, "conversation {} goes from seq {prev} to {seq}", r[1]);
    }
}
