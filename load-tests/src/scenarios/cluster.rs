//! `cluster`: two nodes on one PostgreSQL and one Redis. Webhooks go to node A; agent sockets
//! on node B measure cross-node delivery, sockets on A the same-node delivery of the same
//! messages. Baseline: raw Redis PUBLISH -> subscriber on the same Redis.

use std::path::Path;
use std::sync::Arc;
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
    /// (delivered, latency) on A and on B.
    a: (u64, Lat),
    b: (u64, Lat),
}

struct ClusterRun {
    steps: Vec<Step>,
    a: Side,
    b: Side,
    log_a: LogSummary,
    log_b: LogSummary,
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

    let result = nodes(binary, &prefix, &run_id).await;
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
    match &result {
        Ok(c) => {
            for st in &c.steps {
                let w = &st.webhooks;
                for (name, side, (delivered, lat)) in
                    [("A -> socket on A (same node)", &c.a, &st.a), ("A -> socket on B (cross-node)", &c.b, &st.b)]
                {
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
            let b_total: u64 = c.steps.iter().map(|s| s.b.0).sum();
            let b_expected: u64 = c.steps.iter().map(|s| s.webhooks.ok * c.b.opened as u64).sum();
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
            report.note(format!(
                "a first message after the sockets opened reached every socket on A in {}, on B in {}",
                ms(c.a.probe_ms),
                ms(c.b.probe_ms)
            ));
            for st in &c.steps {
                let w = &st.webhooks;
                if w.ok < w.sent {
                    report.note(format!(
                        "webhook failures on A at {:.0}/s: {} {}",
                        w.rate,
                        w.failures(),
                        w.samples.join(" || ")
                    ));
                }
            }
            for (side, name) in [(&c.a, "A"), (&c.b, "B")] {
                if !side.errors.is_empty() {
                    report.note(format!("socket errors on {name}: {}", side.errors.join(" || ")));
                }
                if side.duplicates > 0 || side.dropped > 0 {
                    report.note(format!(
                        "node {name}: {} duplicate deliveries, {} sockets dropped",
                        side.duplicates, side.dropped
                    ));
                }
            }
            report.note(c.log_a.describe("node A"));
            report.note(c.log_b.describe("node B"));
            doc.insert(
                "steps".into(),
                Value::Array(
                    c.steps
                        .iter()
                        .map(|st| {
                            json!({
                                "webhooks": st.webhooks.json(),
                                "cpuSendAndDrain": st.cpu.json(),
                                "sameNode": {"delivered": st.a.0, "expected": st.webhooks.ok * c.a.opened as u64, "latency": st.a.1.json()},
                                "crossNode": {"delivered": st.b.0, "expected": st.webhooks.ok * c.b.opened as u64, "latency": st.b.1.json()},
                            })
                        })
                        .collect(),
                ),
            );
            doc.insert("socketsOnA".into(), side_json(&c.a));
            doc.insert("socketsOnB".into(), side_json(&c.b));
            doc.insert("nodeALog".into(), c.log_a.json());
            doc.insert("nodeBLog".into(), c.log_b.json());
        }
        Err(e) => report.note(format!("cluster run failed: {e}")),
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
        "latency = socket receipt - webhook send to A; the Redis baseline publishes {PAYLOAD}-byte \
         messages at the same rates for {} s, latency from before PUBLISH to receipt; cpu s = both \
         nodes, over send + drain",
        REDIS_SEND.as_secs()
    ));
    report.set(
        "config",
        json!({"rates": RATES, "sendSecs": SEND.as_secs(), "socketsPerNode": SOCKETS, "customers": CUSTOMERS, "redisPrefix": prefix, "redisUrl": REDIS_URL}),
    );
    report.set("results", Value::Object(doc));
    Ok(report)
}

fn webhook(org: &Org, wamid: &str, i: u64) -> Req {
    let body = text_webhook(&org.phone_number_id, &customer(i, CUSTOMERS), wamid, &format!("cluster message {i}"));
    Req { signature: Some(sign(&body)), body, stamp: None }
}

async fn nodes(binary: &Path, prefix: &str, run_id: &str) -> Result<ClusterRun> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CAP).timeout(Duration::from_secs(30)).build()?;
    let db = TestDb::create(DbKind::Postgres, "cluster").await?;
    let secrets = Secrets::generate();
    let env =
        || vec![("CX_REDIS_URL".to_owned(), REDIS_URL.to_owned()), ("CX_REDIS_PREFIX".to_owned(), prefix.to_owned())];
    // One after the other: both run the migrations at start.
    let mut a =
        Node::start(binary, NodeOpts { name: "lt-node-a", database_url: &db.url, secrets: &secrets, env: env() })
            .await?;
    let mut b =
        Node::start(binary, NodeOpts { name: "lt-node-b", database_url: &db.url, secrets: &secrets, env: env() })
            .await?;
    println!("  nodes up: A on {}, B on {}", a.port, b.port);
    let org = server::setup_org(&client, &a.base).await?;
    let url = a.url("/webhooks/whatsapp");
    let pids = [a.pid(), b.pid()];

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
    let pool_b = SocketPool::open(&b.ws_url(&org.token), opts()).await;
    println!(
        "  sockets: {} on A, {} on B (failures {} / {})",
        pool_a.opened(),
        pool_b.opened(),
        pool_a.failed(),
        pool_b.failed()
    );
    if pool_b.opened() == 0 {
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
    let (na, nb) = (pool_a.opened(), pool_b.opened());
    let probe_a = pool_a.wait_for(PROBE_WAIT, |s| s.probes(0) >= na).await.then(|| t0.elapsed().as_secs_f64() * 1000.0);
    let probe_b = pool_b.wait_for(PROBE_WAIT, |s| s.probes(0) >= nb).await.then(|| t0.elapsed().as_secs_f64() * 1000.0);
    if probe_b.is_none() {
        println!(
            "  node B: {} of {nb} sockets saw the probe within {} s (cluster mode missing?)",
            pool_b.shared.probes(0),
            PROBE_WAIT.as_secs()
        );
    }

    let mut partial = Vec::new();
    for (n, rate) in RATES.into_iter().enumerate() {
        let (from, to) = (offsets[n], offsets[n + 1]);
        let a0 = pool_a.shared.delivered.load(Ordering::Relaxed);
        let b0 = pool_b.shared.delivered.load(Ordering::Relaxed);
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
        b.check_alive()?;
        let ok = step.ok;
        let done = |p: &SocketPool, opened: usize, before: u64| {
            let alive = opened.saturating_sub(p.shared.dropped.load(Ordering::Relaxed)) as u64;
            p.shared.delivered.load(Ordering::Relaxed) - before >= ok * alive
        };
        let deadline = Instant::now() + DRAIN;
        // If B showed nothing at the probe, waiting long for it is pointless.
        let b_deadline = if probe_b.is_some() { deadline } else { Instant::now() + Duration::from_secs(3) };
        loop {
            let a_done = done(&pool_a, na, a0);
            let b_done = done(&pool_b, nb, b0) || Instant::now() > b_deadline;
            if (a_done && b_done) || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cpu = cpu.stop();
        let da = pool_a.shared.delivered.load(Ordering::Relaxed) - a0;
        let db_ = pool_b.shared.delivered.load(Ordering::Relaxed) - b0;
        println!("  {rate:.0}/s: webhooks ok {}/{}; delivered A {da} B {db_}; cpu {}", step.ok, step.sent, cpu.label());
        partial.push((step, cpu, da, db_));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let shared_a = Arc::clone(&pool_a.shared);
    let shared_b = Arc::clone(&pool_b.shared);
    let all_a = pool_a.stop().await;
    let all_b = pool_b.stop().await;
    let steps = partial
        .into_iter()
        .enumerate()
        .map(|(n, (webhooks, cpu, da, db_))| {
            let range = offsets[n]..offsets[n + 1];
            Step {
                webhooks,
                cpu,
                a: (da, Lat::of(&mut latencies_in(&all_a, range.clone()))),
                b: (db_, Lat::of(&mut latencies_in(&all_b, range))),
            }
        })
        .collect();
    let side = |shared: &super::Shared, opened: usize, probe_ms: Option<f64>| Side {
        opened,
        probe_ms,
        duplicates: shared.duplicates.load(Ordering::Relaxed),
        dropped: shared.dropped.load(Ordering::Relaxed),
        errors: shared.error_samples(),
    };
    let side_a = side(&shared_a, na, probe_a);
    let side_b = side(&shared_b, nb, probe_b);
    let log_a = a.stop();
    let log_b = b.stop();
    db.drop_db().await;
    Ok(ClusterRun { steps, a: side_a, b: side_b, log_a, log_b })
}
