//! The path counters in DynamoDB: one item per path, and two indexes that rank them without
//! reading every counter (the key design and its costs are in `docs/stats.md`).
//!
//! One `UpdateItem` counts: `ADD count 1`, and `tie = if_not_exists(tie, shard) + SHARDS`,
//! so that `tie = count * SHARDS + shard` always holds. `ByCount` (partition `shard`, sort
//! `count`) lists each shard most counted first; `ByTie` (partition `tie`, sort `path`) lists
//! the paths of one shard that share a count, in byte order. A page merges the shards of
//! `ByCount` for the counts it covers whole and reads the one count it cuts through from `ByTie`.

use super::{ranking, CountedPath, PathCount, Ranked, StatsStore};
use crate::store::dynamodb::{n, number, query_shards, s, string, write_once, Client, Item};
use crate::store::{merge_sorted, shard_of};
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::ReturnValue;
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

    /// Each shard's entries most counted first, counts below `below` only (all when `None`).
    async fn by_count(
        &self,
        below: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Vec<PathCount>>, StoreError> {
        let shards = query_shards(SHARDS, limit, |shard| {
            let query = self
                .index_query(BY_COUNT)
                .scan_index_forward(false)
                .expression_attribute_names("#shard", "shard")
                .expression_attribute_values(":shard", n(shard));
            match below {
                Some(below) => query
                    .key_condition_expression("#shard = :shard AND #count < :below")
                    .expression_attribute_names("#count", "count")
                    .expression_attribute_values(":below", n(below)),
                None => query.key_condition_expression("#shard = :shard"),
            }
        })
        .await?;
        shards
            .iter()
            .map(|items| items.iter().map(entry).collect())
            .collect()
    }

    /// The first `limit` paths counted exactly `count` times, after `after`, in byte order.
    async fn tie_group(
        &self,
        count: u64,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<PathCount>, usize), StoreError> {
        let shards = query_shards(SHARDS, limit, |shard| {
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
        })
        .await?;
        let read = shards.iter().map(Vec::len).sum();
        let shards = shards
            .iter()
            .map(|items| items.iter().map(|item| string(item, "path")).collect())
            .collect::<Result<Vec<Vec<String>>, StoreError>>()?;
        // `String` orders by bytes, as `ranking` does.
        let mut paths = merge_sorted(shards, String::cmp);
        paths.truncate(limit);
        let entries = paths
            .into_iter()
            .map(|path| PathCount { path, count })
            .collect();
        Ok((entries, read))
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

/// Splits what `by_count` returned (each shard asked for `limit`) into the entries whose whole
/// count group is known, ranked and at most `limit` of them, and the highest count whose group
/// may be cut (`None` when every shard was read to its end).
fn known_groups(shards: Vec<Vec<PathCount>>, limit: usize) -> (Vec<PathCount>, Option<u64>) {
    let cut = shards
        .iter()
        .filter(|entries| entries.len() >= limit)
        .filter_map(|entries| entries.last().map(|e| e.count))
        .max();
    let mut known: Vec<PathCount> = shards
        .into_iter()
        .flatten()
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
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("path", s(path.as_str()))
            .update_expression(
                "ADD #count :one SET #shard = :shard, #tie = if_not_exists(#tie, :shard) + :shards",
            )
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#shard", "shard")
            .expression_attribute_names("#tie", "tie")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":shard", n(shard_of(path.as_str(), SHARDS)))
            .expression_attribute_values(":shards", n(SHARDS))
            .return_values(ReturnValue::UpdatedNew)
            .customize()
            .config_override(write_once())
            .send()
            .await?;
        number(&out.attributes.unwrap_or_default(), "count")
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
            let shards = self.by_count(below, page.missing()).await?;
            page.ranked.items_read += shards.iter().map(Vec::len).sum::<usize>();
            let (known, cut) = known_groups(shards, page.missing());
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
    fn groups_above_the_highest_cut_shard_are_known_and_ranked() {
        let shards = vec![
            vec![e("a", 9), e("b", 5), e("c", 5)],
            vec![e("d", 7), e("e", 6), e("f", 3)],
            vec![e("g", 6)],
        ];
        let (known, cut) = known_groups(shards, 3);
        assert_eq!(cut, Some(5));
        assert_eq!(known, vec![e("a", 9), e("d", 7), e("e", 6)]);
    }

    #[test]
    fn shards_read_to_their_end_leave_nothing_cut() {
        let shards = vec![vec![e("b", 2), e("a", 1)], vec![e("a2", 2)]];
        let (known, cut) = known_groups(shards, 3);
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
