use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{spawn_app, text_webhook};

#[actix_web::test]
async fn a_bad_token_is_refused_before_the_upgrade() {
    let app = spawn_app().await;
    let err = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/api/v1/ws?token=nope", app.port))
        .await
        .unwrap_err();
    match err {
        tokio_tungstenite::tungstenite::Error::Http(res) => assert_eq!(res.status(), 401),
        other => panic!("expected an HTTP 401, got {other:?}"),
    }
    let err = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/api/v1/ws", app.port)).await.unwrap_err();
    assert!(matches!(err, tokio_tungstenite::tungstenite::Error::Http(ref r) if r.status() == 401));

    let org = app.register("Acme").await;
    let err = tokio_tungstenite::connect_async(format!(
        "ws://127.0.0.1:{}/api/v1/ws?token={}&since=garbage",
        app.port, org.token
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, tokio_tungstenite::tungstenite::Error::Http(ref r) if r.status() == 400));
}

#[actix_web::test]
async fn the_token_may_come_in_the_authorization_header() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let mut req = format!("ws://127.0.0.1:{}/api/v1/ws", app.port).into_client_request().unwrap();
    req.headers_mut().insert("Authorization", format!("Bearer {}", org.token).parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_ok());
}

fn seqs_by_conversation(events: &[Value]) -> std::collections::HashMap<String, Vec<i64>> {
    let mut map = std::collections::HashMap::<String, Vec<i64>>::new();
    for e in events.iter().filter(|e| e["conversationId"].is_string()) {
        map.entry(e["conversationId"].as_str().unwrap().to_owned()).or_default().push(e["seq"].as_i64().unwrap());
    }
    map
}

#[actix_web::test]
async fn a_socket_that_reconnects_with_since_gets_what_it_missed_exactly_once() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;

    let mut socket = app.socket(&org.token, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.post_webhook(&text_webhook(&account.phone_number_id, "15552220001", "A", "wamid.r1", "one")).await;
    let seen = socket.until_count(Duration::from_secs(5), "message.created", 1).await.unwrap();
    let last_cursor = seen.last().unwrap()["cursor"].as_str().unwrap().to_owned();
    socket.close().await;

    // While the agent is away: two customers write, and the agent's colleague replies.
    app.post_webhook(&text_webhook(&account.phone_number_id, "15552220001", "A", "wamid.r2", "two")).await;
    app.post_webhook(&text_webhook(&account.phone_number_id, "15552220002", "B", "wamid.r3", "three")).await;
    let conv_a = app.conversation_of(&org, "15552220001").await;
    app.post(&format!("/api/v1/conversations/{conv_a}/messages"), &org.token, json!({"type": "text", "text": "reply"}))
        .await;

    let mut again = app.socket(&org.token, Some(&last_cursor)).await;
    // Live events after the reconnect follow the backlog.
    tokio::time::sleep(Duration::from_millis(50)).await;
    app.post_webhook(&text_webhook(&account.phone_number_id, "15552220002", "B", "wamid.r4", "four")).await;
    let missed = again.drain(Duration::from_millis(800)).await;

    let texts: Vec<_> = missed
        .iter()
        .filter(|e| e["event"] == "message.created")
        .map(|e| e["data"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, vec!["two", "three", "reply", "four"], "every missed message once, in order, then live");
    let cursors: Vec<_> = missed.iter().map(|e| e["cursor"].as_str().unwrap().to_owned()).collect();
    let distinct: std::collections::HashSet<&String> = cursors.iter().collect();
    assert_eq!(distinct.len(), cursors.len(), "no event twice");
    assert!(!cursors.contains(&last_cursor), "nothing at or before the cursor");
    for (conv, seqs) in seqs_by_conversation(&missed) {
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "conversation {conv}: seq grows by one: {seqs:?}");
    }
    // The first missed event of conversation A follows directly on the last one seen.
    let a_seqs = &seqs_by_conversation(&missed)[&conv_a];
    let seen_a_last = seen
        .iter()
        .filter(|e| e["conversationId"] == conv_a.as_str())
        .map(|e| e["seq"].as_i64().unwrap())
        .max()
        .unwrap();
    assert_eq!(a_seqs[0], seen_a_last + 1);
}

/// The sockets of one thread share a relay to the bus: each socket still gets every event of its
/// organization once, and none of another's, while sockets come and go around it.
#[actix_web::test]
async fn every_socket_gets_each_event_once_while_others_of_its_thread_come_and_go() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let other = app.register("Other").await;
    let account = app.connect_account(&org).await;
    let wa = "15552230001";
    let webhook =
        |n: usize| text_webhook(&account.phone_number_id, wa, "A", &format!("wamid.relay{n}"), &format!("m{n}"));
    let texts = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["event"] == "message.created" && e["data"]["direction"] == "inbound")
            .map(|e| e["data"]["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    };

    // Enough sockets that every HTTP worker thread holds several of the organization's.
    let mut sockets = Vec::new();
    for _ in 0..8 {
        sockets.push(app.socket(&org.token, None).await);
    }
    let mut stranger = app.socket(&other.token, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.post_webhook(&webhook(1)).await;
    for s in &mut sockets {
        let got = s.until_count(Duration::from_secs(5), "message.created", 1).await.expect("every socket gets it");
        assert_eq!(texts(&got), vec!["m1"]);
    }

    // Seven close: whichever threads lose their last socket of the organization stop receiving
    // it; the thread of the one left must not.
    let mut kept = sockets.pop().unwrap();
    for s in sockets {
        s.close().await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.post_webhook(&webhook(2)).await;
    let got = kept.until_count(Duration::from_secs(5), "message.created", 1).await.expect("the socket left gets it");
    assert_eq!(texts(&got), vec!["m2"]);

    // Newcomers join threads whose relay left the organization, or never had it.
    let mut newcomers = Vec::new();
    for _ in 0..4 {
        newcomers.push(app.socket(&org.token, None).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.post_webhook(&webhook(3)).await;
    app.post_webhook(&webhook(4)).await;
    let mut streams = Vec::new();
    for s in newcomers.iter_mut().chain(std::iter::once(&mut kept)) {
        let got = s.drain(Duration::from_millis(600)).await;
        assert_eq!(texts(&got), vec!["m3", "m4"], "each once, in order: {got:?}");
        streams.push(got.iter().map(|e| e["cursor"].as_str().unwrap().to_owned()).collect::<Vec<_>>());
    }
    // The whole stream (the bot's later hand-over too, for the sockets drained after it came),
    // in the same order on every socket, nothing twice.
    let longest = streams.iter().max_by_key(|s| s.len()).unwrap().clone();
    assert!(streams.iter().all(|s| longest.starts_with(s)), "every socket saw the same order: {streams:?}");
    let distinct: std::collections::HashSet<&String> = longest.iter().collect();
    assert_eq!(distinct.len(), longest.len(), "no event twice: {longest:?}");
    let seen = stranger.drain(Duration::from_millis(200)).await;
    assert!(texts(&seen).is_empty(), "another organization's socket gets none of it: {seen:?}");
}
