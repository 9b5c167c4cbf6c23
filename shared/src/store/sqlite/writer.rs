//! The embedded engine's one writer: a thread that owns the write connection and runs every
//! write queued since its last commit in one transaction (group commit), each in a savepoint
//! of its own so that a failed write undoes only itself, and answers each after COMMIT. A
//! second thread copies the committed pages from the WAL into the database (checkpoints), so
//! the writer does not.

use crate::StoreError;
use rusqlite::Connection;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

/// The most writes one transaction takes, so that the first of them is not kept waiting long.
const MAX_BATCH: usize = 1024;
/// The writer's own cache of database pages, in KiB (SQLite's default is 2 MiB). Small on
/// purpose: SQLite walks the whole cache at the end of every transaction, so each commit pays
/// for its size, and pages it misses are mapped from the file (`mmap_size`) or read from the
/// WAL. Measured on log ingest over a store of 2-3 million actions (docs/embedded.md): 4 MiB
/// 82-88 µs a request, 16 MiB 86-101, 64 MiB 102-123.
const WRITER_CACHE_KIB: i64 = 4 * 1024;
/// How often the checkpoint thread copies the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// WAL pages beyond which the writer checkpoints by itself (a fallback: the checkpoint thread
/// normally keeps the WAL well below this).
const WRITER_CHECKPOINT_PAGES: i64 = 10_000;

/// A queued write.
pub(super) type Job = Box<dyn Queued>;

/// A write waiting for the writer: run inside the transaction, then answered with its outcome
/// once the transaction's own is known.
pub(super) trait Queued: Send {
    /// Runs the write in its savepoint. An error here (the savepoint itself failed) ends the
    /// whole transaction: it is rolled back and every write in it fails.
    fn run(&mut self, conn: &Connection) -> rusqlite::Result<()>;
    /// Answers the caller: its own result if `committed`, else the transaction's error.
    fn answer(self: Box<Self>, committed: &Result<(), StoreError>);
}

/// One caller's write and where its answer goes.
pub(super) struct Write<T, F> {
    work: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Write<T, F> {
    pub(super) fn new(work: F, reply: oneshot::Sender<Result<T, StoreError>>) -> Self {
        Write {
            work: Some(work),
            outcome: None,
            reply,
        }
    }
}

impl<T, F> Queued for Write<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let Some(work) = self.work.take() else {
            return Ok(());
        };
        statement(conn, "SAVEPOINT one")?;
        let outcome = work(conn);
        if outcome.is_err() {
            statement(conn, "ROLLBACK TO one")?;
        }
        statement(conn, "RELEASE one")?;
        self.outcome = Some(outcome.map_err(StoreError::from));
        Ok(())
    }

    fn answer(self: Box<Self>, committed: &Result<(), StoreError>) {
        let outcome = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Err(err), _) => Err(err.clone()),
            (Ok(()), None) => Err(StoreError::Failed("sqlite write was never run".into())),
        };
        // The caller may have stopped waiting (its deadline passed): nothing to tell then.
        let _ = self.reply.send(outcome);
    }
}

/// Runs one of the writer's fixed statements, prepared once.
fn statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Starts the writer thread on `conn`; it ends when every sender is dropped.
pub(super) fn start(conn: Connection) -> Result<mpsc::Sender<Job>, StoreError> {
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
    let (sender, jobs) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || write_loop(&conn, &jobs))
        .map_err(|err| StoreError::Failed(format!("sqlite writer thread: {err}")))?;
    Ok(sender)
}

/// Starts the checkpoint thread on `conn`: a passive checkpoint (it never waits for the writer
/// or for readers) every `CHECKPOINT_EVERY`, until the returned sender is dropped.
pub(super) fn checkpoints(conn: Connection) -> Result<mpsc::Sender<()>, StoreError> {
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %err, "sqlite checkpoint failed");
                }
            }
        })
        .map_err(|err| StoreError::Failed(format!("sqlite checkpoint thread: {err}")))?;
    Ok(stop)
}

/// Takes the first write queued and every other one already waiting, commits them together,
/// answers them, and starts again.
fn write_loop(conn: &Connection, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        batch.extend(jobs.try_iter().take(MAX_BATCH - 1));
        let committed = commit(conn, &mut batch);
        if let Err(err) = &committed {
            tracing::warn!(error = %err, writes = batch.len(), "sqlite transaction failed");
        }
        for job in batch {
            job.answer(&committed);
        }
    }
}

/// Runs `batch` in one transaction; on any failure rolls it all back.
fn commit(conn: &Connection, batch: &mut [Job]) -> Result<(), StoreError> {
    let outcome = statement(conn, "BEGIN IMMEDIATE")
        .and_then(|()| batch.iter_mut().try_for_each(|job| job.run(conn)))
        .and_then(|()| statement(conn, "COMMIT"));
    if outcome.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    Ok(outcome?)
}
