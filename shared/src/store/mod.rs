//! What the storage adapters of every service share, one module per engine.

pub mod dynamodb;
pub mod merge;
#[cfg(feature = "embedded")]
pub mod sqlite;

use std::cmp::Ordering;

/// A stable hash of a key onto `shards` partitions (FNV-1a), for spreading hot index keys.
pub fn shard_of(key: &str, shards: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(shards.max(1))) as u32
}

/// Merges lists that are each sorted by `order` (one per shard) into one list sorted by `order`.
pub fn merge_sorted<T>(lists: Vec<Vec<T>>, order: impl FnMut(&T, &T) -> Ordering) -> Vec<T> {
    let mut merged: Vec<T> = lists.into_iter().flatten().collect();
    merged.sort_by(order);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_of_is_stable_and_in_range() {
        assert_eq!(shard_of("alice", 4), shard_of("alice", 4));
        let spread: std::collections::HashSet<u32> =
            (0..100).map(|i| shard_of(&format!("id{i}"), 4)).collect();
        assert_eq!(spread, (0..4).collect());
    }

    #[test]
    fn merge_sorted_interleaves_sorted_shards() {
        let merged = merge_sorted(vec![vec![9, 4, 1], vec![], vec![10, 3, 2]], |a, b| b.cmp(a));
        assert_eq!(merged, vec![10, 9, 4, 3, 2, 1]);
    }
}
