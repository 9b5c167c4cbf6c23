//! The visit counters in the embedded SQLite store: an UPSERT makes each increment atomic.

use super::{Visit, VisitId, VisitStore};
use crate::store::sqlite::Sqlite;
use crate::StoreError;
use async_trait::async_trait;
use rusqlite::params;

pub struct SqliteVisits {
    db: Sqlite,
}

impl SqliteVisits {
    /// Creates the table and its index by count if this is a new database.
    pub fn open(db: Sqlite) -> Result<Self, StoreError> {
        db.create_counters("visits", "id")?;
        Ok(SqliteVisits { db })
    }
}

#[async_trait]
impl VisitStore for SqliteVisits {
    async fn increment(&self, id: &VisitId) -> Result<u64, StoreError> {
        self.db.count_one("visits", "id", id.as_str()).await
    }

    async fn count(&self, id: &VisitId) -> Result<Option<u64>, StoreError> {
        self.db.count_of("visits", "id", id.as_str()).await
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<Visit>, StoreError> {
        let after = after.map(str::to_string);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, count FROM visits WHERE ?1 IS NULL OR id > ?1 ORDER BY id LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![after, limit], visit)?;
                rows.collect()
            })
            .await
    }

    async fn top(&self, limit: usize) -> Result<Vec<Visit>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, count FROM visits ORDER BY count DESC, id LIMIT ?1",
                )?;
                let rows = stmt.query_map(params![limit], visit)?;
                rows.collect()
            })
            .await
    }
}

fn visit(row: &rusqlite::Row<'_>) -> rusqlite::Result<Visit> {
    Ok(Visit {
        id: row.get(0)?,
        count: row.get(1)?,
    })
}
