//! Opaque cursors for list endpoints: which way to page and from which id.

use actors::store::conversations::Page;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 100;

pub fn encode(page: Page, id: &str) -> String {
    let dir = match page {
        Page::Before => 'b',
        Page::After => 'a',
    };
    URL_SAFE_NO_PAD.encode(format!("{dir}:{id}"))
}

/// Decodes a cursor from a query; a malformed one is a 400 on `cursor`.
pub fn decode(cursor: Option<&str>) -> Result<Option<(Page, String)>, ApiError> {
    let Some(c) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let bad = || ApiError::validation("cursor", "the cursor is not one this API returned");
    let raw = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (dir, id) = text.split_once(':').ok_or_else(bad)?;
    let page = match dir {
        "b" => Page::Before,
        "a" => Page::After,
        _ => return Err(bad()),
    };
    if id.is_empty() || id.len() > 64 {
        return Err(bad());
    }
    Ok(Some((page, id.to_owned())))
}

/// Validates `limit`: default 50, at most 100.
pub fn limit(limit: Option<u64>) -> Result<u64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(ApiError::validation("limit", "limit must be at least 1")),
        Some(n) => Ok(n.min(MAX_LIMIT)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = encode(Page::Before, "0190-abc");
        assert_eq!(decode(Some(&c)).ok().flatten(), Some((Page::Before, "0190-abc".to_owned())));
        assert!(decode(Some("garbage!")).is_err());
        assert!(decode(Some(&URL_SAFE_NO_PAD.encode("x:1"))).is_err());
        assert_eq!(decode(None).ok().flatten(), None);
    }
}
