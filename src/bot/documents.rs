//! The knowledge base's documents: an upload is stored and answered at once (`PROCESSING`); its
//! text is extracted, split and indexed in the background (with provider embeddings when the
//! active config names an embedding model), then `READY` or `FAILED` with the reason. Processing
//! left unfinished by a restart resumes at start-up ([`resume`]). Retrieval is in [`knowledge`].

use chrono::Utc;
use entities::enums::DocumentStatus;
use entities::{bot_chunk, bot_document};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::config::{self, Settings};
use super::knowledge::{self, Hit, index};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// The organization's documents, newest first.
pub async fn list(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<bot_document::Model>> {
    Ok(bot_document::Entity::find()
        .filter(bot_document::Column::OrgId.eq(org_id))
        .order_by_desc(bot_document::Column::CreatedAt)
        .all(db)
        .await?)
}

/// One document of the organization.
pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<bot_document::Model> {
    crate::domain::find_in_org::<bot_document::Entity>(db, org_id, id).await
}

/// A document's passages, in order.
pub async fn chunks(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<Vec<bot_chunk::Model>> {
    let doc = get(db, org_id, id).await?;
    Ok(bot_chunk::Entity::find()
        .filter(bot_chunk::Column::DocumentId.eq(doc.id))
        .order_by_asc(bot_chunk::Column::Position)
        .all(db)
        .await?)
}

/// An uploaded file, checked before it is stored: refused now if it could never be read, rather
/// than as a FAILED document later. `mime` may be the browser's `application/octet-stream`.
pub async fn upload(
    state: &AppState,
    org_id: &str,
    name: String,
    mime: String,
    bytes: Vec<u8>,
) -> Result<bot_document::Model> {
    if bytes.is_empty() {
        return Err(Error::invalid("file", "the file is empty"));
    }
    let mime = if mime == "application/octet-stream" { crate::media::guess_mime(&name).to_owned() } else { mime };
    knowledge::supported(&mime, &name).map_err(|e| Error::invalid("file", e))?;
    add(state, org_id, name.chars().take(200).collect(), mime, bytes).await
}

/// Stores a document and starts processing it; used by uploads and imports.
pub async fn add(
    state: &AppState,
    org_id: &str,
    name: String,
    mime: String,
    bytes: Vec<u8>,
) -> Result<bot_document::Model> {
    let id = actors::new_id();
    let path = format!("{org_id}/kb-{id}");
    let size = bytes.len() as i64;
    state.media.put(&path, bytes).await.map_err(|e| Error::Internal(format!("storing the document: {e}")))?;
    let now = Utc::now();
    let doc = bot_document::ActiveModel {
        id: Set(id),
        org_id: Set(org_id.to_owned()),
        name: Set(name),
        mime: Set(mime),
        size: Set(size),
        status: Set(DocumentStatus::Processing),
        error: Set(None),
        chunk_count: Set(0),
        path: Set(path),
        embedded: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(state.db())
    .await?;
    spawn_processing(state, doc.clone());
    Ok(doc)
}

fn spawn_processing(state: &AppState, doc: bot_document::Model) {
    let (rt, media, bot) = (state.rt.clone(), state.media.clone(), state.bot.clone());
    state.rt.spawn_loop(async move {
        let outcome = process(&rt.db.conn, media.as_ref(), &bot, &doc).await;
        if let Err(e) = store_outcome(&rt, &doc.id, outcome).await {
            // The passages could not be written: the document says so rather than staying
            // PROCESSING (and being tried again at every start).
            tracing::warn!(document_id = %doc.id, error = %e, "document passages not stored");
            let failed = Err(format!("the passages could not be stored: {e}"));
            if let Err(e) = store_outcome(&rt, &doc.id, failed).await {
                tracing::warn!(document_id = %doc.id, error = %e, "document status not saved");
            }
        }
    });
}

/// Replaces the document's passages with the processed ones and sets its status, in one write
/// transaction that holds the document row: a document deleted while it was processed gets no
/// passages, and a failure leaves none half-written.
async fn store_outcome(
    rt: &actors::runtime::Runtime,
    id: &str,
    outcome: std::result::Result<(Vec<bot_chunk::ActiveModel>, bool), String>,
) -> std::result::Result<(), sea_orm::DbErr> {
    let txn = rt.db.begin_write().await?;
    let Some(current) = bot_document::Entity::find_by_id(id.to_owned()).lock_exclusive().one(&*txn).await? else {
        return Ok(()); // deleted meanwhile: nothing to keep
    };
    // The organization's figures lose the passages of an earlier run and gain the new ones.
    let before = index::remove_document_passages(&*txn, id).await?;
    let (outcome_name, error, count, embedded, after) = match outcome {
        Ok((rows, embedded)) => {
            let count = rows.len() as i32;
            for batch in rows.chunks(100) {
                bot_chunk::Entity::insert_many(batch.to_vec()).exec_without_returning(&*txn).await?;
            }
            (DocumentStatus::Ready, None, count, embedded, index::Figures::of(&rows))
        }
        Err(e) => (DocumentStatus::Failed, Some(e), 0, false, index::Figures::default()),
    };
    // Even with equal figures the passages are new ones: the version changes.
    if before.chunks > 0 || after.chunks > 0 {
        index::add_figures(&*txn, &current.org_id, after - before).await?;
    }
    let mut am = current.into_active_model();
    am.status = Set(outcome_name);
    am.error = Set(error);
    am.chunk_count = Set(count);
    am.embedded = Set(embedded);
    am.updated_at = Set(Utc::now());
    am.update(&*txn).await?;
    txn.commit().await
}

/// Extracts, splits and embeds a document; answers its passages, to store, and whether they
/// carry embeddings.
async fn process(
    db: &DatabaseConnection,
    media: &dyn crate::media::MediaStore,
    bot: &super::engine::Engine,
    doc: &bot_document::Model,
) -> std::result::Result<(Vec<bot_chunk::ActiveModel>, bool), String> {
    let bytes = media.get(&doc.path).await.map_err(|e| format!("the stored file could not be read: {e}"))?;
    let (mime, name) = (doc.mime.clone(), doc.name.clone());
    // Off the async threads; a malformed file that panics the parser only fails this document.
    let text = tokio::task::spawn_blocking(move || knowledge::extract(&mime, &name, &bytes))
        .await
        .map_err(|_| "the document could not be read".to_owned())??;
    let passages = knowledge::chunk(&text);
    if passages.is_empty() {
        return Err("the document has no text".into());
    }
    // Embeddings when the active config asks for them; keyword retrieval works without.
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; passages.len()];
    if let Ok(Some(c)) = config::active(db, &doc.org_id).await
        && let Some(model) = Settings::of(&c).embedding_model
    {
        let endpoint = config::endpoint(db, &bot.secrets, &c).await.map_err(|e| e.to_string())?;
        let provider = bot.provider(&endpoint).await.map_err(|e| e.to_string())?;
        for (i, batch) in passages.chunks(32).enumerate() {
            match provider.embed(&model, batch).await {
                Ok(v) if v.len() == batch.len() => {
                    for (j, e) in v.into_iter().enumerate() {
                        vectors[i * 32 + j] = Some(e);
                    }
                }
                Ok(_) => return Err("the embedding model answered a different number of vectors".into()),
                Err(e) => return Err(format!("embedding failed: {e}")),
            }
        }
    }
    let embedded = vectors.iter().all(Option::is_some);
    let now = Utc::now();
    let rows: Vec<bot_chunk::ActiveModel> = passages
        .iter()
        .zip(vectors)
        .enumerate()
        .map(|(i, (text, vector))| {
            let terms = knowledge::terms(text);
            bot_chunk::ActiveModel {
                id: Set(actors::new_id()),
                org_id: Set(doc.org_id.clone()),
                document_id: Set(doc.id.clone()),
                position: Set(i as i32),
                text: Set(text.clone()),
                embedding: Set(vector.map(|v| serde_json::to_string(&v).unwrap_or_default())),
                term_count: Set(terms.len() as i32),
                terms: Set(terms.join(" ")),
                created_at: Set(now),
            }
        })
        .collect();
    Ok((rows, embedded))
}

/// Indexes passages stored before the full-text index existed, then resumes documents a
/// restart left in `PROCESSING` (at start-up).
pub async fn resume(state: &AppState) -> std::result::Result<(), sea_orm::DbErr> {
    index::backfill(&state.rt.db).await?;
    let docs = bot_document::Entity::find()
        .filter(bot_document::Column::Status.eq(DocumentStatus::Processing))
        .all(state.db())
        .await?;
    for doc in docs {
        spawn_processing(state, doc);
    }
    Ok(())
}

/// Deletes a document, its passages and its file.
pub async fn delete(state: &AppState, org_id: &str, id: &str) -> Result<()> {
    let doc = get(state.db(), org_id, id).await?;
    let txn = state.rt.db.begin_write().await?;
    // Holding the row: a processing run that finishes now either commits first (and its
    // passages go below) or finds the document gone.
    bot_document::Entity::find_by_id(doc.id.clone()).lock_exclusive().one(&*txn).await?;
    let gone = index::remove_document_passages(&*txn, &doc.id).await?;
    if gone.chunks > 0 {
        index::add_figures(&*txn, &doc.org_id, index::Figures::default() - gone).await?;
    }
    bot_document::Entity::delete_by_id(doc.id.clone()).exec(&*txn).await?;
    txn.commit().await?;
    if let Err(e) = state.media.delete(&doc.path).await {
        tracing::warn!(error = %e, "document file not deleted");
    }
    Ok(())
}

/// What retrieval finds for a question: `keyword` (BM25) or `hybrid` (BM25 and embeddings) and
/// the `k` best passages (default the active config's `topK`), with scores.
pub async fn search(
    state: &AppState,
    org_id: &str,
    query: Option<&str>,
    k: Option<u32>,
) -> Result<(String, &'static str, Vec<Hit>)> {
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    let query = query.ok_or_else(|| Error::invalid("query", "query is required"))?.to_owned();
    let active = config::active(state.db(), org_id).await?;
    let settings = active.as_ref().map(Settings::of).unwrap_or_default();
    let k = k.unwrap_or(settings.top_k).clamp(1, 50) as usize;
    let mut vector = None;
    if let (Some(c), Some(model)) = (&active, &settings.embedding_model) {
        let endpoint = config::endpoint(state.db(), &state.secrets, c).await?;
        vector = state
            .bot
            .provider(&endpoint)
            .await?
            .embed(model, std::slice::from_ref(&query))
            .await
            .map_err(|e| Error::Unavailable(format!("the embedding model could not answer: {e}")))?
            .pop();
    }
    let found = state.bot.knowledge.retrieve(state.db(), org_id, &query, vector.as_deref(), k).await?;
    Ok((query, if vector.is_some() { "hybrid" } else { "keyword" }, found.hits))
}

/// How the knowledge base is indexed.
pub struct Indexing {
    /// The embedding model of the active config; `None` = keyword retrieval only.
    pub model: Option<String>,
    pub provider: Option<String>,
    pub dimensions: Option<usize>,
    pub documents: usize,
    pub chunks: usize,
    pub embedded_chunks: usize,
}

pub async fn indexing(db: &DatabaseConnection, org_id: &str) -> Result<Indexing> {
    let active = config::active(db, org_id).await?;
    let settings = active.as_ref().map(Settings::of);
    // Counted as passages are written (`bot_knowledge_stats`), not by reading them.
    let stats = index::stats(db, org_id).await?;
    let dimensions = if stats.embedded_chunks > 0 { index::dimensions(db, org_id).await? } else { None };
    let documents =
        bot_document::Entity::find().filter(bot_document::Column::OrgId.eq(org_id)).count(db).await? as usize;
    Ok(Indexing {
        model: settings.as_ref().and_then(|s| s.embedding_model.clone()),
        provider: settings.map(|s| s.provider),
        dimensions,
        documents,
        chunks: stats.chunks.max(0) as usize,
        embedded_chunks: stats.embedded_chunks.max(0) as usize,
    })
}
