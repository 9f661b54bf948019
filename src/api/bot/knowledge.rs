//! BOT-KNOWLEDGE-1..7: the knowledge base. An upload is stored and answered at once (202,
//! `PROCESSING`); its text is extracted, split and indexed in the background (with provider
//! embeddings when the active config names an embedding model), then `READY` or `FAILED` with
//! the reason. Processing left unfinished by a restart resumes at start-up.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::Utc;
use entities::{bot_chunk, bot_document};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use super::upload;
use crate::auth::Caller;
use crate::bot::config::{self, Settings};
use crate::bot::knowledge::{self, Hit, MAX_DOCUMENT_BYTES};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(upload_document)
        .service(remove)
        .service(status)
        .service(chunks)
        .service(test_rag)
        .service(embedding_info);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentView {
    pub id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    /// `PROCESSING`, `READY` or `FAILED`.
    pub status: String,
    pub error: Option<String>,
    pub chunk_count: i32,
    pub embedded: bool,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<&bot_document::Model> for DocumentView {
    fn from(d: &bot_document::Model) -> Self {
        DocumentView {
            id: d.id.clone(),
            name: d.name.clone(),
            mime: d.mime.clone(),
            size: d.size,
            status: d.status.clone(),
            error: d.error.clone(),
            chunk_count: d.chunk_count,
            embedded: d.embedded,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<bot_document::Model> {
    bot_document::Entity::find_by_id(id.to_owned())
        .filter(bot_document::Column::OrgId.eq(caller.org_id.clone()))
        .one(state.db())
        .await?
        .ok_or(ApiError::NotFound("document"))
}

/// The knowledge base's documents, newest first.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<DocumentView>>)))]
#[get("/bot-config/documents")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = bot_document::Entity::find()
        .filter(bot_document::Column::OrgId.eq(caller.org_id.clone()))
        .order_by_desc(bot_document::Column::CreatedAt)
        .all(state.db())
        .await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(DocumentView::from).collect::<Vec<_>>())))
}

/// The multipart form of a document upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DocumentForm {
    /// Text, Markdown, HTML or PDF (with a text layer), at most 10 MB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Display name; default the file name.
    name: Option<String>,
}

/// Stores a document and starts processing it; used by uploads and imports.
pub async fn add_document(
    state: &AppState,
    org_id: &str,
    name: String,
    mime: String,
    bytes: Vec<u8>,
) -> ApiResult<bot_document::Model> {
    let id = actors::new_id();
    let path = format!("{org_id}/kb-{id}");
    let size = bytes.len() as i64;
    state.media.put(&path, bytes).await.map_err(|e| ApiError::Internal(format!("storing the document: {e}")))?;
    let now = Utc::now();
    let doc = bot_document::ActiveModel {
        id: Set(id),
        org_id: Set(org_id.to_owned()),
        name: Set(name),
        mime: Set(mime),
        size: Set(size),
        status: Set("PROCESSING".into()),
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
    outcome: Result<(Vec<bot_chunk::ActiveModel>, bool), String>,
) -> Result<(), sea_orm::DbErr> {
    let txn = rt.db.begin_write().await?;
    let Some(current) = bot_document::Entity::find_by_id(id.to_owned()).lock_exclusive().one(&*txn).await? else {
        return Ok(()); // deleted meanwhile: nothing to keep
    };
    bot_chunk::Entity::delete_many().filter(bot_chunk::Column::DocumentId.eq(id.to_owned())).exec(&*txn).await?;
    let (outcome_name, error, count, embedded) = match outcome {
        Ok((rows, embedded)) => {
            let count = rows.len() as i32;
            for batch in rows.chunks(100) {
                bot_chunk::Entity::insert_many(batch.to_vec()).exec_without_returning(&*txn).await?;
            }
            ("READY", None, count, embedded)
        }
        Err(e) => ("FAILED", Some(e), 0, false),
    };
    let mut am = current.into_active_model();
    am.status = Set(outcome_name.into());
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
    bot: &crate::bot::engine::Engine,
    doc: &bot_document::Model,
) -> Result<(Vec<bot_chunk::ActiveModel>, bool), String> {
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
        .map(|(i, (text, vector))| bot_chunk::ActiveModel {
            id: Set(actors::new_id()),
            org_id: Set(doc.org_id.clone()),
            document_id: Set(doc.id.clone()),
            position: Set(i as i32),
            text: Set(text.clone()),
            embedding: Set(vector.map(|v| serde_json::to_string(&v).unwrap_or_default())),
            created_at: Set(now),
        })
        .collect();
    Ok((rows, embedded))
}

/// Resumes documents a restart left in `PROCESSING`.
pub async fn resume_processing(state: &AppState) -> Result<(), sea_orm::DbErr> {
    let docs =
        bot_document::Entity::find().filter(bot_document::Column::Status.eq("PROCESSING")).all(state.db()).await?;
    for doc in docs {
        spawn_processing(state, doc);
    }
    Ok(())
}

/// Upload a document to the knowledge base (multipart: `file`, optional `name`). Answers 202:
/// processing runs in the background; poll `/status`.
#[utoipa::path(
    tag = "bot",
    security(("bearer" = [])),
    request_body(content = DocumentForm, content_type = "multipart/form-data"),
    responses((status = 202, body = Data<DocumentView>), (status = 400, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody))
)]
#[post("/bot-config/documents")]
pub async fn upload_document(
    state: web::Data<AppState>,
    caller: Caller,
    form: actix_multipart::Multipart,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let mut form = upload::read(form, MAX_DOCUMENT_BYTES).await?;
    let file = form.files.remove("file").ok_or_else(|| ApiError::validation("file", "a file is required"))?;
    if file.bytes.is_empty() {
        return Err(ApiError::validation("file", "the file is empty"));
    }
    let name = form.field("name").map(str::to_owned).or(file.filename.clone()).unwrap_or_else(|| "document".into());
    let mime =
        if file.mime == "application/octet-stream" { upload::guess_mime(&name).to_owned() } else { file.mime.clone() };
    // Refuse what could never be read now, rather than as a FAILED document later.
    knowledge::supported(&mime, &name).map_err(|e| ApiError::validation("file", e))?;
    let doc = add_document(&state, &caller.org_id, name.chars().take(200).collect(), mime, file.bytes).await?;
    Ok(HttpResponse::Accepted().json(Data::new(DocumentView::from(&doc))))
}

/// Delete a document, its passages and its file.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/bot-config/documents/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let doc = find(&state, &caller, &id).await?;
    let txn = state.rt.db.begin_write().await?;
    // Holding the row: a processing run that finishes now either commits first (and its
    // passages go below) or finds the document gone.
    bot_document::Entity::find_by_id(doc.id.clone()).lock_exclusive().one(&*txn).await?;
    bot_chunk::Entity::delete_many().filter(bot_chunk::Column::DocumentId.eq(doc.id.clone())).exec(&*txn).await?;
    bot_document::Entity::delete_by_id(doc.id.clone()).exec(&*txn).await?;
    txn.commit().await?;
    if let Err(e) = state.media.delete(&doc.path).await {
        tracing::warn!(error = %e, "document file not deleted");
    }
    Ok(HttpResponse::NoContent().finish())
}

/// A document's processing status.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<DocumentView>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/bot-config/documents/{id}/status")]
pub async fn status(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Data::new(DocumentView::from(&find(&state, &caller, &id).await?))))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChunkView {
    pub id: String,
    pub position: i32,
    pub text: String,
    pub has_embedding: bool,
}

/// A document's passages, in order.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<Vec<ChunkView>>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/bot-config/documents/{id}/chunks")]
pub async fn chunks(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let doc = find(&state, &caller, &id).await?;
    let rows = bot_chunk::Entity::find()
        .filter(bot_chunk::Column::DocumentId.eq(doc.id))
        .order_by_asc(bot_chunk::Column::Position)
        .all(state.db())
        .await?;
    let out: Vec<_> = rows
        .into_iter()
        .map(|c| ChunkView { has_embedding: c.embedding.is_some(), id: c.id, position: c.position, text: c.text })
        .collect();
    Ok(HttpResponse::Ok().json(Data::new(out)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RagQuery {
    pub query: Option<String>,
    /// Passages to return; default the config's `topK`.
    pub top_k: Option<u32>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RagResult {
    pub query: String,
    /// `keyword` (BM25) or `hybrid` (BM25 and embeddings).
    pub mode: &'static str,
    pub hits: Vec<Hit>,
}

/// Show what retrieval finds for a question, with scores.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = RagQuery, responses((status = 200, body = Data<RagResult>), (status = 400, body = crate::error::ErrorBody)))]
#[post("/bot-config/test-rag")]
pub async fn test_rag(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<RagQuery>,
) -> ApiResult<HttpResponse> {
    let query = body.query.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let query = query.ok_or_else(|| ApiError::validation("query", "query is required"))?.to_owned();
    let active = config::active(state.db(), &caller.org_id).await?;
    let settings = active.as_ref().map(Settings::of).unwrap_or_default();
    let k = body.top_k.unwrap_or(settings.top_k).clamp(1, 50) as usize;
    let mut vector = None;
    if let (Some(c), Some(model)) = (&active, &settings.embedding_model) {
        let endpoint = config::endpoint(state.db(), &state.secrets, c).await?;
        vector = state
            .bot
            .provider(&endpoint)
            .await?
            .embed(model, std::slice::from_ref(&query))
            .await
            .map_err(|e| ApiError::Unavailable(format!("the embedding model could not answer: {e}")))?
            .pop();
    }
    let passages = knowledge::passages(state.db(), &caller.org_id).await?;
    let hits = knowledge::rank(&query, vector.as_deref(), &passages, k);
    let mode = if vector.is_some() { "hybrid" } else { "keyword" };
    Ok(HttpResponse::Ok().json(Data::new(RagResult { query, mode, hits })))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingInfo {
    /// The embedding model of the active config; `None` = keyword retrieval only.
    pub model: Option<String>,
    pub provider: Option<String>,
    /// `keyword` or `hybrid`.
    pub retrieval: &'static str,
    pub dimensions: Option<usize>,
    pub documents: usize,
    pub chunks: usize,
    pub embedded_chunks: usize,
}

/// How the knowledge base is indexed.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<EmbeddingInfo>)))]
#[get("/bot-config/embedding-info")]
pub async fn embedding_info(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let active = config::active(state.db(), &caller.org_id).await?;
    let settings = active.as_ref().map(Settings::of);
    let passages = knowledge::passages(state.db(), &caller.org_id).await?;
    let documents = sea_orm::PaginatorTrait::count(
        bot_document::Entity::find().filter(bot_document::Column::OrgId.eq(caller.org_id.clone())),
        state.db(),
    )
    .await? as usize;
    let model = settings.as_ref().and_then(|s| s.embedding_model.clone());
    Ok(HttpResponse::Ok().json(Data::new(EmbeddingInfo {
        retrieval: if model.is_some() { "hybrid" } else { "keyword" },
        provider: settings.map(|s| s.provider),
        model,
        dimensions: passages.iter().find_map(|p| p.3.as_ref().map(Vec::len)),
        documents,
        chunks: passages.len(),
        embedded_chunks: passages.iter().filter(|p| p.3.is_some()).count(),
    })))
}
