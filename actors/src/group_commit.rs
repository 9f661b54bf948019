//! Group commit. Write transactions that arrive while another one runs share one database
//! transaction, each inside its own savepoint, and are committed together: one `COMMIT`, one
//! fsync, for the whole group. A writer is answered only after the `COMMIT` that holds its write,
//! so "acknowledged" still means "stored". A writer that fails rolls back its own savepoint and
//! fails alone; the others commit.
//!
//! There is no batcher task on the fast path: writers take turns on the open transaction (the
//! slot, a fair FIFO lock), and the writer that releases the slot with nobody queued behind it
//! commits the group on everyone's behalf. A group also commits once it holds
//! [`Options::max_writes`] writes or has been open for [`Options::max_age`], so a steady stream
//! of writers cannot hold it open. A writer that gave up its slot without committing (an error,
//! a dropped future) leaves the group to a spawned finisher, and every waiter also finishes the
//! group itself if no answer comes within [`Options::max_age`]: no interleaving of failures can
//! leave a group open.
//!
//! Why savepoints and not one transaction per write: the cost of a commit is the fsync (SQLite
//! with `synchronous=FULL`, PostgreSQL with `synchronous_commit=on`), paid once per group here.
//!
//! Events are numbered by the group, not by its writes: a write hands its events over when it
//! releases its savepoint, and just before `COMMIT` the group takes each organization's numbers
//! in one counter bump and inserts its events in one multi-row statement, in the order the
//! writes finished. So `org_seq` stays gap-free (a failed write never took a number) and in
//! commit order (the counter row is held from that bump to the commit), and the events are handed
//! to the publisher (the event bus) in that order, at once, after the commit.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc, oneshot};

use crate::db::Written;
use crate::events::Event;
use crate::store::events::{NewEvent, number_and_insert};

/// Where committed events go (the runtime's event bus); set once the runtime starts.
pub type Publisher = Arc<dyn Fn(Vec<Event>) + Send + Sync>;
pub(crate) type PublisherSlot = Arc<std::sync::RwLock<Option<Publisher>>>;

/// Hands committed events to the publisher, if there is one yet.
pub(crate) fn publish(slot: &PublisherSlot, events: Vec<Event>) {
    if events.is_empty() {
        return;
    }
    let publisher = slot.read().ok().and_then(|p| p.clone());
    if let Some(p) = publisher {
        p(events);
    }
}

/// How big and how old a group may grow.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Writes in one group at most.
    pub max_writes: usize,
    /// A group this old commits at the next release, and a waiter this long unanswered
    /// finishes the group itself.
    pub max_age: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_writes: 256, max_age: Duration::from_millis(10) }
    }
}

/// One stream of groups: on SQLite the only one (one writer anyway), on PostgreSQL one per
/// shard of organizations.
pub(crate) struct Batcher {
    conn: DatabaseConnection,
    sqlite: bool,
    options: Options,
    /// Which stream this is, for the metrics (`0` on SQLite).
    shard: usize,
    state: Arc<Mutex<Open>>,
    publisher: PublisherSlot,
    /// Writers waiting for the slot: a writer that releases it with nobody queued commits.
    queued: AtomicUsize,
    /// Groups committed and the writes they held, for tests and benchmarks.
    groups: AtomicU64,
    writes: AtomicU64,
    /// The writer's queue of writes given as statements; its thread starts at the first.
    jobs: OnceLock<mpsc::UnboundedSender<Job>>,
}

/// A write given as statements ([`Batcher::write_in_one_turn`]), for the writer.
struct Job {
    turn: Statement,
    /// Rows the turn returns when every statement applied.
    expected: usize,
    org_id: String,
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<Written, DbErr>>,
}

/// A write in the open group, waiting for its commit.
enum Waiter {
    /// A write that took its own turn on the slot.
    Turn(oneshot::Sender<Result<(), String>>),
    /// A write the writer ran.
    Job(oneshot::Sender<Result<Written, DbErr>>),
}

impl Waiter {
    fn answer(self, result: &Result<(), String>) {
        match self {
            Waiter::Turn(tx) => {
                let _ = tx.send(result.clone());
            }
            Waiter::Job(tx) => {
                let answer = match result {
                    Ok(()) => Ok(Written::Stored),
                    Err(e) => Err(DbErr::Custom(format!("the group commit failed: {e}"))),
                };
                let _ = tx.send(answer);
            }
        }
    }
}

/// Groups committed so far and the writes they held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub groups: u64,
    pub writes: u64,
}

/// The group being filled.
struct Open {
    txn: Option<DatabaseTransaction>,
    /// Bumped at every commit, so a late finisher knows its group is already done.
    generation: u64,
    opened: Instant,
    /// Writes that released their savepoint into this group and wait for its commit.
    waiters: Vec<Waiter>,
    /// The events of the group's writes, by organization, in the order the writes finished.
    events: Vec<(String, Vec<NewEvent>)>,
}

impl Open {
    /// Big or old enough to commit now; `own`: the caller's write is in it but not among the
    /// waiters.
    fn is_due(&self, own: bool, options: &Options) -> bool {
        self.waiters.len() + usize::from(own) >= options.max_writes || self.opened.elapsed() >= options.max_age
    }
}

/// A write's turn on the open group. Dropped without [`Slot::finish`] (an error, a cancelled
/// future): the write's savepoint was already rolled back, and the group is handed on.
pub(crate) struct Slot {
    guard: Option<OwnedMutexGuard<Open>>,
    batcher: Arc<Batcher>,
}

impl Batcher {
    pub(crate) fn new(
        conn: DatabaseConnection,
        sqlite: bool,
        options: Options,
        shard: usize,
        publisher: PublisherSlot,
    ) -> Arc<Batcher> {
        let open = Open { txn: None, generation: 0, opened: Instant::now(), waiters: Vec::new(), events: Vec::new() };
        Arc::new(Batcher {
            conn,
            sqlite,
            options,
            shard,
            state: Arc::new(Mutex::new(open)),
            publisher,
            queued: AtomicUsize::new(0),
            groups: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            jobs: OnceLock::new(),
        })
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats { groups: self.groups.load(Ordering::SeqCst), writes: self.writes.load(Ordering::SeqCst) }
    }

    /// Writers waiting for their turn on the open group.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Waits for the slot, opens a group if none is open, and starts this write's savepoint.
    pub(crate) async fn begin(self: &Arc<Self>) -> Result<(DatabaseTransaction, Slot), DbErr> {
        let mut slot = self.begin_bare().await?;
        let savepoint = match slot.txn() {
            Ok(txn) => txn.begin().await,
            Err(e) => Err(e),
        };
        match savepoint {
            Ok(savepoint) => Ok((savepoint, slot)),
            Err(e) => {
                // The group's transaction is broken (its connection died): end it, so its
                // writers hear of it and the next write opens a fresh one.
                if let Some(mut guard) = slot.guard.take() {
                    let _ = self.commit_group(&mut guard, false).await;
                }
                Err(e)
            }
        }
    }

    /// Waits for the slot and opens a group if none is open; the write makes its own savepoint.
    async fn begin_bare(self: &Arc<Self>) -> Result<Slot, DbErr> {
        let started = Instant::now();
        let mut guard = {
            let _queued = Queued::new(&self.queued);
            self.state.clone().lock_owned().await
        };
        metrics::histogram!("cx_db_write_lock_wait_seconds").record(started.elapsed().as_secs_f64());
        if guard.txn.is_none() {
            let txn = if self.sqlite {
                // IMMEDIATE takes SQLite's write lock at BEGIN: a transaction that reads first
                // can then never fail to upgrade because a single-statement write elsewhere
                // committed in between.
                let options = TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                };
                self.conn.begin_with_options(options).await?
            } else {
                self.conn.begin().await?
            };
            guard.txn = Some(txn);
            guard.opened = Instant::now();
        }
        Ok(Slot { guard: Some(guard), batcher: self.clone() })
    }

    /// One write given as statements, each of which returns one row when it applies (`…
    /// RETURNING 1`), with `org_id`'s events, run by the writer: a task on a thread of its own
    /// that takes the slot and runs the writes queued for it back to back, each in one turn on
    /// the group's connection. A write made statement by statement takes a round trip to the
    /// connection's worker thread per statement, and the next write's turn waits until its own
    /// task is scheduled on a thread that is also serving requests; here the next write is
    /// already at hand.
    ///
    /// Each turn begins with a savepoint, which stays open when the write applies (the group's
    /// `COMMIT` commits it; a later write that fails rolls back to its own, the most recent of
    /// that name) and is rolled back when a statement matched no row or a constraint refused a
    /// row. Any other error (the disk, the connection) rolls the whole group back: no single
    /// write can be undone alone then. A write once queued runs whether or not its caller still
    /// waits, so no half-done write is ever left in a group.
    pub(crate) async fn write_in_one_turn(
        self: &Arc<Self>,
        statements: Vec<Statement>,
        org_id: String,
        events: Vec<NewEvent>,
    ) -> Result<Written, DbErr> {
        let expected = statements.len();
        let (reply, answer) = oneshot::channel();
        let job = Job { turn: one_turn(statements), expected, org_id, events, reply };
        self.writer()?.send(job).map_err(|_| DbErr::Custom("the database writer has stopped".into()))?;
        answer.await.map_err(|_| DbErr::Custom("the database writer dropped a write".into()))?
    }

    /// The writer's queue, its thread started by the first caller.
    fn writer(self: &Arc<Self>) -> Result<&mpsc::UnboundedSender<Job>, DbErr> {
        if let Some(tx) = self.jobs.get() {
            return Ok(tx);
        }
        let (tx, rx) = mpsc::unbounded_channel();
        if self.jobs.set(tx).is_ok() {
            let batcher = Arc::downgrade(self);
            let started = std::thread::Builder::new().name("cx-db-writer".into()).spawn(move || {
                match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt.block_on(run_writer(batcher, rx)),
                    Err(e) => tracing::error!(error = %e, "the database writer could not start its runtime"),
                }
            });
            if let Err(e) = started {
                tracing::error!(error = %e, "the database writer's thread could not start");
            }
        }
        self.jobs.get().ok_or_else(|| DbErr::Custom("the database writer is not running".into()))
    }

    /// Runs `first` and every write queued behind it, in one group while it has room, then
    /// commits the group unless another writer waits for the slot (it carries the group on).
    async fn run_jobs(self: &Arc<Self>, first: Job, jobs: &mut mpsc::UnboundedReceiver<Job>) {
        let mut slot = match self.begin_bare().await {
            Ok(slot) => slot,
            Err(e) => {
                let _ = first.reply.send(Err(e));
                return;
            }
        };
        let mut next = Some(first);
        while let Some(job) = next.take().or_else(|| jobs.try_recv().ok()) {
            let ran = match slot.txn() {
                Ok(txn) => txn.query_all_raw(job.turn).await,
                Err(e) => Err(e),
            };
            let failed = match ran {
                Ok(rows) if rows.len() == job.expected => {
                    if let Some(guard) = slot.guard.as_mut() {
                        if !job.events.is_empty() {
                            guard.events.push((job.org_id, job.events));
                        }
                        guard.waiters.push(Waiter::Job(job.reply));
                    }
                    if slot.guard.as_ref().is_some_and(|g| g.is_due(false, &self.options)) {
                        break;
                    }
                    continue;
                }
                Ok(_) => Ok(Written::Unmatched),
                Err(e) if crate::db::is_unique_violation(&e) => Ok(Written::Conflict),
                // A statement's rows broke a constraint: that statement failed alone, after the
                // savepoint, which undoes the write's other statements.
                Err(e) if is_constraint_violation(&e) => Err(e),
                Err(e) => return self.fail_group(&mut slot, job.reply, e).await,
            };
            let undone = match slot.txn() {
                Ok(txn) => txn.execute_unprepared("ROLLBACK TO cx_write; RELEASE cx_write").await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = undone {
                return self.fail_group(&mut slot, job.reply, e).await;
            }
            let _ = job.reply.send(failed);
        }
        let Some(mut guard) = slot.guard.take() else { return };
        if guard.waiters.is_empty() && guard.events.is_empty() {
            // Nothing of ours is in the group (every write failed): hand it on as it is.
            slot.guard = Some(guard);
            return;
        }
        if guard.is_due(false, &self.options) || self.queued.load(Ordering::SeqCst) == 0 {
            if let Err(e) = self.commit_group(&mut guard, false).await {
                tracing::warn!(error = %e, "a group commit failed");
            }
            return;
        }
        // Another writer waits for the slot: it carries the group on. Should it go away without
        // committing, this group still commits when it is due.
        let generation = guard.generation;
        drop(guard);
        let b = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(b.options.max_age).await;
            b.finish_generation(generation).await;
        });
    }

    /// A write left the group in a state no single write can undo: the group is rolled back,
    /// and the write is told why.
    async fn fail_group(&self, slot: &mut Slot, reply: oneshot::Sender<Result<Written, DbErr>>, e: DbErr) {
        if let Some(mut guard) = slot.guard.take() {
            self.abandon_group(&mut guard, &e).await;
        }
        let _ = reply.send(Err(e));
    }

    /// Rolls the open group back: every write in it fails (its callers are told, and the
    /// webhooks among them answered so that they are delivered again).
    async fn abandon_group(&self, open: &mut Open, why: &DbErr) {
        tracing::warn!(error = %why, "a write left its group in a state it cannot undo alone; the group is rolled back");
        let waiters = std::mem::take(&mut open.waiters);
        open.events.clear();
        open.generation += 1;
        if let Some(txn) = open.txn.take() {
            let _ = txn.rollback().await;
        }
        let answer = Err(format!("the group was rolled back: {why}"));
        for w in waiters {
            w.answer(&answer);
        }
    }

    /// Commits the open group (if any) and answers its waiters; returns the commit's result.
    /// `own`: the caller is a write of this group too.
    async fn commit_group(&self, open: &mut Open, own: bool) -> Result<(), DbErr> {
        let waiters = std::mem::take(&mut open.waiters);
        let pending = std::mem::take(&mut open.events);
        open.generation += 1;
        let Some(txn) = open.txn.take() else {
            let answer = Err("the group's transaction was gone".into());
            for w in waiters {
                w.answer(&answer);
            }
            return Err(DbErr::Custom("the group's transaction was gone".into()));
        };
        let writes = waiters.len() + usize::from(own);
        let mut events = Vec::new();
        let result = match number_all(&txn, pending, &mut events).await {
            Ok(()) => txn.commit().await,
            // Dropping the transaction rolls the whole group back.
            Err(e) => Err(e),
        };
        if result.is_ok() {
            metrics::counter!("cx_committed_events_total").increment(events.len() as u64);
            publish(&self.publisher, events);
        }
        if result.is_ok() {
            self.groups.fetch_add(1, Ordering::SeqCst);
            self.writes.fetch_add(writes as u64, Ordering::SeqCst);
        }
        let shard = self.shard.to_string();
        metrics::histogram!("cx_commit_batch_size", "shard" => shard).record(writes as f64);
        metrics::histogram!("cx_commit_batch_seconds").record(open.opened.elapsed().as_secs_f64());
        let answer = result.as_ref().map(|_| ()).map_err(|e| e.to_string());
        for w in waiters {
            w.answer(&answer);
        }
        result
    }

    /// Commits the group `generation` unless that already happened.
    async fn finish_generation(&self, generation: u64) {
        let mut guard = self.state.clone().lock_owned().await;
        if guard.generation == generation
            && let Err(e) = self.commit_group(&mut guard, false).await
        {
            tracing::warn!(error = %e, "a group commit finished by a waiter failed");
        }
    }
}

impl Slot {
    /// The group's transaction.
    fn txn(&self) -> Result<&DatabaseTransaction, DbErr> {
        self.guard
            .as_ref()
            .and_then(|g| g.txn.as_ref())
            .ok_or_else(|| DbErr::Custom("the group transaction is gone".into()))
    }

    /// Hands this write (its savepoint already released) and its events (of one organization)
    /// to the group, and returns once the group that holds it has committed; the group numbered
    /// and published the events.
    pub(crate) async fn finish(mut self, events: Option<(&str, Vec<NewEvent>)>) -> Result<(), DbErr> {
        let Some(mut guard) = self.guard.take() else {
            return Err(DbErr::Custom("this write already left its group".into()));
        };
        if let Some((org_id, events)) = events.filter(|(_, e)| !e.is_empty()) {
            guard.events.push((org_id.to_owned(), events));
        }
        let b = self.batcher.clone();
        if guard.is_due(true, &b.options) || b.queued.load(Ordering::SeqCst) == 0 {
            // Nobody to hand the group to (or it is big or old enough): commit it now.
            return b.commit_group(&mut guard, true).await;
        }
        let (tx, mut rx) = oneshot::channel();
        guard.waiters.push(Waiter::Turn(tx));
        let generation = guard.generation;
        drop(guard);
        let answer = tokio::select! {
            answer = &mut rx => answer,
            _ = tokio::time::sleep(b.options.max_age) => {
                // The writers queued behind us may have gone (cancelled): finish it ourselves.
                b.finish_generation(generation).await;
                rx.await
            }
        };
        match answer {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(DbErr::Custom(format!("the group commit failed: {e}"))),
            Err(_) => Err(DbErr::Custom("the group commit was abandoned".into())),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // Left without finish(): this write's savepoint is rolled back (its transaction was
        // dropped first). If nobody is queued to carry the group on, a finisher commits it, so
        // it neither keeps SQLite's write lock nor leaves its waiters waiting.
        let Some(guard) = self.guard.take() else { return };
        let generation = guard.generation;
        let nobody_else = self.batcher.queued.load(Ordering::SeqCst) == 0;
        drop(guard);
        if nobody_else && let Ok(handle) = tokio::runtime::Handle::try_current() {
            let b = self.batcher.clone();
            handle.spawn(async move { b.finish_generation(generation).await });
        }
    }
}

/// Numbers and inserts a group's events: each organization's in one counter bump and one
/// multi-row insert, organizations in a fixed order (so two groups never wait on each other's
/// counter rows in opposite orders), each organization's events in the order their writes
/// finished.
async fn number_all(
    txn: &DatabaseTransaction,
    pending: Vec<(String, Vec<NewEvent>)>,
    out: &mut Vec<Event>,
) -> Result<(), DbErr> {
    let mut by_org: std::collections::BTreeMap<String, Vec<NewEvent>> = std::collections::BTreeMap::new();
    for (org_id, events) in pending {
        by_org.entry(org_id).or_default().extend(events);
    }
    for (org_id, events) in by_org {
        number_and_insert(txn, &org_id, events, out).await?;
    }
    Ok(())
}

/// The writer's loop: runs until the batcher is gone (its queue's sender with it).
async fn run_writer(batcher: Weak<Batcher>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = jobs.recv().await {
        let Some(b) = batcher.upgrade() else { return };
        b.run_jobs(job, &mut jobs).await;
    }
}

/// The database refused a statement's rows for a constraint (unique, foreign key, not null,
/// check): the statement failed alone, and the transaction is as it was before it.
fn is_constraint_violation(e: &DbErr) -> bool {
    use sea_orm::sqlx::error::ErrorKind;
    crate::db::database_error(e).is_some_and(|d| {
        matches!(
            d.kind(),
            ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation
        )
    })
}

/// A write's statements as one: its savepoint first, then each statement, their values in
/// order (SQLite binds a multi-statement query's anonymous `?` parameters in sequence).
fn one_turn(statements: Vec<Statement>) -> Statement {
    let mut sql = String::from("SAVEPOINT cx_write");
    let mut values = Vec::new();
    for s in statements {
        sql.push_str(";\n");
        sql.push_str(&s.sql);
        if let Some(v) = s.values {
            values.extend(v.0);
        }
    }
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

/// Counts a writer as queued for the slot while it waits (also when its future is dropped).
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn new(n: &'a AtomicUsize) -> Queued<'a> {
        n.fetch_add(1, Ordering::SeqCst);
        Queued(n)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
