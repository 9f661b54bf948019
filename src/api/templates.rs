//! TEMPLATES-1..15: WhatsApp message templates. Drafts are local; submitting, editing and
//! deleting at Meta go through the Graph API; a send goes through the conversation's actor and
//! the outbox, and is allowed outside the 24-hour window.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use actors::views::MessageView;
use entities::enums::{TemplateCategory, TemplateStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::pagination::{Pagination, numbered};
use crate::auth::Caller;
use crate::channels::whatsapp::templates::send::{self, PhoneSend, SendToConversation, SendToPhone};
use crate::channels::whatsapp::templates::store::{
    self, BulkAction, BulkResult, Filter, HeaderUpload, MessageTemplateView, TemplateInput,
};
use crate::channels::whatsapp::templates::sync::{self, SyncReport};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(save_draft)
        .service(sync_all)
        .service(upload_media)
        .service(bulk)
        .service(get_one)
        .service(header_media)
        .service(update_draft)
        .service(submit)
        .service(edit)
        .service(remove)
        .service(remove_at_meta)
        .service(duplicate)
        .service(send_to_conversation)
        .service(send_to_phone);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// DRAFT, PENDING, APPROVED, REJECTED, PAUSED, DISABLED, IN_APPEAL, REMOVED, or `all`
    /// (default: every template that is not removed).
    status: Option<String>,
    /// MARKETING, UTILITY or AUTHENTICATION.
    category: Option<String>,
    language: Option<String>,
    account_id: Option<String>,
    /// Name contains this.
    search: Option<String>,
    /// 1-based page, default 1.
    page: Option<u64>,
    /// Default 50, at most 100.
    limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct TemplatePage {
    pub data: Vec<MessageTemplateView>,
    pub pagination: Pagination,
}

impl ListQuery {
    fn filter(&self) -> Result<Filter, ApiError> {
        let status = match self.status.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("") | Some("ALL") => None,
            Some(s) => Some(TemplateStatus::parse(s).ok_or_else(|| {
                ApiError::validation(
                    "status",
                    "status is DRAFT, PENDING, APPROVED, REJECTED, PAUSED, DISABLED, IN_APPEAL, REMOVED or all",
                )
            })?),
        };
        let category =
            match self.category.as_deref().filter(|c| !c.is_empty()) {
                None => None,
                Some(c) => Some(TemplateCategory::parse(&c.to_ascii_uppercase()).ok_or_else(|| {
                    ApiError::validation("category", "category is MARKETING, UTILITY or AUTHENTICATION")
                })?),
            };
        Ok(Filter {
            status,
            category,
            language: self.language.clone(),
            account_id: self.account_id.clone(),
            search: self.search.clone(),
        })
    }
}

/// List the organization's templates by name (the composer asks for `status=APPROVED`).
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(ListQuery), responses((status = 200, body = TemplatePage), (status = 400, body = crate::error::ErrorBody)))]
#[get("/templates")]
pub async fn list(state: web::Data<AppState>, caller: Caller, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let (page, size, skip) = numbered(q.page, q.limit, 50)?;
    let (rows, total) = store::list(state.db(), &caller.org_id, q.filter()?, skip, size).await?;
    let data = rows.iter().map(MessageTemplateView::from).collect();
    Ok(HttpResponse::Ok().json(TemplatePage { data, pagination: Pagination::new(page, size, total) }))
}

/// One template.
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<MessageTemplateView>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/templates/{id}")]
pub async fn get_one(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let t = store::get(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(MessageTemplateView::from(&t))))
}

/// Create a template and submit it to Meta for review (admin only). Meta's rules are checked
/// first, with the field at fault; nothing is kept when Meta refuses it.
#[utoipa::path(tag = "templates", security(("bearer" = [])), request_body = TemplateInput, responses((status = 201, body = Data<MessageTemplateView>), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, description = "Meta refused it", body = crate::error::ErrorBody), (status = 503, description = "Meta could not be reached", body = crate::error::ErrorBody)))]
#[post("/templates")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TemplateInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = store::create(&state, &caller.org_id, caller.user_id.as_deref(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(Data::new(MessageTemplateView::from(&t))))
}

/// Save a template locally as a DRAFT; nothing goes to Meta (admin only).
#[utoipa::path(tag = "templates", security(("bearer" = [])), request_body = TemplateInput, responses((status = 201, body = Data<MessageTemplateView>), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/templates/draft")]
pub async fn save_draft(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TemplateInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = store::save_draft(&state, &caller.org_id, caller.user_id.as_deref(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(Data::new(MessageTemplateView::from(&t))))
}

/// Change a DRAFT (admin only); absent fields keep their value.
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = String, Path)), request_body = TemplateInput, responses((status = 200, body = Data<MessageTemplateView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "Not a draft", body = crate::error::ErrorBody)))]
#[put("/templates/{id}/draft")]
pub async fn update_draft(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<TemplateInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = store::update_draft(&state, &caller.org_id, &id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Data::new(MessageTemplateView::from(&t))))
}

/// Submit a DRAFT to Meta for review (admin only).
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<MessageTemplateView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
#[post("/templates/{id}/submit")]
pub async fn submit(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = store::submit(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(MessageTemplateView::from(&t))))
}

/// Edit an approved, rejected or paused template's components at Meta (admin only); Meta
/// reviews it again, so it turns PENDING.
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = String, Path)), request_body = TemplateInput, responses((status = 200, body = Data<MessageTemplateView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
#[put("/templates/{id}")]
pub async fn edit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<TemplateInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = store::edit(&state, &caller.org_id, &id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Data::new(MessageTemplateView::from(&t))))
}

/// Remove a template here (marked REMOVED; Meta keeps it) (admin only).
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<MessageTemplateView>), (status = 404, body = crate::error::ErrorBody)))]
#[delete("/templates/{id}")]
pub async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = store::remove(state.db(), &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(MessageTemplateView::from(&t))))
}

/// Delete a template at Meta and mark it REMOVED here (admin only).
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Data<MessageTemplateView>), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
#[delete("/templates/{id}/meta")]
pub async fn remove_at_meta(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = store::delete_at_meta(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().json(Data::new(MessageTemplateView::from(&t))))
}

/// Copy a template as a new DRAFT named `<name>_copy` (admin only).
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 201, body = Data<MessageTemplateView>), (status = 404, body = crate::error::ErrorBody)))]
#[post("/templates/{id}/duplicate")]
pub async fn duplicate(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let t = store::duplicate(state.db(), &caller.org_id, caller.user_id.as_deref(), &id).await?;
    Ok(HttpResponse::Created().json(Data::new(MessageTemplateView::from(&t))))
}

/// The template's stored header image, video or document.
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 404, body = crate::error::ErrorBody)))]
#[get("/templates/{id}/header-media")]
pub async fn header_media(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (bytes, mime) = store::header_media(&state, &caller.org_id, &id).await?;
    Ok(HttpResponse::Ok().content_type(mime).insert_header(("Cache-Control", "private, max-age=300")).body(bytes))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct SyncRequest {
    /// Only this number's business account (default: every connected one).
    pub account_id: Option<String>,
}

/// Read every template of the organization's business accounts from Meta and reconcile: new
/// ones added, changed ones updated, ones Meta no longer has marked REMOVED (admin only).
#[utoipa::path(tag = "templates", security(("bearer" = [])), request_body(content = Option<SyncRequest>), responses((status = 200, body = Data<SyncReport>), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/templates/sync")]
pub async fn sync_all(
    state: web::Data<AppState>,
    caller: Caller,
    body: Option<web::Json<SyncRequest>>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let account_id = body.and_then(|b| b.into_inner().account_id);
    let report = sync::sync(&state, &caller.org_id, account_id.as_deref()).await?;
    Ok(HttpResponse::Ok().json(Data::new(report)))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = TemplateBulkRequest)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkRequest {
    pub action: BulkAction,
    pub selection: BulkSelection,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = TemplateSelection)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkSelection {
    /// `ids`: the templates named; `filter`: every template matching (at most 500).
    pub mode: String,
    #[serde(default)]
    pub ids: Vec<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub search: Option<String>,
}

/// Delete (here or at Meta), submit or duplicate many templates (admin only); reports each.
#[utoipa::path(tag = "templates", security(("bearer" = [])), request_body = BulkRequest, responses((status = 200, body = Data<BulkResult>), (status = 400, body = crate::error::ErrorBody)))]
#[post("/templates/bulk")]
pub async fn bulk(state: web::Data<AppState>, caller: Caller, body: web::Json<BulkRequest>) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let BulkRequest { action, selection } = body.into_inner();
    let q = ListQuery {
        status: selection.status,
        category: selection.category,
        language: None,
        account_id: None,
        search: selection.search,
        page: None,
        limit: None,
    };
    let ids = match selection.mode.as_str() {
        "ids" => Some(selection.ids),
        "filter" => None,
        _ => return Err(ApiError::validation("selection.mode", "selection.mode is ids or filter")),
    };
    let result = store::bulk(&state, &caller.org_id, caller.user_id.as_deref(), action, ids, q.filter()?).await?;
    Ok(HttpResponse::Ok().json(Data::new(result)))
}

/// Send an approved template into a conversation, with its parameters; allowed outside the
/// 24-hour window. The message goes through the outbox like any reply (`Idempotency-Key`
/// makes a retried request send once).
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("name" = String, Path, description = "Template name"), ("Idempotency-Key" = Option<String>, Header)), request_body = SendToConversation, responses((status = 201, body = Data<MessageView>), (status = 400, description = "Bad or missing parameters, or conversationId names no conversation of the organization", body = crate::error::ErrorBody), (status = 404, description = "No such template", body = crate::error::ErrorBody), (status = 409, description = "Not approved (paused, disabled, pending…), or the conversation is closed", body = crate::error::ErrorBody)))]
#[post("/templates/{name}/send")]
pub async fn send_to_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Json<SendToConversation>,
) -> ApiResult<HttpResponse> {
    let key = super::messages::idempotency_key(&req)?;
    let view =
        send::to_conversation(&state, &caller.org_id, caller.user_id.as_deref(), &name, body.into_inner(), key).await?;
    Ok(HttpResponse::Created().json(Data::new(view)))
}

/// Send an approved template to a phone number: into the customer's open conversation, or a
/// new one.
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("name" = String, Path, description = "Template name"), ("Idempotency-Key" = Option<String>, Header)), request_body = SendToPhone, responses((status = 201, body = Data<PhoneSend>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/templates/{name}/send-to-phone")]
pub async fn send_to_phone(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Json<SendToPhone>,
) -> ApiResult<HttpResponse> {
    let key = super::messages::idempotency_key(&req)?;
    let sent = send::to_phone(&state, &caller.org_id, caller.user_id.as_deref(), &name, body.into_inner(), key).await?;
    Ok(HttpResponse::Created().json(Data::new(sent)))
}

/// Upload a header example file (JPEG or PNG image, MP4 video, PDF document) (admin only):
/// Meta's resumable upload of the organization's app answers the handle a media header's
/// example names; the file is kept here for sends. Form fields: `file`, optional `accountId`.
#[utoipa::path(tag = "templates", security(("bearer" = [])), request_body(content_type = "multipart/form-data", description = "`file`, optional `accountId`"), responses((status = 201, body = Data<HeaderUpload>), (status = 400, body = crate::error::ErrorBody), (status = 409, description = "No number connected, or no Meta app id set", body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody)))]
#[post("/templates/upload-media")]
pub async fn upload_media(
    state: web::Data<AppState>,
    caller: Caller,
    form: actix_multipart::Multipart,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let limits = super::multipart::Limits::files(&["file"], store::MAX_HEADER_BYTES);
    let mut form = super::multipart::read(form, limits).await?;
    let file = form.file("file")?;
    let account_id = form.field("accountId").map(str::to_owned);
    let up = store::upload_header(&state, &caller.org_id, account_id.as_deref(), file.bytes, file.filename.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(Data::new(up)))
}
