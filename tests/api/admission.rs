//! Admission to the database under more load than it can take: a small pool, a burst of
//! webhooks and bot turns at once. On PostgreSQL every commit of the test's database is slowed
//! down (`commit_delay`, as a slow disk would), which is how the 30-second stall was found: the
//! work waited on the pool's own unbounded queue until its timeout, and the bot turns that timed
//! out handed their conversations to humans, which made more work.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::agents::eventually;
use crate::helpers::{Database, FakeGraph, TestApp, create_pg_database, pg_base, spawn_node, text_webhook, unique};

const POOL: u32 = 4;
/// A wait for a pool connection this long is an error; no request may come near it.
const ACQUIRE_MS: u64 = 4_000;

async fn small_pool_app() -> TestApp {
    let database = match pg_base() {
        Some(base) => {
            let (base, url, name) = create_pg_database(&base).await;
            use sea_orm::ConnectionTrait;
            let admin = sea_orm::Database::connect(&base).await.unwrap();
            // Every commit that wrote waits 10 ms before its flush.
            for setting in ["commit_delay = 10000", "commit_siblings = 0"] {
                admin.execute_unprepared(&format!("ALTER DATABASE \"{name}\" SET {setting}")).await.unwrap();
            }
            admin.close().await.ok();
            Database::Postgres((base, url, name))
        }
        None => Database::Sqlite,
    };
    spawn_node(database, FakeGraph::start(), |c| {
        c.database_pool = POOL;
        c.database_acquire_ms = ACQUIRE_MS;
        c.database_queue_wait_ms = 2_000;
        // A short queue, so refusals happen on SQLite too (and a bot turn waits for capacity
        // while its conversation takes new messages: the turn must not hold what they wait for).
        c.database_queue = 8;
        c.bot_debounce_ms = 50;
        c.llm_private_hosts = vec!["127.0.0.1".into()];
    })
    .await
}

/// Posts a signed webhook with `client`; a request the server never answers is a failure here.
async fn post_signed(app: &TestApp, client: &reqwest::Client, hook: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(hook).unwrap();
    let sig = cx_inbox::channels::whatsapp::signature::sign(crate::helpers::APP_SECRET.as_bytes(), &body);
    let res = client
        .post(app.url("/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("a webhook got no answer: {e}"));
    crate::helpers::status_json(res).await
}

#[actix_web::test]
async fn a_burst_on_a_small_pool_is_stored_or_refused_at_once_never_left_waiting_on_the_pool() {
    let app = small_pool_app().await;
    let llm = crate::fake_llm::FakeLlm::start();
    let org = app.register("Busy Co").await;
    let account = app.connect_account(&org).await;
    crate::bot::configure(&app, &org, &llm).await;

    // 40 customers write 8 messages each, all at once; each first message also starts a bot turn.
    let customers: Vec<String> = (0..40).map(|i| format!("3470{}{i:02}", unique())).collect();
    let mut pending: Vec<(String, Value)> = Vec::new();
    for round in 0..8 {
        for wa in &customers {
            let wamid = format!("wamid.burst.{wa}.{round}");
            pending.push((wamid.clone(), text_webhook(&account.phone_number_id, wa, "C", &wamid, "do you sell lamps")));
        }
    }
    let total = pending.len();
    let mut stored = 0;
    let mut refused = 0;
    let mut slowest = Duration::ZERO;
    // Meta's way: what is refused is delivered again a little later. A request never answered
    // fails the test at the client's timeout instead of hanging it.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answers = futures_util::future::join_all(pending.iter().map(|(_, hook)| async {
            let started = Instant::now();
            let answer = post_signed(&app, &client, hook).await;
            (answer, started.elapsed())
        }))
        .await;
        let mut again = Vec::new();
        for ((wamid, hook), ((status, body), took)) in pending.into_iter().zip(answers) {
            slowest = slowest.max(took);
            match status {
                200 => stored += 1,
                503 => {
                    assert_eq!(body["error"]["code"], "overloaded", "{body}");
                    let message = body["error"]["message"].as_str().unwrap_or_default();
                    assert!(message.starts_with("the server is busy"), "refused by the pool, not by admission: {body}");
                    refused += 1;
                    again.push((wamid, hook));
                }
                other => panic!("a webhook was answered {other}: {body}"),
            }
        }
        pending = again;
        if pending.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "{} webhooks were still refused after two minutes", pending.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(stored, total);
    assert!(
        slowest < Duration::from_millis(ACQUIRE_MS),
        "a webhook took {slowest:?}: as long as a wait on the pool may last"
    );
    eprintln!("{total} webhooks on a pool of {POOL}: {refused} refusals redelivered, slowest answer {slowest:?}");

    // Every acknowledged message is stored, once.
    let messages = app.count("messages").await;
    assert!(messages >= total as i64, "{messages} rows for {total} acknowledged messages");
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let inbound = entities::message::Entity::find()
        .filter(entities::message::Column::Direction.eq("inbound"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(inbound, total as u64);

    // Every customer gets the bot's answer, and no conversation went to humans because the
    // database was busy.
    let answered = eventually(Duration::from_secs(60), || async {
        let sent = app.graph.sends().len();
        sent >= customers.len()
    })
    .await;
    assert!(answered, "only {} of {} customers were answered", app.graph.sends().len(), customers.len());
    let (_, list) = app.get("/api/v1/conversations?limit=100", &org.token).await;
    let conversations = list["data"].as_array().unwrap();
    assert_eq!(conversations.len(), customers.len());
    for c in conversations {
        assert_eq!(c["status"], "BOT_HANDLING", "handed to humans: {c}");
    }
}
