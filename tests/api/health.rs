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
        let prefix = if file.contains("src/api/compat/cekat/")
            || file.ends_with("src/api/widget.rs")
            || file.ends_with("src/api/metrics.rs")
        {
            // Registered next to the webhooks (the Cekat surface by `api::compat::routes`, the
            // widget's page, REST and socket and the metrics scrape at the site's root), not in the
            // `/api/v1` scope.
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

/// The value of the first sample of `name` whose labels contain `labels`, 0 when absent.
fn sample(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| l.contains(labels))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

#[actix_web::test]
async fn metrics_are_off_without_a_token_and_count_what_happened_with_one() {
    let off = spawn_app().await;
    let res = off.client.get(off.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404, "no token configured: no /metrics (and not the web app)");

    let app = crate::helpers::spawn_app_with(|c| c.metrics_token = Some("scrape-secret".into())).await;
    let scrape = || async {
        let res = app.client.get(app.url("/metrics")).bearer_auth("scrape-secret").send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        res.text().await.unwrap()
    };
    assert_eq!(app.client.get(app.url("/metrics")).send().await.unwrap().status(), 401);
    assert_eq!(app.client.get(app.url("/metrics")).bearer_auth("wrong").send().await.unwrap().status(), 401);
    // The recorder is one per process (other tests' servers count into it too): compare deltas.
    let before = scrape().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let socket = app.socket(&org.token, None).await;
    let conv = app.customer_says(&org, &account, "15553330001", "count me").await;
    let (status, sent) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            serde_json::json!({"type": "text", "text": "hi"}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let (status, _) = app.post_webhook_raw(b"{}".to_vec(), Some("sha256=00")).await;
    assert_eq!(status, 401);
    let after = scrape().await;

    let grew = |name: &str, labels: &str| sample(&after, name, labels) - sample(&before, name, labels);
    assert!(grew("cx_webhook_messages_total", "outcome=\"stored\"") >= 1.0, "{after}");
    assert!(grew("cx_webhook_requests_refused_total", "reason=\"signature\"") >= 1.0, "{after}");
    assert!(grew("cx_committed_events_total", "") >= 1.0, "{after}");
    assert!(sample(&after, "cx_commit_seconds_count", "") >= 1.0, "{after}");
    assert!(grew("cx_outbox_sends_total", "outcome=\"sent\"") >= 1.0, "{after}");
    // Gauges other tests' servers move too (and the recorder starts with the first server that
    // has a token, after some of their sockets opened): present, not a value.
    for gauge in [
        "cx_sockets{kind=\"agent\"}",
        "cx_db_connections{state=\"idle\"}",
        "cx_db_admission{state=\"waiting\"}",
        "cx_live_conversations",
        "cx_outbox_backlog{status=\"pending\"}",
        "cx_conversation_mailbox",
    ] {
        assert!(after.contains(gauge), "{gauge} missing: {after}");
    }
    socket.close().await;
}

/// The metric names in `text` (`cx_…`), histogram series folded into their metric.
fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for (i, _) in text.match_indices("cx_") {
        let name: String =
            text[i..].chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_').collect();
        let name =
            ["_bucket", "_count", "_sum"].iter().fold(name, |n, s| n.strip_suffix(s).map(str::to_owned).unwrap_or(n));
        out.insert(name);
    }
    out
}

#[test]
fn every_metric_the_readme_lists_is_on_the_dashboard_and_in_the_code() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let table = readme.split("### Metrics").nth(1).unwrap().split("\n## ").next().unwrap();
    let listed = metric_names(table);
    let dashboard = metric_names(&std::fs::read_to_string(root.join("docs/grafana/cx-inbox.json")).unwrap());
    assert_eq!(listed, dashboard, "the README's metrics table and the Grafana dashboard name different metrics");
    let code: String =
        ["src", "actors/src"].iter().flat_map(|dir| crate::layers::rust_files(dir)).map(|(_, text)| text).collect();
    let recorded: std::collections::BTreeSet<String> = metric_names(&code);
    let missing: Vec<&String> = listed.iter().filter(|m| !recorded.contains(*m)).collect();
    assert!(missing.is_empty(), "listed in the README but recorded nowhere: {missing:?}");
}
