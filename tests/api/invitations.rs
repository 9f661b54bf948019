use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};
use crate::smtp_sink::{SmtpSink, token_in};
use crate::users::{add_member, wait_mail};

fn field(body: &Value) -> Value {
    body["error"]["details"]["field"].clone()
}

#[actix_web::test]
async fn an_invitation_mailed_over_smtp_is_accepted_once_and_its_password_logs_in() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.public_url = Some("https://inbox.example.com/".into());
    })
    .await;
    let org = app.register("Acme Corp").await;
    let (_, team) = app.post("/api/v1/teams", &org.token, json!({"name": "Support"})).await;
    let team_id = team["data"]["id"].as_str().unwrap();

    let (status, inv) = app
        .post(
            "/api/v1/invitations",
            &org.token,
            json!({"email": "Newbie@Example.com", "name": "Newbie", "teamId": team_id}),
        )
        .await;
    assert_eq!(status, 201, "{inv}");
    assert_eq!(inv["data"]["email"], "newbie@example.com");
    assert_eq!(inv["data"]["role"], "AGENT");
    assert_eq!(inv["data"]["status"], "PENDING");
    assert!(inv["data"].get("token").is_none() && inv["data"].get("tokenHash").is_none());

    // The mail arrived at the SMTP server, with the link and the token.
    let mail = sink.wait_for("newbie@example.com", 1).await;
    assert!(mail.header("Subject").unwrap().contains("Acme Corp"), "{mail:?}");
    assert!(mail.header("From").unwrap().contains("no-reply@localhost"));
    assert_eq!(mail.from, "no-reply@localhost", "the envelope sender");
    let body = mail.body();
    let token = token_in(&body);
    assert_eq!(token.len(), 43, "32 bytes, base64url: {body}");
    assert!(body.contains(&format!("https://inbox.example.com/accept-invitation?token={token}")), "{body}");
    assert!(body.contains(&format!("invitation token in the app: {token}")), "{body}");
    let logged = entities::mail::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!((logged[0].transport.as_str(), logged[0].status.as_str()), ("smtp", "sent"));
    assert!(!logged[0].body.contains(&token) && logged[0].body.contains("[redacted]"), "the log holds no live token");
    let stored = entities::invitation::Entity::find().all(&app.db).await.unwrap().remove(0);
    assert_ne!(stored.token_hash, token, "only the hash is stored");

    // With SMTP configured there is no dev mailbox.
    assert_eq!(app.get("/api/v1/dev/mailbox", &org.token).await.0, 404);

    let (status, preview) = app.get(&format!("/api/v1/invitations/token/{token}"), "").await;
    assert_eq!(status, 200, "{preview}");
    let p = &preview["data"];
    assert_eq!(p["email"], "newbie@example.com");
    assert_eq!(p["organizationName"], "Acme Corp");
    assert!(p["inviterName"].as_str().unwrap().starts_with("Admin "));
    assert_eq!(p["role"], "AGENT");
    assert!(p["expiresAt"].is_string());

    let (status, body) = app
        .post_anon(&format!("/api/v1/invitations/accept/{token}"), json!({"name": "Nia", "password": "short"}))
        .await;
    assert_eq!((status, field(&body)), (400, json!("password")));
    let (status, s) = app
        .post_anon(
            &format!("/api/v1/invitations/accept/{token}"),
            json!({"name": "Nia Newbie", "password": "newbie-pass-1"}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["data"]["user"]["email"], "newbie@example.com");
    assert_eq!(s["data"]["user"]["name"], "Nia Newbie");
    assert_eq!(s["data"]["user"]["role"], "AGENT");
    assert_eq!(s["data"]["organization"]["id"], org.org_id.as_str());
    assert!(s["data"]["refreshToken"].as_str().unwrap().starts_with("cxr_"));

    let (status, login) =
        app.post_anon("/api/v1/auth/login", json!({"email": "newbie@example.com", "password": "newbie-pass-1"})).await;
    assert_eq!(status, 200, "{login}");
    let (_, t) = app.get(&format!("/api/v1/teams/{team_id}"), &org.token).await;
    assert_eq!(t["data"]["members"][0]["email"], "newbie@example.com");
    assert_eq!(t["data"]["members"][0]["role"], "MEMBER");

    // Single use.
    let (status, body) = app
        .post_anon(&format!("/api/v1/invitations/accept/{token}"), json!({"name": "Again", "password": "another-pass"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(app.get(&format!("/api/v1/invitations/token/{token}"), "").await.0, 404);
    let (_, list) = app.get("/api/v1/invitations", &org.token).await;
    assert_eq!(list["data"][0]["status"], "ACCEPTED");
    assert!(list["data"][0]["acceptedAt"].is_string());
}

#[actix_web::test]
async fn a_refused_mail_is_a_503_and_keeps_no_invitation() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| c.smtp_url = Some(url)).await;
    let org = app.register("Acme").await;
    sink.refuse(true);
    let (status, body) = app.post("/api/v1/invitations", &org.token, json!({"email": "a@example.com"})).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(app.count("invitations").await, 0);
    let logged = entities::mail::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(logged[0].status.as_str(), "failed");
    assert!(logged[0].error.is_some());

    sink.refuse(false);
    let (status, _) = app.post("/api/v1/invitations", &org.token, json!({"email": "a@example.com"})).await;
    assert_eq!(status, 201, "a retry works");
    sink.wait_for("a@example.com", 1).await;
}

#[actix_web::test]
async fn invitations_are_validated_scoped_and_admin_only() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    for (body, f) in [
        (json!({"email": "not-an-address"}), "email"),
        (json!({}), "email"),
        (json!({"email": "a@example.com", "role": "SUPER_ADMIN"}), "role"),
        (json!({"email": "a@example.com", "teamId": "ghost"}), "teamId"),
    ] {
        let (status, resp) = app.post("/api/v1/invitations", &org.token, body).await;
        assert_eq!((status, field(&resp)), (400, json!(f)), "{resp}");
    }
    let (status, inv) =
        app.post("/api/v1/invitations", &org.token, json!({"email": "a@example.com", "role": "admin"})).await;
    assert_eq!(status, 201);
    assert_eq!(inv["data"]["role"], "ADMIN");
    let (status, body) = app.post("/api/v1/invitations", &org.token, json!({"email": "A@example.com"})).await;
    assert_eq!(status, 409, "a pending invitation exists: {body}");
    let (_, me) = app.get("/api/v1/auth/me", &org.token).await;
    let (status, _) = app.post("/api/v1/invitations", &org.token, json!({"email": me["data"]["user"]["email"]})).await;
    assert_eq!(status, 409, "an account exists");

    let (status, list) = app.get("/api/v1/invitations", &org.token).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (_, pending) = app.get("/api/v1/invitations?status=pending", &org.token).await;
    assert_eq!(pending["data"].as_array().unwrap().len(), 1);
    let (status, body) = app.get("/api/v1/invitations?status=LOST", &org.token).await;
    assert_eq!((status, field(&body)), (400, json!("status")));

    let id = inv["data"]["id"].as_str().unwrap();
    let other = app.register("Other").await;
    let (_, theirs) = app.get("/api/v1/invitations", &other.token).await;
    assert_eq!(theirs["data"], json!([]));
    assert_eq!(app.delete(&format!("/api/v1/invitations/{id}"), &other.token).await.0, 404);
    assert_eq!(app.post(&format!("/api/v1/invitations/{id}/resend"), &other.token, json!({})).await.0, 404);

    let agent = add_member(&app, &org, "AGENT").await;
    assert_eq!(app.get("/api/v1/invitations", &agent.token).await.0, 403);
    assert_eq!(app.post("/api/v1/invitations", &agent.token, json!({"email": "b@example.com"})).await.0, 403);
    assert_eq!(app.get("/api/v1/invitations/token/not-a-token", "").await.0, 404);
    assert_eq!(app.post_anon("/api/v1/invitations/accept/not-a-token", json!({"password": "password-1"})).await.0, 404);
}

#[actix_web::test]
async fn bulk_invitations_succeed_or_fail_per_address() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (status, r) = app
        .post(
            "/api/v1/invitations/bulk",
            &org.token,
            json!({"invitations": [
                {"email": "one@example.com", "name": "One"},
                {"email": "broken"},
                {"email": "ONE@example.com"},
                {"email": "two@example.com", "role": "ADMIN"},
                {"email": 7},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let d = &r["data"];
    assert_eq!((d["created"].clone(), d["failed"].clone()), (json!(2), json!(3)));
    let results = d["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["ok"], true);
    assert_eq!(results[0]["invitation"]["name"], "One");
    assert_eq!(results[1]["ok"], false);
    assert_eq!(results[1]["error"]["code"], "validation_error");
    assert_eq!(results[1]["error"]["field"], "email");
    assert_eq!(results[1]["email"], "broken");
    assert_eq!(results[2]["error"]["code"], "conflict");
    assert_eq!(results[3]["invitation"]["role"], "ADMIN");
    assert_eq!(results[4]["ok"], false);
    assert_eq!(app.count("invitations").await, 2);
    wait_mail(&app, &org.token, "two@example.com", 1).await;

    let (status, body) = app.post("/api/v1/invitations/bulk", &org.token, json!({"invitations": []})).await;
    assert_eq!((status, field(&body)), (400, json!("invitations")));
    let many: Vec<Value> = (0..101).map(|i| json!({"email": format!("p{i}@example.com")})).collect();
    let (status, body) = app.post("/api/v1/invitations/bulk", &org.token, json!({"invitations": many})).await;
    assert_eq!((status, field(&body)), (400, json!("invitations")));
}

#[actix_web::test]
async fn resending_replaces_the_token_and_revoking_kills_it() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (_, inv) = app.post("/api/v1/invitations", &org.token, json!({"email": "r@example.com"})).await;
    let id = inv["data"]["id"].as_str().unwrap();
    let first = token_in(wait_mail(&app, &org.token, "r@example.com", 1).await["body"].as_str().unwrap());

    let (status, resent) = app.post(&format!("/api/v1/invitations/{id}/resend"), &org.token, json!({})).await;
    assert_eq!(status, 200, "{resent}");
    let second = token_in(wait_mail(&app, &org.token, "r@example.com", 2).await["body"].as_str().unwrap());
    assert_ne!(first, second);
    assert_eq!(app.get(&format!("/api/v1/invitations/token/{first}"), "").await.0, 404);
    assert_eq!(app.get(&format!("/api/v1/invitations/token/{second}"), "").await.0, 200);

    let (status, revoked) = app.delete(&format!("/api/v1/invitations/{id}"), &org.token).await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["data"]["status"], "REVOKED");
    assert_eq!(app.get(&format!("/api/v1/invitations/token/{second}"), "").await.0, 404);
    let (status, _) = app
        .post_anon(&format!("/api/v1/invitations/accept/{second}"), json!({"name": "R", "password": "password-1"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(app.delete(&format!("/api/v1/invitations/{id}"), &org.token).await.0, 409);
    assert_eq!(app.post(&format!("/api/v1/invitations/{id}/resend"), &org.token, json!({})).await.0, 409);
    // A revoked invitation no longer blocks a new one.
    assert_eq!(app.post("/api/v1/invitations", &org.token, json!({"email": "r@example.com"})).await.0, 201);
}

#[actix_web::test]
async fn an_expired_invitation_is_gone_until_resent() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (_, inv) = app.post("/api/v1/invitations", &org.token, json!({"email": "late@example.com"})).await;
    let id = inv["data"]["id"].as_str().unwrap().to_owned();
    let token = token_in(wait_mail(&app, &org.token, "late@example.com", 1).await["body"].as_str().unwrap());
    entities::invitation::Entity::update_many()
        .col_expr(
            entities::invitation::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .filter(entities::invitation::Column::Id.eq(id.clone()))
        .exec(&app.db)
        .await
        .unwrap();

    let (status, body) = app.get(&format!("/api/v1/invitations/token/{token}"), "").await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["error"]["code"], "gone");
    let (status, _) = app
        .post_anon(&format!("/api/v1/invitations/accept/{token}"), json!({"name": "L", "password": "password-1"}))
        .await;
    assert_eq!(status, 410);
    let (_, list) = app.get("/api/v1/invitations?status=EXPIRED", &org.token).await;
    assert_eq!(list["data"][0]["status"], "EXPIRED");
    // An expired invitation does not block a new one to the same address, and can be resent.
    let (status, resent) = app.post(&format!("/api/v1/invitations/{id}/resend"), &org.token, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(resent["data"]["status"], "PENDING");
    let fresh = token_in(wait_mail(&app, &org.token, "late@example.com", 2).await["body"].as_str().unwrap());
    let (status, _) = app
        .post_anon(&format!("/api/v1/invitations/accept/{fresh}"), json!({"name": "Late", "password": "password-1"}))
        .await;
    assert_eq!(status, 201);
}

#[actix_web::test]
async fn the_dev_mailbox_shows_an_admin_their_organization_and_a_super_admin_everything() {
    let app = spawn_app().await;
    let a = app.register("A").await;
    let b = app.register("B").await;
    app.post("/api/v1/invitations", &a.token, json!({"email": "for-a@example.com"})).await;
    app.post("/api/v1/invitations", &b.token, json!({"email": "for-b@example.com"})).await;

    let (status, mine) = app.get("/api/v1/dev/mailbox", &a.token).await;
    assert_eq!(status, 200, "{mine}");
    let mine = mine["data"].as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["to"], "for-a@example.com");
    assert_eq!(mine[0]["orgId"], a.org_id.as_str());
    assert!(mine[0]["subject"].as_str().unwrap().contains('A'));
    assert_eq!(app.get("/api/v1/dev/mailbox?to=for-b@example.com", &a.token).await.1["data"], json!([]));
    let (status, body) = app.get("/api/v1/dev/mailbox?limit=0", &a.token).await;
    assert_eq!((status, field(&body)), (400, json!("limit")));

    crate::users::make_super_admin(&app, &a.user_id).await;
    let (_, all) = app.get("/api/v1/dev/mailbox", &a.token).await;
    let all = all["data"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["to"], "for-b@example.com", "newest first");
    let (_, one) = app.get("/api/v1/dev/mailbox?to=for-b@example.com", &a.token).await;
    assert_eq!(one["data"].as_array().unwrap().len(), 1);

    let agent = add_member(&app, &b, "AGENT").await;
    assert_eq!(app.get("/api/v1/dev/mailbox", &agent.token).await.0, 403);
}
