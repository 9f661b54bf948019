//! The Cekat ("classic") API's envelopes: success is `{"success": true, "data": …}`, a refusal
//! `{"success": false, "error": {"code", "message", "details"}}` with the same status, codes and
//! `details.field` as the native API. The seeds give no error body; this one keeps Cekat's
//! `success` flag so its clients can branch on it, and the native error object inside so one
//! error vocabulary serves both. Authentication is the native one (`Authorization: Bearer
//! <API key | access token>`), refused in this shape.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorInfo};

/// The success envelope: `{"success": true, "data": …}`.
#[derive(Serialize, ToSchema)]
pub struct CekatData<T: ToSchema> {
    /// Always `true`.
    pub success: bool,
    pub data: T,
}

impl<T: ToSchema> CekatData<T> {
    pub fn new(data: T) -> CekatData<T> {
        CekatData { success: true, data }
    }
}

/// The error body: `{"success": false, "error": {"code", "message", "details"}}`.
#[derive(Serialize, ToSchema)]
pub struct CekatErrorBody {
    /// Always `false`.
    pub success: bool,
    pub error: ErrorInfo,
}

/// An API error answered in the Cekat shape.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct CekatError(#[from] pub ApiError);

pub type CekatResult<T> = Result<T, CekatError>;

impl From<crate::domain::Error> for CekatError {
    fn from(e: crate::domain::Error) -> Self {
        CekatError(e.into())
    }
}

impl From<sea_orm::DbErr> for CekatError {
    fn from(e: sea_orm::DbErr) -> Self {
        CekatError(e.into())
    }
}

impl From<actors::ActorError> for CekatError {
    fn from(e: actors::ActorError) -> Self {
        CekatError(e.into())
    }
}

impl ResponseError for CekatError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        // The native response carries the status and headers (WWW-Authenticate, Retry-After)
        // and logs an internal cause; only its body is put in this envelope.
        let native = self.0.error_response();
        let details = self.0.field().map(|field| serde_json::json!({ "field": field }));
        let message = match &self.0 {
            ApiError::Internal(_) => "something went wrong on our side; it has been logged".to_owned(),
            other => other.to_string(),
        };
        let body = CekatErrorBody { success: false, error: ErrorInfo { code: self.0.code(), message, details } };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        native.set_body(BoxBody::new(bytes))
    }
}

/// The caller, authenticated as for the native API; a refusal is in the Cekat shape.
pub struct CekatCaller(pub Caller);

impl FromRequest for CekatCaller {
    type Error = CekatError;
    type Future = Pin<Box<dyn Future<Output = Result<CekatCaller, CekatError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let native = Caller::from_request(req, payload);
        Box::pin(async move { native.await.map(CekatCaller).map_err(CekatError) })
    }
}

/// A JSON body read by serde, refused in the Cekat shape naming the field at fault.
pub fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> CekatResult<T> {
    serde_json::from_slice(body).map_err(|e| CekatError(crate::error::invalid_body(&e.to_string())))
}

/// The query string read by serde, refused in the Cekat shape naming the parameter at fault.
pub fn query<T: serde::de::DeserializeOwned>(req: &HttpRequest) -> CekatResult<T> {
    actix_web::web::Query::<T>::from_query(req.query_string()).map(|q| q.into_inner()).map_err(|e| {
        let msg = e.to_string();
        let field = msg.split('`').nth(1).filter(|f| !f.is_empty()).unwrap_or("query").to_owned();
        CekatError(ApiError::validation(field, format!("invalid query: {msg}")))
    })
}

/// An optional whole-number query parameter (blank is absent), refused in the Cekat shape
/// naming `field` when it is not one.
pub fn integer(field: &str, value: Option<&str>) -> CekatResult<Option<u64>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse::<u64>()
            .map(Some)
            .map_err(|_| CekatError(ApiError::validation(field, format!("{field} must be a whole number")))),
    }
}

/// A time as the Cekat API writes it: RFC 3339 in UTC to the second (`2025-03-27T15:30:00Z`).
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
