//! Baselines: the same load against the least a server could do, measured in the same run.
//! The servers here run as child processes of this binary (hidden subcommands), so they get
//! their own process and CPU accounting exactly like cx-inbox; the INSERT and Redis baselines
//! run inside the generator, as a client of the same database or Redis.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use futures_util::{SinkExt, StreamExt};
use redis::AsyncCommands;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::Result;
use crate::scenarios::Stamps;
use crate::server::{DbKind, TestDb};
use crate::stats::Lat;

/// `bare-http`: 200 with a small JSON body to every request, after reading the body.
pub fn run_bare_http(port: u16) -> Result<()> {
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| {
            App::new().default_service(web::to(|_body: web::Bytes| async {
                HttpResponse::Ok().content_type("application/json").body(r#"{"data":{"stored":1,"duplicates":0}}"#)
            }))
        })
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })?;
    Ok(())
}

/// `bare-ws-broadcast`: a POST to `port` is sent as one text frame to every WebSocket
/// connected to `ws_port`. Ingress is HTTP like the webhook; fan-out is a tokio broadcast
/// channel, one task per socket.
pub fn run_bare_ws_broadcast(port: u16, ws_port: u16) -> Result<()> {
    let (tx, _) = broadcast::channel::<Utf8Bytes>(16_384);
    let ws_tx = tx.clone();
    let ws_thread = std::thread::Builder::new().name("ws".into()).spawn(move || -> Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        rt.block_on(async move {
            let listener = TcpListener::bind(("127.0.0.1", ws_port)).await?;
            loop {
                let (stream, _) = listener.accept().await?;
                let rx = ws_tx.subscribe();
                tokio::spawn(broadcast_socket(stream, rx));
            }
        })
    })?;
    actix_web::rt::System::new().block_on(async move {
        let tx = web::Data::new(tx);
        HttpServer::new(move || {
            App::new().app_data(tx.clone()).default_service(web::to(
                |body: web::Bytes, tx: web::Data<broadcast::Sender<Utf8Bytes>>| async move {
                    if let Ok(text) = String::from_utf8(body.to_vec())
                        && !text.is_empty()
                    {
                        let _ = tx.send(text.into());
                    }
                    HttpResponse::Ok().body("{}")
                },
            ))
        })
        .workers(1)
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })?;
    ws_thread.join().map_err(|_| "ws thread panicked")??;
    Ok(())
}

async fn broadcast_socket(stream: TcpStream, mut rx: broadcast::Receiver<Utf8Bytes>) {
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    loop {
        tokio::select! {
            m = rx.recv() => match m {
                Ok(text) => {
                    // Whatever else is queued goes out in the same write: one flush per burst,
                    // as a server that buffers its writes would do.
                    let mut batch = vec![text];
                    while let Ok(t) = rx.try_recv() {
                        batch.push(t);
                    }
                    let mut broken = false;
                    for t in batch {
                        if ws.feed(Message::Text(t)).await.is_err() {
                            broken = true;
                            break;
                        }
                    }
                    if broken || ws.flush().await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            },
            f = ws.next() => match f {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                _ => {}
            },
        }
    }
}

/// `bare-ws-echo`: a WebSocket server that echoes text and binary frames.
pub fn run_bare_ws_echo(port: u16, read_buffer: usize) -> Result<()> {
    let config = WebSocketConfig::default().read_buffer_size(read_buffer);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let handshake = tokio_tungstenite::accept_async_with_config(stream, Some(config));
                let Ok(mut ws) = handshake.await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_close() {
                        break;
                    }
                    let echo = m.is_text() || m.is_binary();
                    if echo && ws.send(m).await.is_err() {
                        break;
                    }
                }
            });
        }
    })
}

/// Raw single-row INSERTs, one transaction each, from `tasks` concurrent tasks for
/// `duration`, into a scratch table of the same database (created and dropped here).
pub struct InsertResult {
    pub rows: u64,
    pub per_sec: f64,
    pub lat: Lat,
}

/// `full`: SQLite's `synchronous=FULL` (fsync at every commit, as cx-inbox by default), else
/// NORMAL; PostgreSQL ignores it (its commits always flush).
pub async fn raw_inserts(db: &TestDb, full: bool, tasks: usize, duration: Duration) -> Result<InsertResult> {
    let conn = db.connect_with(tasks as u32, full).await?;
    let backend = conn.get_database_backend();
    let table = format!("lt_scratch_{:08x}", rand::random::<u32>());
    // Roughly a message row: a key, two ids, a body and a timestamp.
    conn.execute_unprepared(&format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY, conversation_id TEXT NOT NULL, \
         provider_message_id TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL)"
    ))
    .await?;
    let sql = match db.kind {
        DbKind::Postgres => format!("INSERT INTO {table} VALUES ($1, $2, $3, $4, $5)"),
        DbKind::Sqlite => format!("INSERT INTO {table} VALUES (?, ?, ?, ?, ?)"),
    };
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let conn = conn.clone();
        let sql = sql.clone();
        let next = next.clone();
        set.spawn(async move {
            let mut lats = Vec::new();
            let mut error = None;
            while start.elapsed() < duration {
                let id = next.fetch_add(1, Ordering::Relaxed) as i64;
                let stmt = Statement::from_sql_and_values(
                    backend,
                    sql.as_str(),
                    [
                        id.into(),
                        format!("conv-{}", id % 200).into(),
                        format!("wamid.raw.{id}").into(),
                        "a customer message of ordinary length".into(),
                        chrono::Utc::now().to_rfc3339().into(),
                    ],
                );
                let t0 = Instant::now();
                if let Err(e) = conn.execute_raw(stmt).await {
                    error = Some(e.to_string());
                    break;
                }
                lats.push(t0.elapsed().as_micros() as u64);
            }
            (lats, error)
        });
    }
    let mut lats = Vec::new();
    let mut error = None;
    while let Some(r) = set.join_next().await {
        let (mut l, e) = r?;
        lats.append(&mut l);
        error = error.or(e);
    }
    let elapsed = start.elapsed().as_secs_f64();
    conn.execute_unprepared(&format!("DROP TABLE {table}")).await?;
    conn.close().await.ok();
    if let Some(e) = error {
        return Err(format!("raw INSERT failed: {e}").into());
    }
    let rows = lats.len() as u64;
    Ok(InsertResult { rows, per_sec: rows as f64 / elapsed, lat: Lat::of(&mut lats) })
}

/// Counts rows with a query returning one column `n`.
pub async fn count(conn: &sea_orm::DatabaseConnection, sql: &str) -> Result<i64> {
    let backend: DbBackend = conn.get_database_backend();
    let row =
        conn.query_one_raw(Statement::from_string(backend, sql.to_owned())).await?.ok_or("count returned no row")?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// Raw Redis pub/sub: PUBLISH at `rate` for `duration` on a connection of its own, one
/// subscriber; latency from before PUBLISH to the subscriber's receipt.
pub struct PubSubResult {
    pub sent: u64,
    pub received: u64,
    pub lat: Lat,
}

pub async fn redis_pubsub(channel: &str, rate: f64, duration: Duration, payload_size: usize) -> Result<PubSubResult> {
    let client = redis::Client::open(crate::server::REDIS_URL)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    let mut messages = pubsub.into_on_message();
    let mut publisher = client.get_multiplexed_async_connection().await?;
    let n = (rate * duration.as_secs_f64()).ceil() as usize;
    let stamps = Stamps::new(n);
    let rx_stamps = stamps.clone();
    let receiver = tokio::spawn(async move {
        let mut lats = Vec::with_capacity(n);
        while lats.len() < n {
            let next = tokio::time::timeout(Duration::from_secs(5), messages.next()).await;
            let Ok(Some(msg)) = next else { break };
            let now = rx_stamps.now_us();
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            let idx = payload.split_once(' ').and_then(|(i, _)| i.parse::<usize>().ok());
            if let Some(sent) = idx.and_then(|i| rx_stamps.sent_us(i)) {
                lats.push(now.saturating_sub(sent));
            }
        }
        lats
    });
    let pad = "x".repeat(payload_size);
    let start = tokio::time::Instant::now();
    let mut sent = 0u64;
    for i in 0..n {
        tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / rate)).await;
        stamps.mark(i);
        let _: i64 = publisher.publish(channel, format!("{i} {pad}")).await?;
        sent += 1;
    }
    let mut lats = receiver.await?;
    Ok(PubSubResult { sent, received: lats.len() as u64, lat: Lat::of(&mut lats) })
}

/// Deletes every Redis key under `prefix` (a cluster run's streams and markers).
pub async fn redis_cleanup(prefix: &str) -> Result<usize> {
    let client = redis::Client::open(crate::server::REDIS_URL)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await?;
    if !keys.is_empty() {
        let _: i64 = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await?;
    }
    Ok(keys.len())
}

/// Deletes a run's Redis keys when dropped, also on an error or interruption path.
pub struct RedisKeysGuard(pub String);

impl Drop for RedisKeysGuard {
    fn drop(&mut self) {
        let prefix = self.0.clone();
        // Drop cannot await and may run on the runtime's thread: a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                let _ = rt.block_on(redis_cleanup(&prefix));
            }
        })
        .join();
    }
}
