//! Templates as the organization keeps them: local drafts, submission to Meta, edits, removal,
//! duplicates and bulk actions. Meta's answer decides a submitted template's status; webhooks
//! and syncs (`sync`) keep it current.

use chrono::Utc;
use entities::enums::{TemplateCategory, TemplateStatus};
use entities::{whatsapp_account, whatsapp_template};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::meta::{self, Submission};
use super::params::{self, Slot};
use super::rules::{self, Component, Problem};
use crate::channels::whatsapp::accounts;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// Most templates one bulk request may name.
pub const MAX_BULK: usize = 500;

/// A template as the API shows it.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct MessageTemplateView {
    pub id: String,
    pub account_id: Option<String>,
    pub waba_id: Option<String>,
    /// Meta's id, once submitted.
    pub meta_id: Option<String>,
    pub name: String,
    pub language: String,
    pub category: String,
    /// POSITIONAL (`{{1}}`) or NAMED (`{{first_name}}`).
    pub parameter_format: String,
    pub components: Vec<Component>,
    /// DRAFT, PENDING, APPROVED, REJECTED, PAUSED, DISABLED, IN_APPEAL or REMOVED.
    pub status: String,
    pub rejected_reason: Option<String>,
    /// GREEN, YELLOW, RED or UNKNOWN.
    pub quality: Option<String>,
    pub previous_category: Option<String>,
    /// Where the stored header file is served, if there is one.
    pub header_media_url: Option<String>,
    /// The values a send of it needs.
    pub parameters: Vec<Slot>,
    pub created_by: Option<String>,
    pub submitted_at: Option<chrono::DateTime<Utc>>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

/// The components a row holds (an unreadable value, never written so, reads as none).
pub fn components_of(t: &whatsapp_template::Model) -> Vec<Component> {
    serde_json::from_str(&t.components).unwrap_or_default()
}

impl From<&whatsapp_template::Model> for MessageTemplateView {
    fn from(t: &whatsapp_template::Model) -> Self {
        let components = components_of(t);
        MessageTemplateView {
            id: t.id.clone(),
            account_id: t.account_id.clone(),
            waba_id: t.waba_id.clone(),
            meta_id: t.meta_id.clone(),
            name: t.name.clone(),
            language: t.language.clone(),
            category: t.category.to_string(),
            parameter_format: t.parameter_format.clone(),
            parameters: params::slots(&components),
            components,
            status: t.status.to_string(),
            rejected_reason: t.rejected_reason.clone(),
            quality: t.quality.clone(),
            previous_category: t.previous_category.clone(),
            header_media_url: t.header_media_path.as_ref().map(|_| format!("/api/v1/templates/{}/header-media", t.id)),
            created_by: t.created_by.clone(),
            submitted_at: t.submitted_at,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// What a create or an edit gives. Absent fields keep their value on an edit.
#[derive(Deserialize, ToSchema, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct TemplateInput {
    /// The connected number whose business account holds the template; may be left out when the
    /// organization has one.
    pub account_id: Option<String>,
    pub name: Option<String>,
    /// A language code such as `en` or `en_US`.
    pub language: Option<String>,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: Option<String>,
    pub components: Option<Vec<Component>>,
    /// A header file from `POST /templates/upload-media` (its `file`).
    pub header_file: Option<String>,
}

/// One problem list as a field error: the first problem's field, every message.
pub fn invalid(problems: Vec<Problem>) -> Error {
    let field = problems.first().map(|p| p.field.clone()).unwrap_or_else(|| "body".into());
    let message = problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; ");
    Error::invalid(field, message)
}

/// Which templates a list shows.
#[derive(Default)]
pub struct Filter {
    pub status: Option<TemplateStatus>,
    pub category: Option<TemplateCategory>,
    pub language: Option<String>,
    pub account_id: Option<String>,
    /// Name contains this.
    pub search: Option<String>,
}

fn live(org_id: &str) -> sea_orm::Select<whatsapp_template::Entity> {
    whatsapp_template::Entity::find()
        .filter(whatsapp_template::Column::OrgId.eq(org_id))
        .filter(whatsapp_template::Column::Status.ne(TemplateStatus::Removed.as_str()))
}

/// A page of the organization's templates (removed ones only when asked for), by name, and the
/// total.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: &str,
    f: Filter,
    skip: u64,
    size: u64,
) -> Result<(Vec<whatsapp_template::Model>, u64)> {
    let mut q = match f.status {
        Some(TemplateStatus::Removed) => whatsapp_template::Entity::find()
            .filter(whatsapp_template::Column::OrgId.eq(org_id))
            .filter(whatsapp_template::Column::Status.eq(TemplateStatus::Removed.as_str())),
        Some(s) => live(org_id).filter(whatsapp_template::Column::Status.eq(s.as_str())),
        None => live(org_id),
    };
    if let Some(c) = f.category {
        q = q.filter(whatsapp_template::Column::Category.eq(c.as_str()));
    }
    if let Some(l) = f.language.filter(|l| !l.is_empty()) {
        q = q.filter(whatsapp_template::Column::Language.eq(l));
    }
    if let Some(a) = f.account_id.filter(|a| !a.is_empty()) {
        q = q.filter(whatsapp_template::Column::AccountId.eq(a));
    }
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(actors::store::text::contains((whatsapp_template::Entity, whatsapp_template::Column::Name), s));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(whatsapp_template::Column::Name)
        .order_by_asc(whatsapp_template::Column::Language)
        .offset(skip)
        .limit(size)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// One of the organization's templates (removed ones included: messages name them).
pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<whatsapp_template::Model> {
    whatsapp_template::Entity::find_by_id(id.to_owned())
        .filter(whatsapp_template::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("template"))
}

/// The account a new template belongs to: the one named, or the organization's only one; none
/// while no number is connected (a draft can wait for one).
async fn account_for(
    db: &impl ConnectionTrait,
    org_id: &str,
    account_id: Option<&str>,
) -> Result<Option<whatsapp_account::Model>> {
    if let Some(id) = account_id.filter(|a| !a.is_empty()) {
        return match accounts::get(db, org_id, id).await? {
            Some(a) => Ok(Some(a)),
            None => {
                Err(Error::invalid("accountId", "accountId names no connected WhatsApp account of this organization"))
            }
        };
    }
    let mut all = accounts::list(db, org_id).await?;
    match all.len() {
        0 | 1 => Ok(all.pop()),
        _ => Err(Error::invalid(
            "accountId",
            "this organization has several WhatsApp numbers: say which one's business account holds the template",
        )),
    }
}

/// The account and token a Meta call on this template goes through.
pub(super) async fn credentials(
    state: &AppState,
    t: &whatsapp_template::Model,
) -> Result<(whatsapp_account::Model, String)> {
    let account = match &t.account_id {
        Some(id) => accounts::get(state.db(), &t.org_id, id).await?,
        None => None,
    }
    .ok_or_else(|| {
        Error::Conflict(
            "the template's WhatsApp number is not connected: connect it, or give the draft an account".into(),
        )
    })?;
    let token = state
        .secrets
        .decrypt(&account.access_token_enc)
        .map_err(|e| Error::Internal(format!("the account's access token cannot be read: {e}")))?;
    Ok((account, token))
}

fn parse_category(c: Option<&str>) -> Result<TemplateCategory> {
    let c =
        c.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| Error::invalid("category", "category is required"))?;
    TemplateCategory::parse(&c.to_ascii_uppercase())
        .ok_or_else(|| Error::invalid("category", "category is MARKETING, UTILITY or AUTHENTICATION"))
}

/// POSITIONAL unless the template names its parameters.
fn parameter_format(components: &[Component]) -> &'static str {
    let named = params::slots(components).iter().any(|s| s.place != "button" && s.name.parse::<u32>().is_err());
    if named { "NAMED" } else { "POSITIONAL" }
}

/// A header file uploaded for templates: its store path and MIME type, if `file` names one of
/// this organization's.
async fn header_file(state: &AppState, org_id: &str, file: &str) -> Result<(String, String)> {
    let ok =
        !file.is_empty() && file.len() <= 80 && file.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    let path = format!("templates/{org_id}/{file}");
    if !ok || state.media.get(&path).await.is_err() {
        return Err(Error::invalid(
            "headerFile",
            "headerFile names no file uploaded with POST /templates/upload-media",
        ));
    }
    Ok((path, crate::media::guess_mime(file).to_owned()))
}

/// A new row from an input; `full` applies all of Meta's rules (a draft only needs a name,
/// language and category).
async fn new_row(
    state: &AppState,
    org_id: &str,
    user_id: Option<&str>,
    input: TemplateInput,
    full: bool,
) -> Result<whatsapp_template::Model> {
    // The ids a body names are checked first: naming another organization's is the fault.
    let account = account_for(state.db(), org_id, input.account_id.as_deref()).await?;
    let name = input.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let language = input.language.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let category = parse_category(input.category.as_deref())?;
    let components = input.components.unwrap_or_default();
    let mut problems = rules::validate(&name, &language, category, &components);
    if !full {
        problems.retain(|p| p.field == "name" || p.field == "language");
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let (header_path, header_mime) = match input.header_file.as_deref() {
        Some(f) => {
            let (p, m) = header_file(state, org_id, f).await?;
            (Some(p), Some(m))
        }
        None => (None, None),
    };
    let now = Utc::now();
    Ok(whatsapp_template::Model {
        id: actors::new_id(),
        org_id: org_id.to_owned(),
        account_id: account.as_ref().map(|a| a.id.clone()),
        waba_id: account.map(|a| a.waba_id),
        meta_id: None,
        name,
        language,
        category,
        parameter_format: parameter_format(&components).into(),
        components: serde_json::to_string(&components).map_err(|e| Error::Internal(e.to_string()))?,
        status: TemplateStatus::Draft,
        rejected_reason: None,
        quality: None,
        previous_category: None,
        header_media_path: header_path,
        header_media_mime: header_mime,
        created_by: user_id.map(str::to_owned),
        submitted_at: None,
        created_at: now,
        updated_at: now,
    })
}

fn taken(e: DbErr, name: &str, language: &str) -> Error {
    if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
        Error::Conflict(format!("a template named {name} in {language} already exists on this account"))
    } else {
        Error::Db(e)
    }
}

async fn insert(db: &impl ConnectionTrait, row: whatsapp_template::Model) -> Result<whatsapp_template::Model> {
    let (name, language) = (row.name.clone(), row.language.clone());
    whatsapp_template::ActiveModel::from(row).reset_all().insert(db).await.map_err(|e| taken(e, &name, &language))
}

/// TEMPLATES-4: saves a draft; nothing goes to Meta.
pub async fn save_draft(
    state: &AppState,
    org_id: &str,
    user_id: Option<&str>,
    input: TemplateInput,
) -> Result<whatsapp_template::Model> {
    let row = new_row(state, org_id, user_id, input, false).await?;
    insert(state.db(), row).await
}

/// TEMPLATES-3: creates a template and submits it to Meta at once. Nothing is kept when Meta
/// refuses it.
pub async fn create(
    state: &AppState,
    org_id: &str,
    user_id: Option<&str>,
    input: TemplateInput,
) -> Result<whatsapp_template::Model> {
    let row = new_row(state, org_id, user_id, input, true).await?;
    let row = insert(state.db(), row).await?;
    let id = row.id.clone();
    match submit_row(state, row).await {
        Ok(t) => Ok(t),
        Err(e) => {
            whatsapp_template::Entity::delete_by_id(id).exec(state.db()).await?;
            Err(e)
        }
    }
}

/// TEMPLATES-5: changes a draft.
pub async fn update_draft(
    state: &AppState,
    org_id: &str,
    id: &str,
    input: TemplateInput,
) -> Result<whatsapp_template::Model> {
    let t = get(state.db(), org_id, id).await?;
    if t.status != TemplateStatus::Draft {
        return Err(Error::Conflict(format!(
            "the template is {}, not a draft: edit it with PUT /templates/{{id}} (Meta reviews it again)",
            t.status
        )));
    }
    let merged = TemplateInput {
        account_id: input.account_id.or(t.account_id.clone()),
        name: input.name.or(Some(t.name.clone())),
        language: input.language.or(Some(t.language.clone())),
        category: input.category.or(Some(t.category.to_string())),
        components: input.components.or(Some(components_of(&t))),
        header_file: input.header_file,
    };
    let fresh = new_row(state, org_id, t.created_by.as_deref(), merged, false).await?;
    let mut am = t.clone().into_active_model();
    am.account_id = Set(fresh.account_id);
    am.waba_id = Set(fresh.waba_id);
    am.name = Set(fresh.name.clone());
    am.language = Set(fresh.language.clone());
    am.category = Set(fresh.category);
    am.parameter_format = Set(fresh.parameter_format);
    am.components = Set(fresh.components);
    if fresh.header_media_path.is_some() {
        am.header_media_path = Set(fresh.header_media_path);
        am.header_media_mime = Set(fresh.header_media_mime);
    }
    am.updated_at = Set(Utc::now());
    am.update(state.db()).await.map_err(|e| taken(e, &fresh.name, &fresh.language))
}

/// TEMPLATES-6: submits a draft for Meta's review.
pub async fn submit(state: &AppState, org_id: &str, id: &str) -> Result<whatsapp_template::Model> {
    let t = get(state.db(), org_id, id).await?;
    if t.status != TemplateStatus::Draft {
        return Err(Error::Conflict(format!("the template is {}: only a draft is submitted", t.status)));
    }
    let problems = rules::validate(&t.name, &t.language, t.category, &components_of(&t));
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    submit_row(state, t).await
}

/// Claims the draft (so two submits cannot both reach Meta), submits it, and keeps Meta's
/// answer; the draft stays a draft if Meta refuses.
async fn submit_row(state: &AppState, t: whatsapp_template::Model) -> Result<whatsapp_template::Model> {
    let (account, token) = credentials(state, &t).await?;
    let now = Utc::now();
    let claimed = whatsapp_template::Entity::update_many()
        .col_expr(whatsapp_template::Column::Status, Expr::value(TemplateStatus::Pending.as_str()))
        .col_expr(whatsapp_template::Column::SubmittedAt, Expr::value(now))
        .filter(whatsapp_template::Column::Id.eq(t.id.clone()))
        .filter(whatsapp_template::Column::Status.eq(TemplateStatus::Draft.as_str()))
        .exec(state.db())
        .await?;
    if claimed.rows_affected == 0 {
        return Err(Error::Conflict("the template is being submitted already".into()));
    }
    let components = components_of(&t);
    let submission = Submission {
        name: &t.name,
        language: &t.language,
        category: t.category.as_str(),
        parameter_format: &t.parameter_format,
        components: &components,
    };
    let created = match state.graph.create_template(&account.waba_id, &token, &submission).await {
        Ok(c) => c,
        Err(e) => {
            let mut am = t.into_active_model();
            am.status = Set(TemplateStatus::Draft);
            am.submitted_at = Set(None);
            am.update(state.db()).await?;
            return Err(meta::refused(e));
        }
    };
    let mut am = t.into_active_model();
    am.meta_id = Set(Some(created.id));
    am.waba_id = Set(Some(account.waba_id));
    am.status = Set(created.status.as_deref().and_then(TemplateStatus::parse).unwrap_or(TemplateStatus::Pending));
    if let Some(c) = created.category.as_deref().and_then(TemplateCategory::parse) {
        am.category = Set(c);
    }
    am.submitted_at = Set(Some(now));
    am.updated_at = Set(Utc::now());
    Ok(am.update(state.db()).await?)
}

/// TEMPLATES-8: changes a template Meta holds (its components, and its category while it is
/// not approved); Meta reviews it again, so it turns PENDING. Name and language cannot change.
pub async fn edit(state: &AppState, org_id: &str, id: &str, input: TemplateInput) -> Result<whatsapp_template::Model> {
    let t = get(state.db(), org_id, id).await?;
    if let Some(named) = input.account_id.as_deref().filter(|a| !a.is_empty())
        && let Some(a) = account_for(state.db(), org_id, Some(named)).await?
        && t.account_id.as_deref() != Some(a.id.as_str())
    {
        return Err(Error::invalid("accountId", "a submitted template stays on its business account"));
    }
    let Some(meta_id) = t.meta_id.clone() else {
        return Err(Error::Conflict("the template is a draft: change it with PUT /templates/{id}/draft".into()));
    };
    if !matches!(t.status, TemplateStatus::Approved | TemplateStatus::Rejected | TemplateStatus::Paused) {
        return Err(Error::Conflict(format!(
            "Meta lets approved, rejected or paused templates be edited; this one is {}",
            t.status
        )));
    }
    if input.name.as_deref().is_some_and(|n| n.trim() != t.name) {
        return Err(Error::invalid("name", "a submitted template keeps its name: duplicate it to use another"));
    }
    if input.language.as_deref().is_some_and(|l| l.trim() != t.language) {
        return Err(Error::invalid("language", "a submitted template keeps its language"));
    }
    let category = match input.category.as_deref() {
        Some(c) => parse_category(Some(c))?,
        None => t.category,
    };
    if category != t.category && t.status == TemplateStatus::Approved {
        return Err(Error::invalid("category", "Meta does not let an approved template change its category"));
    }
    let components = input.components.unwrap_or_else(|| components_of(&t));
    let problems = rules::validate(&t.name, &t.language, category, &components);
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let (_, token) = credentials(state, &t).await?;
    state.graph.edit_template(&meta_id, &token, category.as_str(), &components).await.map_err(meta::refused)?;
    let mut am = t.into_active_model();
    am.category = Set(category);
    am.parameter_format = Set(parameter_format(&components).into());
    am.components = Set(serde_json::to_string(&components).map_err(|e| Error::Internal(e.to_string()))?);
    am.status = Set(TemplateStatus::Pending);
    am.rejected_reason = Set(None);
    am.updated_at = Set(Utc::now());
    Ok(am.update(state.db()).await?)
}

/// Marks a template REMOVED; the messages that used it keep their text.
async fn mark_removed(db: &impl ConnectionTrait, t: whatsapp_template::Model) -> Result<whatsapp_template::Model> {
    let mut am = t.into_active_model();
    am.status = Set(TemplateStatus::Removed);
    am.updated_at = Set(Utc::now());
    Ok(am.update(db).await?)
}

/// TEMPLATES-7: removes a template here only (Meta keeps its copy).
pub async fn remove(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<whatsapp_template::Model> {
    let t = get(db, org_id, id).await?;
    if t.status == TemplateStatus::Removed {
        return Ok(t);
    }
    mark_removed(db, t).await
}

/// TEMPLATES-14: deletes a template at Meta, then removes it here. A template Meta no longer
/// has is removed all the same.
pub async fn delete_at_meta(state: &AppState, org_id: &str, id: &str) -> Result<whatsapp_template::Model> {
    let t = get(state.db(), org_id, id).await?;
    if let Some(meta_id) = t.meta_id.clone().filter(|_| t.status != TemplateStatus::Removed) {
        let (account, token) = credentials(state, &t).await?;
        match state.graph.delete_template(&account.waba_id, &token, &t.name, &meta_id).await {
            Ok(()) => {}
            Err(e) if e.code == "100" && e.message.to_ascii_lowercase().contains("not") => {
                tracing::info!(template_id = %t.id, "template already gone at Meta");
            }
            Err(e) => return Err(meta::refused(e)),
        }
    }
    if t.status == TemplateStatus::Removed {
        return Ok(t);
    }
    mark_removed(state.db(), t).await
}

/// TEMPLATES-13: a copy as a new draft, named `<name>_copy` (then `_copy_2`, `_copy_3`…).
pub async fn duplicate(
    db: &impl ConnectionTrait,
    org_id: &str,
    user_id: Option<&str>,
    id: &str,
) -> Result<whatsapp_template::Model> {
    let t = get(db, org_id, id).await?;
    let base: String = format!("{}_copy", t.name.chars().take(500).collect::<String>());
    for n in 1..=50 {
        let name = if n == 1 { base.clone() } else { format!("{base}_{n}") };
        let exists = live(org_id)
            .filter(whatsapp_template::Column::Name.eq(name.clone()))
            .filter(whatsapp_template::Column::Language.eq(t.language.clone()))
            .filter(match &t.account_id {
                Some(a) => whatsapp_template::Column::AccountId.eq(a.clone()),
                None => whatsapp_template::Column::AccountId.is_null(),
            })
            .count(db)
            .await?
            > 0;
        if exists {
            continue;
        }
        let now = Utc::now();
        let row = whatsapp_template::Model {
            id: actors::new_id(),
            name,
            meta_id: None,
            status: TemplateStatus::Draft,
            rejected_reason: None,
            quality: None,
            previous_category: None,
            created_by: user_id.map(str::to_owned),
            submitted_at: None,
            created_at: now,
            updated_at: now,
            ..t.clone()
        };
        return insert(db, row).await;
    }
    Err(Error::Conflict("too many copies of this template already: rename one".into()))
}

/// TEMPLATES-1: the stored header file and its MIME type.
pub async fn header_media(state: &AppState, org_id: &str, id: &str) -> Result<(Vec<u8>, String)> {
    let t = get(state.db(), org_id, id).await?;
    let path = t.header_media_path.ok_or(Error::NotFound("header media"))?;
    let bytes = state.media.get(&path).await.map_err(|_| Error::NotFound("header media"))?;
    Ok((bytes, t.header_media_mime.unwrap_or_else(|| "application/octet-stream".into())))
}

/// What a bulk request does to each template.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    /// Remove here (TEMPLATES-7).
    Delete,
    /// Delete at Meta and remove here (TEMPLATES-14).
    DeleteMeta,
    /// Submit drafts for review (TEMPLATES-6).
    Submit,
    /// Copy as drafts (TEMPLATES-13).
    Duplicate,
}

#[derive(Serialize, ToSchema, Default)]
#[schema(as = TemplateBulkResult)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    pub succeeded: Vec<String>,
    pub failed: Vec<BulkFailure>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = TemplateBulkFailure)]
pub struct BulkFailure {
    pub id: String,
    pub reason: String,
}

/// TEMPLATES-15: applies `action` to each named template (or each matching `filter`, at most
/// [`MAX_BULK`]) and reports each one; an id that names no template of the organization is a
/// fault of the request and nothing is done.
pub async fn bulk(
    state: &AppState,
    org_id: &str,
    user_id: Option<&str>,
    action: BulkAction,
    ids: Option<Vec<String>>,
    filter: Filter,
) -> Result<BulkResult> {
    let ids = match ids {
        Some(ids) => {
            if ids.is_empty() || ids.len() > MAX_BULK {
                return Err(Error::invalid("selection.ids", format!("name 1 to {MAX_BULK} templates")));
            }
            let found = whatsapp_template::Entity::find()
                .filter(whatsapp_template::Column::OrgId.eq(org_id))
                .filter(whatsapp_template::Column::Id.is_in(ids.clone()))
                .count(state.db())
                .await?;
            let mut distinct = ids.clone();
            distinct.sort();
            distinct.dedup();
            if found != distinct.len() as u64 {
                return Err(Error::invalid(
                    "selection.ids",
                    "selection.ids names a template that is not this organization's",
                ));
            }
            distinct
        }
        None => list(state.db(), org_id, filter, 0, MAX_BULK as u64).await?.0.into_iter().map(|t| t.id).collect(),
    };
    let mut out = BulkResult::default();
    for id in ids {
        let r = match action {
            BulkAction::Delete => remove(state.db(), org_id, &id).await.map(|_| ()),
            BulkAction::DeleteMeta => delete_at_meta(state, org_id, &id).await.map(|_| ()),
            BulkAction::Submit => submit(state, org_id, &id).await.map(|_| ()),
            BulkAction::Duplicate => duplicate(state.db(), org_id, user_id, &id).await.map(|_| ()),
        };
        match r {
            Ok(()) => out.succeeded.push(id),
            Err(e) => out.failed.push(BulkFailure { id, reason: e.to_string() }),
        }
    }
    Ok(out)
}

/// Largest header file accepted (Meta takes images up to 5 MB, videos up to 16 MB).
pub const MAX_HEADER_BYTES: usize = 16 * 1024 * 1024;

/// What a header upload answers: the file to name in a template (`headerFile`) and Meta's
/// handle for its example (`example.header_handle`).
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct HeaderUpload {
    pub file: String,
    pub handle: String,
    /// IMAGE, VIDEO or DOCUMENT: the header format it fits.
    pub format: String,
    pub mime: String,
    pub size: usize,
}

/// The header format and file extension of a file Meta takes as a template header, judged by
/// its first bytes (a name or a claimed type can lie).
fn header_kind(bytes: &[u8]) -> Option<(&'static str, &'static str, &'static str, usize)> {
    const MB: usize = 1024 * 1024;
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("IMAGE", "jpg", "image/jpeg", 5 * MB))
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        Some(("IMAGE", "png", "image/png", 5 * MB))
    } else if bytes.len() > 8 && &bytes[4..8] == b"ftyp" {
        Some(("VIDEO", "mp4", "video/mp4", 16 * MB))
    } else if bytes.starts_with(b"%PDF") {
        Some(("DOCUMENT", "pdf", "application/pdf", 16 * MB))
    } else {
        None
    }
}

/// TEMPLATES-11: uploads a header example file to Meta (the resumable upload of the
/// organization's Meta app) and keeps it here, for the template's header and for sends.
pub async fn upload_header(
    state: &AppState,
    org_id: &str,
    account_id: Option<&str>,
    bytes: Vec<u8>,
    filename: Option<&str>,
) -> Result<HeaderUpload> {
    let account = account_for(state.db(), org_id, account_id).await?;
    let (format, ext, mime, max) = header_kind(&bytes)
        .ok_or_else(|| Error::invalid("file", "the file is not a JPEG or PNG image, an MP4 video or a PDF document"))?;
    if bytes.len() > max {
        return Err(Error::TooLarge(format!(
            "a {} header is at most {} MB",
            format.to_ascii_lowercase(),
            max / (1024 * 1024)
        )));
    }
    let account = account.ok_or_else(|| {
        Error::Conflict("connect a WhatsApp number first: Meta keeps the file for its business account".into())
    })?;
    let app_id = crate::channels::whatsapp::signup::meta_config(state, org_id).await?.app_id.ok_or_else(|| {
        Error::Conflict("set the Meta app id in the WhatsApp settings first: Meta's upload belongs to the app".into())
    })?;
    let token = state
        .secrets
        .decrypt(&account.access_token_enc)
        .map_err(|e| Error::Internal(format!("the account's access token cannot be read: {e}")))?;
    let name = filename.map(str::to_owned).unwrap_or_else(|| format!("header.{ext}"));
    let size = bytes.len();
    let handle = state.graph.upload_handle(&app_id, &token, bytes.clone(), mime, &name).await.map_err(meta::refused)?;
    let file = format!("{}.{ext}", actors::new_id());
    state
        .media
        .put(&format!("templates/{org_id}/{file}"), bytes)
        .await
        .map_err(|e| Error::Internal(format!("could not keep the header file: {e}")))?;
    Ok(HeaderUpload { file, handle, format: format.into(), mime: mime.into(), size })
}
