//! The database handle. Writes go through group commit ([`crate::group_commit`]): on SQLite
//! every write transaction joins the one open group (SQLite allows one writer at a time anyway,
//! and the group begins IMMEDIATE, so single-statement writes made outside it wait for it instead
//! of breaking it); on PostgreSQL the writes that append an organization's events join that
//! organization's shard ([`Db::begin_write_in`]), and other writes run in transactions of their
//! own.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};

use crate::events::Event;
use crate::group_commit::{self, Batcher, PublisherSlot, Slot};
use crate::store::events::NewEvent;

#[derive(Clone)]
pub struct Db {
    pub conn: DatabaseConnection,
    /// The group-commit streams: one on SQLite, one per shard of organizations on PostgreSQL.
    batchers: Arc<Vec<Arc<Batcher>>>,
    /// Where committed events go (the runtime's bus), for the groups and the solo writes.
    publisher: PublisherSlot,
    /// Connections in the pool: what admission to the database is sized from.
    pub pool_size: u32,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend()).field("pool_size", &self.pool_size).finish()
    }
}

/// How to connect.
#[derive(Clone, Copy, Debug)]
pub struct DbOptions {
    pub max_connections: u32,
    /// A connection not free within this is an error (the work that waits for one is bounded
    /// before it gets here: see [`crate::admission`]).
    pub acquire_timeout: Duration,
    /// SQLite: fsync the log at every commit (`FULL`, an acknowledged write survives a power
    /// loss) or only at checkpoints (`NORMAL`, the last commits may be lost).
    pub sqlite_synchronous_full: bool,
    pub group: group_commit::Options,
    /// PostgreSQL: group-commit streams; an organization always uses the same one. 0 (the
    /// default): none, each write commits in a transaction of its own.
    pub shards: usize,
}

impl DbOptions {
    pub fn new(max_connections: u32, acquire_timeout: Duration) -> DbOptions {
        DbOptions {
            max_connections,
            acquire_timeout,
            sqlite_synchronous_full: true,
            group: group_commit::Options::default(),
            // Measured (README, benchmarks): on PostgreSQL, writes that commit alone outrun
            // groups, whose writes take turns on one connection.
            shards: 0,
        }
    }
}

/// A write transaction: a savepoint in the open group (see [`crate::group_commit`]), or on
/// PostgreSQL a transaction of its own. Dropped without [`WriteTxn::commit`], its writes are
/// rolled back.
pub struct WriteTxn {
    // Field order matters: the savepoint is rolled back before the slot is handed on.
    txn: DatabaseTransaction,
    slot: Option<Slot>,
    publisher: PublisherSlot,
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl WriteTxn {
    /// Commits: returns once the write is durable (the group that holds it has committed).
    pub async fn commit(self) -> Result<(), DbErr> {
        let WriteTxn { txn, slot, .. } = self;
        txn.commit().await?;
        match slot {
            Some(slot) => slot.finish(None).await,
            None => Ok(()),
        }
    }

    /// Commits with `org_id`'s events: they are numbered (`org_seq`) in commit order with the
    /// write, and handed to the publisher after the commit. Returns once the write is durable.
    pub async fn commit_events(self, org_id: &str, events: Vec<NewEvent>) -> Result<(), DbErr> {
        let WriteTxn { txn, slot, publisher } = self;
        match slot {
            Some(slot) => {
                txn.commit().await?;
                slot.finish(Some((org_id, events))).await
            }
            None => {
                let mut numbered: Vec<Event> = Vec::with_capacity(events.len());
                crate::store::events::number_and_insert(&txn, org_id, events, &mut numbered).await?;
                txn.commit().await?;
                metrics::counter!("cx_committed_events_total").increment(numbered.len() as u64);
                group_commit::publish(&publisher, numbered);
                Ok(())
            }
        }
    }
}

/// What became of a write given as statements ([`Db::write_statements`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Stored, with its events; durable.
    Stored,
    /// A unique index refused a row: nothing of the write was stored.
    Conflict,
    /// A statement matched no row (its condition no longer held): nothing of the write was
    /// stored.
    Unmatched,
}

/// The database's own error inside `e`, when the database answered with one.
pub fn database_error(e: &DbErr) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(err)) | DbErr::Query(RuntimeErr::SqlxError(err))) = e else {
        return None;
    };
    match &**err {
        sea_orm::sqlx::Error::Database(db) => Some(&**db),
        _ => None,
    }
}

/// A unique index refused a row.
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// A pooled PostgreSQL connection idle this long is pinged before it is handed out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

impl Db {
    /// Connects to `sqlite://…` or `postgres://…` with the default options.
    pub async fn connect(url: &str, max_connections: u32, acquire_timeout: Duration) -> Result<Db, DbErr> {
        Db::connect_with(url, DbOptions::new(max_connections, acquire_timeout)).await
    }

    pub async fn connect_with(url: &str, options: DbOptions) -> Result<Db, DbErr> {
        let max_connections = options.max_connections.max(1);
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(options.acquire_timeout)
            .sqlx_logging(false);
        let is_sqlite = url.starts_with("sqlite:");
        // sqlx pings a connection on every checkout by default: one more round trip per query
        // outside a transaction and per transaction (to PostgreSQL's backend, or to the SQLite
        // connection's worker thread), on the path of every webhook. A connection that is in
        // use is not the one a server, proxy or firewall has dropped; one idle for a while may
        // be, so only that one is pinged. An SQLite connection is a file handle: never.
        if is_sqlite {
            use sea_orm::sqlx::sqlite::SqliteSynchronous;
            opts.test_before_acquire(false);
            let synchronous =
                if options.sqlite_synchronous_full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal };
            opts.map_sqlx_sqlite_opts(move |o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(synchronous)
                    .busy_timeout(Duration::from_secs(30))
                    .create_if_missing(true)
            });
        } else {
            opts.test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
            // Every prepared statement runs its generic plan, from the first execution: the
            // plans `tests/api/plans.rs` checks. Custom plans, which PostgreSQL tries for a
            // statement's first five runs on each connection, estimate from the parameter's own
            // statistics and can walk the wrong index: the newest page of a conversation holding
            // 5% of the messages walked the primary key backwards through everyone's newer
            // messages (44 ms at 100x, `load-tests scale`), where the generic plan reads 51 rows
            // of `ix_messages_conversation`. It also spares planning every run.
            opts.map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_generic_plan")]));
        }
        let conn = Database::connect(opts).await?;
        let sqlite = conn.get_database_backend() == DbBackend::Sqlite;
        // 0 on PostgreSQL: no grouping, every write its own transaction.
        let shards = if sqlite { 1 } else { options.shards.min(max_connections as usize) };
        let publisher = PublisherSlot::default();
        let batchers =
            (0..shards).map(|i| Batcher::new(conn.clone(), sqlite, options.group, i, publisher.clone())).collect();
        Ok(Db { conn, batchers: Arc::new(batchers), publisher, pool_size: max_connections })
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    fn sqlite(&self) -> bool {
        self.backend() == DbBackend::Sqlite
    }

    /// Begins a transaction that will write. On SQLite it joins the open group; on PostgreSQL
    /// it is a transaction of its own (use [`Db::begin_write_in`] for writes that append an
    /// organization's events).
    pub async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        if self.sqlite()
            && let Some(b) = self.batchers.first()
        {
            let (txn, slot) = b.begin().await?;
            return Ok(WriteTxn { txn, slot: Some(slot), publisher: self.publisher.clone() });
        }
        Ok(WriteTxn { txn: self.conn.begin().await?, slot: None, publisher: self.publisher.clone() })
    }

    /// One write of `org_id`'s data given as statements, each of which returns one row when
    /// it applies (`… RETURNING 1`), committed with `org_id`'s events like [`WriteTxn::
    /// commit_events`]. A statement that returns no row, or a unique index that refuses a row,
    /// leaves nothing of the write stored (`Unmatched`, `Conflict`). Returns once the write is
    /// durable. On SQLite the statements run in one turn on the group's connection.
    ///
    /// On PostgreSQL (without groups, the default) the write is one statement committed on its
    /// own (see [`crate::store::events::numbered_statement`]): the organization's counter row,
    /// which its writes take in turn, is then held for that statement's end and its commit,
    /// not for a round trip to this process and back. The count triggers (migration 000030)
    /// lock the rows of the buckets a row leaves or joins at the end of that statement, after
    /// the counter, where every other writer takes them before it: a write that moves a row
    /// between buckets must lock those rows among its statements first (as
    /// [`crate::store::messages::lock_outbox_statements`] and
    /// [`crate::store::conversations::lock_buckets_statements`] do), so that two writes never wait
    /// for each other's locks in opposite orders.
    pub async fn write_statements(
        &self,
        org_id: &str,
        statements: Vec<Statement>,
        events: Vec<NewEvent>,
    ) -> Result<Written, DbErr> {
        if self.sqlite()
            && let Some(b) = self.batchers.first()
        {
            return b.write_in_one_turn(statements, org_id.to_owned(), events).await;
        }
        if self.batchers.is_empty() && !events.is_empty() && events.len() <= crate::store::events::AT_ONCE_MAX {
            return self.write_at_once(org_id, statements, events).await;
        }
        let txn = self.begin_write_in(org_id).await?;
        for statement in statements {
            // Returning early drops the transaction: the write is rolled back.
            match txn.query_all_raw(statement).await {
                Ok(rows) if rows.len() == 1 => {}
                Ok(_) => return Ok(Written::Unmatched),
                Err(e) if is_unique_violation(&e) => return Ok(Written::Conflict),
                Err(e) => return Err(e),
            }
        }
        txn.commit_events(org_id, events).await?;
        Ok(Written::Stored)
    }

    /// [`Db::write_statements`] as one PostgreSQL statement, outside any transaction block.
    async fn write_at_once(
        &self,
        org_id: &str,
        statements: Vec<Statement>,
        events: Vec<NewEvent>,
    ) -> Result<Written, DbErr> {
        use crate::store::events;
        let (statement, numbering) = events::numbered_statement(org_id, statements, events);
        let rows = match self.conn.query_all_raw(statement).await {
            Ok(rows) => rows,
            Err(e) if is_unique_violation(&e) => return Ok(Written::Conflict),
            Err(e) if events::is_unmatched(&e) => return Ok(Written::Unmatched),
            Err(e) => return Err(e),
        };
        let mut numbered: Vec<Event> = Vec::with_capacity(rows.len());
        numbering.numbered(org_id, &rows, &mut numbered)?;
        metrics::counter!("cx_committed_events_total").increment(numbered.len() as u64);
        group_commit::publish(&self.publisher, numbered);
        Ok(Written::Stored)
    }

    /// Begins a write of `org_id`'s data that joins that organization's group: on PostgreSQL
    /// the organization's writes share one transaction per group (they serialize on its event
    /// counter row anyway), so they pay one commit per group instead of one each.
    pub async fn begin_write_in(&self, org_id: &str) -> Result<WriteTxn, DbErr> {
        let n = self.batchers.len();
        let shard = if n <= 1 { 0 } else { (fnv1a(org_id.as_bytes()) % n as u64) as usize };
        match self.batchers.get(shard) {
            Some(b) => {
                let (txn, slot) = b.begin().await?;
                Ok(WriteTxn { txn, slot: Some(slot), publisher: self.publisher.clone() })
            }
            None => self.begin_write().await,
        }
    }
}

impl Db {
    /// Where committed events go from now on (the runtime sets its bus at start).
    pub fn set_publisher(&self, publisher: group_commit::Publisher) {
        if let Ok(mut slot) = self.publisher.write() {
            *slot = Some(publisher);
        }
    }

    /// Groups committed so far and the writes they held (all streams).
    pub fn commit_stats(&self) -> group_commit::Stats {
        self.batchers.iter().fold(group_commit::Stats::default(), |a, b| {
            let s = b.stats();
            group_commit::Stats { groups: a.groups + s.groups, writes: a.writes + s.writes }
        })
    }

    /// Writes waiting for their turn on an open group (all streams).
    pub fn writers_waiting(&self) -> usize {
        self.batchers.iter().map(|b| b.queued()).sum()
    }
}

/// A stable hash (the same shard for an organization on every start and node).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}
