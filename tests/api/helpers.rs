//! The test harness: a real server on port 0 (SQLite in a temp dir, or a fresh PostgreSQL
//! database when `CX_TEST_DATABASE_URL` is set), a fake Graph API, signed webhooks, and agent
//! sockets.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use cx_inbox::channels::whatsapp::signature;
use cx_inbox::config::Config;
use cx_inbox::startup::Application;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
/// A token the fake Graph API rejects with OAuth error 190.
pub const BAD_TOKEN: &str = "bad-token";

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A number unique within this test process.
pub fn unique() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed) + (std::process::id() as u64) * 1_000_000
}

pub struct TestApp {
    /// The configuration the server was built with (kept for restarts).
    pub config: Config,
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub graph: FakeGraph,
    pub db: sea_orm::DatabaseConnection,
    /// The server's own state: its runtime, for looking at actors.
    pub state: actix_web::web::Data<cx_inbox::state::AppState>,
    handle: ServerHandle,
    _dir: tempfile::TempDir,
    pg_database: Option<(String, String)>,
}

/// A registered organization and its admin.
#[derive(Clone, Debug)]
pub struct Org {
    pub org_id: String,
    pub user_id: String,
    pub token: String,
    pub refresh_token: String,
}

/// A connected WhatsApp account.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub phone_number_id: String,
    pub access_token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server with the test defaults, adjusted by `tweak`.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let database = match pg_base() {
        Some(base) => Database::Postgres(create_pg_database(&base).await),
        None => Database::Sqlite,
    };
    spawn_node(database, FakeGraph::start(), tweak).await
}

/// The PostgreSQL server tests run against, when `CX_TEST_DATABASE_URL` is set.
pub fn pg_base() -> Option<String> {
    std::env::var("CX_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// The Redis cluster tests run against, when `CX_TEST_REDIS_URL` is set.
pub fn redis_url() -> Option<String> {
    std::env::var("CX_TEST_REDIS_URL").ok().filter(|u| !u.is_empty())
}

/// Where a test node keeps its data.
pub enum Database {
    /// A file in the node's temp dir.
    Sqlite,
    /// A database this node created and drops: (server URL, database URL, name).
    Postgres((String, String, String)),
    /// A database another node owns (cluster tests).
    Shared(String),
}

/// Starts one node on `database`, sending to `graph`.
pub async fn spawn_node(database: Database, graph: FakeGraph, tweak: impl FnOnce(&mut Config)) -> TestApp {
    cx_inbox::install_crypto_provider();
    // `CX_TEST_LOG=warn cargo test …` shows the servers' logs.
    if let Ok(filter) = std::env::var("CX_TEST_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg_database) = match database {
        Database::Sqlite => (format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()), None),
        Database::Postgres((base, url, name)) => (url, Some((base, name))),
        Database::Shared(url) => (url, None),
    };
    let mut config = Config::defaults();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.data_dir = dir.path().to_owned();
    config.database_url = Some(database_url.clone());
    config.database_pool = 8;
    config.whatsapp_graph_url = graph.url.clone();
    config.whatsapp_app_secret = Some(APP_SECRET.into());
    config.whatsapp_verify_token = Some(VERIFY_TOKEN.into());
    config.whatsapp_timeout = 5;
    config.workers = Some(2);
    config.jwt_secret = None;
    config.secrets_key = None;
    config.redis_url = None;
    // The dev mailbox (how tests read invitations and codes) on both databases.
    config.dev_endpoints = Some(true);
    tweak(&mut config);
    let app = Application::build(config.clone()).await.expect("server builds");
    let port = app.port();
    let handle = app.handle();
    let state = app.state();
    actix_web::rt::spawn(app.run_until_stopped());
    let db = sea_orm::Database::connect(database_url).await.unwrap();
    TestApp {
        config,
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
        graph,
        db,
        state,
        handle,
        _dir: dir,
        pg_database,
    }
}

/// Cluster settings shared by every node of a test cluster.
#[derive(Clone)]
pub struct ClusterSpec {
    pub database_url: String,
    pub redis_url: String,
    pub prefix: String,
    pub jwt_secret: String,
    pub secrets_key: String,
    pub lease_ms: u64,
}

impl ClusterSpec {
    pub fn apply(&self, c: &mut Config, node: usize) {
        c.database_url = Some(self.database_url.clone());
        c.redis_url = Some(self.redis_url.clone());
        c.redis_prefix = self.prefix.clone();
        c.jwt_secret = Some(self.jwt_secret.clone());
        c.secrets_key = Some(self.secrets_key.clone());
        c.lease_ms = self.lease_ms;
        c.node_id = Some(format!("{}-n{node}", self.prefix));
    }

    /// The node's configuration as environment variables, for a node run as a process.
    pub fn env(&self, node: usize, graph_url: &str, data_dir: &std::path::Path, port: u16) -> Vec<(String, String)> {
        vec![
            ("CX_BIND".into(), format!("127.0.0.1:{port}")),
            ("CX_DATA_DIR".into(), data_dir.display().to_string()),
            ("CX_DATABASE_URL".into(), self.database_url.clone()),
            ("CX_REDIS_URL".into(), self.redis_url.clone()),
            ("CX_REDIS_PREFIX".into(), self.prefix.clone()),
            ("CX_JWT_SECRET".into(), self.jwt_secret.clone()),
            ("CX_SECRETS_KEY".into(), self.secrets_key.clone()),
            ("CX_LEASE_MS".into(), self.lease_ms.to_string()),
            ("CX_NODE_ID".into(), format!("{}-n{node}", self.prefix)),
            ("CX_WHATSAPP_GRAPH_URL".into(), graph_url.to_owned()),
            ("CX_WHATSAPP_APP_SECRET".into(), APP_SECRET.into()),
            ("CX_WHATSAPP_VERIFY_TOKEN".into(), VERIFY_TOKEN.into()),
            ("CX_WORKERS".into(), "2".into()),
            ("CX_LOG".into(), "warn".into()),
        ]
    }
}

/// A cluster of `n` in-process nodes on one fresh PostgreSQL database and one Redis (under a
/// prefix of its own), or `None` when the environment offers no PostgreSQL and Redis.
pub async fn spawn_cluster(n: usize, redis: Option<String>) -> Option<(ClusterSpec, Vec<TestApp>)> {
    let (Some(base), Some(redis_url)) = (pg_base(), redis.or_else(redis_url)) else {
        let required = std::env::var("CX_TEST_CLUSTER").is_ok_and(|v| v == "required");
        assert!(!required, "CX_TEST_CLUSTER=required but CX_TEST_DATABASE_URL or CX_TEST_REDIS_URL is not set");
        let test = std::thread::current().name().unwrap_or("a cluster test").to_owned();
        skipped(&test, "it needs CX_TEST_DATABASE_URL and CX_TEST_REDIS_URL (the PostgreSQL run of .ci/run sets them)");
        return None;
    };
    let (base, url, name) = create_pg_database(&base).await;
    use base64::Engine;
    let spec = ClusterSpec {
        database_url: url.clone(),
        redis_url,
        prefix: format!("cxt{}", unique()),
        jwt_secret: format!("cluster-jwt-{:032}", unique()),
        secrets_key: base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
        lease_ms: 1000,
    };
    let graph = FakeGraph::start();
    let mut nodes = Vec::new();
    for i in 0..n {
        let db = if i == 0 {
            Database::Postgres((base.clone(), url.clone(), name.clone()))
        } else {
            Database::Shared(url.clone())
        };
        let s = spec.clone();
        nodes.push(spawn_node(db, graph.clone(), move |c| s.apply(c, i)).await);
    }
    Some((spec, nodes))
}

/// Says on the terminal that a test did not run and why. Written to stderr directly: the test
/// harness captures `eprintln!` of passing tests, which would hide the skip.
pub fn skipped(what: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}: {why}");
}

/// A cx-inbox run as a separate process (the test binary's), so it can be killed for real.
pub struct ProcessNode {
    child: std::process::Child,
    pub address: String,
    _dir: tempfile::TempDir,
}

impl ProcessNode {
    /// Starts one on 127.0.0.1 with the environment `env(data_dir, port)` gives, and waits until
    /// it answers.
    pub async fn start(env: impl FnOnce(&std::path::Path, u16) -> Vec<(String, String)>) -> ProcessNode {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_cx-inbox"))
            .envs(env(dir.path(), port))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let address = format!("http://127.0.0.1:{port}");
        wait_until_up(&address).await;
        ProcessNode { child, address, _dir: dir }
    }

    /// SIGKILL: no shutdown, no lease release.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ProcessNode {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// POSTs `payload` to `address`'s WhatsApp webhook signed with the test app secret, as Meta
/// would; the answer's status.
pub async fn post_signed_webhook(
    client: &reqwest::Client,
    address: &str,
    payload: &Value,
) -> Result<u16, reqwest::Error> {
    let body = serde_json::to_vec(payload).unwrap();
    let sig = signature::sign(APP_SECRET.as_bytes(), &body);
    let res = client
        .post(format!("{address}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .timeout(Duration::from_secs(15))
        .send()
        .await?;
    Ok(res.status().as_u16())
}

/// Waits (up to 10 s) until a server started as a process answers its health check.
pub async fn wait_until_up(address: &str) {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{address}/api/v1/health")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub async fn create_pg_database(base: &str) -> (String, String, String) {
    use sea_orm::ConnectionTrait;
    let name = format!("cx_test_{}", uuid::Uuid::now_v7().simple());
    let admin = sea_orm::Database::connect(base).await.expect("CX_TEST_DATABASE_URL reachable");
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
    admin.close().await.ok();
    let url = match base.rfind('/') {
        Some(i) if base[..i].ends_with('/') => format!("{base}/{name}"),
        Some(i) => format!("{}/{name}", &base[..i]),
        None => format!("{base}/{name}"),
    };
    (base.to_owned(), url, name)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent when the future is made; nothing here can await it.
        drop(self.handle.stop(false));
        if let Some((base, name)) = self.pg_database.take() {
            // Dropped from a thread of its own: this may run inside the test's runtime.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                rt.block_on(async move {
                    use sea_orm::ConnectionTrait;
                    if let Ok(admin) = sea_orm::Database::connect(&base).await {
                        let _ =
                            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

impl TestApp {
    /// Stops the server (gracefully) and starts a new one on the same database, data directory
    /// and fake Graph API.
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        self.state.rt.shutdown();
        let app = Application::build(self.config.clone()).await.expect("server rebuilds");
        self.port = app.port();
        self.address = format!("http://127.0.0.1:{}", self.port);
        self.handle = app.handle();
        self.state = app.state();
        actix_web::rt::spawn(app.run_until_stopped());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let res = self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        status_json(res).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let res = self.client.post(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        status_json(res).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let res = self.client.patch(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        status_json(res).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let res = self.client.put(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        status_json(res).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        let res = self.client.delete(self.url(path)).bearer_auth(token).send().await.unwrap();
        status_json(res).await
    }

    pub async fn post_anon(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self.client.post(self.url(path)).json(&body).send().await.unwrap();
        status_json(res).await
    }

    /// Registers a new organization with a unique admin email.
    pub async fn register(&self, company: &str) -> Org {
        let n = unique();
        self.register_as(company, &format!("Admin {n}"), &format!("admin{n}@example.com"), "s3cret-pass").await
    }

    /// Registers a new organization whose admin signs in with this email and password.
    pub async fn register_as(&self, company: &str, name: &str, email: &str, password: &str) -> Org {
        let (status, body) = self
            .post_anon(
                "/api/v1/auth/register",
                json!({"companyName": company, "name": name, "email": email, "password": password}),
            )
            .await;
        assert_eq!(status, 201, "register: {body}");
        Org {
            org_id: body["data"]["organization"]["id"].as_str().unwrap().into(),
            user_id: body["data"]["user"]["id"].as_str().unwrap().into(),
            token: body["data"]["accessToken"].as_str().unwrap().into(),
            refresh_token: body["data"]["refreshToken"].as_str().unwrap().into(),
        }
    }

    /// Connects a WhatsApp number with a fresh phone number id and token.
    pub async fn connect_account(&self, org: &Org) -> Account {
        let n = unique();
        let phone_number_id = format!("1{n:014}");
        let access_token = format!("EAAG-token-{n}");
        let (status, body) = self
            .post(
                "/api/v1/whatsapp-accounts/connect-manual",
                &org.token,
                json!({"wabaId": format!("9{n}"), "phoneNumberId": phone_number_id, "accessToken": access_token}),
            )
            .await;
        assert_eq!(status, 201, "connect: {body}");
        Account { id: body["data"]["id"].as_str().unwrap().into(), phone_number_id, access_token }
    }

    /// Makes a user SUPER_ADMIN (no API does: the CLI's create-admin makes the first one).
    pub async fn make_super_admin(&self, user_id: &str) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        entities::user::Entity::update_many()
            .col_expr(entities::user::Column::Role, Expr::value("SUPER_ADMIN"))
            .filter(entities::user::Column::Id.eq(user_id))
            .exec(&self.db)
            .await
            .unwrap();
    }

    /// Posts a webhook signed with the app secret.
    pub async fn post_webhook(&self, payload: &Value) -> (u16, Value) {
        let body = serde_json::to_vec(payload).unwrap();
        let sig = signature::sign(APP_SECRET.as_bytes(), &body);
        let res = self
            .client
            .post(self.url("/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
            .await
            .unwrap();
        status_json(res).await
    }

    /// Posts raw bytes with the given signature header (or none).
    pub async fn post_webhook_raw(&self, body: Vec<u8>, signature: Option<&str>) -> (u16, Value) {
        let mut req =
            self.client.post(self.url("/webhooks/whatsapp")).header("content-type", "application/json").body(body);
        if let Some(s) = signature {
            req = req.header("x-hub-signature-256", s);
        }
        status_json(req.send().await.unwrap()).await
    }

    /// A customer's text message arrives; returns the conversation id it landed in.
    pub async fn customer_says(&self, org: &Org, account: &Account, wa_id: &str, text: &str) -> String {
        let wamid = format!("wamid.{}", unique());
        let (status, body) =
            self.post_webhook(&text_webhook(&account.phone_number_id, wa_id, "Customer", &wamid, text)).await;
        assert_eq!(status, 200, "webhook: {body}");
        self.conversation_of(org, wa_id).await
    }

    /// The newest conversation with this customer.
    pub async fn conversation_of(&self, org: &Org, wa_id: &str) -> String {
        let (_, list) = self.get("/api/v1/conversations?limit=100", &org.token).await;
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["contact"]["waId"] == wa_id)
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no conversation for {wa_id}: {list}"))
    }

    /// All messages of a conversation, oldest first.
    pub async fn messages(&self, org: &Org, conversation_id: &str) -> Vec<Value> {
        let (status, body) =
            self.get(&format!("/api/v1/conversations/{conversation_id}/messages?limit=100"), &org.token).await;
        assert_eq!(status, 200, "messages: {body}");
        body["data"].as_array().unwrap().clone()
    }

    /// Opens an agent socket.
    pub async fn socket(&self, token: &str, since: Option<&str>) -> AgentSocket {
        let mut url = format!("ws://127.0.0.1:{}/api/v1/ws?token={token}", self.port);
        if let Some(s) = since {
            url.push_str(&format!("&since={s}"));
        }
        let (stream, _) = tokio_tungstenite::connect_async(url).await.expect("socket connects");
        AgentSocket { stream }
    }

    /// Counts rows of a table.
    pub async fn count(&self, table: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}")))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

pub async fn status_json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The webhook Meta sends for one message of any type.
pub fn message_webhook(phone_number_id: &str, wa_id: &str, name: &str, message: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "WABA",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550100", "phone_number_id": phone_number_id},
                    "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                    "messages": [message]
                }
            }]
        }]
    })
}

pub fn text_webhook(phone_number_id: &str, wa_id: &str, name: &str, wamid: &str, text: &str) -> Value {
    let ts = chrono::Utc::now().timestamp().to_string();
    message_webhook(
        phone_number_id,
        wa_id,
        name,
        json!({"from": wa_id, "id": wamid, "timestamp": ts, "type": "text", "text": {"body": text}}),
    )
}

pub fn status_webhook(
    phone_number_id: &str,
    wamid: &str,
    recipient: &str,
    status: &str,
    errors: Option<Value>,
) -> Value {
    let mut st = json!({"id": wamid, "status": status, "timestamp": chrono::Utc::now().timestamp().to_string(), "recipient_id": recipient});
    if let Some(e) = errors {
        st["errors"] = e;
    }
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100", "phone_number_id": phone_number_id},
            "statuses": [st]
        }}]}]
    })
}

/// An agent's WebSocket.
pub struct AgentSocket {
    stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl AgentSocket {
    /// The next event, or `None` after `wait` of silence.
    /// Whether the server closes the socket within `wait` (skipping any events before).
    pub async fn closed_by_server(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(WsMessage::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(_))) => continue,
                Err(_) => return false,
            }
        }
    }

    pub async fn next_event(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Ok(Some(Ok(WsMessage::Text(t)))) => return serde_json::from_str(&t).ok(),
                Ok(Some(Ok(WsMessage::Close(_)))) | Ok(None) | Err(_) => return None,
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_))) => return None,
            }
        }
    }

    /// Sends a text frame (the agent typing, say).
    pub async fn send_text(&mut self, text: String) {
        self.stream.send(WsMessage::Text(text.into())).await.unwrap();
    }

    /// Events until `wait` passes with none.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(e) = self.next_event(wait).await {
            out.push(e);
        }
        out
    }

    /// Events until `pred` holds for one (included), or `None` if `wait` passes first.
    pub async fn until(&mut self, wait: Duration, pred: impl Fn(&Value) -> bool) -> Option<Vec<Value>> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let e = self.next_event(left).await?;
            let done = pred(&e);
            out.push(e);
            if done {
                return Some(out);
            }
        }
    }

    /// Events until `n` events named `name` arrived (all events returned), or `None` on timeout.
    pub async fn until_count(&mut self, wait: Duration, name: &str, n: usize) -> Option<Vec<Value>> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        while out.iter().filter(|e: &&Value| e["event"] == name).count() < n {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            out.push(self.next_event(left).await?);
        }
        Some(out)
    }

    pub async fn close(mut self) {
        let _ = self.stream.send(WsMessage::Close(None)).await;
    }

    /// Keeps the connection alive in the background (reading answers the server's pings) for
    /// sockets a test holds open but does not read; closing the returned handle closes it.
    pub fn keep_alive(self) -> LiveSocket {
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let mut stream = self.stream;
        actix_web::rt::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => {
                        let _ = stream.send(WsMessage::Close(None)).await;
                        return;
                    }
                    frame = stream.next() => if frame.is_none() { return },
                }
            }
        });
        LiveSocket { stop: Some(stop) }
    }
}

/// A socket kept alive in the background; dropping or closing it closes the connection.
pub struct LiveSocket {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl LiveSocket {
    pub fn close(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Drop for LiveSocket {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// One request the fake Graph API received.
#[derive(Clone, Debug)]
pub struct GraphRequest {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

/// A scripted answer for the next send.
#[derive(Clone, Debug)]
pub struct Scripted {
    pub status: u16,
    pub body: Value,
}

#[derive(Default)]
pub struct GraphState {
    requests: Vec<GraphRequest>,
    /// Delay before answering a send, to stand in for a slow Graph API.
    delay: Duration,
    /// Media ids starting `MEDBROKEN` are not found while this is set.
    broken_media: bool,
    script: Vec<Scripted>,
    sent: u64,
    templates: super::fake_graph_templates::TemplateFake,
    sends: super::fake_graph_sends::SendFake,
    /// Meta's side of Embedded Signup, account health and registration (fake_graph_accounts).
    pub accounts: crate::fake_graph_accounts::AccountsGraph,
}

/// A fake of Meta's Graph API: records every request, answers sends with fresh wamids, and
/// plays scripted failures first.
#[derive(Clone)]
pub struct FakeGraph {
    pub url: String,
    pub state: Arc<Mutex<GraphState>>,
}

/// Starts a stand-in for an outside service (Meta's Graph API, a model provider) on a free
/// loopback port: every request goes to `handler`, which reads the shared `state` as
/// `web::Data<Mutex<S>>`. Answers its address, `http://127.0.0.1:<port>`.
pub fn serve_fake<S, F, Args>(state: Arc<Mutex<S>>, handler: F) -> String
where
    S: Send + 'static,
    F: actix_web::Handler<Args> + Clone + Send + 'static,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let data = web::Data::from(state);
    let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(handler.clone())))
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
    actix_web::rt::spawn(server);
    url
}

impl FakeGraph {
    pub fn start() -> FakeGraph {
        let state = Arc::new(Mutex::new(GraphState::default()));
        FakeGraph { url: serve_fake(state.clone(), fake_graph), state }
    }

    /// The next sends answer these, in order.
    pub fn script(&self, answers: Vec<Scripted>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// Whether media ids starting `MEDBROKEN` are missing on the Graph API.
    pub fn break_media(&self, broken: bool) {
        self.state.lock().unwrap().broken_media = broken;
    }

    /// Answers sends only after `delay`.
    pub fn slow_down(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    pub fn requests(&self) -> Vec<GraphRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Sends the fake accepted (answered with a wamid).
    pub fn accepted_sends(&self) -> u64 {
        self.state.lock().unwrap().sent
    }

    /// Meta's copy of the templates: what it was sent, and how it answers.
    pub fn templates<R>(&self, f: impl FnOnce(&mut super::fake_graph_templates::TemplateFake) -> R) -> R {
        f(&mut self.state.lock().unwrap().templates)
    }

    /// Meta's sending side: throughput, failing recipients, accepted sends, status webhooks.
    pub fn sending<R>(&self, f: impl FnOnce(&mut super::fake_graph_sends::SendFake) -> R) -> R {
        f(&mut self.state.lock().unwrap().sends)
    }

    /// Sends `sent` status webhooks for accepted sends to `server` (its base URL), as Meta does.
    pub fn send_statuses_to(&self, server: &str) {
        let outgoing = {
            let mut s = self.state.lock().unwrap();
            s.sends.webhook_url = Some(format!("{server}/webhooks/whatsapp"));
            s.sends.outgoing.clone()
        };
        super::fake_graph_sends::deliver(format!("{server}/webhooks/whatsapp"), outgoing);
    }

    /// Requests to a `/messages` endpoint.
    pub fn sends(&self) -> Vec<GraphRequest> {
        self.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/messages")).collect()
    }
}

// The state's guard is dropped before the one await that follows it (a held answer).
#[allow(clippy::await_holding_lock)]
async fn fake_graph(req: HttpRequest, body: web::Bytes, state: web::Data<Mutex<GraphState>>) -> HttpResponse {
    let authorization = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let record = GraphRequest {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        authorization: authorization.clone(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let delay = {
        let mut s = state.lock().unwrap();
        s.requests.push(record.clone());
        s.delay
    };
    if record.method == "POST" && !delay.is_zero() {
        actix_web::rt::time::sleep(delay).await;
    }
    let mut guard = state.lock().unwrap();
    let s = &mut *guard;
    if let Some(answer) =
        super::fake_graph_templates::handle(&req, &record, &mut s.templates, &s.requests, &s.sends.fail_to)
    {
        return answer;
    }
    if authorization.as_deref() == Some(&format!("Bearer {BAD_TOKEN}")) {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"message": "Invalid OAuth access token - Cannot parse access token", "type": "OAuthException", "code": 190}}));
    }
    if let Some(answer) = crate::fake_graph_accounts::answer(&req, &record, &mut s.accounts) {
        return answer;
    }
    if record.method == "GET" && record.path.starts_with("/media-download/") {
        let id = record.path.trim_start_matches("/media-download/");
        return HttpResponse::Ok().content_type("image/jpeg").body(format!("bytes of {id}"));
    }
    if record.method == "GET" && record.path.rsplit('/').next().is_some_and(|id| id.starts_with("MED")) {
        let id = record.path.rsplit('/').next().unwrap_or_default().to_owned();
        if id.starts_with("MEDBROKEN") && s.broken_media {
            return HttpResponse::NotFound()
                .json(json!({"error": {"message": "Unsupported get request. Object does not exist", "code": 100}}));
        }
        let host = req.connection_info().host().to_owned();
        return HttpResponse::Ok().json(json!({
            "url": format!("http://{host}/media-download/{id}"),
            "mime_type": "image/jpeg",
            "sha256": "0",
            "file_size": 10,
            "id": id,
            "messaging_product": "whatsapp"
        }));
    }
    if record.method == "GET" {
        let id = record.path.rsplit('/').next().unwrap_or_default().to_owned();
        return HttpResponse::Ok()
            .json(json!({"display_phone_number": "+1 555-0100", "verified_name": "Test Co", "id": id}));
    }
    if record.method == "POST" && record.path.ends_with("/media") {
        let n = s.requests.len();
        return HttpResponse::Ok().json(json!({"id": format!("MEDUP{n}")}));
    }
    if record.path.ends_with("/messages") {
        if !s.script.is_empty() {
            let answer = s.script.remove(0);
            return HttpResponse::build(actix_web::http::StatusCode::from_u16(answer.status).unwrap())
                .json(answer.body);
        }
        if let Some(refused) = super::fake_graph_sends::refuse(&record, &mut s.sends) {
            return refused;
        }
        s.sent += 1;
        let wamid = format!("wamid.FAKE{}", s.sent);
        let hold = super::fake_graph_sends::accepted(&record, &wamid, &mut s.sends);
        drop(guard);
        if hold {
            actix_web::rt::time::sleep(Duration::from_secs(30)).await;
        }
        let to = record.body["to"].clone();
        return HttpResponse::Ok().json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid}]
        }));
    }
    HttpResponse::NotFound().json(json!({"error": {"message": "unknown path", "code": 100}}))
}
