//! Three indexes of `messages` hold only the rows they are for (issue 17: ingest). An inbound
//! message has no idempotency key, no send schedule and usually no media, yet each of these
//! indexes took an entry of it: three of the six index entries every customer message wrote.
//! Every query that reads them compares the column (`=`, `<=`), which implies `IS NOT NULL` to
//! SQLite and to a generic PostgreSQL plan alike; the unique key keeps its meaning (NULL keys
//! never conflicted). The same SQL on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261210_000031_lean_message_indexes"
    }
}

/// (the index it replaces, its name, kind, columns, condition). A new name, as the earlier
/// migrations that made an index partial did: on SQLite, `DROP INDEX x` then `CREATE INDEX x`
/// here failed with "index x already exists" (the same two statements pass on one connection
/// of Python's sqlite3; the migrator's statements probably reach different connections of the
/// pool, one with the schema from before the `DROP`).
const INDEXES: &[(&str, &str, &str, &str, &str)] = &[
    // An outbound message's idempotency key, unique per organization.
    (
        "ux_messages_org_idempotency",
        "ux_messages_org_idempotency_key",
        "UNIQUE INDEX",
        "messages (org_id, idempotency_key)",
        "idempotency_key IS NOT NULL",
    ),
    // The sender's sweep: pending messages due now.
    (
        "ix_messages_due",
        "ix_messages_due_at",
        "INDEX",
        "messages (status, next_attempt_at)",
        "next_attempt_at IS NOT NULL",
    ),
    // The media downloader's queue.
    ("ix_messages_media_status", "ix_messages_media", "INDEX", "messages (media_status)", "media_status IS NOT NULL"),
];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (old, name, kind, columns, condition) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {old}")).await?;
            db.execute_unprepared(&format!("CREATE {kind} {name} ON {columns} WHERE {condition}")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (old, name, kind, columns, _) in INDEXES.iter().rev() {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
            db.execute_unprepared(&format!("CREATE {kind} {old} ON {columns}")).await?;
        }
        Ok(())
    }
}
