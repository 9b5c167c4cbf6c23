//! Reads N ordered partitions (shards) as one ordered list: a lazy k-way merge whose position is
//! every shard's last key shown, so the next page resumes each shard exactly where it stopped.
//!
//! Any engine and any order can use it: a shard is whatever `ShardedQuery::fetch` reads in
//! ascending key order (a DynamoDB partition, an SQL index range, a top-N list by count, ...).
//! It is the one way Tally reads sharded indexes: `merged_page` for listings with a cursor,
//! `merged` for the first items of a top-N or of a page whose cursor is one global key.

use crate::http::budget::{fitting, PAGE_BUDGET_BYTES};
use crate::http::cursor::Page;
use crate::StoreError;
use async_trait::async_trait;
use futures_util::future::try_join_all;
use serde::Serialize;
use std::collections::VecDeque;

/// Where a merged listing stands: for each shard, the key of the last item shown from it.
pub type Positions<K> = Vec<Option<K>>;

/// One query over several shards, each read in ascending key order.
#[async_trait]
pub trait ShardedQuery: Sync {
    /// Orders the items; unique within a shard. Ties across shards go to the lower shard.
    type Key: Ord + Clone + Send + Sync;
    type Item: Send;

    /// How many shards the query reads (0..shards).
    fn shards(&self) -> usize;

    /// Up to `limit` items of `shard` whose keys are above `after`, ascending. Fewer than
    /// `limit` means the shard has nothing more (for now).
    async fn fetch(
        &self,
        shard: usize,
        after: Option<&Self::Key>,
        limit: usize,
    ) -> Result<Vec<(Self::Key, Self::Item)>, StoreError>;
}

/// One shard's state during a merge: what was fetched but not yet taken.
struct Cursor<K, T> {
    fetched_up_to: Option<K>,
    buffer: VecDeque<(K, T)>,
    exhausted: bool,
}

impl<K, T> Cursor<K, T> {
    fn needs_fetch(&self) -> bool {
        self.buffer.is_empty() && !self.exhausted
    }
}

/// The first read per shard: an even share of the page plus half again, since hashed shards
/// are rarely perfectly even; a shard that runs dry is refilled with what is still missing.
fn first_chunk(want: usize, shards: usize) -> usize {
    let share = want.div_ceil(shards.max(1));
    (share + share.div_ceil(2)).min(want)
}

/// Fetches, concurrently, every shard whose buffer is empty and that may hold more; returns
/// how many items were read.
async fn refill<Q: ShardedQuery>(
    query: &Q,
    cursors: &mut [Cursor<Q::Key, Q::Item>],
    chunk: usize,
) -> Result<usize, StoreError> {
    let wanted: Vec<usize> = (0..cursors.len())
        .filter(|&i| cursors[i].needs_fetch())
        .collect();
    let fetches = wanted
        .iter()
        .map(|&i| query.fetch(i, cursors[i].fetched_up_to.as_ref(), chunk));
    let results = try_join_all(fetches).await?;
    let read = results.iter().map(Vec::len).sum();
    for (i, items) in wanted.into_iter().zip(results) {
        let cursor = &mut cursors[i];
        cursor.exhausted = items.len() < chunk;
        if let Some((key, _)) = items.last() {
            cursor.fetched_up_to = Some(key.clone());
        }
        cursor.buffer.extend(items);
    }
    Ok(read)
}

/// The shard whose next item has the smallest key, if any shard has one buffered.
fn smallest_head<K: Ord, T>(cursors: &[Cursor<K, T>]) -> Option<usize> {
    (0..cursors.len())
        .filter_map(|i| cursors[i].buffer.front().map(|(key, _)| (key, i)))
        .min()
        .map(|(_, i)| i)
}

/// The first items of a merge, each with its shard and key, and how many items were read.
pub struct Merged<K, T> {
    pub items: Vec<(usize, K, T)>,
    pub read: usize,
}

/// Up to `want` items in key order across every shard, each shard resumed after its position
/// in `after` (none: from its start). Reads about `want` items, at most about twice that.
pub async fn merged<Q: ShardedQuery>(
    query: &Q,
    after: Option<&[Option<Q::Key>]>,
    want: usize,
) -> Result<Merged<Q::Key, Q::Item>, StoreError> {
    let mut cursors: Vec<Cursor<Q::Key, Q::Item>> = (0..query.shards())
        .map(|i| Cursor {
            fetched_up_to: after.and_then(|a| a.get(i).cloned().flatten()),
            buffer: VecDeque::new(),
            exhausted: false,
        })
        .collect();
    let mut chunk = first_chunk(want, cursors.len());
    let mut taken = Merged {
        items: Vec::with_capacity(want),
        read: 0,
    };
    while taken.items.len() < want {
        if cursors.iter().any(Cursor::needs_fetch) {
            taken.read += refill(query, &mut cursors, chunk).await?;
            chunk = want - taken.items.len();
            continue;
        }
        let Some(shard) = smallest_head(&cursors) else {
            break;
        };
        if let Some((key, item)) = cursors[shard].buffer.pop_front() {
            taken.items.push((shard, key, item));
        }
    }
    Ok(taken)
}

/// One page of up to `limit` items in key order across every shard, resuming after `after`
/// (as returned in an earlier page's `next`), cut at the page's byte budget
/// (`budget::fitting`). `next` is set only when more items exist, at the cut.
pub async fn merged_page<Q: ShardedQuery>(
    query: &Q,
    after: Option<&[Option<Q::Key>]>,
    limit: usize,
) -> Result<Page<Q::Item, Positions<Q::Key>>, StoreError>
where
    Q::Item: Serialize,
{
    let mut positions: Positions<Q::Key> = (0..query.shards())
        .map(|i| after.and_then(|a| a.get(i).cloned().flatten()))
        .collect();
    let mut taken = merged(query, after, limit + 1).await?.items;
    let kept = fitting(
        taken.iter().take(limit).map(|(_, _, item)| item),
        PAGE_BUDGET_BYTES,
    );
    let more = taken.len() > kept;
    taken.truncate(kept);
    let items = taken
        .into_iter()
        .map(|(shard, key, item)| {
            positions[shard] = Some(key);
            item
        })
        .collect();
    Ok(Page {
        items,
        next: more.then_some(positions),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Shards held in memory; counts the items read, to show cost follows the page.
    struct Memory {
        shards: Vec<Vec<u32>>,
        read: AtomicUsize,
    }

    impl Memory {
        fn new(shards: Vec<Vec<u32>>) -> Self {
            Memory {
                shards,
                read: AtomicUsize::new(0),
            }
        }
    }

    #[async_trait]
    impl ShardedQuery for Memory {
        type Key = u32;
        type Item = u32;

        fn shards(&self) -> usize {
            self.shards.len()
        }

        async fn fetch(
            &self,
            shard: usize,
            after: Option<&u32>,
            limit: usize,
        ) -> Result<Vec<(u32, u32)>, StoreError> {
            let items: Vec<(u32, u32)> = self.shards[shard]
                .iter()
                .filter(|&&k| after.is_none_or(|a| k > *a))
                .take(limit)
                .map(|&k| (k, k))
                .collect();
            self.read.fetch_add(items.len(), Ordering::Relaxed);
            Ok(items)
        }
    }

    async fn walk(query: &Memory, limit: usize) -> Vec<u32> {
        let mut seen = Vec::new();
        let mut after: Option<Positions<u32>> = None;
        loop {
            let page = merged_page(query, after.as_deref(), limit)
                .await
                .expect("page");
            assert!(page.items.len() <= limit);
            seen.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => return seen,
            }
        }
    }

    fn spread(total: u32, shards: u32) -> Vec<Vec<u32>> {
        (0..shards)
            .map(|s| (0..total).filter(|k| k * 7 % shards == s).collect())
            .collect()
    }

    #[tokio::test]
    async fn walking_every_page_yields_every_item_once_in_order() {
        for (shards, limit) in [(1, 7), (4, 1), (4, 7), (8, 137), (3, 1000)] {
            let query = Memory::new(spread(500, shards));
            assert_eq!(walk(&query, limit).await, (0..500).collect::<Vec<_>>());
        }
    }

    #[tokio::test]
    async fn uneven_and_empty_shards_merge_in_order() {
        let query = Memory::new(vec![vec![], (0..50).collect(), vec![50, 51], vec![]]);
        assert_eq!(walk(&query, 9).await, (0..52).collect::<Vec<_>>());
        let empty = Memory::new(vec![vec![], vec![]]);
        let page = merged_page(&empty, None, 10).await.expect("page");
        assert!(page.items.is_empty() && page.next.is_none());
    }

    #[tokio::test]
    async fn the_last_page_has_no_position_and_a_full_one_does() {
        let query = Memory::new(spread(20, 4));
        let first = merged_page(&query, None, 10).await.expect("page");
        assert_eq!(first.items, (0..10).collect::<Vec<_>>());
        let next = first.next.expect("more to come");
        let second = merged_page(&query, Some(&next), 10).await.expect("page");
        assert_eq!(second.items, (10..20).collect::<Vec<_>>());
        assert_eq!(second.next, None);
    }

    #[tokio::test]
    async fn a_page_reads_a_bounded_multiple_of_its_size_not_the_whole_store() {
        let query = Memory::new(spread(100_000, 8));
        let page = merged_page(&query, None, 100).await.expect("page");
        assert_eq!(page.items.len(), 100);
        assert!(query.read.load(Ordering::Relaxed) <= 2 * 101);
    }

    #[tokio::test]
    async fn merged_reports_what_it_read_and_resumes_each_shard_after_its_position() {
        let query = Memory::new(spread(1000, 4));
        let after = vec![Some(99); 4];
        let first = merged(&query, Some(&after), 10).await.expect("merge");
        let keys: Vec<u32> = first.items.iter().map(|(_, key, _)| *key).collect();
        assert_eq!(keys, (100..110).collect::<Vec<_>>());
        assert_eq!(first.read, query.read.load(Ordering::Relaxed));
        assert!(first.read <= 2 * 10);
    }
}
