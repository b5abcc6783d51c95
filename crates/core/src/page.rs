//! Cursor pagination: lists return newest first, `limit` items at a time, and a
//! `next_cursor` to pass back for the following page.
//!
//! The cursor is opaque to clients. Today it is the id of the last item returned (ids
//! sort by creation time), which keeps pages stable while new items arrive.

use crate::ValidationError;

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 500;

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    /// Return items whose id sorts strictly before this one.
    pub before_id: Option<String>,
}

impl PageRequest {
    /// Validates `limit` and `cursor` as a client sent them. `id_prefix` is the prefix
    /// of the listed resource's ids; a cursor of another shape is refused.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>, id_prefix: &str) -> Result<Self, ValidationError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ValidationError::new(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}; it was {limit}"),
            ));
        }
        let before_id = match cursor {
            None | Some("") => None,
            Some(c) => {
                let ok = c
                    .strip_prefix(id_prefix)
                    .is_some_and(|rest| rest.len() == 26 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
                if !ok {
                    return Err(ValidationError::new(
                        "cursor",
                        "cursor is not one this list returned; pass the `next_cursor` of the previous page unchanged",
                    ));
                }
                Some(
                    c.to_ascii_uppercase()
                        .replacen(&id_prefix.to_ascii_uppercase(), id_prefix, 1),
                )
            }
        };
        Ok(Self { limit, before_id })
    }

    /// First page with the default size.
    #[must_use]
    pub fn first(limit: u32) -> Self {
        Self { limit, before_id: None }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched newest first: the extra row,
    /// if present, only tells that another page exists.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> &str) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| id_of(r).to_owned())
        } else {
            None
        };
        Self {
            data: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(PageRequest::parse(None, None, "key_").unwrap().limit, 50);
        assert!(PageRequest::parse(Some(0), None, "key_").is_err());
        assert!(PageRequest::parse(Some(501), None, "key_").is_err());
        assert_eq!(PageRequest::parse(Some(500), None, "key_").unwrap().limit, 500);
    }

    #[test]
    fn cursors() {
        let ok = PageRequest::parse(None, Some("key_01arz3ndektsv4rrffq69g5fav"), "key_").unwrap();
        assert_eq!(ok.before_id.as_deref(), Some("key_01ARZ3NDEKTSV4RRFFQ69G5FAV"));
        assert!(PageRequest::parse(None, Some("nope"), "key_").is_err());
        assert!(PageRequest::parse(None, Some("wh_01ARZ3NDEKTSV4RRFFQ69G5FAV"), "key_").is_err());
    }

    #[test]
    fn pages() {
        let p = Page::from_rows(vec!["c", "b", "a"], 2, |s| s);
        assert_eq!(p.data, vec!["c", "b"]);
        assert_eq!(p.next_cursor.as_deref(), Some("b"));
        let p = Page::from_rows(vec!["c", "b"], 2, |s| s);
        assert_eq!(p.next_cursor, None);
    }
}
