//! `campaign`: a 10,000-recipient campaign on a number whose (fake) Meta throughput is
//! 200 messages a second, enforced by the fake as Meta does (a send over the limit is refused
//! with 130429). Figures: the send rate achieved over the allowed one (goal ≥ 0.95; the pacer
//! holds a slot from a send's start until a second after its answer, so its ceiling is
//! `199 / 200 / (1 s + round trip)`), the busiest second at the fake, sends
//! refused; and the inbound webhook acknowledgement p50/p99 while the campaign runs, beside the
//! same load with no campaign in the same run (the baseline).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use super::{Plan, Req, StepResult, open_loop};
use crate::Result;
use crate::report::{Report, Table, rate};
use crate::server::{self, DbKind, Node, NodeOpts, Secrets, TestDb, sign, text_webhook};

const ALLOWED: usize = 200;
const RECIPIENTS: usize = 10_000;
const INBOUND_RATE: f64 = 100.0;
const INBOUND_TIME: Duration = Duration::from_secs(8);

#[derive(Default)]
struct Meta {
    accepted: Vec<Instant>,
    throttled: u64,
    templates: u64,
}

/// A Graph API that approves templates at once, reports the throughput, and enforces it.
fn start_meta(state: Arc<Mutex<Meta>>) -> Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    let data = web::Data::from(state);
    std::thread::Builder::new().name("fake-meta".into()).spawn(move || {
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            if let Ok(s) = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(meta)))
                .workers(1)
                .disable_signals()
                .listen(listener)
            {
                let _ = s.run().await;
            }
        });
    })?;
    Ok(url)
}

async fn meta(req: HttpRequest, body: web::Bytes, state: web::Data<Mutex<Meta>>) -> HttpResponse {
    let path = req.path().to_owned();
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    if path.ends_with("/message_templates") {
        s.templates += 1;
        let b: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        return HttpResponse::Ok()
            .json(json!({"id": format!("{}", 7000 + s.templates), "status": "APPROVED", "category": b["category"]}));
    }
    if path.ends_with("/messages") {
        let now = Instant::now();
        let recent = s.accepted.iter().rev().take_while(|t| now.duration_since(**t) < Duration::from_secs(1)).count();
        if recent >= ALLOWED {
            s.throttled += 1;
            return HttpResponse::BadRequest()
                .json(json!({"error": {"message": "(#130429) Rate limit hit", "code": 130429}}));
        }
        s.accepted.push(now);
        let n = s.accepted.len();
        return HttpResponse::Ok()
            .json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.C{n}")}]}));
    }
    if req.method() == actix_web::http::Method::GET {
        let id = path.rsplit('/').next().unwrap_or_default().to_owned();
        return HttpResponse::Ok().json(json!({
            "id": id, "display_phone_number": "+1 555", "verified_name": "LT", "quality_rating": "GREEN",
            "messaging_limit_tier": "TIER_UNLIMITED", "throughput": {"level": ALLOWED}, "name_status": "APPROVED"
        }));
    }
    HttpResponse::Ok().json(json!({"success": true}))
}

async fn api(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Result<Value> {
    let mut r = client.request(method, &url).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().await?;
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!("{url}: {status} {v}").into());
    }
    Ok(v)
}

async fn inbound(client: &reqwest::Client, node: &Node, pnid: &str, tag: &str) -> StepResult {
    let url = node.url("/webhooks/whatsapp");
    let pnid = pnid.to_owned();
    let tag = tag.to_owned();
    let pids = [node.pid()];
    let plan = Plan { url: &url, rate: INBOUND_RATE, duration: INBOUND_TIME, cap: 128, cpu_pids: &pids, stamps: None };
    open_loop(client, plan, move |i| {
        let body = text_webhook(&pnid, &format!("1666{:07}", i % 200), &format!("wamid.{tag}{i}"), "hello");
        let signature = Some(sign(&body));
        Some(Req { body, signature, stamp: None })
    })
    .await
}

pub async fn run(binary: &Path) -> Result<Report> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(128).timeout(Duration::from_secs(60)).build()?;
    let state = Arc::new(Mutex::new(Meta::default()));
    let graph = start_meta(state.clone())?;
    let db = TestDb::create(DbKind::Sqlite, "campaign").await?;
    let secrets = Secrets::generate();
    let opts = NodeOpts {
        name: "campaign",
        database_url: &db.url,
        secrets: &secrets,
        env: vec![("CX_WHATSAPP_GRAPH_URL".into(), graph)],
    };
    let node = Node::start(binary, opts).await?;
    let org = server::setup_org(&client, &node.base).await?;
    let accounts = api(&client, reqwest::Method::GET, node.url("/api/v1/whatsapp-accounts"), &org.token, None).await?;
    let account_id = accounts["data"][0]["id"].as_str().ok_or("no account")?.to_owned();
    let health = api(
        &client,
        reqwest::Method::GET,
        node.url(&format!("/api/v1/whatsapp-accounts/{account_id}/health?refresh=true")),
        &org.token,
        None,
    )
    .await?;
    println!("number throughput per Meta: {}", health["data"]["throughputLevel"]);
    let template = api(
        &client,
        reqwest::Method::POST,
        node.url("/api/v1/templates"),
        &org.token,
        Some(json!({
            "name": "lt_promo", "language": "en", "category": "MARKETING",
            "components": [{"type": "BODY", "text": "Hi {{1}}, this week only.", "example": {"body_text": [["Ana"]]}}]
        })),
    )
    .await?;

    println!("baseline: inbound webhooks at {INBOUND_RATE}/s, no campaign");
    let quiet = inbound(&client, &node, &org.phone_number_id, "q").await;

    let recipients: Vec<Value> = (0..RECIPIENTS)
        .map(|i| json!({"phone": format!("+4917{:08}", i), "parameters": {"body": [format!("C{i}")]}}))
        .collect();
    let created = api(
        &client,
        reqwest::Method::POST,
        node.url("/api/v1/campaigns"),
        &org.token,
        Some(json!({
            "name": "load", "templateId": template["data"]["id"], "recipients": recipients
        })),
    )
    .await?;
    let id = created["data"]["campaign"]["id"].as_str().ok_or("no campaign id")?.to_owned();
    println!("campaign of {RECIPIENTS} started; inbound webhooks at {INBOUND_RATE}/s beside it");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let busy = inbound(&client, &node, &org.phone_number_id, "b").await;

    let deadline = Instant::now() + Duration::from_secs(150);
    let stats = loop {
        let s =
            api(&client, reqwest::Method::GET, node.url(&format!("/api/v1/campaigns/{id}")), &org.token, None).await?;
        if s["data"]["status"] == "COMPLETED" {
            break s;
        }
        if Instant::now() > deadline {
            return Err(format!("the campaign did not complete: {}", s["data"]["stats"]).into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let (accepted, throttled) = {
        let s = state.lock().unwrap_or_else(|p| p.into_inner());
        (s.accepted.clone(), s.throttled)
    };
    let span = match (accepted.first(), accepted.last()) {
        (Some(a), Some(b)) => b.duration_since(*a).as_secs_f64().max(1e-3),
        _ => 1.0,
    };
    let achieved = accepted.len().saturating_sub(1) as f64 / span;
    let busiest = (0..accepted.len())
        .map(|i| accepted[i..].iter().take_while(|t| t.duration_since(accepted[i]) < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0);
    let mut report = Report::default();
    let mut t = Table::new(
        format!("campaign (SQLite, 1 node): {RECIPIENTS} recipients, Meta's limit {ALLOWED}/s enforced by the fake"),
        &["sent", "refused 130429", "achieved/s", "allowed/s", "achieved/allowed", "busiest second", "span s"],
    );
    t.row(vec![
        accepted.len().to_string(),
        throttled.to_string(),
        rate(achieved),
        ALLOWED.to_string(),
        format!("{:.3}", achieved / ALLOWED as f64),
        busiest.to_string(),
        format!("{span:.1}"),
    ]);
    report.table(t);
    let mut t = Table::new(
        format!(
            "inbound webhooks at {INBOUND_RATE}/s for {} s: during the campaign vs none (same run)",
            INBOUND_TIME.as_secs()
        ),
        &["", "ok/s", "failed", "p50 ms", "p99 ms", "cpu s/g/db/o %"],
    );
    for (label, s) in [("no campaign (baseline)", &quiet), ("campaign running", &busy)] {
        t.row(vec![label.into(), rate(s.ok_per_sec()), s.failures(), s.lat.p50_ms(), s.lat.p99_ms(), s.cpu.label()]);
    }
    report.table(t);
    report.note(format!("campaign funnel at completion: {}", stats["data"]["stats"]["funnel"]));
    report.set("achievedPerSec", json!(achieved));
    report.set("allowedPerSec", json!(ALLOWED));
    report.set("achievedOverAllowed", json!(achieved / ALLOWED as f64));
    report.set("busiestSecond", json!(busiest));
    report.set("refused", json!(throttled));
    report.set("inboundQuiet", quiet.json());
    report.set("inboundDuringCampaign", busy.json());
    let log = node.stop();
    report.note(log.describe("cx-inbox"));
    db.drop_db().await;
    Ok(report)
}
