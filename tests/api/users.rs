use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Org, TestApp, spawn_app, unique};
use crate::smtp_sink::token_in;

/// The password members set when they accept their invitation.
pub const MEMBER_PASSWORD: &str = "member-pass-1";

/// A user who joined through an invitation.
pub struct Member {
    pub id: String,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

/// Dev-mailbox mail to `to` (newest first), as an admin sees it.
pub async fn mailbox(app: &TestApp, admin_token: &str, to: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/api/v1/dev/mailbox?to={to}"), admin_token).await;
    assert_eq!(status, 200, "mailbox: {body}");
    body["data"].as_array().unwrap().clone()
}

/// Waits until the dev mailbox holds `n` mails to `to`; returns the newest.
pub async fn wait_mail(app: &TestApp, admin_token: &str, to: &str, n: usize) -> Value {
    for _ in 0..200 {
        let mails = mailbox(app, admin_token, to).await;
        if mails.len() >= n {
            return mails[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the dev mailbox never got {n} mail(s) to {to}");
}

/// Creates a user with `role` through `POST /users` and accepts their invitation from the dev
/// mailbox.
pub async fn add_member(app: &TestApp, org: &Org, role: &str) -> Member {
    let n = unique();
    let email = format!("member{n}@example.com");
    let (status, created) = app
        .post("/api/v1/users", &org.token, json!({"email": email, "name": format!("Member {n}"), "role": role}))
        .await;
    assert_eq!(status, 201, "create user: {created}");
    let mail = wait_mail(app, &org.token, &email, 1).await;
    let token = token_in(mail["body"].as_str().unwrap());
    let (status, s) =
        app.post_anon(&format!("/api/v1/invitations/accept/{token}"), json!({"password": MEMBER_PASSWORD})).await;
    assert_eq!(status, 201, "accept: {s}");
    Member {
        id: created["data"]["id"].as_str().unwrap().into(),
        email,
        token: s["data"]["accessToken"].as_str().unwrap().into(),
        refresh_token: s["data"]["refreshToken"].as_str().unwrap().into(),
    }
}

fn field(body: &Value) -> Value {
    body["error"]["details"]["field"].clone()
}

#[actix_web::test]
async fn a_created_user_is_invited_and_listed_with_teams_load_and_filters() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (_, team) = app.post("/api/v1/teams", &org.token, json!({"name": "Billing"})).await;
    let team_id = team["data"]["id"].as_str().unwrap();

    let (status, created) = app
        .post(
            "/api/v1/users",
            &org.token,
            json!({"email": "Zoe@Example.com", "name": "Zoe Ng", "maxConcurrent": 4, "teamIds": [team_id]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let u = &created["data"];
    assert_eq!(u["email"], "zoe@example.com");
    assert_eq!(u["role"], "AGENT");
    assert_eq!(u["status"], "OFFLINE");
    assert_eq!(u["maxConcurrent"], 4);
    assert_eq!(u["invitePending"], true);
    assert_eq!(u["openConversations"], 0);
    assert_eq!(u["teams"], json!([{"id": team_id, "name": "Billing", "role": "MEMBER"}]));
    assert!(u["avatarUrl"].is_null());

    // The invitation went to the dev mailbox, linked to the user.
    let mail = wait_mail(&app, &org.token, "zoe@example.com", 1).await;
    assert!(mail["body"].as_str().unwrap().contains("/accept-invitation?token="), "{mail}");
    let (_, invitations) = app.get("/api/v1/invitations", &org.token).await;
    assert_eq!(invitations["data"][0]["userId"], u["id"]);
    assert_eq!(invitations["data"][0]["status"], "PENDING");

    let (status, list) = app.get("/api/v1/users", &org.token).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let (_, found) = app.get("/api/v1/users?search=ZOE", &org.token).await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert_eq!(found["data"][0]["name"], "Zoe Ng");
    let (_, admins) = app.get("/api/v1/users?role=ADMIN", &org.token).await;
    assert_eq!(admins["data"].as_array().unwrap().len(), 1);
    assert_eq!(admins["data"][0]["id"], org.user_id.as_str());
    let (_, offline) = app.get("/api/v1/users?status=OFFLINE", &org.token).await;
    assert_eq!(offline["data"].as_array().unwrap().len(), 2);
    let (status, body) = app.get("/api/v1/users?role=BOSS", &org.token).await;
    assert_eq!((status, field(&body)), (400, json!("role")));
    let (status, body) = app.get("/api/v1/users?status=ASLEEP", &org.token).await;
    assert_eq!((status, field(&body)), (400, json!("status")));

    // Any member lists; only admins see deleted users.
    let agent = add_member(&app, &org, "AGENT").await;
    let (status, list) = app.get("/api/v1/users", &agent.token).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    assert_eq!(app.get("/api/v1/users?includeDeleted=true", &agent.token).await.0, 403);

    // Another organization sees none of them.
    let other = app.register("Other").await;
    let (_, theirs) = app.get("/api/v1/users", &other.token).await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn creating_a_user_names_the_field_at_fault_and_refuses_duplicates() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (status, body) = app.post("/api/v1/users", &org.token, json!({"email": "x@example.com"})).await;
    assert_eq!((status, field(&body)), (400, json!("name")));
    let (status, body) = app.post("/api/v1/users", &org.token, json!({"email": "nope", "name": "X"})).await;
    assert_eq!((status, field(&body)), (400, json!("email")));
    let (status, body) =
        app.post("/api/v1/users", &org.token, json!({"email": "x@example.com", "name": "X", "maxConcurrent": 0})).await;
    assert_eq!((status, field(&body)), (400, json!("maxConcurrent")));
    let (status, body) = app
        .post("/api/v1/users", &org.token, json!({"email": "x@example.com", "name": "X", "teamIds": ["ghost"]}))
        .await;
    assert_eq!((status, field(&body)), (400, json!("teamIds")));
    let (status, body) = app
        .post("/api/v1/users", &org.token, json!({"email": "x@example.com", "name": "X", "role": "SUPER_ADMIN"}))
        .await;
    assert_eq!(status, 403, "only a super admin grants SUPER_ADMIN: {body}");

    // The admin's own address, and an address of another organization, are taken.
    let (_, me) = app.get("/api/v1/auth/me", &org.token).await;
    let mine = me["data"]["user"]["email"].as_str().unwrap();
    assert_eq!(app.post("/api/v1/users", &org.token, json!({"email": mine, "name": "X"})).await.0, 409);
    let other = app.register("Other").await;
    assert_eq!(app.post("/api/v1/users", &other.token, json!({"email": mine, "name": "X"})).await.0, 409);

    let agent = add_member(&app, &org, "AGENT").await;
    assert_eq!(app.post("/api/v1/users", &agent.token, json!({"email": "y@example.com", "name": "Y"})).await.0, 403);
}

#[actix_web::test]
async fn roles_and_capacity_change_and_an_organization_keeps_an_admin() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let agent = add_member(&app, &org, "AGENT").await;
    let path = format!("/api/v1/users/{}", agent.id);

    let (status, u) = app.patch(&path, &org.token, json!({"name": "Renamed", "maxConcurrent": 5})).await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(u["data"]["name"], "Renamed");
    assert_eq!(u["data"]["maxConcurrent"], 5);
    let (_, u) = app.patch(&path, &org.token, json!({"maxConcurrent": null})).await;
    assert!(u["data"]["maxConcurrent"].is_null());
    let (status, body) = app.patch(&path, &org.token, json!({"maxConcurrent": 1001})).await;
    assert_eq!((status, field(&body)), (400, json!("maxConcurrent")));
    let (status, body) = app.patch(&path, &org.token, json!({"role": "OWNER"})).await;
    assert_eq!((status, field(&body)), (400, json!("role")));
    assert_eq!(app.patch(&path, &org.token, json!({"role": "SUPER_ADMIN"})).await.0, 403);
    assert_eq!(app.patch(&path, &agent.token, json!({"name": "Me"})).await.0, 403, "agents do not edit users");

    // The only admin cannot step down.
    let me = format!("/api/v1/users/{}", org.user_id);
    let (status, body) = app.patch(&me, &org.token, json!({"role": "AGENT"})).await;
    assert_eq!(status, 409, "{body}");

    // With a second admin they can, and the new role applies to the token at once.
    let (_, u) = app.patch(&path, &org.token, json!({"role": "ADMIN"})).await;
    assert_eq!(u["data"]["role"], "ADMIN");
    assert_eq!(app.get("/api/v1/invitations", &agent.token).await.0, 200);
    let (status, _) = app.patch(&me, &org.token, json!({"role": "AGENT"})).await;
    assert_eq!(status, 200);
    assert_eq!(app.get("/api/v1/invitations", &org.token).await.0, 403);

    let other = app.register("Other").await;
    assert_eq!(app.patch(&path, &other.token, json!({"name": "X"})).await.0, 404);
}

#[actix_web::test]
async fn a_demoted_admins_open_admin_invitations_end() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let admin = add_member(&app, &org, "ADMIN").await;
    for (email, role) in [("boss@example.com", "ADMIN"), ("helper@example.com", "AGENT")] {
        let (s, inv) = app.post("/api/v1/invitations", &admin.token, json!({"email": email, "role": role})).await;
        assert_eq!(s, 201, "{inv}");
    }
    let (s, _) = app.patch(&format!("/api/v1/users/{}", admin.id), &org.token, json!({"role": "AGENT"})).await;
    assert_eq!(s, 200);
    let (_, list) = app.get("/api/v1/invitations", &org.token).await;
    let status_of = |email: &str| {
        list["data"].as_array().unwrap().iter().find(|i| i["email"] == email).map(|i| i["status"].clone()).unwrap()
    };
    assert_eq!(status_of("boss@example.com"), "REVOKED", "{list}");
    assert_eq!(status_of("helper@example.com"), "PENDING", "an agent invitation they could still send stays");
}

#[actix_web::test]
async fn two_admins_stepping_down_at_once_leave_one_admin() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let second = add_member(&app, &org, "ADMIN").await;
    for _ in 0..5 {
        // Each admin steps the other down, at the same moment.
        let (path_a, path_b) = (format!("/api/v1/users/{}", second.id), format!("/api/v1/users/{}", org.user_id));
        let a = app.patch(&path_a, &org.token, json!({"role": "AGENT"}));
        let b = app.patch(&path_b, &second.token, json!({"role": "AGENT"}));
        let ((sa, _), (sb, _)) = futures_util::future::join(a, b).await;
        let (_, admins) = app.get("/api/v1/users?role=ADMIN", &org.token).await;
        let left = admins["data"].as_array().map_or(0, Vec::len);
        let (_, admins2) = app.get("/api/v1/users?role=ADMIN", &second.token).await;
        let left = left.max(admins2["data"].as_array().map_or(0, Vec::len));
        assert_eq!(left, 1, "{sa} {sb}: the organization keeps exactly one admin");
        let mut got = [sa, sb];
        got.sort();
        assert!(got == [200, 409] || got == [200, 403], "one wins; the other is refused: {got:?}");
        // Both admins again for the next round.
        let (winner_token, loser_id) = if sa == 200 { (&org.token, &second.id) } else { (&second.token, &org.user_id) };
        let (s, body) = app.patch(&format!("/api/v1/users/{loser_id}"), winner_token, json!({"role": "ADMIN"})).await;
        assert_eq!(s, 200, "{body}");
    }
}

#[actix_web::test]
async fn deleting_a_user_releases_their_conversations_and_ends_their_tokens() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let agent = add_member(&app, &org, "AGENT").await;
    let (_, team) = app.post("/api/v1/teams", &org.token, json!({"name": "Sales"})).await;
    let team_id = team["data"]["id"].as_str().unwrap();
    app.post(&format!("/api/v1/teams/{team_id}/members"), &org.token, json!({"userId": agent.id})).await;

    let account = app.connect_account(&org).await;
    let conv = app.customer_says(&org, &account, "15559700001", "I need a human").await;
    let (status, c) =
        app.post(&format!("/api/v1/conversations/{conv}/assign"), &org.token, json!({"userId": agent.id})).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["data"]["assignedTo"], agent.id.as_str());
    let (_, before) = app.get("/api/v1/users", &org.token).await;
    let row = before["data"].as_array().unwrap().iter().find(|u| u["id"] == agent.id.as_str()).unwrap().clone();
    assert_eq!(row["openConversations"], 1);
    assert_eq!(app.get("/api/v1/auth/me", &agent.token).await.0, 200);

    // Not yourself, not as an agent.
    let (status, body) = app.delete(&format!("/api/v1/users/{}", org.user_id), &org.token).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(app.delete(&format!("/api/v1/users/{}", org.user_id), &agent.token).await.0, 403);

    let (status, deleted) = app.delete(&format!("/api/v1/users/{}", agent.id), &org.token).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["data"]["releasedConversations"], 1);
    assert!(deleted["data"]["deletedAt"].is_string());
    assert_eq!(deleted["data"]["status"], "OFFLINE");
    assert_eq!(deleted["data"]["teams"], json!([]));

    // The conversation is back in the queue, with a note on its timeline.
    let (_, c) = app.get(&format!("/api/v1/conversations/{conv}"), &org.token).await;
    assert!(c["data"]["assignedTo"].is_null(), "{c}");
    let messages = app.messages(&org, &conv).await;
    let note = messages.iter().rev().find(|m| m["direction"] == "system").unwrap();
    assert!(note["text"].as_str().unwrap().contains("was removed; back to the queue"), "{note}");

    // Their access token, refresh token and password stop working.
    let (status, body) = app.get("/api/v1/auth/me", &agent.token).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(app.get("/api/v1/users", &agent.token).await.0, 401);
    let (status, _) = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": agent.refresh_token.clone()})).await;
    assert_eq!(status, 401);
    let (status, _) =
        app.post_anon("/api/v1/auth/login", json!({"email": agent.email.clone(), "password": MEMBER_PASSWORD})).await;
    assert_eq!(status, 401);

    // Gone from the list and the team; admins can still see them.
    let (_, list) = app.get("/api/v1/users", &org.token).await;
    assert!(list["data"].as_array().unwrap().iter().all(|u| u["id"] != agent.id.as_str()));
    let (_, all) = app.get("/api/v1/users?includeDeleted=true", &org.token).await;
    assert!(all["data"].as_array().unwrap().iter().any(|u| u["id"] == agent.id.as_str() && u["deletedAt"].is_string()));
    let (_, t) = app.get(&format!("/api/v1/teams/{team_id}"), &org.token).await;
    assert_eq!(t["data"]["members"], json!([]));
    assert_eq!(app.delete(&format!("/api/v1/users/{}", agent.id), &org.token).await.0, 404);

    // The address is free again: the person can be invited back, as a new user, and log in.
    // (First: what a removed admin invited ends with them.)
    let admin = add_member(&app, &org, "ADMIN").await;
    let (s, inv) = app
        .post("/api/v1/invitations", &admin.token, json!({"email": "second-self@example.com", "role": "ADMIN"}))
        .await;
    assert_eq!(s, 201, "{inv}");
    assert_eq!(app.delete(&format!("/api/v1/users/{}", admin.id), &org.token).await.0, 200);
    let (_, list) = app.get("/api/v1/invitations?status=REVOKED", &org.token).await;
    assert!(list["data"].as_array().unwrap().iter().any(|i| i["email"] == "second-self@example.com"), "{list}");
    let (status, again) = app
        .post("/api/v1/users", &org.token, json!({"email": agent.email, "name": "Back Again", "role": "AGENT"}))
        .await;
    assert_eq!(status, 201, "{again}");
    assert_ne!(again["data"]["id"], agent.id.as_str());
    let mail = wait_mail(&app, &org.token, &agent.email, 2).await;
    let token = token_in(mail["body"].as_str().unwrap());
    let (status, _) =
        app.post_anon(&format!("/api/v1/invitations/accept/{token}"), json!({"password": MEMBER_PASSWORD})).await;
    assert_eq!(status, 201);
    let (status, _) =
        app.post_anon("/api/v1/auth/login", json!({"email": agent.email.clone(), "password": MEMBER_PASSWORD})).await;
    assert_eq!(status, 200);
    // A live address stays taken.
    let (status, _) =
        app.post("/api/v1/users", &org.token, json!({"email": agent.email, "name": "Twin", "role": "AGENT"})).await;
    assert_eq!(status, 409);
}

#[actix_web::test]
async fn an_invite_is_resent_only_to_users_without_a_password() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (_, created) = app.post("/api/v1/users", &org.token, json!({"email": "new@example.com", "name": "New"})).await;
    let id = created["data"]["id"].as_str().unwrap();
    let first = token_in(wait_mail(&app, &org.token, "new@example.com", 1).await["body"].as_str().unwrap());

    let (status, inv) = app.post(&format!("/api/v1/users/{id}/resend-invite"), &org.token, json!({})).await;
    assert_eq!(status, 200, "{inv}");
    assert_eq!(inv["data"]["userId"], id);
    let second = token_in(wait_mail(&app, &org.token, "new@example.com", 2).await["body"].as_str().unwrap());
    assert_ne!(first, second);
    assert_eq!(app.get(&format!("/api/v1/invitations/token/{first}"), "").await.0, 404, "the old token is dead");

    let (status, s) = app
        .post_anon(
            &format!("/api/v1/invitations/accept/{second}"),
            json!({"name": "New Person", "password": "password-9"}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["data"]["user"]["id"], id);
    assert_eq!(s["data"]["user"]["name"], "New Person");
    let (status, body) = app.post(&format!("/api/v1/users/{id}/resend-invite"), &org.token, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(app.post(&format!("/api/v1/users/{}/resend-invite", org.user_id), &org.token, json!({})).await.0, 409);
    assert_eq!(app.post("/api/v1/users/ghost/resend-invite", &org.token, json!({})).await.0, 404);
}

#[actix_web::test]
async fn status_is_set_by_the_user_or_an_admin() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let agent = add_member(&app, &org, "AGENT").await;

    let (status, u) =
        app.patch(&format!("/api/v1/users/{}/status", agent.id), &agent.token, json!({"status": "AWAY"})).await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(u["data"]["status"], "AWAY");
    assert!(u["data"]["statusChangedAt"].is_string());
    let (status, _) =
        app.patch(&format!("/api/v1/users/{}/status", org.user_id), &agent.token, json!({"status": "BUSY"})).await;
    assert_eq!(status, 403);
    let (status, u) =
        app.patch(&format!("/api/v1/users/{}/status", agent.id), &org.token, json!({"status": "busy"})).await;
    assert_eq!(status, 200);
    assert_eq!(u["data"]["status"], "BUSY");
    let (status, body) =
        app.patch(&format!("/api/v1/users/{}/status", agent.id), &org.token, json!({"status": "NAPPING"})).await;
    assert_eq!((status, field(&body)), (400, json!("status")));
    assert_eq!(app.patch("/api/v1/users/ghost/status", &org.token, json!({"status": "AWAY"})).await.0, 404);
    let other = app.register("Other").await;
    let (status, _) =
        app.patch(&format!("/api/v1/users/{}/status", agent.id), &other.token, json!({"status": "AWAY"})).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn bulk_actions_report_each_user_and_never_delete_the_caller() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let a = add_member(&app, &org, "AGENT").await;
    let b = add_member(&app, &org, "AGENT").await;

    let (status, r) = app
        .post(
            "/api/v1/users/bulk",
            &org.token,
            json!({"action": "set_capacity", "selection": {"mode": "ids", "ids": [a.id, b.id, "ghost"]}, "maxConcurrent": 3}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["data"]["matched"], 3);
    assert_eq!(r["data"]["succeeded"], 2);
    assert_eq!(r["data"]["failed"][0]["id"], "ghost");
    assert_eq!(r["data"]["failed"][0]["error"]["code"], "not_found");
    let (_, list) = app.get("/api/v1/users?role=AGENT", &org.token).await;
    assert!(list["data"].as_array().unwrap().iter().all(|u| u["maxConcurrent"] == 3));

    let (_, r) = app
        .post(
            "/api/v1/users/bulk",
            &org.token,
            json!({"action": "set_status", "selection": {"mode": "all", "role": "AGENT"}, "status": "AWAY"}),
        )
        .await;
    assert_eq!((r["data"]["matched"].clone(), r["data"]["succeeded"].clone()), (json!(2), json!(2)));

    let (_, r) = app
        .post(
            "/api/v1/users/bulk",
            &org.token,
            json!({"action": "set_role", "selection": {"mode": "ids", "ids": [a.id]}, "role": "ADMIN"}),
        )
        .await;
    assert_eq!(r["data"]["succeeded"], 1, "{r}");

    let (_, r) =
        app.post("/api/v1/users/bulk", &org.token, json!({"action": "delete", "selection": {"mode": "all"}})).await;
    assert_eq!(r["data"]["matched"], 3, "{r}");
    assert_eq!(r["data"]["succeeded"], 2);
    assert_eq!(r["data"]["failed"][0]["id"], org.user_id.as_str());
    assert_eq!(r["data"]["failed"][0]["error"]["code"], "conflict");
    assert_eq!(app.get("/api/v1/auth/me", &org.token).await.0, 200);
    assert_eq!(app.get("/api/v1/auth/me", &a.token).await.0, 401);

    for (body, f) in [
        (json!({"action": "explode", "selection": {"mode": "all"}}), "action"),
        (json!({"action": "delete", "selection": {"mode": "some"}}), "selection.mode"),
        (json!({"action": "delete", "selection": {"mode": "ids"}}), "selection.ids"),
        (json!({"action": "set_role", "selection": {"mode": "all"}}), "role"),
        (json!({"action": "set_capacity", "selection": {"mode": "all"}, "maxConcurrent": 0}), "maxConcurrent"),
    ] {
        let (status, resp) = app.post("/api/v1/users/bulk", &org.token, body).await;
        assert_eq!((status, field(&resp)), (400, json!(f)), "{resp}");
    }
    let agent = add_member(&app, &org, "AGENT").await;
    let (status, _) =
        app.post("/api/v1/users/bulk", &agent.token, json!({"action": "delete", "selection": {"mode": "all"}})).await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn the_people_and_routing_endpoints_are_in_the_openapi_document() {
    let app = spawn_app().await;
    let spec: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    for (path, method) in [
        ("/api/v1/auth/request-code", "post"),
        ("/api/v1/auth/verify-code", "post"),
        ("/api/v1/dev/mailbox", "get"),
        ("/api/v1/invitations", "get"),
        ("/api/v1/invitations", "post"),
        ("/api/v1/invitations/bulk", "post"),
        ("/api/v1/invitations/{id}/resend", "post"),
        ("/api/v1/invitations/{id}", "delete"),
        ("/api/v1/invitations/token/{token}", "get"),
        ("/api/v1/invitations/accept/{token}", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{id}", "patch"),
        ("/api/v1/users/{id}", "delete"),
        ("/api/v1/users/{id}/resend-invite", "post"),
        ("/api/v1/users/{id}/status", "patch"),
        ("/api/v1/users/bulk", "post"),
        ("/api/v1/users/{id}/avatar", "get"),
        ("/api/v1/profile", "get"),
        ("/api/v1/profile", "patch"),
        ("/api/v1/profile/avatar", "post"),
        ("/api/v1/profile/avatar", "delete"),
        ("/api/v1/profile/change-password", "post"),
        ("/api/v1/teams", "get"),
        ("/api/v1/teams", "post"),
        ("/api/v1/teams/{id}", "get"),
        ("/api/v1/teams/{id}", "patch"),
        ("/api/v1/teams/{id}", "delete"),
        ("/api/v1/teams/{id}/members", "post"),
        ("/api/v1/teams/{id}/members/{userId}", "patch"),
        ("/api/v1/teams/{id}/members/{userId}", "delete"),
        ("/api/v1/teams/{id}/schedule", "get"),
        ("/api/v1/teams/{id}/schedule", "put"),
        ("/api/v1/teams/{id}/schedule/status", "get"),
        ("/api/v1/routing-rules", "get"),
        ("/api/v1/routing-rules", "post"),
        ("/api/v1/routing-rules/{id}", "patch"),
        ("/api/v1/routing-rules/{id}", "delete"),
        ("/api/v1/routing-rules/reorder", "post"),
        ("/api/v1/routing-rules/check-conflicts", "get"),
        ("/api/v1/routing-rules/run-now", "post"),
        ("/api/v1/routing-rules/maintenance", "put"),
        ("/api/v1/routing-rules/off-hours", "put"),
        ("/api/v1/routing-rules/business-hours", "put"),
        ("/api/v1/routing-rules/default-team", "put"),
        ("/api/v1/routing-rules/idle-agent", "get"),
        ("/api/v1/routing-rules/idle-agent/run", "post"),
        ("/api/v1/conversations/{id}/re-route", "post"),
    ] {
        assert!(spec["paths"][path][method].is_object(), "{method} {path} missing from the OpenAPI document");
    }
    let tags: Vec<&str> = spec["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for t in ["users", "invitations", "profile", "dev"] {
        assert!(tags.contains(&t), "tag {t}");
    }
}

/// Makes a user SUPER_ADMIN directly in the database (no endpoint creates the first one).
pub async fn make_super_admin(app: &TestApp, user_id: &str) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entities::user::Entity::update_many()
        .col_expr(entities::user::Column::Role, sea_orm::sea_query::Expr::value("SUPER_ADMIN"))
        .filter(entities::user::Column::Id.eq(user_id))
        .exec(&app.db)
        .await
        .unwrap();
}

#[actix_web::test]
async fn only_a_super_admin_grants_or_changes_super_admin() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let admin = add_member(&app, &org, "ADMIN").await;
    let agent = add_member(&app, &org, "AGENT").await;
    make_super_admin(&app, &org.user_id).await;

    let (status, u) =
        app.patch(&format!("/api/v1/users/{}", agent.id), &org.token, json!({"role": "SUPER_ADMIN"})).await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(u["data"]["role"], "SUPER_ADMIN");
    // An ADMIN can neither demote nor delete a SUPER_ADMIN, but may rename one.
    let path = format!("/api/v1/users/{}", agent.id);
    assert_eq!(app.patch(&path, &admin.token, json!({"role": "AGENT"})).await.0, 403);
    assert_eq!(app.delete(&path, &admin.token).await.0, 403);
    assert_eq!(app.patch(&path, &admin.token, json!({"name": "Chief"})).await.0, 200);
    assert_eq!(app.patch(&path, &org.token, json!({"role": "AGENT"})).await.0, 200);
}

#[actix_web::test]
async fn a_removed_users_open_socket_hears_it_and_is_closed() {
    let app = spawn_app().await;
    let org = app.register("Kick").await;
    let ann = crate::agents::add_agent(&app, &org, "Ann").await;
    let mut socket = app.socket(&ann.token, None).await;
    let mut admin = app.socket(&org.token, None).await;
    let (s, b) = app.delete(&format!("/api/v1/users/{}", ann.user_id), &org.token).await;
    assert_eq!(s, 200, "{b}");
    let heard = socket.until(std::time::Duration::from_secs(5), |e| e["event"] == "agent.removed").await;
    assert!(heard.is_some(), "the removed user's socket is told");
    assert!(socket.closed_by_server(std::time::Duration::from_secs(5)).await, "and closed");
    // Everyone else stays connected and hears it too.
    let seen = admin.until(std::time::Duration::from_secs(5), |e| e["event"] == "agent.removed").await.unwrap();
    assert_eq!(seen.last().unwrap()["data"]["userId"], ann.user_id.as_str());
    assert!(!admin.closed_by_server(std::time::Duration::from_millis(300)).await);
}
