//! Group commit ([`actors::group_commit`]): writes that overlap share one transaction and one
//! commit, a write that fails fails alone, and an organization's `org_seq` stays gap-free and in
//! commit order for a reader that follows it while groups commit. On a SQLite file, and on
//! PostgreSQL when `CX_TEST_DATABASE_URL` is set (skipped visibly otherwise, required by CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use actors::db::{Db, DbOptions};
use actors::events::EventName;
use actors::store::events::{self, NewEvent};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

/// A migrated database: a SQLite file in `dir`, or a fresh PostgreSQL database.
struct TestDb {
    db: Db,
    pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

async fn sqlite(options: impl FnOnce(&mut DbOptions)) -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let mut o = DbOptions::new(8, Duration::from_secs(30));
    options(&mut o);
    let db = Db::connect_with(&url, o).await.unwrap();
    Migrator::up(&db.conn, None).await.unwrap();
    TestDb { db, pg: None, _dir: dir }
}

async fn postgres(options: impl FnOnce(&mut DbOptions)) -> Option<TestDb> {
    let Some(base) = std::env::var("CX_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        let test = std::thread::current().name().unwrap_or("a test").to_owned();
        eprintln!("SKIPPED {test} on PostgreSQL: CX_TEST_DATABASE_URL is not set (.ci/run sets it)");
        return None;
    };
    let name = format!("cx_gc_{}", uuid::Uuid::now_v7().simple());
    let admin = sea_orm::Database::connect(&base).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
    admin.close().await.ok();
    let url = match base.rfind('/') {
        Some(i) if !base[..i].ends_with('/') => format!("{}/{name}", &base[..i]),
        _ => format!("{base}/{name}"),
    };
    let mut o = DbOptions::new(8, Duration::from_secs(30));
    options(&mut o);
    let db = Db::connect_with(&url, o).await.unwrap();
    Migrator::up(&db.conn, None).await.unwrap();
    Some(TestDb { db, pg: Some((base, name)), _dir: tempfile::tempdir().unwrap() })
}

impl TestDb {
    async fn drop_db(self) {
        let TestDb { db, pg, .. } = self;
        db.conn.close().await.ok();
        if let Some((base, name)) = pg {
            let admin = sea_orm::Database::connect(&base).await.unwrap();
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.ok();
            admin.close().await.ok();
        }
    }
}

fn org_row(id: &str, name: &str) -> entities::organization::ActiveModel {
    let now = chrono::Utc::now();
    entities::organization::ActiveModel {
        id: Set(id.into()),
        name: Set(name.into()),
        bot_enabled: Set(false),
        onboarding_completed: Set(false),
        event_seq: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

async fn org(db: &Db, id: &str) {
    org_row(id, id).insert(&db.conn).await.unwrap();
}

fn event(i: usize) -> NewEvent {
    NewEvent { conversation: None, name: EventName::TagCreated, payload: format!("{{\"write\":{i}}}") }
}

/// One write: a row of its own, and if `fail` a statement that violates a unique key (a second
/// organization `org_id`), so the write fails after it wrote; then commits with `events_n`
/// events of `org_id`, as the runtime's writes do (the group numbers them).
async fn write(db: &Db, org_id: &str, i: usize, events_n: usize, fail: bool) -> Result<(), DbErr> {
    let txn = db.begin_write_in(org_id).await?;
    txn.execute_unprepared(&format!("UPDATE organizations SET name = 'written by {i}' WHERE id = '{org_id}'")).await?;
    if fail {
        org_row(org_id, "again").insert(&*txn).await?;
    }
    txn.commit_events(org_id, (0..events_n).map(|_| event(i)).collect()).await
}

/// `org_seq`s and payloads of an organization's events, in `org_seq` order.
async fn stored(db: &Db, org_id: &str) -> Vec<(i64, String)> {
    events::since(&db.conn, org_id, 0, 1_000_000).await.unwrap().iter().map(|e| (e.org_seq, payload(e))).collect()
}

fn payload(e: &actors::events::Event) -> String {
    let v: serde_json::Value = serde_json::from_str(&e.wire).unwrap();
    v["data"].to_string()
}

async fn one_bad_write_fails_only_its_caller(t: TestDb) {
    let db = t.db.clone();
    org(&db, "org").await;
    // The first write holds the group open until the 19 others wait behind it, so all 20 are
    // one group: the bad one's failure must not take the others with it. (The first numbers its
    // event itself, inside its savepoint; the others hand theirs to the group.)
    let first = db.begin_write_in("org").await.unwrap();
    events::number_and_insert(&*first, "org", vec![event(0)], &mut Vec::new()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 1..20 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move { (i, write(&db, "org", i, 2, i == 7).await) }));
    }
    for _ in 0..500 {
        if db.writers_waiting() == 19 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(db.writers_waiting(), 19, "the other writes queue behind the open one");
    let before = db.commit_stats();
    first.commit().await.unwrap();
    for task in tasks {
        let (i, result) = task.await.unwrap();
        if i == 7 {
            let e = result.expect_err("the bad write fails");
            assert!(e.to_string().to_lowercase().contains("unique"), "{e}");
        } else {
            result.unwrap();
        }
    }
    let after = db.commit_stats();
    assert_eq!(after.groups - before.groups, 1, "one commit for the whole group");
    assert_eq!(after.writes - before.writes, 19, "the bad write is not one of them");
    let rows = stored(&db, "org").await;
    let seqs: Vec<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(seqs, (1..=37).collect::<Vec<_>>(), "gap-free: the bad write's numbers were not taken");
    assert!(!rows.iter().any(|r| r.1.contains("\"write\":7")), "the bad write's events are gone");
    for i in (1..20).filter(|i| *i != 7) {
        assert_eq!(rows.iter().filter(|r| r.1 == format!("{{\"write\":{i}}}")).count(), 2, "write {i}");
    }
    let head = events::head(&db.conn, "org").await.unwrap();
    assert_eq!(head, 37, "the counter matches the events");
    t.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_bad_write_fails_only_its_caller_sqlite() {
    one_bad_write_fails_only_its_caller(sqlite(|o| o.group.max_age = Duration::from_secs(5)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_bad_write_fails_only_its_caller_postgres() {
    if let Some(t) = postgres(|o| {
        o.shards = 1;
        o.group.max_age = Duration::from_secs(5);
    })
    .await
    {
        one_bad_write_fails_only_its_caller(t).await;
    }
}

/// 40 writers × 25 writes over 3 organizations, every 9th write failing after it appended its
/// events, while a reader per organization follows `since(cursor)` the way a resuming socket and
/// the API-channel dispatcher do: every read continues exactly at the cursor (no hole that a
/// later commit fills), and at the end each organization holds 1..=n with n its good writes.
/// Readers that follow each organization's events from the start while writers commit, each
/// checking that every event it reads is the next number (a cursor never skips an event that
/// commits later); each returns where it stopped once `done` is set.
fn follow(
    db: &Db,
    orgs: &[&'static str],
    done: &Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<i64>> {
    let mut readers = Vec::new();
    for &o in orgs {
        let (db, done) = (db.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let mut cursor = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                for e in events::since(&db.conn, o, cursor, 500).await.unwrap() {
                    assert_eq!(e.org_seq, cursor + 1, "{o}: a reader at {cursor} saw {} next", e.org_seq);
                    cursor = e.org_seq;
                }
                if finished {
                    return cursor;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    readers
}

/// Stops the [`follow`] readers and checks that each read its organization's `expected` events,
/// and that exactly those are stored, numbered 1, 2, ….
async fn read_to_the_end(
    db: &Db,
    orgs: &[&'static str],
    done: &std::sync::atomic::AtomicBool,
    readers: Vec<tokio::task::JoinHandle<i64>>,
    expected: [i64; 3],
) {
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    for (o, reader) in readers.into_iter().enumerate() {
        assert_eq!(reader.await.unwrap(), expected[o], "{} read to its head", orgs[o]);
        let seqs: Vec<i64> = stored(db, orgs[o]).await.iter().map(|r| r.0).collect();
        assert_eq!(seqs, (1..=expected[o]).collect::<Vec<_>>(), "{}", orgs[o]);
    }
}

async fn org_seq_is_gap_free_and_in_commit_order(t: TestDb) {
    let db = t.db.clone();
    let orgs = ["org-a", "org-b", "org-c"];
    for o in orgs {
        org(&db, o).await;
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers = follow(&db, &orgs, &done);
    let mut writers = Vec::new();
    for w in 0..40 {
        let db = db.clone();
        writers.push(tokio::spawn(async move {
            let mut good = [0i64; 3];
            for k in 0..25 {
                let n = w * 25 + k;
                let o = n % 3;
                let fail = n % 9 == 4;
                let result = write(&db, orgs[o], n, 1 + n % 3, fail).await;
                assert_eq!(result.is_err(), fail, "write {n}: {result:?}");
                if !fail {
                    good[o] += 1 + (n % 3) as i64;
                }
            }
            good
        }));
    }
    let mut expected = [0i64; 3];
    for w in writers {
        let good = w.await.unwrap();
        for o in 0..3 {
            expected[o] += good[o];
        }
    }
    read_to_the_end(&db, &orgs, &done, readers, expected).await;
    let stats = db.commit_stats();
    assert_eq!(stats.writes, 889, "every good write committed once: {stats:?}");
    assert!(stats.groups < stats.writes, "overlapping writes shared commits: {stats:?}");
    t.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn org_seq_is_gap_free_and_in_commit_order_sqlite() {
    org_seq_is_gap_free_and_in_commit_order(sqlite(|_| {}).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn org_seq_is_gap_free_and_in_commit_order_postgres() {
    if let Some(t) = postgres(|o| o.shards = 2).await {
        org_seq_is_gap_free_and_in_commit_order(t).await;
    }
}

#[tokio::test]
async fn sqlite_is_synchronous_full_by_default_and_normal_on_request() {
    for (full, expected) in [(true, 2), (false, 1)] {
        let t = sqlite(|o| o.sqlite_synchronous_full = full).await;
        let row =
            t.db.conn
                .query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, "PRAGMA synchronous"))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), expected, "full = {full}");
        t.drop_db().await;
    }
}

/// PostgreSQL breaks a deadlock by aborting one of the transactions: that error is a
/// [`actors::ActorError::Stale`] (nothing committed; the runtime runs the change again), every
/// other database error stays one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transaction_aborted_to_break_a_deadlock_is_stale_postgres() {
    use sea_orm::TransactionTrait;
    let Some(t) = postgres(|_| {}).await else { return };
    let db = &t.db.conn;
    org(&t.db, "o1").await;
    org(&t.db, "o2").await;
    let bump = |id: &str| format!("UPDATE organizations SET event_seq = event_seq + 1 WHERE id = '{id}'");
    let a = db.begin().await.unwrap();
    let b = db.begin().await.unwrap();
    a.execute_unprepared(&bump("o1")).await.unwrap();
    b.execute_unprepared(&bump("o2")).await.unwrap();
    // Each now waits for the row the other holds; PostgreSQL aborts one after deadlock_timeout.
    let (to_o2, to_o1) = (bump("o2"), bump("o1"));
    let (ra, rb) = tokio::join!(a.execute_unprepared(&to_o2), b.execute_unprepared(&to_o1));
    let err = match (ra, rb) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("expected exactly one deadlock victim: {other:?}"),
    };
    assert!(actors::error::aborted_to_retry(&err), "{err:?}");
    assert!(matches!(actors::ActorError::from(err), actors::ActorError::Stale));
    a.rollback().await.ok();
    b.rollback().await.ok();
    // A unique violation is not retried.
    let dup = org_row("o1", "again").insert(db).await.unwrap_err();
    assert!(!actors::error::aborted_to_retry(&dup));
    assert!(matches!(actors::ActorError::from(dup), actors::ActorError::Db(_)));
    t.drop_db().await;
}

/// Events `from` to `from + count` (exclusive), every other one of a conversation.
fn numbered_items(from: usize, count: usize) -> Vec<NewEvent> {
    (from..from + count)
        .map(|i| NewEvent {
            conversation: (i % 2 == 0).then(|| (format!("c{i}"), i as i64)),
            name: EventName::TagCreated,
            payload: format!("{{\"i\":{i}}}"),
        })
        .collect()
}

/// `number_and_insert` takes the numbers after the organization's counter, in the order given,
/// stores exactly the events it hands back, and stores nothing for an organization that does
/// not exist. On PostgreSQL a call of up to 500 events is one statement, a bigger one two: both
/// are here.
async fn numbering_follows_the_counter_and_stores_what_it_returns(t: TestDb) {
    let db = &t.db;
    org(db, "o").await;
    let mut returned = Vec::new();
    for (from, count) in [(0, 3), (3, 501)] {
        let txn = sea_orm::TransactionTrait::begin(&db.conn).await.unwrap();
        let mut out = Vec::new();
        events::number_and_insert(&txn, "o", numbered_items(from, count), &mut out).await.unwrap();
        txn.commit().await.unwrap();
        let seqs: Vec<i64> = out.iter().map(|e| e.org_seq).collect();
        assert_eq!(seqs, (from as i64 + 1..=(from + count) as i64).collect::<Vec<_>>());
        returned.extend(out);
    }
    let stored = events::since(&db.conn, "o", 0, 10_000).await.unwrap();
    assert_eq!(stored.len(), 504);
    for (i, (s, r)) in stored.iter().zip(&returned).enumerate() {
        assert_eq!(s.wire, r.wire, "event {i}: stored as returned");
        assert_eq!((s.org_seq, payload(s)), (i as i64 + 1, format!("{{\"i\":{i}}}")));
        assert_eq!((s.conversation_id.clone(), s.seq), (i % 2 == 0).then(|| (format!("c{i}"), i as i64)).unzip());
    }
    assert_eq!(events::head(&db.conn, "o").await.unwrap(), 504);

    let txn = sea_orm::TransactionTrait::begin(&db.conn).await.unwrap();
    let err = events::number_and_insert(&txn, "nobody", numbered_items(0, 2), &mut Vec::new()).await.unwrap_err();
    assert!(matches!(err, DbErr::RecordNotFound(_)), "{err:?}");
    txn.commit().await.unwrap();
    assert!(events::since(&db.conn, "nobody", 0, 10).await.unwrap().is_empty(), "nothing stored for nobody");
    t.drop_db().await;
}

#[tokio::test]
async fn numbering_follows_the_counter_and_stores_what_it_returns_sqlite() {
    numbering_follows_the_counter_and_stores_what_it_returns(sqlite(|_| {}).await).await;
}

#[tokio::test]
async fn numbering_follows_the_counter_and_stores_what_it_returns_postgres() {
    if let Some(t) = postgres(|_| {}).await {
        numbering_follows_the_counter_and_stores_what_it_returns(t).await;
    }
}

/// The statements of write `i` for [`Db::write_statements`]: a new organization `w{i}`, then
/// (kind 1) a second `org` row, which the primary key refuses, (kind 2) an update that matches
/// no row, or (otherwise) an update of organization `renamed` that applies.
fn statements(db: &Db, i: usize, renamed: &str) -> Vec<sea_orm::Statement> {
    use sea_orm::QueryTrait;
    let backend = db.backend();
    let returning = |mut s: sea_orm::Statement| {
        s.sql.push_str(" RETURNING 1");
        s
    };
    let insert = |id: &str| returning(entities::organization::Entity::insert(org_row(id, id)).build(backend));
    let rename = |id: &str| {
        let p = if backend == sea_orm::DbBackend::Postgres { "$1" } else { "?" };
        let q = if backend == sea_orm::DbBackend::Postgres { "$2" } else { "?" };
        sea_orm::Statement::from_sql_and_values(
            backend,
            format!("UPDATE organizations SET name = {p} WHERE id = {q} RETURNING 1"),
            [format!("renamed by {i}").into(), id.into()],
        )
    };
    let second = match i % 5 {
        1 => insert("org"),
        2 => rename("nobody"),
        _ => rename(renamed),
    };
    vec![insert(&format!("w{i}")), second]
}

/// Awaits the writes of [`statements`] (every fourth one written statement by statement) and
/// checks each one's outcome; returns those that applied.
async fn applied(tasks: Vec<tokio::task::JoinHandle<(usize, Result<actors::db::Written, DbErr>)>>) -> Vec<usize> {
    use actors::db::Written;
    let mut ok = Vec::new();
    for task in tasks {
        let (i, result) = task.await.unwrap();
        let expected = match i % 5 {
            _ if i % 4 == 0 => Written::Stored,
            1 => Written::Conflict,
            2 => Written::Unmatched,
            _ => Written::Stored,
        };
        assert_eq!(result.unwrap(), expected, "write {i}");
        if expected == Written::Stored {
            ok.push(i);
        }
    }
    ok
}

/// Writes given as statements ([`Db::write_statements`]: on SQLite the writer runs them, one
/// turn each) share a group with writes made statement by statement; one that a unique index refuses or whose
/// update matches no row leaves nothing behind, even when it follows writes that applied (each
/// rolls back to its own savepoint, not an earlier one), and the others commit with their
/// events, numbered without a gap.
async fn writes_given_as_statements_fail_alone(t: TestDb) {
    use actors::db::Written;
    let db = t.db.clone();
    org(&db, "org").await;
    let first = db.begin_write_in("org").await.unwrap();
    events::number_and_insert(&*first, "org", vec![event(0)], &mut Vec::new()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 1..=20 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            // Every fourth write goes statement by statement, between the others.
            if i % 4 == 0 {
                return (i, write(&db, "org", i, 2, false).await.map(|()| Written::Stored));
            }
            let events = (0..2).map(|_| event(i)).collect();
            (i, db.write_statements("org", statements(&db, i, "org"), events).await)
        }));
    }
    // The five written statement by statement wait for the slot, and so does the writer that
    // runs the others (on SQLite; on PostgreSQL each of those waits for the slot itself).
    let waiting = if db.backend() == sea_orm::DbBackend::Sqlite { 6 } else { 20 };
    for _ in 0..500 {
        if db.writers_waiting() == waiting {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(db.writers_waiting(), waiting, "the writes queue behind the open one");
    // The writer's queue holds the rest by now (they were sent before their tasks yielded).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = db.commit_stats();
    first.commit().await.unwrap();
    let ok = applied(tasks).await;
    let after = db.commit_stats();
    assert_eq!(after.groups - before.groups, 1, "one commit for the whole group");
    assert_eq!(after.writes - before.writes, 1 + ok.len() as u64, "the open one and those that applied");
    for i in 1..=20 {
        let row = entities::organization::Entity::find_by_id(format!("w{i}")).one(&db.conn).await.unwrap();
        let statement_write = i % 4 != 0;
        assert_eq!(row.is_some(), statement_write && ok.contains(&i), "organization w{i}");
    }
    let rows = stored(&db, "org").await;
    let seqs: Vec<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(seqs, (1..=1 + 2 * ok.len() as i64).collect::<Vec<_>>(), "gap-free");
    for i in 1..=20 {
        let n = rows.iter().filter(|r| r.1 == format!("{{\"write\":{i}}}")).count();
        assert_eq!(n, if ok.contains(&i) { 2 } else { 0 }, "events of write {i}");
    }
    // The next group starts clean: a write given as statements commits alone.
    let events = vec![event(99)];
    assert_eq!(db.write_statements("org", statements(&db, 98, "org"), events).await.unwrap(), Written::Stored);
    assert_eq!(events::head(&db.conn, "org").await.unwrap(), 2 + 2 * ok.len() as i64);
    t.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_given_as_statements_fail_alone_sqlite() {
    writes_given_as_statements_fail_alone(sqlite(|o| o.group.max_age = Duration::from_secs(5)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_given_as_statements_fail_alone_postgres() {
    if let Some(t) = postgres(|o| {
        o.shards = 1;
        o.group.max_age = Duration::from_secs(5);
    })
    .await
    {
        writes_given_as_statements_fail_alone(t).await;
    }
}

/// On PostgreSQL without groups (the default), a write given as statements that moves no count
/// bucket is one statement, committed alone: one that a unique index refuses or whose update
/// matches no row leaves nothing behind (not its rows, not a number of the counter), while writes
/// of both kinds (one statement, and statement by statement) commit around it concurrently with
/// their events numbered without a gap.
async fn one_statement_writes_fail_alone(t: TestDb) {
    use actors::db::Written;
    let db = t.db.clone();
    org(&db, "org").await;
    org(&db, "other").await;
    let mut tasks = Vec::new();
    for i in 1..=60 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            if i % 4 == 0 {
                return (i, write(&db, "org", i, 2, false).await.map(|()| Written::Stored));
            }
            let events = (0..2).map(|_| event(i)).collect();
            // The statements must leave the organization's own row to the counter.
            (i, db.write_statements("org", statements(&db, i, "other"), events).await)
        }));
    }
    let ok = applied(tasks).await;
    for i in 1..=60 {
        let row = entities::organization::Entity::find_by_id(format!("w{i}")).one(&db.conn).await.unwrap();
        assert_eq!(row.is_some(), i % 4 != 0 && ok.contains(&i), "organization w{i}");
    }
    let other = entities::organization::Entity::find_by_id("other".to_owned()).one(&db.conn).await.unwrap().unwrap();
    assert!(other.name.starts_with("renamed by "), "{}", other.name);
    let rows = stored(&db, "org").await;
    let seqs: Vec<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(seqs, (1..=2 * ok.len() as i64).collect::<Vec<_>>(), "gap-free");
    for i in 1..=60 {
        let n = rows.iter().filter(|r| r.1 == format!("{{\"write\":{i}}}")).count();
        assert_eq!(n, if ok.contains(&i) { 2 } else { 0 }, "events of write {i}");
    }
    assert_eq!(events::head(&db.conn, "org").await.unwrap(), 2 * ok.len() as i64, "the counter kept no number");
    t.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_statement_writes_fail_alone_postgres() {
    if let Some(t) = postgres(|o| o.shards = 0).await {
        one_statement_writes_fail_alone(t).await;
    }
}

/// The same for the default on PostgreSQL, no groups: writes given as statements commit one
/// statement each (some refused by a unique index, some matching no row), between writes made
/// statement by statement, for three organizations at once; readers that follow each one never
/// see a gap, and every number belongs to a write that applied.
async fn one_statement_writes_keep_org_seq_gap_free(t: TestDb) {
    use actors::db::Written;
    let db = t.db.clone();
    let orgs = ["org-a", "org-b", "org-c"];
    for o in orgs.into_iter().chain(["org", "other"]) {
        org(&db, o).await;
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers = follow(&db, &orgs, &done);
    let mut writers = Vec::new();
    for w in 0..20 {
        let db = db.clone();
        writers.push(tokio::spawn(async move {
            let mut good = [0i64; 3];
            for k in 0..25 {
                let n = w * 25 + k;
                let o = n % 3;
                let count = 1 + n % 3;
                let applied = if n % 4 == 0 {
                    write(&db, orgs[o], n, count, false).await.unwrap();
                    true
                } else {
                    let events = (0..count).map(|_| event(n)).collect();
                    let written = db.write_statements(orgs[o], statements(&db, n, "other"), events).await.unwrap();
                    let expected = match n % 5 {
                        1 => Written::Conflict,
                        2 => Written::Unmatched,
                        _ => Written::Stored,
                    };
                    assert_eq!(written, expected, "write {n}");
                    written == Written::Stored
                };
                if applied {
                    good[o] += count as i64;
                }
            }
            good
        }));
    }
    let mut expected = [0i64; 3];
    for w in writers {
        let good = w.await.unwrap();
        for o in 0..3 {
            expected[o] += good[o];
        }
    }
    read_to_the_end(&db, &orgs, &done, readers, expected).await;
    t.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_statement_writes_keep_org_seq_gap_free_postgres() {
    if let Some(t) = postgres(|o| o.shards = 0).await {
        one_statement_writes_keep_org_seq_gap_free(t).await;
    }
}
