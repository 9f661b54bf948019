//! BOT-SNAPSHOTS-EXPORT-1..7: snapshots of a config (settings and intents) to restore, and
//! export / import of a whole bot as JSON or ZIP (see [`crate::bot::bundle`]).

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::Utc;
use entities::bot_snapshot;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use super::configs::{self, BotConfigView, ConfigQuery};
use crate::api::multipart;
use crate::auth::Caller;
use crate::bot::bundle::{self, Bundle, Tier};
use crate::bot::config;
use crate::bot::portable::{self, build};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_snapshots)
        .service(create_snapshot)
        .service(restore_snapshot)
        .service(delete_snapshot)
        .service(export_json)
        .service(export_zip)
        .service(import);
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    pub config: BotConfigView,
    pub intents: usize,
    pub tools: usize,
    pub documents: usize,
    pub media: usize,
    /// What did not come along, and why.
    pub warnings: Vec<String>,
}

/// What an import answers: the config as the API shows it, and the counts.
pub async fn imported(state: &AppState, r: portable::ImportReport) -> ApiResult<Imported> {
    Ok(Imported {
        config: configs::view(state, &r.config).await?,
        intents: r.intents,
        tools: r.tools,
        documents: r.documents,
        media: r.media,
        warnings: r.warnings,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotView {
    pub id: String,
    pub config_id: String,
    pub name: String,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
}

impl From<&bot_snapshot::Model> for SnapshotView {
    fn from(s: &bot_snapshot::Model) -> Self {
        SnapshotView {
            id: s.id.clone(),
            config_id: s.config_id.clone(),
            name: s.name.clone(),
            created_by: s.created_by.clone(),
            created_at: s.created_at,
        }
    }
}

/// Snapshots of the current config (or `configId`), newest first; metadata only.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(ConfigQuery), responses((status = 200, body = Data<Vec<SnapshotView>>)))]
#[get("/bot-config/snapshots")]
pub async fn list_snapshots(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ConfigQuery>,
) -> ApiResult<HttpResponse> {
    let c = config::current(state.db(), &caller.org_id, q.config_id.as_deref()).await?;
    let rows = portable::snapshots(state.db(), &c.id).await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(SnapshotView::from).collect::<Vec<_>>())))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotBody {
    pub name: Option<String>,
    pub config_id: Option<String>,
}

/// Save the config's settings and intents as a snapshot.
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = SnapshotBody, responses((status = 201, body = Data<SnapshotView>), (status = 404, body = crate::error::ErrorBody)))]
#[post("/bot-config/snapshots")]
pub async fn create_snapshot(
    state: web::Data<AppState>,
    caller: Caller,
    body: crate::api::body::OptionalJson<SnapshotBody>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner().unwrap_or_default();
    let c = config::current(state.db(), &caller.org_id, b.config_id.as_deref())
        .await
        .map_err(crate::api::refs::named_by_if(b.config_id.is_some(), "configId"))?;
    let s = portable::take_snapshot(&state, &c, b.name, caller.user_id.clone()).await?;
    Ok(HttpResponse::Created().json(Data::new(SnapshotView::from(&s))))
}

/// Put the config back as the snapshot has it: settings (a changed prompt becomes a new prompt
/// version) and intents. The provider key stays as it is.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<BotConfigView>), (status = 404, body = crate::error::ErrorBody)))]
#[post("/bot-config/snapshots/{id}/restore")]
pub async fn restore_snapshot(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let c = portable::restore_snapshot(&state, &caller.org_id, &id, caller.user_id.clone()).await?;
    Ok(HttpResponse::Ok().json(Data::new(configs::view(&state, &c).await?)))
}

/// Delete a snapshot.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/bot-config/snapshots/{id}")]
pub async fn delete_snapshot(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    portable::delete_snapshot(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ExportQuery {
    /// `config` (settings and intents), `standard` (+ tools and knowledge), `full` (+ media).
    pub tier: Option<String>,
    pub config_id: Option<String>,
}

fn attachment(name: &str, ext: &str) -> String {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("attachment; filename=\"bot-{safe}.{ext}\"")
}

/// Export the config as a JSON file.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(ExportQuery), responses((status = 200, body = Bundle), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[get("/bot-config/export")]
pub async fn export_json(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let tier = Tier::parse(q.tier.as_deref(), Tier::Standard)
        .ok_or_else(|| ApiError::validation("tier", "tier must be config, standard or full"))?;
    let c = config::current(state.db(), &caller.org_id, q.config_id.as_deref()).await?;
    let b = build(&state, &c, tier).await?;
    Ok(HttpResponse::Ok().insert_header(("Content-Disposition", attachment(&c.name, "json"))).json(b))
}

/// Export the config as a ZIP: `bundle.json` and the files beside it.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(ExportQuery), responses((status = 200, content_type = "application/zip", description = "The archive"), (status = 400, body = crate::error::ErrorBody)))]
#[get("/bot-config/export-zip")]
pub async fn export_zip(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let tier = Tier::parse(q.tier.as_deref(), Tier::Full)
        .filter(|t| *t != Tier::Config)
        .ok_or_else(|| ApiError::validation("tier", "tier must be standard or full"))?;
    let c = config::current(state.db(), &caller.org_id, q.config_id.as_deref()).await?;
    let b = build(&state, &c, tier).await?;
    let bytes = web::block(move || bundle::zip(b))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(("Content-Disposition", attachment(&c.name, "zip")))
        .body(bytes))
}

/// The multipart form of an import.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// A JSON or ZIP export.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Name of the new config; default "<exported name> (imported)".
    name: Option<String>,
    /// `true` to make it the active config at once.
    activate: Option<String>,
}

/// Import a JSON or ZIP export as a new draft config (with its tools, documents and media).
#[utoipa::path(
    tag = "bot",
    security(("bearer" = [])),
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Data<Imported>), (status = 400, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody))
)]
#[post("/bot-config/import")]
pub async fn import(
    state: web::Data<AppState>,
    caller: Caller,
    form: actix_multipart::Multipart,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let mut form = multipart::read(form, multipart::Limits::files(&["file"], bundle::MAX_BUNDLE_BYTES)).await?;
    let file = form.files.remove("file").ok_or_else(|| ApiError::validation("file", "a file is required"))?;
    let activate = form.field("activate").is_some_and(|a| a.eq_ignore_ascii_case("true"));
    let name = form.field("name").map(str::to_owned);
    let bytes = file.bytes;
    let loaded = web::block(move || bundle::read(&bytes))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::validation("file", e))?;
    let report =
        portable::import_bundle(&state, &caller.org_id, caller.user_id.clone(), loaded, name, activate).await?;
    let out = imported(&state, report).await?;
    Ok(HttpResponse::Created().json(Data::new(out)))
}
