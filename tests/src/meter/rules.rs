//! DynamoDB's billing rules, as pure functions of item sizes and of an item before and after a
//! write. Each rule cites the page that states it.

use super::schema::{TableSchema, INDEX_ENTRY_OVERHEAD};
use super::size::{item_size, Item};

/// A write unit covers 1 KB; a read unit 4 KB.
/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
const WRITE_UNIT_BYTES: u64 = 1024;
const READ_UNIT_BYTES: u64 = 4096;

/// Where units went: the table, or an index (`Table/Index`), and how many.
pub type Part = (String, f64);

/// Write units of `bytes`: 1 per started KB, at least 1.
pub fn write_units(bytes: u64) -> f64 {
    bytes.div_ceil(WRITE_UNIT_BYTES).max(1) as f64
}

/// Read units of `bytes` read in one go (one item, or a Query's whole page): 1 per started 4 KB,
/// at least 1 (reading nothing still costs one), halved when eventually consistent.
/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#read-operation-consumption
pub fn read_units(bytes: u64, consistent: bool) -> f64 {
    let units = bytes.div_ceil(READ_UNIT_BYTES).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// The units of one item write, by part: the table is billed on the larger of the item before
/// and after (PutItem over an item, UpdateItem, DeleteItem; a write whose condition fails leaves
/// them equal and still costs the item's size)
/// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#write-operation-consumption);
/// then each index by `index_write`.
pub fn item_write(
    table: &str,
    schema: &TableSchema,
    before: Option<&Item>,
    after: Option<&Item>,
) -> Vec<Part> {
    let size = before.map_or(0, item_size).max(after.map_or(0, item_size));
    let mut parts = vec![(table.to_string(), write_units(size))];
    for index in &schema.indexes {
        let units = index_write(schema, &index.name, before, after);
        if units > 0.0 {
            parts.push((format!("{table}/{}", index.name), units));
        }
    }
    parts
}

/// An index's units for one item write: none if the item is in it neither before nor after, or
/// nothing its entry carries changed; one write if the entry appears, disappears, or only its
/// projected non-key attributes change; two (a delete and a put) if an index key attribute
/// changes. Each entry is billed on its own size, plus the entry overhead, per started KB.
/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
pub fn index_write(
    schema: &TableSchema,
    index: &str,
    before: Option<&Item>,
    after: Option<&Item>,
) -> f64 {
    let Some(index) = schema.index(index) else {
        return 0.0;
    };
    let entry = |item: &Item| index.entry(item, &schema.key);
    let units =
        |item: &Item| write_units(index.entry_size(item, &schema.key) + INDEX_ENTRY_OVERHEAD);
    let was = before.filter(|_| index.holds(before));
    let is = after.filter(|_| index.holds(after));
    match (was, is) {
        (None, None) => 0.0,
        (None, Some(new)) => units(new),
        (Some(old), None) => units(old),
        (Some(old), Some(new)) if entry(old) == entry(new) => 0.0,
        (Some(old), Some(new)) => {
            let key_changed = index.key.iter().any(|k| old.get(k) != new.get(k));
            if key_changed {
                units(old) + units(new)
            } else {
                units(old).max(units(new))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    use crate::meter::schema::tests::visits as schema;

    fn item(value: Value) -> Item {
        value.as_object().cloned().expect("object")
    }

    fn total(parts: &[Part]) -> f64 {
        parts.iter().map(|(_, u)| u).sum()
    }

    #[test]
    fn units_round_up_per_started_kb_and_4_kb() {
        assert_eq!(write_units(0), 1.0);
        assert_eq!(write_units(1024), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_units(0, false), 0.5);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(4097, false), 1.0);
    }

    #[test]
    fn a_counter_increment_moving_an_index_key_costs_item_projection_and_delete_plus_put() {
        let before = item(json!({"id": {"S": "a"}, "shard": {"N": "1"}, "count": {"N": "1"}}));
        let after = item(json!({"id": {"S": "a"}, "shard": {"N": "1"}, "count": {"N": "2"}}));
        let parts = item_write("Visits", &schema(), Some(&before), Some(&after));
        assert_eq!(total(&parts), 1.0 + 1.0 + 2.0, "{parts:?}");
    }

    #[test]
    fn a_new_item_enters_each_index_once_and_an_unchanged_one_costs_only_itself() {
        let new = item(json!({"id": {"S": "a"}, "shard": {"N": "1"}, "count": {"N": "1"}}));
        assert_eq!(total(&item_write("V", &schema(), None, Some(&new))), 3.0);
        assert_eq!(
            total(&item_write("V", &schema(), Some(&new), Some(&new))),
            1.0
        );
        let unindexed = item(json!({"id": {"S": "a"}, "count": {"N": "1"}}));
        assert_eq!(
            total(&item_write("V", &schema(), None, Some(&unindexed))),
            1.0
        );
    }

    #[test]
    fn an_update_is_billed_on_the_larger_of_before_and_after() {
        let big = item(json!({"id": {"S": "a"}, "blob": {"S": "x".repeat(3000)}}));
        let small = item(json!({"id": {"S": "a"}}));
        assert_eq!(
            total(&item_write("V", &schema(), Some(&big), Some(&small))),
            3.0
        );
        assert_eq!(total(&item_write("V", &schema(), Some(&big), None)), 3.0);
    }

    #[test]
    fn a_large_projected_entry_costs_its_own_kbs() {
        let schema = TableSchema::from_description(&json!({"Table": {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [{"IndexName": "All", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}]
        }}));
        let row = item(json!({"pk": {"S": "a"}, "g": {"S": "b"}, "p": {"S": "x".repeat(2000)}}));
        // 2,008 bytes: 2 KB in the table; 2,108 with the entry overhead: 3 KB in the index.
        assert_eq!(total(&item_write("T", &schema, None, Some(&row))), 5.0);
    }
}
