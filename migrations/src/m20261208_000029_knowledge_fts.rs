//! Knowledge retrieval through the database's full-text index instead of loading every passage.
//!
//! - `bot_chunks.terms`: the passage's retrieval terms (the app's tokenizer: accents folded,
//!   stop words dropped) joined by single spaces, and `term_count`, their number (BM25's passage
//!   length). `-1` marks a passage written before this migration: the app fills it at start-up
//!   (the tokenizer is Rust, not SQL), found through a partial index that is empty afterwards.
//! - `bot_knowledge_stats`: per organization, the passage count, the sum of their term counts
//!   (BM25's N and average length) and the embedded passages, kept by the app in the same
//!   transaction as the passage writes; `version` changes with every write, so caches of the
//!   organization's vectors know when they are stale (on every node).
//! - SQLite: an FTS5 table with its own copy of the terms (the organization as one token in its
//!   own column), kept in step by triggers. `bot_chunks` has a TEXT key and no INTEGER PRIMARY
//!   KEY, so VACUUM may renumber its rowids: each passage instead remembers its FTS row
//!   (`fts_rowid`). The terms are already lower-cased and folded by the app; the tokenizer folds
//!   no further (`remove_diacritics 0`) and treats every character the app keeps in a term as
//!   part of a token, so an FTS match of a term is exactly the app's "the passage has this term".
//! - PostgreSQL: a generated `tsvector` of the terms ('simple': no stemming, no stop words) with
//!   a GIN index (no pending list: reads are the frequent side).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000029_knowledge_fts"
    }
}

#[derive(DeriveIden)]
enum BotChunks {
    Table,
    Terms,
    TermCount,
}

#[derive(DeriveIden)]
enum BotKnowledgeStats {
    Table,
    OrgId,
    Chunks,
    TotalTerms,
    EmbeddedChunks,
    Version,
}

const SQLITE_UP: &[&str] = &[
    "ALTER TABLE bot_chunks ADD COLUMN fts_rowid INTEGER",
    "CREATE VIRTUAL TABLE bot_chunk_fts USING fts5(org, terms, chunk_id UNINDEXED, \
     tokenize = \"unicode61 remove_diacritics 0 categories 'L* N* Co M* S*'\")",
    // Existing passages get an (empty) FTS row now; the start-up backfill sets their terms.
    "INSERT INTO bot_chunk_fts (rowid, org, terms, chunk_id) \
     SELECT rowid, 'o' || replace(org_id, '-', ''), terms, id FROM bot_chunks",
    "UPDATE bot_chunks SET fts_rowid = rowid",
    "CREATE TRIGGER bot_chunks_fts_insert AFTER INSERT ON bot_chunks BEGIN \
     INSERT INTO bot_chunk_fts (org, terms, chunk_id) VALUES ('o' || replace(new.org_id, '-', ''), new.terms, new.id); \
     UPDATE bot_chunks SET fts_rowid = last_insert_rowid() WHERE id = new.id; \
     END",
    "CREATE TRIGGER bot_chunks_fts_delete AFTER DELETE ON bot_chunks BEGIN \
     DELETE FROM bot_chunk_fts WHERE rowid = old.fts_rowid; \
     END",
    "CREATE TRIGGER bot_chunks_fts_update AFTER UPDATE OF terms ON bot_chunks BEGIN \
     UPDATE bot_chunk_fts SET terms = new.terms WHERE rowid = old.fts_rowid; \
     END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER bot_chunks_fts_update",
    "DROP TRIGGER bot_chunks_fts_delete",
    "DROP TRIGGER bot_chunks_fts_insert",
    "DROP TABLE bot_chunk_fts",
    "ALTER TABLE bot_chunks DROP COLUMN fts_rowid",
];

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE bot_chunks ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED",
    // Without the pending list: passages are written a document at a time, but every bot turn
    // reads, and a query scans the whole unmerged list until (auto)vacuum flushes it (measured:
    // 7 ms instead of 0.3 ms after 20,000 passages were inserted).
    "CREATE INDEX ix_bot_chunks_search ON bot_chunks USING gin (search) WITH (fastupdate = off)",
];

const POSTGRES_DOWN: &[&str] = &["DROP INDEX ix_bot_chunks_search", "ALTER TABLE bot_chunks DROP COLUMN search"];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.alter_table(
            Table::alter()
                .table(BotChunks::Table)
                .add_column(ColumnDef::new(BotChunks::Terms).text().not_null().default(""))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(BotChunks::Table)
                .add_column(ColumnDef::new(BotChunks::TermCount).integer().not_null().default(-1))
                .to_owned(),
        )
        .await?;
        db.execute_unprepared("CREATE INDEX ix_bot_chunks_unindexed ON bot_chunks (id) WHERE term_count < 0").await?;
        m.create_table(
            Table::create()
                .table(BotKnowledgeStats::Table)
                .col(ColumnDef::new(BotKnowledgeStats::OrgId).string().not_null().primary_key())
                .col(ColumnDef::new(BotKnowledgeStats::Chunks).big_integer().not_null().default(0))
                .col(ColumnDef::new(BotKnowledgeStats::TotalTerms).big_integer().not_null().default(0))
                .col(ColumnDef::new(BotKnowledgeStats::EmbeddedChunks).big_integer().not_null().default(0))
                .col(ColumnDef::new(BotKnowledgeStats::Version).big_integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
        let statements = match m.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE_UP,
            DatabaseBackend::Postgres => POSTGRES_UP,
            other => return Err(DbErr::Migration(format!("knowledge search is not supported on {other:?}"))),
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
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
        m.drop_table(Table::drop().table(BotKnowledgeStats::Table).to_owned()).await?;
        db.execute_unprepared("DROP INDEX ix_bot_chunks_unindexed").await?;
        for col in [BotChunks::TermCount, BotChunks::Terms] {
            m.alter_table(Table::alter().table(BotChunks::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
