//! The path counters in the embedded SQLite store: an UPSERT counts atomically, and an index on
//! (count descending, path) serves the ranking as two bounded index range reads.

use super::{CountedPath, PathCount, Ranked, StatsStore};
use crate::store::sqlite::Sqlite;
use crate::StoreError;
use async_trait::async_trait;
use rusqlite::{params, StatementStatus};

/// The rest of the count group at the cursor, then the counts below it; each side is an index
/// range of at most `?3` rows, so the final sort handles at most twice the page.
const RANKED_AFTER: &str = "
    SELECT path, count FROM (
        SELECT path, count FROM (
            SELECT path, count FROM stats WHERE count = ?1 AND path > ?2 ORDER BY path LIMIT ?3)
        UNION ALL
        SELECT path, count FROM (
            SELECT path, count FROM stats WHERE count < ?1 ORDER BY count DESC, path LIMIT ?3))
    ORDER BY count DESC, path LIMIT ?3";

pub struct SqliteStats {
    db: Sqlite,
}

impl SqliteStats {
    /// Creates the table and its ranking index if this is a new database.
    pub fn open(db: Sqlite) -> Result<Self, StoreError> {
        db.create_counters("stats", "path")?;
        Ok(SqliteStats { db })
    }
}

#[async_trait]
impl StatsStore for SqliteStats {
    async fn increment(&self, path: &CountedPath) -> Result<u64, StoreError> {
        self.db.count_one("stats", "path", path.as_str()).await
    }

    async fn count(&self, path: &CountedPath) -> Result<Option<u64>, StoreError> {
        self.db.count_of("stats", "path", path.as_str()).await
    }

    /// `items_read` is the rows returned plus any rows a full scan stepped through, so a plan
    /// that stopped using the index would show.
    async fn ranked(&self, after: Option<&PathCount>, limit: usize) -> Result<Ranked, StoreError> {
        // Without a cursor: the (empty) rest of a count above every count, then everything.
        let (count, path) = match after {
            Some(a) => (i64::try_from(a.count).unwrap_or(i64::MAX), a.path.clone()),
            None => (i64::MAX, String::new()),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(RANKED_AFTER)?;
                stmt.reset_status(StatementStatus::FullscanStep);
                let entries = stmt
                    .query_map(params![count, path, limit], |row| {
                        Ok(PathCount {
                            path: row.get(0)?,
                            count: row.get(1)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let scanned = stmt.get_status(StatementStatus::FullscanStep);
                Ok(Ranked {
                    items_read: entries.len() + usize::try_from(scanned).unwrap_or(usize::MAX),
                    entries,
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_ranking_query_searches_the_index_and_never_scans_the_table() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let store = SqliteStats::open(Sqlite::open(dir.path()).expect("open")).expect("schema");
        let plan: Vec<String> = store
            .db
            .read(|conn| {
                let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {RANKED_AFTER}"))?;
                let rows = stmt.query_map(params![3, "p", 11], |row| row.get::<_, String>(3))?;
                rows.collect()
            })
            .await
            .expect("plan");
        let searches = plan
            .iter()
            .filter(|step| step.starts_with("SEARCH stats USING COVERING INDEX stats_by_count"));
        assert_eq!(searches.count(), 2, "{plan:#?}");
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN stats")),
            "{plan:#?}"
        );
    }
}
