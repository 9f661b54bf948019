//! Retrieval for one question, at a cost that follows the question's words rather than the size
//! of the knowledge base: the passage index's best candidates for the words
//! ([`index::CANDIDATES`]), plus, for an organization with few enough embedded passages, those
//! close in meaning (cosine above 0.3) that share no word. Only these are loaded, and they are
//! ranked as ever ([`super::rank`]), with the organization's N, average length and document
//! frequencies, so the scores are those of ranking every passage.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use entities::bot_chunk;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::{Corpus, Hit, Passage, cosine, index, rank, terms};

/// An organization's embedded passages: id and vector.
type Vectors = Arc<Vec<(String, Vec<f32>)>>;

/// Retrieval with the vectors of small knowledge bases kept in memory. Shared by the bot's
/// turns and the retrieval test.
pub struct Retriever {
    /// Organizations with at most this many embedded passages have every one compared with the
    /// question (`CX_KNOWLEDGE_EXHAUSTIVE_VECTORS`); above it, only the text candidates are.
    exhaustive_vectors: usize,
    /// Vectors per organization, as of its figures' version (which every write changes, on any
    /// node), so a stale entry is never used; least recently used out past a budget.
    cache: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    version: i64,
    vectors: Vectors,
    used: Instant,
}

/// What retrieval found, and how many passages it scored.
pub struct Retrieved {
    pub hits: Vec<Hit>,
    pub candidates: usize,
}

impl Retriever {
    pub fn new(exhaustive_vectors: usize) -> Retriever {
        Retriever { exhaustive_vectors, cache: Mutex::new(HashMap::new()) }
    }

    /// Vectors held at most, over all organizations.
    fn budget(&self) -> usize {
        self.exhaustive_vectors.max(1) * 8
    }

    /// The best `k` passages of the organization for `query` (and its embedding, if any).
    pub async fn retrieve(
        &self,
        db: &impl ConnectionTrait,
        org_id: &str,
        query: &str,
        query_vector: Option<&[f32]>,
        k: usize,
    ) -> Result<Retrieved, DbErr> {
        let stats = index::stats(db, org_id).await?;
        if stats.chunks <= 0 {
            return Ok(Retrieved { hits: Vec::new(), candidates: 0 });
        }
        let mut q = terms(query);
        let mut seen_terms = HashSet::new();
        q.retain(|t| seen_terms.insert(t.clone()));
        let n = stats.chunks as f64;
        let df = index::present_terms(db, org_id, &q).await?;
        let present: Vec<String> = q.into_iter().filter(|t| df.contains_key(t)).collect();
        let idf: Vec<f64> = present
            .iter()
            .map(|t| {
                let d = df.get(t).copied().unwrap_or(0.0);
                ((n - d + 0.5) / (d + 0.5) + 1.0).ln()
            })
            .collect();
        let mut ids = index::candidates(db, org_id, &present, &idf, index::CANDIDATES).await?;
        if let Some(qv) = query_vector
            && stats.embedded_chunks > 0
            && stats.embedded_chunks as usize <= self.exhaustive_vectors
        {
            let vectors = self.vectors(db, org_id, stats.version).await?;
            let text: HashSet<&str> = ids.iter().map(String::as_str).collect();
            let mut close: Vec<(f64, &str)> = vectors
                .iter()
                .filter(|(id, _)| !text.contains(id.as_str()))
                .map(|(id, v)| (cosine(qv, v), id.as_str()))
                .filter(|(c, _)| *c > 0.3)
                .collect();
            close.sort_by(|a, b| b.0.total_cmp(&a.0));
            close.truncate(index::CANDIDATES);
            let close: Vec<String> = close.into_iter().map(|(_, id)| id.to_owned()).collect();
            ids.extend(close);
        }
        let passages = load(db, org_id, &ids, query_vector.is_some()).await?;
        let corpus = Corpus { passages: n, avg_len: stats.total_terms as f64 / n, df };
        Ok(Retrieved { hits: rank(query, query_vector, &passages, &corpus, k), candidates: passages.len() })
    }

    /// The organization's vectors, from memory when its figures have not changed since.
    async fn vectors(&self, db: &impl ConnectionTrait, org_id: &str, version: i64) -> Result<Vectors, DbErr> {
        if let Ok(mut cache) = self.cache.lock()
            && let Some(c) = cache.get_mut(org_id)
            && c.version == version
        {
            c.used = Instant::now();
            return Ok(c.vectors.clone());
        }
        let rows: Vec<(String, Option<String>)> = bot_chunk::Entity::find()
            .select_only()
            .columns([bot_chunk::Column::Id, bot_chunk::Column::Embedding])
            .filter(bot_chunk::Column::OrgId.eq(org_id))
            .filter(bot_chunk::Column::Embedding.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        let vectors: Vectors = Arc::new(
            rows.into_iter().filter_map(|(id, e)| Some((id, serde_json::from_str::<Vec<f32>>(&e?).ok()?))).collect(),
        );
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(org_id.to_owned(), Cached { version, vectors: vectors.clone(), used: Instant::now() });
            let budget = self.budget();
            while cache.len() > 1 && cache.values().map(|c| c.vectors.len()).sum::<usize>() > budget {
                let Some(oldest) = cache.iter().min_by_key(|(_, c)| c.used).map(|(k, _)| k.clone()) else { break };
                cache.remove(&oldest);
            }
        }
        Ok(vectors)
    }
}

/// The passages `ids` of the organization, with their embeddings when `with_vectors`.
async fn load(
    db: &impl ConnectionTrait,
    org_id: &str,
    ids: &[String],
    with_vectors: bool,
) -> Result<Vec<Passage>, DbErr> {
    let mut out = Vec::with_capacity(ids.len());
    for page in ids.chunks(500) {
        let mut select = bot_chunk::Entity::find().select_only().columns([
            bot_chunk::Column::Id,
            bot_chunk::Column::DocumentId,
            bot_chunk::Column::Text,
            bot_chunk::Column::Terms,
        ]);
        select = if with_vectors {
            select.column(bot_chunk::Column::Embedding)
        } else {
            select.column_as(Expr::value(Option::<String>::None), "embedding")
        };
        let rows: Vec<(String, String, String, String, Option<String>)> = select
            .filter(bot_chunk::Column::OrgId.eq(org_id))
            .filter(bot_chunk::Column::Id.is_in(page.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|(id, document_id, text, terms, embedding)| Passage {
            id,
            document_id,
            text,
            terms: terms.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
            embedding: embedding.and_then(|e| serde_json::from_str(&e).ok()),
        }));
    }
    Ok(out)
}
