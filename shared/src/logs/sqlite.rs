//! The event logs in the embedded SQLite store: one row per action, in the order the writer
//! stored them, three small indexes ordered by instant then row id, and a request's actions
//! written in one write with its id and the daily rollup (`log_daily`).

use super::clock::stored_time;
use super::daily::batch_totals;
use super::{DailyCount, LogBatch, LogEntry, LogFilter, LogPositions, LogStore};
use crate::http::cursor::Page;
use crate::store::merge::{merged_page, ShardedQuery};
use crate::store::sqlite::Sqlite;
use crate::StoreError;
use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};

pub struct SqliteLogs {
    db: Sqlite,
}

/// Rows carry the instant as its fixed-width UTC text and are numbered as stored, so equal
/// instants keep their arrival order. Three indexes, ordered as a listing is (instant, then row
/// id): the whole time, one type, one user. A user's entries also hold the type, so a user and
/// a type are read from the user's entries without visiting the rows the type leaves out: one
/// index fewer to write per action than an index per filter, which was a third of ingest's
/// cost (docs/logs.md). Entries are 30 to 60 bytes, not the 100 of a full order key.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS log_seen (
         id TEXT PRIMARY KEY NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE IF NOT EXISTS log_rows (
         id INTEGER PRIMARY KEY,
         instant TEXT NOT NULL,
         user_id TEXT NOT NULL,
         session_id TEXT NOT NULL,
         time TEXT NOT NULL,
         type TEXT NOT NULL,
         properties TEXT NOT NULL
     );
     CREATE INDEX IF NOT EXISTS log_rows_by_time ON log_rows (instant);
     CREATE INDEX IF NOT EXISTS log_rows_by_user ON log_rows (user_id, instant, id, type);
     CREATE INDEX IF NOT EXISTS log_rows_by_type ON log_rows (type, instant);
     CREATE TABLE IF NOT EXISTS log_daily (
         day TEXT NOT NULL,
         type TEXT NOT NULL,
         count INTEGER NOT NULL,
         PRIMARY KEY (day, type)
     ) WITHOUT ROWID;";

/// Moves the actions of an older store (one table keyed by the full order key, whose instant
/// comes before the first `#`) into `log_rows`, in key order, and its request ids into
/// `log_seen`, in one transaction.
const MIGRATE: &str = "BEGIN IMMEDIATE;
     INSERT INTO log_rows (instant, user_id, session_id, time, type, properties)
         SELECT substr(order_key, 1, instr(order_key, '#') - 1),
                user_id, session_id, time, type, properties
         FROM log_actions ORDER BY order_key;
     INSERT OR IGNORE INTO log_seen (id) SELECT id FROM log_requests;
     DROP TABLE log_actions;
     DROP TABLE log_requests;
     COMMIT;";

impl SqliteLogs {
    /// Creates the tables and indexes if this is a new database, moving an older layout's
    /// actions over.
    pub fn open(db: Sqlite) -> Result<Self, StoreError> {
        db.setup(|conn| {
            conn.execute_batch(SCHEMA)?;
            let older: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'log_actions')",
                [],
                |row| row.get(0),
            )?;
            if older {
                conn.execute_batch(MIGRATE)?;
            }
            Ok(())
        })?;
        Ok(SqliteLogs { db })
    }
}

/// A listing position: the row's instant and id, as `<instant>#<id, 20 digits>` so that text
/// order is listing order.
fn position(instant: &str, id: i64) -> String {
    format!("{instant}#{id:020}")
}

/// The instant and id of a position. A position from before the rows were numbered (an older
/// layout's order key) resumes after its instant.
fn parse_position(key: &str) -> (&str, i64) {
    let (instant, id) = key.split_once('#').unwrap_or((key, ""));
    (instant, id.parse().unwrap_or(i64::MAX))
}

/// A `GET /log` query: one ordered range of one index.
struct Find<'a> {
    db: &'a Sqlite,
    filter: &'a LogFilter,
}

impl Find<'_> {
    /// The table with the index a user's filter reads (the user's entries, whatever the type),
    /// then the filter's conditions and their values.
    fn source(&self) -> (String, Vec<Value>) {
        let mut sql = String::from(match self.filter.user_id {
            Some(_) => "log_rows INDEXED BY log_rows_by_user WHERE 1",
            None => "log_rows WHERE 1",
        });
        let mut args = Vec::new();
        for (column, value) in [
            ("user_id", &self.filter.user_id),
            ("type", &self.filter.kind),
        ] {
            if let Some(value) = value {
                sql.push_str(&format!(" AND {column} = ?"));
                args.push(Value::Text(value.clone()));
            }
        }
        if let Some(end) = &self.filter.end {
            sql.push_str(" AND instant <= ?");
            args.push(Value::Text(end.utc_key().to_string()));
        }
        (sql, args)
    }
}

/// The rows of `sql` (which selects the id and the stored fields), each with its position.
fn rows(conn: &Connection, sql: &str, args: Vec<Value>) -> rusqlite::Result<Vec<(String, Row)>> {
    conn.prepare_cached(sql)?
        .query_map(params_from_iter(args), |row| {
            let instant: String = row.get(1)?;
            Ok((
                position(&instant, row.get(0)?),
                [
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                ],
            ))
        })?
        .collect()
}

/// A stored action's user, session, time, type and properties, as text.
type Row = [String; 5];

/// The ends of a page's index ranges, after the source's conditions: the rest of a position's
/// instant (its instant, then the id), and the instants after a bound (from a position, from
/// the filter's start, or none).
const REST_OF_INSTANT: &str = "AND instant = ? AND id > ? ORDER BY id LIMIT ?";
const AFTER: &str = "AND instant > ? ORDER BY instant, id LIMIT ?";
const FROM: &str = "AND instant >= ? ORDER BY instant, id LIMIT ?";
const ALL: &str = "ORDER BY instant, id LIMIT ?";

/// The query selecting the rows of `source` (table, index, conditions) in the range `tail` ends
/// with.
fn select(source: &str, tail: &str) -> String {
    format!("SELECT id, instant, user_id, session_id, time, type, properties FROM {source} {tail}")
}

#[async_trait]
impl ShardedQuery for Find<'_> {
    type Key = String;
    type Item = LogEntry;

    fn shards(&self) -> usize {
        1
    }

    /// Two index ranges at most: the rest of the position's instant, by id, then the later
    /// instants; each reads only what it returns.
    async fn fetch(
        &self,
        _shard: usize,
        after: Option<&String>,
        limit: usize,
    ) -> Result<Vec<(String, LogEntry)>, StoreError> {
        let (source, args) = self.source();
        let start = self.filter.start.as_ref().map(|t| t.utc_key().to_string());
        let after = after
            .map(|key| parse_position(key))
            .filter(|(instant, _)| start.as_deref().is_none_or(|start| start <= *instant))
            .map(|(instant, id)| (instant.to_string(), id));
        // Where the later instants begin: after the position's, else at the filter's start.
        let later = match &after {
            Some((instant, _)) => Some((AFTER, instant.clone())),
            None => start.map(|start| (FROM, start)),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .db
            .read(move |conn| {
                let with = |extra: Vec<Value>| args.iter().cloned().chain(extra).collect();
                let mut found = match after {
                    Some((instant, id)) => {
                        let rest = vec![instant.into(), id.into(), limit.into()];
                        rows(conn, &select(&source, REST_OF_INSTANT), with(rest))?
                    }
                    None => Vec::new(),
                };
                let wanted = limit - i64::try_from(found.len()).unwrap_or(limit);
                if wanted > 0 {
                    let (tail, extra) = match later {
                        Some((tail, from)) => (tail, vec![from.into(), wanted.into()]),
                        None => (ALL, vec![wanted.into()]),
                    };
                    found.extend(rows(conn, &select(&source, tail), with(extra))?);
                }
                Ok(found)
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
    /// A request whose id is already stored was stored whole (one transaction), so a retry
    /// writes nothing else.
    async fn record(&self, batch: &LogBatch, received: u64) -> Result<(), StoreError> {
        let batch = batch.clone();
        self.db
            .write(move |conn| {
                let new = conn
                    .prepare_cached("INSERT INTO log_seen (id) VALUES (?1) ON CONFLICT DO NOTHING")?
                    .execute(params![batch.request])?;
                if new == 0 {
                    return Ok(());
                }
                let mut insert = conn.prepare_cached(
                    "INSERT INTO log_rows (instant, user_id, session_id, time, type, properties)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for action in &batch.actions {
                    insert.execute(params![
                        action.time.utc_key(),
                        batch.user_id,
                        batch.session_id,
                        stored_time(&action.time, batch.sent_at.as_ref(), received),
                        action.kind,
                        action.properties
                    ])?;
                }
                let mut roll_up = conn.prepare_cached(
                    "INSERT INTO log_daily (day, type, count) VALUES (?1, ?2, ?3)
                     ON CONFLICT (day, type) DO UPDATE SET count = count + excluded.count",
                )?;
                for total in batch_totals(&batch) {
                    roll_up.execute(params![total.day, total.kind, total.count])?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Instant;

    fn open(dir: &std::path::Path) -> SqliteLogs {
        SqliteLogs::open(Sqlite::open(dir).expect("open")).expect("schema")
    }

    #[tokio::test]
    async fn every_filter_reads_an_index_range_in_order_without_sorting() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let logs = open(dir.path());
        for user in [None, Some("u")] {
            for kind in [None, Some("CLICK")] {
                for end in [None, Some("2018-10-19T03:37:28.000000000Z")] {
                    let filter = LogFilter {
                        user_id: user.map(str::to_string),
                        kind: kind.map(str::to_string),
                        end: end.map(|t| Instant::parse("endTime", t).expect("time")),
                        ..LogFilter::default()
                    };
                    let (source, _) = Find {
                        db: &logs.db,
                        filter: &filter,
                    }
                    .source();
                    for tail in [REST_OF_INSTANT, AFTER, FROM, ALL] {
                        let sql = format!("EXPLAIN QUERY PLAN {}", select(&source, tail));
                        let plan: Vec<String> = logs
                            .db
                            .read(move |conn| {
                                let mut stmt = conn.prepare(&sql)?;
                                let unbound = vec![Value::Null; stmt.parameter_count()];
                                let steps =
                                    stmt.query_map(params_from_iter(unbound), |row| row.get(3))?;
                                steps.collect()
                            })
                            .await
                            .expect("plan");
                        let index = match (user, kind) {
                            (None, None) => "INDEX log_rows_by_time",
                            (None, Some(_)) => "INDEX log_rows_by_type ",
                            (Some(_), _) => "INDEX log_rows_by_user ",
                        };
                        let ranged = matches!(plan.as_slice(), [step]
                            if step.starts_with("SEARCH log_rows USING")
                                || step == "SCAN log_rows USING INDEX log_rows_by_time")
                            && plan[0].contains(index);
                        assert!(ranged, "{filter:?} {tail}: {plan:#?}");
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn an_older_store_is_moved_over_in_order_and_its_requests_stay_recorded() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let older = rusqlite::Connection::open(dir.path().join(crate::store::sqlite::FILE_NAME))
            .expect("older store");
        older
            .execute_batch(
                "CREATE TABLE log_requests (id TEXT PRIMARY KEY NOT NULL, arrival INTEGER NOT NULL)
                     WITHOUT ROWID;
                 CREATE TABLE log_actions (order_key TEXT PRIMARY KEY NOT NULL,
                     user_id TEXT NOT NULL, session_id TEXT NOT NULL, time TEXT NOT NULL,
                     type TEXT NOT NULL, properties TEXT NOT NULL) WITHOUT ROWID;
                 INSERT INTO log_requests VALUES ('r1', 5);
                 INSERT INTO log_actions VALUES
                     ('2018-10-19T03:37:30.000000000Z#00000000000000000005#r1#0001', 'u', 's',
                      '2018-10-18T21:37:30-06:00', 'VIEW', '{}'),
                     ('2018-10-19T03:37:28.000000000Z#00000000000000000005#r1#0000', 'u', 's',
                      '2018-10-19T03:37:28Z', 'CLICK', '{\"x\":1}');",
            )
            .expect("older rows");
        drop(older);
        let logs = open(dir.path());
        let page = logs
            .find(&LogFilter::default(), None, 10)
            .await
            .expect("page");
        let kinds: Vec<&str> = page.items.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["CLICK", "VIEW"]);
        assert_eq!(page.items[0].properties, r#"{"x":1}"#);
        let mut batch = LogBatch::parse(
            br#"{"userId": "u", "sessionId": "s", "actions": [
                {"time": "2018-10-19T03:37:28Z", "type": "CLICK"}]}"#,
        )
        .expect("valid");
        batch.request = "r1".into();
        logs.record(&batch, 9).await.expect("retry");
        let again = logs
            .find(&LogFilter::default(), None, 10)
            .await
            .expect("page");
        assert_eq!(again.items.len(), 2, "the retry of r1 stored nothing");
    }
}
