//! The ad store's contract, run against both adapters, and the DynamoDB adapter's hot-key
//! spreading of SDK-version counters.

use aws_sdk_dynamodb::types::AttributeValue;
use std::sync::Arc;
use std::time::Duration;
use tally::ads::{AdParams, AdStore, Counts, Event, Namespace, StatsKey};
use tally::config::Config;
use tally::test_support::client_at;
use tally::AppState;
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::{Engine, Stores};

fn params(username: &str, sdk_version: &str) -> AdParams {
    AdParams {
        sdk_version: sdk_version.into(),
        username: username.into(),
    }
}

fn user(name: &str) -> StatsKey {
    StatsKey {
        namespace: Namespace::User,
        name: name.into(),
    }
}

fn sdk(name: &str) -> StatsKey {
    StatsKey {
        namespace: Namespace::Sdk,
        name: name.into(),
    }
}

fn counts(ad_requests: u64, impressions: u64) -> Option<Counts> {
    Some(Counts {
        ad_requests,
        impressions,
    })
}

async fn record_counts_each_event_for_the_user_and_the_sdk_version(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = &stores.state.ads.store;
    store
        .record(Event::AdRequest, &params("alice", "1.0"))
        .await
        .expect("record");
    store
        .record(Event::AdRequest, &params("alice", "1.0"))
        .await
        .expect("record");
    store
        .record(Event::Impression, &params("alice", "2.0"))
        .await
        .expect("record");
    assert_eq!(
        store.counts(&user("alice")).await.expect("read"),
        counts(2, 1)
    );
    assert_eq!(store.counts(&sdk("1.0")).await.expect("read"), counts(2, 0));
    assert_eq!(store.counts(&sdk("2.0")).await.expect("read"), counts(0, 1));
}

async fn users_and_sdk_versions_are_separate_namespaces(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = &stores.state.ads.store;
    store
        .record(Event::AdRequest, &params("1.0", "9"))
        .await
        .expect("record");
    store
        .record(Event::Impression, &params("x", "1.0"))
        .await
        .expect("record");
    assert_eq!(
        store.counts(&user("1.0")).await.expect("read"),
        counts(1, 0)
    );
    assert_eq!(store.counts(&sdk("1.0")).await.expect("read"), counts(0, 1));
    assert_eq!(store.counts(&user("9")).await.expect("read"), None);
    assert_eq!(store.counts(&sdk("x")).await.expect("read"), None);
}

async fn never_counted_keys_are_none(engine: Engine) {
    let stores = Stores::on(engine).await;
    assert_eq!(
        stores
            .state
            .ads
            .store
            .counts(&user("nobody"))
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        stores
            .state
            .ads
            .store
            .counts(&sdk("0.0"))
            .await
            .expect("read"),
        None
    );
}

/// 64 in flight on the embedded store; 16 on the DynamoDB server, which is shared by every
/// test and serves about 350 writes/s, one at a time.
async fn concurrent_records_are_exact(engine: Engine) {
    let (each, in_flight): (u64, usize) = match engine {
        Engine::Sqlite => (1_000, 64),
        _ => (300, 16),
    };
    let stores = Stores::on(engine).await;
    let store: Arc<dyn AdStore> = Arc::clone(&stores.state.ads.store);
    let limit = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..2 * each {
        let (store, limit) = (Arc::clone(&store), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire().await.expect("semaphore");
            let event = if i % 2 == 0 {
                Event::AdRequest
            } else {
                Event::Impression
            };
            store
                .record(event, &params("hot", "1.0"))
                .await
                .expect("record");
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
    assert_eq!(
        store.counts(&user("hot")).await.expect("read"),
        counts(each, each)
    );
    assert_eq!(
        store.counts(&sdk("1.0")).await.expect("read"),
        counts(each, each)
    );
}

on_every_store!(
    record_counts_each_event_for_the_user_and_the_sdk_version,
    users_and_sdk_versions_are_separate_namespaces,
    never_counted_keys_are_none,
    concurrent_records_are_exact,
);

/// Writes to one SDK version land on several of its items, and a read sums every one of them;
/// a user stays one item.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_spreads_sdk_counters_over_shards_and_reads_sum_them() {
    const SHARDS: u32 = 4;
    const RECORDS: u64 = 200;
    let (client, tables) = tally_tests::dynamodb_tables().await;
    let config = Config {
        tables: tables.clone(),
        ads: tally::config::AdsSettings {
            ad_shards: SHARDS,
            ..Default::default()
        },
        ..Config::default()
    };
    let store = AppState::dynamodb(client.clone(), &config).ads.store;
    for _ in 0..RECORDS {
        store
            .record(Event::Impression, &params("alice", "1.0"))
            .await
            .expect("record");
    }
    let mut per_shard = Vec::new();
    for shard in 0..SHARDS {
        let item = client
            .get_item()
            .table_name(&tables.ads)
            .key("pk", AttributeValue::S(format!("sdk#1.0#{shard}")))
            .consistent_read(true)
            .send()
            .await
            .expect("get")
            .item;
        per_shard.push(item.map_or(0, |i| impressions(&i)));
    }
    assert_eq!(per_shard.iter().sum::<u64>(), RECORDS);
    assert!(
        per_shard.iter().all(|&n| n > 0),
        "every shard took writes: {per_shard:?}"
    );
    assert_eq!(
        store.counts(&sdk("1.0")).await.expect("read"),
        counts(0, RECORDS)
    );
    let user_item = client
        .get_item()
        .table_name(&tables.ads)
        .key("pk", AttributeValue::S("user#alice".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
        .expect("one user item");
    assert_eq!(impressions(&user_item), RECORDS);
}

/// The `impressions` number of a raw item.
fn impressions(item: &std::collections::HashMap<String, AttributeValue>) -> u64 {
    item.get("impressions")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .expect("an impressions count")
}

/// A counter write slower than the client's 2 s attempt timeout is awaited, not sent again:
/// a resent `ADD` would count twice if the first had been applied.
#[tokio::test]
async fn dynamodb_counter_writes_are_not_resent_when_slow() {
    let slow = StubServer::start(Behaviour::SlowAwsJson(Duration::from_millis(2_500))).await;
    let client = client_at(&slow.base).await;
    let store = AppState::dynamodb(client, &Config::default()).ads.store;
    store
        .record(Event::AdRequest, &params("alice", "1.0"))
        .await
        .expect("a slow write still succeeds");
    assert_eq!(
        slow.hits(),
        2,
        "one UpdateItem for the user, one for the SDK"
    );
}
