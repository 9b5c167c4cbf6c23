//! The visit counters in DynamoDB: one item per id; `ADD` makes each increment atomic.
//!
//! Listing in id order uses the `ByShard` index (partition `shard`, sort `id`): ids are spread
//! over `SHARDS` partitions so no index partition is hot, and a page merges the shards.
//! `ByCount` (partition `shard`, sort `count`, keys only) serves the dashboard's top visitors.

use super::{most_counted, Visit, VisitId, VisitStore};
use crate::store::dynamodb::{n, number, query_shards, s, string, write_once, Client, Item};
use crate::store::{merge_sorted, shard_of};
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::ReturnValue;

/// How many index partitions the ids are spread over. Changing it strands existing items.
pub const SHARDS: u32 = 4;
const INDEX: &str = "ByShard";
const BY_COUNT: &str = "ByCount";

pub struct DynamoVisits {
    client: Client,
    table: String,
}

impl DynamoVisits {
    pub fn new(client: Client, table: String) -> Self {
        DynamoVisits { client, table }
    }
}

#[async_trait]
impl VisitStore for DynamoVisits {
    async fn increment(&self, id: &VisitId) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", s(id.as_str()))
            .update_expression("ADD #count :one SET #shard = :shard")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#shard", "shard")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":shard", n(shard_of(id.as_str(), SHARDS)))
            .return_values(ReturnValue::UpdatedNew)
            .customize()
            .config_override(write_once())
            .send()
            .await?;
        number(&out.attributes.unwrap_or_default(), "count")
    }

    async fn count(&self, id: &VisitId) -> Result<Option<u64>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(id.as_str()))
            .consistent_read(true)
            .send()
            .await?;
        out.item.map(|item| number(&item, "count")).transpose()
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<Visit>, StoreError> {
        let shards = query_shards(SHARDS, limit, |shard| self.shard_after(shard, after)).await?;
        let mut visits = Vec::new();
        for item in merge_sorted(shards, |a, b| id_of(a).cmp(id_of(b))) {
            visits.push(visit(&item)?);
            if visits.len() == limit {
                break;
            }
        }
        Ok(visits)
    }

    async fn top(&self, limit: usize) -> Result<Vec<Visit>, StoreError> {
        let shards = query_shards(SHARDS, limit, |shard| {
            self.client
                .query()
                .table_name(&self.table)
                .index_name(BY_COUNT)
                .scan_index_forward(false)
                .key_condition_expression("#shard = :shard")
                .expression_attribute_names("#shard", "shard")
                .expression_attribute_values(":shard", n(shard))
        })
        .await?;
        let shards = shards
            .iter()
            .map(|items| items.iter().map(visit).collect())
            .collect::<Result<Vec<Vec<Visit>>, StoreError>>()?;
        let mut top = merge_sorted(shards, most_counted);
        top.truncate(limit);
        Ok(top)
    }
}

fn visit(item: &Item) -> Result<Visit, StoreError> {
    Ok(Visit {
        id: string(item, "id")?,
        count: number(item, "count")?,
    })
}

impl DynamoVisits {
    /// The query of one index shard for the ids after `after`, in id order.
    fn shard_after(&self, shard: u32, after: Option<&str>) -> QueryFluentBuilder {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX)
            .expression_attribute_names("#shard", "shard")
            .expression_attribute_values(":shard", n(shard));
        match after {
            Some(after) => query
                .key_condition_expression("#shard = :shard AND #id > :after")
                .expression_attribute_names("#id", "id")
                .expression_attribute_values(":after", s(after)),
            None => query.key_condition_expression("#shard = :shard"),
        }
    }
}

/// The id of an item as bytes (DynamoDB and SQLite both order strings by UTF-8 bytes).
fn id_of(item: &Item) -> &[u8] {
    item.get("id")
        .and_then(|v| v.as_s().ok())
        .map(String::as_bytes)
        .unwrap_or_default()
}
