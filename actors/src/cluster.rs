//! Cluster mode on Redis: several nodes on one database.
//!
//! - **Fan-out**: every event a node commits is `PUBLISH`ed on `{prefix}:events:{org}` with the
//!   node's id; every other node feeds it into its own [`EventBus`], which orders it with the local
//!   ones and reads anything pub/sub lost back from the event table.
//! - **One owner per conversation**: a conversation's actor runs where the lease
//!   `{prefix}:lease:conv:{id}` points; the owner renews it. A command that reaches another node is
//!   forwarded to the owner over HTTP (`/internal/v1/conversations/{id}/command`, signed with the
//!   cluster key). When the owner dies its leases expire and the next command takes the
//!   conversation over from the database.
//! - **Degraded**: while Redis is unreachable a node runs every conversation it is asked about
//!   locally and serves its own sockets. Correctness does not rest on the lease: a conversation
//!   row is written only at the version its actor read (`ActorError::Stale` otherwise).
//! - **Presence**: agent sockets heartbeat into `{prefix}:presence:{org}`, so every node sees
//!   every node's agents.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use hmac::{Hmac, KeyInit, Mac};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::{Mutex, mpsc};

use crate::error::ActorError;
use crate::events::Event;

/// How a node joins the cluster.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    pub redis_url: String,
    /// Key prefix, so several clusters (or test runs) can share one Redis.
    pub prefix: String,
    /// How long a conversation lease lives without renewal.
    pub lease: Duration,
    /// Base URL where other nodes reach this one for forwarded commands.
    pub advertise_url: String,
    /// Signs forwarded commands; every node of the cluster has the same.
    pub secret: Vec<u8>,
}

/// Who runs a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// This node holds the lease.
    Here,
    /// Another node holds it; `url` is `None` when that node's registration is gone (it died and
    /// its lease has yet to expire).
    Node { id: String, url: Option<String> },
}

/// An event as it crosses Redis.
#[derive(Serialize, Deserialize)]
struct WireEvent {
    /// Origin node, so a node ignores its own echoes.
    n: String,
    o: String,
    s: i64,
    c: Option<String>,
    q: Option<i64>,
    e: String,
    /// The rendered socket frame.
    w: String,
}

/// Atomically: take the lease if free (or renew it if ours), and say who holds it and where
/// that node is reachable.
const ACQUIRE: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  v = ARGV[1]
elseif v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {v, redis.call('GET', ARGV[3] .. v)}
"#;

/// Renews every lease in KEYS still held by ARGV[1]; returns the 1-based indexes of those lost.
const RENEW: &str = r#"
local lost = {}
for i, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then
    redis.call('PEXPIRE', k, ARGV[2])
  else
    table.insert(lost, i)
  end
end
return lost
"#;

/// Deletes a lease only if this node holds it.
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
"#;

pub struct Cluster {
    pub config: ClusterConfig,
    pub node_id: String,
    client: redis::Client,
    /// Commands connection; created lazily so a node can start while Redis is down.
    conn: Mutex<Option<ConnectionManager>>,
    /// Whether the last Redis operation succeeded (reported by `/ready`).
    healthy: AtomicBool,
    /// Events waiting to be published.
    outbox: mpsc::UnboundedSender<Arc<Event>>,
    outbox_rx: Mutex<Option<mpsc::UnboundedReceiver<Arc<Event>>>>,
    http: reqwest::Client,
}

/// Why a forwarded command did not run on the owner.
#[derive(Debug)]
pub enum ForwardError {
    /// The owner could not be reached or no longer owns the conversation: look again.
    Retry(String),
    /// The owner ran it and said no.
    Refused(ActorError),
}

impl Cluster {
    pub fn new(config: ClusterConfig, node_id: String) -> Result<Arc<Cluster>, redis::RedisError> {
        let client = redis::Client::open(config.redis_url.as_str())?;
        let (tx, rx) = mpsc::unbounded_channel();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_default();
        Ok(Arc::new(Cluster {
            config,
            node_id,
            client,
            conn: Mutex::new(None),
            healthy: AtomicBool::new(true),
            outbox: tx,
            outbox_rx: Mutex::new(Some(rx)),
            http,
        }))
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut k = self.config.prefix.clone();
        for p in parts {
            k.push(':');
            k.push_str(p);
        }
        k
    }

    fn lease_key(&self, conversation_id: &str) -> String {
        self.key(&["lease", "conv", conversation_id])
    }

    async fn conn(&self) -> Result<ConnectionManager, redis::RedisError> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let c = self.client.get_connection_manager_with_config(cfg).await?;
        *guard = Some(c.clone());
        Ok(c)
    }

    fn note<T>(&self, r: Result<T, redis::RedisError>) -> Result<T, redis::RedisError> {
        let ok = r.is_ok();
        if self.healthy.swap(ok, Ordering::Relaxed) != ok {
            if ok {
                tracing::info!("redis reachable again");
            } else if let Err(e) = &r {
                tracing::warn!(error = %e, "redis unreachable: running degraded (local ownership, local fan-out)");
            }
        }
        r
    }

    /// Who owns the conversation, taking the lease when nobody does.
    pub async fn owner(&self, conversation_id: &str) -> Result<Owner, redis::RedisError> {
        let result = async {
            let mut c = self.conn().await?;
            let node_prefix = format!("{}:", self.key(&["node"]));
            let (holder, url): (String, Option<String>) = redis::Script::new(ACQUIRE)
                .key(self.lease_key(conversation_id))
                .arg(&self.node_id)
                .arg(self.config.lease.as_millis() as u64)
                .arg(node_prefix)
                .invoke_async(&mut c)
                .await?;
            Ok(if holder == self.node_id { Owner::Here } else { Owner::Node { id: holder, url } })
        }
        .await;
        self.note(result)
    }

    /// Renews this node's leases; returns the conversations whose lease was lost.
    pub async fn renew(&self, conversation_ids: &[String]) -> Result<Vec<String>, redis::RedisError> {
        let mut lost = Vec::new();
        for chunk in conversation_ids.chunks(500) {
            let result = async {
                let mut c = self.conn().await?;
                let renew = redis::Script::new(RENEW);
                let mut script = renew.prepare_invoke();
                for id in chunk {
                    script.key(self.lease_key(id));
                }
                script.arg(&self.node_id).arg(self.config.lease.as_millis() as u64);
                let idx: Vec<usize> = script.invoke_async(&mut c).await?;
                Ok(idx)
            }
            .await;
            for i in self.note(result)? {
                if let Some(id) = chunk.get(i.saturating_sub(1)) {
                    lost.push(id.clone());
                }
            }
        }
        Ok(lost)
    }

    /// Gives a lease up (the actor passivated).
    pub async fn release(&self, conversation_id: &str) {
        let result = async {
            let mut c = self.conn().await?;
            let _: i64 = redis::Script::new(RELEASE)
                .key(self.lease_key(conversation_id))
                .arg(&self.node_id)
                .invoke_async(&mut c)
                .await?;
            Ok(())
        }
        .await;
        let _ = self.note(result);
    }

    /// Announces where this node is reachable; expires if the node stops renewing it.
    pub async fn announce(&self) {
        let result = async {
            let mut c = self.conn().await?;
            let ttl = (self.config.lease.as_millis() as u64 * 3).max(1000);
            let _: () = redis::cmd("SET")
                .arg(self.key(&["node", &self.node_id]))
                .arg(&self.config.advertise_url)
                .arg("PX")
                .arg(ttl)
                .query_async(&mut c)
                .await?;
            Ok(())
        }
        .await;
        let _ = self.note(result);
    }

    /// Queues a committed event for the other nodes.
    pub fn publish(&self, event: Arc<Event>) {
        let _ = self.outbox.send(event);
    }

    /// Publishes queued events, batching what has piled up into one pipeline. Runs for the
    /// node's lifetime; events that cannot be published are dropped (the other nodes read them
    /// back from the database).
    pub async fn run_publisher(self: Arc<Self>) {
        let Some(mut rx) = self.outbox_rx.lock().await.take() else {
            return;
        };
        let mut batch = Vec::new();
        while rx.recv_many(&mut batch, 512).await > 0 {
            let mut pipe = redis::pipe();
            for ev in batch.drain(..) {
                let wire = WireEvent {
                    n: self.node_id.clone(),
                    o: ev.org_id.clone(),
                    s: ev.org_seq,
                    c: ev.conversation_id.clone(),
                    q: ev.seq,
                    e: ev.name.clone(),
                    w: ev.wire.to_string(),
                };
                let Ok(payload) = serde_json::to_string(&wire) else {
                    continue;
                };
                pipe.cmd("PUBLISH").arg(self.key(&["events", &ev.org_id])).arg(payload).ignore();
            }
            let result = async {
                let mut c = self.conn().await?;
                pipe.query_async::<()>(&mut c).await
            }
            .await;
            if let Err(e) = self.note(result) {
                tracing::debug!(error = %e, "events not published to the cluster; other nodes will read them back");
            }
        }
    }

    /// Receives the other nodes' events and hands them to `deliver`; after every (re)connection
    /// calls `resync` so events missed while disconnected are read back from the database.
    pub async fn run_subscriber(
        self: Arc<Self>,
        deliver: impl Fn(Event) + Send + 'static,
        resync: impl Fn() + Send + 'static,
    ) {
        let pattern = self.key(&["events", "*"]);
        let mut backoff = Duration::from_millis(100);
        loop {
            let subscribed = async {
                let mut ps = self.client.get_async_pubsub().await?;
                ps.psubscribe(&pattern).await?;
                Ok::<_, redis::RedisError>(ps)
            }
            .await;
            if let Ok(ps) = self.note(subscribed) {
                backoff = Duration::from_millis(100);
                tracing::info!(%pattern, "subscribed to cluster events");
                resync();
                let mut stream = ps.into_on_message();
                while let Some(msg) = stream.next().await {
                    let Ok(payload) = msg.get_payload::<String>() else {
                        continue;
                    };
                    let Ok(w) = serde_json::from_str::<WireEvent>(&payload) else {
                        continue;
                    };
                    if w.n == self.node_id {
                        continue;
                    }
                    deliver(Event::from_wire(w.o, w.s, w.c, w.q, w.e, w.w));
                }
                let _ = self.note::<()>(Err(redis::RedisError::from((redis::ErrorKind::Io, "subscription closed"))));
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// Takes the cluster-wide lock `name` for `ttl` if nobody holds it: one node at a time runs
    /// an organization's assignment or idle check. `Err` when Redis is unreachable (the caller
    /// runs alone then, relying on the actors' guards).
    pub async fn try_lock(&self, name: &str, ttl: Duration) -> Result<bool, redis::RedisError> {
        let result = async {
            let mut c = self.conn().await?;
            let got: Option<String> = redis::cmd("SET")
                .arg(self.key(&["lock", name]))
                .arg(&self.node_id)
                .arg("NX")
                .arg("PX")
                .arg(ttl.as_millis() as u64)
                .query_async(&mut c)
                .await?;
            Ok(got.is_some())
        }
        .await;
        self.note(result)
    }

    /// Releases a lock this node holds.
    pub async fn unlock(&self, name: &str) {
        let result = async {
            let mut c = self.conn().await?;
            let _: i64 = redis::Script::new(RELEASE)
                .key(self.key(&["lock", name]))
                .arg(&self.node_id)
                .invoke_async(&mut c)
                .await?;
            Ok(())
        }
        .await;
        let _ = self.note(result);
    }

    /// Marks an agent session alive (called on connect and on every heartbeat).
    pub async fn touch_presence(&self, org_id: &str, user_id: &str, session_id: u64) {
        let result = async {
            let mut c = self.conn().await?;
            let now = now_ms();
            let _: () = redis::pipe()
                .cmd("ZADD")
                .arg(self.key(&["presence", org_id]))
                .arg(now)
                .arg(format!("{user_id}|{}|{session_id}", self.node_id))
                .ignore()
                .cmd("PEXPIRE")
                .arg(self.key(&["presence", org_id]))
                .arg(PRESENCE_TTL.as_millis() as u64 * 4)
                .ignore()
                // Sessions of nodes that died without saying goodbye.
                .cmd("ZREMRANGEBYSCORE")
                .arg(self.key(&["presence", org_id]))
                .arg("-inf")
                .arg(now - PRESENCE_TTL.as_millis() as i64 * 2)
                .ignore()
                .query_async(&mut c)
                .await?;
            Ok(())
        }
        .await;
        let _ = self.note(result);
    }

    /// Forgets an agent session (its socket closed).
    pub async fn drop_presence(&self, org_id: &str, user_id: &str, session_id: u64) {
        let result = async {
            let mut c = self.conn().await?;
            let _: () = redis::cmd("ZREM")
                .arg(self.key(&["presence", org_id]))
                .arg(format!("{user_id}|{}|{session_id}", self.node_id))
                .query_async(&mut c)
                .await?;
            Ok(())
        }
        .await;
        let _ = self.note(result);
    }

    /// Users with a live socket on any node.
    pub async fn online_users(&self, org_id: &str) -> Result<HashSet<String>, redis::RedisError> {
        let result = async {
            let mut c = self.conn().await?;
            let since = now_ms() - PRESENCE_TTL.as_millis() as i64;
            let members: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(self.key(&["presence", org_id]))
                .arg(since)
                .arg("+inf")
                .query_async(&mut c)
                .await?;
            Ok(members.into_iter().filter_map(|m| m.split('|').next().map(str::to_owned)).collect())
        }
        .await;
        self.note(result)
    }

    fn mac(&self, time_ms: i64, body: &[u8]) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.config.secret).ok()?;
        mac.update(time_ms.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        Some(mac)
    }

    /// Signature of a forwarded command body sent at `time_ms`.
    pub fn sign(&self, time_ms: i64, body: &[u8]) -> String {
        self.mac(time_ms, body).map(|m| hex::encode(m.finalize().into_bytes())).unwrap_or_default()
    }

    /// Whether a forwarded command is genuine and fresh (a captured request cannot be replayed
    /// later than [`MAX_SKEW`]).
    pub fn verify(&self, time_ms: i64, body: &[u8], signature: &str) -> bool {
        if (now_ms() - time_ms).abs() > MAX_SKEW.as_millis() as i64 {
            return false;
        }
        let Ok(expected) = hex::decode(signature) else { return false };
        self.mac(time_ms, body).is_some_and(|m| m.verify_slice(&expected).is_ok())
    }

    /// Runs a command on the node that owns the conversation.
    pub async fn forward(
        &self,
        url: &str,
        org_id: &str,
        conversation_id: &str,
        command: &crate::command::ConversationCommand,
    ) -> Result<crate::command::CommandReply, ForwardError> {
        let body =
            serde_json::to_vec(&crate::command::Forwarded { org_id: org_id.to_owned(), command: command.clone() })
                .map_err(|e| ForwardError::Refused(ActorError::Internal(e.to_string())))?;
        let now = now_ms();
        let res = self
            .http
            .post(format!("{}/internal/v1/conversations/{conversation_id}/command", url.trim_end_matches('/')))
            .header("content-type", "application/json")
            .header(TIME_HEADER, now.to_string())
            .header(SIGNATURE_HEADER, self.sign(now, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| ForwardError::Retry(format!("owner unreachable: {e}")))?;
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        match status {
            200 => serde_json::from_str(&text)
                .map_err(|e| ForwardError::Refused(ActorError::Internal(format!("bad forward reply: {e}")))),
            409 | 503 if text.contains(crate::command::NOT_OWNER) || status == 503 => Err(ForwardError::Retry(text)),
            _ => match serde_json::from_str::<crate::command::WireError>(&text) {
                Ok(w) => Err(ForwardError::Refused(w.into())),
                Err(_) => Err(ForwardError::Retry(format!("owner answered {status}: {text}"))),
            },
        }
    }
}

/// Header carrying the signature of a forwarded command.
pub const SIGNATURE_HEADER: &str = "x-cx-cluster-signature";
/// Header carrying when it was sent (unix milliseconds), covered by the signature.
pub const TIME_HEADER: &str = "x-cx-cluster-time";
/// How old a forwarded command may be (clock skew between nodes included).
pub const MAX_SKEW: Duration = Duration::from_secs(30);

/// A presence entry older than this is an agent gone.
pub const PRESENCE_TTL: Duration = Duration::from_secs(30);

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
