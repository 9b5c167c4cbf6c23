//! The request statistics over HTTP (contract section E), on both engines.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally::stats::{CountedPath, StatsStore};
use tally_tests::{assert_error, Api, Engine};

/// Every entry of `/stats` (or `/stats/`), page by page, as (path, count).
async fn walk_stats(api: &Api, base: &str, limit: usize) -> Vec<(String, u64)> {
    api.walk(base, limit, |reply| {
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let page = reply.json();
        let page = page.as_array().expect("array body");
        page.iter()
            .map(|e| {
                (
                    e["path"].as_str().expect("path").to_string(),
                    e["count"].as_u64().expect("count"),
                )
            })
            .collect()
    })
    .await
}

async fn api_counts_the_decoded_path_without_trailing_slashes_or_query(engine: Engine) {
    let api = Api::on(engine).await;
    let first = api.get("/api/a/b/?x=1").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.json(), json!({"path": "a/b", "count": 1}));
    assert_eq!(
        api.get("/api/a/b").await.json(),
        json!({"path": "a/b", "count": 2})
    );
    assert_eq!(
        api.get("/api/a/b//").await.json(),
        json!({"path": "a/b", "count": 3})
    );
    assert_eq!(
        api.get("/api/A/b").await.json(),
        json!({"path": "A/b", "count": 1})
    );
    assert_eq!(
        api.get("/api/caf%C3%A9%20x").await.json(),
        json!({"path": "café x", "count": 1})
    );
}

async fn api_alone_is_404_and_only_get_counts(engine: Engine) {
    let api = Api::on(engine).await;
    for bare in ["/api/", "/api", "/api//"] {
        assert_error(&api.get(bare).await, 404, bare);
    }
    let post = api.post("/api/x").await;
    assert_error(&post, 405, "POST");
    assert_eq!(post.header("allow"), Some("GET"));
    assert_eq!(api.get("/stats/").await.json(), json!([]));
}

async fn paths_over_1024_bytes_are_414_and_count_nothing(engine: Engine) {
    let api = Api::on(engine).await;
    let longest = "x".repeat(1024);
    assert_eq!(api.get(&format!("/api/{longest}/")).await.status, 200);
    let reply = api.get(&format!("/api/{longest}y")).await;
    assert_error(&reply, 414, "path: is 1025 bytes");
    assert_eq!(walk_stats(&api, "/stats", 10).await, vec![(longest, 1)]);
}

async fn stats_pages_walk_every_path_once_in_ranking_order(engine: Engine) {
    let api = Api::on(engine).await;
    let mut expected = Vec::new();
    for i in 0..20u64 {
        let sent = format!("{}/p{i:02}", ["x", "X", "%41"][(i % 3) as usize]);
        let count = i % 4 + 1;
        for _ in 0..count {
            assert_eq!(api.get(&format!("/api/{sent}")).await.status, 200);
        }
        expected.push((sent.replace("%41", "A"), count));
    }
    expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    assert_eq!(walk_stats(&api, "/stats/", 3).await, expected);
    assert_eq!(walk_stats(&api, "/stats", 7).await, expected);
    assert_eq!(walk_stats(&api, "/stats", 1000).await, expected);
}

async fn stats_refuses_bad_limits_and_foreign_or_forged_cursors(engine: Engine) {
    let api = Api::on(engine).await;
    api.post("/counters/a").await;
    api.post("/counters/b").await;
    let foreign = api.get("/database?limit=1").await;
    let foreign = foreign.header("next-cursor").expect("a /database cursor");
    for bad in [
        "limit=0".to_string(),
        "limit=1001".into(),
        "limit=abc".into(),
        "cursor=forged".into(),
        format!("cursor={foreign}"),
    ] {
        let reply = api.get(&format!("/stats/?{bad}")).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text());
    }
}

async fn top_ten_of_many_paths_is_right_and_reads_a_bounded_number_of_items(engine: Engine) {
    // Counting 10,000 paths on moto (about 100 writes a second here, with two indexes) takes
    // over a minute and a half, so DynamoDB gets 2,000: still far more than a page may read.
    let paths = match engine {
        Engine::Sqlite => 10_000,
        _ => 2_000,
    };
    // Per page of k: at most k + 1 entries from each of 4 shards, from three queries.
    const MOST_ITEMS_READ: usize = 3 * 4 * 11;
    let api = Api::on(engine).await;
    let mut counts: BTreeMap<String, u64> = (0..paths).map(|i| (format!("p{i:05}"), 1)).collect();
    for (range, count) in [(100..120, 3), (paths - 10..paths - 5, 5)] {
        for i in range {
            counts.insert(format!("p{i:05}"), count);
        }
    }
    count_concurrently(&api.state.stats.store, &counts).await;
    let mut ranking: Vec<(String, u64)> = counts.into_iter().collect();
    ranking.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let reply = api.get("/stats/?limit=10").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let top: Vec<(String, u64)> = reply
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap_or_default().into(),
                e["count"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(top, ranking[..10]);
    assert!(reply.header("next-cursor").is_some());

    let first = api
        .state
        .stats
        .store
        .ranked(None, 11)
        .await
        .expect("first page");
    assert!(
        first.items_read <= MOST_ITEMS_READ,
        "read {}",
        first.items_read
    );
    let tenth = &first.entries[9];
    let second = api
        .state
        .stats
        .store
        .ranked(Some(tenth), 11)
        .await
        .expect("second page");
    assert!(
        second.items_read <= MOST_ITEMS_READ,
        "read {}",
        second.items_read
    );
    let second: Vec<(String, u64)> = second
        .entries
        .into_iter()
        .map(|e| (e.path, e.count))
        .collect();
    assert_eq!(second, ranking[10..21]);
}

/// Counts every path its number of times, a few increments at a time (the test DynamoDB
/// server handles one request at a time, and other tests share it).
async fn count_concurrently(store: &Arc<dyn StatsStore>, counts: &BTreeMap<String, u64>) {
    let limit = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    for (path, count) in counts {
        let path = CountedPath::from_proxy(path).expect("valid path");
        for _ in 0..*count {
            let (store, limit, path) = (Arc::clone(store), Arc::clone(&limit), path.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire().await.expect("semaphore");
                store.increment(&path).await.expect("increment");
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
}

/// The report's `paths` as (path, count), after checking its shape.
fn reported_paths(report: &Value, n: u64) -> BTreeMap<String, u64> {
    assert_eq!(report["requested"], n, "{report}");
    assert_eq!(report["succeeded"], n, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    let paths: BTreeMap<String, u64> = report["paths"]
        .as_object()
        .expect("paths object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
        .collect();
    assert_eq!(paths.values().sum::<u64>(), n);
    let words: std::collections::BTreeSet<&str> = paths.keys().flat_map(|p| p.split('/')).collect();
    assert!(words.len() <= 3, "{words:?}");
    assert!(words
        .iter()
        .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())));
    assert!(paths
        .keys()
        .all(|p| (1..=6).contains(&p.split('/').count())));
    paths
}

async fn self_test_of_1000_answers_in_time_and_stats_grow_by_its_paths(engine: Engine) {
    let api = Api::on(engine).await;
    let started = Instant::now();
    let reply = api.post("/test/1000/").await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let first = reported_paths(&reply.json(), 1000);
    let stats: BTreeMap<String, u64> = walk_stats(&api, "/stats/", 1000)
        .await
        .into_iter()
        .collect();
    assert_eq!(stats, first);

    let again = api.post("/test/30").await;
    assert_eq!(again.status, 200, "{}", again.text());
    let second = reported_paths(&again.json(), 30);
    let mut grown = first.clone();
    second
        .iter()
        .for_each(|(p, c)| *grown.entry(p.clone()).or_default() += c);
    let stats: BTreeMap<String, u64> = walk_stats(&api, "/stats", 1000).await.into_iter().collect();
    assert_eq!(stats, grown);
}

async fn self_test_sizes_outside_1_to_10000_are_400_and_send_nothing(engine: Engine) {
    let api = Api::on(engine).await;
    for bad in ["0", "-1", "abc", "10001", "1e3"] {
        assert_error(
            &api.post(&format!("/test/{bad}")).await,
            400,
            "n: must be a whole number",
        );
    }
    assert_error(&api.get("/test/5/").await, 405, "GET");
    assert_eq!(api.get("/stats").await.json(), json!([]));
}

on_every_engine!(
    api_counts_the_decoded_path_without_trailing_slashes_or_query,
    api_alone_is_404_and_only_get_counts,
    paths_over_1024_bytes_are_414_and_count_nothing,
    stats_pages_walk_every_path_once_in_ranking_order,
    stats_refuses_bad_limits_and_foreign_or_forged_cursors,
    top_ten_of_many_paths_is_right_and_reads_a_bounded_number_of_items,
    self_test_of_1000_answers_in_time_and_stats_grow_by_its_paths,
    self_test_sizes_outside_1_to_10000_are_400_and_send_nothing;
    lambda:
    api_counts_the_decoded_path_without_trailing_slashes_or_query,
    api_alone_is_404_and_only_get_counts,
    paths_over_1024_bytes_are_414_and_count_nothing,
    stats_refuses_bad_limits_and_foreign_or_forged_cursors,
    self_test_sizes_outside_1_to_10000_are_400_and_send_nothing,
);
