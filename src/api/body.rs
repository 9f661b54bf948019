//! [`OptionalJson`]: a JSON body a client may leave out. actix's `Option<Json<T>>` turns a body
//! that fails to parse into `None`, so a misspelt or mistyped field silently meant "no body"
//! (an assign with `{"userId": 5}` assigned the caller). Here only an empty body is `None`; a
//! body that is there must parse, or the request is a 400 naming the field.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::invalid_body;

pub struct OptionalJson<T>(pub Option<T>);

impl<T> OptionalJson<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The raw body, within the app's payload limit (a larger one is a JSON 413).
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(None));
            }
            serde_json::from_slice(&bytes)
                .map(|v| OptionalJson(Some(v)))
                .map_err(|e| invalid_body(&e.to_string()).into())
        })
    }
}
