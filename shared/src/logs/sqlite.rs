//! The event logs in the embedded SQLite store: one row per action keyed by its order key, an
//! index per filter, and a request's actions written in one write with its arrival and
//! the daily rollup (`log_daily`), which counts only actions newly stored, so it stays exact.

use super::daily::day_of;
use super::{DailyCount, LogBatch, LogEntry, LogFilter, LogPositions, LogStore};
use crate::http::cursor::Page;
use crate::store::merge::{merged_page, ShardedQuery};
use crate::store::sqlite::Sqlite;
use crate::StoreError;
use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter};

pub struct SqliteLogs {
    db: Sqlite,
}

impl SqliteLogs {
    /// Creates the tables and indexes if this is a new database.
    pub fn open(db: Sqlite) -> Result<Self, StoreError> {
        db.create(
            "CREATE TABLE IF NOT EXISTS log_requests (
                     id TEXT PRIMARY KEY NOT NULL,
                     arrival INTEGER NOT NULL
                 ) WITHOUT ROWID;
                 CREATE TABLE IF NOT EXISTS log_actions (
                     order_key TEXT PRIMARY KEY NOT NULL,
                     user_id TEXT NOT NULL,
                     session_id TEXT NOT NULL,
                     time TEXT NOT NULL,
                     type TEXT NOT NULL,
                     properties TEXT NOT NULL
                 ) WITHOUT ROWID;
                 CREATE INDEX IF NOT EXISTS log_actions_by_user
                     ON log_actions (user_id, order_key);
                 CREATE INDEX IF NOT EXISTS log_actions_by_user_type
                     ON log_actions (user_id, type, order_key);
                 CREATE INDEX IF NOT EXISTS log_actions_by_type
                     ON log_actions (type, order_key);
                 CREATE TABLE IF NOT EXISTS log_daily (
                     day TEXT NOT NULL,
                     type TEXT NOT NULL,
                     count INTEGER NOT NULL,
                     PRIMARY KEY (day, type)
                 ) WITHOUT ROWID;",
        )?;
        Ok(SqliteLogs { db })
    }
}

/// A `GET /log` query: one ordered range of one index.
struct Find<'a> {
    db: &'a Sqlite,
    filter: &'a LogFilter,
}

#[async_trait]
impl ShardedQuery for Find<'_> {
    type Key = String;
    type Item = LogEntry;

    fn shards(&self) -> usize {
        1
    }

    async fn fetch(
        &self,
        _shard: usize,
        after: Option<&String>,
        limit: usize,
    ) -> Result<Vec<(String, LogEntry)>, StoreError> {
        let Some((low, high)) = self.filter.key_range(after.map(String::as_str)) else {
            return Ok(Vec::new());
        };
        let mut sql = String::from(
            "SELECT order_key, user_id, session_id, time, type, properties FROM log_actions
             WHERE order_key BETWEEN ? AND ?",
        );
        let mut args = vec![Value::Text(low), Value::Text(high)];
        for (column, value) in [
            ("user_id", &self.filter.user_id),
            ("type", &self.filter.kind),
        ] {
            if let Some(value) = value {
                sql.push_str(&format!(" AND {column} = ?"));
                args.push(Value::Text(value.clone()));
            }
        }
        sql.push_str(" ORDER BY order_key LIMIT ?");
        args.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        let rows = self
            .db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(params_from_iter(args), |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        [
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                            row.get(5)?,
                        ],
                    ))
                })?;
                rows.collect::<rusqlite::Result<Vec<(String, [String; 5])>>>()
            })
            .await?;
        rows.into_iter()
            .map(|(key, [user_id, session_id, time, kind, properties])| {
                LogEntry::from_stored(user_id, session_id, time, kind, &properties)
                    .map(|entry| (key, entry))
            })
            .collect()
    }
}

#[async_trait]
impl LogStore for SqliteLogs {
    async fn record(&self, batch: &LogBatch, received: u64) -> Result<(), StoreError> {
        let batch = batch.clone();
        let received = i64::try_from(received).unwrap_or(i64::MAX);
        self.db
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO log_requests (id, arrival) VALUES (?1, ?2)
                     ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![batch.request, received])?;
                let arrival: i64 = conn
                    .prepare_cached("SELECT arrival FROM log_requests WHERE id = ?1")?
                    .query_row(params![batch.request], |row| row.get(0))?;
                {
                    let mut insert = conn.prepare_cached(
                        "INSERT OR IGNORE INTO log_actions
                         (order_key, user_id, session_id, time, type, properties)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?;
                    let mut roll_up = conn.prepare_cached(
                        "INSERT INTO log_daily (day, type, count) VALUES (?1, ?2, 1)
                         ON CONFLICT (day, type) DO UPDATE SET count = count + 1",
                    )?;
                    for (key, action) in batch.keyed(u64::try_from(arrival).unwrap_or_default()) {
                        let stored = insert.execute(params![
                            key,
                            batch.user_id,
                            batch.session_id,
                            action.time.as_str(),
                            action.kind,
                            action.properties
                        ])?;
                        if stored == 1 {
                            roll_up.execute(params![day_of(&action.time), action.kind])?;
                        }
                    }
                }
                Ok(())
            })
            .await
    }

    fn shards(&self, _filter: &LogFilter) -> usize {
        1
    }

    async fn find(
        &self,
        filter: &LogFilter,
        after: Option<&LogPositions>,
        limit: usize,
    ) -> Result<Page<LogEntry, LogPositions>, StoreError> {
        let query = Find {
            db: &self.db,
            filter,
        };
        merged_page(&query, after.map(Vec::as_slice), limit).await
    }

    async fn daily_counts(
        &self,
        first: &str,
        last: &str,
        limit: usize,
    ) -> Result<Vec<DailyCount>, StoreError> {
        let (first, last) = (first.to_string(), last.to_string());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT day, type, count FROM log_daily
                     WHERE day BETWEEN ?1 AND ?2 ORDER BY day, type LIMIT ?3",
                )?
                .query_map(params![first, last, limit], |row| {
                    Ok(DailyCount {
                        day: row.get(0)?,
                        kind: row.get(1)?,
                        count: row.get(2)?,
                    })
                })?
                .collect()
            })
            .await
    }
}
