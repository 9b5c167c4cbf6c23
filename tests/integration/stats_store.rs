//! The stats store's contract, run against both adapters.

use std::sync::Arc;
use tally::stats::{ranking, CountedPath, PathCount, StatsStore};
use tally_tests::{Engine, Stores};

fn path(raw: &str) -> CountedPath {
    CountedPath::from_proxy(raw).expect("valid path")
}

fn entry(path: &str, count: u64) -> PathCount {
    PathCount {
        path: path.into(),
        count,
    }
}

/// Counts each `(path, count)` that many times, and returns the entries in ranking order.
async fn count_all(store: &dyn StatsStore, counts: &[(&str, u64)]) -> Vec<PathCount> {
    for (raw, count) in counts {
        for _ in 0..*count {
            store.increment(&path(raw)).await.expect("increment");
        }
    }
    let mut expected: Vec<PathCount> = counts.iter().map(|(p, c)| entry(p, *c)).collect();
    expected.sort_by(ranking);
    expected
}

async fn increments_are_per_path_and_start_at_one(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = &stores.state.stats.store;
    assert_eq!(store.increment(&path("a/b")).await.expect("inc"), 1);
    assert_eq!(store.increment(&path("a/b")).await.expect("inc"), 2);
    assert_eq!(store.increment(&path("A/b")).await.expect("inc"), 1);
    let all = store.ranked(None, 10).await.expect("ranked").entries;
    assert_eq!(all, vec![entry("a/b", 2), entry("A/b", 1)]);
}

async fn ranked_orders_by_count_then_path_bytes_and_resumes_after_an_entry(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.stats.store.as_ref();
    let mut counts: Vec<(String, u64)> = (0..24).map(|i| (format!("p{i:02}"), i % 4 + 1)).collect();
    for odd in ["a", "B", "b", "a%20b", "a/b", "Z", "%7E"] {
        counts.push((odd.to_string(), 2));
    }
    let counts: Vec<(&str, u64)> = counts.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    let expected = count_all(store, &counts).await;
    assert_eq!(
        store.ranked(None, 100).await.expect("all").entries,
        expected
    );
    for limit in [1, 3, 7] {
        let walked = tally_tests::walk_pages(limit, |after: Option<PathCount>| async move {
            let page = store
                .ranked(after.as_ref(), limit)
                .await
                .expect("page")
                .entries;
            let next = page.last().cloned();
            (page, next)
        })
        .await;
        assert_eq!(walked, expected, "limit {limit}");
    }
}

async fn concurrent_increments_are_exact(engine: Engine) {
    const TOTAL: u64 = 500;
    let stores = Stores::on(engine).await;
    let store: Arc<dyn StatsStore> = Arc::clone(&stores.state.stats.store);
    let limit = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TOTAL {
        let (store, limit) = (Arc::clone(&store), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire().await.expect("semaphore");
            store.increment(&path("hot")).await.expect("increment")
        });
    }
    let mut seen = Vec::new();
    while let Some(count) = tasks.join_next().await {
        seen.push(count.expect("task"));
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=TOTAL).collect::<Vec<_>>());
    let top = store.ranked(None, 1).await.expect("ranked").entries;
    assert_eq!(top, vec![entry("hot", TOTAL)]);
}

on_every_store!(
    increments_are_per_path_and_start_at_one,
    ranked_orders_by_count_then_path_bytes_and_resumes_after_an_entry,
    concurrent_increments_are_exact,
);
