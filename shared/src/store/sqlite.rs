//! The embedded engine: one SQLite file in WAL mode under the data directory. Writes go to one
//! writer thread that runs whatever is queued in one transaction (group commit, `writer.rs`);
//! reads run on a small pool of connections beside it, which WAL never makes wait for it.

mod writer;

use crate::StoreError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{oneshot, Semaphore};
use writer::{Job, Write};

/// The file, inside the data directory, that holds every service's tables.
pub const FILE_NAME: &str = "tally.sqlite3";
/// How many reads run at once (each on its own connection); more wait for a turn.
const READERS: usize = 4;
/// How long a connection waits for a lock held by another process before giving up (503).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection: more than every adapter's statements together,
/// so none is ever prepared twice.
const STATEMENT_CACHE: usize = 64;
/// How much of the file each connection maps into memory: pages are read from the OS's cache
/// in place, without a system call each.
const MMAP_BYTES: i64 = 1 << 30;

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

/// The engine's handle: cheap to clone; the writer thread ends when the last clone is dropped.
#[derive(Clone)]
pub struct Sqlite {
    shared: Arc<Shared>,
}

struct Shared {
    file: PathBuf,
    writer: mpsc::Sender<Job>,
    /// Dropped with the handle, which stops the checkpoint thread.
    _checkpoints: mpsc::Sender<()>,
    /// Idle read connections, and the turns to use one.
    readers: Mutex<Vec<Connection>>,
    turns: Semaphore,
}

/// Opens a connection to `file` with the engine's settings. WAL with `synchronous=NORMAL`: a
/// commit survives the process being killed; a power cut may lose the last commits (README).
fn connect(file: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(file)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    // Savepoints keep the pages they change in a journal of their own: in memory, not in a
    // temporary file written (and created) with system calls on every transaction.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

impl Sqlite {
    /// Opens (creating if needed) the database in `dir` and starts its writer thread.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|err| {
            StoreError::Failed(format!("data directory {}: {err}", dir.display()))
        })?;
        let file = dir.join(FILE_NAME);
        let writer = writer::start(connect(&file)?)?;
        let checkpoints = writer::checkpoints(connect(&file)?)?;
        Ok(Sqlite {
            shared: Arc::new(Shared {
                file,
                writer,
                _checkpoints: checkpoints,
                readers: Mutex::new(Vec::new()),
                turns: Semaphore::new(READERS),
            }),
        })
    }

    /// Creates a store's tables and indexes (`CREATE ... IF NOT EXISTS` statements) at start,
    /// on a connection of its own.
    pub fn create(&self, schema: &str) -> Result<(), StoreError> {
        self.setup(|conn| conn.execute_batch(schema))
    }

    /// Runs `work` at start (creating or migrating a store's tables), on a connection of its
    /// own.
    pub fn setup(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<(), StoreError> {
        Ok(work(&connect(&self.shared.file)?)?)
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
        self.write(move |conn| {
            conn.prepare_cached(&sql)?
                .query_row(rusqlite::params![key], |row| row.get(0))
        })
        .await
    }

    /// The count of `key` in a `create_counters` table; `None` if never counted.
    pub(crate) async fn count_of(
        &self,
        table: &str,
        key_column: &str,
        key: &str,
    ) -> Result<Option<u64>, StoreError> {
        let sql = format!("SELECT count FROM {table} WHERE {key_column} = ?1");
        let key = key.to_string();
        self.read(move |conn| {
            rusqlite::OptionalExtension::optional(
                conn.prepare_cached(&sql)?
                    .query_row(rusqlite::params![key], |row| row.get(0)),
            )
        })
        .await
    }

    /// Runs `work` in the writer's next transaction, in a savepoint of its own: all of it is
    /// stored or none of it, whatever the other requests in that transaction do. Answers once
    /// the transaction is committed, so what is answered is on disk.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.shared
            .writer
            .send(Box::new(Write::new(work, reply)))
            .map_err(|_| StoreError::Failed("sqlite writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Failed("sqlite writer dropped a request".into()))?
    }

    /// Runs `work` on a read connection on a blocking thread; it sees the last commit.
    pub async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let _turn = self
            .shared
            .turns
            .acquire()
            .await
            .map_err(|_| StoreError::Failed("sqlite readers closed".into()))?;
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || shared.read(work))
            .await
            .map_err(|err| StoreError::Failed(format!("sqlite task: {err}")))?
    }
}

impl Shared {
    fn read<T>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        // A pool of idle connections stays usable even if a panic ever poisoned its lock.
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = connect(&self.file)?;
                conn.pragma_update(None, "query_only", true)?;
                conn
            }
        };
        let result = work(&conn);
        let mut idle = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < READERS {
            idle.push(conn);
        }
        drop(idle);
        Ok(result?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn store(dir: &Path) -> Sqlite {
        let db = Sqlite::open(dir).expect("open");
        db.create("CREATE TABLE t (k INTEGER PRIMARY KEY NOT NULL)")
            .expect("schema");
        db
    }

    /// Another process's write transaction, holding the database's write lock until dropped.
    fn lock(dir: &Path) -> Connection {
        let other = Connection::open(dir.join(FILE_NAME)).expect("other connection");
        other.execute_batch("BEGIN IMMEDIATE").expect("write lock");
        other
    }

    async fn rows(db: &Sqlite) -> i64 {
        db.read(|conn| conn.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0)))
            .await
            .expect("count")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_fails_only_itself_and_leaves_nothing_behind() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let db = store(dir.path());
        let other = lock(dir.path());
        // The first write holds the writer at BEGIN; the rest queue and share one transaction.
        let writes = (0..50i64).map(|k| {
            let db = db.clone();
            async move {
                db.write(move |conn| {
                    conn.execute("INSERT INTO t (k) VALUES (?1)", [k + 100])?;
                    // Write 7 then breaks a constraint: its first insert must go too.
                    let key = if k == 7 { 100 } else { k };
                    conn.execute("INSERT INTO t (k) VALUES (?1)", [key])
                })
                .await
            }
        });
        let pending = tokio::spawn(futures_util::future::join_all(writes));
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(other);
        let outcomes = pending.await.expect("writes");
        for (k, outcome) in outcomes.iter().enumerate() {
            assert_eq!(outcome.is_err(), k == 7, "write {k}: {outcome:?}");
        }
        assert_eq!(rows(&db).await, 49 * 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_do_not_wait_for_a_write_waiting_on_a_lock() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let db = store(dir.path());
        let other = lock(dir.path());
        let writer = db.clone();
        let write = tokio::spawn(async move {
            writer
                .write(|conn| conn.execute("INSERT INTO t (k) VALUES (1)", []))
                .await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        assert_eq!(rows(&db).await, 0);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the read waited"
        );
        drop(other);
        write
            .await
            .expect("task")
            .expect("the write, once the lock is free");
        assert_eq!(rows(&db).await, 1);
    }
}
