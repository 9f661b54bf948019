//! `widget`: live-chat visitor -> agent socket latency with 1,000 visitor sockets open and
//! 100 messages/s in total written by the visitors (REST `POST /widget/messages`, as the widget
//! sends), printed beside the WhatsApp webhook -> agent socket latency at the same rate, on the
//! same node, with the same agent sockets, in the same run. Every (agent socket, message) pair
//! is one sample; a message is stamped when its request is sent.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::Result;
use crate::report::{Report, Table};
use crate::server::{self, DbKind, Node, NodeOpts, Org, Secrets, TestDb, sign, text_webhook};
use crate::stats::{CpuMeter, Lat};

const VISITORS: usize = 1000;
const AGENT_SOCKETS: usize = 10;
const RATE: f64 = 100.0;
const SEND: Duration = Duration::from_secs(10);
const DRAIN: Duration = Duration::from_secs(10);
const CUSTOMERS: u64 = 200;

/// Send times by message tag (`w<i>` widget, `a<i>` WhatsApp), and the agent sockets' receipts.
#[derive(Default)]
struct Clock {
    sent: Mutex<HashMap<String, Instant>>,
    /// Per path (`w` or `a`): latencies in µs, one per (socket, message).
    got: Mutex<HashMap<char, Vec<u64>>>,
}

impl Clock {
    fn mark(&self, tag: &str) {
        if let Ok(mut s) = self.sent.lock() {
            s.insert(tag.to_owned(), Instant::now());
        }
    }

    fn receive(&self, tag: &str) {
        let now = Instant::now();
        let Some(at) = self.sent.lock().ok().and_then(|s| s.get(tag).copied()) else { return };
        let path = tag.chars().next().unwrap_or('?');
        if let Ok(mut g) = self.got.lock() {
            g.entry(path).or_default().push(now.duration_since(at).as_micros() as u64);
        }
    }
}

struct PathRun {
    label: &'static str,
    sent: u64,
    ok: u64,
    ack: Lat,
    lat: Lat,
    delivered: usize,
}

pub async fn run(binary: &Path) -> Result<Report> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).timeout(Duration::from_secs(30)).build()?;
    let mut report = Report::default();
    let mut t = Table::new(
        format!(
            "widget: visitor -> agent socket beside WhatsApp webhook -> agent socket, {RATE:.0} msg/s for {} s each, \
             {VISITORS} visitor sockets open, {AGENT_SOCKETS} agent sockets",
            SEND.as_secs()
        ),
        &["server", "path", "sent", "ok", "delivered", "p50 ms", "p99 ms", "max ms", "send ack p99", "cpu s/g/db/o %"],
    );
    let mut all = Vec::new();
    for kind in [DbKind::Sqlite, DbKind::Postgres] {
        println!("cx-inbox on {}", kind.label());
        match one(binary, kind, &client).await {
            Ok((runs, note, cpu)) => {
                for (r, cpu) in runs.iter().zip(cpu) {
                    t.row(vec![
                        format!("cx-inbox {}", kind.label()),
                        r.label.to_owned(),
                        r.sent.to_string(),
                        r.ok.to_string(),
                        format!("{}/{}", r.delivered, r.ok as usize * AGENT_SOCKETS),
                        r.lat.p50_ms(),
                        r.lat.p99_ms(),
                        r.lat.max_ms(),
                        r.ack.p99_ms(),
                        cpu,
                    ]);
                    all.push(json!({"db": kind.label(), "path": r.label, "sent": r.sent, "ok": r.ok,
                        "delivered": r.delivered, "latency": r.lat.json(), "ack": r.ack.json()}));
                }
                report.note(note);
            }
            Err(e) => report.note(format!("{} run failed: {e}", kind.label())),
        }
    }
    report.table(t);
    report.note(
        "latency = an agent socket's receipt of message.created - the send of the message's request (same clock, this \
         process); widget messages are written by 1,000 distinct visitors round robin, WhatsApp ones by 200 customers; \
         every conversation was opened in a warm-up first, so both paths measure a message into an existing one",
    );
    report.set(
        "config",
        json!({"visitors": VISITORS, "agentSockets": AGENT_SOCKETS, "rate": RATE, "sendSecs": SEND.as_secs()}),
    );
    report.set("runs", Value::Array(all));
    Ok(report)
}

async fn one(binary: &Path, kind: DbKind, client: &reqwest::Client) -> Result<(Vec<PathRun>, String, Vec<String>)> {
    let db = TestDb::create(kind, "widget").await?;
    let secrets = Secrets::generate();
    let env = vec![
        ("CX_WIDGET_VISITOR_RATE".to_owned(), "1000".to_owned()),
        ("CX_WIDGET_IP_RATE".to_owned(), "1000000".to_owned()),
    ];
    let mut node =
        Node::start(binary, NodeOpts { name: "lt-widget", database_url: &db.url, secrets: &secrets, env }).await?;
    let org = server::setup_org(client, &node.base).await?;
    let res = client
        .post(node.url("/api/v1/inboxes"))
        .bearer_auth(&org.token)
        .json(&json!({"channel": "livechat", "name": "Web"}))
        .send()
        .await?;
    let inbox: Value = res.json().await?;
    let website_token = inbox["data"]["websiteToken"].as_str().ok_or("no website token")?.to_owned();

    // Visitors and their sockets.
    let started = Instant::now();
    let tokens: Vec<String> = stream::iter(0..VISITORS)
        .map(|_| {
            let (client, url, wt) = (client.clone(), node.url("/widget/sessions"), website_token.clone());
            async move {
                let v: Value =
                    client.post(url).json(&json!({"websiteToken": wt})).send().await.ok()?.json().await.ok()?;
                v["data"]["visitorToken"].as_str().map(str::to_owned)
            }
        })
        .buffer_unordered(32)
        .filter_map(|t| async move { t })
        .collect()
        .await;
    if tokens.len() < VISITORS {
        return Err(format!("only {} of {VISITORS} visitor sessions", tokens.len()).into());
    }
    // Warm-up: each visitor's first message opens its conversation; each customer's too.
    write_widget(client, &node, &tokens, VISITORS as u64, 200.0, "warm", None).await;
    write_whatsapp(client, &node, &org, CUSTOMERS, 200.0, "warm", None).await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut sockets = JoinSet::new();
    let opened = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for t in &tokens {
        let url = format!("ws://127.0.0.1:{}/widget/ws?visitorToken={t}", node.port);
        let opened = opened.clone();
        sockets.spawn(async move {
            let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else { return };
            opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            while let Some(Ok(_)) = ws.next().await {}
        });
        if sockets.len() % 100 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let clock = Arc::new(Clock::default());
    for _ in 0..AGENT_SOCKETS {
        let (mut ws, _) = tokio_tungstenite::connect_async(node.ws_url(&org.token)).await?;
        let clock = clock.clone();
        sockets.spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                let Message::Text(t) = m else { continue };
                if !t.contains("\"message.created\"") {
                    continue;
                }
                let Ok(v) = serde_json::from_str::<Value>(&t) else { continue };
                if let Some(tag) = v["data"]["text"].as_str().and_then(|s| s.strip_prefix("lt-")) {
                    clock.receive(tag);
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let open = opened.load(std::sync::atomic::Ordering::Relaxed);
    let pids = [node.pid()];

    let mut runs = Vec::new();
    let mut cpus = Vec::new();
    let n = (RATE * SEND.as_secs_f64()) as u64;
    let cpu = CpuMeter::start(&pids);
    let (sent, ok, ack) = write_widget(client, &node, &tokens, n, RATE, "w", Some(&clock)).await;
    tokio::time::sleep(DRAIN).await;
    cpus.push(cpu.stop().label());
    runs.push(path_run("widget visitor", &clock, 'w', sent, ok, ack));
    let cpu = CpuMeter::start(&pids);
    let (sent, ok, ack) = write_whatsapp(client, &node, &org, n, RATE, "a", Some(&clock)).await;
    tokio::time::sleep(DRAIN).await;
    cpus.push(cpu.stop().label());
    runs.push(path_run("WhatsApp webhook", &clock, 'a', sent, ok, ack));

    sockets.abort_all();
    node.check_alive()?;
    let log = node.stop();
    db.drop_db().await;
    let note = format!(
        "{}: {open}/{VISITORS} visitor sockets open (sessions and sockets in {:.1} s); {}",
        kind.label(),
        started.elapsed().as_secs_f64(),
        log.describe("server")
    );
    Ok((runs, note, cpus))
}

fn path_run(label: &'static str, clock: &Clock, path: char, sent: u64, ok: u64, mut ack: Vec<u64>) -> PathRun {
    let mut lat = clock.got.lock().map(|mut g| g.remove(&path).unwrap_or_default()).unwrap_or_default();
    PathRun { label, sent, ok, delivered: lat.len(), lat: Lat::of(&mut lat), ack: Lat::of(&mut ack) }
}

/// Sends `n` requests at `rate`/s (open loop), each as its own task; answers sent, ok and the
/// request latencies in µs.
async fn open_loop<F>(n: u64, rate: f64, make: F) -> (u64, u64, Vec<u64>)
where
    F: Fn(u64) -> reqwest::RequestBuilder,
{
    let mut tasks = JoinSet::new();
    let start = tokio::time::Instant::now();
    for i in 0..n {
        tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / rate)).await;
        let req = make(i);
        tasks.spawn(async move {
            let at = Instant::now();
            let ok = req.send().await.map(|r| r.status().is_success()).unwrap_or(false);
            (ok, at.elapsed().as_micros() as u64)
        });
    }
    let (mut ok, mut lat) = (0, Vec::new());
    while let Some(Ok((good, us))) = tasks.join_next().await {
        ok += good as u64;
        lat.push(us);
    }
    (n, ok, lat)
}

async fn write_widget(
    client: &reqwest::Client,
    node: &Node,
    tokens: &[String],
    n: u64,
    rate: f64,
    tag: &str,
    clock: Option<&Arc<Clock>>,
) -> (u64, u64, Vec<u64>) {
    let url = node.url("/widget/messages");
    open_loop(n, rate, |i| {
        let vt = &tokens[(i as usize) % tokens.len()];
        let label = format!("{tag}{i}");
        if let Some(c) = clock {
            c.mark(&label);
        }
        client.post(&url).header("X-Visitor-Token", vt).json(&json!({"clientId": label, "text": format!("lt-{label}")}))
    })
    .await
}

async fn write_whatsapp(
    client: &reqwest::Client,
    node: &Node,
    org: &Org,
    n: u64,
    rate: f64,
    tag: &str,
    clock: Option<&Arc<Clock>>,
) -> (u64, u64, Vec<u64>) {
    let url = node.url("/webhooks/whatsapp");
    let run: u32 = rand::random();
    open_loop(n, rate, |i| {
        let label = format!("{tag}{i}");
        let body = text_webhook(
            &org.phone_number_id,
            &server::customer(i, CUSTOMERS),
            &format!("wamid.LTW{run:08x}.{label}"),
            &format!("lt-{label}"),
        );
        if let Some(c) = clock {
            c.mark(&label);
        }
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(&body))
            .body(body)
    })
    .await
}
