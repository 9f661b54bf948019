//! One error type for the HTTP API: a stable snake_case `code`, a human `message`, optional
//! `details` (the field at fault), the status decided in one `match`. Underlying causes are
//! logged, never sent to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use actors::ActorError;
use sea_orm::DbErr;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// A widget visitor's identifier hash is missing or wrong where the inbox enforces it:
    /// 401 `identity_verification_failed`.
    #[error("{0}")]
    IdentityUnverified(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    TooLarge(String),
    /// Answered 429 with `Retry-After: <seconds>`.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// The server is at its capacity (the database queue is full, or a wait for a connection ran
    /// out): answered 503 with `Retry-After: <seconds>`; trying again later is safe.
    #[error("{message}")]
    Overloaded { message: String, retry_after: u64 },
    /// Something went wrong on our side; the cause is logged, the client gets a generic message.
    #[error("internal error")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The error body: `{"error": {"code", "message", "details"}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorInfo {
    /// Stable machine-readable code: validation_error, bad_request, unauthorized,
    /// identity_verification_failed (the live-chat widget's), forbidden,
    /// not_found, conflict, gone, unprocessable, payload_too_large, rate_limited, unavailable,
    /// overloaded (503 with Retry-After), internal_error; for errors the framework raises itself
    /// also method_not_allowed, request_timeout, unsupported_media_type.
    pub code: &'static str,
    pub message: String,
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation { field: field.into(), message: message.into() }
    }

    /// The stable machine-readable code of the error body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation { .. } => "validation_error",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::IdentityUnverified(_) => "identity_verification_failed",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Gone(_) => "gone",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation { .. } | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::IdentityUnverified(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
        let details = match self {
            ApiError::Validation { field, .. } => Some(serde_json::json!({ "field": field })),
            _ => None,
        };
        let message = match self {
            ApiError::Internal(_) => "something went wrong on our side; it has been logged".to_owned(),
            other => other.to_string(),
        };
        let mut res = HttpResponse::build(self.status_code());
        if let ApiError::Unauthorized(_) = self {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let ApiError::TooManyRequests { retry_after, .. } | ApiError::Overloaded { retry_after, .. } = self {
            res.insert_header(("Retry-After", retry_after.to_string()));
        }
        res.json(ErrorBody { error: ErrorInfo { code: self.code(), message, details } })
    }
}

impl ApiError {
    /// The field at fault, for validation errors.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Validation { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The message the client sees.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "something went wrong on our side; it has been logged".to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl From<DbErr> for ApiError {
    fn from(e: DbErr) -> Self {
        match e {
            // No connection came free in time: the database is busy, not down.
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout) => {
                ApiError::Overloaded { message: "the database is busy; try again shortly".into(), retry_after: 2 }
            }
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => ApiError::Unavailable("the database is unavailable".into()),
            // Two requests raced for one unique value (a name, a version number): the loser is
            // told, not given a 500.
            other if matches!(other.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
                // Logged: a violation no request can cause on purpose would otherwise hide a bug.
                tracing::warn!(error = %other, "unique constraint refused a write");
                ApiError::Conflict("a concurrent change took a value that must be unique; reload and try again".into())
            }
            other => ApiError::Internal(format!("database: {other}")),
        }
    }
}

impl From<actors::admission::Refused> for ApiError {
    fn from(e: actors::admission::Refused) -> Self {
        let retry_after = match &e {
            actors::admission::Refused::Full { .. } => 1,
            actors::admission::Refused::TimedOut(wait) => wait.as_secs().clamp(1, 30),
        };
        ApiError::Overloaded { message: e.to_string(), retry_after }
    }
}

impl From<ActorError> for ApiError {
    fn from(e: ActorError) -> Self {
        match e {
            ActorError::NotFound(what) => ApiError::NotFound(what),
            ActorError::Conflict(reason) => ApiError::Conflict(reason),
            ActorError::Invalid { field, message } => ApiError::validation(field, message),
            ActorError::Db(db) => db.into(),
            ActorError::Stale => ApiError::Unavailable("the conversation changed concurrently; try again".into()),
            ActorError::Unavailable(what) => ApiError::Unavailable(format!("temporarily unavailable: {what}")),
            ActorError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<crate::domain::Error> for ApiError {
    fn from(e: crate::domain::Error) -> Self {
        use crate::domain::Error as E;
        match e {
            E::Invalid { field, message } => ApiError::Validation { field, message },
            E::Malformed(m) => ApiError::BadRequest(m),
            E::NotFound(what) => ApiError::NotFound(what),
            E::Conflict(m) => ApiError::Conflict(m),
            E::Forbidden(m) => ApiError::Forbidden(m),
            E::Unauthenticated(m) => ApiError::Unauthorized(m),
            E::IdentityUnverified(m) => ApiError::IdentityUnverified(m),
            E::Gone(m) => ApiError::Gone(m),
            E::Unprocessable(m) => ApiError::Unprocessable(m),
            E::TooLarge(m) => ApiError::TooLarge(m),
            E::Limited { message, retry_after } => ApiError::TooManyRequests { message, retry_after },
            E::Unavailable(m) => ApiError::Unavailable(m),
            E::Db(db) => db.into(),
            E::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<crate::mail::MailError> for ApiError {
    fn from(e: crate::mail::MailError) -> Self {
        crate::domain::Error::from(e).into()
    }
}

/// Turns actix's extractor errors (bad JSON, bad query) into our error shape, naming the field
/// serde complained about.
pub fn json_error(err: actix_web::error::JsonPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    json_payload_error(&err).into()
}

/// A JSON body actix could not read, as the error the client is told (any surface's shape).
pub fn json_payload_error(err: &actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::Deserialize(e) => invalid_body(&e.to_string()),
        J::ContentType => ApiError::BadRequest("expected Content-Type: application/json".into()),
        J::Overflow { limit } | J::OverflowKnownLength { limit, .. } => {
            ApiError::TooLarge(format!("request bodies are limited to {limit} bytes"))
        }
        other => ApiError::BadRequest(format!("invalid request body: {other}")),
    }
}

/// A request body serde could not read, as a 400 naming the field it complained about.
pub fn invalid_body(msg: &str) -> ApiError {
    let field = field_of(msg).unwrap_or_else(|| "body".into());
    ApiError::validation(field, format!("invalid request body: {msg}"))
}

pub fn query_error(err: actix_web::error::QueryPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    query_payload_error(&err).into()
}

/// A query string actix could not read, as a 400 naming the parameter serde complained about.
pub fn query_payload_error(err: &actix_web::error::QueryPayloadError) -> ApiError {
    let msg = err.to_string();
    let field = field_of(&msg).unwrap_or_else(|| "query".into());
    ApiError::validation(field, format!("invalid query: {msg}"))
}

pub fn path_error(err: actix_web::error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid path: {err}")).into()
}

/// Gives every error response the framework made itself (a body over a payload limit, a
/// WebSocket handshake without `Upgrade`, a method a route does not take…) the JSON error shape
/// and its content type; our own errors pass untouched. Headers such as `Allow` are kept.
pub fn json_framework_errors<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    use actix_web::middleware::ErrorHandlerResponse;
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = match (status.is_server_error(), res.response().error()) {
        (false, Some(e)) if !e.to_string().trim().is_empty() => e.to_string(),
        (false, _) => status.canonical_reason().unwrap_or("the request was refused").to_owned(),
        (true, _) => "something went wrong on our side; it has been logged".to_owned(),
    };
    let code = match status.as_u16() {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        503 => "unavailable",
        s if s >= 500 => "internal_error",
        _ => "bad_request",
    };
    let (req, old) = res.into_parts();
    let mut new = HttpResponse::build(status).json(ErrorBody { error: ErrorInfo { code, message, details: None } });
    for (name, value) in old.headers() {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(actix_web::dev::ServiceResponse::new(req, new).map_into_right_body()))
}

/// serde's messages name the field in backticks: "missing field `email`".
fn field_of(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_is_read_from_serde_messages() {
        assert_eq!(field_of("missing field `email` at line 1 column 2").as_deref(), Some("email"));
        assert_eq!(field_of("expected value"), None);
    }
}
