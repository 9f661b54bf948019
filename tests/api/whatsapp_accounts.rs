use serde_json::json;

use crate::helpers::{BAD_TOKEN, spawn_app, text_webhook, unique};

#[actix_web::test]
async fn connecting_an_account_checks_the_token_with_meta_and_keeps_it_encrypted() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;

    let (status, list) = app.get("/api/v1/whatsapp-accounts", &org.token).await;
    assert_eq!(status, 200);
    let listed = &list["data"][0];
    assert_eq!(listed["id"], account.id.as_str());
    assert_eq!(listed["phoneNumberId"], account.phone_number_id.as_str());
    assert_eq!(listed["displayPhoneNumber"], "+1 555-0100");
    assert_eq!(listed["status"], "connected");
    assert!(!list.to_string().contains(&account.access_token), "the token is never returned");

    use sea_orm::EntityTrait;
    let row = entities::whatsapp_account::Entity::find_by_id(account.id.clone()).one(&app.db).await.unwrap().unwrap();
    assert!(!row.access_token_enc.contains(&account.access_token), "the token is encrypted at rest");
    assert!(row.access_token_enc.starts_with("v1:"));

    let check = app.graph.requests().into_iter().find(|r| r.method == "GET").unwrap();
    assert_eq!(check.authorization.as_deref(), Some(format!("Bearer {}", account.access_token).as_str()));
}

#[actix_web::test]
async fn connect_refuses_bad_input_a_rejected_token_and_a_number_already_connected() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (status, body) = app
        .post("/api/v1/whatsapp-accounts/connect-manual", &org.token, json!({"wabaId": "1", "accessToken": "t"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "phoneNumberId");
    let (status, body) = app
        .post(
            "/api/v1/whatsapp-accounts/connect-manual",
            &org.token,
            json!({"wabaId": "1", "phoneNumberId": "2", "accessToken": ""}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "accessToken");

    let (status, body) = app
        .post(
            "/api/v1/whatsapp-accounts/connect-manual",
            &org.token,
            json!({"wabaId": "1", "phoneNumberId": "2", "accessToken": BAD_TOKEN}),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    let account = app.connect_account(&org).await;
    let other = app.register("Other").await;
    let (status, _) = app
        .post(
            "/api/v1/whatsapp-accounts/connect-manual",
            &other.token,
            json!({"wabaId": "1", "phoneNumberId": account.phone_number_id, "accessToken": "t"}),
        )
        .await;
    assert_eq!(status, 409);

    // Five organizations connect one new number at the same moment: exactly one gets it.
    let mut orgs = vec![];
    for i in 0..5 {
        orgs.push(app.register(&format!("Racer {i}")).await);
    }
    let number = format!("1{:014}", crate::helpers::unique());
    let tries = orgs.iter().map(|o| {
        app.post(
            "/api/v1/whatsapp-accounts/connect-manual",
            &o.token,
            json!({"wabaId": "77", "phoneNumberId": number, "accessToken": "EAAG-race"}),
        )
    });
    let mut statuses: Vec<u16> = futures_util::future::join_all(tries).await.into_iter().map(|(s, _)| s).collect();
    statuses.sort();
    assert_eq!(statuses, vec![201, 409, 409, 409, 409]);
}

#[actix_web::test]
async fn an_account_can_be_renamed_given_a_new_token_and_disconnected() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let path = format!("/api/v1/whatsapp-accounts/{}", account.id);

    let (status, body) =
        app.patch(&path, &org.token, json!({"alias": "Support line", "accessToken": "EAAG-rotated"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["alias"], "Support line");
    let (status, _) = app.patch(&path, &org.token, json!({"accessToken": BAD_TOKEN})).await;
    assert_eq!(status, 422);

    assert_eq!(app.delete(&path, &org.token).await.0, 204);
    let (_, list) = app.get("/api/v1/whatsapp-accounts", &org.token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    assert_eq!(app.patch(&path, &org.token, json!({"alias": "x"})).await.0, 404);

    // Webhooks for the disconnected number are acknowledged and ignored.
    let (status, body) = app
        .post_webhook(&text_webhook(&account.phone_number_id, "15550001", "C", &format!("wamid.{}", unique()), "hi"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["unknownNumbers"], 1);
    assert_eq!(app.count("messages").await, 0);

    // And the number can be connected again.
    let (status, _) = app
        .post(
            "/api/v1/whatsapp-accounts/connect-manual",
            &org.token,
            json!({"wabaId": "1", "phoneNumberId": account.phone_number_id, "accessToken": "EAAG-again"}),
        )
        .await;
    assert_eq!(status, 201);
}
