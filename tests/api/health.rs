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
    // Every route a handler declares (`#[get("…")]` and the like, anywhere in src/) is in the
    // document with its method: a new route is covered without editing a list.
    let routes = declared_routes();
    assert!(routes.len() > 150, "only {} routes found: is the scan right?", routes.len());
    let mut missing = Vec::new();
    for (method, path, prefix) in &routes {
        // Node-to-node forwarding in a cluster: not part of the public API.
        if path.starts_with("/internal/") {
            continue;
        }
        // The webhooks are served where declared, the rest under their scope's prefix.
        let full = if path.starts_with("/webhooks/") { path.clone() } else { format!("{prefix}{path}") };
        if !spec["paths"][&full][method].is_object() {
            missing.push(format!("{} {full}", method.to_uppercase()));
        }
    }
    assert!(missing.is_empty(), "served but missing from the OpenAPI document: {missing:?}");
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

/// (method, path, whether it is a compatible surface's route outside `/api/v1`) of every
/// `#[get("…")]`, `#[post("…")]`, … in the Rust files of src/.
/// Each route a handler declares: its method, its path as declared, and the prefix of the scope
/// it is registered in.
fn declared_routes() -> Vec<(String, String, &'static str)> {
    let mut out = Vec::new();
    for (file, text) in crate::layers::rust_files("src") {
        let file = file.to_string_lossy().into_owned();
        let prefix = if file.contains("src/api/compat/cekat/") || file.ends_with("src/api/widget.rs") {
            // Registered next to the webhooks (the Cekat surface by `api::compat::routes`, the
            // widget's page, REST and socket at the site's root), not in the `/api/v1` scope.
            ""
        } else if file.contains("src/api/compat/chatwoot/") {
            // The Chatwoot-style scope inside `/api/v1`.
            "/api/v1/accounts/{account_id}"
        } else {
            "/api/v1"
        };
        for line in text.lines().map(str::trim) {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{method}(\""))
                    && let Some((route, _)) = rest.split_once('"')
                {
                    out.push((method.to_owned(), route.to_owned(), prefix));
                }
            }
        }
    }
    out
}
