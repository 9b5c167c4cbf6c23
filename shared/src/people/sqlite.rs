//! The people directory in the embedded SQLite store: the same groups as the DynamoDB adapter,
//! as indexed columns, so every route reads an index range (see `age.rs`), and a count per
//! group (`people_groups`) kept in the write (one savepoint) that writes the person.

use super::age::{AgeGroup, Days, GroupQuery};
use super::{date, Details, Person, PersonId, PersonStore, MAX_ID};
use crate::store::sqlite::Sqlite;
use crate::StoreError;
use async_trait::async_trait;
use rusqlite::types::Type;
use rusqlite::Error::FromSqlConversionFailure;
use rusqlite::{params, Connection, OptionalExtension, Row};

const COLUMNS: &str = "id, first, last, age, github, graduated";

pub struct SqlitePeople {
    db: Sqlite,
}

impl SqlitePeople {
    /// Creates the tables and indexes if this is a new database.
    pub fn open(db: Sqlite) -> Result<Self, StoreError> {
        db.create(
            "CREATE TABLE IF NOT EXISTS people (
                     id INTEGER PRIMARY KEY NOT NULL,
                     first TEXT, last TEXT, age INTEGER, github TEXT, graduated TEXT,
                     last_key TEXT, grp TEXT NOT NULL, md INTEGER
                 );
                 CREATE INDEX IF NOT EXISTS people_by_last_name ON people (last_key, id);
                 CREATE INDEX IF NOT EXISTS people_by_group ON people (grp, id);
                 CREATE TABLE IF NOT EXISTS people_groups (
                     grp TEXT PRIMARY KEY NOT NULL,
                     count INTEGER NOT NULL
                 ) WITHOUT ROWID;
                 INSERT INTO people_groups (grp, count)
                     SELECT grp, COUNT(*) FROM people
                     WHERE NOT EXISTS (SELECT 1 FROM people_groups) GROUP BY grp;",
        )?;
        Ok(SqlitePeople { db })
    }

    async fn write(&self, person: &Person, verb: &'static str) -> Result<bool, StoreError> {
        let person = person.clone();
        self.db.write(move |conn| write(conn, &person, verb)).await
    }
}

/// `INSERT OR IGNORE` (only if free) or `INSERT OR REPLACE` (overwrite) one person, and moves
/// the group counts along; `true` if it was written. Run it as one `Sqlite::write`.
fn write(conn: &Connection, person: &Person, verb: &str) -> rusqlite::Result<bool> {
    let id = i64::try_from(person.id).unwrap_or(i64::MAX);
    let replaced: Option<String> = conn
        .prepare_cached("SELECT grp FROM people WHERE id = ?1")?
        .query_row(params![id], |row| row.get(0))
        .optional()?;
    if put(conn, person, verb)? == 0 {
        return Ok(false);
    }
    let mut count = conn.prepare_cached(
        "INSERT INTO people_groups (grp, count) VALUES (?1, ?2)
         ON CONFLICT (grp) DO UPDATE SET count = count + excluded.count",
    )?;
    if let Some(old) = replaced {
        count.execute(params![old, -1])?;
    }
    count.execute(params![person.details.age_group().key(), 1])?;
    Ok(true)
}

fn put(conn: &Connection, person: &Person, verb: &str) -> rusqlite::Result<usize> {
    let d = &person.details;
    let sql = format!(
        "{verb} INTO people ({COLUMNS}, last_key, grp, md) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    );
    conn.prepare_cached(&sql)?.execute(params![
        i64::try_from(person.id).unwrap_or(i64::MAX),
        d.first,
        d.last,
        d.age,
        d.github,
        d.graduated.map(date::format),
        d.last_key(),
        d.age_group().key(),
        d.graduated.map(date::month_day),
    ])
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Person> {
    let graduated: Option<String> = row.get(5)?;
    Ok(Person {
        id: row.get(0)?,
        details: Details {
            first: row.get(1)?,
            last: row.get(2)?,
            age: row.get(3)?,
            github: row.get(4)?,
            graduated: graduated
                .map(|raw| date::parse(&raw, time::Date::MAX))
                .transpose()
                .map_err(|e| FromSqlConversionFailure(5, Type::Text, e.into()))?,
        },
    })
}

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn sql_id(id: Option<u64>) -> i64 {
    id.and_then(|id| i64::try_from(id).ok()).unwrap_or(0)
}

#[async_trait]
impl PersonStore for SqlitePeople {
    async fn insert_new(&self, details: &Details) -> Result<Option<Person>, StoreError> {
        let details = details.clone();
        self.db
            .write(move |conn| {
                let last: u64 =
                    conn.query_row("SELECT COALESCE(MAX(id), 0) FROM people", [], |r| r.get(0))?;
                if last >= MAX_ID {
                    return Ok(None);
                }
                let person = Person {
                    id: last + 1,
                    details,
                };
                write(conn, &person, "INSERT")?;
                Ok(Some(person))
            })
            .await
    }

    async fn insert(&self, person: &Person) -> Result<bool, StoreError> {
        self.write(person, "INSERT OR IGNORE").await
    }

    async fn upsert(&self, person: &Person) -> Result<(), StoreError> {
        self.write(person, "INSERT OR REPLACE").await.map(drop)
    }

    async fn get(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        let id = sql_id(Some(id.get()));
        self.db
            .read(move |conn| {
                conn.prepare_cached(&format!("SELECT {COLUMNS} FROM people WHERE id = ?1"))?
                    .query_row(params![id], from_row)
                    .optional()
            })
            .await
    }

    async fn list(&self, after: Option<u64>, limit: usize) -> Result<Vec<Person>, StoreError> {
        let (after, limit) = (sql_id(after), sql_limit(limit));
        self.db
            .read(move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM people WHERE id > ?1 ORDER BY id LIMIT ?2"
                ))?
                .query_map(params![after, limit], from_row)?
                .collect()
            })
            .await
    }

    async fn ids_by_last_name(&self, key: &str) -> Result<Vec<u64>, StoreError> {
        let key = key.to_string();
        self.db
            .read(move |conn| {
                conn.prepare_cached("SELECT id FROM people WHERE last_key = ?1 ORDER BY id")?
                    .query_map(params![key], |row| row.get(0))?
                    .collect()
            })
            .await
    }

    async fn age_groups(&self) -> Result<Vec<AgeGroup>, StoreError> {
        let keys: Vec<String> = self
            .db
            .read(|conn| {
                // A skip scan of the group index: one seek per group, however many people.
                conn.prepare_cached(
                    "WITH RECURSIVE g(grp) AS (
                         SELECT MIN(grp) FROM people
                         UNION ALL
                         SELECT (SELECT MIN(grp) FROM people WHERE grp > g.grp) FROM g
                         WHERE g.grp IS NOT NULL
                     ) SELECT grp FROM g WHERE grp IS NOT NULL",
                )?
                .query_map([], |row| row.get(0))?
                .collect()
            })
            .await?;
        Ok(keys.iter().filter_map(|k| AgeGroup::from_key(k)).collect())
    }

    async fn in_group(
        &self,
        query: &GroupQuery,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Person>, StoreError> {
        let (after, limit, group) = (sql_id(after), sql_limit(limit), query.group.key());
        let (low, high) = match query.days {
            Days::All => (0, u16::MAX),
            Days::UpTo(md) => (0, md),
            Days::After(md) => (md + 1, u16::MAX),
        };
        self.db
            .read(move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM people WHERE grp = ?1 AND id > ?2
                     AND COALESCE(md, 0) BETWEEN ?3 AND ?4 ORDER BY id LIMIT ?5"
                ))?
                .query_map(params![group, after, low, high, limit], from_row)?
                .collect()
            })
            .await
    }

    async fn group_counts(&self) -> Result<Vec<(AgeGroup, u64)>, StoreError> {
        let rows: Vec<(String, u64)> = self
            .db
            .read(|conn| {
                conn.prepare_cached("SELECT grp, count FROM people_groups WHERE count > 0")?
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .await?;
        let mut counts: Vec<(AgeGroup, u64)> = rows
            .into_iter()
            .filter_map(|(key, count)| Some((AgeGroup::from_key(&key)?, count)))
            .collect();
        counts.sort();
        Ok(counts)
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.db
            .read(|conn| {
                conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM people)", [], |r| r.get(0))
            })
            .await
    }
}
