//! What the meter needs to know of a table: its key and its global secondary indexes with their
//! projections, read from the server's own `DescribeTable` answer (so it is the schema the
//! server really has, created from `template.yaml`).

use super::size::{attributes_size, Item};
use serde_json::Value;

/// A table's primary key and indexes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableSchema {
    pub key: Vec<String>,
    pub indexes: Vec<IndexSchema>,
}

/// One global secondary index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSchema {
    pub name: String,
    pub key: Vec<String>,
    pub projection: Projection,
}

/// The attributes an index entry carries besides the index and table keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    KeysOnly,
    Include(Vec<String>),
    All,
}

/// The documented storage overhead of an index entry, counted in its write size too (so an entry
/// within 100 bytes of a KB boundary is billed the next KB: the conservative reading):
/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.StorageConsiderations
pub const INDEX_ENTRY_OVERHEAD: u64 = 100;

impl TableSchema {
    /// From a `DescribeTable` answer (`{"Table": {...}}`).
    pub fn from_description(description: &Value) -> TableSchema {
        let table = &description["Table"];
        let indexes = table["GlobalSecondaryIndexes"]
            .as_array()
            .map(|list| list.iter().map(IndexSchema::from_description).collect())
            .unwrap_or_default();
        TableSchema {
            key: key_names(&table["KeySchema"]),
            indexes,
        }
    }

    /// The primary key attributes of `item`.
    pub fn key_of(&self, item: &Item) -> Item {
        item.iter()
            .filter(|(name, _)| self.key.contains(name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    pub fn index(&self, name: &str) -> Option<&IndexSchema> {
        self.indexes.iter().find(|i| i.name == name)
    }
}

impl IndexSchema {
    fn from_description(index: &Value) -> IndexSchema {
        let projection = &index["Projection"];
        let projection = match projection["ProjectionType"].as_str() {
            Some("ALL") => Projection::All,
            Some("INCLUDE") => Projection::Include(
                projection["NonKeyAttributes"]
                    .as_array()
                    .map(|names| {
                        names
                            .iter()
                            .filter_map(|n| n.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => Projection::KeysOnly,
        };
        IndexSchema {
            name: index["IndexName"].as_str().unwrap_or_default().to_string(),
            key: key_names(&index["KeySchema"]),
            projection,
        }
    }

    /// Whether `item` is in the index: it has every index key attribute (a sparse index skips
    /// the others).
    pub fn holds(&self, item: Option<&Item>) -> bool {
        item.is_some_and(|item| self.key.iter().all(|k| item.contains_key(k)))
    }

    /// Whether the entry carries attribute `name`, given the table's key.
    pub fn projects(&self, name: &str, table_key: &[String]) -> bool {
        let is_key = self.key.iter().chain(table_key).any(|k| k == name);
        is_key
            || match &self.projection {
                Projection::All => true,
                Projection::Include(names) => names.iter().any(|n| n == name),
                Projection::KeysOnly => false,
            }
    }

    /// The size of `item`'s entry (index keys, table keys, projected attributes), without the
    /// storage overhead: what a Query of the index reads.
    pub fn entry_size(&self, item: &Item, table_key: &[String]) -> u64 {
        attributes_size(item, |name| self.projects(name, table_key))
    }

    /// `item`'s entry, for comparing before and after.
    pub fn entry(&self, item: &Item, table_key: &[String]) -> Item {
        item.iter()
            .filter(|(name, _)| self.projects(name, table_key))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }
}

fn key_names(schema: &Value) -> Vec<String> {
    schema
        .as_array()
        .map(|elements| {
            elements
                .iter()
                .filter_map(|e| e["AttributeName"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    /// The visits table's schema (two indexes, one projecting `count`).
    pub fn visits() -> TableSchema {
        TableSchema::from_description(&json!({"Table": {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                {"IndexName": "ByShard", "KeySchema": [{"AttributeName": "shard", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}],
                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["count"]}},
                {"IndexName": "ByCount", "KeySchema": [{"AttributeName": "shard", "KeyType": "HASH"}, {"AttributeName": "count", "KeyType": "RANGE"}],
                 "Projection": {"ProjectionType": "KEYS_ONLY"}}
            ]
        }}))
    }

    #[test]
    fn a_description_gives_keys_indexes_and_projections() {
        let schema = visits();
        assert_eq!(schema.key, vec!["id"]);
        let by_shard = schema.index("ByShard").expect("ByShard");
        assert_eq!(
            by_shard.projection,
            Projection::Include(vec!["count".into()])
        );
        assert_eq!(
            schema.index("ByCount").expect("ByCount").projection,
            Projection::KeysOnly
        );
    }

    #[test]
    fn an_entry_holds_index_keys_table_keys_and_projected_attributes() {
        let schema = visits();
        let item = json!({"id": {"S": "ab"}, "shard": {"N": "3"}, "count": {"N": "5"}, "note": {"S": "xyz"}});
        let item = item.as_object().cloned().expect("object");
        let by_count = schema.index("ByCount").expect("ByCount");
        assert!(by_count.holds(Some(&item)));
        assert_eq!(by_count.entry_size(&item, &schema.key), 4 + 7 + 7);
        let mut sparse = item.clone();
        sparse.remove("shard");
        assert!(!by_count.holds(Some(&sparse)));
        assert_eq!(schema.key_of(&item).len(), 1);
    }
}
