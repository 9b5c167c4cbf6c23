//! Pagination: the `limit` parameter and opaque cursors that are signed and tied to their query.
//!
//! A cursor is `base64url(position JSON) "." base64url(tag)`, where the tag is an HMAC-SHA256
//! over the query's scope and the position. An altered cursor, or one reused with other
//! filters, fails the tag check and is a 400. The key (`TALLY_CURSOR_SECRET`) is part of the
//! state: `AppState::cursors`.

use super::request::query_param;
use super::response::{with_header, Response};
use super::Request;
use crate::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use lambda_http::http::header::HeaderName;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
const TAG_BYTES: usize = 16;

/// What a paginated request asks for: how many items, and where the previous page stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest<P> {
    pub limit: usize,
    pub after: Option<P>,
}

/// One page of results and, unless it is the last, the position to continue from.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, P> {
    pub items: Vec<T>,
    pub next: Option<P>,
}

impl<T, P> Page<T, P> {
    /// Builds a page from up to `limit + 1` items: the extra item only proves there is more.
    pub fn from_lookahead(mut items: Vec<T>, limit: usize, position: impl Fn(&T) -> P) -> Self {
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more {
            items.last().map(position)
        } else {
            None
        };
        Page { items, next }
    }
}

/// Issues and checks the cursors of one key.
pub struct Cursors {
    key: Vec<u8>,
}

fn bad_cursor() -> ApiError {
    ApiError::field(
        "cursor",
        "is not a cursor this query issued; start again without it",
    )
}

impl Cursors {
    pub fn new(secret: &str) -> Self {
        Cursors {
            key: secret.as_bytes().to_vec(),
        }
    }

    /// The HMAC over the scope and the payload, ready for its tag.
    fn mac(&self, scope: &str, payload: &[u8]) -> Option<Hmac<Sha256>> {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        Some(mac)
    }

    /// Encodes a position as a cursor valid only for queries of the same scope.
    pub fn encode<P: Serialize>(&self, scope: &str, position: &P) -> String {
        let payload = serde_json::to_vec(position).unwrap_or_default();
        let tag = self
            .mac(scope, &payload)
            .map(|mac| mac.finalize().into_bytes()[..TAG_BYTES].to_vec())
            .unwrap_or_default();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Decodes a cursor issued by `encode` for the same scope. The tag is compared in
    /// constant time, so its timing reveals nothing of the expected tag.
    pub fn decode<P: DeserializeOwned>(&self, scope: &str, cursor: &str) -> Result<P, ApiError> {
        let (payload, given_tag) = cursor.split_once('.').ok_or_else(bad_cursor)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad_cursor())?;
        let given_tag = URL_SAFE_NO_PAD
            .decode(given_tag)
            .map_err(|_| bad_cursor())?;
        let mac = self.mac(scope, &payload).ok_or_else(bad_cursor)?;
        if given_tag.len() != TAG_BYTES || mac.verify_truncated_left(&given_tag).is_err() {
            return Err(bad_cursor());
        }
        serde_json::from_slice(&payload).map_err(|_| bad_cursor())
    }

    /// Puts the next page's cursor, if any, in the `Next-Cursor` header (for array bodies).
    pub fn with_next<P: Serialize>(
        &self,
        resp: Response,
        scope: &str,
        next: Option<&P>,
    ) -> Response {
        match next {
            Some(next) => with_header(
                resp,
                HeaderName::from_static("next-cursor"),
                &self.encode(scope, next),
            ),
            None => resp,
        }
    }

    /// Parses `limit` (1..=1000, default 100) and `cursor` (empty means none) for a query scope.
    pub fn page_request<P: DeserializeOwned>(
        &self,
        req: &Request,
        scope: &str,
    ) -> Result<PageRequest<P>, ApiError> {
        let limit = match query_param(req, "limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::field("limit", format!("must be an integer from 1 to {MAX_LIMIT}"))
                })?,
        };
        let after = query_param(req, "cursor")
            .map(|raw| self.decode(scope, raw))
            .transpose()?;
        Ok(PageRequest { limit, after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::{Body, RequestExt};
    use std::collections::HashMap;

    fn cursors() -> Cursors {
        Cursors::new("test-key")
    }

    fn encode<P: Serialize>(scope: &str, position: &P) -> String {
        cursors().encode(scope, position)
    }

    fn decode<P: DeserializeOwned>(scope: &str, cursor: &str) -> Result<P, ApiError> {
        cursors().decode(scope, cursor)
    }

    fn page_request<P: DeserializeOwned>(
        req: &Request,
        scope: &str,
    ) -> Result<PageRequest<P>, ApiError> {
        cursors().page_request(req, scope)
    }

    fn request(query: &[(&str, &str)]) -> Request {
        let params: HashMap<String, String> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Request::new(Body::Empty).with_query_string_parameters(params)
    }

    #[test]
    fn cursors_round_trip_within_their_scope() {
        let cursor = encode("visits", &"bob".to_string());
        assert_eq!(decode::<String>("visits", &cursor).expect("valid"), "bob");
    }

    #[test]
    fn cursors_from_another_scope_or_altered_are_refused() {
        let cursor = encode("logs|user=a", &5u64);
        assert!(decode::<u64>("logs|user=b", &cursor).is_err());
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(b"6"),
            cursor.split_once('.').unwrap().1
        );
        assert!(decode::<u64>("logs|user=a", &forged).is_err());
        assert!(decode::<u64>("logs|user=a", "garbage").is_err());
    }

    #[test]
    fn shortened_tags_and_other_keys_are_refused() {
        let cursor = encode("s", &5u64);
        let (payload, tag) = cursor.split_once('.').unwrap();
        let tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
        let short = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&tag[..1]));
        assert!(decode::<u64>("s", &short).is_err());
        assert!(Cursors::new("other").decode::<u64>("s", &cursor).is_err());
    }

    #[test]
    fn limit_defaults_and_bounds() {
        let page: PageRequest<String> = page_request(&request(&[]), "s").expect("defaults");
        assert_eq!(
            page,
            PageRequest {
                limit: DEFAULT_LIMIT,
                after: None
            }
        );
        for bad in ["0", "1001", "-1", "abc", "1.5"] {
            assert!(
                page_request::<String>(&request(&[("limit", bad)]), "s").is_err(),
                "{bad}"
            );
        }
        let empty_cursor: PageRequest<String> =
            page_request(&request(&[("limit", "1000"), ("cursor", "")]), "s").expect("ok");
        assert_eq!(
            empty_cursor,
            PageRequest {
                limit: 1000,
                after: None
            }
        );
    }

    #[test]
    fn lookahead_sets_next_only_when_more_items_exist() {
        let page = Page::from_lookahead(vec![1, 2, 3], 2, |n| *n);
        assert_eq!((page.items, page.next), (vec![1, 2], Some(2)));
        let last = Page::from_lookahead(vec![1, 2], 2, |n| *n);
        assert_eq!(last.next, None);
    }
}
