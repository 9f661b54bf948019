//! Opaque cursors for list endpoints: which way to page and from which id.

use actors::store::conversations::Page;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// A cursor page: `{"data": [...], "nextCursor", "prevCursor"}`. `nextCursor` continues onward
/// (older items, or the sort order), `prevCursor` goes back; each is null when nothing lies there.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CursorPage<T: ToSchema> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

/// Whether more rows lie onward (`next`) and back (`prev`) of a page.
#[derive(Debug, PartialEq, Eq)]
pub struct Window {
    pub next: bool,
    pub prev: bool,
}

/// A page is fetched with one row more than `limit` to learn whether more follow. Drops that
/// extra row (at the front when `extra_first`) and says which ways more rows exist, given how
/// the page was asked for (`paged`: the direction of the cursor, if any).
pub fn window<T>(rows: &mut Vec<T>, limit: u64, paged: Option<Page>, extra_first: bool) -> Window {
    let back = paged == Some(Page::After);
    let more = rows.len() as u64 > limit;
    if more {
        if extra_first {
            rows.remove(0);
        } else {
            rows.pop();
        }
    }
    Window { next: more || back, prev: paged.is_some() && (!back || more) }
}

/// Where a numbered page lies in the whole list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page: u64,
    pub limit: u64,
    pub total: u64,
    pub total_pages: u64,
}

impl Pagination {
    pub fn new(page: u64, limit: u64, total: u64) -> Pagination {
        Pagination { page, limit, total, total_pages: total.div_ceil(limit.max(1)) }
    }
}

/// A numbered page's `(page, size, skip)` from a query's `page` (default 1) and `limit`
/// (default `default`, at most [`MAX_LIMIT`]).
pub fn numbered(page: Option<u64>, limit: Option<u64>, default: u64) -> Result<(u64, u64, u64), ApiError> {
    let page = page.unwrap_or(1);
    let size = match limit {
        None => default,
        Some(0) => return Err(ApiError::validation("limit", "limit must be at least 1")),
        Some(n) => n.min(MAX_LIMIT),
    };
    Ok((page, size, offset(page, size)?))
}

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

/// The highest page number a numbered list accepts.
pub const MAX_PAGE: u64 = 100_000;

/// The row offset of 1-based `page` of `size` rows, with `page` validated (at least 1, at most
/// [`MAX_PAGE`]), so an absurd page is a 400 on `page` instead of an overflow.
pub fn offset(page: u64, size: u64) -> Result<u64, ApiError> {
    if page == 0 {
        return Err(ApiError::validation("page", "page starts at 1"));
    }
    if page > MAX_PAGE {
        return Err(ApiError::validation("page", format!("page is at most {MAX_PAGE}")));
    }
    Ok((page - 1) * size.min(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_offsets_are_bounded() {
        assert_eq!(offset(1, 20).unwrap(), 0);
        assert_eq!(offset(3, 20).unwrap(), 40);
        assert!(offset(0, 20).is_err());
        assert!(offset(u64::MAX, 100).is_err());
    }

    #[test]
    fn the_window_drops_the_extra_row_and_knows_both_ways() {
        let mut first = vec![1, 2, 3];
        assert_eq!(window(&mut first, 2, None, false), Window { next: true, prev: false });
        assert_eq!(first, vec![1, 2]);
        let mut last = vec![3];
        assert_eq!(window(&mut last, 2, Some(Page::Before), false), Window { next: false, prev: true });
        let mut back = vec![0, 1, 2];
        assert_eq!(window(&mut back, 2, Some(Page::After), true), Window { next: true, prev: true });
        assert_eq!(back, vec![1, 2]);
        let mut newest = vec![1];
        assert_eq!(window(&mut newest, 2, Some(Page::After), true), Window { next: true, prev: false });
    }

    #[test]
    fn cursors_round_trip() {
        let c = encode(Page::Before, "0190-abc");
        assert_eq!(decode(Some(&c)).ok().flatten(), Some((Page::Before, "0190-abc".to_owned())));
        assert!(decode(Some("garbage!")).is_err());
        assert!(decode(Some(&URL_SAFE_NO_PAD.encode("x:1"))).is_err());
        assert_eq!(decode(None).ok().flatten(), None);
    }
}
