//! The keys ad counters are stored under and how many shards an SDK version's counter may
//! spread over: domain rules that the parameter checks and the DynamoDB adapter share.

use super::Namespace;

/// The most items an SDK version's counter may spread over (`SDK_COUNTER_SHARDS`): a read
/// sums them with one BatchGetItem, which reads at most 100 keys.
pub const MAX_SHARDS: u32 = 100;

/// A user's counter key: `user#<username>`.
pub(crate) fn user_key(username: &str) -> String {
    format!("{}#{username}", Namespace::User.as_str())
}

/// The key of one shard of an SDK version's counter: `sdk#<version>#<shard>`.
pub(crate) fn sdk_key(version: &str, shard: u32) -> String {
    format!("{}#{version}#{shard}", Namespace::Sdk.as_str())
}
