use serde_json::json;

use crate::helpers::{spawn_app, unique};

#[actix_web::test]
async fn register_creates_an_organization_and_its_admin() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_anon(
            "/api/v1/auth/register",
            json!({"companyName": "Acme", "name": "Ann", "email": "Ann@Acme.io", "password": "password-123"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let d = &body["data"];
    assert!(d["accessToken"].as_str().unwrap().len() > 20);
    assert!(d["refreshToken"].as_str().unwrap().starts_with("cxr_"));
    assert_eq!(d["user"]["email"], "ann@acme.io");
    assert_eq!(d["user"]["role"], "ADMIN");
    assert_eq!(d["organization"]["name"], "Acme");
    assert!(d["user"].get("passwordHash").is_none());

    let stored: String = {
        use sea_orm::EntityTrait;
        entities::user::Entity::find().all(&app.db).await.unwrap()[0].password_hash.clone().unwrap()
    };
    assert!(stored.starts_with("$argon2id$"), "passwords are stored as Argon2id");
}

#[actix_web::test]
async fn register_names_the_field_at_fault() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_anon("/api/v1/auth/register", json!({"companyName": "Acme", "name": "Ann", "password": "password-123"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "email");

    let (status, body) = app
        .post_anon(
            "/api/v1/auth/register",
            json!({"companyName": "Acme", "name": "Ann", "email": "not-an-email", "password": "password-123"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "email");

    let (status, body) = app
        .post_anon(
            "/api/v1/auth/register",
            json!({"companyName": " ", "name": "Ann", "email": "a@b.io", "password": "password-123"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "companyName");

    let (status, body) = app
        .post_anon(
            "/api/v1/auth/register",
            json!({"companyName": "A", "name": "Ann", "email": "a@b.io", "password": "short"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "password");

    let res = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[actix_web::test]
async fn an_email_registers_once() {
    let app = spawn_app().await;
    let body = json!({"companyName": "A", "name": "Ann", "email": "dup@example.com", "password": "password-123"});
    assert_eq!(app.post_anon("/api/v1/auth/register", body.clone()).await.0, 201);
    let (status, err) = app.post_anon("/api/v1/auth/register", body).await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["code"], "conflict");
}

#[actix_web::test]
async fn login_accepts_the_right_password_only() {
    let app = spawn_app().await;
    let email = format!("u{}@example.com", unique());
    app.post_anon(
        "/api/v1/auth/register",
        json!({"companyName": "A", "name": "U", "email": email, "password": "password-123"}),
    )
    .await;

    let (status, body) =
        app.post_anon("/api/v1/auth/login", json!({"email": email.to_uppercase(), "password": "password-123"})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["accessToken"].is_string());
    assert_eq!(body["data"]["user"]["email"], email);

    let (status, body) =
        app.post_anon("/api/v1/auth/login", json!({"email": email, "password": "wrong-password"})).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) =
        app.post_anon("/api/v1/auth/login", json!({"email": "nobody@example.com", "password": "password-123"})).await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn refresh_rotates_and_a_reused_token_revokes_its_family() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;

    let (status, first) = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": org.refresh_token})).await;
    assert_eq!(status, 200, "{first}");
    let second_refresh = first["data"]["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, org.refresh_token);
    let (status, _) = app.get("/api/v1/auth/me", first["data"]["accessToken"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    // The first token again: refused, and the token it was exchanged for dies with it.
    let (status, _) = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": org.refresh_token})).await;
    assert_eq!(status, 401);
    let (status, _) = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": second_refresh})).await;
    assert_eq!(status, 401);

    let (status, _) = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": "cxr_made_up"})).await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn me_set_password_and_onboarding() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (status, me) = app.get("/api/v1/auth/me", &org.token).await;
    assert_eq!(status, 200);
    assert_eq!(me["data"]["user"]["id"], org.user_id.as_str());
    assert_eq!(me["data"]["organization"]["onboardingCompleted"], false);

    let (status, _) = app.get("/api/v1/auth/me", "not-a-token").await;
    assert_eq!(status, 401);
    let res = app.client.get(app.url("/api/v1/auth/me")).send().await.unwrap();
    assert_eq!(res.status(), 401);

    let (status, body) = app.post("/api/v1/auth/set-password", &org.token, json!({"password": "x"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "password");
    // An account with a password changes it only by giving it.
    let (status, body) =
        app.post("/api/v1/auth/set-password", &org.token, json!({"password": "a-brand-new-one"})).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (400, Some("currentPassword")), "{body}");
    let wrong = json!({"password": "a-brand-new-one", "currentPassword": "not-it-at-all"});
    let (status, _) = app.post("/api/v1/auth/set-password", &org.token, wrong).await;
    assert_eq!(status, 400);
    // Never through an API key, whatever its role.
    let (s, key) = app.post("/api/v1/api-keys", &org.token, json!({"name": "ci", "role": "ADMIN"})).await;
    assert_eq!(s, 201, "{key}");
    let key = key["data"]["key"].as_str().unwrap().to_owned();
    let by_key = json!({"password": "taken-over-now", "currentPassword": "s3cret-pass"});
    assert_eq!(app.post("/api/v1/auth/set-password", &key, by_key).await.0, 403);
    let right = json!({"password": "a-brand-new-one", "currentPassword": "s3cret-pass"});
    let (status, fresh) = app.post("/api/v1/auth/set-password", &org.token, right).await;
    assert_eq!(status, 200, "{fresh}");
    // The sessions from before end, access tokens included; the answer is a new one.
    let (status, _) = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": org.refresh_token.clone()})).await;
    assert_eq!(status, 401, "the refresh token from before the change is revoked");
    assert_eq!(app.get("/api/v1/auth/me", &org.token).await.0, 401, "and the access token");
    let token = fresh["data"]["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/auth/me", &token).await.0, 200);
    let email = me["data"]["user"]["email"].as_str().unwrap();
    assert_eq!(app.post_anon("/api/v1/auth/login", json!({"email": email, "password": "s3cret-pass"})).await.0, 401);
    assert_eq!(
        app.post_anon("/api/v1/auth/login", json!({"email": email, "password": "a-brand-new-one"})).await.0,
        200
    );

    let (status, body) = app.post("/api/v1/auth/complete-onboarding", &token, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["onboardingCompleted"], true);
}

#[actix_web::test]
async fn logging_out_ends_one_device_or_every_session() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (_, me) = app.get("/api/v1/auth/me", &org.token).await;
    let email = me["data"]["user"]["email"].as_str().unwrap().to_owned();
    let (_, phone) = app.post_anon("/api/v1/auth/login", json!({"email": email, "password": "s3cret-pass"})).await;
    let phone_refresh = phone["data"]["refreshToken"].as_str().unwrap().to_owned();
    let phone_token = phone["data"]["accessToken"].as_str().unwrap().to_owned();

    // This device only.
    let (s, e) = app.post("/api/v1/auth/logout", &org.token, json!({})).await;
    assert_eq!((s, e["error"]["details"]["field"].as_str()), (400, Some("refreshToken")));
    let (s, _) = app.post("/api/v1/auth/logout", &org.token, json!({"refreshToken": org.refresh_token})).await;
    assert_eq!(s, 204);
    assert_eq!(app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": org.refresh_token})).await.0, 401);
    let (s, renewed) = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": phone_refresh})).await;
    assert_eq!(s, 200, "the other device goes on: {renewed}");
    let phone_refresh = renewed["data"]["refreshToken"].as_str().unwrap().to_owned();

    // Another user's token ends nothing.
    let other = app.register("Other").await;
    let (s, _) = app.post("/api/v1/auth/logout", &other.token, json!({"refreshToken": phone_refresh})).await;
    assert_eq!(s, 204);
    assert_eq!(app.get("/api/v1/auth/me", &phone_token).await.0, 200);

    // Everywhere: every refresh token and every access token.
    let (s, _) = app.post("/api/v1/auth/logout", &phone_token, json!({"everywhere": true})).await;
    assert_eq!(s, 204);
    assert_eq!(app.get("/api/v1/auth/me", &phone_token).await.0, 401);
    assert_eq!(app.get("/api/v1/auth/me", &org.token).await.0, 401);
    assert_eq!(app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": phone_refresh})).await.0, 401);
    let (s, _) = app.post_anon("/api/v1/auth/login", json!({"email": email, "password": "s3cret-pass"})).await;
    assert_eq!(s, 200, "signing in again works");
}

#[actix_web::test]
async fn a_refresh_racing_a_password_change_never_outlives_it() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let mut password = "s3cret-pass".to_owned();
    let mut refresh = org.refresh_token.clone();
    let mut token = org.token.clone();
    for round in 0..8 {
        let next = format!("new-password-{round}");
        let change = app.post(
            "/api/v1/profile/change-password",
            &token,
            json!({"currentPassword": password, "newPassword": next}),
        );
        let renew = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": refresh}));
        let ((sc, changed), (sr, renewed)) = futures_util::future::join(change, renew).await;
        assert_eq!(sc, 200, "{changed}");
        if sr == 200 {
            // Whichever came first, the token the refresh got is dead after the change.
            let got = renewed["data"]["refreshToken"].as_str().unwrap();
            let (s, _) = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": got})).await;
            assert_eq!(s, 401, "round {round}: a refresh token outlived the password change");
        }
        password = next;
        refresh = changed["data"]["refreshToken"].as_str().unwrap().to_owned();
        token = changed["data"]["accessToken"].as_str().unwrap().to_owned();
    }
}

#[actix_web::test]
async fn repeated_failed_sign_ins_for_an_address_are_held_off() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (_, me) = app.get("/api/v1/auth/me", &org.token).await;
    let email = me["data"]["user"]["email"].as_str().unwrap().to_owned();
    for _ in 0..10 {
        let (s, _) = app.post_anon("/api/v1/auth/login", json!({"email": email, "password": "guess-guess"})).await;
        assert_eq!(s, 401);
    }
    // Even the right password waits now, with a Retry-After.
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": "s3cret-pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    // An unknown address is held off the same way, so the limit tells nothing about accounts.
    for _ in 0..10 {
        app.post_anon("/api/v1/auth/login", json!({"email": "nobody@example.com", "password": "guess-guess"})).await;
    }
    let (s, _) = app.post_anon("/api/v1/auth/login", json!({"email": "nobody@example.com", "password": "x"})).await;
    assert_eq!(s, 429);
    // Other addresses are not affected.
    let other = app.register("Other").await;
    let (_, me) = app.get("/api/v1/auth/me", &other.token).await;
    let email = me["data"]["user"]["email"].as_str().unwrap().to_owned();
    assert_eq!(app.post_anon("/api/v1/auth/login", json!({"email": email, "password": "s3cret-pass"})).await.0, 200);
}
