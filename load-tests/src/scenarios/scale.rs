//! `scale`: do the queries users hit often stay flat as the data grows? One organization is
//! seeded straight into the scratch database with SQL (`WITH RECURSIVE` on SQLite,
//! `generate_series` on PostgreSQL: the rows are made in the database, no round trips) at 1x,
//! then grown in place to 10x and 100x, and at each size the same requests are timed through
//! the real HTTP API and agent socket with the organization admin's token (an agent of the
//! organization: the list's "mine" is theirs).
//!
//! 1x: 10,000 conversations (500 open; the open set stays 500 as the history grows, as in a
//! real inbox; a tenth of the history was the admin's), one conversation of 1,000 messages,
//! 20,000 events, 500 knowledge chunks, 200 failed + 50 pending outbound messages (constant) and
//! 1,000 discarded ones. 10x and 100x multiply everything but the open set and the open outbox.
//! Seeded ids start `00000000-`, so they sort before the UUIDv7 rows the server writes.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::StreamExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::Result;
use crate::report::{Report, Table};
use crate::server::{self, DbKind, Node, NodeOpts, Secrets, TestDb};
use crate::stats::Lat;

/// The sizes, as multiples of 1x.
const LEVELS: [u64; 3] = [1, 10, 100];
const CONVERSATIONS: u64 = 10_000;
/// Conversations not closed, at every size.
const OPEN: u64 = 500;
/// Distinct customers of the history (the open ones each have their own).
const CONTACTS: u64 = 10_000;
const BIG_CONVERSATION_MESSAGES: u64 = 1_000;
const EVENTS: u64 = 20_000;
const CHUNKS: u64 = 500;
const FAILED: u64 = 200;
const PENDING: u64 = 50;
const DISCARDED: u64 = 1_000;
/// Requests per HTTP query and size, and how many run at once. A p99 needs enough samples to
/// stand on: of 100 it is the single slowest but one, so one scheduling hiccup moved it 2x;
/// of 1,000 it is the tenth slowest.
const REPS: usize = 1_000;
const CONCURRENCY: usize = 4;
/// Socket resumes per cursor and size.
const SOCKET_REPS: usize = 100;
/// Knowledge searches per query kind and size.
const RAG_REPS: usize = 200;
/// The longest one query may be timed for at one size; fewer samples after that.
const QUERY_CAP: Duration = Duration::from_secs(12);
/// A flat query's p99 at 100x is at most this many times its p99 at 1x.
const FLAT: f64 = 2.0;

/// Id prefixes of the seeded rows, one per table (hex digits after `00000000-0000-7000-`).
const CONV: &str = "00000000-0000-7000-8000-";
const CONTACT: &str = "00000000-0000-7000-8001-";
const MESSAGE: &str = "00000000-0000-7000-8002-";
const EVENT: &str = "00000000-0000-7000-8003-";
const CHUNK: &str = "00000000-0000-7000-8004-";
const OUTBOX: &str = "00000000-0000-7000-8005-";
/// The conversation with the long history: the second open one (HUMAN_HANDLING).
const BIG: u64 = 1;

pub async fn run(binary: &Path) -> Result<Report> {
    let mut report = Report::default();
    let mut json_dbs = serde_json::Map::new();
    for kind in [DbKind::Sqlite, DbKind::Postgres] {
        let started = Instant::now();
        let r = run_on(binary, kind).await?;
        let mut t = Table::new(
            format!(
                "scale on {}: p50/p99 ms through the API at 1x / 10x / 100x ({} conversations at 100x, {} open)",
                kind.label(),
                CONVERSATIONS * 100,
                OPEN
            ),
            &["query", "1x", "10x", "100x", "100x/1x p99", "verdict"],
        );
        let mut rows = Vec::new();
        for (i, name) in r.names.iter().enumerate() {
            let at: Vec<&Lat> = r.levels.iter().map(|l| &l.lats[i].1).collect();
            let cell = |l: &Lat| format!("{}/{}", l.p50_ms(), l.p99_ms());
            let ratio = match (at.first(), at.last()) {
                (Some(a), Some(b)) if a.count > 0 && b.count > 0 && a.p99_us > 0 => {
                    Some(b.p99_us as f64 / a.p99_us as f64)
                }
                _ => None,
            };
            let verdict = match ratio {
                Some(x) if x <= FLAT => "flat",
                Some(_) => "GROWS",
                None => "-",
            };
            let errors: usize = r.levels.iter().map(|l| l.lats[i].2).sum();
            let mut cells = vec![name.clone()];
            cells.extend(at.iter().map(|l| cell(l)));
            cells.push(ratio.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into()));
            cells.push(if errors > 0 { format!("{verdict} ({errors} errors)") } else { verdict.into() });
            t.row(cells);
            rows.push(json!({
                "query": name,
                "levels": r.levels.iter().map(|l| json!({"level": l.level, "lat": l.lats[i].1.json(), "errors": l.lats[i].2})).collect::<Vec<_>>(),
                "p99Ratio100x": ratio,
                "verdict": verdict,
            }));
        }
        report.table(t);
        report.note(format!(
            "{}: seeding took {} s (1x / 10x / 100x: {}); whole run {:.0} s; {}",
            kind.label(),
            r.levels.iter().map(|l| l.seed_secs).sum::<f64>().round(),
            r.levels.iter().map(|l| format!("{:.1}", l.seed_secs)).collect::<Vec<_>>().join(" / "),
            started.elapsed().as_secs_f64(),
            r.log
        ));
        json_dbs.insert(
            kind.label().to_owned(),
            json!({
                "queries": rows,
                "seedSecs": r.levels.iter().map(|l| json!({"level": l.level, "secs": l.seed_secs})).collect::<Vec<_>>(),
                "newestPagePlans": r.levels.iter().filter(|l| !l.plans.is_empty()).map(|l| json!({"level": l.level, "plans": l.plans.iter().map(|(m, p)| json!({"mode": m, "plan": p})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
                "serverLog": r.log,
            }),
        );
    }
    report.note(format!(
        "each HTTP query {REPS} times per size ({CONCURRENCY} at once, at most {} s), socket resumes {SOCKET_REPS}, \
         knowledge searches {RAG_REPS}; verdict: flat when the p99 at 100x is at most {FLAT}x the p99 at 1x",
        QUERY_CAP.as_secs()
    ));
    report.note(
        "PostgreSQL is VACUUM ANALYZEd after each seeding (what autovacuum does after a bulk insert); SQLite has no statistics, as in production",
    );
    report.set("databases", Value::Object(json_dbs));
    report.set(
        "config",
        json!({"conversations1x": CONVERSATIONS, "open": OPEN, "contacts": CONTACTS, "bigConversation1x": BIG_CONVERSATION_MESSAGES,
               "events1x": EVENTS, "chunks1x": CHUNKS, "failed": FAILED, "pending": PENDING, "discarded1x": DISCARDED,
               "levels": LEVELS, "reps": REPS, "concurrency": CONCURRENCY, "socketReps": SOCKET_REPS, "ragReps": RAG_REPS}),
    );
    Ok(report)
}

struct Level {
    level: u64,
    seed_secs: f64,
    /// PostgreSQL's plans of the newest message page: (plan cache mode, `EXPLAIN ANALYZE`).
    plans: Vec<(&'static str, String)>,
    /// (query, latency, errors) in the order of `names`.
    lats: Vec<(String, Lat, usize)>,
}

struct DbRun {
    names: Vec<String>,
    levels: Vec<Level>,
    log: String,
}

async fn run_on(binary: &Path, kind: DbKind) -> Result<DbRun> {
    let db = TestDb::create(kind, "scale").await?;
    let secrets = Secrets::generate();
    let mut node =
        Node::start(binary, NodeOpts { name: "lt-scale", database_url: &db.url, secrets: &secrets, env: Vec::new() })
            .await?;
    let result = measure(kind, &db, &mut node).await;
    let alive = node.check_alive();
    let log = node.stop();
    db.drop_db().await;
    alive?;
    let (names, levels) = result?;
    Ok(DbRun { names, levels, log: log.describe("lt-scale") })
}

async fn measure(kind: DbKind, db: &TestDb, node: &mut Node) -> Result<(Vec<String>, Vec<Level>)> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let org = server::setup_org(&client, &node.base).await?;
    let conn = db.connect(2).await?;
    let ids = Ids::load(&conn, &org.email).await?;
    let seeder = Seeder { kind, ids };
    let mut levels = Vec::new();
    let mut names = Vec::new();
    let mut from = 0;
    for level in LEVELS {
        let started = Instant::now();
        seeder.grow(&conn, from, level).await?;
        from = level;
        let seed_secs = started.elapsed().as_secs_f64();
        println!("{} {level}x seeded in {seed_secs:.1} s", kind.label());
        let head = seeder.head(&conn).await?;
        let lats = time_queries(&client, node, &org.token, &seeder, level, head).await?;
        node.check_alive()?;
        let plans = match kind {
            DbKind::Postgres => newest_page_plans(&conn, &seeder.big_conversation()).await?,
            DbKind::Sqlite => Vec::new(),
        };
        for (mode, plan) in &plans {
            println!("  {level}x messages: newest 50, {mode}:\n{plan}");
        }
        names = lats.iter().map(|(n, _, _)| n.clone()).collect();
        levels.push(Level { level, seed_secs, plans, lats });
    }
    conn.close().await.ok();
    Ok((names, levels))
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the server's newest-page query of `conversation` (PostgreSQL),
/// as a custom plan and as the generic plan a prepared statement switches to.
async fn newest_page_plans(conn: &DatabaseConnection, conversation: &str) -> Result<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    for mode in ["force_custom_plan", "force_generic_plan"] {
        let txn = conn.begin().await?;
        txn.execute_unprepared(&format!("SET LOCAL plan_cache_mode = {mode}")).await?;
        txn.execute_unprepared(
            "PREPARE lt_newest(text, bigint) AS SELECT * FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .await?;
        let sql = format!("EXPLAIN (ANALYZE, BUFFERS) EXECUTE lt_newest('{conversation}', 51)");
        let rows = txn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql)).await?;
        let plan: Vec<String> = rows.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).collect();
        // Prepared statements belong to the session, not the transaction.
        txn.execute_unprepared("DEALLOCATE lt_newest").await?;
        txn.rollback().await?;
        out.push((mode, plan.join("\n")));
    }
    Ok(out)
}

/// The seeded organization's keys.
struct Ids {
    org: String,
    user: String,
    inbox: String,
}

impl Ids {
    async fn load(conn: &DatabaseConnection, email: &str) -> Result<Ids> {
        let one = |sql: String| async move {
            let row = conn
                .query_one_raw(Statement::from_string(conn.get_database_backend(), sql.clone()))
                .await?
                .ok_or_else(|| format!("no row for {sql}"))?;
            Ok::<_, crate::Error>((row.try_get_by_index::<String>(0)?, row.try_get_by_index::<String>(1)?))
        };
        let (user, org) = one(format!("SELECT id, org_id FROM users WHERE email = '{email}'")).await?;
        let (inbox, _) = one(format!("SELECT id, org_id FROM inboxes WHERE org_id = '{org}' ORDER BY id")).await?;
        Ok(Ids { org, user, inbox })
    }
}

/// Writes the rows of a size with SQL the database runs itself.
struct Seeder {
    kind: DbKind,
    ids: Ids,
}

impl Seeder {
    /// `INSERT INTO {table} ({cols}) SELECT {select} FROM` the integers `from..to` as `i`.
    fn series(&self, table: &str, cols: &str, select: &str, from: u64, to: u64) -> String {
        match self.kind {
            DbKind::Sqlite => format!(
                "WITH RECURSIVE s(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM s WHERE i + 1 < {to}) \
                 INSERT INTO {table} ({cols}) SELECT {select} FROM s"
            ),
            DbKind::Postgres => format!(
                "INSERT INTO {table} ({cols}) SELECT {select} FROM generate_series({from}::bigint, {to}::bigint - 1) AS s(i)"
            ),
        }
    }

    /// An id: `prefix` and `n` as 12 hex digits.
    fn id(&self, prefix: &str, n: &str) -> String {
        match self.kind {
            DbKind::Sqlite => format!("'{prefix}' || printf('%012x', {n})"),
            DbKind::Postgres => format!("'{prefix}' || lpad(to_hex({n}), 12, '0')"),
        }
    }

    /// A time `minutes` (an expression) before now, as the server stores it.
    fn ago(&self, minutes: &str) -> String {
        match self.kind {
            DbKind::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-' || ({minutes}) || ' minutes')"),
            DbKind::Postgres => format!("now() - make_interval(mins => ({minutes})::int)"),
        }
    }

    fn now(&self) -> String {
        self.ago("0")
    }

    /// Grows the organization from size `from` (0: empty) to `to`.
    async fn grow(&self, conn: &DatabaseConnection, from: u64, to: u64) -> Result<()> {
        let Ids { org, user, inbox } = &self.ids;
        let now = self.now();
        let mut sql = Vec::new();
        if from == 0 {
            // The customers, and the open set: a third each with the bot, a human and open; a
            // fifth of them the admin's, the others another agent's (none waits unassigned, so
            // auto-assignment leaves the data alone) or, with the bot, nobody's.
            let (id, wa) = (self.id(CONTACT, "i"), "'1999' || CAST(1000000 + i AS TEXT)");
            sql.push(self.series(
                "contacts",
                "id, org_id, wa_id, name, name_edited, simulated, created_at, updated_at",
                &format!("{id}, '{org}', {wa}, 'Customer ' || CAST(i AS TEXT), false, false, {now}, {now}"),
                0,
                CONTACTS,
            ));
            let status = "CASE i % 3 WHEN 0 THEN 'BOT_HANDLING' WHEN 1 THEN 'HUMAN_HANDLING' ELSE 'OPEN' END";
            let assigned = format!(
                "CASE WHEN i % 5 = 0 THEN '{user}' WHEN i % 3 = 0 THEN NULL ELSE '00000000-lt-other-agent' END"
            );
            sql.push(self.series(
                "conversations",
                "id, org_id, inbox_id, contact_id, status, assigned_to, unread_count, last_message_at, \
                 last_message_preview, last_inbound_at, event_seq, awaiting_reply, bot_epoch, created_at, updated_at",
                &format!(
                    "{}, '{org}', '{inbox}', {}, {status}, {assigned}, i % 3, {at}, 'hello', {at}, 0, i % 2 = 0, 0, {at}, {at}",
                    self.id(CONV, "i"),
                    self.id(CONTACT, "i"),
                    at = self.ago("i")
                ),
                0,
                OPEN,
            ));
            // The open outbox: failed (five error codes) and pending (due long after the run).
            sql.push(self.outbound("failed", "'13104' || CAST(i % 5 AS TEXT)", "NULL", "NULL", 0, FAILED));
            let later = match self.kind {
                DbKind::Sqlite => "'2099-01-01T00:00:00+00:00'",
                DbKind::Postgres => "CAST('2099-01-01T00:00:00+00:00' AS timestamptz)",
            };
            sql.push(self.outbound("pending", "NULL", "NULL", later, FAILED, FAILED + PENDING));
        }
        // The history: closed conversations, older than the open set, a tenth the admin's.
        let (a, b) = (OPEN.max(from * CONVERSATIONS), to * CONVERSATIONS);
        sql.push(self.series(
            "conversations",
            "id, org_id, inbox_id, contact_id, status, assigned_to, unread_count, last_message_at, \
             last_message_preview, last_inbound_at, event_seq, closed_at, awaiting_reply, bot_epoch, created_at, updated_at",
            &format!(
                "{}, '{org}', '{inbox}', {}, 'CLOSED', CASE WHEN i % 10 = 0 THEN '{user}' ELSE NULL END, 0, {at}, 'thanks', \
                 {at}, 0, {at}, false, 0, {at}, {at}",
                self.id(CONV, "i"),
                self.id(CONTACT, &format!("i % {CONTACTS}")),
                at = self.ago("1000 + i")
            ),
            a,
            b,
        ));
        // The long conversation: inbound and outbound in turn.
        sql.push(self.series(
            "messages",
            "id, org_id, conversation_id, inbox_id, direction, message_type, text, status, attempts, hidden, created_at, updated_at",
            &format!(
                "{}, '{org}', {}, '{inbox}', CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound' END, 'text', \
                 'message ' || CAST(i AS TEXT), CASE WHEN i % 2 = 0 THEN 'received' ELSE 'read' END, 0, false, {now}, {now}",
                self.id(MESSAGE, "i"),
                self.id(CONV, &BIG.to_string()),
            ),
            from * BIG_CONVERSATION_MESSAGES,
            to * BIG_CONVERSATION_MESSAGES,
        ));
        // Failed messages an admin discarded: they pile up with history.
        let base = FAILED + PENDING;
        sql.push(self.outbound("failed", "'131026'", &now, "NULL", base + from * DISCARDED, base + to * DISCARDED));
        // Knowledge: prose from a vocabulary of words of every frequency (a word of family k
        // is in about one chunk in k).
        let words = [(3, "common"), (97, "mixed"), (4999, "rare"), (13, "often"), (997, "seldom")]
            .iter()
            .map(|(k, w)| format!("'{w}' || CAST((i * 7919) % {k} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(" || ' the customer asked about the order and ' || ");
        sql.push(self.series(
            "bot_chunks",
            "id, org_id, document_id, position, text, created_at",
            &format!("{}, '{org}', '00000000-lt-document', i, {words}, {now}", self.id(CHUNK, "i")),
            from * CHUNKS,
            to * CHUNKS,
        ));
        for s in sql {
            conn.execute_unprepared(&s).await.map_err(|e| format!("{e}: {}", &s[..s.len().min(300)]))?;
        }
        self.events(conn, (to - from) * EVENTS, from * EVENTS).await?;
        if self.kind == DbKind::Postgres {
            conn.execute_unprepared("VACUUM ANALYZE").await?;
        }
        Ok(())
    }

    /// Outbound messages `from..to` in `status` on history conversations.
    fn outbound(&self, status: &str, code: &str, discarded: &str, next: &str, from: u64, to: u64) -> String {
        let conv = self.id(CONV, &format!("{OPEN} + i % {}", CONVERSATIONS - OPEN));
        let Ids { org, inbox, .. } = &self.ids;
        let now = self.now();
        self.series(
            "messages",
            "id, org_id, conversation_id, inbox_id, direction, message_type, text, status, error_code, error_message, \
             attempts, next_attempt_at, discarded_at, hidden, created_at, updated_at",
            &format!(
                "{}, '{org}', {conv}, '{inbox}', 'outbound', 'text', 'we will call you back', '{status}', {code}, \
                 CASE WHEN {code} IS NULL THEN NULL ELSE 'undeliverable' END, 1, {next}, {discarded}, false, {now}, {now}",
                self.id(OUTBOX, "i")
            ),
            from,
            to,
        )
    }

    /// `n` events after the organization's latest, its counter moved in the same transaction
    /// (the server numbers its next events after them).
    async fn events(&self, conn: &DatabaseConnection, n: u64, id_from: u64) -> Result<()> {
        let org = &self.ids.org;
        let txn = conn.begin().await?;
        let backend = conn.get_database_backend();
        let bump =
            format!("UPDATE organizations SET event_seq = event_seq + {n} WHERE id = '{org}' RETURNING event_seq");
        let row = txn.query_one_raw(Statement::from_string(backend, bump)).await?.ok_or("no organization row")?;
        let head: i64 = row.try_get_by_index(0)?;
        let first = head - n as i64 + 1;
        let insert = self.series(
            "events",
            "id, org_id, org_seq, conversation_id, seq, name, payload, created_at",
            &format!(
                "{}, '{org}', {first} + i - {id_from}, NULL, NULL, 'conversation.updated', '{{}}', {}",
                self.id(EVENT, "i"),
                self.now()
            ),
            id_from,
            id_from + n,
        );
        txn.execute_unprepared(&insert).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The organization's latest `org_seq`.
    async fn head(&self, conn: &DatabaseConnection) -> Result<i64> {
        let sql = format!("SELECT event_seq FROM organizations WHERE id = '{}'", self.ids.org);
        let row = conn
            .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await?
            .ok_or("no organization row")?;
        Ok(row.try_get_by_index(0)?)
    }

    fn big_conversation(&self) -> String {
        format!("{CONV}{BIG:012x}")
    }
}

/// One timed request.
#[derive(Clone)]
enum Probe {
    Get(String),
    /// These at once, timed until the last answers (the UI's count requests).
    GetAll(Vec<String>),
    Post(String, Value),
    /// An agent socket resuming after `since`: time to the first frame.
    Resume(String),
}

async fn time_queries(
    client: &reqwest::Client,
    node: &Node,
    token: &str,
    seeder: &Seeder,
    level: u64,
    head_seq: i64,
) -> Result<Vec<(String, Lat, usize)>> {
    let active = "status=BOT_HANDLING,OPEN,HUMAN_HANDLING";
    let conversations = "/api/v1/conversations";
    // Page 2 of the unfiltered list: the cursor the first page gives.
    let first: Value =
        client.get(node.url(&format!("{conversations}?limit=25"))).bearer_auth(token).send().await?.json().await?;
    let next = first["nextCursor"].as_str().ok_or_else(|| format!("no nextCursor on the first page: {first}"))?;
    let big = seeder.big_conversation();
    let middle = format!("{MESSAGE}{:012x}", level * BIG_CONVERSATION_MESSAGES / 2);
    let middle = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("b:{middle}"));
    let counts = |q: &str| format!("{conversations}/counts?{q}");
    let cursor = |seq: i64| format!("ev1.{:x}", seq.max(0));
    let probes: Vec<(&str, Probe, usize)> = vec![
        (
            "list: default view (mine, active)",
            Probe::Get(format!("{conversations}?{active}&assignedTo=me&limit=25")),
            REPS,
        ),
        ("list: all", Probe::Get(format!("{conversations}?limit=25")), REPS),
        ("list: all, page 2", Probe::Get(format!("{conversations}?limit=25&cursor={next}")), REPS),
        (
            "counts: the UI's five, at once",
            Probe::GetAll(vec![
                counts(&format!("{active}&assignedTo=me")),
                counts(&format!("{active}&assignedTo=unassigned")),
                counts(active),
                counts("assignedTo=me"),
                counts("assignedTo=unassigned"),
            ]),
            REPS,
        ),
        ("counts: unfiltered", Probe::Get(counts("")), REPS),
        ("messages: newest 50", Probe::Get(format!("{conversations}/{big}/messages?limit=50")), REPS),
        (
            "messages: a middle page",
            Probe::Get(format!("{conversations}/{big}/messages?limit=50&cursor={middle}")),
            REPS,
        ),
        ("socket resume: 1,000 back, first frame", Probe::Resume(cursor(head_seq - 1000)), SOCKET_REPS),
        ("socket resume: from the start, first frame", Probe::Resume(cursor(0)), SOCKET_REPS),
        ("failed: stats", Probe::Get("/api/v1/messages/failed/stats".into()), REPS),
        ("failed: list page 1", Probe::Get("/api/v1/messages/failed?page=1".into()), REPS),
        (
            "test-rag: rare words",
            Probe::Post("/api/v1/bot-config/test-rag".into(), json!({"query": "rare17 seldom5"})),
            RAG_REPS,
        ),
        (
            "test-rag: mixed words",
            Probe::Post("/api/v1/bot-config/test-rag".into(), json!({"query": "mixed5 often3 rare17"})),
            RAG_REPS,
        ),
        (
            "test-rag: common words",
            Probe::Post("/api/v1/bot-config/test-rag".into(), json!({"query": "common1 customer order"})),
            RAG_REPS,
        ),
    ];
    let mut out = Vec::new();
    for (name, probe, reps) in probes {
        // One untimed try: a wrong request fails the run instead of timing errors.
        if let Err(e) = once(client, node, token, &probe).await {
            return Err(format!("{name}: {e}").into());
        }
        let (lat, errors) = timed(client, node, token, &probe, reps).await;
        println!("  {level}x {name}: p50 {} ms, p99 {} ms ({} samples)", lat.p50_ms(), lat.p99_ms(), lat.count);
        out.push((name.to_owned(), lat, errors));
    }
    Ok(out)
}

/// Runs `probe` `reps` times, `CONCURRENCY` at once, for at most `QUERY_CAP`.
async fn timed(client: &reqwest::Client, node: &Node, token: &str, probe: &Probe, reps: usize) -> (Lat, usize) {
    let deadline = Instant::now() + QUERY_CAP;
    let left = Arc::new(std::sync::atomic::AtomicUsize::new(reps));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (client, base, token, probe, left) =
            (client.clone(), node.base.clone(), token.to_owned(), probe.clone(), left.clone());
        tasks.spawn(async move {
            let node = Target { base };
            let mut samples = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline
                && left
                    .fetch_update(std::sync::atomic::Ordering::Relaxed, std::sync::atomic::Ordering::Relaxed, |n| {
                        n.checked_sub(1)
                    })
                    .is_ok()
            {
                let t = Instant::now();
                match node.run(&client, &token, &probe).await {
                    Ok(()) => samples.push(t.elapsed().as_micros() as u64),
                    Err(_) => errors += 1,
                }
            }
            (samples, errors)
        });
    }
    let mut all = Vec::new();
    let mut errors = 0;
    while let Some(r) = tasks.join_next().await {
        if let Ok((s, e)) = r {
            all.extend(s);
            errors += e;
        }
    }
    (Lat::of(&mut all), errors)
}

async fn once(client: &reqwest::Client, node: &Node, token: &str, probe: &Probe) -> Result<()> {
    Target { base: node.base.clone() }.run(client, token, probe).await
}

/// Where the probes go (owned, for the spawned workers).
struct Target {
    base: String,
}

impl Target {
    async fn run(&self, client: &reqwest::Client, token: &str, probe: &Probe) -> Result<()> {
        match probe {
            Probe::Get(path) => self.get(client, token, path).await,
            Probe::GetAll(paths) => {
                let all = futures_util::future::join_all(paths.iter().map(|p| self.get(client, token, p))).await;
                all.into_iter().collect()
            }
            Probe::Post(path, body) => {
                let res = client.post(format!("{}{path}", self.base)).bearer_auth(token).json(body).send().await?;
                check(res).await
            }
            Probe::Resume(since) => {
                let ws = self.base.replacen("http://", "ws://", 1);
                let url = format!("{ws}/api/v1/ws?token={token}&since={since}");
                let (mut socket, _) =
                    tokio::time::timeout(Duration::from_secs(30), tokio_tungstenite::connect_async(url.as_str()))
                        .await??;
                let first = tokio::time::timeout(Duration::from_secs(30), async {
                    while let Some(m) = socket.next().await {
                        if let Message::Text(_) = m? {
                            return Ok::<_, crate::Error>(());
                        }
                    }
                    Err("the socket closed before a frame".into())
                })
                .await?;
                drop(socket);
                first
            }
        }
    }

    async fn get(&self, client: &reqwest::Client, token: &str, path: &str) -> Result<()> {
        let res = client.get(format!("{}{path}", self.base)).bearer_auth(token).send().await?;
        check(res).await
    }
}

async fn check(res: reqwest::Response) -> Result<()> {
    let status = res.status();
    let body = res.bytes().await?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])).into())
    }
}
