//! Operator metrics in Prometheus' text format at `GET /metrics`, off unless `CX_METRICS_TOKEN`
//! is set (without it no recorder is installed, so recording costs nothing). A scrape must send
//! the token as `Authorization: Bearer <token>`: the endpoint says how busy the organizations'
//! inboxes are, so it is not public. Counters and histograms are
//! recorded where things happen (`metrics::counter!` and the like); gauges that are a reading
//! of the present (pool connections, live actors, the outbox backlog) are read at scrape time.
//!
//! Names (each also documented in the README):
//! - `cx_webhook_messages_total{outcome}`: WhatsApp webhook messages stored, duplicate, skipped, rated
//! - `cx_webhook_requests_refused_total{reason}`: webhook POSTs refused (signature, too_large)
//! - `cx_commit_seconds`, `cx_committed_events_total`: a write's wait from numbering its events to
//!   the commit of its group, and the events numbered
//! - `cx_commit_batch_size{shard}`, `cx_commit_batch_seconds`: writes per group commit, and how long
//!   a group stayed open until its commit returned
//! - `cx_db_write_lock_wait_seconds`: how long a write waited for its turn on the open group
//! - `cx_bus_gap_repairs_total`, `cx_bus_recovered_events_total{kind}`: event-order gaps the bus
//!   repaired from the database (a publisher late by more than the gap timeout) and the events
//!   it recovered that way (`gap`) or by a cluster resync (`resync`)
//! - `cx_db_connections{state}`: pool connections in use and idle; `cx_db_admission{state}`: running and waiting units
//! - `cx_live_conversations`: conversation actors on this node
//! - `cx_outbox_backlog{status}`: outbound messages waiting to be sent (pending) or failed and not discarded
//! - `cx_api_webhook_deliveries_total{outcome}`: API-channel webhook tries (delivered, failed)
//! - `cx_bot_turns_total{outcome}`, `cx_bot_turn_seconds`: bot turns and their duration

use std::sync::OnceLock;

use entities::enums::{Direction, MessageStatus};
use entities::message;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::domain::{Error, Result};
use crate::state::AppState;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Histogram buckets, in seconds: a sub-millisecond commit to a half-minute bot turn.
const BUCKETS: [f64; 15] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Buckets of `cx_commit_batch_size`, in writes.
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0];

/// The process's recorder, installed at the first call (one per process: servers started in
/// one test process share it), with a thread that folds recorded histogram samples into their
/// buckets every few seconds, so memory stays flat however rarely Prometheus scrapes.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let handle = recorder();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("cx-metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                upkeep.run_upkeep();
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "metrics upkeep thread not started; histograms drain at each scrape only");
        }
        handle
    })
}

/// Builds the recorder and makes it the process's.
fn recorder() -> PrometheusHandle {
    // Histograms as buckets (aggregatable across nodes); refused only for an empty list.
    let builder = PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full("cx_commit_batch_size".into()), &BATCH_BUCKETS));
    let recorder = match builder {
        Ok(b) => b.build_recorder(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics buckets refused; histograms are summaries");
            PrometheusBuilder::new().build_recorder()
        }
    };
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!("a metrics recorder was already installed; /metrics shows only what reaches this one");
    }
    handle
}

/// Checks the scrape's token: `None` when metrics are off (the route is not there).
pub fn authorize(state: &AppState, bearer: Option<&str>) -> Result<()> {
    let Some(token) = state.config.metrics_token.as_deref() else { return Err(Error::NotFound("route")) };
    let given = bearer.unwrap_or_default();
    if subtle::ConstantTimeEq::ct_eq(given.as_bytes(), token.as_bytes()).into() {
        Ok(())
    } else {
        Err(Error::Unauthenticated("send the metrics token as Authorization: Bearer <token>".into()))
    }
}

/// The readings of the present, then everything in Prometheus' text format.
pub async fn render(state: &AppState) -> Result<String> {
    let handle = install();
    let rt = &state.rt;
    let load = rt.admission.load();
    metrics::gauge!("cx_db_admission", "state" => "running").set(load.running as f64);
    metrics::gauge!("cx_db_admission", "state" => "waiting").set(load.waiting as f64);
    let (size, idle) = pool(&rt.db.conn);
    metrics::gauge!("cx_db_connections", "state" => "in_use").set(size.saturating_sub(idle) as f64);
    metrics::gauge!("cx_db_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("cx_live_conversations").set(rt.live_conversations() as f64);
    for status in [MessageStatus::Pending, MessageStatus::Failed] {
        let n = backlog(status).count(state.db()).await?;
        metrics::gauge!("cx_outbox_backlog", "status" => status.as_str()).set(n as f64);
    }
    Ok(handle.render())
}

/// Outbound messages in `status`, every organization's; failed ones only while not discarded
/// (an admin's discard is history, not backlog). The status is written into the SQL so the
/// count reads only the rows in that status (the partial indexes of pending and of open failed
/// messages, or `ix_messages_due_at`), however many messages were ever sent.
pub fn backlog(status: MessageStatus) -> sea_orm::Select<message::Entity> {
    let q = message::Entity::find()
        .filter(message::Column::Direction.eq(Direction::Outbound))
        .filter(actors::store::literal::is((message::Entity, message::Column::Status), status.as_str()));
    match status {
        MessageStatus::Failed => q.filter(message::Column::DiscardedAt.is_null()),
        _ => q,
    }
}

/// Connections of the pool: (open, idle).
fn pool(conn: &sea_orm::DatabaseConnection) -> (usize, usize) {
    use sea_orm::DbBackend;
    match conn.get_database_backend() {
        DbBackend::Sqlite => {
            let p = conn.get_sqlite_connection_pool();
            (p.size() as usize, p.num_idle())
        }
        DbBackend::Postgres => {
            let p = conn.get_postgres_connection_pool();
            (p.size() as usize, p.num_idle())
        }
        _ => (0, 0),
    }
}
