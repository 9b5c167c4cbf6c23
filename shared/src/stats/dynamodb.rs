//! The path counters in DynamoDB: one item per path, and two indexes that rank them without
//! reading every counter (the key design and its costs are in `docs/stats.md`).
//!
//! One `UpdateItem` counts: `ADD count 1`, and `tie = if_not_exists(tie, shard) + SHARDS`,
//! so that `tie = count * SHARDS + shard` always holds. `ByCount` (partition `shard`, sort
//! `count`) lists each shard most counted first; `ByTie` (partition `tie`, sort `path`) lists
//! the paths of one shard that share a count, in byte order. A page merges the shards of
//! `ByCount` lazily (`store::merge`) for the counts it covers whole and reads the one count it
//! cuts through from `ByTie`, its shards merged the same way.

use super::{ranking, CountedPath, PathCount, Ranked, StatsStore};
use crate::store::dynamodb::{
    add_one, by_count_start, n, new_count, number, s, string, Client, IndexShards, Item,
};
use crate::store::merge::merged;
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use std::cmp::Reverse;
use std::collections::HashSet;

/// How many partitions each index is spread over. Changing it needs a backfill of `tie`.
pub const SHARDS: u32 = 4;
const BY_COUNT: &str = "ByCount";
const BY_TIE: &str = "ByTie";

pub struct DynamoStats {
    client: Client,
    table: String,
}

impl DynamoStats {
    pub fn new(client: Client, table: String) -> Self {
        DynamoStats { client, table }
    }

    fn index_query(&self, index: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(index)
    }

    /// The first `want` entries most counted first across the shards, counts below `below`
    /// only (all when `None`), in the order the merge took them; and how many items it read.
    async fn by_count(
        &self,
        below: Option<u64>,
        want: usize,
    ) -> Result<(Vec<PathCount>, usize), StoreError> {
        let query = IndexShards {
            shards: SHARDS,
            query: |shard, after: Option<&(Reverse<u64>, String)>| {
                self.by_count_shard(shard, below, after)
            },
            parse: |item: &Item| entry(item).map(|e| ((Reverse(e.count), e.path.clone()), e)),
        };
        let merged = merged(&query, None, want).await?;
        let entries = merged.items.into_iter().map(|(_, _, e)| e).collect();
        Ok((entries, merged.read))
    }

    /// One `ByCount` shard, most counted first, below `below`, resumed after the entry `after`.
    fn by_count_shard(
        &self,
        shard: u32,
        below: Option<u64>,
        after: Option<&(Reverse<u64>, String)>,
    ) -> QueryFluentBuilder {
        let start = after.map(|(Reverse(count), path)| by_count_start("path", path, shard, *count));
        let query = self
            .index_query(BY_COUNT)
            .scan_index_forward(false)
            .expression_attribute_names("#shard", "shard")
            .expression_attribute_values(":shard", n(shard))
            .set_exclusive_start_key(start);
        match below {
            Some(below) => query
                .key_condition_expression("#shard = :shard AND #count < :below")
                .expression_attribute_names("#count", "count")
                .expression_attribute_values(":below", n(below)),
            None => query.key_condition_expression("#shard = :shard"),
        }
    }

    /// The first `limit` paths counted exactly `count` times, after `after`, in byte order.
    async fn tie_group(
        &self,
        count: u64,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<PathCount>, usize), StoreError> {
        let query = IndexShards {
            shards: SHARDS,
            query: |shard, after: Option<&String>| {
                let query = self
                    .index_query(BY_TIE)
                    .expression_attribute_names("#tie", "tie")
                    .expression_attribute_values(":tie", n(tie(count, shard)));
                match after {
                    Some(after) => query
                        .key_condition_expression("#tie = :tie AND #path > :after")
                        .expression_attribute_names("#path", "path")
                        .expression_attribute_values(":after", s(after)),
                    None => query.key_condition_expression("#tie = :tie"),
                }
            },
            // `String` orders by bytes, as `ranking` does.
            parse: |item: &Item| string(item, "path").map(|path| (path.clone(), path)),
        };
        // Paths are unique and every shard is in path order: each resumes after `after`.
        let after = vec![after.map(str::to_string); SHARDS as usize];
        let merged = merged(&query, Some(&after), limit).await?;
        let entries = merged
            .items
            .into_iter()
            .map(|(_, _, path)| PathCount { path, count })
            .collect();
        Ok((entries, merged.read))
    }
}

/// The `ByTie` partition of the paths of `shard` counted `count` times.
fn tie(count: u64, shard: u32) -> u64 {
    count * u64::from(SHARDS) + u64::from(shard)
}

fn entry(item: &Item) -> Result<PathCount, StoreError> {
    Ok(PathCount {
        path: string(item, "path")?,
        count: number(item, "count")?,
    })
}

/// Splits what `by_count` took (asked for `limit + 1`, most counted first) into the entries
/// whose whole count group is known, ranked, and the count of the last entry taken, whose
/// group may be cut (`None` when fewer came, so every shard was read to its end). The merge
/// takes the highest counts first, so every count above the last one taken was read whole.
fn known_groups(taken: Vec<PathCount>, limit: usize) -> (Vec<PathCount>, Option<u64>) {
    let cut = if taken.len() > limit {
        taken.last().map(|e| e.count)
    } else {
        None
    };
    let mut known: Vec<PathCount> = taken
        .into_iter()
        .filter(|e| cut.is_none_or(|cut| e.count > cut))
        .collect();
    known.sort_by(ranking);
    known.truncate(limit);
    (known, cut)
}

/// A page under construction: entries in order, each path once (indexes may briefly disagree).
struct Builder {
    ranked: Ranked,
    seen: HashSet<String>,
    limit: usize,
}

impl Builder {
    fn extend(&mut self, entries: Vec<PathCount>) {
        for e in entries {
            if self.ranked.entries.len() < self.limit && self.seen.insert(e.path.clone()) {
                self.ranked.entries.push(e);
            }
        }
    }

    fn missing(&self) -> usize {
        self.limit - self.ranked.entries.len()
    }
}

#[async_trait]
impl StatsStore for DynamoStats {
    async fn increment(&self, path: &CountedPath) -> Result<u64, StoreError> {
        let tie = ", #tie = if_not_exists(#tie, :shard) + :shards";
        let update = add_one(
            &self.client,
            &self.table,
            "path",
            path.as_str(),
            SHARDS,
            tie,
        )
        .expression_attribute_names("#tie", "tie")
        .expression_attribute_values(":shards", n(SHARDS));
        new_count(update).await
    }

    async fn count(&self, path: &CountedPath) -> Result<Option<u64>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("path", s(path.as_str()))
            .consistent_read(true)
            .projection_expression("#count")
            .expression_attribute_names("#count", "count")
            .send()
            .await?;
        out.item.map(|item| number(&item, "count")).transpose()
    }

    async fn ranked(&self, after: Option<&PathCount>, limit: usize) -> Result<Ranked, StoreError> {
        let mut page = Builder {
            ranked: Ranked::default(),
            seen: HashSet::new(),
            limit,
        };
        // The count group to continue (and the path to continue after), then lower counts.
        let mut group = after.map(|a| (a.count, Some(a.path.as_str())));
        let mut below = None;
        while page.missing() > 0 {
            if let Some((count, after_path)) = group.take() {
                let (entries, read) = self.tie_group(count, after_path, page.missing()).await?;
                page.ranked.items_read += read;
                page.extend(entries);
                below = Some(count);
                if page.missing() == 0 {
                    break;
                }
            }
            let (taken, read) = self.by_count(below, page.missing() + 1).await?;
            page.ranked.items_read += read;
            let (known, cut) = known_groups(taken, page.missing());
            page.extend(known);
            match cut {
                Some(count) => group = Some((count, None)),
                None => break,
            }
        }
        Ok(page.ranked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(path: &str, count: u64) -> PathCount {
        PathCount {
            path: path.into(),
            count,
        }
    }

    #[test]
    fn tie_keeps_shards_of_one_count_together_and_counts_apart() {
        assert_eq!(tie(1, 0), 4);
        assert_eq!(tie(1, 3), 7);
        assert_eq!(tie(2, 0), 8);
    }

    #[test]
    fn groups_above_the_last_count_taken_are_known_and_ranked() {
        let taken = vec![e("a", 9), e("d", 7), e("g", 6), e("e", 6), e("b", 5)];
        let (known, cut) = known_groups(taken, 4);
        assert_eq!(cut, Some(5));
        assert_eq!(known, vec![e("a", 9), e("d", 7), e("e", 6), e("g", 6)]);
    }

    #[test]
    fn fewer_than_asked_leaves_nothing_cut() {
        let taken = vec![e("b", 2), e("a2", 2), e("a", 1)];
        let (known, cut) = known_groups(taken, 3);
        assert_eq!(cut, None);
        assert_eq!(known, vec![e("a2", 2), e("b", 2), e("a", 1)]);
    }

    #[test]
    fn the_page_builder_keeps_each_path_once_and_stops_at_the_limit() {
        let mut page = Builder {
            ranked: Ranked::default(),
            seen: HashSet::new(),
            limit: 2,
        };
        page.extend(vec![e("a", 3), e("a", 2), e("b", 2), e("c", 1)]);
        assert_eq!(page.ranked.entries, vec![e("a", 3), e("b", 2)]);
        assert_eq!(page.missing(), 0);
    }
}
