//! The visit counters in DynamoDB: one item per id, keyed (`shard`, `id`), so `/database` is
//! a Query of the table itself and an increment writes nothing but its item (design and
//! costs: `docs/visits.md`).
//!
//! `shard` is the id hashed onto `SHARDS` partitions; a page merges the shards lazily
//! (`store::merge`). The dashboard's top visitors come from `ByRank` (partition `shard`, sort
//! `rank`, keys only), a sparse index of the ids counted twice or more and at least the entry
//! floor (`visits::floor`): `rank` (`visits::rank`) changes only when the count crosses 2·4^j,
//! by a second, conditional write; the exact order comes from the items' counts, read by key.

use super::floor::{rank_to_set, RankedSeen};
use super::{most_counted, Visit, VisitId, VisitStore};
use crate::store::dynamodb::{
    batch_get, n, number, optional_number, query_up_to, s, string, write_once, Client, IndexShards,
    Item,
};
use crate::store::merge::merged;
use crate::store::shard_of;
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::ReturnValue;
use futures_util::future::try_join_all;
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// How many partitions the ids are spread over. Changing it strands existing items.
pub const SHARDS: u32 = 4;
const BY_RANK: &str = "ByRank";

pub struct DynamoVisits {
    client: Client,
    table: String,
    /// The highest counts this process has seen, which set the entry floor of `ByRank`.
    seen: Mutex<RankedSeen>,
}

impl DynamoVisits {
    pub fn new(client: Client, table: String) -> Self {
        DynamoVisits {
            client,
            table,
            seen: Mutex::default(),
        }
    }

    /// The counts seen so far (a panic elsewhere cannot leave them half-updated: `saw` only
    /// replaces whole entries).
    fn seen(&self) -> MutexGuard<'_, RankedSeen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The table key of an id: its shard and the id.
fn key(id: &str) -> Item {
    Item::from([
        ("shard".to_string(), n(shard_of(id, SHARDS))),
        ("id".to_string(), s(id)),
    ])
}

#[async_trait]
impl VisitStore for DynamoVisits {
    async fn increment(&self, id: &VisitId) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id.as_str())))
            .update_expression("ADD #count :one")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .customize()
            .config_override(write_once())
            .send()
            .await?;
        let item = out.attributes.unwrap_or_default();
        let count = number(&item, "count")?;
        let stored: Option<u64> = optional_number(&item, "rank")?;
        let floor = self.seen().floor();
        let ranked = match rank_to_set(count, stored, floor) {
            Some(rank) => self.raise_rank(id.as_str(), rank).await || stored.is_some(),
            None => stored.is_some(),
        };
        if ranked {
            self.seen().saw(id.as_str(), count);
        }
        Ok(count)
    }

    async fn count(&self, id: &VisitId) -> Result<Option<u64>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(id.as_str())))
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
        if limit == 0 {
            return Ok(Vec::new());
        }
        let candidates = self.ranked_candidates(limit).await?;
        let ranked = candidates.len();
        let mut top = self.exact(candidates).await?;
        if ranked < limit {
            // Fewer ids ranked than asked: the rest are counted once, ties by id.
            let seen: HashSet<String> = top.iter().map(|v| v.id.clone()).collect();
            let tail = self.list(None, limit + ranked).await?;
            top.extend(tail.into_iter().filter(|v| !seen.contains(&v.id)));
        }
        top.sort_by(most_counted);
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

/// A `ByRank` entry: the table key and the rank.
fn rank_of(entry: &Item) -> Result<u64, StoreError> {
    number(entry, "rank")
}

/// The rank of the `limit`-th entry when the shards' highest entries are pooled, or `None`
/// when the shards hold fewer than `limit` entries in all. Each shard read its `limit` highest,
/// so every entry ranked above the cut has been read, and only the cut's own group may not.
fn cut_rank(shards: &[Vec<Item>], limit: usize) -> Result<Option<u64>, StoreError> {
    let mut ranks = shards
        .iter()
        .flatten()
        .map(rank_of)
        .collect::<Result<Vec<u64>, _>>()?;
    if ranks.len() < limit {
        return Ok(None);
    }
    ranks.sort_unstable_by(|a, b| b.cmp(a));
    Ok(ranks.get(limit.saturating_sub(1)).copied())
}

impl DynamoVisits {
    /// Sets `rank` to `rank` unless it is there already or higher (a racing writer may have
    /// raised it), and says whether the item holds a rank now. The count is already stored and
    /// answered, so a failure is only logged: the next increment of the id sees the rank
    /// behind and raises it.
    async fn raise_rank(&self, id: &str, rank: u64) -> bool {
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .update_expression("SET #rank = :rank")
            .condition_expression("attribute_not_exists(#rank) OR #rank < :rank")
            .expression_attribute_names("#rank", "rank")
            .expression_attribute_values(":rank", n(rank))
            .send()
            .await;
        let Err(err) = sent else {
            return true;
        };
        let raced = err
            .as_service_error()
            .is_some_and(|e| e.is_conditional_check_failed_exception());
        if !raced {
            let err = StoreError::from(err);
            tracing::warn!(id, rank, error = %err, "visit rank not raised; the next visit retries");
        }
        raced
    }

    /// The `ByRank` entries that can be in the top `limit`: every entry ranked above the
    /// `limit`-th one, and the whole group of its rank (its order inside needs exact counts).
    async fn ranked_candidates(&self, limit: usize) -> Result<Vec<Item>, StoreError> {
        let reads = (0..SHARDS).map(|shard| query_up_to(self.ranked(shard, None), limit));
        let mut shards = try_join_all(reads).await?;
        let Some(cut) = cut_rank(&shards, limit)? else {
            return Ok(shards.into_iter().flatten().collect());
        };
        let rests = shards
            .iter()
            .enumerate()
            .map(|(shard, entries)| async move {
                match entries.last() {
                    Some(last) if entries.len() == limit && rank_of(last)? == cut => {
                        let start = last.clone();
                        query_up_to(self.ranked(shard as u32, Some((cut, start))), usize::MAX).await
                    }
                    _ => Ok(Vec::new()),
                }
            });
        let rests = try_join_all(rests).await?;
        for (entries, rest) in shards.iter_mut().zip(rests) {
            entries.extend(rest);
        }
        let mut candidates = Vec::new();
        for entry in shards.into_iter().flatten() {
            if rank_of(&entry)? >= cut {
                candidates.push(entry);
            }
        }
        Ok(candidates)
    }

    /// The exact counts of the ids of `entries`, read by key (strongly consistent).
    async fn exact(&self, entries: Vec<Item>) -> Result<Vec<Visit>, StoreError> {
        let keys: Vec<Item> = entries
            .iter()
            .map(|entry| string(entry, "id").map(|id| key(&id)))
            .collect::<Result<_, _>>()?;
        let items = batch_get(&self.client, &self.table, keys).await?;
        items.iter().map(visit).collect()
    }

    /// The Query of one shard of the table for the ids after `after`, in id order.
    fn shard_after(&self, shard: u32, after: Option<&String>) -> QueryFluentBuilder {
        let query = self
            .client
            .query()
            .table_name(&self.table)
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

    /// The Query of one `ByRank` shard, highest rank first; with `rest = (rank, entry)`, the
    /// entries of that rank after `entry`.
    fn ranked(&self, shard: u32, rest: Option<(u64, Item)>) -> QueryFluentBuilder {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_RANK)
            .scan_index_forward(false)
            .expression_attribute_names("#shard", "shard")
            .expression_attribute_values(":shard", n(shard));
        match rest {
            Some((rank, entry)) => query
                .key_condition_expression("#shard = :shard AND #rank = :rank")
                .expression_attribute_names("#rank", "rank")
                .expression_attribute_values(":rank", n(rank))
                .set_exclusive_start_key(Some(entry)),
            None => query.key_condition_expression("#shard = :shard"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rank: u64) -> Item {
        Item::from([("rank".to_string(), n(rank))])
    }

    #[test]
    fn the_cut_is_the_rank_of_the_limit_th_entry_across_shards() {
        let shards = vec![
            vec![entry(32), entry(8), entry(2)],
            vec![entry(8), entry(8), entry(2)],
        ];
        assert_eq!(cut_rank(&shards, 3).expect("cut"), Some(8));
        assert_eq!(cut_rank(&shards, 5).expect("cut"), Some(2));
        assert_eq!(cut_rank(&shards, 7).expect("cut"), None);
    }
}
