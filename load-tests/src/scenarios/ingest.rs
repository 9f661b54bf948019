//! `ingest`: signed webhooks at rising rates against one node on SQLite and one on PostgreSQL.
//! A 200 means the message was committed; the count in the database is checked after every
//! step. Baselines: the same generator against a bare actix handler, and raw single-row
//! INSERTs on the same database.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Plan, Req, StepResult, open_loop};
use crate::Result;
use crate::baselines::{self, InsertResult};
use crate::report::{Report, Table, rate};
use crate::server::{
    self, DbKind, LogSummary, Metrics, Node, NodeOpts, Org, Secrets, TestDb, customer, sign, text_webhook,
};

/// Up to past the ceiling: the highest ok/s reached is the ingest ceiling.
const RATES: [f64; 5] = [200.0, 500.0, 1000.0, 2000.0, 4000.0];
/// The rate whose p99 acknowledgement the issue bounds.
const ACK_RATE: f64 = 1000.0;
const STEP: Duration = Duration::from_secs(6);
/// Requests in flight at most; beyond it the schedule slips (visible as sent/s < rate).
const CAP: usize = 256;
const CUSTOMERS: u64 = 200;
const INSERT_TASKS: usize = 4;
const INSERT_TIME: Duration = Duration::from_secs(4);

struct Backend {
    kind: DbKind,
    /// SQLite's `synchronous`: FULL (the default, fsync per commit) or NORMAL.
    full: bool,
    steps: Vec<(StepResult, i64, Metrics)>,
    inserts: Option<InsertResult>,
    insert_error: Option<String>,
    api_check: String,
    log: LogSummary,
}

pub async fn run(binary: &Path) -> Result<Report> {
    let run_id = format!("{:08x}", rand::random::<u32>());
    let client = reqwest::Client::builder().pool_max_idle_per_host(CAP).timeout(Duration::from_secs(30)).build()?;
    let mut report = Report::default();

    println!("baseline: bare actix-web handler");
    let bare = bare_http(&client).await?;

    let mut backends = Vec::new();
    // PostgreSQL twice: with group commit (`CX_COMMIT_SHARDS=1`: the benchmark's one
    // organization is one stream anyway) and with every write committing alone (the default,
    // `CX_COMMIT_SHARDS=0`), the choice the issue leaves open.
    for (kind, full) in
        [(DbKind::Sqlite, true), (DbKind::Sqlite, false), (DbKind::Postgres, true), (DbKind::Postgres, false)]
    {
        let label = label(kind, full);
        println!("cx-inbox on {label}");
        match backend(binary, kind, full, &client, &run_id).await {
            Ok(b) => backends.push(b),
            Err(e) => report.note(format!("{label} run failed: {e}")),
        }
    }

    let mut json_backends = Vec::new();
    for b in &backends {
        let mut t = Table::new(
            format!(
                "ingest ({}, 1 node): signed webhooks, {CUSTOMERS} customers, {} s per step, ≤{CAP} in flight",
                label(b.kind, b.full),
                STEP.as_secs()
            ),
            &[
                "rate/s",
                "sent/s",
                "ok/s",
                "stored",
                "failed",
                "p50 ms",
                "p99 ms",
                "cpu s/g/db/o %",
                "|",
                "bare ok/s",
                "p50",
                "p99",
                "|",
                "raw INSERT/s",
                "|",
                "writes/commit",
                "commit p99",
                "bound by",
            ],
        );
        for (i, (s, stored, m)) in b.steps.iter().enumerate() {
            let bs = bare.get(i);
            let insert = match (i, &b.inserts) {
                (0, Some(r)) => rate(r.per_sec),
                (0, None) => "error".into(),
                _ => String::new(),
            };
            t.row(vec![
                format!("{:.0}", s.rate),
                rate(s.sent_per_sec()),
                rate(s.ok_per_sec()),
                format!("{stored}/{}", s.ok),
                s.failures(),
                s.lat.p50_ms(),
                s.lat.p99_ms(),
                s.cpu.label(),
                "|".into(),
                bs.map(|x| rate(x.ok_per_sec())).unwrap_or_default(),
                bs.map(|x| x.lat.p50_ms()).unwrap_or_default(),
                bs.map(|x| x.lat.p99_ms()).unwrap_or_default(),
                "|".into(),
                insert,
                "|".into(),
                format!("{:.1}", m.count_mean("cx_commit_batch_size").1),
                m.quantile("cx_commit_batch_seconds", 0.99).map(|x| format!("≤{} ms", x * 1000.0)).unwrap_or_default(),
                s.cpu.bound(),
            ]);
        }
        report.table(t);
        let ceiling = b.steps.iter().map(|(s, _, _)| s.ok_per_sec()).fold(0.0, f64::max);
        let ack = b.steps.iter().find(|(s, _, _)| s.rate == ACK_RATE);
        if let Some(r) = &b.inserts {
            report.note(format!(
                "{}: ingest ceiling {}/s = {:.2}x the raw INSERT rate ({}/s, same database and synchronous setting; \
                 acceptance ≥ 0.5x); p99 acknowledgement at {ACK_RATE:.0}/s: {} ms (acceptance ≤ 20 ms)",
                label(b.kind, b.full),
                rate(ceiling),
                ceiling / r.per_sec.max(1e-9),
                rate(r.per_sec),
                ack.map(|(s, _, _)| s.lat.p99_ms()).unwrap_or_else(|| "n/a".into()),
            ));
        }
        if let Some(r) = &b.inserts {
            report.note(format!(
                "{}: raw INSERT baseline {} rows in {} s from {INSERT_TASKS} tasks, one transaction each: {}/s, p50 {} ms, p99 {} ms",
                label(b.kind, b.full),
                r.rows,
                INSERT_TIME.as_secs(),
                rate(r.per_sec),
                r.lat.p50_ms(),
                r.lat.p99_ms()
            ));
        }
        if let Some(e) = &b.insert_error {
            report.note(format!("{}: raw INSERT baseline failed: {e}", label(b.kind, b.full)));
        }
        for (s, stored, _) in &b.steps {
            if *stored < s.ok as i64 {
                report.note(format!(
                    "{} at {:.0}/s: only {stored} of {} acknowledged messages are in the database",
                    label(b.kind, b.full),
                    s.rate,
                    s.ok
                ));
            }
            if !s.samples.is_empty() {
                report.note(format!(
                    "{} at {:.0}/s failures: {}",
                    label(b.kind, b.full),
                    s.rate,
                    s.samples.join(" || ")
                ));
            }
        }
        report.note(format!("{}: {}", label(b.kind, b.full), b.api_check));
        report.note(b.log.describe(&format!("cx-inbox on {}", label(b.kind, b.full))));
        json_backends.push(json!({
            "database": label(b.kind, b.full),
            "ceilingPerSec": ceiling,
            "ceilingToRawInsert": b.inserts.as_ref().map(|r| ceiling / r.per_sec.max(1e-9)),
            "steps": b.steps.iter().map(|(s, stored, m)| {
                let mut v = s.json();
                v["storedInDatabase"] = json!(stored);
                v["bound"] = json!(s.cpu.bound());
                v["server"] = json!(server::describe_server("", m));
                v
            }).collect::<Vec<_>>(),
            "rawInsert": b.inserts.as_ref().map(|r| json!({
                "tasks": INSERT_TASKS, "rows": r.rows, "perSec": r.per_sec, "latency": r.lat.json(),
            })),
            "rawInsertError": b.insert_error,
            "apiCheck": b.api_check,
            "serverLog": b.log.json(),
        }));
    }
    report.note(
        "cpu s/g/db/o = cx-inbox (or the baseline server) / this generator / PostgreSQL+Redis / \
         everything else (other processes, interrupts), in % of one core (the machine has 200); the generator \
         shares the cores with the server, so a saturated machine bounds cx-inbox and baseline alike"
            .to_string(),
    );
    report.note(format!(
        "ack latency runs from sending the POST to the end of its answer; ok/s = 200 answers / \
         time from the step's first send to its last answer; stored = rows in `messages` with \
         the step's wamids / 200 answers; {CUSTOMERS} conversations opened before the steps"
    ));
    report
        .set("config", json!({"rates": RATES, "stepSecs": STEP.as_secs(), "inFlightCap": CAP, "customers": CUSTOMERS}));
    report.set("bareActix", Value::Array(bare.iter().map(StepResult::json).collect()));
    report.set("cxInbox", Value::Array(json_backends));
    Ok(report)
}

/// The webhook for message `i` of a run whose wamids start with `prefix`.
fn webhook(org: &Org, prefix: &str, i: u64) -> Req {
    let wamid = format!("{prefix}{i}");
    let body = text_webhook(&org.phone_number_id, &customer(i, CUSTOMERS), &wamid, &format!("load message {i}"));
    let signature = Some(sign(&body));
    Req { body, signature, stamp: None }
}

async fn bare_http(client: &reqwest::Client) -> Result<Vec<StepResult>> {
    let port = server::free_port()?;
    let (child, _dir) = server::start_baseline(
        "bare-http",
        &["bare-http".into(), "--port".into(), port.to_string()],
        Some(format!("http://127.0.0.1:{port}/health")),
    )
    .await?;
    let url = format!("http://127.0.0.1:{port}/webhooks/whatsapp");
    // Same bodies and signing work as against cx-inbox, so the generator costs the same.
    let org = Org { email: String::new(), token: String::new(), phone_number_id: "100000000000001".into() };
    let mut out = Vec::new();
    for r in RATES {
        let plan = Plan { url: &url, rate: r, duration: STEP, cap: CAP, cpu_pids: &[child.pid()], stamps: None };
        let s = open_loop(client, plan, |i| Some(webhook(&org, "wamid.bare.", i))).await;
        println!(
            "  bare {r:>5.0}/s: sent {:.0}/s ok {:.0}/s p50 {} ms p99 {} ms cpu {}",
            s.sent_per_sec(),
            s.ok_per_sec(),
            s.lat.p50_ms(),
            s.lat.p99_ms(),
            s.cpu.label()
        );
        out.push(s);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(child);
    Ok(out)
}

fn label(kind: DbKind, full: bool) -> String {
    match (kind, full) {
        (DbKind::Sqlite, true) => "SQLite, synchronous=FULL".into(),
        (DbKind::Sqlite, false) => "SQLite, synchronous=NORMAL".into(),
        (DbKind::Postgres, true) => "PostgreSQL, group commit".into(),
        (DbKind::Postgres, false) => "PostgreSQL, one commit per write".into(),
    }
}

async fn backend(binary: &Path, kind: DbKind, full: bool, client: &reqwest::Client, run_id: &str) -> Result<Backend> {
    let db = TestDb::create(kind, "ingest").await?;
    let secrets = Secrets::generate();
    // `full` is SQLite's synchronous=FULL, and on PostgreSQL group commit (else one commit per
    // write).
    let env = match (kind, full) {
        (DbKind::Sqlite, true) => vec![("CX_SQLITE_SYNCHRONOUS".to_owned(), "full".to_owned())],
        (DbKind::Sqlite, false) => vec![("CX_SQLITE_SYNCHRONOUS".to_owned(), "normal".to_owned())],
        (DbKind::Postgres, true) => vec![("CX_COMMIT_SHARDS".to_owned(), "1".to_owned())],
        (DbKind::Postgres, false) => vec![("CX_COMMIT_SHARDS".to_owned(), "0".to_owned())],
    };
    let mut node =
        Node::start(binary, NodeOpts { name: "lt-ingest", database_url: &db.url, secrets: &secrets, env }).await?;
    let org = server::setup_org(client, &node.base).await?;
    let url = node.url("/webhooks/whatsapp");
    let verify = db.connect(1).await?;
    let tag = match (kind, full) {
        (DbKind::Sqlite, true) => "s",
        (DbKind::Sqlite, false) => "n",
        (DbKind::Postgres, true) => "p",
        (DbKind::Postgres, false) => "q",
    };

    // Open every conversation first, so the steps measure messages, not conversation creation.
    let warm_prefix = format!("wamid.LT{run_id}{tag}.w.");
    let pids = [node.pid()];
    let plan =
        Plan { url: &url, rate: 200.0, duration: Duration::from_secs(2), cap: CAP, cpu_pids: &pids, stamps: None };
    let warm = open_loop(client, plan, |i| (i < CUSTOMERS).then(|| webhook(&org, &warm_prefix, i))).await;
    if warm.ok < CUSTOMERS {
        return Err(format!(
            "warm-up: {} of {CUSTOMERS} webhooks answered 200 ({}; {})",
            warm.ok,
            warm.failures(),
            warm.samples.join(" || ")
        )
        .into());
    }

    let mut steps = Vec::new();
    for (n, r) in RATES.into_iter().enumerate() {
        let prefix = format!("wamid.LT{run_id}{tag}.{n}.");
        let plan = Plan { url: &url, rate: r, duration: STEP, cap: CAP, cpu_pids: &pids, stamps: None };
        let before = node.metrics(client).await?;
        let s = open_loop(client, plan, |i| Some(webhook(&org, &prefix, i))).await;
        node.check_alive()?;
        let counted = node.metrics(client).await?.since(&before);
        let stored = baselines::count(
            &verify,
            &format!("SELECT COUNT(*) AS n FROM messages WHERE provider_message_id LIKE '{prefix}%'"),
        )
        .await?;
        println!(
            "  {} {r:>5.0}/s: sent {:.0}/s ok {:.0}/s stored {stored}/{} failed {} p50 {} ms p99 {} ms cpu {}",
            label(kind, full),
            s.sent_per_sec(),
            s.ok_per_sec(),
            s.ok,
            s.failures(),
            s.lat.p50_ms(),
            s.lat.p99_ms(),
            s.cpu.label()
        );
        println!("    {}", server::describe_server("", &counted));
        steps.push((s, stored, counted));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    verify.close().await.ok();

    let api_check = api_check(client, &node, &org).await.unwrap_or_else(|e| format!("API check failed: {e}"));

    // The node is idle now; the INSERT baseline runs on the same database file or server.
    let (inserts, insert_error) = match baselines::raw_inserts(&db, full, INSERT_TASKS, INSERT_TIME).await {
        Ok(r) => {
            println!(
                "  {} raw INSERT: {:.0}/s p50 {} ms p99 {} ms",
                label(kind, full),
                r.per_sec,
                r.lat.p50_ms(),
                r.lat.p99_ms()
            );
            (Some(r), None)
        }
        Err(e) => (None, Some(e.to_string())),
    };
    let log = node.stop();
    db.drop_db().await;
    Ok(Backend { kind, full, steps, inserts, insert_error, api_check, log })
}

/// Reads the stored messages back through the API: every conversation is listed, and the
/// messages of one can be paged.
async fn api_check(client: &reqwest::Client, node: &Node, org: &Org) -> Result<String> {
    let mut conversations = 0usize;
    let mut first: Option<String> = None;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = node.url("/api/v1/conversations?limit=100");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let v: Value = client.get(&url).bearer_auth(&org.token).send().await?.error_for_status()?.json().await?;
        let page = v["data"].as_array().ok_or("conversations: no data")?;
        conversations += page.len();
        if first.is_none() {
            first = page.first().and_then(|c| c["id"].as_str()).map(str::to_owned);
        }
        match v["nextCursor"].as_str() {
            Some(c) if !c.is_empty() && !page.is_empty() => cursor = Some(c.to_owned()),
            _ => break,
        }
        if conversations > 10 * CUSTOMERS as usize {
            break;
        }
    }
    let id = first.ok_or("no conversation listed")?;
    let v: Value = client
        .get(node.url(&format!("/api/v1/conversations/{id}/messages?limit=100")))
        .bearer_auth(&org.token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let page = v["data"].as_array().map(Vec::len).unwrap_or(0);
    Ok(format!(
        "API lists {conversations} conversations (expected {CUSTOMERS}); one conversation's first page holds {page} messages"
    ))
}
