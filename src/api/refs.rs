//! Ids a request body names: the checks are `domain::refs` (re-exported here); this adds the
//! mapping of a body-named object's "not found" to a 400 on its field.

pub use crate::domain::refs::{Kind, require, require_all, require_opt};
use crate::error::ApiError;

/// For the lookup of an object a body names: its "not found" becomes a 400 on `field`.
/// `.map_err(refs::named_by("toolId"))` after a lookup that answers 404 for the path's object.
pub fn named_by<E: Into<ApiError>>(field: &'static str) -> impl FnOnce(E) -> ApiError {
    move |e| match e.into() {
        ApiError::NotFound(what) => {
            ApiError::validation(field, format!("{field} names no {what} of this organization"))
        }
        other => other,
    }
}

/// [`named_by`] when the body gave the id (`given`); a default the server chose keeps its own
/// error (no active config is a 404 of the route, not a fault of the request).
pub fn named_by_if<E: Into<ApiError>>(given: bool, field: &'static str) -> impl FnOnce(E) -> ApiError {
    move |e| if given { named_by(field)(e) } else { e.into() }
}
