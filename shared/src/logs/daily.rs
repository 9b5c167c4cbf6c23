//! The daily rollup of the event logs: how many actions of each type happened on each UTC day,
//! counted when actions are first stored, so the dashboard reads a few counters, not the logs.

use super::{Instant, LogBatch};
use std::collections::BTreeMap;

/// Actions of one type on one UTC day (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCount {
    pub day: String,
    pub kind: String,
    pub count: u64,
}

/// The UTC day of an instant, `YYYY-MM-DD` (its order key starts with it).
pub fn day_of(instant: &Instant) -> &str {
    &instant.utc_key()[..10]
}

/// What one batch adds to the rollup: one entry per (day, type) it holds, by day then type.
pub fn batch_totals(batch: &LogBatch) -> Vec<DailyCount> {
    let mut totals: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for action in &batch.actions {
        *totals
            .entry((day_of(&action.time), action.kind.as_str()))
            .or_default() += 1;
    }
    totals
        .into_iter()
        .map(|((day, kind), count)| DailyCount {
            day: day.to_string(),
            kind: kind.to_string(),
            count,
        })
        .collect()
}

/// Adds up entries that name the same (day, type) (one per shard), by day then type.
pub fn sum_by_day_and_type(entries: impl IntoIterator<Item = DailyCount>) -> Vec<DailyCount> {
    let mut totals: BTreeMap<(String, String), u64> = BTreeMap::new();
    for e in entries {
        *totals.entry((e.day, e.kind)).or_default() += e.count;
    }
    totals
        .into_iter()
        .map(|((day, kind), count)| DailyCount { day, kind, count })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_batch_counts_each_type_on_the_utc_day_of_its_instant() {
        let body = json!({"userId": "u", "sessionId": "s", "actions": [
            {"time": "2018-10-18T21:37:28-06:00", "type": "CLICK"},
            {"time": "2018-10-19T01:00:00Z", "type": "CLICK"},
            {"time": "2018-10-18T23:00:00Z", "type": "VIEW"},
        ]});
        let batch = LogBatch::parse(body.to_string().as_bytes()).expect("valid");
        let day = |day: &str, kind: &str, count| DailyCount {
            day: day.into(),
            kind: kind.into(),
            count,
        };
        assert_eq!(
            batch_totals(&batch),
            vec![day("2018-10-18", "VIEW", 1), day("2018-10-19", "CLICK", 2)]
        );
        assert_eq!(
            sum_by_day_and_type(vec![day("d", "a", 1), day("c", "a", 1), day("d", "a", 2)]),
            vec![day("c", "a", 1), day("d", "a", 3)]
        );
    }
}
