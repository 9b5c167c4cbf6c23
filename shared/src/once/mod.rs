//! Exactly once (contract section G): the `Idempotency-Key` a counting or creating request may
//! carry, the fingerprint of the request it names, and the store of keys behind them. A key is
//! claimed (pending) before its request runs, holds the answer once it is done and is freed if
//! the request fails, so a retry is answered from the record instead of counting again
//! (`docs/once.md`).

pub(crate) mod dynamodb;
#[cfg(feature = "embedded")]
pub(crate) mod sqlite;

use crate::{ApiError, StoreError};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// The request header (the IETF httpapi idempotency-key draft).
pub const HEADER: &str = "Idempotency-Key";
/// The header a replayed answer carries.
pub const REPLAYED: &str = "Idempotency-Replayed";
/// The most characters a key may have.
pub const MAX_KEY_CHARS: usize = 255;
/// How long a key is kept after its request: a retry within it is answered from the record.
pub const KEPT_SECONDS: i64 = 24 * 60 * 60;
/// How long a claim holds its key before another request may take it over: longer than any
/// request may run (a function's timeout is 10 s), so a claim that is still held belongs to a
/// request that may still be running, and an older one to a request that died.
pub const LEASE_SECONDS: i64 = 30;

/// A validated `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks the header's raw value.
    pub fn parse(raw: &[u8]) -> Result<Self, ApiError> {
        let bad = |problem: String| ApiError::field(HEADER, problem);
        if raw.is_empty() || raw.len() > MAX_KEY_CHARS {
            return Err(bad(format!(
                "must be 1 to {MAX_KEY_CHARS} characters (got {})",
                raw.len()
            )));
        }
        if !raw.iter().all(u8::is_ascii_graphic) {
            return Err(bad(
                "must be visible ASCII characters (no spaces or control characters)".into(),
            ));
        }
        Ok(IdempotencyKey(String::from_utf8_lossy(raw).into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its name in the key store, apart from the messages' (`logs::messages`).
    pub fn stored(&self) -> String {
        format!("k#{}", self.0)
    }
}

/// What makes two requests the same request: method, path, query and body, hashed (SHA-256,
/// hex). Each part is length-prefixed, so no two different requests join to the same bytes.
pub fn fingerprint(method: &str, path: &str, query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes(), query.as_bytes(), body] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The answer of a request that was done, as a replay repeats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    /// The `Location` header, where the answer had one (`POST /people`).
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// A key as stored: whose request it is, and where that request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub fingerprint: String,
    /// Which claim holds it (`Claim::New`).
    pub token: String,
    /// Until when, in seconds since the epoch, a pending claim holds the key.
    pub lease: i64,
    /// When the record counts as gone (seconds since the epoch; the DynamoDB TTL attribute).
    pub expires: i64,
    /// `None` while the request is being processed.
    pub answer: Option<Answer>,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's now, under this token: process it, then `complete` or
    /// `release`.
    New(String),
    /// The same request was done: answer this, count nothing.
    Done(Answer),
    /// Another request holds the key: 422.
    OtherRequest,
    /// The same request is still being processed: 409 with `Retry-After`.
    InFlight,
}

impl Record {
    /// A fresh claim of a key for the request `fingerprint`, at `now`.
    pub fn claim(fingerprint: &str, now: i64) -> Self {
        Record {
            fingerprint: fingerprint.to_string(),
            token: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            lease: now + LEASE_SECONDS,
            expires: now + KEPT_SECONDS,
            answer: None,
        }
    }

    /// A record that is done when it is put: a mark that `fingerprint`'s request holds the key
    /// (a log action's `messageId`), with an empty answer.
    pub fn done(fingerprint: &str, now: i64) -> Self {
        Record {
            answer: Some(Answer {
                status: 0,
                content_type: String::new(),
                location: None,
                body: Vec::new(),
            }),
            ..Record::claim(fingerprint, now)
        }
    }

    /// Whether a new claim may replace this record at `now`: it expired, or it is a claim
    /// whose request died without an answer.
    pub fn is_free(&self, now: i64) -> bool {
        self.expires <= now || (self.answer.is_none() && self.lease <= now)
    }

    /// What a request for `fingerprint` meets when this record holds its key (and is not free).
    pub fn meets(&self, fingerprint: &str) -> Claim {
        match &self.answer {
            _ if self.fingerprint != fingerprint => Claim::OtherRequest,
            Some(answer) => Claim::Done(answer.clone()),
            None => Claim::InFlight,
        }
    }
}

/// The keys, on each engine. `claim` is one atomic step: of two concurrent claims of a free
/// key exactly one is `New`.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Claims `key` with `record` (`Record::claim`, or `Record::done` with its answer) unless a
    /// record holds it that is not free at `now`; then answers what that record means for this
    /// request.
    async fn claim(&self, key: &str, record: &Record, now: i64) -> Result<Claim, StoreError>;
    /// Stores the answer of the request that holds `key` under `token`.
    async fn complete(&self, key: &str, token: &str, answer: &Answer) -> Result<(), StoreError>;
    /// Frees `key` if `token` still holds it: its request failed, and a retry may run.
    async fn release(&self, key: &str, token: &str) -> Result<(), StoreError>;
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse(b"a").is_ok());
        assert!(IdempotencyKey::parse(&[b'~'; 255]).is_ok());
        for bad in [
            &b""[..],
            &[b'a'; 256],
            b"a b",
            b"a\tb",
            "é".as_bytes(),
            b"\x7f",
        ] {
            let err = IdempotencyKey::parse(bad).expect_err("refused");
            assert!(err.to_string().starts_with("Idempotency-Key: "), "{err}");
        }
    }

    #[test]
    fn fingerprints_tell_every_part_apart() {
        let one = fingerprint("GET", "/a", "b=1", b"");
        assert_eq!(one, fingerprint("GET", "/a", "b=1", b""));
        assert_ne!(one, fingerprint("POST", "/a", "b=1", b""));
        assert_ne!(one, fingerprint("GET", "/a", "b=2", b""));
        assert_ne!(
            fingerprint("GET", "/a", "", b"x"),
            fingerprint("GET", "/ax", "", b"")
        );
        assert_eq!(one.len(), 64);
    }

    #[test]
    fn a_record_is_free_once_expired_or_once_an_unanswered_lease_ran_out() {
        let claim = Record::claim("f", 100);
        assert!(!claim.is_free(100));
        assert!(claim.is_free(100 + LEASE_SECONDS));
        let done = Record {
            answer: Some(answer()),
            ..claim.clone()
        };
        assert!(!done.is_free(100 + LEASE_SECONDS));
        assert!(done.is_free(100 + KEPT_SECONDS));
    }

    fn answer() -> Answer {
        Answer {
            status: 200,
            content_type: "application/json".into(),
            location: None,
            body: b"{}".to_vec(),
        }
    }

    #[test]
    fn a_held_key_replays_the_same_request_and_refuses_another() {
        let pending = Record::claim("f", 0);
        assert_eq!(pending.meets("f"), Claim::InFlight);
        assert_eq!(pending.meets("g"), Claim::OtherRequest);
        let done = Record {
            answer: Some(answer()),
            ..pending
        };
        assert_eq!(done.meets("f"), Claim::Done(answer()));
        assert_eq!(done.meets("g"), Claim::OtherRequest);
    }
}
