//! The visit counter (contract section A): ids, counts and the store trait behind them.

pub(crate) mod dynamodb;
pub mod floor;
pub mod pages;
pub mod rank;
#[cfg(feature = "embedded")]
pub(crate) mod sqlite;

use crate::http::cursor::{Page, PageRequest};
use crate::series::{self, Hour, SeriesRange, SeriesStore};
use crate::store::keys::{self, KeyPart};
use crate::{ApiError, StoreError};
use async_trait::async_trait;
use serde::Serialize;

pub const MAX_ID_CHARS: usize = 128;
/// Visitors in the dashboard's top list: the most `top` answers exactly on DynamoDB, whose
/// rank index holds only ids that can be among them (`floor`).
pub const TOP_VISITORS: usize = 10;

/// A validated counter id: 1 to 128 code points, none of them a control character (Cc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitId(String);

impl VisitId {
    /// Checks `raw`, naming `field` in the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ApiError> {
        let chars = raw.chars().count();
        if chars == 0 || chars > MAX_ID_CHARS {
            return Err(ApiError::field(
                field,
                format!("must be 1 to {MAX_ID_CHARS} characters (got {chars})"),
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(ApiError::field(
                field,
                "must not contain control characters",
            ));
        }
        // The id is the table's sort key in DynamoDB.
        keys::check(field, raw, KeyPart::Sort)?;
        Ok(VisitId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of its series (`SeriesStore`).
    fn series(&self) -> String {
        format!("v#{}", self.0)
    }
}

/// One counter and its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Visit {
    pub id: String,
    pub count: u64,
}

/// Storage of the visit counters. Implementations must make `increment` one atomic write.
#[async_trait]
pub trait VisitStore: Send + Sync {
    /// Adds one to the counter and returns the new count.
    async fn increment(&self, id: &VisitId) -> Result<u64, StoreError>;
    /// The current count, read consistently; `None` if never counted.
    async fn count(&self, id: &VisitId) -> Result<Option<u64>, StoreError>;
    /// Up to `limit` counters with ids after `after`, in byte order of the id.
    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<Visit>, StoreError>;
    /// The `limit` most counted ids, most first, ties by id; reads grow with `limit` (and on
    /// DynamoDB with the ids that share the last one's rank step: `docs/visits.md`). Exact for
    /// `limit` up to `TOP_VISITORS`.
    async fn top(&self, limit: usize) -> Result<Vec<Visit>, StoreError>;
}

/// The order of `top`: most counted first, ties by id in byte order.
pub fn most_counted(a: &Visit, b: &Visit) -> std::cmp::Ordering {
    b.count
        .cmp(&a.count)
        .then_with(|| a.id.as_bytes().cmp(b.id.as_bytes()))
}

/// Counts a visit: its counter, then its hour and day (`series`). Returns the new count. A
/// failure between the two leaves the counter one ahead of its series (`docs/series.md`).
pub async fn count_visit(
    store: &dyn VisitStore,
    series: &dyn SeriesStore,
    id: &VisitId,
) -> Result<u64, StoreError> {
    let count = store.increment(id).await?;
    series::count_one(series, &id.series()).await?;
    Ok(count)
}

/// The stored buckets of a counter's series in `range`; `None` if it was never counted.
pub async fn counter_series(
    store: &dyn VisitStore,
    series: &dyn SeriesStore,
    id: &VisitId,
    range: &SeriesRange,
) -> Result<Option<Vec<(Hour, series::Counts)>>, StoreError> {
    series::read_counted(series, store.count(id).await?, &id.series(), range).await
}

/// One page of `/database`, the cursor being the last id shown.
pub async fn list_page(
    store: &dyn VisitStore,
    page: &PageRequest<String>,
) -> Result<Page<Visit, String>, StoreError> {
    let items = store.list(page.after.as_deref(), page.limit + 1).await?;
    Ok(Page::from_lookahead(items, page.limit, |visit| {
        visit.id.clone()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_1_to_128_code_points_are_accepted() {
        assert!(VisitId::parse("id", "a").is_ok());
        assert!(VisitId::parse("id", &"é".repeat(128)).is_ok());
    }

    #[test]
    fn empty_long_and_control_ids_are_refused_naming_the_field() {
        for bad in [
            String::new(),
            "x".repeat(129),
            "a\u{7f}".into(),
            "a\u{85}".into(),
            "a\nb".into(),
        ] {
            let err = VisitId::parse("id", &bad).expect_err("must be refused");
            assert!(err.to_string().starts_with("id: "), "{err}");
        }
    }
}
