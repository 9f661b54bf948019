use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn an_api_key_is_shown_once_stored_hashed_and_authenticates() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;

    let (status, created) = app.post("/api/v1/api-keys", &org.token, json!({"name": "CRM sync"})).await;
    assert_eq!(status, 201, "{created}");
    let key = created["data"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("cxk_"));
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["data"]["role"], "ADMIN");

    let (status, list) = app.get("/api/v1/api-keys", &org.token).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["data"][0].get("key").is_none(), "the key is never shown again");
    assert!(key.starts_with(list["data"][0]["prefix"].as_str().unwrap()));

    use sea_orm::EntityTrait;
    let row = entities::api_key::Entity::find().all(&app.db).await.unwrap().remove(0);
    assert_ne!(row.key_hash, key);
    assert!(!row.key_hash.contains(&key[4..]));

    let (status, me) = app.get("/api/v1/auth/me", &key).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["apiKeyId"], id.as_str());
    assert_eq!(me["data"]["organization"]["id"], org.org_id.as_str());

    let (status, updated) =
        app.patch(&format!("/api/v1/api-keys/{id}"), &org.token, json!({"isActive": false, "name": "old"})).await;
    assert_eq!(status, 200);
    assert_eq!(updated["data"]["isActive"], false);
    assert_eq!(app.get("/api/v1/auth/me", &key).await.0, 401);

    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), &org.token).await.0, 204);
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), &org.token).await.0, 404);
}

#[actix_web::test]
async fn roles_are_enforced_and_keys_of_another_org_are_not_found() {
    let app = spawn_app().await;
    let a = app.register("A").await;
    let b = app.register("B").await;

    let (_, agent_key) = app.post("/api/v1/api-keys", &a.token, json!({"name": "agent", "role": "AGENT"})).await;
    let agent_key = agent_key["data"]["key"].as_str().unwrap().to_owned();
    let (status, body) = app.get("/api/v1/api-keys", &agent_key).await;
    assert_eq!(status, 403, "an AGENT may not manage keys: {body}");
    assert_eq!(app.post("/api/v1/api-keys", &agent_key, json!({"name": "x"})).await.0, 403);
    assert_eq!(app.get("/api/v1/conversations", &agent_key).await.0, 200, "but may use the inbox");

    let (status, body) = app.post("/api/v1/api-keys", &a.token, json!({"name": "x", "role": "SUPER_ADMIN"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "role");
    let (status, body) = app.post("/api/v1/api-keys", &a.token, json!({"name": ""})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "name");

    let (_, created) = app.post("/api/v1/api-keys", &a.token, json!({"name": "mine"})).await;
    let id = created["data"]["id"].as_str().unwrap();
    assert_eq!(app.patch(&format!("/api/v1/api-keys/{id}"), &b.token, json!({"name": "stolen"})).await.0, 404);
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), &b.token).await.0, 404);
    let (_, list_b) = app.get("/api/v1/api-keys", &b.token).await;
    assert_eq!(list_b["data"].as_array().unwrap().len(), 0);
}

#[actix_web::test]
async fn a_key_never_has_more_rights_than_its_creator_has_now() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let admin = crate::users::add_member(&app, &org, "ADMIN").await;
    let (s, created) = app.post("/api/v1/api-keys", &admin.token, json!({"name": "theirs", "role": "ADMIN"})).await;
    assert_eq!(s, 201, "{created}");
    let key = created["data"]["key"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/api-keys", &key).await.0, 200);
    // Their creator becomes an agent: so does the key.
    let (s, _) = app.patch(&format!("/api/v1/users/{}", admin.id), &org.token, json!({"role": "AGENT"})).await;
    assert_eq!(s, 200);
    assert_eq!(app.get("/api/v1/api-keys", &key).await.0, 403);
    assert_eq!(app.get("/api/v1/conversations", &key).await.0, 200, "still an agent's key");
}

#[actix_web::test]
async fn a_revoked_keys_open_socket_is_closed() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (_, created) = app.post("/api/v1/api-keys", &org.token, json!({"name": "crm"})).await;
    let key = created["data"]["key"].as_str().unwrap().to_owned();
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let mut socket = app.socket(&key, None).await;
    let mut other = app.socket(&org.token, None).await;
    let (s, _) = app.patch(&format!("/api/v1/api-keys/{id}"), &org.token, json!({"isActive": false})).await;
    assert_eq!(s, 200);
    assert!(socket.closed_by_server(std::time::Duration::from_secs(3)).await, "the key's socket stays open");
    let heard = other.until(std::time::Duration::from_secs(3), |e| e["event"] == "api_key.revoked").await;
    assert!(heard.is_some(), "admins hear of it");
    assert!(!other.closed_by_server(std::time::Duration::from_millis(300)).await, "other sockets stay");
}
