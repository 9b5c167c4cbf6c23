//! What the storage adapters of every service share, one module per engine.

pub mod dynamodb;
pub(crate) mod keys;
pub(crate) mod merge;
pub(crate) mod packed;
#[cfg(feature = "embedded")]
pub(crate) mod sqlite;

/// A stable hash of a key onto `shards` partitions (FNV-1a), for spreading hot index keys.
pub fn shard_of(key: &str, shards: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(shards.max(1))) as u32
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
}
