//! The keys in the embedded SQLite store: a row per key; a claim reads and replaces the row in
//! one savepoint of the single writer, so two claims of a key never both win.

use super::{Answer, Claim, KeyStore, Record};
use crate::store::sqlite::Sqlite;
use crate::StoreError;
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

pub struct SqliteKeys {
    db: Sqlite,
}

impl SqliteKeys {
    /// Creates the table if this is a new database.
    pub fn open(db: Sqlite) -> Result<Self, StoreError> {
        db.create(
            "CREATE TABLE IF NOT EXISTS idempotency (
                 key TEXT PRIMARY KEY NOT NULL,
                 fingerprint TEXT NOT NULL,
                 token TEXT NOT NULL,
                 lease INTEGER NOT NULL,
                 expires INTEGER NOT NULL,
                 status INTEGER,
                 content_type TEXT,
                 location TEXT,
                 body BLOB
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS idempotency_by_expiry ON idempotency (expires);",
        )?;
        Ok(SqliteKeys { db })
    }
}

/// A row as a record.
fn record(row: &Row<'_>) -> rusqlite::Result<Record> {
    let status: Option<u16> = row.get("status")?;
    let answer = match status {
        None => None,
        Some(status) => Some(Answer {
            status,
            content_type: row
                .get::<_, Option<String>>("content_type")?
                .unwrap_or_default(),
            location: row.get("location")?,
            body: row.get::<_, Option<Vec<u8>>>("body")?.unwrap_or_default(),
        }),
    };
    Ok(Record {
        fingerprint: row.get("fingerprint")?,
        token: row.get("token")?,
        lease: row.get("lease")?,
        expires: row.get("expires")?,
        answer,
    })
}

/// The claim, inside the writer's savepoint. Expired rows go first, so the table holds about a
/// day of keys (the index on `expires` makes that a range delete).
fn claim(conn: &Connection, key: &str, new: &Record, now: i64) -> rusqlite::Result<Claim> {
    conn.prepare_cached("DELETE FROM idempotency WHERE expires <= ?1")?
        .execute(params![now])?;
    let held = conn
        .prepare_cached("SELECT * FROM idempotency WHERE key = ?1")?
        .query_row(params![key], record)
        .optional()?;
    if let Some(held) = held.filter(|held| !held.is_free(now)) {
        return Ok(held.meets(&new.fingerprint));
    }
    let answer = new.answer.as_ref();
    conn.prepare_cached(
        "INSERT OR REPLACE INTO idempotency
         (key, fingerprint, token, lease, expires, status, content_type, location, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        key,
        new.fingerprint,
        new.token,
        new.lease,
        new.expires,
        answer.map(|a| a.status),
        answer.map(|a| a.content_type.as_str()),
        answer.and_then(|a| a.location.as_deref()),
        answer.map(|a| a.body.as_slice()),
    ])?;
    Ok(Claim::New(new.token.clone()))
}

#[async_trait]
impl KeyStore for SqliteKeys {
    async fn claim(&self, key: &str, record: &Record, now: i64) -> Result<Claim, StoreError> {
        let (key, record) = (key.to_string(), record.clone());
        self.db
            .write(move |conn| claim(conn, &key, &record, now))
            .await
    }

    async fn complete(&self, key: &str, token: &str, answer: &Answer) -> Result<(), StoreError> {
        let (key, token, answer) = (key.to_string(), token.to_string(), answer.clone());
        self.db
            .write(move |conn| {
                conn.prepare_cached(
                    "UPDATE idempotency SET status = ?3, content_type = ?4, location = ?5,
                     body = ?6 WHERE key = ?1 AND token = ?2",
                )?
                .execute(params![
                    key,
                    token,
                    answer.status,
                    answer.content_type,
                    answer.location,
                    answer.body
                ])?;
                Ok(())
            })
            .await
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let (key, token) = (key.to_string(), token.to_string());
        self.db
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM idempotency WHERE key = ?1 AND token = ?2")?
                    .execute(params![key, token])?;
                Ok(())
            })
            .await
    }
}
