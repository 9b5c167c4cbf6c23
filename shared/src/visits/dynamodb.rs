//! The visit counters in DynamoDB: one item per id; `ADD` makes each increment atomic.
//!
//! Listing in id order uses the `ByShard` index (partition `shard`, sort `id`): ids are spread
//! over `SHARDS` partitions so no index partition is hot, and a page merges the shards lazily
//! (`store::merge`). `ByCount` (partition `shard`, sort `count`, keys only) serves the
//! dashboard's top visitors through the same merge.

use super::{most_counted, Visit, VisitId, VisitStore};
use crate::store::dynamodb::{
    add_one, by_count_start, n, new_count, number, s, string, Client, IndexShards, Item,
};
use crate::store::merge::merged;
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use std::cmp::Reverse;

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
        let update = add_one(&self.client, &self.table, "id", id.as_str(), SHARDS, "");
        new_count(update).await
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
        let query = IndexShards {
            shards: SHARDS,
            query: |shard, after: Option<&String>| self.shard_after(shard, after),
            parse: |item: &Item| visit(item).map(|v| (v.id.clone(), v)),
        };
        // Ids are unique and every shard is in id order: each resumes after the last id shown.
        let after = vec![after.map(str::to_string); SHARDS as usize];
        let merged = merged(&query, Some(&after), limit).await?;
        Ok(merged.items.into_iter().map(|(_, _, v)| v).collect())
    }

    async fn top(&self, limit: usize) -> Result<Vec<Visit>, StoreError> {
        let query = IndexShards {
            shards: SHARDS,
            query: |shard, after: Option<&(Reverse<u64>, String)>| self.most_counted(shard, after),
            parse: |item: &Item| visit(item).map(|v| ((Reverse(v.count), v.id.clone()), v)),
        };
        let mut top: Vec<Visit> = merged(&query, None, limit)
            .await?
            .items
            .into_iter()
            .map(|(_, _, v)| v)
            .collect();
        // A shard lists equal counts in no defined order: ties go by id within the page.
        top.sort_by(most_counted);
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
    /// The query of one `ByShard` shard for the ids after `after`, in id order.
    fn shard_after(&self, shard: u32, after: Option<&String>) -> QueryFluentBuilder {
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

    /// The query of one `ByCount` shard, most counted first, resumed after the entry `after`.
    fn most_counted(
        &self,
        shard: u32,
        after: Option<&(Reverse<u64>, String)>,
    ) -> QueryFluentBuilder {
        let start = after.map(|(Reverse(count), id)| by_count_start("id", id, shard, *count));
        self.client
            .query()
            .table_name(&self.table)
            .index_name(BY_COUNT)
            .scan_index_forward(false)
            .key_condition_expression("#shard = :shard")
            .expression_attribute_names("#shard", "shard")
            .expression_attribute_values(":shard", n(shard))
            .set_exclusive_start_key(start)
    }
}
