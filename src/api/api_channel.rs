//! The API channel's inbound side: the business's system posts its customers' messages and
//! reports on ours, authenticated by the inbox's token (the inbox follows from it).

use actix_web::{HttpRequest, HttpResponse, post, web};
use actors::views::MessageView;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use crate::channels::api::inbound::{self, ContactInput, MessageInput, Reported};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(receive).service(status).service(csat);
}

/// The token after `Bearer `, if any.
fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))
}

/// The customer as the business's system knows them.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiContact {
    /// The system's own id of the customer: one contact per inbox and id.
    pub source_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiMessage {
    /// The system's id of the message: a repeat is not stored again.
    pub message_id: String,
    pub contact: ApiContact,
    /// `text`.
    #[serde(rename = "type")]
    pub kind: String,
    /// 1 to 4096 characters.
    pub text: String,
    /// When the customer sent it; default: now.
    pub sent_at: Option<DateTime<Utc>>,
}

/// Post a customer's message into the inbox of the token: 201 when stored, 200 with the same
/// message when its `messageId` was stored before.
#[utoipa::path(
    tag = "api-channel",
    security(("inboxToken" = [])),
    request_body = ApiMessage,
    responses(
        (status = 201, description = "Stored", body = Data<MessageView>),
        (status = 200, description = "This messageId was stored before; the message as stored", body = Data<MessageView>),
        (status = 400, description = "A field at fault", body = crate::error::ErrorBody),
        (status = 401, description = "No token, or not an API inbox's token", body = crate::error::ErrorBody),
        (status = 403, description = "The inbox is turned off", body = crate::error::ErrorBody),
    )
)]
#[post("/api-channel/messages")]
pub async fn receive(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ApiMessage>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let c = b.contact;
    let contact = ContactInput { source_id: c.source_id, name: c.name, email: c.email, phone: c.phone };
    let input = MessageInput { message_id: b.message_id, contact, kind: b.kind, text: b.text, sent_at: b.sent_at };
    let received = inbound::receive(&state, bearer(&req), input).await?;
    let mut res = if received.created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(res.json(Data::new(received.message)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportedStatus {
    Delivered,
    Read,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    /// `delivered` or `read`; a later state is kept (a late `delivered` never undoes `read`).
    pub status: ReportedStatus,
}

/// Report that one of our messages (an id from a webhook's `message.created`) reached the
/// customer or was read.
#[utoipa::path(
    tag = "api-channel",
    security(("inboxToken" = [])),
    params(("id" = String, Path, description = "Our message id")),
    request_body = StatusReport,
    responses(
        (status = 200, description = "The message with its status", body = Data<MessageView>),
        (status = 400, description = "A field at fault", body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, description = "The inbox is turned off", body = crate::error::ErrorBody),
        (status = 404, description = "No message of ours in this inbox", body = crate::error::ErrorBody),
    )
)]
#[post("/api-channel/messages/{id}/status")]
pub async fn status(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<StatusReport>,
) -> ApiResult<HttpResponse> {
    let reported = match body.into_inner().status {
        ReportedStatus::Delivered => Reported::Delivered,
        ReportedStatus::Read => Reported::Read,
    };
    let message = inbound::report_status(&state, bearer(&req), &id, reported).await?;
    Ok(HttpResponse::Ok().json(Data::new(message)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsatAnswer {
    /// 1 (very poor) to 5 (excellent).
    pub rating: i32,
    /// At most 2,000 characters.
    pub comment: Option<String>,
}

/// The customer's answer to a satisfaction survey (a `csat` message we sent): their rating of
/// the conversation. Answering again replaces the rating.
#[utoipa::path(
    tag = "api-channel",
    security(("inboxToken" = [])),
    params(("id" = String, Path, description = "The conversation the survey was sent in")),
    request_body = CsatAnswer,
    responses(
        (status = 200, description = "The stored rating", body = Data<actors::conversation::csat::RatingView>),
        (status = 400, description = "A field at fault", body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, description = "No conversation of this inbox", body = crate::error::ErrorBody),
        (status = 409, description = "The conversation was sent no survey", body = crate::error::ErrorBody),
    )
)]
#[post("/api-channel/conversations/{id}/csat")]
pub async fn csat(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<CsatAnswer>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let rating = inbound::rate(&state, bearer(&req), &id, b.rating, b.comment).await?;
    Ok(HttpResponse::Ok().json(Data::new(rating)))
}
