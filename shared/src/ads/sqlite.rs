//! The ad counters in the embedded SQLite store: one row per (namespace, name); both UPSERTs
//! of a request run in one write (one savepoint of the writer's transaction), so a request
//! counts for the user and the SDK version or for neither. SQLite serialises writers, so no counter needs spreading here.

use super::{AdParams, AdStore, Counts, Event, Namespace, StatsKey};
use crate::store::sqlite::Sqlite;
use crate::StoreError;
use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

pub struct SqliteAds {
    db: Sqlite,
}

impl SqliteAds {
    /// Creates the table if this is a new database.
    pub fn open(db: Sqlite) -> Result<Self, StoreError> {
        db.create(
            "CREATE TABLE IF NOT EXISTS ad_counters (
                     namespace TEXT NOT NULL,
                     name TEXT NOT NULL,
                     ad_requests INTEGER NOT NULL,
                     impressions INTEGER NOT NULL,
                     PRIMARY KEY (namespace, name)
                 ) WITHOUT ROWID;",
        )?;
        Ok(SqliteAds { db })
    }
}

#[async_trait]
impl AdStore for SqliteAds {
    async fn record(&self, event: Event, params: &AdParams) -> Result<(), StoreError> {
        let add = Counts::of(event);
        let counters = [
            (Namespace::User, params.username.clone()),
            (Namespace::Sdk, params.sdk_version.clone()),
        ];
        self.db
            .write(move |conn| {
                for (namespace, name) in &counters {
                    conn.prepare_cached(
                        "INSERT INTO ad_counters (namespace, name, ad_requests, impressions)
                         VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (namespace, name) DO UPDATE SET
                             ad_requests = ad_requests + excluded.ad_requests,
                             impressions = impressions + excluded.impressions",
                    )?
                    .execute(params![
                        namespace.as_str(),
                        name,
                        add.ad_requests,
                        add.impressions
                    ])?;
                }
                Ok(())
            })
            .await
    }

    async fn counts(&self, key: &StatsKey) -> Result<Option<Counts>, StoreError> {
        let (namespace, name) = (key.namespace.as_str(), key.name.clone());
        self.db
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT ad_requests, impressions FROM ad_counters
                     WHERE namespace = ?1 AND name = ?2",
                )?
                .query_row(params![namespace, name], |row| {
                    Ok(Counts {
                        ad_requests: row.get(0)?,
                        impressions: row.get(1)?,
                    })
                })
                .optional()
            })
            .await
    }

    async fn sdk_versions(&self, limit: usize) -> Result<Vec<(String, Counts)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT name, ad_requests, impressions FROM ad_counters
                     WHERE namespace = ?1 ORDER BY name LIMIT ?2",
                )?
                .query_map(params![Namespace::Sdk.as_str(), limit], |row| {
                    Ok((
                        row.get(0)?,
                        Counts {
                            ad_requests: row.get(1)?,
                            impressions: row.get(2)?,
                        },
                    ))
                })?
                .collect()
            })
            .await
    }
}
