//! `sockets`: how many idle authenticated agent sockets one node holds, and its resident
//! memory per socket, beside a bare tokio-tungstenite echo server's. A socket counts as held
//! if it still receives a message sent after all were opened.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{PROBE_PREFIX, PoolOpts, SocketPool};
use crate::Result;
use crate::report::{Report, Table};
use crate::server::{self, DbKind, LogSummary, Node, NodeOpts, Secrets, TestDb, sign, text_webhook};
use crate::stats::{self, CpuMeter, CpuUse};

/// The most sockets tried; lower if the open-file limit is lower (each socket costs a file on
/// both ends, and this process holds the client ends).
const MAX_TARGET: usize = 20_000;
const PARALLEL: usize = 128;
const MAX_FAILURES: usize = 200;
const OPEN_BUDGET: Duration = Duration::from_secs(60);
/// Idle time after opening, before memory is read: sessions finish starting, buffers settle.
const SETTLE: Duration = Duration::from_secs(3);

struct Held {
    label: String,
    opened: usize,
    failed: usize,
    open_secs: f64,
    alive: usize,
    probe_ms: Option<f64>,
    dropped: usize,
    rss_before_kib: u64,
    rss_after_kib: u64,
    open_cpu: CpuUse,
    errors: Vec<String>,
    log: Option<LogSummary>,
}

impl Held {
    fn per_socket_kib(&self) -> f64 {
        self.rss_after_kib.saturating_sub(self.rss_before_kib) as f64 / self.opened.max(1) as f64
    }

    fn json(&self) -> Value {
        json!({
            "label": self.label,
            "target": target(),
            "opened": self.opened,
            "failed": self.failed,
            "openSecs": self.open_secs,
            "aliveAfterSettle": self.alive,
            "probeToAllMs": self.probe_ms,
            "dropped": self.dropped,
            "rssBeforeKiB": self.rss_before_kib,
            "rssAfterKiB": self.rss_after_kib,
            "kibPerSocket": self.per_socket_kib(),
            "cpuWhileOpening": self.open_cpu.json(),
            "errors": self.errors,
            "serverLog": self.log.as_ref().map(LogSummary::json),
        })
    }
}

pub async fn run(binary: &Path) -> Result<Report> {
    let client = reqwest::Client::new();
    let mut report = Report::default();
    let mut rows = Vec::new();

    let target = target();
    println!("cx-inbox on SQLite: opening up to {target} agent sockets");
    match cx_inbox(binary, &client).await {
        Ok(h) => rows.push(h),
        Err(e) => report.note(format!("cx-inbox run failed: {e}")),
    }
    // Twice: as most servers run it (tungstenite's default 128 KiB read buffer) and lean.
    for buffer in [128 * 1024, 4 * 1024] {
        println!("baseline: bare tokio-tungstenite echo server, {} KiB read buffer", buffer / 1024);
        match bare_echo(buffer).await {
            Ok(h) => rows.push(h),
            Err(e) => report.note(format!("echo baseline failed: {e}")),
        }
    }

    let mut t = Table::new(
        format!("sockets: idle authenticated agent sockets on one node (cap {target})"),
        &[
            "server",
            "opened",
            "failed",
            "open s",
            "opens/s",
            "held",
            "RSS before MB",
            "RSS after MB",
            "KiB/socket",
            "cpu s/g/db/o % (opening)",
        ],
    );
    for h in &rows {
        t.row(vec![
            h.label.clone(),
            h.opened.to_string(),
            h.failed.to_string(),
            format!("{:.1}", h.open_secs),
            format!("{:.0}", h.opened as f64 / h.open_secs.max(1e-3)),
            h.alive.to_string(),
            format!("{:.1}", h.rss_before_kib as f64 / 1024.0),
            format!("{:.1}", h.rss_after_kib as f64 / 1024.0),
            format!("{:.1}", h.per_socket_kib()),
            h.open_cpu.label(),
        ]);
    }
    report.table(t);
    for h in &rows {
        if h.opened < target {
            report.note(format!(
                "{}: stopped at {} sockets ({} failed); errors: {}",
                h.label,
                h.opened,
                h.failed,
                h.errors.join(" || ")
            ));
        } else if !h.errors.is_empty() {
            report.note(format!("{}: socket errors: {}", h.label, h.errors.join(" || ")));
        }
        report.note(format!(
            "{}: held = sockets that received a message sent after all were open{}; {} dropped by the server",
            h.label,
            h.probe_ms.map(|m| format!(" (reached all in {m:.0} ms)")).unwrap_or_default(),
            h.dropped
        ));
        if let Some(l) = &h.log {
            report.note(l.describe(&h.label));
        }
    }
    report.note(format!(
        "the cap of {target} is this test's, not the server's: the open-file limit is {} per process and the generator holds the other end of every socket",
        stats::nofile_limit().unwrap_or(0)
    ));
    report.note("memory per socket = (VmRSS after opening and settling - VmRSS before) / sockets opened");
    report.set("config", json!({"target": target, "parallelHandshakes": PARALLEL, "settleSecs": SETTLE.as_secs()}));
    report.set("runs", Value::Array(rows.iter().map(Held::json).collect()));
    Ok(report)
}

fn target() -> usize {
    let limit = stats::nofile_limit().unwrap_or(1024) as usize;
    MAX_TARGET.min(limit.saturating_sub(1000))
}

fn pool_opts() -> PoolOpts {
    let mut o = PoolOpts::new(target());
    o.parallel = PARALLEL;
    o.max_failures = MAX_FAILURES;
    o.budget = OPEN_BUDGET;
    o
}

async fn cx_inbox(binary: &Path, client: &reqwest::Client) -> Result<Held> {
    let db = TestDb::create(DbKind::Sqlite, "sockets").await?;
    let secrets = Secrets::generate();
    let mut node =
        Node::start(binary, NodeOpts { name: "lt-sockets", database_url: &db.url, secrets: &secrets, env: Vec::new() })
            .await?;
    let org = server::setup_org(client, &node.base).await?;
    // One message first, so the conversation and the inbox actor exist before memory is read.
    let hook_url = node.url("/webhooks/whatsapp");
    let webhook = |wamid: &str| {
        let body = text_webhook(&org.phone_number_id, "15550000001", wamid, "hello");
        let sig = sign(&body);
        client
            .post(&hook_url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
    };
    webhook("wamid.LTsockets.warm").await?.error_for_status()?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = node.pid();
    let rss_before_kib = stats::rss_kib(pid)?;
    let cpu = CpuMeter::start(&[pid]);
    let pool = SocketPool::open(&node.ws_url(&org.token), pool_opts()).await;
    let open_cpu = cpu.stop();
    let opened = pool.opened();
    println!("  cx-inbox: {opened} open in {:.1} s, {} failed", pool.open_secs, pool.failed());
    tokio::time::sleep(SETTLE).await;
    node.check_alive()?;
    let rss_after_kib = stats::rss_kib(pid)?;
    let t0 = Instant::now();
    webhook(&format!("{PROBE_PREFIX}0")).await?.error_for_status()?;
    let all = pool.wait_for(Duration::from_secs(30), |s| s.probes(0) >= opened).await;
    let probe_ms = all.then(|| t0.elapsed().as_secs_f64() * 1000.0);
    let alive = pool.shared.probes(0);
    println!("  cx-inbox: {alive} of {opened} received the probe");
    let held = Held {
        label: "cx-inbox (SQLite)".into(),
        opened,
        failed: pool.failed(),
        open_secs: pool.open_secs,
        alive,
        probe_ms,
        dropped: pool.shared.dropped.load(Ordering::Relaxed),
        rss_before_kib,
        rss_after_kib,
        open_cpu,
        errors: pool.shared.error_samples(),
        log: None,
    };
    pool.stop().await;
    let log = node.stop();
    db.drop_db().await;
    Ok(Held { log: Some(log), ..held })
}

async fn bare_echo(read_buffer: usize) -> Result<Held> {
    let port = server::free_port()?;
    let (mut child, _dir) = server::start_baseline(
        "bare-ws-echo",
        &["bare-ws-echo".into(), "--port".into(), port.to_string(), "--read-buffer".into(), read_buffer.to_string()],
        None,
    )
    .await?;
    server::wait_port(port, &mut child).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = child.pid();
    let rss_before_kib = stats::rss_kib(pid)?;
    let cpu = CpuMeter::start(&[pid]);
    let mut opts = pool_opts();
    opts.echo = true;
    let pool = SocketPool::open(&format!("ws://127.0.0.1:{port}/"), opts).await;
    let open_cpu = cpu.stop();
    let opened = pool.opened();
    println!("  echo: {opened} open in {:.1} s, {} failed", pool.open_secs, pool.failed());
    tokio::time::sleep(SETTLE).await;
    let rss_after_kib = stats::rss_kib(pid)?;
    let t0 = Instant::now();
    pool.probe(0);
    let all = pool.wait_for(Duration::from_secs(30), |s| s.probes(0) >= opened).await;
    let probe_ms = all.then(|| t0.elapsed().as_secs_f64() * 1000.0);
    let held = Held {
        label: format!("bare echo, {} KiB buffer", read_buffer / 1024),
        opened,
        failed: pool.failed(),
        open_secs: pool.open_secs,
        alive: pool.shared.probes(0),
        probe_ms,
        dropped: pool.shared.dropped.load(Ordering::Relaxed),
        rss_before_kib,
        rss_after_kib,
        open_cpu,
        errors: pool.shared.error_samples(),
        log: None,
    };
    pool.stop().await;
    drop(child);
    Ok(held)
}
