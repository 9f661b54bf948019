//! Child processes (cx-inbox nodes and baseline servers), the fake Graph API, scratch
//! databases, and the HTTP setup every scenario needs (register, connect a number, webhooks).

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::Result;

/// The Meta app secret every node is started with; webhooks are signed with it.
pub const APP_SECRET: &str = "lt-app-secret";

/// The PostgreSQL server whose `test` database is used to create scratch databases.
pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const PG_BASE_URL: &str = "postgres://postgres@127.0.0.1:5432";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

pub fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `target/release/cx-inbox`, built first if it is missing. An existing binary is used as is,
/// so the numbers are for whatever was last built in release mode.
pub async fn ensure_server_binary() -> Result<PathBuf> {
    let ws = workspace_dir();
    // `CX_LT_SERVER` runs another build (a debug one, say); the figures are then that build's.
    if let Some(other) = std::env::var_os("CX_LT_SERVER") {
        let bin = PathBuf::from(other).canonicalize()?;
        println!("server binary: {} (CX_LT_SERVER)", bin.display());
        return Ok(bin);
    }
    let bin = ws.join("target").join("release").join("cx-inbox");
    if !bin.exists() {
        println!("target/release/cx-inbox is missing: building it (release)…");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = tokio::process::Command::new(cargo)
            .args(["build", "--release", "-p", "cx-inbox", "--bin", "cx-inbox"])
            .current_dir(&ws)
            .status()
            .await?;
        if !status.success() {
            return Err(format!("cargo build of cx-inbox failed: {status}").into());
        }
    }
    let bin = bin.canonicalize()?;
    if let Ok(modified) = std::fs::metadata(&bin).and_then(|m| m.modified()) {
        let age = modified.elapsed().unwrap_or_default().as_secs();
        println!("server binary: {} (built {} min ago)", bin.display(), age / 60);
    }
    Ok(bin)
}

/// A free port on 127.0.0.1: bound, read and released (the child binds it right after).
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// A child process killed when the guard is dropped, so an error or panic anywhere in a
/// scenario leaves no server behind.
pub struct ChildGuard {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl ChildGuard {
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[String],
        envs: &[(String, String)],
        log: PathBuf,
    ) -> Result<ChildGuard> {
        let out = File::create(&log)?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // SAFETY: prctl is async-signal-safe. If this process is killed outright (SIGKILL, no
        // Drop runs), the kernel still takes the children down with it.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        Ok(ChildGuard { name: name.to_owned(), child, log })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Why the child is gone, if it is.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("{} exited: {status}", self.name)),
            Ok(None) => None,
            Err(e) => Some(format!("{}: {e}", self.name)),
        }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `url` until it answers 200, the child dies, or 60 s pass.
pub async fn wait_ready(client: &reqwest::Client, url: &str, child: &mut ChildGuard) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(why) = child.exited() {
            return Err(format!("{why}; log tail:\n{}", child.log_tail(20)).into());
        }
        if let Ok(r) = client.get(url).timeout(Duration::from_secs(2)).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(
                format!("{} not ready at {url} after 60 s; log tail:\n{}", child.name, child.log_tail(20)).into()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Secrets shared by every node of one scenario (a cluster's nodes must agree on them).
#[derive(Clone)]
pub struct Secrets {
    pub jwt: String,
    pub key: String,
}

impl Secrets {
    pub fn generate() -> Secrets {
        Secrets {
            jwt: hex::encode(rand::random::<[u8; 32]>()),
            key: base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>()),
        }
    }
}

pub struct NodeOpts<'a> {
    pub name: &'a str,
    pub database_url: &'a str,
    pub secrets: &'a Secrets,
    /// Extra environment (cluster mode settings).
    pub env: Vec<(String, String)>,
}

/// One running cx-inbox.
pub struct Node {
    pub child: ChildGuard,
    pub port: u16,
    pub base: String,
    _data: tempfile::TempDir,
}

impl Node {
    pub async fn start(binary: &Path, opts: NodeOpts<'_>) -> Result<Node> {
        let data = tempfile::Builder::new().prefix("lt-node-").tempdir()?;
        let port = free_port()?;
        let graph = fake_graph_url()?;
        let mut env: Vec<(String, String)> = [
            ("CX_BIND", format!("127.0.0.1:{port}")),
            ("CX_DATA_DIR", data.path().display().to_string()),
            ("CX_DATABASE_URL", opts.database_url.to_owned()),
            ("CX_WHATSAPP_APP_SECRET", APP_SECRET.to_owned()),
            ("CX_WHATSAPP_VERIFY_TOKEN", "x".to_owned()),
            ("CX_WHATSAPP_GRAPH_URL", graph),
            ("CX_JWT_SECRET", opts.secrets.jwt.clone()),
            ("CX_SECRETS_KEY", opts.secrets.key.clone()),
            // Long enough that no token expires mid-run.
            ("CX_ACCESS_TOKEN_TTL", "3600".to_owned()),
            ("CX_LOG", "warn".to_owned()),
            // JSON lines, so warnings and errors can be counted afterwards.
            ("CX_LOG_JSON", "true".to_owned()),
            ("CX_NODE_ID", opts.name.to_owned()),
            ("CX_ACTOR_IDLE_SECS", "300".to_owned()),
            // The scenarios read the server's own counters (group commits, bus repairs).
            ("CX_METRICS_TOKEN", METRICS_TOKEN.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(opts.env);
        let log = data.path().join("server.log");
        let mut child = ChildGuard::spawn(opts.name, binary, &[], &env, log)?;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        wait_ready(&client, &format!("{base}/api/v1/health"), &mut child).await?;
        Ok(Node { child, port, base, _data: data })
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn ws_url(&self, token: &str) -> String {
        format!("ws://127.0.0.1:{}/api/v1/ws?token={token}", self.port)
    }

    /// The server's metrics now (see [`Metrics`]).
    pub async fn metrics(&self, client: &reqwest::Client) -> Result<Metrics> {
        let text = client
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(Metrics::parse(&text))
    }

    /// Stops the node and summarizes its log.
    pub fn stop(mut self) -> LogSummary {
        self.child.kill();
        LogSummary::read(&self.child.log)
    }

    /// Fails if the node died.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.exited() {
            Some(why) => Err(format!("{why}; log tail:\n{}", self.child.log_tail(20)).into()),
            None => Ok(()),
        }
    }
}

/// Warnings and errors a node logged.
#[derive(Default, Debug, Clone)]
pub struct LogSummary {
    pub warn: usize,
    pub error: usize,
    /// Lines that are not JSON log records (panics, for instance).
    pub other: usize,
    pub samples: Vec<String>,
}

impl LogSummary {
    pub fn read(path: &Path) -> LogSummary {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut s = LogSummary::default();
        let mut seen = std::collections::BTreeSet::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let sample = match serde_json::from_str::<Value>(line) {
                Ok(v) => {
                    let level = v["level"].as_str().unwrap_or("");
                    match level {
                        "WARN" => s.warn += 1,
                        "ERROR" => s.error += 1,
                        _ => continue,
                    }
                    let mut fields = v["fields"].clone();
                    let msg = fields["message"].as_str().unwrap_or("").to_owned();
                    if let Some(o) = fields.as_object_mut() {
                        o.remove("message");
                    }
                    format!("{level} {msg} {fields}")
                }
                Err(_) => {
                    s.other += 1;
                    line.to_owned()
                }
            };
            let short: String = sample.chars().take(240).collect();
            // Distinct by their first words, so a thousand identical timeouts make one sample.
            let key: String = short.chars().take(60).collect();
            if s.samples.len() < 6 && seen.insert(key) {
                s.samples.push(short);
            }
        }
        s
    }

    pub fn json(&self) -> Value {
        json!({"warn": self.warn, "error": self.error, "otherLines": self.other, "samples": self.samples})
    }

    pub fn is_clean(&self) -> bool {
        self.warn == 0 && self.error == 0 && self.other == 0
    }

    pub fn describe(&self, node: &str) -> String {
        if self.is_clean() {
            format!("{node}: log clean (no warnings or errors)")
        } else {
            format!(
                "{node}: log has {} WARN, {} ERROR, {} other lines; e.g. {}",
                self.warn,
                self.error,
                self.other,
                self.samples.join(" || ")
            )
        }
    }
}

/// A baseline server: this binary with a hidden subcommand.
pub async fn start_baseline(
    name: &str,
    args: &[String],
    ready_url: Option<String>,
) -> Result<(ChildGuard, tempfile::TempDir)> {
    let dir = tempfile::Builder::new().prefix("lt-base-").tempdir()?;
    let me = std::env::current_exe()?;
    let mut child = ChildGuard::spawn(name, &me, args, &[], dir.path().join("baseline.log"))?;
    match ready_url {
        Some(url) => wait_ready(&reqwest::Client::new(), &url, &mut child).await?,
        None => tokio::time::sleep(Duration::from_millis(300)).await,
    }
    Ok((child, dir))
}

/// Waits until a TCP port accepts connections.
pub async fn wait_port(port: u16, child: &mut ChildGuard) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(why) = child.exited() {
            return Err(format!("{why}; log tail:\n{}", child.log_tail(20)).into());
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{} never listened on {port}", child.name).into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

static FAKE_GRAPH: Mutex<Option<String>> = Mutex::new(None);
static GRAPH_SENDS: AtomicU64 = AtomicU64::new(0);

/// The fake Graph API's base URL; started on first use, on a thread with its own actix System,
/// and left running until this process exits.
pub fn fake_graph_url() -> Result<String> {
    let mut slot = FAKE_GRAPH.lock().map_err(|_| "fake graph lock poisoned")?;
    if let Some(url) = slot.as_ref() {
        return Ok(url.clone());
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    let (tx, rx) = std::sync::mpsc::channel::<std::result::Result<(), String>>();
    std::thread::Builder::new().name("fake-graph".into()).spawn(move || {
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            let server = match HttpServer::new(|| App::new().default_service(web::to(fake_graph)))
                .workers(1)
                .disable_signals()
                .listen(listener)
            {
                Ok(s) => s.run(),
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            let _ = tx.send(Ok(()));
            let _ = server.await;
        });
    })?;
    rx.recv_timeout(Duration::from_secs(10)).map_err(|e| format!("fake graph did not start: {e}"))??;
    *slot = Some(url.clone());
    Ok(url)
}

async fn fake_graph(req: HttpRequest) -> HttpResponse {
    if req.method() == actix_web::http::Method::GET {
        let id = req.path().rsplit('/').next().unwrap_or_default().to_owned();
        return HttpResponse::Ok().json(json!({"display_phone_number": "+1 555", "verified_name": "LT", "id": id}));
    }
    if req.path().ends_with("/messages") {
        let n = GRAPH_SENDS.fetch_add(1, Ordering::Relaxed);
        return HttpResponse::Ok()
            .json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.X{n}")}]}));
    }
    HttpResponse::NotFound().json(json!({"error": {"message": "unknown path", "code": 100}}))
}

/// A scratch database for one node or cluster.
pub struct TestDb {
    pub kind: DbKind,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    pub fn label(self) -> &'static str {
        match self {
            DbKind::Sqlite => "SQLite",
            DbKind::Postgres => "PostgreSQL",
        }
    }
}

impl TestDb {
    pub async fn create(kind: DbKind, tag: &str) -> Result<TestDb> {
        match kind {
            DbKind::Sqlite => {
                let dir = tempfile::Builder::new().prefix("lt-db-").tempdir()?;
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("db.sqlite").display());
                Ok(TestDb { kind, url, pg_name: None, _dir: Some(dir) })
            }
            DbKind::Postgres => {
                let name = format!("lt_{tag}_{:08x}", rand::random::<u32>());
                let admin =
                    Database::connect(PG_ADMIN_URL).await.map_err(|e| format!("PostgreSQL at {PG_ADMIN_URL}: {e}"))?;
                admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
                admin.close().await.ok();
                Ok(TestDb { kind, url: format!("{PG_BASE_URL}/{name}"), pg_name: Some(name), _dir: None })
            }
        }
    }

    /// A connection from the generator, with the server's SQLite settings so the INSERT
    /// baseline pays the same fsync policy.
    pub async fn connect(&self, pool: u32) -> Result<DatabaseConnection> {
        self.connect_with(pool, false).await
    }

    /// `full`: SQLite's `synchronous=FULL`, else NORMAL.
    pub async fn connect_with(&self, pool: u32, full: bool) -> Result<DatabaseConnection> {
        let mut opts = ConnectOptions::new(self.url.clone());
        opts.max_connections(pool).min_connections(1).acquire_timeout(Duration::from_secs(30)).sqlx_logging(false);
        if self.kind == DbKind::Sqlite {
            opts.map_sqlx_sqlite_opts(move |o| {
                use sea_orm::sqlx::sqlite::SqliteSynchronous;
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(if full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal })
                    .busy_timeout(Duration::from_secs(30))
            });
        }
        Ok(Database::connect(opts).await?)
    }

    /// Drops the PostgreSQL database (FORCE: a killed node's sessions may linger briefly).
    pub async fn drop_db(mut self) {
        if let Some(name) = self.pg_name.take() {
            drop_pg(&name).await;
        }
    }
}

async fn drop_pg(name: &str) {
    if let Ok(admin) = Database::connect(PG_ADMIN_URL).await {
        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
        admin.close().await.ok();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Only on an error path: Drop cannot await, and this may run on the runtime's thread,
        // so the drop happens on a thread with a runtime of its own.
        if let Some(name) = self.pg_name.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(drop_pg(&name));
                }
            })
            .join();
        }
    }
}

/// A registered organization with a connected number.
#[derive(Clone)]
pub struct Org {
    /// The admin's sign-in (password [`ORG_PASSWORD`]), for scenarios that sign in a browser.
    pub email: String,
    pub token: String,
    pub phone_number_id: String,
}

/// The password of every organization's admin that [`setup_org`] registers.
pub const ORG_PASSWORD: &str = "load-test-password";

pub async fn setup_org(client: &reqwest::Client, base: &str) -> Result<Org> {
    let n: u32 = rand::random();
    let email = format!("lt{n}@example.com");
    let res = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({
            "companyName": format!("LT {n}"),
            "name": "Load Tester",
            "email": email,
            "password": ORG_PASSWORD,
        }))
        .send()
        .await?;
    let status = res.status();
    let body: Value = res.json().await?;
    if status.as_u16() != 201 {
        return Err(format!("register: {status} {body}").into());
    }
    let token = body["data"]["accessToken"].as_str().ok_or("register: no accessToken")?.to_owned();
    let phone_number_id = format!("1{:014}", rand::random::<u64>() % 100_000_000_000_000);
    let res = client
        .post(format!("{base}/api/v1/whatsapp-accounts/connect-manual"))
        .bearer_auth(&token)
        .json(&json!({"wabaId": "123", "phoneNumberId": phone_number_id, "accessToken": "t"}))
        .send()
        .await?;
    let status = res.status();
    if status.as_u16() != 201 {
        let text = res.text().await.unwrap_or_default();
        return Err(format!("connect-manual: {status} {text}").into());
    }
    Ok(Org { email, token, phone_number_id })
}

/// The body Meta posts for one inbound text message. Built by hand: every value here is
/// digits, dots or letters, and the generator makes thousands per second.
pub fn text_webhook(phone_number_id: &str, wa_id: &str, wamid: &str, text: &str) -> Vec<u8> {
    let ts = chrono::Utc::now().timestamp();
    format!(
        concat!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"W","changes":[{{"field":"messages","value":{{"#,
            r#""messaging_product":"whatsapp","metadata":{{"display_phone_number":"1","phone_number_id":"{pnid}"}},"#,
            r#""contacts":[{{"profile":{{"name":"C"}},"wa_id":"{wa}"}}],"#,
            r#""messages":[{{"from":"{wa}","id":"{wamid}","timestamp":"{ts}","type":"text","text":{{"body":"{text}"}}}}]}}}}]}}]}}"#
        ),
        pnid = phone_number_id,
        wa = wa_id,
        wamid = wamid,
        ts = ts,
        text = text,
    )
    .into_bytes()
}

/// `X-Hub-Signature-256` for `body`.
pub fn sign(body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}

/// The customer a message comes from: `customers` distinct wa_ids, round robin.
pub fn customer(i: u64, customers: u64) -> String {
    format!("1555{:07}", i % customers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_built_webhook_is_valid_json() {
        let b = text_webhook("123", "15550000001", "wamid.LT.1", "hello 1");
        let v: Value = serde_json::from_slice(&b).unwrap();
        let m = &v["entry"][0]["changes"][0]["value"]["messages"][0];
        assert_eq!(m["id"], "wamid.LT.1");
        assert_eq!(m["text"]["body"], "hello 1");
        assert_eq!(v["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"], "123");
    }
}

/// The token the nodes' `/metrics` answer to.
pub const METRICS_TOKEN: &str = "load-tests-metrics";

/// A scrape of a node's `/metrics`: each series (name with its labels) and its value.
#[derive(Default, Debug, Clone)]
pub struct Metrics(std::collections::BTreeMap<String, f64>);

impl Metrics {
    pub fn parse(text: &str) -> Metrics {
        let series = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let (k, v) = l.rsplit_once(' ')?;
                Some((k.to_owned(), v.parse::<f64>().ok()?))
            })
            .collect();
        Metrics(series)
    }

    /// What grew between `before` and this scrape (counters and histogram series).
    pub fn since(&self, before: &Metrics) -> Metrics {
        Metrics(self.0.iter().map(|(k, v)| (k.clone(), v - before.0.get(k).copied().unwrap_or(0.0))).collect())
    }

    fn family<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a str, f64)> + 'a {
        self.0.iter().filter_map(move |(k, v)| {
            let labels = k.strip_prefix(name)?;
            (labels.is_empty() || labels.starts_with('{')).then_some((labels, *v))
        })
    }

    /// The sum of a counter's or gauge's series over their labels.
    pub fn sum(&self, name: &str) -> f64 {
        self.family(name).map(|(_, v)| v).sum()
    }

    /// A histogram's observation count and mean.
    pub fn count_mean(&self, name: &str) -> (f64, f64) {
        let count = self.sum(&format!("{name}_count"));
        let sum = self.sum(&format!("{name}_sum"));
        (count, if count > 0.0 { sum / count } else { 0.0 })
    }

    /// A histogram's quantile `q`, as the upper edge of the bucket it falls in (summed over
    /// labels); `None` without observations.
    pub fn quantile(&self, name: &str, q: f64) -> Option<f64> {
        let mut buckets: std::collections::BTreeMap<u64, f64> = std::collections::BTreeMap::new();
        let bucket = format!("{name}_bucket");
        for (labels, v) in self.family(&bucket) {
            let le = labels.split("le=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("+Inf");
            let edge = if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap_or(f64::INFINITY) };
            *buckets.entry(edge.to_bits()).or_default() += v;
        }
        let mut edges: Vec<(f64, f64)> = buckets.into_iter().map(|(b, v)| (f64::from_bits(b), v)).collect();
        edges.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total = edges.last().map(|e| e.1)?;
        if total <= 0.0 {
            return None;
        }
        edges.into_iter().find(|(_, cum)| *cum >= q * total).map(|(edge, _)| edge)
    }
}

/// One line on what the server's group commit and event bus did between two scrapes.
pub fn describe_server(label: &str, m: &Metrics) -> String {
    let (groups, mean) = m.count_mean("cx_commit_batch_size");
    let ms =
        |name: &str, q: f64| m.quantile(name, q).map(|s| format!("≤{} ms", s * 1000.0)).unwrap_or_else(|| "n/a".into());
    format!(
        "{label} server counters: {groups:.0} group commits of {mean:.1} writes on average (p99 ≤{} writes); \
         group open→committed p99 {}; a write's wait for its turn p99 {}; event numbering→commit p99 {}; \
         bus gap repairs {:.0} ({:.0} events recovered from the database)",
        m.quantile("cx_commit_batch_size", 0.99).unwrap_or(0.0),
        ms("cx_commit_batch_seconds", 0.99),
        ms("cx_db_write_lock_wait_seconds", 0.99),
        ms("cx_commit_seconds", 0.99),
        m.sum("cx_bus_gap_repairs_total"),
        m.sum("cx_bus_recovered_events_total"),
    )
}
