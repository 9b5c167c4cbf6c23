//! The ad counters in DynamoDB: one item per counter (partition key `pk`); `ADD` makes each
//! increment one atomic write.
//!
//! A user is one item, `user#<username>`. An SDK version is a hot key (every client of that SDK
//! increments it, and one item takes about 1,000 writes/s), so it is spread over `shards`
//! items `sdk#<version>#<k>`, k in 0..shards: a write picks k at random, a read sums all of
//! them with one strongly consistent BatchGetItem (one read unit per item). The shard number
//! is always the last `#` field, so no version and shard pair names another's item.
//!
//! SDK shard items also carry `dir = "sdk"`, the partition of the keys-only `BySdk` index
//! (sort key `pk`): the directory of SDK versions. Its keys never change after an item's first
//! write, so only that first write costs an index write.

use super::counter_keys::{sdk_key, user_key, MAX_SHARDS};
use super::{AdParams, AdStore, Counts, Event, Namespace, StatsKey};
use crate::store::dynamodb::{
    batch_get, n, optional_number, query_up_to, s, string, write_once, Client, Item,
};
use crate::StoreError;
use async_trait::async_trait;
use std::collections::BTreeMap;

const KEY: &str = "pk";
const BY_SDK: &str = "BySdk";
/// The `BySdk` partition every SDK shard item is in.
const DIRECTORY: &str = "sdk";
const AD_REQUESTS: &str = "ad_requests";
const IMPRESSIONS: &str = "impressions";

/// The version an SDK shard item's key names (`sdk#<version>#<k>`).
fn version_of(key: &str) -> Option<&str> {
    let rest = key
        .strip_prefix(Namespace::Sdk.as_str())?
        .strip_prefix('#')?;
    rest.rsplit_once('#').map(|(version, _)| version)
}

pub struct DynamoAds {
    client: Client,
    table: String,
    shards: u32,
}

impl DynamoAds {
    /// `shards` is clamped to 1..=100.
    pub fn new(client: Client, table: String, shards: u32) -> Self {
        DynamoAds {
            client,
            table,
            shards: shards.clamp(1, MAX_SHARDS),
        }
    }

    /// One atomic `ADD`; an SDK shard item (`listed`) also stays in the `BySdk` directory.
    async fn add(&self, key: String, event: Event, listed: bool) -> Result<(), StoreError> {
        let attribute = match event {
            Event::AdRequest => AD_REQUESTS,
            Event::Impression => IMPRESSIONS,
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, s(key))
            .update_expression("ADD #counter :one")
            .expression_attribute_names("#counter", attribute)
            .expression_attribute_values(":one", n(1));
        if listed {
            update = update
                .update_expression("ADD #counter :one SET #dir = :dir")
                .expression_attribute_names("#dir", "dir")
                .expression_attribute_values(":dir", s(DIRECTORY));
        }
        update
            .customize()
            .config_override(write_once())
            .send()
            .await?;
        Ok(())
    }

    /// Every item that holds part of the counter `key`.
    fn items_of(&self, key: &StatsKey) -> Vec<String> {
        match key.namespace {
            Namespace::User => vec![user_key(&key.name)],
            Namespace::Sdk => (0..self.shards).map(|k| sdk_key(&key.name, k)).collect(),
        }
    }
}

fn counts_of(item: &Item) -> Result<Counts, StoreError> {
    Ok(Counts {
        ad_requests: optional_number(item, AD_REQUESTS)?.unwrap_or(0),
        impressions: optional_number(item, IMPRESSIONS)?.unwrap_or(0),
    })
}

#[async_trait]
impl AdStore for DynamoAds {
    /// Two independent atomic ADDs, sent together and both carried through. If either fails
    /// the request is a 503 although the other may have counted: DynamoDB cannot make both one
    /// write without a transaction, and transactions on hot items fail with conflicts.
    async fn record(&self, event: Event, params: &AdParams) -> Result<(), StoreError> {
        let shard = fastrand::u32(0..self.shards);
        let (user, sdk) = tokio::join!(
            self.add(user_key(&params.username), event, false),
            self.add(sdk_key(&params.sdk_version, shard), event, true),
        );
        user.and(sdk)
    }

    async fn counts(&self, key: &StatsKey) -> Result<Option<Counts>, StoreError> {
        let keys: Vec<Item> = self.items_of(key).into_iter().map(key_item).collect();
        let items = batch_get(&self.client, &self.table, keys).await?;
        if items.is_empty() {
            return Ok(None);
        }
        let mut total = Counts::default();
        for item in &items {
            total = total + counts_of(item)?;
        }
        Ok(Some(total))
    }

    /// One `BySdk` Query of up to (`limit` + 1) x shards keys (a version has at most `shards`
    /// items, so the first `limit` versions are whole unless versions containing `#` interleave
    /// their keys), then their counters by BatchGetItem, 100 keys a call.
    async fn sdk_versions(&self, limit: usize) -> Result<Vec<(String, Counts)>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_SDK)
            .key_condition_expression("#dir = :dir")
            .expression_attribute_names("#dir", "dir")
            .expression_attribute_values(":dir", s(DIRECTORY));
        let listed = query_up_to(query, (limit + 1) * self.shards as usize).await?;
        let mut versions: BTreeMap<String, Vec<Item>> = BTreeMap::new();
        for item in &listed {
            let key = string(item, KEY)?;
            if let Some(version) = version_of(&key) {
                versions
                    .entry(version.to_string())
                    .or_default()
                    .push(key_item(key.clone()));
            }
        }
        let shown: Vec<(String, Vec<Item>)> = versions.into_iter().take(limit).collect();
        let keys: Vec<Item> = shown.iter().flat_map(|(_, keys)| keys.clone()).collect();
        let mut totals: BTreeMap<String, Counts> = shown
            .into_iter()
            .map(|(version, _)| (version, Counts::default()))
            .collect();
        for item in batch_get(&self.client, &self.table, keys).await? {
            let key = string(&item, KEY)?;
            if let Some(total) = version_of(&key).and_then(|v| totals.get_mut(v)) {
                *total = *total + counts_of(&item)?;
            }
        }
        Ok(totals.into_iter().collect())
    }
}

fn key_item(pk: String) -> Item {
    Item::from([(KEY.to_string(), s(pk))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_sdk_versions_never_share_an_item() {
        assert_ne!(user_key("1.0"), sdk_key("1.0", 0));
        assert_ne!(sdk_key("a#1", 2), sdk_key("a", 12));
        assert_eq!(sdk_key("a#1", 2), "sdk#a#1#2");
        assert_eq!(user_key("sdk#1.0#0"), "user#sdk#1.0#0");
    }

    #[test]
    fn the_version_of_a_shard_item_keeps_its_own_hashes() {
        assert_eq!(version_of(&sdk_key("a#1", 2)), Some("a#1"));
        assert_eq!(version_of(&sdk_key("", 0)), Some(""));
        assert_eq!(version_of(&user_key("x#1")), None);
    }
}
