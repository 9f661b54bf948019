use std::collections::HashMap;
use std::time::Duration;

use crate::helpers::{spawn_app, text_webhook};

#[actix_web::test]
async fn a_100_message_burst_for_10_customers_is_stored_in_order_and_reaches_every_socket() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let mut sockets = vec![
        app.socket(&org.token, None).await,
        app.socket(&org.token, None).await,
        app.socket(&org.token, None).await,
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Ten customers write at once; each customer's ten messages go one after another.
    let customers: Vec<String> = (0..10).map(|i| format!("1555444{i:04}")).collect();
    let sends = customers.iter().map(|wa| {
        let app = &app;
        let account = &account;
        async move {
            for n in 0..10 {
                let hook = text_webhook(
                    &account.phone_number_id,
                    wa,
                    "Burst",
                    &format!("wamid.{wa}.{n}"),
                    &format!("{wa} #{n}"),
                );
                let (status, body) = app.post_webhook(&hook).await;
                assert_eq!(status, 200, "{body}");
            }
        }
    });
    futures_util::future::join_all(sends).await;

    assert_eq!(app.count("messages").await, 100);
    assert_eq!(app.count("conversations").await, 10);
    for wa in &customers {
        let conv = app.conversation_of(&org, wa).await;
        let texts: Vec<_> =
            app.messages(&org, &conv).await.iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
        let expected: Vec<_> = (0..10).map(|n| format!("{wa} #{n}")).collect();
        assert_eq!(texts, expected, "stored in the order the customer wrote");
    }

    for socket in &mut sockets {
        let events =
            socket.until_count(Duration::from_secs(20), "message.created", 100).await.expect("all 100 events arrive");
        let mut per_customer: HashMap<String, Vec<String>> = HashMap::new();
        let mut per_conversation_seq: HashMap<String, Vec<i64>> = HashMap::new();
        for e in events.iter().filter(|e| e["conversationId"].is_string()) {
            per_conversation_seq
                .entry(e["conversationId"].as_str().unwrap().into())
                .or_default()
                .push(e["seq"].as_i64().unwrap());
            if e["event"] == "message.created" {
                let text = e["data"]["text"].as_str().unwrap();
                per_customer.entry(text.split(' ').next().unwrap().into()).or_default().push(text.into());
            }
        }
        for wa in &customers {
            let expected: Vec<_> = (0..10).map(|n| format!("{wa} #{n}")).collect();
            assert_eq!(per_customer[wa], expected, "socket order per conversation");
        }
        for seqs in per_conversation_seq.values() {
            assert_eq!(seqs, &(1..=seqs.len() as i64).collect::<Vec<_>>(), "seq is gap-free per conversation");
        }
        let cursors: Vec<_> = events.iter().map(|e| e["cursor"].as_str().unwrap().to_owned()).collect();
        let distinct: std::collections::HashSet<&String> = cursors.iter().collect();
        assert_eq!(distinct.len(), cursors.len(), "no event twice");
    }
}
