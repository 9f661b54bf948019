//! The passage index: the database's own full-text search finds the organization's passages
//! that share a word with the question, and counts them per word (SQLite FTS5, PostgreSQL
//! `tsvector` with GIN, behind [`candidates`] and [`doc_freq`]); `bot_knowledge_stats` keeps per organization
//! the figures BM25 needs about all passages, written here in the caller's transaction. The
//! index holds `bot_chunks.terms` (the app's [`super::terms`], joined by spaces) and matches a
//! term exactly, so the document frequencies are those the in-memory ranking counted. Ranking
//! itself stays in Rust ([`super::rank`]).

use std::collections::{BTreeSet, HashMap};

use actors::store::placeholder;
use entities::{bot_chunk, bot_knowledge_stat};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, Value,
};

/// Text candidates per question: the best this many by the database's own relevance.
pub const CANDIDATES: usize = 200;

/// The FTS5 token of an organization (one token: its id without dashes), as the triggers
/// write it.
fn org_token(org_id: &str) -> String {
    format!("o{}", org_id.replace('-', ""))
}

/// An FTS5 phrase: double quotes, inner ones doubled.
fn phrase(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Passages of `org_id` with any of `terms` (an FTS5 query).
fn fts_match(org_id: &str, terms: &[String]) -> String {
    let any = terms.iter().map(|t| phrase(t)).collect::<Vec<_>>().join(" OR ");
    format!("org : {} AND terms : ({any})", phrase(&org_token(org_id)))
}

/// A `websearch_to_tsquery` text matching any of `terms`, each as a phrase (a term the parser
/// splits stays one phrase; the function never fails on its input).
fn websearch(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{}\"", t.replace('"', ""))).collect::<Vec<_>>().join(" or ")
}

fn ids(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<String>, DbErr> {
    rows.iter().map(|r| r.try_get_by_index::<String>(0)).collect()
}

/// The `n` integers of the one row `sql` answers.
async fn counts(db: &impl ConnectionTrait, sql: Statement, n: usize) -> Result<Vec<i64>, DbErr> {
    let row = db.query_one_raw(sql).await?.ok_or_else(|| DbErr::RecordNotFound("a row of counts".into()))?;
    (0..n).map(|i| row.try_get_by_index::<i64>(i)).collect()
}

/// SQLite: candidates from the FTS5 table `bot_chunk_fts (org, terms, chunk_id)`, kept in step
/// by triggers.
async fn fts5_candidates(
    db: &impl ConnectionTrait,
    org_id: &str,
    terms: &[String],
    limit: usize,
) -> Result<Vec<String>, DbErr> {
    // FTS5's bm25 (weights: org 0, terms 1, chunk_id 0) has the same shape as ours, with the
    // figures of all organizations; only the order of candidates past `limit` depends on it.
    let sql = "SELECT chunk_id FROM bot_chunk_fts WHERE bot_chunk_fts MATCH ? \
                   ORDER BY bm25(bot_chunk_fts, 0.0, 1.0, 0.0), rowid LIMIT ?";
    let values: Vec<Value> = vec![fts_match(org_id, terms).into(), (limit as i64).into()];
    ids(db.query_all_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)).await?)
}

/// SQLite: how many of the organization's passages have each of `terms`.
async fn fts5_doc_freq(db: &impl ConnectionTrait, org_id: &str, terms: &[String]) -> Result<Vec<i64>, DbErr> {
    let each = vec!["(SELECT count(*) FROM bot_chunk_fts WHERE bot_chunk_fts MATCH ?)"; terms.len()];
    let sql = format!("SELECT {}", each.join(", "));
    let values: Vec<Value> = terms.iter().map(|t| fts_match(org_id, std::slice::from_ref(t)).into()).collect();
    counts(db, Statement::from_sql_and_values(DbBackend::Sqlite, sql, values), terms.len()).await
}

/// The values of a PostgreSQL statement over the organization's passages that have any of
/// `terms`: `$1` the organization, `$2` the query of all terms, then one query per term; and
/// each term's placeholder number.
fn postgres_values(org_id: &str, terms: &[String]) -> (Vec<Value>, Vec<usize>) {
    let mut values: Vec<Value> = vec![org_id.into(), websearch(terms).into()];
    let mut term_at = Vec::with_capacity(terms.len());
    for t in terms {
        values.push(websearch(std::slice::from_ref(t)).into());
        term_at.push(values.len());
    }
    (values, term_at)
}

/// PostgreSQL: candidates from the generated column `bot_chunks.search` and its GIN index.
async fn postgres_candidates(
    db: &impl ConnectionTrait,
    org_id: &str,
    terms: &[String],
    idf: &[f64],
    limit: usize,
) -> Result<Vec<String>, DbErr> {
    // `ts_rank` knows no document frequencies: the candidates are ordered by the IDF of the
    // query terms they have (what decides BM25 most), then by `ts_rank`.
    let (mut values, term_at) = postgres_values(org_id, terms);
    let mut weight = Vec::new();
    for (q, w) in term_at.iter().zip(idf) {
        values.push((*w).into());
        let w = values.len();
        weight.push(format!("CASE WHEN search @@ websearch_to_tsquery('simple', ${q}) THEN ${w}::float8 ELSE 0 END"));
    }
    values.push((limit as i64).into());
    let sql = format!(
        "SELECT id FROM bot_chunks WHERE org_id = $1 AND search @@ websearch_to_tsquery('simple', $2) \
             ORDER BY ({}) DESC, ts_rank(search, websearch_to_tsquery('simple', $2), 1) DESC, id LIMIT ${}",
        if weight.is_empty() { "0".to_owned() } else { weight.join(" + ") },
        values.len(),
    );
    ids(db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?)
}

/// PostgreSQL: how many of the organization's passages have each of `terms`.
async fn postgres_doc_freq(db: &impl ConnectionTrait, org_id: &str, terms: &[String]) -> Result<Vec<i64>, DbErr> {
    let (values, term_at) = postgres_values(org_id, terms);
    let each: Vec<_> = term_at
        .iter()
        .map(|q| format!("count(*) FILTER (WHERE search @@ websearch_to_tsquery('simple', ${q}))"))
        .collect();
    let sql = format!(
        "SELECT {} FROM bot_chunks WHERE org_id = $1 AND search @@ websearch_to_tsquery('simple', $2)",
        each.join(", ")
    );
    counts(db, Statement::from_sql_and_values(DbBackend::Postgres, sql, values), terms.len()).await
}

/// Up to `limit` passages of the organization that have any of `terms` (distinct), most
/// relevant first by the database's ranking; `idf` per term (used by PostgreSQL's order).
pub async fn candidates(
    db: &impl ConnectionTrait,
    org_id: &str,
    terms: &[String],
    idf: &[f64],
    limit: usize,
) -> Result<Vec<String>, DbErr> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    match db.get_database_backend() {
        DbBackend::Sqlite => fts5_candidates(db, org_id, terms, limit).await,
        _ => postgres_candidates(db, org_id, terms, idf, limit).await,
    }
}

/// How many of the organization's passages have each of `terms`, in order.
pub async fn doc_freq(db: &impl ConnectionTrait, org_id: &str, terms: &[String]) -> Result<Vec<i64>, DbErr> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    match db.get_database_backend() {
        DbBackend::Sqlite => fts5_doc_freq(db, org_id, terms).await,
        _ => postgres_doc_freq(db, org_id, terms).await,
    }
}

/// The organization's figures; zeros when it has no passages yet.
pub async fn stats(db: &impl ConnectionTrait, org_id: &str) -> Result<bot_knowledge_stat::Model, DbErr> {
    let row = bot_knowledge_stat::Entity::find_by_id(org_id.to_owned()).one(db).await?;
    Ok(row.unwrap_or_else(|| bot_knowledge_stat::Model {
        org_id: org_id.to_owned(),
        chunks: 0,
        total_terms: 0,
        embedded_chunks: 0,
        version: 0,
    }))
}

/// How much some passages weigh in their organization's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub chunks: i64,
    pub terms: i64,
    pub embedded: i64,
}

impl std::ops::Sub for Figures {
    type Output = Figures;
    fn sub(self, o: Figures) -> Figures {
        Figures { chunks: self.chunks - o.chunks, terms: self.terms - o.terms, embedded: self.embedded - o.embedded }
    }
}

impl Figures {
    /// The figures of passages about to be inserted.
    pub fn of(rows: &[bot_chunk::ActiveModel]) -> Figures {
        let mut f = Figures::default();
        for r in rows {
            f.chunks += 1;
            if let Set(n) = r.term_count {
                f.terms += i64::from(std::cmp::Ord::max(n, 0));
            }
            if let Set(Some(_)) = r.embedding {
                f.embedded += 1;
            }
        }
        f
    }
}

/// Deletes a document's passages; their figures (what the organization's lose).
pub async fn remove_document_passages(db: &impl ConnectionTrait, document_id: &str) -> Result<Figures, DbErr> {
    let gone = document_figures(db, document_id).await?;
    bot_chunk::Entity::delete_many().filter(bot_chunk::Column::DocumentId.eq(document_id.to_owned())).exec(db).await?;
    Ok(gone)
}

/// The figures of a document's passages.
async fn document_figures(db: &impl ConnectionTrait, document_id: &str) -> Result<Figures, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT count(*), COALESCE(sum(CASE WHEN term_count > 0 THEN term_count ELSE 0 END), 0), count(embedding) \
         FROM bot_chunks WHERE document_id = {}",
        placeholder(backend, 1)
    );
    let n = counts(db, Statement::from_sql_and_values(backend, sql, [document_id.into()]), 3).await?;
    let [chunks, terms, embedded] =
        <[i64; 3]>::try_from(n).map_err(|_| DbErr::RecordNotFound("document figures".into()))?;
    Ok(Figures { chunks, terms, embedded })
}

/// Adds `change` (negative figures take away) to the organization's figures and gives them a
/// new version; in the transaction that writes the passages.
pub async fn add_figures(db: &impl ConnectionTrait, org_id: &str, change: Figures) -> Result<(), DbErr> {
    use bot_knowledge_stat::Column as C;
    let row = bot_knowledge_stat::ActiveModel {
        org_id: Set(org_id.to_owned()),
        chunks: Set(change.chunks),
        total_terms: Set(change.terms),
        embedded_chunks: Set(change.embedded),
        version: Set(1),
    };
    let add = |col: C, n: i64| Expr::col((bot_knowledge_stat::Entity, col)).add(n);
    bot_knowledge_stat::Entity::insert(row)
        .on_conflict(
            OnConflict::column(C::OrgId)
                .value(C::Chunks, add(C::Chunks, change.chunks))
                .value(C::TotalTerms, add(C::TotalTerms, change.terms))
                .value(C::EmbeddedChunks, add(C::EmbeddedChunks, change.embedded))
                .value(C::Version, add(C::Version, 1))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Fills `terms` and `term_count` of passages stored before the index existed (the migration
/// cannot: the tokenizer is Rust), page by page, then counts the figures of the organizations
/// they belong to. At start-up, before documents are processed; a no-op (one lookup in an
/// empty partial index) once done. Answers how many passages it filled.
pub async fn backfill(db: &actors::Db) -> Result<u64, DbErr> {
    const PAGE: u64 = 500;
    let mut after = String::new();
    let mut orgs = BTreeSet::new();
    let mut filled = 0;
    loop {
        let rows: Vec<(String, String, String)> = bot_chunk::Entity::find()
            .select_only()
            .columns([bot_chunk::Column::Id, bot_chunk::Column::OrgId, bot_chunk::Column::Text])
            // Literal, so that the partial index `ix_bot_chunks_unindexed` applies.
            .filter(Expr::cust("term_count < 0"))
            .filter(bot_chunk::Column::Id.gt(after.clone()))
            .order_by_asc(bot_chunk::Column::Id)
            .limit(PAGE)
            .into_tuple()
            .all(&db.conn)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        let txn = db.begin_write().await?;
        for (id, org_id, text) in &rows {
            let terms = super::terms(text);
            bot_chunk::Entity::update_many()
                .col_expr(bot_chunk::Column::Terms, Expr::value(terms.join(" ")))
                .col_expr(bot_chunk::Column::TermCount, Expr::value(terms.len() as i32))
                .filter(bot_chunk::Column::Id.eq(id.clone()))
                .exec(&*txn)
                .await?;
            orgs.insert(org_id.clone());
        }
        txn.commit().await?;
        filled += rows.len() as u64;
    }
    for org_id in &orgs {
        recount(db, org_id).await?;
    }
    if filled > 0 {
        tracing::info!(passages = filled, organizations = orgs.len(), "knowledge passages indexed");
    }
    Ok(filled)
}

/// Counts the organization's figures from its passages. The figures row is locked first, so
/// a concurrent passage write either committed before the count (and is in it) or adds its
/// change after this commits.
pub async fn recount(db: &actors::Db, org_id: &str) -> Result<(), DbErr> {
    let txn = db.begin_write().await?;
    add_figures(&*txn, org_id, Figures::default()).await?;
    bot_knowledge_stat::Entity::find_by_id(org_id.to_owned()).lock_exclusive().one(&*txn).await?;
    let backend = txn.get_database_backend();
    let p = placeholder(backend, 1);
    let of_org = |what: &str| format!("(SELECT {what} FROM bot_chunks WHERE org_id = {p})");
    let sql = format!(
        "UPDATE bot_knowledge_stats SET chunks = {}, total_terms = {}, embedded_chunks = {} WHERE org_id = {p}",
        of_org("count(*)"),
        of_org("COALESCE(sum(CASE WHEN term_count > 0 THEN term_count ELSE 0 END), 0)"),
        of_org("count(embedding)"),
    );
    // SQLite numbers `?` by position: the id is bound once per use there.
    let values: Vec<Value> = match backend {
        DbBackend::Postgres => vec![org_id.into()],
        _ => vec![org_id.into(); 4],
    };
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    txn.commit().await
}

/// The length of one of the organization's embeddings, if any passage has one.
pub async fn dimensions(db: &impl ConnectionTrait, org_id: &str) -> Result<Option<usize>, DbErr> {
    let one: Option<Option<String>> = bot_chunk::Entity::find()
        .select_only()
        .column(bot_chunk::Column::Embedding)
        .filter(bot_chunk::Column::OrgId.eq(org_id))
        .filter(bot_chunk::Column::Embedding.is_not_null())
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(one.flatten().and_then(|e| serde_json::from_str::<Vec<f32>>(&e).ok()).map(|v| v.len()))
}

/// Which of `terms` (distinct) some passage of the organization has, with their document
/// frequencies.
pub async fn present_terms(
    db: &impl ConnectionTrait,
    org_id: &str,
    terms: &[String],
) -> Result<HashMap<String, f64>, DbErr> {
    let df = doc_freq(db, org_id, terms).await?;
    Ok(terms.iter().cloned().zip(df).filter(|(_, n)| *n > 0).map(|(t, n)| (t, n as f64)).collect())
}
