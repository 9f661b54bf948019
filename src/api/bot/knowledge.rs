//! BOT-KNOWLEDGE-1..7: the knowledge base's endpoints. An upload is answered at once (202,
//! `PROCESSING`); `bot::documents` processes it in the background.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::Utc;
use entities::bot_document;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::api::multipart;
use crate::auth::Caller;
use crate::bot::documents;
use crate::bot::knowledge::{Hit, MAX_DOCUMENT_BYTES};
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
            status: d.status.to_string(),
            error: d.error.clone(),
            chunk_count: d.chunk_count,
            embedded: d.embedded,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// The knowledge base's documents, newest first.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<DocumentView>>)))]
#[get("/bot-config/documents")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = documents::list(state.db(), &caller.org_id).await?;
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
    let mut form = multipart::read(form, multipart::Limits::files(&["file"], MAX_DOCUMENT_BYTES)).await?;
    let file = form.files.remove("file").ok_or_else(|| ApiError::validation("file", "a file is required"))?;
    let name = form.field("name").map(str::to_owned).or(file.filename).unwrap_or_else(|| "document".into());
    let doc = documents::upload(&state, &caller.org_id, name, file.mime, file.bytes).await?;
    Ok(HttpResponse::Accepted().json(Data::new(DocumentView::from(&doc))))
}

/// Delete a document, its passages and its file.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/bot-config/documents/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    documents::delete(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A document's processing status.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<DocumentView>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/bot-config/documents/{id}/status")]
pub async fn status(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let doc = documents::get(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(DocumentView::from(&doc))))
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
    let rows = documents::chunks(state.db(), &caller.org_id, &id).await?;
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
    let (query, mode, hits) = documents::search(&state, &caller.org_id, body.query.as_deref(), body.top_k).await?;
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
    let i = documents::indexing(state.db(), &caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Data::new(EmbeddingInfo {
        retrieval: if i.model.is_some() { "hybrid" } else { "keyword" },
        model: i.model,
        provider: i.provider,
        dimensions: i.dimensions,
        documents: i.documents,
        chunks: i.chunks,
        embedded_chunks: i.embedded_chunks,
    })))
}
