//! `ui`: webhook -> message painted in the agent app, in headless Chromium (Debian's, through
//! chromedriver), at 20 messages/s with 1,000 conversations in the organization and the All list
//! open; beside it, the same messages' webhook -> agent socket latency on a socket of this
//! process, measured in the same run. Each message lands in a random conversation, which moves
//! to the top of the list with the message as its preview: the moment the page's next animation
//! frame runs after that text entered the DOM is its paint time. Also the agent app's initial
//! JavaScript, gzipped, from the committed build.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use webdriver::Browser;

use super::{Plan, Req, open_loop};
use crate::Result;
use crate::report::{Report, Table};
use crate::server::{self, DbKind, Node, NodeOpts, Secrets, TestDb, customer, sign, text_webhook};
use crate::stats::{CpuMeter, Lat};

const CONVERSATIONS: u64 = 1000;
const RATE: f64 = 20.0;
const SEND: Duration = Duration::from_secs(10);
const DRAIN: Duration = Duration::from_secs(20);

/// Records, in the page, when each benchmark message's text first reached the screen.
const OBSERVER: &str = r#"
window.__painted = {};
const seen = window.__painted;
new MutationObserver((mutations) => {
  const found = [];
  for (const m of mutations) {
    const nodes = m.type === 'characterData' ? [m.target] : [...m.addedNodes];
    for (const n of nodes) {
      for (const hit of (n.textContent || '').matchAll(/ui-bench (\d+) /g)) {
        if (!(hit[1] in seen)) found.push(hit[1]);
      }
    }
  }
  if (found.length) {
    requestAnimationFrame(() => {
      const at = performance.timeOrigin + performance.now();
      for (const f of found) if (!(f in seen)) seen[f] = at;
    });
  }
}).observe(document.body, { subtree: true, childList: true, characterData: true });
"#;

fn epoch_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

pub async fn run(binary: &Path) -> Result<Report> {
    let mut report = Report::default();
    let initial_js = initial_js_gzipped()?;
    let browser = Browser::launch().await.map_err(|e| format!("the ui scenario needs Chromium: {e}"))?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let db = TestDb::create(DbKind::Sqlite, "ui").await?;
    let secrets = Secrets::generate();
    let mut node =
        Node::start(binary, NodeOpts { name: "lt-ui", database_url: &db.url, secrets: &secrets, env: Vec::new() })
            .await?;
    let result = measure(&client, &browser, &mut node).await;
    node.check_alive()?;
    let log = node.stop();
    db.drop_db().await;
    drop(browser);
    let m = result?;

    let mut t = Table::new(
        format!(
            "ui: webhook -> painted in the agent app (headless Chromium, All list open), {CONVERSATIONS} conversations, {RATE:.0} msg/s for {} s",
            SEND.as_secs()
        ),
        &["path", "delivered", "p50 ms", "p99 ms", "max ms", "cpu s/g/db/o %"],
    );
    t.row(vec![
        "webhook -> painted in the browser".into(),
        format!("{}/{}", m.painted.count, m.sent),
        m.painted.p50_ms(),
        m.painted.p99_ms(),
        m.painted.max_ms(),
        m.cpu.clone(),
    ]);
    t.row(vec![
        "baseline: webhook -> agent socket".into(),
        format!("{}/{}", m.socket.count, m.sent),
        m.socket.p50_ms(),
        m.socket.p99_ms(),
        m.socket.max_ms(),
        String::new(),
    ]);
    report.table(t);
    report.note(format!(
        "initial JS of the agent app (web/dist: entry script and its preloads), gzipped -9: {:.1} KB (budget 100 KB)",
        initial_js as f64 / 1024.0
    ));
    report.note(
        "painted = the first animation frame after the message's text entered the page's DOM (a MutationObserver, \
         performance.timeOrigin + now) - the send of its webhook POST (this process; same clock); the socket is one \
         agent WebSocket of this process; the browser's CPU is in o",
    );
    report.note(log.describe("lt-ui"));
    report.set(
        "config",
        json!({"conversations": CONVERSATIONS, "rate": RATE, "sendSecs": SEND.as_secs(), "drainSecs": DRAIN.as_secs()}),
    );
    report.set(
        "result",
        json!({"sent": m.sent, "painted": m.painted.json(), "socket": m.socket.json(), "initialJsGzipBytes": initial_js, "serverLog": log.json()}),
    );
    Ok(report)
}

struct Measured {
    sent: usize,
    painted: Lat,
    socket: Lat,
    cpu: String,
}

async fn measure(client: &reqwest::Client, browser: &Browser, node: &mut Node) -> Result<Measured> {
    let org = server::setup_org(client, &node.base).await?;
    let (token, phone_number_id) = (org.token.clone(), org.phone_number_id.clone());
    // The bot off: nothing but the benchmark writes to the conversations.
    client
        .put(node.url("/api/v1/config/bot-enabled"))
        .bearer_auth(&token)
        .json(&json!({"enabled": false}))
        .send()
        .await?;
    let url = node.url("/webhooks/whatsapp");
    let pids = [node.pid()];
    let warm = open_loop(
        client,
        Plan { url: &url, rate: 200.0, duration: Duration::from_secs(6), cap: 64, cpu_pids: &pids, stamps: None },
        |i| {
            (i < CONVERSATIONS).then(|| {
                let body =
                    text_webhook(&phone_number_id, &customer(i, CONVERSATIONS), &format!("wamid.UIW.{i}"), "hello");
                Req { signature: Some(sign(&body)), body, stamp: None }
            })
        },
    )
    .await;
    if warm.ok < CONVERSATIONS {
        return Err(format!("warm-up: {} of {CONVERSATIONS} webhooks answered 200", warm.ok).into());
    }
    println!("  {CONVERSATIONS} conversations; signing in the browser");

    browser.goto(&node.url("/")).await;
    browser.type_into("input[name=email]", &org.email).await;
    browser.type_into("input[name=password]", server::ORG_PASSWORD).await;
    browser.click("[data-testid=signin-submit]").await;
    browser.click("[data-testid=tab-all]").await;
    browser
        .until(
            "the All tab counting every conversation",
            Duration::from_secs(30),
            "const t = document.querySelector('[data-testid=tab-all]'); return t && t.dataset.count === String(arguments[0]) && document.querySelectorAll('[data-testid=conversation-row]').length > 0",
            json!([CONVERSATIONS]),
        )
        .await;
    browser.js(OBSERVER, json!([])).await;

    // The baseline socket: message.created receipt times by benchmark number.
    let received: Arc<Mutex<HashMap<usize, u64>>> = Arc::default();
    let (mut ws, _) = tokio_tungstenite::connect_async(node.ws_url(&token)).await?;
    let sink = received.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(frame)) = ws.next().await {
            let Message::Text(text) = frame else { continue };
            let at = epoch_us();
            let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
            if v["event"] != "message.created" {
                continue;
            }
            let n =
                v["data"]["text"].as_str().and_then(|t| t.strip_prefix("ui-bench ")).and_then(|t| t.split(' ').next());
            if let Some(n) = n.and_then(|n| n.parse::<usize>().ok())
                && let Ok(mut r) = sink.lock()
            {
                r.entry(n).or_insert(at);
            }
        }
    });

    let total = (RATE * SEND.as_secs_f64()) as usize;
    let sent_at: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new(vec![0; total]));
    let cpu = CpuMeter::start(&pids);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / RATE));
    let mut posts = Vec::with_capacity(total);
    for i in 0..total {
        tick.tick().await;
        // Spread over the whole list, so most messages move a row from far down to the top.
        let who = (i as u64 * 7919) % CONVERSATIONS;
        let body = text_webhook(
            &phone_number_id,
            &customer(who, CONVERSATIONS),
            &format!("wamid.UIB.{i}"),
            &format!("ui-bench {i} x"),
        );
        let sig = sign(&body);
        let (client, url, sent_at) = (client.clone(), url.clone(), sent_at.clone());
        posts.push(tokio::spawn(async move {
            if let Ok(mut s) = sent_at.lock() {
                s[i] = epoch_us();
            }
            client
                .post(url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sig)
                .body(body)
                .send()
                .await
        }));
    }
    for p in posts {
        let _ = p.await;
    }
    let deadline = tokio::time::Instant::now() + DRAIN;
    let mut painted: HashMap<String, f64> = HashMap::new();
    while tokio::time::Instant::now() < deadline {
        painted = serde_json::from_value(browser.js("return window.__painted", json!([])).await).unwrap_or_default();
        let sockets = received.lock().map(|r| r.len()).unwrap_or(0);
        if painted.len() >= total && sockets >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let cpu = cpu.stop().label();
    reader.abort();
    let sent = sent_at.lock().map(|s| s.clone()).unwrap_or_default();
    let mut paint_lat: Vec<u64> = painted
        .iter()
        .filter_map(|(k, at)| {
            let i = k.parse::<usize>().ok()?;
            let s = *sent.get(i)?;
            Some(((*at * 1000.0) as u64).saturating_sub(s))
        })
        .collect();
    let mut socket_lat: Vec<u64> = received
        .lock()
        .map(|r| r.iter().filter_map(|(i, at)| sent.get(*i).map(|s| at.saturating_sub(*s))).collect())
        .unwrap_or_default();
    Ok(Measured { sent: total, painted: Lat::of(&mut paint_lat), socket: Lat::of(&mut socket_lat), cpu })
}

/// The gzipped size of the scripts `web/dist/index.html` loads up front (its module script and
/// modulepreloads); lazily loaded chunks (settings) are not initial.
fn initial_js_gzipped() -> Result<usize> {
    let dist = server::workspace_dir().join("web").join("dist");
    let html = std::fs::read_to_string(dist.join("index.html"))?;
    let mut total = 0;
    for part in html.split("\"/assets/").skip(1) {
        let Some(name) = part.split('"').next().filter(|n| n.ends_with(".js")) else { continue };
        let out = std::process::Command::new("gzip").arg("-9c").arg(dist.join("assets").join(name)).output()?;
        if !out.status.success() {
            return Err(format!("gzip {name} failed").into());
        }
        total += out.stdout.len();
    }
    Ok(total)
}
