//! Request statistics (contract section E): counted paths, their ranking and the store trait.

pub(crate) mod dynamodb;
pub mod selftest;
#[cfg(feature = "embedded")]
pub(crate) mod sqlite;

use crate::http::cursor::{Page, PageRequest};
use crate::series::{self, Counts, Hour, SeriesRange, SeriesStore};
use crate::{ApiError, StoreError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// The longest counted path, in bytes; longer is 414.
pub const MAX_PATH_BYTES: usize = 1024;
/// What precedes a counted path in the request path.
pub const PREFIX: &str = "/api/";

/// A path to count: the path after `/api/` as API Gateway HTTP APIs hand it to Lambda, that is
/// percent-decoded (`/api/a%2Fb` and `/api/a/b` are one path), without trailing slashes, 1 to
/// 1,024 bytes. It is the route's `{proxy+}` parameter, which API Gateway decodes (and the
/// local API too), never the request URI: `lambda_http` re-parses the decoded `rawPath`, so a
/// decoded `?` would cut it short there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedPath(String);

impl CountedPath {
    /// Takes the counted part of a decoded `{proxy+}` parameter such as `a/b/`.
    pub fn from_proxy(proxy: &str) -> Result<Self, ApiError> {
        let counted = proxy.trim_end_matches('/');
        if counted.is_empty() {
            return Err(ApiError::NotFound(format!(
                "path: nothing to count in {PREFIX}{proxy}; ask for {PREFIX}<path>"
            )));
        }
        if counted.len() > MAX_PATH_BYTES {
            return Err(ApiError::UriTooLong(format!(
                "path: is {} bytes once percent-decoded; at most {MAX_PATH_BYTES} are counted",
                counted.len()
            )));
        }
        Ok(CountedPath(counted.to_string()))
    }

    /// A counted path as a query names it (`GET /stats/series?path=a/b`): the same rules, but
    /// a 400 naming `field` where a request path would be 404 or 414.
    pub fn from_query(field: &str, raw: &str) -> Result<Self, ApiError> {
        Self::from_proxy(raw).map_err(|err| ApiError::field(field, err.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of its series (`SeriesStore`).
    fn series(&self) -> String {
        format!("p#{}", self.0)
    }
}

/// A counted path and its count; also the position a `/stats/` page stops at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathCount {
    pub path: String,
    pub count: u64,
}

/// The order of `/stats/`: most requested first, ties by path in byte order.
pub fn ranking(a: &PathCount, b: &PathCount) -> Ordering {
    b.count
        .cmp(&a.count)
        .then_with(|| a.path.as_bytes().cmp(b.path.as_bytes()))
}

/// A slice of the ranking, with how many index entries or rows the store read to make it.
#[derive(Debug, Default)]
pub struct Ranked {
    pub entries: Vec<PathCount>,
    pub items_read: usize,
}

/// Storage of the path counters.
#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Adds one to the path's counter in one atomic write and returns the new count.
    async fn increment(&self, path: &CountedPath) -> Result<u64, StoreError>;
    /// The path's count, read consistently; `None` if never counted.
    async fn count(&self, path: &CountedPath) -> Result<Option<u64>, StoreError>;
    /// Up to `limit` (at least 1) entries that rank after `after`, in `ranking` order. What it
    /// reads must grow with `limit`, never with the number of paths stored.
    async fn ranked(&self, after: Option<&PathCount>, limit: usize) -> Result<Ranked, StoreError>;
}

/// Counts a request of `path`: its counter, then its hour and day (`series`). Returns the new
/// count.
pub async fn count_path(
    store: &dyn StatsStore,
    series: &dyn SeriesStore,
    path: &CountedPath,
) -> Result<u64, StoreError> {
    let count = store.increment(path).await?;
    series::count_one(series, &path.series()).await?;
    Ok(count)
}

/// The stored buckets of a path's series in `range`; `None` if it was never counted.
pub async fn path_series(
    store: &dyn StatsStore,
    series: &dyn SeriesStore,
    path: &CountedPath,
    range: &SeriesRange,
) -> Result<Option<Vec<(Hour, Counts)>>, StoreError> {
    series::read_counted(series, store.count(path).await?, &path.series(), range).await
}

/// One page of `/stats/`, the cursor being the last entry shown.
pub async fn ranking_page(
    store: &dyn StatsStore,
    page: &PageRequest<PathCount>,
) -> Result<Page<PathCount, PathCount>, StoreError> {
    let ranked = store.ranked(page.after.as_ref(), page.limit + 1).await?;
    tracing::debug!(
        limit = page.limit,
        items_read = ranked.items_read,
        "stats page"
    );
    Ok(Page::from_lookahead(
        ranked.entries,
        page.limit,
        PathCount::clone,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(proxy: &str) -> Result<String, ApiError> {
        CountedPath::from_proxy(proxy).map(|p| p.as_str().to_string())
    }

    #[test]
    fn the_counted_path_is_the_decoded_proxy_without_trailing_slashes() {
        assert_eq!(counted("a/b/").unwrap(), "a/b");
        assert_eq!(counted("a/b").unwrap(), "a/b");
        assert_eq!(counted("a//").unwrap(), "a");
        assert_eq!(counted("A b?c").unwrap(), "A b?c");
        assert_eq!(counted("/x").unwrap(), "/x");
    }

    #[test]
    fn nothing_but_slashes_is_404() {
        for proxy in ["/", "//", ""] {
            assert!(
                matches!(counted(proxy), Err(ApiError::NotFound(_))),
                "{proxy}"
            );
        }
    }

    #[test]
    fn paths_over_1024_bytes_are_414_naming_the_path() {
        let ok = "x".repeat(MAX_PATH_BYTES);
        assert_eq!(counted(&ok).unwrap().len(), MAX_PATH_BYTES);
        let long = format!("{}/", "é".repeat(MAX_PATH_BYTES / 2 + 1));
        let err = counted(&long).unwrap_err();
        assert!(matches!(err, ApiError::UriTooLong(_)));
        assert!(err.to_string().starts_with("path: "), "{err}");
    }

    #[test]
    fn ranking_is_count_descending_then_path_bytes() {
        let entry = |path: &str, count| PathCount {
            path: path.into(),
            count,
        };
        let mut entries = [entry("b", 1), entry("a", 1), entry("Z", 1), entry("z", 3)];
        entries.sort_by(ranking);
        let order: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(order, ["z", "Z", "a", "b"]);
    }
}
