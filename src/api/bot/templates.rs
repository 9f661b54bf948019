//! ADMIN-BOT-TEMPLATES-1..7: bot templates the platform (SUPER_ADMIN) publishes, and their
//! import into an organization as a new draft config.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::Utc;
use entities::bot_template;
use entities::enums::Role;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use super::portable::{self, Imported};
use crate::auth::Caller;
use crate::bot::bundle::{self, Bundle, Tier};
use crate::bot::config;
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

async fn check(state: &AppState, t: &bot_template::Model) -> ApiResult<()> {
    if t.name.trim().is_empty() || t.name.chars().count() > 100 {
        return Err(ApiError::validation("name", "name is required and at most 100 characters"));
    }
    let slug_ok = !t.slug.is_empty()
        && t.slug.len() <= 60
        && t.slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !slug_ok {
        return Err(ApiError::validation("slug", "slug is 1-60 characters of a-z, 0-9 and -"));
    }
    let taken = bot_template::Entity::find()
        .filter(bot_template::Column::Slug.eq(t.slug.clone()))
        .filter(bot_template::Column::Id.ne(t.id.clone()))
        .one(state.db())
        .await?;
    if taken.is_some() {
        return Err(ApiError::Conflict(format!("the slug {:?} is taken", t.slug)));
    }
    Ok(())
}

fn new_template(name: String, slug: String, data: &Bundle) -> ApiResult<bot_template::Model> {
    let now = Utc::now();
    Ok(bot_template::Model {
        id: actors::new_id(),
        name,
        slug,
        description: None,
        category: None,
        data: serde_json::to_string(data).map_err(|e| ApiError::Internal(e.to_string()))?,
        published: false,
        created_at: now,
        updated_at: now,
    })
}

/// Every template, published or not (SUPER_ADMIN).
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<TemplateView>>), (status = 403, body = crate::error::ErrorBody)))]
#[get("/admin/bot-templates")]
pub async fn admin_list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    require_super(&caller)?;
    let rows = bot_template::Entity::find().order_by_asc(bot_template::Column::Name).all(state.db()).await?;
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
    let b = body.into_inner();
    let data = b.data.ok_or_else(|| ApiError::validation("data", "data (a bot export) is required"))?;
    if data.format != bundle::FORMAT {
        return Err(ApiError::validation("data", format!("data must be a {} export", bundle::FORMAT)));
    }
    data.config.settings.validate()?;
    let mut t = new_template(b.name.unwrap_or_default().trim().to_owned(), b.slug.unwrap_or_default(), &data)?;
    t.description = b.description.flatten();
    t.category = b.category.flatten();
    t.published = b.published.unwrap_or(false);
    check(&state, &t).await?;
    let t = bot_template::ActiveModel::from(t).insert(state.db()).await?;
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
    let c = config::current(state.db(), &org_id, None).await?;
    let data = crate::bot::portable::build(&state, &c, Tier::Standard).await?;
    let t =
        new_template(b.name.unwrap_or_else(|| c.name.clone()).trim().to_owned(), b.slug.unwrap_or_default(), &data)?;
    check(&state, &t).await?;
    let t = bot_template::ActiveModel::from(t).insert(state.db()).await?;
    Ok(HttpResponse::Created().json(Data::new(view(&t))))
}

async fn find(state: &AppState, id: &str) -> ApiResult<bot_template::Model> {
    bot_template::Entity::find_by_id(id.to_owned()).one(state.db()).await?.ok_or(ApiError::NotFound("template"))
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
    let mut t = find(&state, &id).await?;
    let b = body.into_inner();
    if let Some(n) = b.name {
        t.name = n.trim().to_owned();
    }
    if let Some(s) = b.slug {
        t.slug = s;
    }
    if let Some(d) = b.description {
        t.description = d;
    }
    if let Some(c) = b.category {
        t.category = c;
    }
    if let Some(p) = b.published {
        t.published = p;
    }
    if let Some(d) = b.data {
        d.config.settings.validate()?;
        t.data = serde_json::to_string(&d).map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    t.updated_at = Utc::now();
    check(&state, &t).await?;
    let t = bot_template::ActiveModel::from(t).reset_all().update(state.db()).await?;
    Ok(HttpResponse::Ok().json(Data::new(view(&t))))
}

/// Delete a template (SUPER_ADMIN); configs imported from it stay.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/admin/bot-templates/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    require_super(&caller)?;
    let t = find(&state, &id).await?;
    bot_template::Entity::delete_by_id(t.id).exec(state.db()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Published templates.
#[utoipa::path(tag = "bot", security(("bearer" = [])), responses((status = 200, body = Data<Vec<TemplateView>>)))]
#[get("/bot-templates")]
pub async fn published(state: web::Data<AppState>, _caller: Caller) -> ApiResult<HttpResponse> {
    let rows = bot_template::Entity::find()
        .filter(bot_template::Column::Published.eq(true))
        .order_by_asc(bot_template::Column::Name)
        .all(state.db())
        .await?;
    Ok(HttpResponse::Ok().json(Data::new(rows.iter().map(view).collect::<Vec<_>>())))
}

/// Import a published template as a new draft config of the organization.
#[utoipa::path(tag = "bot", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 201, body = Data<Imported>), (status = 404, body = crate::error::ErrorBody)))]
#[post("/bot-templates/import/{id}")]
pub async fn import(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = find(&state, &id).await?;
    if !t.published {
        return Err(ApiError::NotFound("template"));
    }
    let loaded = bundle::read(t.data.as_bytes()).map_err(ApiError::Internal)?;
    let report = crate::bot::portable::import_bundle(
        &state,
        &caller.org_id,
        caller.user_id.clone(),
        loaded,
        Some(t.name.clone()),
        false,
    )
    .await?;
    Ok(HttpResponse::Created().json(Data::new(portable::imported(&state, report).await?)))
}
