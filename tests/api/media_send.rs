use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

async fn upload(
    app: &TestApp,
    token: &str,
    conv: &str,
    bytes: Vec<u8>,
    mime: &str,
    name: &str,
    kind: Option<&str>,
) -> (u16, serde_json::Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()).mime_str(mime).unwrap();
    let mut form = reqwest::multipart::Form::new().part("file", part).text("caption", "here you go");
    if let Some(k) = kind {
        form = form.text("type", k.to_owned());
    }
    let res = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{conv}/messages/media")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    crate::helpers::status_json(res).await
}

#[actix_web::test]
async fn an_uploaded_image_is_sent_through_whatsapp_and_kept_for_agents() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15559600001", "send me the invoice").await;

    let (status, sent) =
        upload(&app, &org.token, &conv, b"\x89PNG fake image".to_vec(), "image/png", "invoice.png", None).await;
    assert_eq!(status, 201, "{sent}");
    let m = &sent["data"];
    assert_eq!(m["type"], "image");
    assert_eq!(m["status"], "sent");
    assert_eq!(m["text"], "here you go");

    let requests = app.graph.requests();
    let upload_req = requests.iter().find(|r| r.path.ends_with("/media")).expect("uploaded first");
    assert_eq!(upload_req.path, format!("/v21.0/{}/media", account.phone_number_id));
    let send = app.graph.sends().pop().unwrap();
    assert_eq!(send.body["type"], "image");
    assert!(send.body["image"]["id"].as_str().unwrap().starts_with("MEDUP"));
    assert_eq!(send.body["image"]["caption"], "here you go");

    let file = app.client.get(app.url(m["mediaUrl"].as_str().unwrap())).bearer_auth(&org.token).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"\x89PNG fake image");

    // A PDF goes as a document, with its file name.
    let (status, doc) =
        upload(&app, &org.token, &conv, b"%PDF-1.7".to_vec(), "application/pdf", "invoice.pdf", None).await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(doc["data"]["type"], "document");
    assert_eq!(app.graph.sends().pop().unwrap().body["document"]["filename"], "invoice.pdf");
}

#[actix_web::test]
async fn media_outside_whatsapps_types_and_sizes_is_refused() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15559600002", "hi").await;
    let (status, body) = upload(&app, &org.token, &conv, b"GIF89a".to_vec(), "image/gif", "a.gif", Some("image")).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("file")));
    let (status, body) =
        upload(&app, &org.token, &conv, vec![0u8; 5 * 1024 * 1024 + 1], "image/jpeg", "big.jpg", None).await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = upload(&app, &org.token, &conv, b"x".to_vec(), "image/jpeg", "a.jpg", Some("hologram")).await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("type")));
    let form = reqwest::multipart::Form::new().text("caption", "no file");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{conv}/messages/media")))
        .bearer_auth(&org.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(app.graph.sends().is_empty());
    let other = app.register("Other").await;
    assert_eq!(upload(&app, &other.token, &conv, b"x".to_vec(), "image/jpeg", "a.jpg", None).await.0, 404);
}

/// Files the media store holds for outbound media.
fn outbound_files(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path, n: &mut usize) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, n);
            } else if entry.file_name().to_string_lossy().starts_with("out-") {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    walk(&app.config.data_dir, &mut n);
    n
}

#[actix_web::test]
async fn a_refused_or_repeated_media_send_keeps_no_file() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15559600003", "hi").await;
    let send = |key: &'static str| {
        let part =
            reqwest::multipart::Part::bytes(b"\x89PNG x".to_vec()).file_name("a.png").mime_str("image/png").unwrap();
        app.client
            .post(app.url(&format!("/api/v1/conversations/{conv}/messages/media")))
            .bearer_auth(&org.token)
            .header("Idempotency-Key", key)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    assert_eq!(send("img-1").await.unwrap().status(), 201);
    assert_eq!(send("img-1").await.unwrap().status(), 201, "the same request again");
    assert_eq!(outbound_files(&app), 1, "the repeat's upload is not kept");
    let (s, _) = app.post(&format!("/api/v1/conversations/{conv}/resolve"), &org.token, json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(send("img-2").await.unwrap().status(), 409, "closed");
    assert_eq!(outbound_files(&app), 1, "nor a refused one's");
    // The text fields are short.
    let part = reqwest::multipart::Part::bytes(b"\x89PNG x".to_vec()).file_name("a.png").mime_str("image/png").unwrap();
    let form = reqwest::multipart::Form::new().part("file", part).text("caption", "x".repeat(20_000));
    let res = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{conv}/messages/media")))
        .bearer_auth(&org.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (s, e) = crate::helpers::status_json(res).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("caption")), "{e}");
}
