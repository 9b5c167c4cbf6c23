//! Pagination: the `limit` parameter and opaque cursors, encrypted and tied to their query.
//!
//! A cursor is `base64url(tag || ciphertext)`: deterministic authenticated encryption in the
//! SIV construction (RFC 5297, section 2.6, with HMAC-SHA256 as both PRF and stream): the tag
//! is an HMAC over the query's scope and the position, and the position is XORed with an
//! HMAC-SHA256 keystream seeded by the tag. So a cursor reveals nothing but its length; an
//! altered one, one reused with other filters, or one made with another key fails the tag
//! check and is a 400. The key (`TALLY_CURSOR_SECRET` in AWS, a random key kept in the data
//! directory by the local API) is part of the state: `AppState::cursors`.

use super::budget::{fitting, PAGE_BUDGET_BYTES};
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

impl<T: Serialize, P> Page<T, P> {
    /// Builds a page from up to `limit + 1` items: the extra item only proves there is more.
    /// The page also stops at its byte budget (`budget::fitting`), the cursor at the cut.
    pub fn from_lookahead(mut items: Vec<T>, limit: usize, position: impl Fn(&T) -> P) -> Self {
        let kept = fitting(items.iter().take(limit), PAGE_BUDGET_BYTES);
        let more = items.len() > kept;
        items.truncate(kept);
        let next = if more {
            items.last().map(position)
        } else {
            None
        };
        Page { items, next }
    }
}

/// Issues and checks the cursors of one key.
#[derive(Clone)]
pub struct Cursors {
    /// Keys the tag (authenticity, and the keystream's seed).
    tag_key: [u8; 32],
    /// Keys the keystream that hides the position.
    stream_key: [u8; 32],
}

fn bad_cursor() -> ApiError {
    ApiError::field(
        "cursor",
        "is not a cursor this query issued; start again without it",
    )
}

/// 32 bytes from the operating system's random source (`/dev/urandom`). Should that fail,
/// a key from the clock, the process id and an address: unguessable enough for one process,
/// and logged, since it is not what a key should be.
pub fn random_key() -> [u8; 32] {
    use std::io::Read;
    let mut key = [0u8; 32];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key)) {
        Ok(()) => key,
        Err(err) => {
            tracing::error!(error = %err, "no random source; deriving a cursor key from the clock");
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            let seed = format!("{now}/{}/{:p}", std::process::id(), &key);
            hmac(seed.as_bytes(), &[]).finalize().into_bytes().into()
        }
    }
}

/// HMAC-SHA256 of the parts under `key`. HMAC takes keys of any length, so the fallback (an
/// all-zero key) is never used; it only spares a panic on a request path.
fn hmac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    for part in parts {
        mac.update(part);
    }
    mac
}

impl Cursors {
    /// Cursors keyed by the settings' `TALLY_CURSOR_SECRET`; unset: a random key for this
    /// process only (logged, since cursors then fail on another process).
    pub fn from_settings(paging: &crate::config::Paging) -> Self {
        match &paging.cursor_secret {
            Some(secret) => Cursors::new(secret.as_bytes()),
            None => {
                tracing::warn!("TALLY_CURSOR_SECRET is unset: cursors hold for this process only");
                Cursors::new(&random_key())
            }
        }
    }

    /// Cursors keyed by `secret`; two labels derive the tag and stream keys from it.
    pub fn new(secret: &[u8]) -> Self {
        let derive =
            |label: &[u8]| -> [u8; 32] { hmac(secret, &[label]).finalize().into_bytes().into() };
        Cursors {
            tag_key: derive(b"tally cursor tag"),
            stream_key: derive(b"tally cursor stream"),
        }
    }

    /// The MAC over the scope and the position, ready for its tag.
    fn mac(&self, scope: &str, payload: &[u8]) -> Hmac<Sha256> {
        hmac(&self.tag_key, &[scope.as_bytes(), &[0], payload])
    }

    /// XORs `data` with the keystream seeded by `tag` (encrypts and decrypts alike).
    fn apply_stream(&self, tag: &[u8], data: &mut [u8]) {
        for (block, chunk) in data.chunks_mut(32).enumerate() {
            let counter = u32::try_from(block).unwrap_or(u32::MAX).to_be_bytes();
            let pad = hmac(&self.stream_key, &[tag, &counter])
                .finalize()
                .into_bytes();
            chunk
                .iter_mut()
                .zip(pad)
                .for_each(|(byte, pad)| *byte ^= pad);
        }
    }

    /// Encodes a position as a cursor valid only for queries of the same scope and key.
    pub fn encode<P: Serialize>(&self, scope: &str, position: &P) -> String {
        let mut payload = serde_json::to_vec(position).unwrap_or_default();
        let tag = self.mac(scope, &payload).finalize().into_bytes();
        let tag = &tag[..TAG_BYTES];
        self.apply_stream(tag, &mut payload);
        URL_SAFE_NO_PAD.encode([tag, &payload].concat())
    }

    /// Decodes a cursor issued by `encode` for the same scope with the same key. The tag is
    /// compared in constant time, so its timing reveals nothing of the expected tag.
    pub fn decode<P: DeserializeOwned>(&self, scope: &str, cursor: &str) -> Result<P, ApiError> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?;
        if bytes.len() <= TAG_BYTES {
            return Err(bad_cursor());
        }
        let (tag, sealed) = bytes.split_at(TAG_BYTES);
        let mut payload = sealed.to_vec();
        self.apply_stream(tag, &mut payload);
        if self
            .mac(scope, &payload)
            .verify_truncated_left(tag)
            .is_err()
        {
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
        Cursors::new(b"test-key")
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
    fn cursors_from_another_scope_altered_or_shortened_are_refused() {
        let cursor = encode("logs|user=a", &5u64);
        assert!(decode::<u64>("logs|user=b", &cursor).is_err());
        let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        for at in [0, TAG_BYTES - 1, TAG_BYTES, bytes.len() - 1] {
            bytes[at] ^= 1;
            let altered = URL_SAFE_NO_PAD.encode(&bytes);
            assert!(decode::<u64>("logs|user=a", &altered).is_err(), "{at}");
            bytes[at] ^= 1;
        }
        for short in [0, 1, TAG_BYTES, bytes.len() - 1] {
            let shortened = URL_SAFE_NO_PAD.encode(&bytes[..short]);
            assert!(decode::<u64>("logs|user=a", &shortened).is_err(), "{short}");
        }
        assert!(decode::<u64>("logs|user=a", "garbage!").is_err());
        assert!(decode::<u64>("logs|user=a", "e30.AAAA").is_err());
    }

    #[test]
    fn cursors_of_another_key_are_refused() {
        let cursor = encode("s", &5u64);
        assert!(Cursors::new(b"other").decode::<u64>("s", &cursor).is_err());
    }

    #[test]
    fn cursors_reveal_nothing_readable_of_the_position() {
        let position =
            serde_json::json!({"arrival": 1732780000123456789u64, "body": "a1b2c3d4e5f6"});
        let cursor = encode("s", &position);
        let bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for leak in ["arrival", "1732780000", "a1b2c3", "{"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        assert!(!cursor.contains('.'));
        assert_eq!(decode::<serde_json::Value>("s", &cursor).unwrap(), position);
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
