//! The Chatwoot-style API's envelope: success bodies are bare (an object, or `{"payload": […]}`
//! for lists), a refusal is `{"error": "<sentence>"}` with the native status. A field at fault
//! is named first, in this API's snake_case (`agent_bot: …`, `channel.widget_color: …`).
//! Authentication takes the `api_access_token: <API key | access token>` header, or
//! `Authorization: Bearer`; the path's `{account_id}` must be the caller's organization, any
//! other is 404. What the scope refuses by itself (a body, query or path serde cannot read, a
//! body over the limit, a path it does not serve) is answered in this shape too.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::auth::caller::{authenticate, bearer};
use crate::error::ApiError;
use crate::state::AppState;

/// The header Chatwoot clients authenticate with.
pub const TOKEN_HEADER: &str = "api_access_token";

/// The error body: `{"error": "Inbox not found"}`.
#[derive(Serialize, ToSchema)]
pub struct ChatwootErrorBody {
    /// What went wrong; a field at fault is named first (`name: …`).
    pub error: String,
}

/// An API error answered in the Chatwoot shape.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ChatwootError(#[from] pub ApiError);

pub type ChatwootResult<T> = Result<T, ChatwootError>;

impl From<crate::domain::Error> for ChatwootError {
    fn from(e: crate::domain::Error) -> Self {
        match e {
            crate::domain::Error::Invalid { field, message } => {
                ChatwootError(ApiError::validation(field_name(&field), message))
            }
            other => ChatwootError(other.into()),
        }
    }
}

impl From<sea_orm::DbErr> for ChatwootError {
    fn from(e: sea_orm::DbErr) -> Self {
        ChatwootError(e.into())
    }
}

/// The sentence of the body: `<field>: <why>` for a field at fault, else the message with a
/// capital first letter (`Inbox not found`, as the seed writes it).
fn sentence(e: &ApiError) -> String {
    let text = match e {
        ApiError::Validation { field, message } => return format!("{field}: {message}"),
        ApiError::Internal(_) => "something went wrong on our side; it has been logged".to_owned(),
        other => other.to_string(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

impl ResponseError for ChatwootError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        // The native response carries the status and headers (WWW-Authenticate, Retry-After)
        // and logs an internal cause; only its body is replaced.
        let native = self.0.error_response();
        let body = ChatwootErrorBody { error: sentence(&self.0) };
        native.set_body(BoxBody::new(serde_json::to_vec(&body).unwrap_or_default()))
    }
}

/// A refusal as this API says it: `{"error": message}` with `status`.
pub fn refusal(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(ChatwootErrorBody { error: message.to_owned() })
}

/// A field as the domain names it (camelCase, the native API's) in this API's words.
pub fn field_name(native: &str) -> String {
    let mapped = if native == "botConfigId" {
        "agent_bot".to_owned()
    } else if native == "wabaId" {
        "channel.provider_config.business_account_id".to_owned()
    } else if native == "phoneNumberId" {
        "channel.provider_config.phone_number_id".to_owned()
    } else if native == "accessToken" {
        "channel.provider_config.api_key".to_owned()
    } else if let Some(rest) = native.strip_prefix("widgetSettings.") {
        format!("channel.{rest}")
    } else if ["webhookUrl", "hmacMandatory"].contains(&native) {
        format!("channel.{native}")
    } else if native == "widgetSettings" {
        "channel".to_owned()
    } else if native == "workingHours.timezone" {
        "timezone".to_owned()
    } else if native.starts_with("workingHours") {
        "working_hours".to_owned()
    } else {
        native.replace("surveyRule", "surveyRules")
    };
    let mut out = String::with_capacity(mapped.len() + 4);
    for c in mapped.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The caller, authenticated by `api_access_token` (or `Authorization: Bearer`), whose
/// organization is the path's `{account_id}`.
pub struct ChatwootCaller(pub Caller);

impl FromRequest for ChatwootCaller {
    type Error = ChatwootError;
    type Future = Pin<Box<dyn Future<Output = Result<ChatwootCaller, ChatwootError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req.headers().get(TOKEN_HEADER).and_then(|v| v.to_str().ok()).map(str::trim);
        let token = header.filter(|t| !t.is_empty()).map(str::to_owned).or_else(|| bearer(req));
        let account = req.match_info().get("account_id").map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let token = token.ok_or_else(|| {
                ApiError::Unauthorized(format!("missing {TOKEN_HEADER} header (or Authorization: Bearer)"))
            })?;
            let caller = authenticate(&state, &token).await?;
            if account.as_deref() != Some(caller.org_id.as_str()) {
                return Err(ChatwootError(ApiError::NotFound("account")));
            }
            Ok(ChatwootCaller(caller))
        })
    }
}

/// The scope's JSON bodies: one serde cannot read is refused here, naming its field.
pub fn json_error(err: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    ChatwootError(crate::error::json_payload_error(&err)).into()
}

pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ChatwootError(crate::error::query_payload_error(&err)).into()
}

pub fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ChatwootError(ApiError::BadRequest(format!("invalid path: {err}"))).into()
}

/// A path under `/api/v1/accounts/{account_id}` that this API does not serve.
pub async fn no_route() -> HttpResponse {
    refusal(StatusCode::NOT_FOUND, "Route not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_field_names_read_as_this_apis() {
        assert_eq!(field_name("botConfigId"), "agent_bot");
        assert_eq!(field_name("widgetSettings.widgetColor"), "channel.widget_color");
        assert_eq!(field_name("webhookUrl"), "channel.webhook_url");
        assert_eq!(field_name("workingHours.slots[0].end"), "working_hours");
        assert_eq!(field_name("workingHours.timezone"), "timezone");
        assert_eq!(field_name("csatConfig.surveyRule.operator"), "csat_config.survey_rules.operator");
        assert_eq!(field_name("greetingMessage"), "greeting_message");
        assert_eq!(field_name("name"), "name");
    }

    #[test]
    fn a_refusal_names_its_field_and_starts_with_a_capital() {
        assert_eq!(sentence(&ApiError::NotFound("inbox")), "Inbox not found");
        assert_eq!(sentence(&ApiError::validation("agent_bot", "no such bot")), "agent_bot: no such bot");
    }
}
