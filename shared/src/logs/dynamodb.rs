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

use super::daily::{batch_totals, sum_by_day_and_type};
use super::packed::{pack, unpack};
use super::{DailyCount, LogBatch, LogEntry, LogFilter, LogPositions, LogStore};
use crate::http::cursor::Page;
use crate::store::dynamodb::{
    batch_read, n, number, put_all, query_shards, query_up_to, s, string, Client, Item,
};
use crate::store::keys::{self, KeyPart};
use crate::store::merge::{merged_page, ShardedQuery};
use crate::store::shard_of;
use crate::{ApiError, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use futures_util::stream::{self, TryStreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// Partitions a type, and all actions, are spread over. Changing it strands existing items.
pub const SHARDS: u32 = 8;
/// Items each (day, type) counter of the rollup is spread over, so no day is a hot item.
pub const ROLLUP_SHARDS: u32 = 4;
/// Rollup writes one request keeps in flight.
const ROLLUPS_IN_FLIGHT: usize = 8;

/// The attribute DynamoDB's TTL reads (`TimeToLiveSpecification` in `template.yaml`): epoch
/// seconds after which the item may be deleted.
pub const EXPIRES: &str = "expires";

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
    fn expires(&self, arrival: u64) -> Option<AttributeValue> {
        let keep = self.retention?;
        Some(n(arrival / 1_000_000_000 + keep.as_secs()))
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
                .expression_attribute_values(":expires", expires),
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
                    .key("sk", s(format!("{}#{}", total.day, total.kind)))
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

/// The table's partition of a user's actions.
fn user_key(user: &str) -> AttributeValue {
    s(format!("u#{user}"))
}

/// The user of an action item or entry, from its partition key `u#<userId>` (the key is in every
/// index entry, so the item does not repeat the id in an attribute).
fn user_of(item: &Item) -> Result<String, StoreError> {
    let key = string(item, "pk")?;
    key.strip_prefix("u#")
        .map(str::to_string)
        .ok_or_else(|| StoreError::Failed(format!("action key {key} is not a user's")))
}

/// `ByUserType`'s partition of a user's actions of one type.
fn user_type_key(user: &str, kind: &str) -> AttributeValue {
    s(json!([user, kind]).to_string())
}

/// `ByType`'s partition of one shard of a type's actions.
fn type_key(kind: &str, shard: usize) -> AttributeValue {
    s(json!([kind, shard]).to_string())
}

/// Checks, in bytes, a partition key value built as an attribute (`field` names its source).
fn check_partition(field: &str, key: &AttributeValue) -> Result<(), ApiError> {
    let text = key.as_s().map_or("", String::as_str);
    keys::check(field, text, KeyPart::Partition)
}

/// Checks, in bytes, the table key made from a user id (`field` names it in the error).
pub(crate) fn check_user(field: &str, user: &str) -> Result<(), ApiError> {
    check_partition(field, &user_key(user))
}

/// Checks, in bytes, every key made from an action type: its `ByType` partition, its rollup
/// sort key and, with a user, its `ByUserType` partition.
pub(crate) fn check_type(field: &str, kind: &str, user: Option<&str>) -> Result<(), ApiError> {
    check_partition(field, &type_key(kind, SHARDS as usize - 1))?;
    keys::check(field, &format!("0000-00-00#{kind}"), KeyPart::Sort)?;
    match user {
        Some(user) => check_partition(field, &user_type_key(user, kind)),
        None => Ok(()),
    }
}

/// The attributes `ByUserType`, `ByType` and `ByTime` project besides the keys (`template.yaml`).
const PROJECTED: [&str; 5] = ["userId", "sessionId", "time", "type", INLINE];
/// The attribute each index is keyed by (its sort key is `sk`, as the table's).
const INDEX_KEYS: [&str; 3] = ["ut", "ts", "shard"];
/// Properties in the index entries: kept there while the largest entry stays within one write unit.
const INLINE: &str = "properties";
/// Properties too large for that: in the table item only (no index projects `bulk`); a page read
/// from an index reads these rows from the table.
const BULK: &str = "bulk";
/// A write unit is 1 KB of item; an index entry is billed on its keys, its projected attributes
/// and 100 bytes of overhead
/// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes).
const WRITE_UNIT_BYTES: usize = 1024;
const ENTRY_OVERHEAD_BYTES: usize = 100;

/// An attribute's billed size: its name's bytes plus its value's (a number: at most 1 byte per
/// 2 digits, plus 1): https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
fn attribute_bytes(item: &Item, name: &str) -> usize {
    let value = match item.get(name) {
        Some(AttributeValue::S(text)) => text.len(),
        Some(AttributeValue::B(bytes)) => bytes.as_ref().len(),
        Some(AttributeValue::N(number)) => number.len().div_ceil(2) + 1,
        _ => return 0,
    };
    name.len() + value
}

fn write_units_of(bytes: usize) -> u64 {
    u64::try_from(bytes.div_ceil(WRITE_UNIT_BYTES).max(1)).unwrap_or(u64::MAX)
}

/// The bytes of each index's entry of an action item, in `INDEX_KEYS` order.
fn entry_bytes(item: &Item) -> [usize; 3] {
    let common: usize = ["pk", "sk"]
        .iter()
        .chain(PROJECTED.iter())
        .map(|name| attribute_bytes(item, name))
        .sum();
    INDEX_KEYS.map(|key| ENTRY_OVERHEAD_BYTES + common + attribute_bytes(item, key))
}

/// The write units of putting a new action item: the item, and its entry in each index.
fn action_units(item: &Item) -> u64 {
    let table: usize = item.keys().map(|name| attribute_bytes(item, name)).sum();
    write_units_of(table)
        + entry_bytes(item)
            .into_iter()
            .map(write_units_of)
            .sum::<u64>()
}

/// An upper bound on the write units `record` spends on `batch` (issue 13's budget): the
/// request item, each action item with its index entries, built as `record` builds them (the
/// largest arrival and expiry), and one rollup counter per (day, type).
pub(crate) fn write_units(batch: &LogBatch) -> u64 {
    units_with(batch, pack)
}

/// At or above `write_units` without deflating anything: each action's items with its
/// properties as sent, plus 1. Text as sent is never shorter than its stored form, so an item
/// is no larger; but its properties may then leave the index entries (each billed 1 unit while
/// they fit) and take the attribute name `bulk`, 6 bytes shorter than `properties`, which the
/// extra unit covers.
pub(crate) fn write_units_bound(batch: &LogBatch) -> u64 {
    units_with(batch, |text| s(text)) + batch.actions.len() as u64
}

fn units_with(batch: &LogBatch, stored: fn(&str) -> AttributeValue) -> u64 {
    let actions: u64 = items(batch, u64::MAX, Some(n(u64::MAX)), stored)
        .iter()
        .map(action_units)
        .sum();
    1 + actions + batch_totals(batch).len() as u64
}

/// The items of a batch, with each action's properties in their `stored` form: deterministic,
/// so writing them again changes nothing.
fn items(
    batch: &LogBatch,
    arrival: u64,
    expires: Option<AttributeValue>,
    stored: fn(&str) -> AttributeValue,
) -> Vec<Item> {
    batch
        .keyed(arrival)
        .map(|(key, action)| {
            let shard = shard_of(&key, SHARDS) as usize;
            let mut item = Item::from([
                ("pk".to_string(), user_key(&batch.user_id)),
                (
                    "ut".to_string(),
                    user_type_key(&batch.user_id, &action.kind),
                ),
                ("ts".to_string(), type_key(&action.kind, shard)),
                ("shard".to_string(), n(shard)),
                ("sk".to_string(), s(key)),
                ("sessionId".to_string(), s(batch.session_id.as_str())),
                ("time".to_string(), s(action.time.as_str())),
                ("type".to_string(), s(action.kind.as_str())),
                (INLINE.to_string(), stored(&action.properties)),
            ]);
            if entry_bytes(&item).into_iter().max() > Some(WRITE_UNIT_BYTES) {
                if let Some(properties) = item.remove(INLINE) {
                    item.insert(BULK.to_string(), properties);
                }
            }
            if let Some(expires) = &expires {
                item.insert(EXPIRES.to_string(), expires.clone());
            }
            item
        })
        .collect()
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
        &unpack(properties)?,
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
            Partitions::User(user) => (None, "pk", user_key(user)),
            Partitions::UserType(user, kind) => {
                (Some("ByUserType"), "ut", user_type_key(user, kind))
            }
            Partitions::Type(kind) => (Some("ByType"), "ts", type_key(kind, shard)),
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
        let items = items(batch, arrival, self.expires(arrival), pack);
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
