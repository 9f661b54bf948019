//! `e2e`: webhook -> agent socket latency with 1,000 agent sockets open, at a fixed rate.
//! Every socket timestamps each `message.created` against the moment its webhook was sent.
//! Baseline: the same sockets on a bare broadcast server fed by HTTP POSTs of frames as large
//! as the server's.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{PROBE_PREFIX, Plan, PoolOpts, Req, SocketPool, Stamps, StepResult, fake_event, latencies_in, open_loop};
use crate::Result;
use crate::report::{Report, Table, rate};
use crate::server::{self, DbKind, LogSummary, Node, NodeOpts, Org, Secrets, TestDb, customer, sign, text_webhook};
use crate::stats::{CpuMeter, CpuUse, Lat};

const SOCKETS: usize = 1000;
/// A light rate (the machine has headroom) and the heavy one the issue asks for.
const RATES: [f64; 2] = [20.0, 200.0];
const SEND: Duration = Duration::from_secs(10);
const CUSTOMERS: u64 = 200;
const CAP: usize = 256;
/// How long after the last send deliveries may still arrive.
const DRAIN: Duration = Duration::from_secs(20);
/// Silence that ends the settling after the sockets open: PostgreSQL's take-over of the queued
/// conversations pauses for more than a second midway.
const SETTLE_QUIET: Duration = Duration::from_secs(3);
/// Frame size for the baseline when the server run produced none.
const DEFAULT_FRAME: usize = 1500;

struct Run {
    label: String,
    rate: f64,
    opened: usize,
    failed: usize,
    open_secs: f64,
    probe_ms: Option<f64>,
    step: StepResult,
    expected: u64,
    delivered: u64,
    duplicates: u64,
    dropped: usize,
    lat: Lat,
    /// Send start to last delivery (or drain timeout).
    window_secs: f64,
    cpu: CpuUse,
    frames: u64,
    avg_frame: usize,
    errors: Vec<String>,
    log: Option<LogSummary>,
    /// What the server counted over the measured steps.
    server: Option<String>,
    /// Frames that arrived after the probe before the steps began, and how long that took.
    settled: (u64, f64),
}

impl Run {
    fn json(&self) -> Value {
        json!({
            "label": self.label,
            "rate": self.rate,
            "socketsOpened": self.opened,
            "socketsFailed": self.failed,
            "openSecs": self.open_secs,
            "firstProbeToAllSocketsMs": self.probe_ms,
            "webhooks": self.step.json(),
            "deliveriesExpected": self.expected,
            "deliveriesReceived": self.delivered,
            "duplicates": self.duplicates,
            "socketsDropped": self.dropped,
            "deliveryLatency": self.lat.json(),
            "windowSecs": self.window_secs,
            "cpuSendAndDrain": self.cpu.json(),
            "framesReceived": self.frames,
            "avgFrameBytes": self.avg_frame,
            "socketErrors": self.errors,
            "serverLog": self.log.as_ref().map(LogSummary::json),
            "serverCounters": self.server,
            "settleFrames": self.settled.0,
            "settleSecs": self.settled.1,
        })
    }
}

pub async fn run(binary: &Path) -> Result<Report> {
    let run_id = format!("{:08x}", rand::random::<u32>());
    let client = reqwest::Client::builder().pool_max_idle_per_host(CAP).timeout(Duration::from_secs(30)).build()?;
    let mut report = Report::default();

    println!("cx-inbox on SQLite, {SOCKETS} sockets");
    let sqlite = cx_run(binary, DbKind::Sqlite, &client, &format!("{run_id}s")).await;
    let frame = match &sqlite {
        Ok(runs) => runs.iter().map(|r| r.avg_frame).find(|f| *f > 0).unwrap_or(DEFAULT_FRAME),
        _ => DEFAULT_FRAME,
    };
    println!("baseline: bare WebSocket broadcast, {frame}-byte frames");
    let bare = bare_run(&client, &format!("{run_id}b"), frame).await;
    println!("cx-inbox on PostgreSQL, {SOCKETS} sockets");
    let pg = cx_run(binary, DbKind::Postgres, &client, &format!("{run_id}p")).await;

    // Per server, one run per rate.
    let mut servers: Vec<Vec<Run>> = Vec::new();
    for (name, r) in [("cx-inbox SQLite", sqlite), ("cx-inbox PostgreSQL", pg), ("bare broadcast", bare)] {
        match r {
            Ok(runs) => servers.push(runs),
            Err(e) => report.note(format!("{name} run failed: {e}")),
        }
    }
    let mut t = Table::new(
        format!(
            "e2e: webhook -> agent socket latency, {SOCKETS} sockets, {} s per rate, {CUSTOMERS} customers",
            SEND.as_secs()
        ),
        &[
            "server",
            "rate/s",
            "sockets",
            "ok/s",
            "delivered",
            "p50 ms",
            "p99 ms",
            "max ms",
            "ack p99",
            "cpu s/g/db/o %",
            "bound by",
        ],
    );
    for n in 0..RATES.len() {
        for r in servers.iter().filter_map(|runs| runs.get(n)) {
            t.row(vec![
                r.label.clone(),
                format!("{:.0}", r.rate),
                format!("{}/{}", r.opened, SOCKETS),
                rate(r.step.ok_per_sec()),
                format!("{}/{}", r.delivered, r.expected),
                r.lat.p50_ms(),
                r.lat.p99_ms(),
                r.lat.max_ms(),
                r.step.lat.p99_ms(),
                r.cpu.label(),
                r.cpu.bound(),
            ]);
        }
    }
    report.table(t);
    for runs in &servers {
        let Some(first) = runs.first() else { continue };
        report.note(format!(
            "{}: {} sockets opened in {:.1} s ({} failed); a first message reached all in {}; \
             {} frames before the steps began ({:.1} s to settle); {} duplicate deliveries, {} sockets dropped",
            first.label,
            first.opened,
            first.open_secs,
            first.failed,
            first.probe_ms.map(|m| format!("{m:.0} ms")).unwrap_or_else(|| "never".into()),
            first.settled.0,
            first.settled.1,
            first.duplicates,
            first.dropped,
        ));
        for r in runs {
            let fanout = r.delivered as f64 / r.window_secs.max(1e-3);
            report.note(format!(
                "{} at {:.0}/s: {} frames of {} B average, {} socket-deliveries/s over {:.1} s; webhook failures {}",
                r.label,
                r.rate,
                r.frames,
                r.avg_frame,
                rate(fanout),
                r.window_secs,
                r.step.failures()
            ));
        }
        if !first.errors.is_empty() {
            report.note(format!("{} socket errors: {}", first.label, first.errors.join(" || ")));
        }
        if let Some(l) = runs.iter().find_map(|r| r.log.as_ref()) {
            report.note(l.describe(&first.label));
        }
        if let Some(s) = runs.iter().find_map(|r| r.server.as_ref()) {
            report.note(s.clone());
        }
    }
    report.note(
        "latency = socket receipt of message.created - send of its webhook POST (same clock, \
         this process); every (socket, message) pair is one sample; cpu over send + drain \
         (s = server, g = this generator, db = PostgreSQL+Redis, o = everything else; % of one core); the bare server gets frames of the \
         same size by HTTP POST and writes each burst with one flush",
    );
    report.set(
        "config",
        json!({"sockets": SOCKETS, "rates": RATES, "sendSecs": SEND.as_secs(), "customers": CUSTOMERS, "drainSecs": DRAIN.as_secs(), "baselineFrameBytes": frame}),
    );
    report.set("runs", Value::Array(servers.iter().flatten().map(Run::json).collect()));
    Ok(report)
}

fn webhook(org: &Org, wamid: &str, i: u64) -> Vec<u8> {
    text_webhook(&org.phone_number_id, &customer(i, CUSTOMERS), wamid, &format!("e2e message {i}"))
}

async fn cx_run(binary: &Path, kind: DbKind, client: &reqwest::Client, run_id: &str) -> Result<Vec<Run>> {
    let db = TestDb::create(kind, "e2e").await?;
    let secrets = Secrets::generate();
    let mut node =
        Node::start(binary, NodeOpts { name: "lt-e2e", database_url: &db.url, secrets: &secrets, env: Vec::new() })
            .await?;
    let org = server::setup_org(client, &node.base).await?;
    let url = node.url("/webhooks/whatsapp");
    let pids = [node.pid()];

    // Conversations first, before any socket listens: the run measures message fan-out.
    let warm_prefix = format!("wamid.LT{run_id}.w.");
    let warm = open_loop(
        client,
        Plan { url: &url, rate: 200.0, duration: Duration::from_secs(2), cap: CAP, cpu_pids: &pids, stamps: None },
        |i| {
            (i < CUSTOMERS).then(|| {
                let body = webhook(&org, &format!("{warm_prefix}{i}"), i);
                Req { signature: Some(sign(&body)), body, stamp: None }
            })
        },
    )
    .await;
    if warm.ok < CUSTOMERS {
        return Err(format!("warm-up: {} of {CUSTOMERS} webhooks answered 200", warm.ok).into());
    }

    let before = node.metrics(client).await?;
    let probe = |k: usize| {
        let body = webhook(&org, &format!("{PROBE_PREFIX}{k}"), 0);
        let sig = sign(&body);
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
    };
    let result = measure(
        client,
        &format!("cx-inbox {}", kind.label()),
        &node.ws_url(&org.token),
        &url,
        &pids,
        run_id,
        probe,
        |wamid, i| {
            let body = webhook(&org, wamid, i);
            (body.clone(), Some(sign(&body)))
        },
    )
    .await;
    node.check_alive()?;
    let counted = node.metrics(client).await.map(|m| m.since(&before));
    let log = node.stop();
    db.drop_db().await;
    let mut runs = result?;
    if let Some(last) = runs.last_mut() {
        last.log = Some(log);
        last.server = counted.ok().map(|m| server::describe_server(&last.label, &m));
    }
    Ok(runs)
}

async fn bare_run(client: &reqwest::Client, run_id: &str, frame: usize) -> Result<Vec<Run>> {
    let port = server::free_port()?;
    let ws_port = server::free_port()?;
    let (child, _dir) = server::start_baseline(
        "bare-ws-broadcast",
        &["bare-ws-broadcast".into(), "--port".into(), port.to_string(), "--ws-port".into(), ws_port.to_string()],
        Some(format!("http://127.0.0.1:{port}/ready")),
    )
    .await?;
    let url = format!("http://127.0.0.1:{port}/publish");
    let probe = |k: usize| client.post(&url).body(fake_event(&format!("{PROBE_PREFIX}{k}"), frame)).send();
    let pids = [child.pid()];
    measure(client, "bare broadcast", &format!("ws://127.0.0.1:{ws_port}/"), &url, &pids, run_id, probe, |wamid, _| {
        (fake_event(wamid, frame).into_bytes(), None)
    })
    .await
}

/// Opens the sockets, checks each sees a probe, then for each rate sends the run and waits for
/// its deliveries; one `Run` per rate, all on the same sockets.
#[allow(clippy::too_many_arguments)]
async fn measure<P, F>(
    client: &reqwest::Client,
    label: &str,
    ws_url: &str,
    post_url: &str,
    pids: &[u32],
    run_id: &str,
    probe: impl Fn(usize) -> P,
    body: F,
) -> Result<Vec<Run>>
where
    P: Future<Output = reqwest::Result<reqwest::Response>>,
    F: Fn(&str, u64) -> (Vec<u8>, Option<String>),
{
    // One index space for all rates: rate n's messages are [offsets[n], offsets[n + 1]).
    let mut offsets = vec![0usize];
    for r in RATES {
        let last = offsets.last().copied().unwrap_or(0);
        offsets.push(last + (r * SEND.as_secs_f64()).ceil() as usize + 16);
    }
    let stamps = Stamps::new(offsets.last().copied().unwrap_or(0));
    let prefix = format!("wamid.LT{run_id}.e.");
    let mut opts = PoolOpts::new(SOCKETS);
    opts.prefix = prefix.clone();
    opts.stamps = Some(stamps.clone());
    let pool = SocketPool::open(ws_url, opts).await;
    let opened = pool.opened();
    let open_secs = pool.open_secs;
    println!("  {label}: {opened} sockets open in {:.1} s ({} failed)", pool.open_secs, pool.failed());
    if opened == 0 {
        let errors = pool.shared.error_samples();
        pool.stop().await;
        return Err(format!("{label}: no socket opened: {}", errors.join(" || ")).into());
    }
    // A probe every socket must see: all sessions are subscribed before the clock starts.
    let t0 = Instant::now();
    let status = probe(0).await?.status();
    if !status.is_success() {
        return Err(format!("{label}: probe POST answered {status}").into());
    }
    let all = pool.wait_for(Duration::from_secs(20), |s| s.probes(0) >= opened).await;
    let probe_ms = all.then(|| t0.elapsed().as_secs_f64() * 1000.0);
    if !all {
        println!("  {label}: only {} of {opened} sockets saw the probe", pool.shared.probes(0));
    }

    let shared = Arc::clone(&pool.shared);
    // What the sockets' arrival set off settles before the clock starts (on cx-inbox the agent
    // coming online takes the conversations that queued while nobody was: four events each to
    // every socket); the steps measure the fan-out of messages.
    let settle_started = Instant::now();
    let frames_before = shared.frames.load(Ordering::Relaxed);
    let (mut last, mut quiet_since) = (frames_before, Instant::now());
    while settle_started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = shared.frames.load(Ordering::Relaxed);
        if now != last {
            (last, quiet_since) = (now, Instant::now());
        } else if quiet_since.elapsed() >= SETTLE_QUIET {
            break;
        }
    }
    let settled = (last - frames_before, settle_started.elapsed().as_secs_f64());
    println!("  {label}: settled after {:.1} s ({} frames)", settled.1, settled.0);
    let mut partial = Vec::new();
    for (n, rate) in RATES.into_iter().enumerate() {
        let (from, to) = (offsets[n], offsets[n + 1]);
        let frames0 = shared.frames.load(Ordering::Relaxed);
        let bytes0 = shared.frame_bytes.load(Ordering::Relaxed);
        let delivered0 = shared.delivered.load(Ordering::Relaxed);
        let cpu = CpuMeter::start(pids);
        let started = Instant::now();
        let step = open_loop(
            client,
            Plan { url: post_url, rate, duration: SEND, cap: CAP, cpu_pids: pids, stamps: Some(&stamps) },
            |i| {
                let k = from + i as usize;
                (k < to).then(|| {
                    let (body, signature) = body(&format!("{prefix}{k}"), k as u64);
                    Req { body, signature, stamp: Some(k) }
                })
            },
        )
        .await;
        let expected = step.ok * opened as u64;
        let sent_done = Instant::now();
        // A socket the server dropped will not get the rest; deliveries of webhooks that
        // failed may still come, hence >=.
        pool.wait_for(DRAIN, |s| {
            let alive = opened.saturating_sub(s.dropped.load(Ordering::Relaxed)) as u64;
            s.delivered.load(Ordering::Relaxed) - delivered0 >= step.ok * alive
        })
        .await;
        let window_secs = started.elapsed().as_secs_f64();
        let cpu = cpu.stop();
        let drain = sent_done.elapsed().as_secs_f64();
        let frames = shared.frames.load(Ordering::Relaxed) - frames0;
        let bytes = shared.frame_bytes.load(Ordering::Relaxed) - bytes0;
        let delivered = shared.delivered.load(Ordering::Relaxed) - delivered0;
        println!(
            "  {label} at {rate:.0}/s: ok {}/{} delivered {delivered}/{expected} drain {drain:.1} s cpu {}",
            step.ok,
            step.sent,
            cpu.label()
        );
        partial.push(Run {
            label: label.to_owned(),
            rate,
            opened,
            failed: shared.failed.load(Ordering::Relaxed),
            open_secs,
            probe_ms,
            step,
            expected,
            delivered,
            duplicates: 0,
            dropped: 0,
            lat: Lat::default(),
            window_secs,
            cpu,
            frames,
            avg_frame: (bytes / frames.max(1)) as usize,
            errors: Vec::new(),
            log: None,
            server: None,
            settled,
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let all = pool.stop().await;
    for (n, r) in partial.iter_mut().enumerate() {
        r.lat = Lat::of(&mut latencies_in(&all, offsets[n]..offsets[n + 1]));
        // Whole-pool counters; reported on every row of this server.
        r.duplicates = shared.duplicates.load(Ordering::Relaxed);
        r.dropped = shared.dropped.load(Ordering::Relaxed);
        r.errors = shared.error_samples();
    }
    Ok(partial)
}
