//! Every series in the embedded SQLite store: a row per (series, bucket, field), the bucket an
//! hour or a day (`interval`, `start` as an hour since the epoch); a count adds to its hour and
//! its day in one savepoint.

use super::{Counts, Hour, SeriesRange, SeriesStore};
use crate::store::sqlite::Sqlite;
use crate::StoreError;
use async_trait::async_trait;
use rusqlite::params;

pub struct SqliteSeries {
    db: Sqlite,
}

impl SqliteSeries {
    /// Creates the table if this is a new database.
    pub fn open(db: Sqlite) -> Result<Self, StoreError> {
        db.create(
            "CREATE TABLE IF NOT EXISTS series (
                 series TEXT NOT NULL,
                 interval TEXT NOT NULL,
                 start INTEGER NOT NULL,
                 field TEXT NOT NULL,
                 count INTEGER NOT NULL,
                 PRIMARY KEY (series, interval, start, field)
             ) WITHOUT ROWID;",
        )?;
        Ok(SqliteSeries { db })
    }
}

#[async_trait]
impl SeriesStore for SqliteSeries {
    async fn add(&self, series: &str, at: Hour, counts: &[(&str, u64)]) -> Result<(), StoreError> {
        let series = series.to_string();
        let counts: Vec<(String, i64)> = counts
            .iter()
            .map(|(field, n)| (field.to_string(), i64::try_from(*n).unwrap_or(i64::MAX)))
            .collect();
        self.db
            .write(move |conn| {
                let mut add = conn.prepare_cached(
                    "INSERT INTO series (series, interval, start, field, count)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO UPDATE SET count = count + excluded.count",
                )?;
                for (field, n) in &counts {
                    add.execute(params![series, "hour", at, field, n])?;
                    add.execute(params![series, "day", at.div_euclid(24) * 24, field, n])?;
                }
                Ok(())
            })
            .await
    }

    async fn read(
        &self,
        series: &str,
        range: &SeriesRange,
    ) -> Result<Vec<(Hour, Counts)>, StoreError> {
        let series = series.to_string();
        let interval = range.interval.name();
        let (first, last) = (range.first, range.last);
        let rows: Vec<(Hour, String, u64)> = self
            .db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT start, field, count FROM series
                     WHERE series = ?1 AND interval = ?2 AND start BETWEEN ?3 AND ?4
                     ORDER BY start",
                )?;
                let rows = stmt.query_map(params![series, interval, first, last], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
                rows.collect()
            })
            .await?;
        let mut buckets: Vec<(Hour, Counts)> = Vec::new();
        for (start, field, count) in rows {
            match buckets.last_mut() {
                Some((last, counts)) if *last == start => {
                    counts.insert(field, count);
                }
                _ => buckets.push((start, Counts::from([(field, count)]))),
            }
        }
        Ok(buckets)
    }
}
