//! The units of one DynamoDB operation, from the request, the answer and the items themselves:
//! a write from each item it touches as it was before and is after; a read from the whole items
//! (or index entries) it read.

use super::backend::Backend;
use super::rules::{item_write, read_units, Part};
use super::size::{item_size, Item};
use futures_util::future::join_all;
use serde_json::Value;

/// Operations billed in read units, and in write units.
pub const READS: [&str; 5] = [
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "TransactGetItems",
];
pub const WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// One item a write touches.
pub struct Write {
    table: String,
    key: Item,
    /// Part of a TransactWriteItems: its table write costs twice.
    /// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
    transactional: bool,
}

/// The items a write request touches.
pub async fn writes(backend: &Backend<'_>, operation: &str, request: &Value) -> Vec<Write> {
    let mut writes = Vec::new();
    match operation {
        "PutItem" | "UpdateItem" | "DeleteItem" => {
            writes.extend(write_of(backend, request, false).await)
        }
        "BatchWriteItem" => {
            for (table, requests) in entries(&request["RequestItems"]) {
                for one in requests.as_array().into_iter().flatten() {
                    let action = one.get("PutRequest").or_else(|| one.get("DeleteRequest"));
                    let mut action = action.cloned().unwrap_or_default();
                    action["TableName"] = Value::String(table.clone());
                    writes.extend(write_of(backend, &action, false).await);
                }
            }
        }
        "TransactWriteItems" => {
            for one in request["TransactItems"].as_array().into_iter().flatten() {
                for (_, action) in entries(one) {
                    writes.extend(write_of(backend, &action, true).await);
                }
            }
        }
        _ => {}
    }
    writes
}

/// The item of one write action (`TableName` and `Key`, or the `Item` it puts).
async fn write_of(backend: &Backend<'_>, action: &Value, transactional: bool) -> Option<Write> {
    let table = action["TableName"].as_str()?.to_string();
    let key = match action["Key"].as_object() {
        Some(key) => key.clone(),
        None => backend
            .schema(&table)
            .await
            .key_of(action["Item"].as_object()?),
    };
    Some(Write {
        table,
        key,
        transactional,
    })
}

/// The items the writes touch, as they are now (read concurrently: a batch of 25 is metered
/// in about one round trip, well within the client's attempt timeout).
pub async fn snapshot(backend: &Backend<'_>, writes: &[Write]) -> Vec<Option<Item>> {
    join_all(writes.iter().map(|w| backend.item(&w.table, &w.key))).await
}

/// The write units, from each item before (`before`, in order) and after.
pub async fn write_parts(
    backend: &Backend<'_>,
    writes: &[Write],
    before: Vec<Option<Item>>,
) -> Vec<Part> {
    let after = snapshot(backend, writes).await;
    let mut parts = Vec::new();
    for ((write, before), after) in writes.iter().zip(before).zip(after) {
        let schema = backend.schema(&write.table).await;
        let mut item_parts = item_write(&write.table, &schema, before.as_ref(), after.as_ref());
        if write.transactional {
            if let Some((_, table_units)) = item_parts.first_mut() {
                *table_units *= 2.0;
            }
        }
        parts.extend(item_parts);
    }
    parts
}

/// The read units of a successful read `operation`, by table or index.
pub async fn read_parts(
    backend: &Backend<'_>,
    operation: &str,
    request: &Value,
    answer: &Value,
) -> Vec<Part> {
    match operation {
        "GetItem" => {
            let consistent = request["ConsistentRead"].as_bool() == Some(true);
            vec![item_read(backend, request, consistent).await]
        }
        "BatchGetItem" => {
            let mut gets = Vec::new();
            for (table, spec) in entries(&request["RequestItems"]) {
                let consistent = spec["ConsistentRead"].as_bool() == Some(true);
                for key in spec["Keys"].as_array().into_iter().flatten() {
                    gets.push((
                        serde_json::json!({"TableName": table, "Key": key}),
                        consistent,
                    ));
                }
            }
            join_all(
                gets.iter()
                    .map(|(get, consistent)| item_read(backend, get, *consistent)),
            )
            .await
        }
        "TransactGetItems" => {
            let mut parts = Vec::new();
            for one in request["TransactItems"].as_array().into_iter().flatten() {
                let (table, units) = item_read(backend, &one["Get"], true).await;
                parts.push((table, 2.0 * units));
            }
            parts
        }
        _ => vec![page_read(backend, operation, request, answer).await],
    }
}

/// One item read by key: 1 unit per started 4 KB of the whole item, whatever it projects.
async fn item_read(backend: &Backend<'_>, get: &Value, consistent: bool) -> Part {
    let table = get["TableName"].as_str().unwrap_or_default().to_string();
    let key = get["Key"].as_object().cloned().unwrap_or_default();
    let size = backend
        .item(&table, &key)
        .await
        .as_ref()
        .map_or(0, item_size);
    (table, read_units(size, consistent))
}

/// A Query or Scan: the total size of the items (or, of an index, the entries) it read, rounded
/// up once to 4 KB. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Reads
async fn page_read(
    backend: &Backend<'_>,
    operation: &str,
    request: &Value,
    answer: &Value,
) -> Part {
    let table = request["TableName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let items = backend.items_read(operation, request, answer).await;
    let consistent = request["ConsistentRead"].as_bool() == Some(true);
    let Some(index_name) = request["IndexName"].as_str() else {
        let size = items.iter().map(item_size).sum();
        return (table, read_units(size, consistent));
    };
    let schema = backend.schema(&table).await;
    let size = match schema.index(index_name) {
        Some(index) => items.iter().map(|i| index.entry_size(i, &schema.key)).sum(),
        None => items.iter().map(item_size).sum(),
    };
    (
        format!("{table}/{index_name}"),
        read_units(size, consistent),
    )
}

/// The members of a JSON object, owned.
fn entries(value: &Value) -> Vec<(String, Value)> {
    value
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}
