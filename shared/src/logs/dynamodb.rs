//! The event logs in DynamoDB: one item per action, keyed so that every filter is a Query.
//!
//! Table key `pk` = `u#<userId>`, `sk` = order key: a user's actions (and time ranges of them)
//! are one partition, read consistently. `ByUserType` (`ut` = `["<userId>","<type>"]`, `sk`)
//! serves user and type. `ByType` (`ts` = `["<type>",<shard>]`, `sk`) and `ByTime` (`shard`,
//! `sk`) spread a type, and everything, over `SHARDS` partitions so no partition is hot; their
//! reads merge the shards. A request's first arrival is kept in an item `pk` = `r#<request id>`,
//! `sk` = `r`, so a retry rebuilds exactly the same action items and overwrites them in place.
//! The daily rollup is items `pk` = `d#<k>` (k in 0..`ROLLUP_SHARDS`, picked at random per
//! write), `sk` = `<day>#<type>`, `count`; a read sums the shards (see `docs/dashboard.md`).

use super::body::MAX_PROPERTIES_BYTES;
use super::daily::{batch_totals, sum_by_day_and_type};
use super::layout::{
    items, rollup_key, type_key, user_key, user_type_key, Attributes, Value, BULK, EXPIRES, INLINE,
    SHARDS,
};
use super::{DailyCount, LogBatch, LogEntry, LogFilter, LogPositions, LogStore};
use crate::http::cursor::Page;
use crate::store::dynamodb::{
    batch_read, n, number, put_all, query_shards, query_up_to, s, string, Client, Item,
};
use crate::store::merge::{merged_page, ShardedQuery};
use crate::store::packed::{pack, unpack, Stored};
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use futures_util::stream::{self, TryStreamExt};
use std::collections::HashMap;
use std::time::Duration;

/// Items each (day, type) counter of the rollup is spread over, so no day is a hot item.
pub const ROLLUP_SHARDS: u32 = 4;
/// Rollup writes one request keeps in flight.
const ROLLUPS_IN_FLIGHT: usize = 8;

pub struct DynamoLogs {
    client: Client,
    table: String,
    /// How long actions and retry records are kept after arrival; `None`: forever.
    retention: Option<Duration>,
}

impl DynamoLogs {
    pub fn new(client: Client, table: String) -> Self {
        DynamoLogs {
            client,
            table,
            retention: None,
        }
    }

    /// Actions and retry records expire `days` after their request first arrived (0: never).
    pub fn with_retention_days(mut self, days: u64) -> Self {
        self.retention = (days > 0).then(|| Duration::from_secs(days * 86_400));
        self
    }

    /// The expiry (epoch seconds) of the items of a request that first arrived at `arrival`
    /// (nanoseconds since the epoch).
    fn expires(&self, arrival: u64) -> Option<u64> {
        let keep = self.retention?;
        Some(arrival / 1_000_000_000 + keep.as_secs())
    }

    /// The request's first arrival: set by the first call, read back by its retries.
    /// With a retention, the record expires with the request's actions.
    async fn arrival(&self, batch: &LogBatch, received: u64) -> Result<u64, StoreError> {
        let set_arrival = "SET #arrival = if_not_exists(#arrival, :received)";
        let expires = self.expires(received);
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("r#{}", batch.request)))
            .key("sk", s("r"))
            .expression_attribute_names("#arrival", "arrival")
            .expression_attribute_values(":received", n(received));
        let update = match expires {
            None => update.update_expression(set_arrival),
            Some(expires) => update
                .update_expression(format!(
                    "{set_arrival}, #expires = if_not_exists(#expires, :expires)"
                ))
                .expression_attribute_names("#expires", EXPIRES)
                .expression_attribute_values(":expires", n(expires)),
        };
        let out = update.return_values(ReturnValue::AllNew).send().await?;
        number(&out.attributes.unwrap_or_default(), "arrival")
    }

    /// Adds a batch's actions to the daily rollup: one `ADD` per (day, type) it holds.
    async fn roll_up(&self, batch: &LogBatch) -> Result<(), StoreError> {
        stream::iter(batch_totals(batch).into_iter().map(Ok))
            .try_for_each_concurrent(ROLLUPS_IN_FLIGHT, |total| async move {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key("pk", s(format!("d#{}", fastrand::u32(0..ROLLUP_SHARDS))))
                    .key("sk", s(rollup_key(&total.day, &total.kind)))
                    .update_expression("ADD #count :n")
                    .expression_attribute_names("#count", "count")
                    .expression_attribute_values(":n", n(total.count))
                    .send()
                    .await?;
                Ok(())
            })
            .await
    }
}

/// A rollup item as a count; its sort key is `<day, 10 chars>#<type>`.
fn daily(item: &Item) -> Result<DailyCount, StoreError> {
    let key = string(item, "sk")?;
    let (day, kind) = key
        .split_at_checked(10)
        .and_then(|(day, rest)| Some((day, rest.strip_prefix('#')?)))
        .ok_or_else(|| StoreError::Failed(format!("rollup key {key} is malformed")))?;
    Ok(DailyCount {
        day: day.to_string(),
        kind: kind.to_string(),
        count: number(item, "count")?,
    })
}

/// The user of an action item or entry, from its partition key `u#<userId>` (the key is in every
/// index entry, so the item does not repeat the id in an attribute).
fn user_of(item: &Item) -> Result<String, StoreError> {
    let key = string(item, "pk")?;
    key.strip_prefix("u#")
        .map(str::to_string)
        .ok_or_else(|| StoreError::Failed(format!("action key {key} is not a user's")))
}

/// An item as the SDK sends it.
fn item(attributes: Attributes) -> Item {
    attributes
        .into_iter()
        .map(|(name, value)| (name.to_string(), attribute(value)))
        .collect()
}

fn attribute(value: Value) -> AttributeValue {
    match value {
        Value::S(text) => AttributeValue::S(text),
        Value::B(bytes) => AttributeValue::B(Blob::new(bytes)),
        Value::N(number) => AttributeValue::N(number),
    }
}

/// Properties in their stored form, as `pack` made them.
fn stored(value: &AttributeValue) -> Result<Stored, StoreError> {
    match value {
        AttributeValue::S(text) => Ok(Stored::Text(text.clone())),
        AttributeValue::B(bytes) => Ok(Stored::Deflated(bytes.clone().into_inner())),
        _ => Err(StoreError::Failed(
            "stored properties are neither text nor binary".into(),
        )),
    }
}

/// Whether an item or index entry carries the action's properties.
fn has_properties(item: &Item) -> bool {
    item.contains_key(INLINE) || item.contains_key(BULK)
}

/// A stored action, from a table item or an index entry that carries its properties.
fn entry(item: &Item) -> Result<(String, LogEntry), StoreError> {
    let properties = item
        .get(INLINE)
        .or_else(|| item.get(BULK))
        .ok_or_else(|| StoreError::Failed("an action item has no properties".into()))?;
    let entry = LogEntry::from_stored(
        user_of(item)?,
        string(item, "sessionId")?,
        string(item, "time")?,
        string(item, "type")?,
        &unpack(&stored(properties)?, MAX_PROPERTIES_BYTES)?,
    )?;
    Ok((string(item, "sk")?, entry))
}

impl DynamoLogs {
    /// The actions of listed items. Index entries whose properties are in `bulk` are completed
    /// from the table: eventually consistent first (the table item is written before its index
    /// entry), then strongly consistent for what that missed. A row gone from the table (expired,
    /// its entry not yet removed) fails the read as unavailable; retried, the index has caught up.
    async fn complete(&self, listed: Vec<Item>) -> Result<Vec<(String, LogEntry)>, StoreError> {
        let mut rows: HashMap<String, Item> = HashMap::new();
        for consistent in [false, true] {
            let wanted: Vec<Item> = listed
                .iter()
                .filter(|item| !has_properties(item))
                .filter(|item| string(item, "sk").is_ok_and(|key| !rows.contains_key(&key)))
                .map(table_key)
                .collect();
            for row in batch_read(&self.client, &self.table, wanted, consistent).await? {
                rows.insert(string(&row, "sk")?, row);
            }
        }
        listed
            .iter()
            .map(|item| match has_properties(item) {
                true => entry(item),
                false => rows.get(&string(item, "sk")?).map_or_else(
                    || {
                        Err(StoreError::Unavailable(
                            "a listed action is not in the table".into(),
                        ))
                    },
                    entry,
                ),
            })
            .collect()
    }
}

/// The table key (`pk`, `sk`) of an item or index entry.
fn table_key(item: &Item) -> Item {
    ["pk", "sk"]
        .iter()
        .filter_map(|name| Some((name.to_string(), item.get(*name)?.clone())))
        .collect()
}

/// Which partitions a filter reads: the index, its partition attribute and its value per shard.
enum Partitions {
    User(String),
    UserType(String, String),
    Type(String),
    All,
}

impl Partitions {
    fn of(filter: &LogFilter) -> Self {
        match (&filter.user_id, &filter.kind) {
            (Some(user), None) => Partitions::User(user.clone()),
            (Some(user), Some(kind)) => Partitions::UserType(user.clone(), kind.clone()),
            (None, Some(kind)) => Partitions::Type(kind.clone()),
            (None, None) => Partitions::All,
        }
    }

    fn count(&self) -> usize {
        match self {
            Partitions::User(_) | Partitions::UserType(..) => 1,
            Partitions::Type(_) | Partitions::All => SHARDS as usize,
        }
    }

    fn key(&self, shard: usize) -> (Option<&'static str>, &'static str, AttributeValue) {
        match self {
            Partitions::User(user) => (None, "pk", s(user_key(user))),
            Partitions::UserType(user, kind) => {
                (Some("ByUserType"), "ut", s(user_type_key(user, kind)))
            }
            Partitions::Type(kind) => (Some("ByType"), "ts", s(type_key(kind, shard))),
            Partitions::All => (Some("ByTime"), "shard", n(shard)),
        }
    }
}

/// One `GET /log` query: the partitions, and the key range of its time filters.
struct Find<'a> {
    store: &'a DynamoLogs,
    filter: &'a LogFilter,
    partitions: Partitions,
}

#[async_trait]
impl ShardedQuery for Find<'_> {
    type Key = String;
    type Item = LogEntry;

    fn shards(&self) -> usize {
        self.partitions.count()
    }

    async fn fetch(
        &self,
        shard: usize,
        after: Option<&String>,
        limit: usize,
    ) -> Result<Vec<(String, LogEntry)>, StoreError> {
        let Some((low, high)) = self.filter.key_range(after.map(String::as_str)) else {
            return Ok(Vec::new());
        };
        let (index, attribute, value) = self.partitions.key(shard);
        let query = self
            .store
            .client
            .query()
            .table_name(&self.store.table)
            .set_index_name(index.map(str::to_string))
            .consistent_read(index.is_none())
            .key_condition_expression("#p = :p AND #sk BETWEEN :low AND :high")
            .expression_attribute_names("#p", attribute)
            .expression_attribute_names("#sk", "sk")
            .expression_attribute_values(":p", value)
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high));
        self.store.complete(query_up_to(query, limit).await?).await
    }
}

#[async_trait]
impl LogStore for DynamoLogs {
    async fn record(&self, batch: &LogBatch, received: u64) -> Result<(), StoreError> {
        let arrival = self.arrival(batch, received).await?;
        let items = items(batch, arrival, self.expires(arrival), |text| {
            pack(text).into()
        });
        let items = items.into_iter().map(item).collect();
        put_all(&self.client, &self.table, items).await?;
        // Only the request's first arrival counts, so a retry never counts twice.
        if arrival == received {
            self.roll_up(batch).await?;
        }
        Ok(())
    }

    fn shards(&self, filter: &LogFilter) -> usize {
        Partitions::of(filter).count()
    }

    async fn find(
        &self,
        filter: &LogFilter,
        after: Option<&LogPositions>,
        limit: usize,
    ) -> Result<Page<LogEntry, LogPositions>, StoreError> {
        let query = Find {
            store: self,
            filter,
            partitions: Partitions::of(filter),
        };
        merged_page(&query, after.map(Vec::as_slice), limit).await
    }

    /// One Query per rollup shard, each up to `limit` items, read concurrently and summed.
    async fn daily_counts(
        &self,
        first: &str,
        last: &str,
        limit: usize,
    ) -> Result<Vec<DailyCount>, StoreError> {
        let shards = query_shards(ROLLUP_SHARDS, limit, |shard| {
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :first AND :last")
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_names("#sk", "sk")
                .expression_attribute_values(":pk", s(format!("d#{shard}")))
                .expression_attribute_values(":first", s(first))
                .expression_attribute_values(":last", s(format!("{last}$")))
        })
        .await?;
        let entries = shards
            .iter()
            .flatten()
            .map(daily)
            .collect::<Result<Vec<_>, _>>()?;
        let mut totals = sum_by_day_and_type(entries);
        totals.truncate(limit);
        Ok(totals)
    }
}
