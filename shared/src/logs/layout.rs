//! How an action is laid out as a DynamoDB item (its keys and attributes) and what writing it
//! costs: engine-free rules, so the domain checks a batch before anything is stored and the
//! adapter (`logs::dynamodb`) only turns these attributes into the SDK's.

use super::clock::stored_time;
use super::daily::batch_totals;
use super::LogBatch;
use crate::store::keys::{self, KeyPart};
use crate::store::packed::{pack, Stored};
use crate::store::shard_of;
use crate::ApiError;
use serde_json::json;
use std::collections::BTreeMap;

/// Partitions a type, and all actions, are spread over. Changing it strands existing items.
pub const SHARDS: u32 = 8;

/// The attribute DynamoDB's TTL reads (`TimeToLiveSpecification` in `template.yaml`): epoch
/// seconds after which the item may be deleted.
pub const EXPIRES: &str = "expires";
/// Properties in the index entries: kept there while the largest entry stays within one write unit.
pub const INLINE: &str = "properties";
/// Properties too large for that: in the table item only (no index projects `bulk`); a page read
/// from an index reads these rows from the table.
pub const BULK: &str = "bulk";
/// The attributes `ByUserType`, `ByType` and `ByTime` project besides the keys (`template.yaml`).
const PROJECTED: [&str; 5] = ["userId", "sessionId", "time", "type", INLINE];
/// The attribute each index is keyed by (its sort key is `sk`, as the table's).
const INDEX_KEYS: [&str; 3] = ["ut", "ts", "shard"];
/// A write unit is 1 KB of item; an index entry is billed on its keys, its projected attributes
/// and 100 bytes of overhead
/// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes).
const WRITE_UNIT_BYTES: usize = 1024;
const ENTRY_OVERHEAD_BYTES: usize = 100;

/// An attribute value as DynamoDB types it: text, binary or a number (as its decimal text).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    S(String),
    B(Vec<u8>),
    N(String),
}

impl From<Stored> for Value {
    fn from(stored: Stored) -> Self {
        match stored {
            Stored::Text(text) => Value::S(text),
            Stored::Deflated(bytes) => Value::B(bytes),
        }
    }
}

/// An item: its attributes by name.
pub type Attributes = BTreeMap<&'static str, Value>;

/// The table's partition of a user's actions.
pub fn user_key(user: &str) -> String {
    format!("u#{user}")
}

/// `ByUserType`'s partition of a user's actions of one type.
pub fn user_type_key(user: &str, kind: &str) -> String {
    json!([user, kind]).to_string()
}

/// `ByType`'s partition of one shard of a type's actions.
pub fn type_key(kind: &str, shard: usize) -> String {
    json!([kind, shard]).to_string()
}

/// The sort key of a day's rollup counter of a type.
pub fn rollup_key(day: &str, kind: &str) -> String {
    format!("{day}#{kind}")
}

/// Checks, in bytes, the table key made from a user id (`field` names it in the error).
pub fn check_user(field: &str, user: &str) -> Result<(), ApiError> {
    keys::check(field, &user_key(user), KeyPart::Partition)
}

/// Checks, in bytes, every key made from an action type: its `ByType` partition, its rollup
/// sort key and, with a user, its `ByUserType` partition.
pub fn check_type(field: &str, kind: &str, user: Option<&str>) -> Result<(), ApiError> {
    let widest_shard = SHARDS as usize - 1;
    keys::check(field, &type_key(kind, widest_shard), KeyPart::Partition)?;
    keys::check(field, &rollup_key("0000-00-00", kind), KeyPart::Sort)?;
    match user {
        Some(user) => keys::check(field, &user_type_key(user, kind), KeyPart::Partition),
        None => Ok(()),
    }
}

/// An attribute's billed size: its name's bytes plus its value's (a number: at most 1 byte per
/// 2 digits, plus 1): https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
fn attribute_bytes(item: &Attributes, name: &str) -> usize {
    let value = match item.get(name) {
        Some(Value::S(text)) => text.len(),
        Some(Value::B(bytes)) => bytes.len(),
        Some(Value::N(number)) => number.len().div_ceil(2) + 1,
        None => return 0,
    };
    name.len() + value
}

fn write_units_of(bytes: usize) -> u64 {
    u64::try_from(bytes.div_ceil(WRITE_UNIT_BYTES).max(1)).unwrap_or(u64::MAX)
}

/// The bytes of each index's entry of an action item, in `INDEX_KEYS` order.
fn entry_bytes(item: &Attributes) -> [usize; 3] {
    let common: usize = ["pk", "sk"]
        .iter()
        .chain(PROJECTED.iter())
        .map(|name| attribute_bytes(item, name))
        .sum();
    INDEX_KEYS.map(|key| ENTRY_OVERHEAD_BYTES + common + attribute_bytes(item, key))
}

/// The write units of putting a new action item: the item, and its entry in each index.
fn action_units(item: &Attributes) -> u64 {
    let table: usize = item.keys().map(|name| attribute_bytes(item, name)).sum();
    write_units_of(table)
        + entry_bytes(item)
            .into_iter()
            .map(write_units_of)
            .sum::<u64>()
}

/// An upper bound on the write units storing `batch` costs (issue 13's budget): the request
/// item, each action item with its index entries, built as the adapter builds them (the
/// largest arrival and expiry), and one rollup counter per (day, type). Properties' bytes
/// count, not only the number of actions.
pub fn write_units(batch: &LogBatch) -> u64 {
    units_with(batch, |text| pack(text).into())
}

impl LogBatch {
    /// `write_units` of this batch.
    pub fn write_units(&self) -> u64 {
        write_units(self)
    }
}

/// At or above `write_units` without deflating anything: each action's items with its
/// properties as sent, plus 1. Text as sent is never shorter than its stored form, so an item
/// is no larger; but its properties may then leave the index entries (each billed 1 unit while
/// they fit) and take the attribute name `bulk`, 6 bytes shorter than `properties`, which the
/// extra unit covers.
pub fn write_units_bound(batch: &LogBatch) -> u64 {
    units_with(batch, |text| Value::S(text.to_string())) + batch.actions.len() as u64
}

fn units_with(batch: &LogBatch, stored: fn(&str) -> Value) -> u64 {
    let actions: u64 = items(batch, u64::MAX, Some(u64::MAX), stored)
        .iter()
        .map(action_units)
        .sum();
    1 + actions + batch_totals(batch).len() as u64
}

/// The items of a batch first arrived at `arrival`, expiring at `expires` (epoch seconds), with
/// each action's properties in their `stored` form: deterministic, so writing them again
/// changes nothing.
pub fn items(
    batch: &LogBatch,
    arrival: u64,
    expires: Option<u64>,
    stored: fn(&str) -> Value,
) -> Vec<Attributes> {
    batch
        .keyed(arrival)
        .map(|(key, action)| {
            let shard = shard_of(&key, SHARDS) as usize;
            let mut item = Attributes::from([
                ("pk", Value::S(user_key(&batch.user_id))),
                ("ut", Value::S(user_type_key(&batch.user_id, &action.kind))),
                ("ts", Value::S(type_key(&action.kind, shard))),
                ("shard", Value::N(shard.to_string())),
                ("sk", Value::S(key)),
                ("sessionId", Value::S(batch.session_id.clone())),
                (
                    "time",
                    Value::S(stored_time(&action.time, batch.sent_at.as_ref(), arrival)),
                ),
                ("type", Value::S(action.kind.clone())),
                (INLINE, stored(&action.properties)),
            ]);
            if entry_bytes(&item).into_iter().max() > Some(WRITE_UNIT_BYTES) {
                if let Some(properties) = item.remove(INLINE) {
                    item.insert(BULK, properties);
                }
            }
            if let Some(expires) = expires {
                item.insert(EXPIRES, Value::N(expires.to_string()));
            }
            item
        })
        .collect()
}
