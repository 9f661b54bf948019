//! ADMIN-BOT-TEMPLATES-1..7: bot templates the platform (SUPER_ADMIN) publishes, and their
//! import into an organization as a new draft config.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::Utc;
use entities::bot_template;
use entities::enums::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use super::portable::{self, Imported};
use crate::auth::Caller;
use crate::bot::bundle::Bundle;
use crate::bot::templates;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(admin_list)
        .service(from_config)
        .service(create)
        .service(remove)
        .service(update)
        .service(published)
        .service(import);
}

fn require_super(caller: &Caller) -> ApiResult<()> {
    if caller.role == Role::SuperAdmin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("this action needs a SUPER_ADMIN".into()))
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub published: bool,
    pub intents: usize,
    pub documents: usize,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

fn view(t: &bot_template::Model) -> TemplateView {
    let b: Option<Bundle> = serde_json::from_str(&t.data).ok();
    TemplateView {
        id: t.id.clone(),
        name: t.name.clone(),
        slug: t.slug.clone(),
        description: t.description.clone(),
        category: t.category.clone(),
        published: t.published,
        intents: b.as_ref().map_or(0, |b| b.intents.len()),
        documents: b.as_ref().map_or(0, |b| b.documents.len()),
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateBody {
    pub name: Option<String>,
    /// `a-z0-9-`, unique.
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::api::nullable")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// A bot export (`GET /bot-config/export`).
    pub data: Option<Bundle>,
    pub published: Option<bool>,
}

impl From<TemplateBody> for templates::Fields {
    fn from(b: TemplateBody) -> Self {
        templates::Fields {
            name: b.name,
            slug: b.slug,
            description: b.description,
            category: b.category,
            data: b.data,
            published: b.published,
        }
    }
}

/// Every template, published or not (SUPER_ADMIN).
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<TemplateView>>), (status = 403, body = crate::error::ErrorBody)))]
#[get("/admin/bot-templates")]
pub async fn admin_list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    require_super(&caller)?;
    let rows = templates::list(state.db(), false).await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(view).collect::<Vec<_>>())))
}

/// Create a template from an export (SUPER_ADMIN).
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = TemplateBody, responses((status = 201, body = Data<TemplateView>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/admin/bot-templates")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TemplateBody>,
) -> ApiResult<HttpResponse> {
    require_super(&caller)?;
    let t = templates::create(state.db(), body.into_inner().into()).await?;
    Ok(HttpResponse::Created().json(Data::new(view(&t))))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FromConfigBody {
    /// The organization whose active config becomes the template; default the caller's.
    pub org_id: Option<String>,
    pub name: Option<String>,
    pub slug: Option<String>,
}

/// Publish an organization's current config (settings, intents, tools, knowledge) as an
/// unpublished template (SUPER_ADMIN).
#[utoipa::path(tag = "bot", security(("bearer" = [])), request_body = FromConfigBody, responses((status = 201, body = Data<TemplateView>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[post("/admin/bot-templates/from-config")]
pub async fn from_config(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<FromConfigBody>,
) -> ApiResult<HttpResponse> {
    require_super(&caller)?;
    let b = body.into_inner();
    if let Some(org) = &b.org_id {
        use crate::api::refs::{Kind, require};
        require(state.db(), &caller.org_id, "orgId", Kind::Organization, org).await?;
    }
    let org_id = b.org_id.unwrap_or_else(|| caller.org_id.clone());
    let t = templates::from_config(&state, &org_id, b.name, b.slug).await?;
    Ok(HttpResponse::Created().json(Data::new(view(&t))))
}

/// Change a template (SUPER_ADMIN).
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), request_body = TemplateBody, responses((status = 200, body = Data<TemplateView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[put("/admin/bot-templates/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<TemplateBody>,
) -> ApiResult<HttpResponse> {
    require_super(&caller)?;
    let t = templates::update(state.db(), &id, body.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(Data::new(view(&t))))
}

/// Delete a template (SUPER_ADMIN); configs imported from it stay.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/admin/bot-templates/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    require_super(&caller)?;
    templates::delete(state.db(), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Published templates.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<TemplateView>>)))]
#[get("/bot-templates")]
pub async fn published(state: web::Data<AppState>, _caller: Caller) -> ApiResult<HttpResponse> {
    let rows = templates::list(state.db(), true).await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(view).collect::<Vec<_>>())))
}

/// Import a published template as a new draft config of the organization.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 201, body = Data<Imported>), (status = 404, body = crate::error::ErrorBody)))]
#[post("/bot-templates/import/{id}")]
pub async fn import(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let report = templates::import(&state, &caller.org_id, &id, caller.user_id.clone()).await?;
    Ok(HttpResponse::Created().json(Data::new(portable::imported(&state, report).await?)))
}
