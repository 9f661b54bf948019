use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, status_json};
use crate::users::add_member;

fn field(body: &Value) -> Value {
    body["error"]["details"]["field"].clone()
}

pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const GIF: &[u8] =
    b"GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff\0\0\0!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";

pub async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("me.bin");
    let form = reqwest::multipart::Form::new().part(name.to_owned(), part);
    let res =
        app.client.post(app.url("/api/v1/profile/avatar")).bearer_auth(token).multipart(form).send().await.unwrap();
    status_json(res).await
}

#[actix_web::test]
async fn the_profile_is_read_and_renamed() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (status, p) = app.get("/api/v1/profile", &org.token).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["data"]["id"], org.user_id.as_str());
    assert_eq!(p["data"]["role"], "ADMIN");
    assert_eq!(p["data"]["invitePending"], false);
    assert_eq!(p["data"]["teams"], json!([]));

    let (status, p) = app.patch("/api/v1/profile", &org.token, json!({"name": "  Ada L.  "})).await;
    assert_eq!(status, 200);
    assert_eq!(p["data"]["name"], "Ada L.");
    let (status, body) = app.patch("/api/v1/profile", &org.token, json!({"name": " "})).await;
    assert_eq!((status, field(&body)), (400, json!("name")));
    let (status, body) = app.patch("/api/v1/profile", &org.token, json!({})).await;
    assert_eq!((status, field(&body)), (400, json!("name")));
    assert_eq!(app.get("/api/v1/profile", "not-a-token").await.0, 401);

    // An API key acts for its creator; once the creator is gone it has no profile.
    let second = add_member(&app, &org, "ADMIN").await;
    let (_, key) = app.post("/api/v1/api-keys", &second.token, json!({"name": "sync"})).await;
    let key = key["data"]["key"].as_str().unwrap().to_owned();
    let (status, p) = app.get("/api/v1/profile", &key).await;
    assert_eq!((status, p["data"]["id"].clone()), (200, json!(second.id)));
    app.delete(&format!("/api/v1/users/{}", second.id), &org.token).await;
    let (status, body) = app.get("/api/v1/profile", &key).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(app.get("/api/v1/users", &key).await.0, 200, "the key itself still works");
}

#[actix_web::test]
async fn avatars_are_sniffed_stored_served_replaced_and_removed() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (status, p) = upload(&app, &org.token, "avatar", PNG.to_vec()).await;
    assert_eq!(status, 200, "{p}");
    let url = p["data"]["avatarUrl"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/api/v1/users/{}/avatar", org.user_id));

    let res = app.client.get(app.url(&url)).bearer_auth(&org.token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    // Colleagues see it; other organizations do not.
    let agent = add_member(&app, &org, "AGENT").await;
    assert_eq!(app.client.get(app.url(&url)).bearer_auth(&agent.token).send().await.unwrap().status(), 200);
    let other = app.register("Other").await;
    assert_eq!(app.client.get(app.url(&url)).bearer_auth(&other.token).send().await.unwrap().status(), 404);
    let (_, list) = app.get("/api/v1/users", &agent.token).await;
    assert!(list["data"].as_array().unwrap().iter().any(|u| u["avatarUrl"] == url.as_str()));

    // A new one replaces the file.
    let (status, _) = upload(&app, &org.token, "avatar", GIF.to_vec()).await;
    assert_eq!(status, 200);
    let res = app.client.get(app.url(&url)).bearer_auth(&org.token).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/gif");
    let dir = app.config.data_dir.join("media").join("avatars").join(&org.user_id);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "the old file is gone");

    // Not an image, too large, or no `avatar` field.
    let (status, body) = upload(&app, &org.token, "avatar", b"<svg onload=alert(1)>".to_vec()).await;
    assert_eq!((status, field(&body)), (400, json!("avatar")));
    let mut big = PNG.to_vec();
    big.resize(2 * 1024 * 1024 + 1, 0);
    let (status, body) = upload(&app, &org.token, "avatar", big).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("2 MB"));
    let (status, body) = upload(&app, &org.token, "picture", PNG.to_vec()).await;
    assert_eq!((status, field(&body)), (400, json!("avatar")));

    let (status, p) = app.delete("/api/v1/profile/avatar", &org.token).await;
    assert_eq!(status, 200);
    assert!(p["data"]["avatarUrl"].is_null());
    assert_eq!(app.client.get(app.url(&url)).bearer_auth(&org.token).send().await.unwrap().status(), 404);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    assert_eq!(app.delete("/api/v1/profile/avatar", &org.token).await.0, 200, "removing nothing is fine");
}

#[actix_web::test]
async fn changing_the_password_checks_the_current_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (_, me) = app.get("/api/v1/auth/me", &org.token).await;
    let email = me["data"]["user"]["email"].as_str().unwrap().to_owned();
    let path = "/api/v1/profile/change-password";

    let (status, body) =
        app.post(path, &org.token, json!({"currentPassword": "wrong-one", "newPassword": "fresh-pass-1"})).await;
    assert_eq!((status, field(&body)), (400, json!("currentPassword")));
    let (status, body) =
        app.post(path, &org.token, json!({"currentPassword": "s3cret-pass", "newPassword": "short"})).await;
    assert_eq!((status, field(&body)), (400, json!("newPassword")));
    let (status, body) = app.post(path, &org.token, json!({"newPassword": "fresh-pass-1"})).await;
    assert_eq!((status, field(&body)), (400, json!("currentPassword")));

    let (status, s) =
        app.post(path, &org.token, json!({"currentPassword": "s3cret-pass", "newPassword": "fresh-pass-1"})).await;
    assert_eq!(status, 200, "{s}");
    let new_refresh = s["data"]["refreshToken"].as_str().unwrap().to_owned();
    // The refresh token from registration is revoked; the one just issued works.
    let (status, _) = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": org.refresh_token})).await;
    assert_eq!(status, 401);
    let (status, _) = app.post_anon("/api/v1/auth/refresh", json!({"refreshToken": new_refresh})).await;
    assert_eq!(status, 200);
    let login = |password: &str| json!({"email": email.clone(), "password": password});
    assert_eq!(app.post_anon("/api/v1/auth/login", login("s3cret-pass")).await.0, 401);
    assert_eq!(app.post_anon("/api/v1/auth/login", login("fresh-pass-1")).await.0, 200);
}
