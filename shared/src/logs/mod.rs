//! The event logs (contract section D): validated batches of actions, the filters a read uses,
//! the store trait behind them and the domain functions the handlers call.

pub(crate) mod batch;
pub(crate) mod body;
pub(crate) mod clock;
pub(crate) mod daily;
pub(crate) mod dynamodb;
pub(crate) mod exact;
pub(crate) mod instant;
pub(crate) mod keys;
pub(crate) mod layout;
pub mod messages;
#[cfg(feature = "embedded")]
pub(crate) mod sqlite;

pub use batch::{LogBatch, NewAction};
pub use clock::Clock;
pub use daily::DailyCount;
pub use instant::Instant;

use crate::http::cursor::Page;
use crate::http::request::offset_plus;
use crate::once::KeyStore;
use crate::store::merge::Positions;
use crate::{ApiError, StoreError};
use async_trait::async_trait;
use body::{bounded, MAX_ID_CHARS, MAX_TYPE_CHARS};
use serde::Serialize;

/// One stored action as `GET /log` returns it; `time` is the text that was sent, and with
/// `sentAt` the server's receipt and the corrected time follow it (`clock`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub user_id: String,
    pub session_id: String,
    pub time: String,
    /// `receivedAt` and `timestamp`, only on actions sent with `sentAt`.
    #[serde(flatten)]
    pub clock: Option<Clock>,
    #[serde(rename = "type")]
    pub kind: String,
    /// The properties object as stored: canonical JSON text with every number as sent.
    #[serde(serialize_with = "exact::as_json")]
    pub properties: String,
}

impl LogEntry {
    /// Rebuilds an entry from its stored fields (`time` as `clock::stored_time` wrote it,
    /// `properties` as JSON text).
    pub fn from_stored(
        user_id: String,
        session_id: String,
        stored_time: String,
        kind: String,
        properties: &str,
    ) -> Result<Self, StoreError> {
        serde_json::from_str::<&serde_json::value::RawValue>(properties)
            .map_err(|err| StoreError::Failed(format!("stored properties are not JSON: {err}")))?;
        let (time, clock) = clock::read(stored_time)?;
        Ok(LogEntry {
            user_id,
            session_id,
            time,
            clock,
            kind,
            properties: properties.to_string(),
        })
    }
}

/// The body of `GET /log`. Serialized straight to text (never through `serde_json::Value`), so
/// each entry's `properties` are written exactly as stored.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    pub result: Vec<LogEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// What `GET /log` selects: every part optional, values compared exactly, times as instants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogFilter {
    pub user_id: Option<String>,
    pub kind: Option<String>,
    pub start: Option<Instant>,
    pub end: Option<Instant>,
}

impl LogFilter {
    /// Validates the raw query values (absent when `None`), naming the parameter in errors.
    pub fn parse(
        user_id: Option<&str>,
        kind: Option<&str>,
        start: Option<&str>,
        end: Option<&str>,
    ) -> Result<Self, ApiError> {
        let filter = LogFilter {
            user_id: user_id
                .map(|u| bounded("userId", u, MAX_ID_CHARS).map(str::to_string))
                .transpose()?,
            kind: kind
                .map(|k| bounded("type", k, MAX_TYPE_CHARS).map(str::to_string))
                .transpose()?,
            start: start.map(|t| query_time("startTime", t)).transpose()?,
            end: end.map(|t| query_time("endTime", t)).transpose()?,
        };
        if let Some(user) = &filter.user_id {
            layout::check_user("userId", user)?;
        }
        if let Some(kind) = &filter.kind {
            layout::check_type("type", kind, filter.user_id.as_deref())?;
        }
        if let (Some(start), Some(end)) = (&filter.start, &filter.end) {
            if start.utc_key() > end.utc_key() {
                return Err(ApiError::field("startTime", "must not be after endTime"));
            }
        }
        Ok(filter)
    }

    /// The inclusive order-key range this filter selects above `after`; `None` when empty.
    pub fn key_range(&self, after: Option<&str>) -> Option<(String, String)> {
        keys::range(self.start.as_ref(), self.end.as_ref(), after)
    }
}

/// A time from a query string. An unencoded `+` in the offset arrives decoded as a space;
/// in that one place a space can mean nothing else, so it is read as the `+` it was.
fn query_time(field: &str, raw: &str) -> Result<Instant, ApiError> {
    Instant::parse(field, &offset_plus(raw))
}

/// A position in a listing: the last order key shown from each of the store's partitions.
pub type LogPositions = Positions<String>;

/// Storage of the event logs.
#[async_trait]
pub trait LogStore: Send + Sync {
    /// Stores every action of `batch` once. The first call for a request fixes its arrival
    /// (`received`, nanoseconds since the Unix epoch); the same request again, even after a
    /// partial failure, ends with each action stored exactly once.
    async fn record(&self, batch: &LogBatch, received: u64) -> Result<(), StoreError>;

    /// How many ordered partitions serve `filter`: its positions hold one key for each.
    fn shards(&self, filter: &LogFilter) -> usize;

    /// Up to `limit` matching actions in order-key order, after `after`.
    async fn find(
        &self,
        filter: &LogFilter,
        after: Option<&LogPositions>,
        limit: usize,
    ) -> Result<Page<LogEntry, LogPositions>, StoreError>;

    /// The daily rollup from UTC day `first` to `last` (`YYYY-MM-DD`, inclusive), by day then
    /// type, at most about `limit` entries (reads grow with `limit`, not with the logs).
    async fn daily_counts(
        &self,
        first: &str,
        last: &str,
        limit: usize,
    ) -> Result<Vec<DailyCount>, StoreError>;
}

/// What `POST /log` did with a body's actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub stored: usize,
    /// Actions dropped as duplicates of a `messageId` (`messages`).
    pub duplicates: usize,
    /// Whether any action carried a `messageId` (the answer says `duplicates` only then).
    pub with_ids: bool,
}

/// `POST /log`: validates the whole body, drops the actions whose `messageId` is already
/// stored (`messages`), then stores the rest.
pub async fn record(
    store: &dyn LogStore,
    marks: &dyn KeyStore,
    body: &[u8],
) -> Result<Recorded, ApiError> {
    let batch = LogBatch::parse(body)?;
    let with_ids = batch.actions.iter().any(|a| a.message_id.is_some());
    let (batch, duplicates) = match with_ids {
        true => messages::drop_duplicates(marks, batch, crate::once::now()).await?,
        false => (batch, 0),
    };
    if !batch.actions.is_empty() {
        store.record(&batch, now_nanos()).await?;
    }
    Ok(Recorded {
        stored: batch.actions.len(),
        duplicates,
        with_ids,
    })
}

pub(crate) fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// The scope `GET /log` cursors are tied to: the filters (times as instants) and the number
/// of partitions whose positions the cursor holds.
pub fn cursor_scope(store: &dyn LogStore, filter: &LogFilter) -> String {
    let scope = serde_json::json!({
        "userId": filter.user_id,
        "type": filter.kind,
        "start": filter.start.as_ref().map(Instant::utc_key),
        "end": filter.end.as_ref().map(Instant::utc_key),
        "shards": store.shards(filter),
    });
    format!("logs/find:{scope}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_take_times_as_instants_and_restore_a_decoded_plus() {
        let filter =
            LogFilter::parse(None, None, Some("2018-10-19T09:07:28 05:30"), None).expect("valid");
        assert_eq!(
            filter.start.expect("start").utc_key(),
            "2018-10-19T03:37:28.000000000Z"
        );
        let filter = LogFilter::parse(Some("u"), Some("CLICK"), None, Some("2018-10-19T03:37:28Z"))
            .expect("valid");
        assert_eq!(filter.user_id.as_deref(), Some("u"));
        assert_eq!(filter.kind.as_deref(), Some("CLICK"));
    }

    #[test]
    fn bad_filters_are_refused_naming_the_parameter() {
        let cases = [
            (
                LogFilter::parse(None, None, Some("yesterday"), None),
                "startTime: ",
            ),
            (
                LogFilter::parse(None, None, None, Some("2018-10-19")),
                "endTime: ",
            ),
            (
                LogFilter::parse(Some(&"u".repeat(257)), None, None, None),
                "userId: ",
            ),
            (
                LogFilter::parse(None, Some(&"t".repeat(65)), None, None),
                "type: ",
            ),
            (
                LogFilter::parse(
                    None,
                    None,
                    Some("2018-10-19T03:37:29Z"),
                    Some("2018-10-19T03:37:28Z"),
                ),
                "startTime: must not be after endTime",
            ),
        ];
        for (result, prefix) in cases {
            let err = result.expect_err(prefix).to_string();
            assert!(err.starts_with(prefix), "{err}");
        }
    }

    #[test]
    fn an_equal_start_and_end_is_one_instant() {
        let filter = LogFilter::parse(
            None,
            None,
            Some("2018-10-18T21:37:28-06:00"),
            Some("2018-10-19T03:37:28Z"),
        );
        assert!(filter.is_ok());
    }
}
