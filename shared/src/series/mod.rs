//! Counts per UTC hour and per UTC day (contract section F): the range a series read asks for,
//! its buckets with the empty ones filled, and the store trait every service keeps its series
//! in (one table for all of them: `docs/series.md`).

pub(crate) mod dynamodb;
mod range;
#[cfg(feature = "embedded")]
pub(crate) mod sqlite;

pub use range::{Interval, SeriesRange, HOURLY_RETENTION_DAYS, MAX_BUCKETS};

use crate::StoreError;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// An hour, as hours since the Unix epoch (UTC).
pub type Hour = i64;

/// What a bucket holds: a count per field (`count`, or `impressions` and `ad_requests`).
pub type Counts = BTreeMap<String, u64>;

/// The hour a request arrived in, from the clock.
pub fn this_hour() -> Hour {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now.as_secs() / 3600) as Hour
}

/// Storage of every series: per series name, a count per field per hour and per day.
#[async_trait]
pub trait SeriesStore: Send + Sync {
    /// Adds each (field, n) of `counts` to `series` in the hour `at` and in its day: one
    /// atomic write.
    async fn add(&self, series: &str, at: Hour, counts: &[(&str, u64)]) -> Result<(), StoreError>;

    /// The buckets of `series` that `range` covers and that hold something, each as its
    /// start (an hour) and its counts, in time order.
    async fn read(
        &self,
        series: &str,
        range: &SeriesRange,
    ) -> Result<Vec<(Hour, Counts)>, StoreError>;
}

/// Adds one to `series` in this hour and today: what every counted request does.
pub async fn count_one(store: &dyn SeriesStore, series: &str) -> Result<(), StoreError> {
    store.add(series, this_hour(), &[(COUNT, 1)]).await
}

/// The stored buckets of `series` in `range` when its counter was ever `counted` (`None`
/// otherwise: the caller's 404).
pub async fn read_counted(
    store: &dyn SeriesStore,
    counted: Option<u64>,
    series: &str,
    range: &SeriesRange,
) -> Result<Option<Vec<(Hour, Counts)>>, StoreError> {
    match counted {
        None => Ok(None),
        Some(_) => store.read(series, range).await.map(Some),
    }
}

/// The answer of a one-count series read: `key` (`("id", "alice")`), the range's members and
/// every bucket.
pub fn count_answer(key: (&str, &str), range: &SeriesRange, stored: Vec<(Hour, Counts)>) -> Value {
    let mut body = serde_json::Map::new();
    body.insert(key.0.into(), key.1.into());
    body.extend(range_members(range));
    body.insert("series".into(), count_points(range, stored));
    Value::Object(body)
}

/// Every bucket of `range` in time order, those not in `stored` with zero of each of `fields`.
pub fn filled(
    range: &SeriesRange,
    stored: Vec<(Hour, Counts)>,
    fields: &[&str],
) -> Vec<(Hour, Counts)> {
    let mut stored: BTreeMap<Hour, Counts> = stored.into_iter().collect();
    range
        .starts()
        .map(|start| {
            let mut counts = stored.remove(&start).unwrap_or_default();
            for field in fields {
                counts.entry(field.to_string()).or_insert(0);
            }
            (start, counts)
        })
        .collect()
}

/// The members every series answer has: `interval`, `from` (the first bucket's start) and
/// `to` (the end of the last bucket: the series covers `from` up to, not including, `to`).
fn range_members(range: &SeriesRange) -> serde_json::Map<String, Value> {
    let mut members = serde_json::Map::new();
    members.insert("interval".into(), range.interval.name().into());
    members.insert("from".into(), start_text(range.first).into());
    members.insert("to".into(), start_text(range.end()).into());
    members
}

/// A series of one count per bucket, every bucket of `range`: `[{"start", "count"}]`.
fn count_points(range: &SeriesRange, stored: Vec<(Hour, Counts)>) -> Value {
    let points = filled(range, stored, &[COUNT])
        .into_iter()
        .map(|(start, counts)| json!({"start": start_text(start), "count": counts[COUNT]}))
        .collect();
    Value::Array(points)
}

/// The field of a series that counts one thing.
pub const COUNT: &str = "count";

/// A bucket's start as the contract writes it: `YYYY-MM-DDTHH:00:00Z`.
pub fn start_text(hour: Hour) -> String {
    let (date, hh) = range::calendar(hour);
    format!("{}T{hh:02}:00:00Z", range::date_text(date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_buckets_are_zeros_and_stored_ones_keep_their_counts() {
        let range = SeriesRange::parse(Some("hour"), Some("1970-01-01"), Some("1970-01-01"), 48)
            .expect("a day of hours");
        let stored = vec![(3, Counts::from([("count".to_string(), 7)]))];
        let series = filled(&range, stored, &["count"]);
        assert_eq!(series.len(), 24);
        assert_eq!(series[3].1["count"], 7);
        assert_eq!(series[4], (4, Counts::from([("count".to_string(), 0)])));
        assert_eq!(start_text(series[23].0), "1970-01-01T23:00:00Z");
    }
}
