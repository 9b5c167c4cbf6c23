//! The embedded engine: one SQLite file in WAL mode under the data directory, used off the
//! async threads through `Sqlite::call`.

use crate::StoreError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The file, inside the data directory, that holds every service's tables.
pub const FILE_NAME: &str = "tally.sqlite3";

/// Busy, locked, I/O and full-disk errors may pass; any other SQLite error is permanent.
impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked, DiskFull, SystemIoFailure};
        let message = format!("sqlite: {err}");
        match err.sqlite_error_code() {
            Some(DatabaseBusy | DatabaseLocked | DiskFull | SystemIoFailure) => {
                StoreError::Unavailable(message)
            }
            _ => StoreError::Failed(message),
        }
    }
}

/// A shared connection; SQLite serialises writers anyway, so one connection loses nothing.
#[derive(Clone)]
pub struct Sqlite {
    conn: Arc<Mutex<Connection>>,
}

impl Sqlite {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|err| {
            StoreError::Failed(format!("data directory {}: {err}", dir.display()))
        })?;
        let conn = Connection::open(dir.join(FILE_NAME))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Creates a store's tables and indexes (`CREATE ... IF NOT EXISTS` statements) at start.
    pub fn create(&self, schema: &str) -> Result<(), StoreError> {
        self.with(|conn| conn.execute_batch(schema))
    }

    /// Creates a counter table at start: `key` (text, primary key) and `count`, with an index
    /// most counted first, ties by key (for top-N and rankings). The visit counter and the
    /// request statistics are both such a table.
    pub(crate) fn create_counters(&self, table: &str, key: &str) -> Result<(), StoreError> {
        self.create(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                 {key} TEXT PRIMARY KEY NOT NULL,
                 count INTEGER NOT NULL
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS {table}_by_count ON {table} (count DESC, {key});"
        ))
    }

    /// Adds one to the counter `key` of a `create_counters` table in one UPSERT (atomic),
    /// creating it at 1; returns the new count.
    pub(crate) async fn count_one(
        &self,
        table: &str,
        key_column: &str,
        key: &str,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "INSERT INTO {table} ({key_column}, count) VALUES (?1, 1)
             ON CONFLICT ({key_column}) DO UPDATE SET count = count + 1
             RETURNING count"
        );
        let key = key.to_string();
        self.call(move |conn| {
            conn.prepare_cached(&sql)?
                .query_row(rusqlite::params![key], |row| row.get(0))
        })
        .await
    }

    /// Runs `work` on the connection synchronously (for schema set-up at start).
    pub fn with<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Failed("sqlite connection poisoned".into()))?;
        Ok(work(&mut conn)?)
    }

    /// Runs `work` on the connection on a blocking thread.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.with(work))
            .await
            .map_err(|err| StoreError::Failed(format!("sqlite task: {err}")))?
    }
}
