//! The scenarios, and the two load tools they share: an open-loop HTTP sender and a pool of
//! WebSocket clients that timestamp every `message.created` they receive.

pub mod campaign;
pub mod cluster;
pub mod e2e;
pub mod ingest;
pub mod scale;
pub mod sockets;
pub mod ui;
pub mod widget;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::stats::{CpuMeter, CpuUse, Lat};

/// Each wamid's send time, so a socket can compute the delay of what it receives. Indexed by
/// the number at the end of the wamid: no map, no lock on the receive path.
pub struct Stamps {
    base: Instant,
    /// Microseconds since `base`, plus one (0 = not sent yet).
    at: Vec<AtomicU64>,
}

impl Stamps {
    pub fn new(n: usize) -> Arc<Stamps> {
        Arc::new(Stamps { base: Instant::now(), at: (0..n).map(|_| AtomicU64::new(0)).collect() })
    }

    pub fn now_us(&self) -> u64 {
        self.base.elapsed().as_micros() as u64
    }

    pub fn mark(&self, i: usize) {
        if let Some(slot) = self.at.get(i) {
            slot.store(self.now_us() + 1, Ordering::Relaxed);
        }
    }

    pub fn sent_us(&self, i: usize) -> Option<u64> {
        match self.at.get(i)?.load(Ordering::Relaxed) {
            0 => None,
            t => Some(t - 1),
        }
    }

    pub fn len(&self) -> usize {
        self.at.len()
    }
}

/// One request of an open-loop run.
pub struct Req {
    pub body: Vec<u8>,
    pub signature: Option<String>,
    /// Index into the stamps, when the run has them.
    pub stamp: Option<usize>,
}

/// The outcome of one open-loop step.
#[derive(Default)]
pub struct StepResult {
    pub rate: f64,
    pub sent: u64,
    pub ok: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub errors: u64,
    pub samples: Vec<String>,
    pub lat: Lat,
    /// From the first send to the last answer.
    pub elapsed: f64,
    /// From the first send to the last send.
    pub send_secs: f64,
    pub cpu: CpuUse,
}

impl StepResult {
    pub fn ok_per_sec(&self) -> f64 {
        self.ok as f64 / self.elapsed.max(1e-3)
    }

    pub fn sent_per_sec(&self) -> f64 {
        self.sent as f64 / self.send_secs.max(1e-3)
    }

    /// Non-200 answers and transport errors, e.g. "503x12 err x3".
    pub fn failures(&self) -> String {
        let mut parts: Vec<String> =
            self.statuses.iter().filter(|(s, _)| **s != 200).map(|(s, n)| format!("{s}x{n}")).collect();
        if self.errors > 0 {
            parts.push(format!("errx{}", self.errors));
        }
        if parts.is_empty() { "0".into() } else { parts.join(" ") }
    }

    pub fn json(&self) -> Value {
        json!({
            "targetRate": self.rate,
            "sent": self.sent,
            "sentPerSec": self.sent_per_sec(),
            "ok": self.ok,
            "okPerSec": self.ok_per_sec(),
            "statuses": self.statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "transportErrors": self.errors,
            "failureSamples": self.samples,
            "ackLatency": self.lat.json(),
            "elapsedSecs": self.elapsed,
            "cpu": self.cpu.json(),
        })
    }
}

enum Outcome {
    Status(u16, Option<String>),
    Error(String),
}

/// What an open-loop run sends where.
pub struct Plan<'a> {
    pub url: &'a str,
    pub rate: f64,
    pub duration: Duration,
    pub cap: usize,
    /// Processes whose CPU use is reported beside the results.
    pub cpu_pids: &'a [u32],
    pub stamps: Option<&'a Arc<Stamps>>,
}

/// Sends at `rate` per second for `duration` on a fixed schedule (open loop: a slow answer
/// does not delay the next send) with at most `cap` requests in flight; past the cap the
/// schedule slips, which shows as `sent/s` below the target. Latency runs from the send to the
/// end of the answer. `make(i)` builds request `i`; `None` ends the run early.
pub async fn open_loop(
    client: &reqwest::Client,
    plan: Plan<'_>,
    mut make: impl FnMut(u64) -> Option<Req>,
) -> StepResult {
    let Plan { url, rate, duration, cap, cpu_pids, stamps } = plan;
    let sem = Arc::new(Semaphore::new(cap));
    let mut set: JoinSet<(u64, Outcome)> = JoinSet::new();
    let mut res = StepResult { rate, ..StepResult::default() };
    let mut lats: Vec<u64> = Vec::new();
    let cpu = CpuMeter::start(cpu_pids);
    let start = tokio::time::Instant::now();
    let end = start + duration;
    let mut i: u64 = 0;
    loop {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        if due >= end {
            break;
        }
        tokio::time::sleep_until(due).await;
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        if tokio::time::Instant::now() >= end {
            break;
        }
        let Some(req) = make(i) else { break };
        let mut builder = client.post(url).header("content-type", "application/json").body(req.body);
        if let Some(sig) = req.signature {
            builder = builder.header("x-hub-signature-256", sig);
        }
        if let (Some(st), Some(k)) = (stamps, req.stamp) {
            st.mark(k);
        }
        set.spawn(async move {
            let t0 = Instant::now();
            let outcome = match builder.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let body = r.bytes().await;
                    let sample = (status != 200).then(|| match body {
                        Ok(b) => String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned(),
                        Err(e) => e.to_string(),
                    });
                    Outcome::Status(status, sample)
                }
                Err(e) => Outcome::Error(error_chain(&e)),
            };
            drop(permit);
            (t0.elapsed().as_micros() as u64, outcome)
        });
        res.sent += 1;
        i += 1;
        // Collect finished requests as we go, so the set stays small.
        while let Some(done) = set.try_join_next() {
            record(&mut res, &mut lats, done);
        }
    }
    res.send_secs = start.elapsed().as_secs_f64();
    while let Some(done) = set.join_next().await {
        record(&mut res, &mut lats, done);
    }
    res.elapsed = start.elapsed().as_secs_f64();
    res.cpu = cpu.stop();
    res.lat = Lat::of(&mut lats);
    res
}

fn record(res: &mut StepResult, lats: &mut Vec<u64>, done: Result<(u64, Outcome), tokio::task::JoinError>) {
    match done {
        Ok((us, Outcome::Status(status, sample))) => {
            *res.statuses.entry(status).or_default() += 1;
            if status == 200 {
                res.ok += 1;
                lats.push(us);
            } else if let Some(s) = sample
                && res.samples.len() < 3
            {
                res.samples.push(format!("{status}: {s}"));
            }
        }
        Ok((_, Outcome::Error(e))) => {
            res.errors += 1;
            if res.samples.len() < 3 {
                res.samples.push(e);
            }
        }
        Err(e) => {
            res.errors += 1;
            if res.samples.len() < 3 {
                res.samples.push(e.to_string());
            }
        }
    }
}

/// The error and its causes: reqwest's top-level message alone hides timeouts and refusals.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// What the socket pool is told to do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ctl {
    Run,
    /// Echo mode only: every socket sends probe `k` and expects it back.
    Probe(usize),
    Stop,
}

/// Counters shared by all sockets of a pool.
pub struct Shared {
    /// Prefix of the wamids the run sends; the rest is the index into `stamps`.
    prefix: String,
    stamps: Option<Arc<Stamps>>,
    /// How many sockets have seen probe `k` (a probe is a message every socket must receive).
    pub probe_hits: Vec<AtomicUsize>,
    /// (socket, message) deliveries of the run's messages.
    pub delivered: AtomicU64,
    pub duplicates: AtomicU64,
    pub frames: AtomicU64,
    pub frame_bytes: AtomicU64,
    pub opened: AtomicUsize,
    pub failed: AtomicUsize,
    /// Sockets the server closed or broke after they opened.
    pub dropped: AtomicUsize,
    pub errors: Mutex<Vec<String>>,
    abort: AtomicBool,
}

pub const PROBE_PREFIX: &str = "wamid.LTPROBE.";

impl Shared {
    pub fn probes(&self, k: usize) -> usize {
        self.probe_hits.get(k).map(|a| a.load(Ordering::Relaxed)).unwrap_or(0)
    }

    fn note_error(&self, e: String) {
        if let Ok(mut v) = self.errors.lock()
            && v.len() < 5
        {
            v.push(e);
        }
    }

    pub fn error_samples(&self) -> Vec<String> {
        self.errors.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// How a socket pool opens and what it listens for.
pub struct PoolOpts {
    pub n: usize,
    /// Handshakes under way at once.
    pub parallel: usize,
    /// Stop opening more after this many failures.
    pub max_failures: usize,
    /// Stop opening more after this long.
    pub budget: Duration,
    /// Prefix of the run's wamids; the rest is the index into `stamps`.
    pub prefix: String,
    pub stamps: Option<Arc<Stamps>>,
    /// Answer `Ctl::Probe` by sending the probe (echo baseline).
    pub echo: bool,
}

impl PoolOpts {
    pub fn new(n: usize) -> PoolOpts {
        PoolOpts {
            n,
            parallel: 64,
            max_failures: 50,
            budget: Duration::from_secs(60),
            prefix: "wamid.none.".into(),
            stamps: None,
            echo: false,
        }
    }
}

/// Many WebSocket clients, each a task that reads until told to stop.
pub struct SocketPool {
    pub shared: Arc<Shared>,
    ctl: watch::Sender<Ctl>,
    tasks: JoinSet<Vec<(u32, u32)>>,
    pub open_secs: f64,
}

impl SocketPool {
    /// Opens up to `opts.n` sockets to `url`.
    pub async fn open(url: &str, opts: PoolOpts) -> SocketPool {
        let PoolOpts { n, parallel, max_failures, budget, prefix, stamps, echo } = opts;
        let shared = Arc::new(Shared {
            prefix,
            stamps,
            probe_hits: (0..16).map(|_| AtomicUsize::new(0)).collect(),
            delivered: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            frame_bytes: AtomicU64::new(0),
            opened: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            errors: Mutex::new(Vec::new()),
            abort: AtomicBool::new(false),
        });
        let (ctl, ctl_rx) = watch::channel(Ctl::Run);
        let gate = Arc::new(Semaphore::new(parallel));
        let mut tasks = JoinSet::new();
        let started = Instant::now();
        for _ in 0..n {
            let shared = shared.clone();
            let gate = gate.clone();
            let url = url.to_owned();
            let ctl_rx = ctl_rx.clone();
            tasks.spawn(async move {
                let Ok(permit) = gate.acquire_owned().await else {
                    return Vec::new();
                };
                if shared.abort.load(Ordering::Relaxed) {
                    return Vec::new();
                }
                // Frames are ~1 KiB: tungstenite's default 128 KiB read buffer would cost the
                // generator over a gigabyte at 10,000 sockets for nothing.
                let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
                let conn = tokio::time::timeout(
                    Duration::from_secs(10),
                    tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true),
                )
                .await;
                drop(permit);
                let ws = match conn {
                    Ok(Ok((ws, _))) => ws,
                    Ok(Err(e)) => {
                        shared.failed.fetch_add(1, Ordering::Relaxed);
                        shared.note_error(error_chain(&e));
                        return Vec::new();
                    }
                    Err(_) => {
                        shared.failed.fetch_add(1, Ordering::Relaxed);
                        shared.note_error("handshake timed out after 10 s".into());
                        return Vec::new();
                    }
                };
                shared.opened.fetch_add(1, Ordering::Relaxed);
                read_loop(ws, shared, ctl_rx, echo).await
            });
        }
        // Wait for every handshake to settle, stopping early on failures or the budget.
        let deadline = started + budget;
        loop {
            let opened = shared.opened.load(Ordering::Relaxed);
            let failed = shared.failed.load(Ordering::Relaxed);
            if opened + failed >= n {
                break;
            }
            if failed >= max_failures || Instant::now() > deadline {
                shared.abort.store(true, Ordering::Relaxed);
                // Handshakes already under way get their 10 s.
                tokio::time::sleep(Duration::from_secs(1)).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        SocketPool { shared, ctl, tasks, open_secs: started.elapsed().as_secs_f64() }
    }

    pub fn opened(&self) -> usize {
        self.shared.opened.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> usize {
        self.shared.failed.load(Ordering::Relaxed)
    }

    pub fn probe(&self, k: usize) {
        let _ = self.ctl.send(Ctl::Probe(k));
    }

    /// Waits until `enough()` holds or `wait` passes; true if it held.
    pub async fn wait_for(&self, wait: Duration, enough: impl Fn(&Shared) -> bool) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            if enough(&self.shared) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops every socket and returns every delivery as (message index, latency in µs).
    pub async fn stop(mut self) -> Vec<(u32, u32)> {
        let _ = self.ctl.send(Ctl::Stop);
        let mut all = Vec::new();
        while let Some(r) = self.tasks.join_next().await {
            if let Ok(mut v) = r {
                all.append(&mut v);
            }
        }
        all
    }
}

/// Latencies (µs) of the deliveries whose message index is in `range`.
pub fn latencies_in(all: &[(u32, u32)], range: std::ops::Range<usize>) -> Vec<u64> {
    all.iter().filter(|(i, _)| range.contains(&(*i as usize))).map(|(_, us)| u64::from(*us)).collect()
}

async fn read_loop(
    mut ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    shared: Arc<Shared>,
    mut ctl: watch::Receiver<Ctl>,
    echo: bool,
) -> Vec<(u32, u32)> {
    let mut lats = Vec::new();
    let mut seen: Vec<u64> = match &shared.stamps {
        Some(s) => vec![0; s.len().div_ceil(64)],
        None => Vec::new(),
    };
    let mut probes_seen = 0u32;
    loop {
        tokio::select! {
            changed = ctl.changed() => {
                if changed.is_err() {
                    break;
                }
                let c = *ctl.borrow_and_update();
                match c {
                    Ctl::Stop => break,
                    Ctl::Probe(k) if echo => {
                        let frame = format!(
                            r#"{{"event":"message.created","data":{{"providerMessageId":"{PROBE_PREFIX}{k}"}}}}"#
                        );
                        if ws.send(Message::text(frame)).await.is_err() {
                            shared.dropped.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    on_text(&t, &shared, &mut lats, &mut seen, &mut probes_seen);
                }
                Some(Ok(Message::Close(_))) | None => {
                    shared.dropped.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Some(Err(e)) => {
                    shared.dropped.fetch_add(1, Ordering::Relaxed);
                    shared.note_error(format!("socket broke: {e}"));
                    break;
                }
                Some(Ok(_)) => {}
            },
        }
    }
    lats
}

/// Handles one frame: cheap substring search rather than a JSON parse, since a run receives
/// up to a few hundred thousand frames per second on a shared 2-core machine.
fn on_text(t: &str, shared: &Shared, lats: &mut Vec<(u32, u32)>, seen: &mut [u64], probes_seen: &mut u32) {
    let now = shared.stamps.as_ref().map(|s| s.now_us());
    shared.frames.fetch_add(1, Ordering::Relaxed);
    shared.frame_bytes.fetch_add(t.len() as u64, Ordering::Relaxed);
    if !t.starts_with(r#"{"event":"message.created""#) {
        return;
    }
    let Some(id) = provider_message_id(t) else {
        return;
    };
    if let Some(k) = id.strip_prefix(PROBE_PREFIX) {
        if let Ok(k) = k.parse::<u32>()
            && k < 32
            && *probes_seen & (1 << k) == 0
        {
            *probes_seen |= 1 << k;
            if let Some(h) = shared.probe_hits.get(k as usize) {
                h.fetch_add(1, Ordering::Relaxed);
            }
        }
        return;
    }
    let (Some(rest), Some(stamps), Some(now)) = (id.strip_prefix(&shared.prefix), &shared.stamps, now) else {
        return;
    };
    let Ok(i) = rest.parse::<usize>() else {
        return;
    };
    let Some(word) = seen.get_mut(i / 64) else {
        return;
    };
    if *word & (1 << (i % 64)) != 0 {
        shared.duplicates.fetch_add(1, Ordering::Relaxed);
        return;
    }
    *word |= 1 << (i % 64);
    if let Some(sent) = stamps.sent_us(i) {
        let us = now.saturating_sub(sent).min(u64::from(u32::MAX)) as u32;
        lats.push((i as u32, us));
        shared.delivered.fetch_add(1, Ordering::Relaxed);
    }
}

/// The `providerMessageId` of a `message.created` frame, found without parsing the JSON; the
/// message's own id comes before the nested conversation, so the first match is the one.
fn provider_message_id(t: &str) -> Option<&str> {
    const KEY: &str = r#""providerMessageId":""#;
    let start = t.find(KEY)? + KEY.len();
    let len = t[start..].find('"')?;
    Some(&t[start..start + len])
}

/// A `message.created` frame in the server's shape, padded to `size` bytes, for the bare
/// broadcast baseline (so it moves as many bytes per event as the server does).
pub fn fake_event(wamid: &str, size: usize) -> String {
    let head = format!(
        r#"{{"event":"message.created","conversationId":"c","seq":1,"cursor":"x","data":{{"providerMessageId":"{wamid}","text":""#
    );
    let tail = r#""}}"#;
    let pad = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wamid_is_found_without_parsing() {
        let e = fake_event("wamid.LT1.42", 300);
        assert_eq!(e.len(), 300);
        let v: Value = serde_json::from_str(&e).unwrap();
        assert_eq!(v["data"]["providerMessageId"], "wamid.LT1.42");
        assert_eq!(provider_message_id(&e), Some("wamid.LT1.42"));
    }
}
