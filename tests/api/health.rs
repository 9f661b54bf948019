use crate::helpers::spawn_app;

#[actix_web::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/api/v1/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["data"]["status"], "ok");

    let res = app.client.get(app.url("/api/v1/ready")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["data"]["database"], "ok");
}

#[actix_web::test]
async fn the_openapi_document_covers_every_route_and_the_docs_page_serves() {
    let app = spawn_app().await;
    let spec: serde_json::Value =
        app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/api/v1/health",
        "/api/v1/ready",
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/me",
        "/api/v1/auth/set-password",
        "/api/v1/auth/complete-onboarding",
        "/api/v1/api-keys",
        "/api/v1/api-keys/{id}",
        "/api/v1/whatsapp-accounts",
        "/api/v1/whatsapp-accounts/connect-manual",
        "/api/v1/whatsapp-accounts/{id}",
        "/api/v1/conversations",
        "/api/v1/conversations/{id}",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/conversations/{id}/takeover",
        "/api/v1/conversations/{id}/assign",
        "/api/v1/conversations/{id}/resolve",
        "/api/v1/conversations/{id}/read",
        "/api/v1/ws",
        "/webhooks/whatsapp",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());

    let docs = app.client.get(app.url("/api/v1/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().to_lowercase().contains("swagger"));
}

#[actix_web::test]
async fn unknown_routes_are_json_404s() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/api/v1/no-such-thing")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}
