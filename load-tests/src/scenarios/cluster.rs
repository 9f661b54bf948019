//! `cluster`: two nodes on one PostgreSQL and one Redis. Webhooks go to node A; agent sockets
//! on node B measure cross-node delivery, sockets on A the same-node delivery of the same
//! messages. Baselines: one node alone (no Redis) on its own PostgreSQL database at the same
//! rates with the same sockets, and raw Redis PUBLISH -> subscriber on the same Redis.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{PROBE_PREFIX, Plan, PoolOpts, Req, SocketPool, Stamps, StepResult, latencies_in, open_loop};
use crate::Result;
use crate::baselines::{self, PubSubResult};
use crate::report::{Report, Table, rate};
use crate::server::{
    self, DbKind, LogSummary, Node, NodeOpts, Org, REDIS_URL, Secrets, TestDb, customer, sign, text_webhook,
};
use crate::stats::{CpuMeter, CpuUse, Lat};

/// A light rate, and a heavier one still well below one PostgreSQL node's ingest ceiling.
const RATES: [f64; 2] = [100.0, 400.0];
const SEND: Duration = Duration::from_secs(8);
const REDIS_SEND: Duration = Duration::from_secs(5);
const SOCKETS: usize = 10;
const CUSTOMERS: u64 = 100;
const CAP: usize = 128;
const DRAIN: Duration = Duration::from_secs(10);
/// How long node B gets to show the probe before the run goes on without it.
const PROBE_WAIT: Duration = Duration::from_secs(10);
const PAYLOAD: usize = 1000;

/// The sockets of one node.
struct Side {
    opened: usize,
    probe_ms: Option<f64>,
    duplicates: u64,
    dropped: usize,
    errors: Vec<String>,
}

/// One rate: the webhooks, and what each node's sockets received of them.
struct Step {
    webhooks: StepResult,
    cpu: CpuUse,
    /// (delivered, latency) on A and on B (none when A runs alone).
    a: (u64, Lat),
    b: Option<(u64, Lat)>,
}

struct ClusterRun {
    steps: Vec<Step>,
    a: Side,
    b: Option<Side>,
    log_a: LogSummary,
    log_b: Option<LogSummary>,
}

fn side_json(side: &Side) -> Value {
    json!({
        "sockets": side.opened,
        "probeToAllMs": side.probe_ms,
        "duplicates": side.duplicates,
        "socketsDropped": side.dropped,
        "socketErrors": side.errors,
    })
}

fn ms(m: Option<f64>) -> String {
    m.map(|m| format!("{m:.0} ms")).unwrap_or_else(|| "never".into())
}

pub async fn run(binary: &Path) -> Result<Report> {
    let run_id = format!("{:08x}", rand::random::<u32>());
    let prefix = format!("lt{run_id}");
    let mut report = Report::default();
    let _keys = baselines::RedisKeysGuard(prefix.clone());

    let result = nodes(binary, &prefix, &run_id, true).await;
    println!("baseline: one node alone (no Redis), same rates and sockets");
    let single = nodes(binary, &prefix, &format!("{run_id}s"), false).await;
    let mut pubsub: Vec<(f64, PubSubResult)> = Vec::new();
    for r in RATES {
        println!("baseline: raw Redis PUBLISH -> subscriber at {r:.0}/s");
        match baselines::redis_pubsub(&format!("{prefix}:baseline"), r, REDIS_SEND, PAYLOAD).await {
            Ok(p) => pubsub.push((r, p)),
            Err(e) => report.note(format!("Redis baseline at {r:.0}/s failed: {e}")),
        }
    }
    match baselines::redis_cleanup(&prefix).await {
        Ok(n) => report.note(format!("removed {n} Redis keys under prefix {prefix}")),
        Err(e) => report.note(format!("Redis cleanup of {prefix}* failed: {e}")),
    }

    let mut t = Table::new(
        format!(
            "cluster: 2 nodes on PostgreSQL + Redis; webhooks to node A, {} s per rate, {SOCKETS} sockets on each node",
            SEND.as_secs()
        ),
        &["path", "rate/s", "delivered", "p50 ms", "p99 ms", "max ms", "webhook ok/s", "ack p99", "cpu s/g/db/o %"],
    );
    let mut doc = serde_json::Map::new();
    for (run, label, key) in [(&result, "cluster", "cluster"), (&single, "single node", "singleNode")] {
        match run {
            Ok(c) => {
                rows(&mut t, c);
                describe(&mut report, c, label);
                doc.insert(key.into(), run_json(c));
            }
            Err(e) => report.note(format!("{label} run failed: {e}")),
        }
    }
    if let (Ok(c), Ok(s)) = (&result, &single) {
        for (st, alone) in c.steps.iter().zip(&s.steps) {
            let p99 = |l: &Lat| l.p99_us as f64 / 1000.0;
            let (same, one) = (p99(&st.a.1), p99(&alone.a.1));
            let cross = st.b.as_ref().map(|b| p99(&b.1));
            report.note(format!(
                "at {:.0}/s: same-node p99 {same:.1} ms = {:.2}x single-node {one:.1} ms; cross-node {} ms = same-node {:+.1} ms",
                st.webhooks.rate,
                same / one.max(0.001),
                cross.map(|c| format!("{c:.1}")).unwrap_or_else(|| "-".into()),
                cross.map(|c| c - same).unwrap_or_default(),
            ));
        }
    }
    for (r, p) in &pubsub {
        t.row(vec![
            "baseline: Redis PUBLISH -> SUBSCRIBE".into(),
            format!("{r:.0}"),
            format!("{}/{}", p.received, p.sent),
            p.lat.p50_ms(),
            p.lat.p99_ms(),
            p.lat.max_ms(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    doc.insert(
        "redisPubSub".into(),
        Value::Array(
            pubsub
                .iter()
                .map(|(r, p)| json!({"rate": r, "sent": p.sent, "received": p.received, "latency": p.lat.json(), "payloadBytes": PAYLOAD}))
                .collect(),
        ),
    );
    report.table(t);
    report.note(format!(
        "latency = socket receipt - webhook send to A; the single node runs the same rates and \
         sockets on a database of its own, without Redis; the Redis baseline publishes \
         {PAYLOAD}-byte messages at the same rates for {} s, latency from before PUBLISH to \
         receipt; cpu s = the nodes, over send + drain",
        REDIS_SEND.as_secs()
    ));
    report.set(
        "config",
        json!({"rates": RATES, "sendSecs": SEND.as_secs(), "socketsPerNode": SOCKETS, "customers": CUSTOMERS, "redisPrefix": prefix, "redisUrl": REDIS_URL}),
    );
    report.set("results", Value::Object(doc));
    Ok(report)
}

/// The table rows of one run: same node and cross-node per rate (the node alone: its own).
fn rows(t: &mut Table, c: &ClusterRun) {
    for st in &c.steps {
        let w = &st.webhooks;
        let mut paths = vec![(
            if c.b.is_some() { "A -> socket on A (same node)" } else { "single node: A -> socket on A" },
            &c.a,
            &st.a,
        )];
        if let (Some(side), Some(b)) = (&c.b, &st.b) {
            paths.push(("A -> socket on B (cross-node)", side, b));
        }
        for (name, side, (delivered, lat)) in paths {
            t.row(vec![
                name.into(),
                format!("{:.0}", w.rate),
                format!("{delivered}/{}", w.ok * side.opened as u64),
                lat.p50_ms(),
                lat.p99_ms(),
                lat.max_ms(),
                rate(w.ok_per_sec()),
                w.lat.p99_ms(),
                st.cpu.label(),
            ]);
        }
    }
}

/// The run's notes: incomplete delivery, the probe, failures, socket errors, the logs.
fn describe(report: &mut Report, c: &ClusterRun, label: &str) {
    if let Some(side_b) = &c.b {
        let b_total: u64 = c.steps.iter().filter_map(|s| s.b.as_ref()).map(|b| b.0).sum();
        let b_expected: u64 = c.steps.iter().map(|s| s.webhooks.ok * side_b.opened as u64).sum();
        if b_total == 0 {
            report.note(
                "no cross-node delivery (cluster mode missing?): node B's sockets received none of the messages posted to node A",
            );
        } else if b_total < b_expected {
            report.note(format!(
                "cross-node delivery incomplete: {b_total} of {b_expected} within {} s after the last send",
                DRAIN.as_secs()
            ));
        }
    }
    report.note(format!(
        "{label}: a first message after the sockets opened reached every socket on A in {}, on B in {}",
        ms(c.a.probe_ms),
        c.b.as_ref().map(|b| ms(b.probe_ms)).unwrap_or_else(|| "-".into())
    ));
    for st in &c.steps {
        let w = &st.webhooks;
        if w.ok < w.sent {
            report.note(format!(
                "{label}: webhook failures on A at {:.0}/s: {} {}",
                w.rate,
                w.failures(),
                w.samples.join(" || ")
            ));
        }
    }
    for (side, name) in [(Some(&c.a), "A"), (c.b.as_ref(), "B")] {
        let Some(side) = side else { continue };
        if !side.errors.is_empty() {
            report.note(format!("{label}: socket errors on {name}: {}", side.errors.join(" || ")));
        }
        if side.duplicates > 0 || side.dropped > 0 {
            report.note(format!(
                "{label}: node {name}: {} duplicate deliveries, {} sockets dropped",
                side.duplicates, side.dropped
            ));
        }
    }
    report.note(c.log_a.describe(&format!("{label}: node A")));
    if let Some(log_b) = &c.log_b {
        report.note(log_b.describe(&format!("{label}: node B")));
    }
}

fn run_json(c: &ClusterRun) -> Value {
    let steps = c
        .steps
        .iter()
        .map(|st| {
            let mut step = json!({
                "webhooks": st.webhooks.json(),
                "cpuSendAndDrain": st.cpu.json(),
                "sameNode": {"delivered": st.a.0, "expected": st.webhooks.ok * c.a.opened as u64, "latency": st.a.1.json()},
            });
            if let (Some(side), Some(b)) = (&c.b, &st.b) {
                step["crossNode"] =
                    json!({"delivered": b.0, "expected": st.webhooks.ok * side.opened as u64, "latency": b.1.json()});
            }
            step
        })
        .collect();
    json!({
        "steps": Value::Array(steps),
        "socketsOnA": side_json(&c.a),
        "socketsOnB": c.b.as_ref().map(side_json),
        "nodeALog": c.log_a.json(),
        "nodeBLog": c.log_b.as_ref().map(LogSummary::json),
    })
}

fn webhook(org: &Org, wamid: &str, i: u64) -> Req {
    let body = text_webhook(&org.phone_number_id, &customer(i, CUSTOMERS), wamid, &format!("cluster message {i}"));
    Req { signature: Some(sign(&body)), body, stamp: None }
}

/// Node A, and with `cluster` node B on the same database and Redis (else A alone, no Redis):
/// warm-up, sockets on each, the probe, then each rate.
async fn nodes(binary: &Path, prefix: &str, run_id: &str, cluster: bool) -> Result<ClusterRun> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CAP).timeout(Duration::from_secs(30)).build()?;
    let db = TestDb::create(DbKind::Postgres, if cluster { "cluster" } else { "single" }).await?;
    let secrets = Secrets::generate();
    let env = || match cluster {
        true => {
            vec![("CX_REDIS_URL".to_owned(), REDIS_URL.to_owned()), ("CX_REDIS_PREFIX".to_owned(), prefix.to_owned())]
        }
        false => Vec::new(),
    };
    // One after the other: both run the migrations at start.
    let mut a =
        Node::start(binary, NodeOpts { name: "lt-node-a", database_url: &db.url, secrets: &secrets, env: env() })
            .await?;
    let mut b = match cluster {
        true => Some(
            Node::start(binary, NodeOpts { name: "lt-node-b", database_url: &db.url, secrets: &secrets, env: env() })
                .await?,
        ),
        false => None,
    };
    println!(
        "  nodes up: A on {}, B on {}",
        a.port,
        b.as_ref().map(|b| b.port.to_string()).unwrap_or_else(|| "-".into())
    );
    let org = server::setup_org(&client, &a.base).await?;
    let url = a.url("/webhooks/whatsapp");
    let pids: Vec<u32> = std::iter::once(a.pid()).chain(b.as_ref().map(Node::pid)).collect();

    let warm_prefix = format!("wamid.LT{run_id}.w.");
    let warm = open_loop(
        &client,
        Plan { url: &url, rate: 200.0, duration: Duration::from_secs(2), cap: CAP, cpu_pids: &pids, stamps: None },
        |i| (i < CUSTOMERS).then(|| webhook(&org, &format!("{warm_prefix}{i}"), i)),
    )
    .await;
    if warm.ok < CUSTOMERS {
        return Err(
            format!("warm-up on A: {} of {CUSTOMERS} answered 200 ({})", warm.ok, warm.samples.join(" || ")).into()
        );
    }

    // One index space for all rates: rate n's messages are [offsets[n], offsets[n + 1]).
    let mut offsets = vec![0usize];
    for r in RATES {
        let last = offsets.last().copied().unwrap_or(0);
        offsets.push(last + (r * SEND.as_secs_f64()).ceil() as usize + 16);
    }
    let stamps = Stamps::new(offsets.last().copied().unwrap_or(0));
    let msg_prefix = format!("wamid.LT{run_id}.c.");
    let opts = || {
        let mut o = PoolOpts::new(SOCKETS);
        o.prefix = msg_prefix.clone();
        o.stamps = Some(stamps.clone());
        o
    };
    let pool_a = SocketPool::open(&a.ws_url(&org.token), opts()).await;
    let pool_b = match &b {
        Some(b) => Some(SocketPool::open(&b.ws_url(&org.token), opts()).await),
        None => None,
    };
    println!(
        "  sockets: {} on A, {} on B (failures {} / {})",
        pool_a.opened(),
        pool_b.as_ref().map_or(0, SocketPool::opened),
        pool_a.failed(),
        pool_b.as_ref().map_or(0, SocketPool::failed),
    );
    if let Some(pool_b) = &pool_b
        && pool_b.opened() == 0
    {
        return Err(format!("no socket opened on node B: {}", pool_b.shared.error_samples().join(" || ")).into());
    }

    let t0 = Instant::now();
    let probe = webhook(&org, &format!("{PROBE_PREFIX}0"), 0);
    client
        .post(&url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", probe.signature.unwrap_or_default())
        .body(probe.body)
        .send()
        .await?
        .error_for_status()?;
    let na = pool_a.opened();
    let nb = pool_b.as_ref().map_or(0, SocketPool::opened);
    let probe_a = pool_a.wait_for(PROBE_WAIT, |s| s.probes(0) >= na).await.then(|| t0.elapsed().as_secs_f64() * 1000.0);
    let mut probe_b = None;
    if let Some(pool_b) = &pool_b {
        probe_b = pool_b.wait_for(PROBE_WAIT, |s| s.probes(0) >= nb).await.then(|| t0.elapsed().as_secs_f64() * 1000.0);
        if probe_b.is_none() {
            println!(
                "  node B: {} of {nb} sockets saw the probe within {} s (cluster mode missing?)",
                pool_b.shared.probes(0),
                PROBE_WAIT.as_secs()
            );
        }
    }

    let delivered = |p: &SocketPool| p.shared.delivered.load(Ordering::Relaxed);
    let mut partial = Vec::new();
    for (n, rate) in RATES.into_iter().enumerate() {
        let (from, to) = (offsets[n], offsets[n + 1]);
        let a0 = delivered(&pool_a);
        let b0 = pool_b.as_ref().map_or(0, delivered);
        let cpu = CpuMeter::start(&pids);
        let step = open_loop(
            &client,
            Plan { url: &url, rate, duration: SEND, cap: CAP, cpu_pids: &pids, stamps: Some(&stamps) },
            |i| {
                let k = from + i as usize;
                (k < to).then(|| {
                    let mut r = webhook(&org, &format!("{msg_prefix}{k}"), k as u64);
                    r.stamp = Some(k);
                    r
                })
            },
        )
        .await;
        a.check_alive()?;
        if let Some(b) = b.as_mut() {
            b.check_alive()?;
        }
        let ok = step.ok;
        let done = |p: &SocketPool, opened: usize, before: u64| {
            let alive = opened.saturating_sub(p.shared.dropped.load(Ordering::Relaxed)) as u64;
            delivered(p) - before >= ok * alive
        };
        let deadline = Instant::now() + DRAIN;
        // If B showed nothing at the probe, waiting long for it is pointless.
        let b_deadline = if probe_b.is_some() { deadline } else { Instant::now() + Duration::from_secs(3) };
        loop {
            let a_done = done(&pool_a, na, a0);
            let b_done = pool_b.as_ref().is_none_or(|p| done(p, nb, b0)) || Instant::now() > b_deadline;
            if (a_done && b_done) || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cpu = cpu.stop();
        let da = delivered(&pool_a) - a0;
        let db_ = pool_b.as_ref().map(|p| delivered(p) - b0);
        println!(
            "  {rate:.0}/s: webhooks ok {}/{}; delivered A {da} B {db_:?}; cpu {}",
            step.ok,
            step.sent,
            cpu.label()
        );
        partial.push((step, cpu, da, db_));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let side = |shared: &super::Shared, opened: usize, probe_ms: Option<f64>| Side {
        opened,
        probe_ms,
        duplicates: shared.duplicates.load(Ordering::Relaxed),
        dropped: shared.dropped.load(Ordering::Relaxed),
        errors: shared.error_samples(),
    };
    let side_a = side(&pool_a.shared, na, probe_a);
    let side_b = pool_b.as_ref().map(|p| side(&p.shared, nb, probe_b));
    let all_a = pool_a.stop().await;
    let all_b = match pool_b {
        Some(p) => Some(p.stop().await),
        None => None,
    };
    let steps = partial
        .into_iter()
        .enumerate()
        .map(|(n, (webhooks, cpu, da, db_))| {
            let range = offsets[n]..offsets[n + 1];
            Step {
                webhooks,
                cpu,
                a: (da, Lat::of(&mut latencies_in(&all_a, range.clone()))),
                b: db_.zip(all_b.as_ref()).map(|(d, all)| (d, Lat::of(&mut latencies_in(all, range)))),
            }
        })
        .collect();
    let log_a = a.stop();
    let log_b = b.map(Node::stop);
    db.drop_db().await;
    Ok(ClusterRun { steps, a: side_a, b: side_b, log_a, log_b })
}
