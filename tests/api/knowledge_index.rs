//! Knowledge retrieval through the database's full-text index (SQLite FTS5, PostgreSQL
//! `tsvector`): it finds what ranking every passage in memory found, keeps organizations apart,
//! forgets deleted documents, and indexes passages stored before it existed.

use chrono::Utc;
use cx_inbox::bot::knowledge::{self, Corpus, Passage, index};
use entities::bot_chunk;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Statement,
};
use serde_json::json;

use crate::bot::{Bot, bot_setup, upload};
use crate::helpers::spawn_app;

/// A small deterministic generator (splitmix64), so a failure names a reproducible corpus.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A word of the vocabulary, the first ones far more often (as in real text).
    fn word<'a>(&mut self, vocabulary: &[&'a str]) -> &'a str {
        let a = self.below(vocabulary.len());
        let b = self.below(vocabulary.len());
        let c = self.below(vocabulary.len());
        vocabulary[a.min(b).min(c)]
    }

    fn vector(&mut self, dims: usize) -> Vec<f32> {
        (0..dims).map(|_| (self.below(2001) as f32 - 1000.0) / 1000.0).collect()
    }
}

const VOCABULARY: &[&str] = &[
    "refund",
    "shipping",
    "order",
    "days",
    "store",
    "warranty",
    "return",
    "payment",
    "card",
    "delivery",
    "Pengiriman",
    "garansi",
    "produk",
    "customer",
    "support",
    "hours",
    "weekend",
    "Devolución",
    "rápida",
    "invoice",
    "tax",
    "address",
    "change",
    "cancel",
    "subscription",
    "plan",
    "upgrade",
    "discount",
    "coupon",
    "gift",
    "voucher",
    "member",
    "points",
    "reward",
    "battery",
    "screen",
    "charger",
    "cable",
    "adapter",
    "size",
    "color",
    "stock",
    "restock",
    "preorder",
    "pickup",
    "courier",
    "tracking",
    "number",
    "damaged",
    "broken",
    "replace",
    "exchange",
    "policy",
    "terms",
    "privacy",
    "account",
    "password",
    "login",
    "email",
    "phone",
];

/// Stores `count` generated passages of an organization straight into the database, with their
/// figures, as the document pipeline does (in one write transaction). Embeddings of `dims`
/// when given.
async fn store_corpus(app: &crate::helpers::TestApp, org_id: &str, g: &mut Gen, count: usize, dims: Option<usize>) {
    let now = Utc::now();
    // Ids from a random start: the same organization can be given more.
    let start = g.below(1 << 40);
    let rows: Vec<bot_chunk::ActiveModel> = (start..start + count)
        .map(|i| {
            let len = 3 + g.below(40);
            let text = (0..len).map(|_| g.word(VOCABULARY)).collect::<Vec<_>>().join(" ");
            let terms = knowledge::terms(&text);
            bot_chunk::ActiveModel {
                id: Set(format!("{org_id}-c{i:013}")),
                org_id: Set(org_id.to_owned()),
                document_id: Set(format!("{org_id}-d{}", i / 10)),
                position: Set((i % 10) as i32),
                text: Set(text),
                embedding: Set(dims.map(|d| serde_json::to_string(&g.vector(d)).unwrap())),
                term_count: Set(terms.len() as i32),
                terms: Set(terms.join(" ")),
                created_at: Set(now),
            }
        })
        .collect();
    let txn = app.state.rt.db.begin_write().await.unwrap();
    for batch in rows.chunks(100) {
        bot_chunk::Entity::insert_many(batch.to_vec()).exec_without_returning(&*txn).await.unwrap();
    }
    index::add_figures(&*txn, org_id, index::Figures::of(&rows)).await.unwrap();
    txn.commit().await.unwrap();
}

/// Every passage of the organization, loaded and tokenized as retrieval did before the index.
async fn all_passages(db: &DatabaseConnection, org_id: &str) -> Vec<Passage> {
    let rows: Vec<(String, String, String, Option<String>)> = bot_chunk::Entity::find()
        .select_only()
        .columns([bot_chunk::Column::Id, bot_chunk::Column::DocumentId, bot_chunk::Column::Text])
        .column(bot_chunk::Column::Embedding)
        .filter(bot_chunk::Column::OrgId.eq(org_id))
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    rows.iter()
        .map(|(id, doc, text, e)| Passage::new(id, doc, text, e.as_ref().and_then(|e| serde_json::from_str(e).ok())))
        .collect()
}

fn top(hits: &[knowledge::Hit]) -> Vec<(String, f64, f64)> {
    hits.iter().map(|h| (h.chunk_id.clone(), h.score, h.keyword_score)).collect()
}

#[actix_web::test]
async fn fts_and_in_memory_bm25_rank_the_same_top_5() {
    let app = spawn_app().await;
    let mut g = Gen(17);
    // Two organizations with the same words, so the database's own figures (over both) differ
    // from each one's; the first has more passages sharing a common word than there are
    // candidates, so the candidate cut is exercised.
    let (a, b) = (app.register("Corpus A").await, app.register("Corpus B").await);
    store_corpus(&app, &a.org_id, &mut g, 400, None).await;
    store_corpus(&app, &b.org_id, &mut g, 150, Some(8)).await;
    let retriever = &app.state.bot.knowledge;
    let mut compared = 0;
    for (org, hybrid) in [(&a, false), (&b, false), (&b, true)] {
        let everything = all_passages(&app.db, &org.org_id).await;
        let corpus = Corpus::of(&everything);
        for round in 0..40 {
            let words = 1 + g.below(4);
            let mut query = (0..words).map(|_| g.word(VOCABULARY)).collect::<Vec<_>>().join(" ");
            if round % 10 == 0 {
                query.push_str(" unknownword");
            }
            let vector = hybrid.then(|| g.vector(8));
            let expected = knowledge::rank(&query, vector.as_deref(), &everything, &corpus, 5);
            assert!(!expected.is_empty(), "{query:?}");
            let found = retriever.retrieve(&app.db, &org.org_id, &query, vector.as_deref(), 5).await.unwrap();
            assert_eq!(top(&found.hits), top(&expected), "query {query:?} (hybrid: {hybrid})");
            assert!(found.candidates <= 2 * index::CANDIDATES, "{} candidates", found.candidates);
            compared += 1;
        }
    }
    assert_eq!(compared, 120);
    // A query of the most common word matches more passages than are candidates.
    let df = index::doc_freq(&app.db, &a.org_id, &["refund".to_owned()]).await.unwrap();
    assert!(df[0] > index::CANDIDATES as i64, "refund is in {} passages", df[0]);
}

#[actix_web::test]
async fn another_orgs_passages_are_never_candidates() {
    let app = spawn_app().await;
    let mut g = Gen(5);
    let (a, b) = (app.register("Org A").await, app.register("Org B").await);
    store_corpus(&app, &a.org_id, &mut g, 60, Some(8)).await;
    store_corpus(&app, &b.org_id, &mut g, 60, Some(8)).await;
    let words: Vec<String> = VOCABULARY.iter().flat_map(|w| knowledge::terms(w)).collect();
    let qv = [1.0_f32; 8];
    for org in [&a, &b] {
        let ids = index::candidates(&app.db, &org.org_id, &words, &vec![1.0; words.len()], 1000).await.unwrap();
        assert_eq!(ids.len(), 60, "every passage of its own, no other");
        assert!(ids.iter().all(|id| id.starts_with(&org.org_id)), "{ids:?}");
        let found = app.state.bot.knowledge.retrieve(&app.db, &org.org_id, "refund shipping", Some(&qv), 50);
        let found = found.await.unwrap();
        assert!(!found.hits.is_empty());
        assert!(found.hits.iter().all(|h| h.chunk_id.starts_with(&org.org_id)), "{:?}", top(&found.hits));
        let stats = index::stats(&app.db, &org.org_id).await.unwrap();
        assert_eq!((stats.chunks, stats.embedded_chunks), (60, 60));
    }
    // An organization with no passages finds nothing, whatever the others hold.
    let c = app.register("Org C").await;
    assert!(index::candidates(&app.db, &c.org_id, &words, &vec![1.0; words.len()], 10).await.unwrap().is_empty());
    let found = app.state.bot.knowledge.retrieve(&app.db, &c.org_id, "refund", Some(&qv), 5).await.unwrap();
    assert!(found.hits.is_empty());
}

/// The passages of the organization in the full-text index, read from the index itself.
async fn indexed(db: &DatabaseConnection, org_id: &str) -> i64 {
    let (sql, value) = match db.get_database_backend() {
        DbBackend::Sqlite => (
            "SELECT count(*) FROM bot_chunk_fts WHERE bot_chunk_fts MATCH ?".to_owned(),
            format!("org : \"o{}\"", org_id.replace('-', "")),
        ),
        _ => ("SELECT count(*) FROM bot_chunks WHERE org_id = $1 AND search <> ''::tsvector".to_owned(), org_id.into()),
    };
    let backend = db.get_database_backend();
    let row = db.query_one_raw(Statement::from_sql_and_values(backend, sql, [value.into()])).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[actix_web::test]
async fn a_deleted_document_leaves_no_passage_in_the_index() {
    let Bot { app, org, .. } = bot_setup().await;
    let t = &org.token;
    let doc = upload(&app, &org, "warranty.txt", "text/plain", "The warranty lasts two years.").await;
    let keep = upload(&app, &org, "shipping.txt", "text/plain", "Shipping takes three days.").await;
    assert_eq!((doc["status"].as_str(), keep["status"].as_str()), (Some("READY"), Some("READY")));
    let warranty = vec!["warranty".to_owned()];
    assert_eq!(index::candidates(&app.db, &org.org_id, &warranty, &[1.0], 10).await.unwrap().len(), 1);
    assert_eq!(indexed(&app.db, &org.org_id).await, 2);

    let (s, _) = app.delete(&format!("/api/v1/bot-config/documents/{}", doc["id"].as_str().unwrap()), t).await;
    assert_eq!(s, 204);

    assert!(index::candidates(&app.db, &org.org_id, &warranty, &[1.0], 10).await.unwrap().is_empty());
    assert_eq!(index::doc_freq(&app.db, &org.org_id, &warranty).await.unwrap(), vec![0]);
    assert_eq!(indexed(&app.db, &org.org_id).await, 1, "only the kept document's passage");
    let stats = index::stats(&app.db, &org.org_id).await.unwrap();
    assert_eq!((stats.chunks, stats.total_terms), (1, 4), "shipping takes three days");
    let (_, rag) = app.post("/api/v1/bot-config/test-rag", t, json!({"query": "how long is the warranty"})).await;
    assert_eq!(rag["data"]["hits"], json!([]), "{rag}");
    let (_, info) = app.get("/api/v1/bot-config/embedding-info", t).await;
    assert_eq!((info["data"]["documents"].as_u64(), info["data"]["chunks"].as_u64()), (Some(1), Some(1)), "{info}");
}

#[actix_web::test]
async fn existing_chunks_are_backfilled_at_start() {
    let Bot { mut app, org, .. } = bot_setup().await;
    // Passages as they were stored before the index: no terms yet, no figures.
    let now = Utc::now();
    let old = |i: usize, text: &str| bot_chunk::ActiveModel {
        id: Set(format!("{}-old{i}", org.org_id)),
        org_id: Set(org.org_id.clone()),
        document_id: Set("old-doc".into()),
        position: Set(i as i32),
        text: Set(text.into()),
        embedding: Set(None),
        terms: Set(String::new()),
        term_count: Set(-1),
        created_at: Set(now),
    };
    let rows = vec![old(0, "Gift cards never expire."), old(1, "Our stores open at nine on weekdays.")];
    bot_chunk::Entity::insert_many(rows).exec_without_returning(&app.db).await.unwrap();
    let t = &org.token;
    let (_, rag) = app.post("/api/v1/bot-config/test-rag", t, json!({"query": "do gift cards expire"})).await;
    assert_eq!(rag["data"]["hits"], json!([]), "not indexed yet: {rag}");

    app.restart().await;

    let (s, rag) = app.post("/api/v1/bot-config/test-rag", t, json!({"query": "do gift cards expire"})).await;
    assert_eq!(s, 200, "{rag}");
    assert_eq!(rag["data"]["hits"][0]["chunkId"], format!("{}-old0", org.org_id), "{rag}");
    let row = bot_chunk::Entity::find_by_id(format!("{}-old0", org.org_id)).one(&app.db).await.unwrap().unwrap();
    assert_eq!((row.terms.as_str(), row.term_count), ("gift cards never expire", 4));
    let stats = index::stats(&app.db, &org.org_id).await.unwrap();
    assert_eq!((stats.chunks, stats.total_terms), (2, 4 + 5));
    // Done once: nothing is left to fill at the next start.
    assert_eq!(index::backfill(&app.state.rt.db).await.unwrap(), 0);
}

#[actix_web::test]
async fn the_bundled_sqlite_has_fts5_with_the_tokenizer_options_used() {
    let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
    let one = |sql: &str| Statement::from_string(DbBackend::Sqlite, sql.to_owned());
    let row = db.query_one_raw(one("SELECT sqlite_compileoption_used('ENABLE_FTS5')")).await.unwrap().unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 1);
    db.execute_unprepared(
        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize = \"unicode61 remove_diacritics 0 categories 'L* N* Co M* S*'\")",
    )
    .await
    .unwrap();
    db.execute_unprepared("INSERT INTO t VALUES ('devolucion rápida ⓐⓑⓒ')").await.unwrap();
    for (query, hits) in [("\"rápida\"", 1), ("\"rapida\"", 0), ("\"ⓐⓑⓒ\"", 1)] {
        let sql = format!("SELECT count(*) FROM t WHERE t MATCH '{query}'");
        let row = db.query_one_raw(one(&sql)).await.unwrap().unwrap();
        assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), hits, "{query}: the index folds nothing the app did not");
    }
}

/// Not a check: prints what a question costs with every passage loaded and ranked in memory
/// (as before the index) and through the index, at two corpus sizes.
/// `cargo test --test api knowledge_index::retrieval_cost -- --ignored --nocapture`
#[actix_web::test]
#[ignore]
async fn retrieval_cost_follows_the_question_not_the_corpus() {
    let app = spawn_app().await;
    let mut g = Gen(99);
    let retriever = &app.state.bot.knowledge;
    for size in [2_000, 20_000] {
        let org = app.register("Big").await;
        for _ in 0..size / 1_000 {
            store_corpus(&app, &org.org_id, &mut g, 1_000, Some(64)).await;
        }
        // Words in about a third of the passages each, and words in about one in fifty.
        for (words, from) in [("common", 20), ("rare", 55)] {
            let queries: Vec<String> =
                (0..20).map(|_| (0..3).map(|_| g.word(&VOCABULARY[from..])).collect::<Vec<_>>().join(" ")).collect();
            let vector = g.vector(64);
            for hybrid in [false, true] {
                let qv = hybrid.then_some(vector.as_slice());
                let t = std::time::Instant::now();
                for q in &queries {
                    let all = all_passages(&app.db, &org.org_id).await;
                    knowledge::rank(q, qv, &all, &Corpus::of(&all), 5);
                }
                let before = t.elapsed() / queries.len() as u32;
                let t = std::time::Instant::now();
                let mut candidates = 0;
                for q in &queries {
                    candidates += retriever.retrieve(&app.db, &org.org_id, q, qv, 5).await.unwrap().candidates;
                }
                let after = t.elapsed() / queries.len() as u32;
                println!(
                    "{:?} {size} passages, {words} words, hybrid {hybrid}: in memory {before:?}, index {after:?} ({} scored)",
                    app.db.get_database_backend(),
                    candidates / queries.len()
                );
            }
        }
    }
}
