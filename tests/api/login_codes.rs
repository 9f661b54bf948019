use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{Org, TestApp, spawn_app, spawn_app_with};
use crate::smtp_sink::{SmtpSink, code_in};
use crate::users::{mailbox, wait_mail};

async fn email_of(app: &TestApp, org: &Org) -> String {
    let (_, me) = app.get("/api/v1/auth/me", &org.token).await;
    me["data"]["user"]["email"].as_str().unwrap().to_owned()
}

async fn request(app: &TestApp, email: &str) -> (u16, serde_json::Value) {
    app.post_anon("/api/v1/auth/request-code", json!({"email": email})).await
}

async fn verify(app: &TestApp, email: &str, code: &str) -> (u16, serde_json::Value) {
    app.post_anon("/api/v1/auth/verify-code", json!({"email": email, "code": code})).await
}

#[actix_web::test]
async fn a_code_from_the_dev_mailbox_logs_in_once() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let email = email_of(&app, &org).await;

    let (status, answer) = request(&app, &email).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["expiresIn"], 600);
    let mail = wait_mail(&app, &org.token, &email, 1).await;
    let code = code_in(mail["body"].as_str().unwrap());
    let stored = entities::login_code::Entity::find().all(&app.db).await.unwrap().remove(0);
    assert_ne!(stored.code_hash, code, "only a hash is stored");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = verify(&app, &email, wrong).await;
    assert_eq!(status, 401, "{body}");
    let (status, s) = verify(&app, &email.to_uppercase(), &code).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["data"]["user"]["id"], org.user_id.as_str());
    let token = s["data"]["accessToken"].as_str().unwrap();
    assert!(s["data"]["refreshToken"].as_str().unwrap().starts_with("cxr_"));
    assert_eq!(app.get("/api/v1/auth/me", token).await.0, 200);
    assert_eq!(verify(&app, &email, &code).await.0, 401, "a code works once");
}

#[actix_web::test]
async fn unknown_addresses_get_the_same_answer_and_no_mail() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let email = email_of(&app, &org).await;
    let known = request(&app, &email).await;
    let unknown = request(&app, "nobody@example.com").await;
    assert_eq!(known, unknown);
    wait_mail(&app, &org.token, &email, 1).await;
    assert_eq!(app.count("mails").await, 1);
    assert_eq!(verify(&app, "nobody@example.com", "123456").await.0, 401);
    let (status, body) = request(&app, "not an email").await;
    assert_eq!((status, body["error"]["details"]["field"].clone()), (400, json!("email")));
}

#[actix_web::test]
async fn five_wrong_guesses_kill_a_code_and_an_expired_code_fails() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let email = email_of(&app, &org).await;
    request(&app, &email).await;
    let code = code_in(wait_mail(&app, &org.token, &email, 1).await["body"].as_str().unwrap());
    let wrong = if code == "999999" { "888888" } else { "999999" };
    for _ in 0..5 {
        assert_eq!(verify(&app, &email, wrong).await.0, 401);
    }
    assert_eq!(verify(&app, &email, &code).await.0, 401, "dead after five wrong tries");

    request(&app, &email).await;
    let code = code_in(wait_mail(&app, &org.token, &email, 2).await["body"].as_str().unwrap());
    entities::login_code::Entity::update_many()
        .col_expr(
            entities::login_code::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(entities::login_code::Column::Email.eq(email.clone()))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(verify(&app, &email, &code).await.0, 401, "expired");
}

#[actix_web::test]
async fn a_new_code_replaces_the_old_and_requests_are_rate_limited() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let email = email_of(&app, &org).await;
    request(&app, &email).await;
    let first = code_in(wait_mail(&app, &org.token, &email, 1).await["body"].as_str().unwrap());
    request(&app, &email).await;
    let second = code_in(wait_mail(&app, &org.token, &email, 2).await["body"].as_str().unwrap());
    if first != second {
        assert_eq!(verify(&app, &email, &first).await.0, 401, "the earlier code is dead");
    }
    for _ in 0..3 {
        assert_eq!(request(&app, &email).await.0, 200);
    }
    let res =
        app.client.post(app.url("/api/v1/auth/request-code")).json(&json!({"email": email})).send().await.unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // The limit is the same for addresses without an account.
    for _ in 0..5 {
        assert_eq!(request(&app, "ghost@example.com").await.0, 200);
    }
    assert_eq!(request(&app, "ghost@example.com").await.0, 429);
    assert_eq!(mailbox(&app, &org.token, &email).await.len(), 5);
}

#[actix_web::test]
async fn a_code_arrives_through_smtp() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| c.smtp_url = Some(url)).await;
    let org = app.register("Acme").await;
    let email = email_of(&app, &org).await;
    assert_eq!(request(&app, &email).await.0, 200);
    let mail = sink.wait_for(&email, 1).await;
    assert_eq!(mail.header("Subject").as_deref(), Some("Your cx-inbox sign-in code"));
    let code = code_in(&mail.body());
    let (status, s) = verify(&app, &email, &code).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["data"]["organization"]["id"], org.org_id.as_str());
    let logged = entities::mail::Entity::find().all(&app.db).await.unwrap();
    assert_eq!((logged[0].transport.as_str(), logged[0].status.as_str()), ("smtp", "sent"));
    assert!(!logged[0].body.contains(&code), "the log holds no live code");
}

#[actix_web::test]
async fn an_admin_cannot_read_another_users_sign_in_code_in_the_dev_mailbox() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let agent = crate::users::add_member(&app, &org, "AGENT").await;
    let (status, _) = request(&app, &agent.email).await;
    assert_eq!(status, 200);
    let mut mails = vec![];
    for _ in 0..50 {
        mails = mailbox(&app, &org.token, &agent.email).await;
        if mails.iter().any(|m| m["subject"] == "Your cx-inbox sign-in code") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let code_mail = mails.iter().find(|m| m["subject"] == "Your cx-inbox sign-in code").expect("the mail is kept");
    assert!(!code_mail["body"].as_str().unwrap().chars().any(|c| c.is_ascii_digit()), "{code_mail}");
}
