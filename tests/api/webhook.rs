use std::time::Duration;

use serde_json::json;

use crate::helpers::{APP_SECRET, VERIFY_TOKEN, message_webhook, spawn_app, text_webhook, unique};

#[actix_web::test]
async fn the_verify_handshake_echoes_the_challenge_only_for_the_right_token() {
    let app = spawn_app().await;
    let ok = app
        .client
        .get(app.url(&format!(
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");

    let wrong = app
        .client
        .get(app.url("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let missing = app.client.get(app.url("/webhooks/whatsapp?hub.challenge=1")).send().await.unwrap();
    assert_eq!(missing.status(), 403);
}

#[actix_web::test]
async fn a_bad_or_missing_signature_is_401_and_nothing_is_stored() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let body = serde_json::to_vec(&text_webhook(&account.phone_number_id, "15550001", "C", "wamid.sig", "hi")).unwrap();

    let (status, err) = app.post_webhook_raw(body.clone(), None).await;
    assert_eq!(status, 401, "{err}");
    let (status, _) = app.post_webhook_raw(body.clone(), Some("sha256=00ff")).await;
    assert_eq!(status, 401);
    let wrong_key = cx_inbox::channels::whatsapp::signature::sign(b"another-secret", &body);
    assert_eq!(app.post_webhook_raw(body.clone(), Some(&wrong_key)).await.0, 401);
    // A signature over other bytes (the body re-serialized) does not pass either.
    let mut altered = body.clone();
    altered.push(b' ');
    let sig_of_original = cx_inbox::channels::whatsapp::signature::sign(APP_SECRET.as_bytes(), &body);
    assert_eq!(app.post_webhook_raw(altered, Some(&sig_of_original)).await.0, 401);

    assert_eq!(app.count("messages").await, 0);
    assert_eq!(app.count("conversations").await, 0);
    assert_eq!(app.count("contacts").await, 0);
}

#[actix_web::test]
async fn a_redelivered_webhook_stores_its_message_once() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let hook = text_webhook(&account.phone_number_id, "15550002", "Bea", "wamid.dup-1", "hello");
    let (s1, b1) = app.post_webhook(&hook).await;
    let (s2, b2) = app.post_webhook(&hook).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(b1["data"]["stored"], 1);
    assert_eq!(b2["data"]["duplicates"], 1);
    assert_eq!(app.count("messages").await, 1);

    // Concurrent redeliveries too.
    let hook = text_webhook(&account.phone_number_id, "15550002", "Bea", "wamid.dup-2", "again");
    let (a, b, c) = tokio::join!(app.post_webhook(&hook), app.post_webhook(&hook), app.post_webhook(&hook));
    assert_eq!((a.0, b.0, c.0), (200, 200, 200));
    assert_eq!(app.count("messages").await, 2);
    assert_eq!(app.count("conversations").await, 1);
}

#[actix_web::test]
async fn every_message_type_meta_sends_is_stored_and_unknown_ones_are_kept() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let wa = "15550003";
    let ts = chrono::Utc::now().timestamp().to_string();
    let samples = vec![
        ("text", json!({"text": {"body": "plain"}}), Some("plain")),
        (
            "image",
            json!({"image": {"id": "MED1", "mime_type": "image/jpeg", "sha256": "x", "caption": "a photo"}}),
            Some("a photo"),
        ),
        ("audio", json!({"audio": {"id": "MED2", "mime_type": "audio/ogg; codecs=opus", "voice": true}}), None),
        ("video", json!({"video": {"id": "MED3", "mime_type": "video/mp4"}}), None),
        (
            "document",
            json!({"document": {"id": "MED4", "filename": "invoice.pdf", "mime_type": "application/pdf"}}),
            None,
        ),
        ("sticker", json!({"sticker": {"id": "MED5", "mime_type": "image/webp", "animated": false}}), None),
        (
            "location",
            json!({"location": {"latitude": 52.52, "longitude": 13.40, "name": "Office", "address": "Main St 1"}}),
            Some("Office"),
        ),
        ("contacts", json!({"contacts": [{"name": {"formatted_name": "Jo"}, "phones": [{"phone": "+1555"}]}]}), None),
        (
            "interactive",
            json!({"interactive": {"type": "list_reply", "list_reply": {"id": "opt2", "title": "Billing"}}}),
            Some("Billing"),
        ),
        ("button", json!({"button": {"payload": "STOP", "text": "Stop promotions"}}), Some("Stop promotions")),
        ("reaction", json!({"reaction": {"message_id": "wamid.earlier", "emoji": "❤️"}}), Some("❤️")),
        ("unsupported", json!({"errors": [{"code": 131051, "title": "Message type unknown"}]}), None),
        ("ephemeral_hologram", json!({"ephemeral_hologram": {"depth": 3}}), None),
    ];
    for (i, (kind, extra, _)) in samples.iter().enumerate() {
        let mut msg = json!({"from": wa, "id": format!("wamid.type-{i}"), "timestamp": ts, "type": kind});
        for (k, v) in extra.as_object().unwrap() {
            msg[k] = v.clone();
        }
        let (status, body) = app.post_webhook(&message_webhook(&account.phone_number_id, wa, "Types", msg)).await;
        assert_eq!(status, 200, "{kind}: {body}");
        assert_eq!(body["data"]["stored"], 1, "{kind}: {body}");
    }
    let conv = app.conversation_of(&org, wa).await;
    let messages = app.messages(&org, &conv).await;
    assert_eq!(messages.len(), samples.len());
    for (m, (kind, _, text)) in messages.iter().zip(&samples) {
        assert_eq!(m["type"], *kind);
        assert_eq!(m["direction"], "inbound");
        assert_eq!(m["status"], "received");
        if let Some(t) = text {
            assert_eq!(m["text"], *t, "{kind}");
        }
    }
    assert_eq!(messages[1]["content"]["id"], "MED1");
    assert_eq!(messages[6]["content"]["latitude"], 52.52);
    assert_eq!(messages[10]["content"]["message_id"], "wamid.earlier");
    assert_eq!(messages[12]["content"]["ephemeral_hologram"]["depth"], 3, "unknown types keep everything Meta sent");
}

#[actix_web::test]
async fn a_payload_for_an_unknown_number_is_acknowledged() {
    let app = spawn_app().await;
    let (status, body) =
        app.post_webhook(&text_webhook("999000999", "15550004", "C", &format!("wamid.{}", unique()), "hi")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["unknownNumbers"], 1);
    let (status, _) = app.post_webhook(&json!({"object": "whatsapp_business_account", "entry": []})).await;
    assert_eq!(status, 200);
    let res = app
        .post_webhook_raw(
            b"not json".to_vec(),
            Some(&cx_inbox::channels::whatsapp::signature::sign(APP_SECRET.as_bytes(), b"not json")),
        )
        .await;
    assert_eq!(res.0, 400);
}

#[actix_web::test]
async fn an_inbound_message_reaches_every_agent_socket_of_the_org_and_none_of_another() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let other = app.register("Other").await;
    let account = app.connect_account(&org).await;
    let mut s1 = app.socket(&org.token, None).await;
    let mut s2 = app.socket(&org.token, None).await;
    let mut outsider = app.socket(&other.token, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    app.post_webhook(&text_webhook(
        &account.phone_number_id,
        "15550005",
        "Cleo",
        "wamid.live-1",
        "Is my order shipped?",
    ))
    .await;

    for s in [&mut s1, &mut s2] {
        let events = s
            .until(Duration::from_secs(5), |e| e["event"] == "message.created")
            .await
            .expect("message.created arrives");
        // Presence events (the agents connecting) are organization-wide; skip them.
        let events: Vec<_> = events.into_iter().filter(|e| e["conversationId"].is_string()).collect();
        assert_eq!(events[0]["event"], "conversation.created");
        let created = events.last().unwrap();
        assert_eq!(created["data"]["text"], "Is my order shipped?");
        assert_eq!(created["data"]["direction"], "inbound");
        assert_eq!(created["data"]["providerMessageId"], "wamid.live-1");
        assert_eq!(created["data"]["conversation"]["contact"]["name"], "Cleo");
        assert_eq!(created["seq"], 2);
        assert!(created["cursor"].is_string());
        assert!(created["conversationId"].is_string());
    }
    let heard = outsider.drain(Duration::from_millis(500)).await;
    assert!(heard.iter().all(|e| e["conversationId"].is_null()), "another org's socket sees none of it: {heard:?}");
}

/// Signs and posts raw bytes as Meta would.
async fn post_signed(app: &crate::helpers::TestApp, body: Vec<u8>) -> (u16, serde_json::Value) {
    let sig = cx_inbox::channels::whatsapp::signature::sign(APP_SECRET.as_bytes(), &body);
    app.post_webhook_raw(body, Some(&sig)).await
}

#[actix_web::test]
async fn one_malformed_status_costs_nothing_else_in_the_delivery() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let wa = format!("3460{}", unique());
    let mut hook = text_webhook(&account.phone_number_id, &wa, "Ann", "wamid.valid-text", "my order is late");
    let value = &mut hook["entry"][0]["changes"][0]["value"];
    value["statuses"] = json!([
        {"id": "wamid.out-1", "status": "failed", "timestamp": "1700000000", "recipient_id": wa, "errors": "boom"},
        {"status": "read"}
    ]);
    // A second change in the same entry that is not an object, and a message without a sender.
    hook["entry"][0]["changes"].as_array_mut().unwrap().push(json!("garbage"));
    hook["entry"][0]["changes"][0]["value"]["messages"].as_array_mut().unwrap().push(json!({"id": "wamid.nobody"}));
    let body = serde_json::to_vec(&hook).unwrap();

    let (status, report) = post_signed(&app, body.clone()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["data"]["stored"], 1, "{report}");
    // The errors that are a string, the status without a wamid, the change that is a string, the
    // message without a sender.
    assert_eq!(report["data"]["skipped"], 4, "{report}");
    let conv = app.conversation_of(&org, &wa).await;
    let texts: Vec<_> = app.messages(&org, &conv).await.iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, vec![json!("my order is late")]);

    // Meta delivers the same bytes again: still 200, and the message stays stored once.
    let (status, again) = post_signed(&app, body).await;
    assert_eq!((status, again["data"]["duplicates"].as_u64()), (200, Some(1)), "{again}");
    assert_eq!(app.count("messages").await, 1);

    // Not JSON at all is still refused, with the JSON error shape.
    let (status, err) = post_signed(&app, b"{not json".to_vec()).await;
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("bad_request")), "{err}");
}

#[actix_web::test]
async fn deliveries_for_other_objects_are_acknowledged_and_ignored() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    for object in [json!("page"), json!("instagram"), json!(null)] {
        let mut hook = text_webhook(&account.phone_number_id, "15550009", "P", &format!("wamid.{}", unique()), "hi");
        hook["object"] = object.clone();
        let (status, report) = app.post_webhook(&hook).await;
        assert_eq!((status, report["data"]["ignored"].as_u64()), (200, Some(1)), "{object}: {report}");
        assert_eq!(report["data"]["stored"], 0);
    }
    assert_eq!(app.count("messages").await, 0);
    assert_eq!(app.count("contacts").await, 0);
}

#[actix_web::test]
async fn webhook_bodies_are_capped_and_text_is_stored_within_whatsapps_limit() {
    let app = crate::helpers::spawn_app_with(|c| c.webhook_max_bytes = 256 * 1024).await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let wa = format!("3461{}", unique());

    // 200 KB of text: under the cap, but far past WhatsApp's 4,096 characters.
    let long = "ab".repeat(100_000);
    let (status, report) =
        app.post_webhook(&text_webhook(&account.phone_number_id, &wa, "Ann", "wamid.long", &long)).await;
    assert_eq!(status, 200, "{report}");
    let conv = app.conversation_of(&org, &wa).await;
    let stored = app.messages(&org, &conv).await[0]["text"].as_str().unwrap().to_owned();
    assert_eq!(stored.chars().count(), 4096);
    assert!(long.starts_with(&stored));

    // Over the cap: a JSON 413, announced by its length or found while it streams in.
    let huge = "x".repeat(300 * 1024);
    let body = serde_json::to_vec(&text_webhook(&account.phone_number_id, &wa, "Ann", "wamid.huge", &huge)).unwrap();
    let (status, err) = post_signed(&app, body.clone()).await;
    assert_eq!((status, err["error"]["code"].as_str()), (413, Some("payload_too_large")), "{err}");
    // The same body chunked, with no Content-Length: refused once the cap is passed.
    let (status, head) = chunked_post(&app, "/webhooks/whatsapp", &body).await;
    assert_eq!(status, 413, "{head}");
    assert!(head.to_lowercase().contains("content-type: application/json"), "{head}");
    assert!(app.messages(&org, &conv).await.iter().all(|m| m["providerMessageId"] != "wamid.huge"));
}

#[actix_web::test]
async fn errors_the_framework_raises_have_the_json_error_shape() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let json_error = |res: reqwest::Response| async move {
        let status = res.status().as_u16();
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        assert!(ct.starts_with("application/json"), "{status}: content type {ct:?}");
        assert!(body["error"]["code"].is_string() && body["error"]["message"].is_string(), "{status}: {body}");
        (status, body)
    };
    // A JSON body over the API's 1 MiB limit.
    let big = json!({"name": "x".repeat(2 << 20)});
    let res = app.client.post(app.url("/api/v1/tags")).bearer_auth(&org.token).json(&big).send().await.unwrap();
    let (status, body) = json_error(res).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("payload_too_large")));
    // The agent socket asked for without the WebSocket handshake.
    let res = app.client.get(app.url("/api/v1/ws")).bearer_auth(&org.token).send().await.unwrap();
    let (status, body) = json_error(res).await;
    assert_eq!(status, 400, "{body}");
    // A method the route does not take, and a path segment of the wrong kind.
    let res = app.client.delete(app.url("/webhooks/whatsapp")).send().await.unwrap();
    assert!(json_error(res).await.0 >= 400);
    let res = app
        .client
        .get(app.url("/api/v1/bot-config/metrics/quality?days=abc"))
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(res).await.0, 400);
}

/// POSTs `body` with `Transfer-Encoding: chunked` (no Content-Length) over a raw connection;
/// answers the status and the response head.
async fn chunked_post(app: &crate::helpers::TestApp, path: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sig = cx_inbox::channels::whatsapp::signature::sign(APP_SECRET.as_bytes(), body);
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Hub-Signature-256: {sig}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(16 * 1024) {
        // The server may answer (and stop reading) before the last chunk.
        if conn.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.is_err()
            || conn.write_all(chunk).await.is_err()
            || conn.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text.split("\r\n\r\n").next().unwrap_or_default().to_owned())
}

#[actix_web::test]
async fn a_message_placed_again_past_the_webhooks_check_is_a_duplicate_even_once_its_conversation_closed() {
    use actors::conversation::InboundMessage;
    use cx_inbox::conversations::inbound::{Customer, Placed, place};
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let hook = text_webhook(&account.phone_number_id, "15550003", "Cy", "wamid.again-1", "hello");
    assert_eq!(app.post_webhook(&hook).await.0, 200);
    let conv = app.conversation_of(&org, "15550003").await;
    let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    let inbox = c["data"]["inboxId"].as_str().unwrap().to_owned();
    let customer = Customer::WhatsApp { wa_id: "15550003".into(), profile_name: None };
    let message = |id: &str, kind: &str, content: Option<String>| InboundMessage {
        provider_message_id: id.into(),
        message_type: kind.into(),
        text: Some("hello".into()),
        content,
        sent_at: chrono::Utc::now(),
        media_id: None,
        profile_name: None,
        stored_media: None,
    };
    let again = |m: InboundMessage| place(&app.state.rt, &org.org_id, &inbox, &customer, m);

    // The same message straight to the runtime (a race the webhook's own check did not see):
    // the unique index makes it a duplicate.
    assert!(matches!(again(message("wamid.again-1", "text", None)).await.unwrap(), Placed::Duplicate { .. }));
    // A reaction to a message here stores no row of its own; applied again it changes nothing.
    let reaction = Some(json!({"message_id": "wamid.again-1", "emoji": "👍"}).to_string());
    for _ in 0..2 {
        assert!(matches!(
            again(message("wamid.again-2", "reaction", reaction.clone())).await.unwrap(),
            Placed::Stored { .. }
        ));
    }
    // Closed: a message stored before the close opens no new conversation.
    let (s, b) = app.post(&format!("/api/v1/conversations/{conv}/resolve"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{b}");
    let placed = again(message("wamid.again-1", "text", None)).await.unwrap();
    assert!(matches!(&placed, Placed::Duplicate { conversation_id } if *conversation_id == conv), "{placed:?}");
    assert_eq!(app.count("conversations").await, 1);
    assert_eq!(app.count("messages").await, 1);
}
