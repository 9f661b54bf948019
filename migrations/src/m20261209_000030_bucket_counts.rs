//! Counters the inbox counts and the outbox statistics read instead of counting rows, so both
//! cost the same with a million conversations as with a hundred.
//!
//! - `conversation_counts`: per organization, how many conversations are in each bucket
//!   (status, assignee or `''`, unread 0/1, awaiting a reply 0/1). The counts of the list's
//!   sub-filters sum the buckets their filter passes.
//! - `outbox_counts`: per organization, outbound messages failed and not discarded (by error
//!   code, `''` for none), failed and discarded, and pending.
//!
//! Both are kept by triggers in the same transaction as the row change, so every writer (the
//! actors, a cascade, an import straight into the database) keeps them right; an update that
//! leaves the bucket as it was (most of them: another message in an unread conversation) does
//! not touch them. A change moves one row out of a bucket and into another in one statement, the
//! two in key order, so two transactions moving conversations both ways take the rows' locks in
//! the same order (PostgreSQL). Rows at zero stay (an organization has a few dozen buckets).
//! On PostgreSQL inserts and deletes are counted per statement (see [`postgres_up`]).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_000030_bucket_counts"
    }
}

#[derive(DeriveIden)]
enum ConversationCounts {
    Table,
    OrgId,
    Status,
    AssignedTo,
    Unread,
    Awaiting,
    N,
}

#[derive(DeriveIden)]
enum OutboxCounts {
    Table,
    OrgId,
    State,
    ErrorCode,
    N,
}

/// Whether an update moves a conversation to another bucket (`ne` is the engine's
/// null-safe "differs").
fn conversation_moved(ne: &str) -> String {
    format!(
        "old.org_id {ne} new.org_id OR old.status {ne} new.status \
         OR COALESCE(old.assigned_to, '') {ne} COALESCE(new.assigned_to, '') \
         OR (old.unread_count > 0) {ne} (new.unread_count > 0) OR old.awaiting_reply {ne} new.awaiting_reply"
    )
}

/// An outbound message's outbox state, or NULL when it counts nowhere (sent, delivered, read).
fn outbox_state(r: &str) -> String {
    format!(
        "CASE WHEN {r}.direction <> 'outbound' THEN NULL \
         WHEN {r}.status = 'pending' THEN 'pending' \
         WHEN {r}.status = 'failed' AND {r}.discarded_at IS NULL THEN 'failed' \
         WHEN {r}.status = 'failed' THEN 'discarded' END"
    )
}

/// The error code an outbox row counts under: only failed messages keep theirs.
fn outbox_code(r: &str) -> String {
    format!(
        "CASE WHEN {r}.status = 'failed' AND {r}.discarded_at IS NULL THEN COALESCE({r}.error_code, '') ELSE '' END"
    )
}

const CONVERSATION_COLS: &str = "org_id, status, assigned_to, unread, awaiting";
const OUTBOX_COLS: &str = "org_id, state, error_code";

/// A conversation row's bucket and `delta`, as a `SELECT` of `k0`… (`r` is `old` or `new`).
fn conversation_row(r: &str, delta: i32) -> String {
    format!(
        "SELECT {r}.org_id AS k0, {r}.status AS k1, COALESCE({r}.assigned_to, '') AS k2, \
         CASE WHEN {r}.unread_count > 0 THEN 1 ELSE 0 END AS k3, \
         CASE WHEN {r}.awaiting_reply THEN 1 ELSE 0 END AS k4, {delta} AS dn"
    )
}

/// An outbound message's outbox row and `delta`; `k1` is NULL when it counts nowhere.
fn outbox_row(r: &str, delta: i32) -> String {
    format!("SELECT {r}.org_id AS k0, {} AS k1, {} AS k2, {delta} AS dn", outbox_state(r), outbox_code(r))
}

/// Adds the rows' deltas to their buckets (creating those not there yet), summed per bucket,
/// in key order.
fn conversation_add(rows: &[String]) -> String {
    format!(
        "INSERT INTO conversation_counts ({CONVERSATION_COLS}, n) SELECT k0, k1, k2, k3, k4, SUM(dn) FROM ({}) d \
         GROUP BY 1, 2, 3, 4, 5 HAVING SUM(dn) <> 0 ORDER BY 1, 2, 3, 4, 5 \
         ON CONFLICT ({CONVERSATION_COLS}) DO UPDATE SET n = conversation_counts.n + excluded.n",
        rows.join(" UNION ALL ")
    )
}

/// Adds the rows' deltas to their outbox buckets, leaving out the messages that count nowhere.
fn outbox_add(rows: &[String]) -> String {
    format!(
        "INSERT INTO outbox_counts ({OUTBOX_COLS}, n) SELECT k0, k1, k2, SUM(dn) FROM ({}) d \
         WHERE d.k1 IS NOT NULL GROUP BY 1, 2, 3 HAVING SUM(dn) <> 0 ORDER BY 1, 2, 3 \
         ON CONFLICT ({OUTBOX_COLS}) DO UPDATE SET n = outbox_counts.n + excluded.n",
        rows.join(" UNION ALL ")
    )
}

const BACKFILL: &[&str] = &[
    "INSERT INTO conversation_counts (org_id, status, assigned_to, unread, awaiting, n) \
     SELECT org_id, status, COALESCE(assigned_to, ''), CASE WHEN unread_count > 0 THEN 1 ELSE 0 END, \
     CASE WHEN awaiting_reply THEN 1 ELSE 0 END, COUNT(*) FROM conversations GROUP BY 1, 2, 3, 4, 5",
    "INSERT INTO outbox_counts (org_id, state, error_code, n) \
     SELECT org_id, CASE WHEN status = 'pending' THEN 'pending' WHEN discarded_at IS NULL THEN 'failed' ELSE 'discarded' END, \
     CASE WHEN status = 'failed' AND discarded_at IS NULL THEN COALESCE(error_code, '') ELSE '' END, COUNT(*) \
     FROM messages WHERE direction = 'outbound' AND status IN ('pending', 'failed') GROUP BY 1, 2, 3",
];

fn sqlite_up() -> Vec<String> {
    let moved = conversation_moved("IS NOT");
    vec![
        format!(
            "CREATE TRIGGER conversation_counts_insert AFTER INSERT ON conversations BEGIN {}; END",
            conversation_add(&[conversation_row("new", 1)])
        ),
        format!(
            "CREATE TRIGGER conversation_counts_delete AFTER DELETE ON conversations BEGIN {}; END",
            conversation_add(&[conversation_row("old", -1)])
        ),
        format!(
            "CREATE TRIGGER conversation_counts_update AFTER UPDATE OF org_id, status, assigned_to, unread_count, awaiting_reply \
             ON conversations WHEN {moved} BEGIN {}; END",
            conversation_add(&[conversation_row("old", -1), conversation_row("new", 1)])
        ),
        format!(
            "CREATE TRIGGER outbox_counts_insert AFTER INSERT ON messages \
             WHEN new.direction = 'outbound' AND new.status IN ('pending', 'failed') BEGIN {}; END",
            outbox_add(&[outbox_row("new", 1)])
        ),
        format!(
            "CREATE TRIGGER outbox_counts_delete AFTER DELETE ON messages \
             WHEN old.direction = 'outbound' AND old.status IN ('pending', 'failed') BEGIN {}; END",
            outbox_add(&[outbox_row("old", -1)])
        ),
        format!(
            "CREATE TRIGGER outbox_counts_update AFTER UPDATE OF org_id, direction, status, discarded_at, error_code ON messages \
             WHEN old.org_id IS NOT new.org_id OR ({}) IS NOT ({}) OR ({}) IS NOT ({}) BEGIN {}; END",
            outbox_state("old"),
            outbox_state("new"),
            outbox_code("old"),
            outbox_code("new"),
            outbox_add(&[outbox_row("old", -1), outbox_row("new", 1)])
        ),
    ]
}

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER outbox_counts_update",
    "DROP TRIGGER outbox_counts_delete",
    "DROP TRIGGER outbox_counts_insert",
    "DROP TRIGGER conversation_counts_update",
    "DROP TRIGGER conversation_counts_delete",
    "DROP TRIGGER conversation_counts_insert",
];

/// PostgreSQL counts the rows an INSERT or a DELETE statement wrote once per statement, from
/// its transition table: a bulk insert or a cascade adds to each bucket in one upsert (per-row
/// upserts of one counter row within one transaction leave a version of it per row, which makes
/// each next one slower). Updates are counted per row, and only those that move a bucket call
/// the function at all (the `WHEN`); the application updates one row per statement.
fn postgres_up() -> Vec<String> {
    let function = |name: &str, body: String| {
        format!("CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN {body}; RETURN NULL; END $fn$")
    };
    let statements = |add: &dyn Fn(&[String]) -> String, row: &dyn Fn(&str, i32) -> String| {
        format!(
            "IF TG_OP = 'INSERT' THEN {}; ELSE {}; END IF",
            add(&[format!("{} FROM new_rows", row("new_rows", 1))]),
            add(&[format!("{} FROM old_rows", row("old_rows", -1))]),
        )
    };
    let moved = conversation_moved("IS DISTINCT FROM");
    let per_statement = |event: &str, table: &str, function: &str| {
        let (when, rows) = if event == "INSERT" { ("NEW", "new_rows") } else { ("OLD", "old_rows") };
        format!(
            "CREATE TRIGGER {}_counts_{} AFTER {event} ON {table} REFERENCING {when} TABLE AS {rows} \
             FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            if table == "messages" { "outbox" } else { "conversation" },
            event.to_lowercase(),
        )
    };
    vec![
        function("cx_conversation_counts_rows", statements(&conversation_add, &conversation_row)),
        function(
            "cx_conversation_counts_moved",
            conversation_add(&[conversation_row("old", -1), conversation_row("new", 1)]),
        ),
        function("cx_outbox_counts_rows", statements(&outbox_add, &outbox_row)),
        function("cx_outbox_counts_moved", outbox_add(&[outbox_row("old", -1), outbox_row("new", 1)])),
        per_statement("INSERT", "conversations", "cx_conversation_counts_rows"),
        per_statement("DELETE", "conversations", "cx_conversation_counts_rows"),
        format!(
            "CREATE TRIGGER conversation_counts_update AFTER UPDATE OF org_id, status, assigned_to, unread_count, awaiting_reply \
             ON conversations FOR EACH ROW WHEN ({moved}) EXECUTE FUNCTION cx_conversation_counts_moved()"
        ),
        per_statement("INSERT", "messages", "cx_outbox_counts_rows"),
        per_statement("DELETE", "messages", "cx_outbox_counts_rows"),
        format!(
            "CREATE TRIGGER outbox_counts_update AFTER UPDATE OF org_id, direction, status, discarded_at, error_code ON messages \
             FOR EACH ROW WHEN (old.org_id IS DISTINCT FROM new.org_id OR ({}) IS DISTINCT FROM ({}) \
             OR ({}) IS DISTINCT FROM ({})) \
             EXECUTE FUNCTION cx_outbox_counts_moved()",
            outbox_state("old"),
            outbox_state("new"),
            outbox_code("old"),
            outbox_code("new"),
        ),
    ]
}

const POSTGRES_DOWN: &[&str] = &[
    "DROP TRIGGER outbox_counts_update ON messages",
    "DROP TRIGGER outbox_counts_delete ON messages",
    "DROP TRIGGER outbox_counts_insert ON messages",
    "DROP TRIGGER conversation_counts_update ON conversations",
    "DROP TRIGGER conversation_counts_delete ON conversations",
    "DROP TRIGGER conversation_counts_insert ON conversations",
    "DROP FUNCTION cx_outbox_counts_moved()",
    "DROP FUNCTION cx_outbox_counts_rows()",
    "DROP FUNCTION cx_conversation_counts_moved()",
    "DROP FUNCTION cx_conversation_counts_rows()",
];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.create_table(
            Table::create()
                .table(ConversationCounts::Table)
                .col(ColumnDef::new(ConversationCounts::OrgId).string().not_null())
                .col(ColumnDef::new(ConversationCounts::Status).string().not_null())
                .col(ColumnDef::new(ConversationCounts::AssignedTo).string().not_null())
                .col(ColumnDef::new(ConversationCounts::Unread).integer().not_null())
                .col(ColumnDef::new(ConversationCounts::Awaiting).integer().not_null())
                .col(ColumnDef::new(ConversationCounts::N).big_integer().not_null())
                .primary_key(
                    Index::create()
                        .col(ConversationCounts::OrgId)
                        .col(ConversationCounts::Status)
                        .col(ConversationCounts::AssignedTo)
                        .col(ConversationCounts::Unread)
                        .col(ConversationCounts::Awaiting),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OutboxCounts::Table)
                .col(ColumnDef::new(OutboxCounts::OrgId).string().not_null())
                .col(ColumnDef::new(OutboxCounts::State).string().not_null())
                .col(ColumnDef::new(OutboxCounts::ErrorCode).string().not_null())
                .col(ColumnDef::new(OutboxCounts::N).big_integer().not_null())
                .primary_key(
                    Index::create().col(OutboxCounts::OrgId).col(OutboxCounts::State).col(OutboxCounts::ErrorCode),
                )
                .to_owned(),
        )
        .await?;
        for sql in BACKFILL {
            db.execute_unprepared(sql).await?;
        }
        let statements = match m.get_database_backend() {
            DatabaseBackend::Sqlite => sqlite_up(),
            DatabaseBackend::Postgres => postgres_up(),
            other => return Err(DbErr::Migration(format!("bucket counters are not supported on {other:?}"))),
        };
        for sql in statements {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let statements = match m.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE_DOWN,
            _ => POSTGRES_DOWN,
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        m.drop_table(Table::drop().table(OutboxCounts::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(ConversationCounts::Table).to_owned()).await?;
        Ok(())
    }
}
