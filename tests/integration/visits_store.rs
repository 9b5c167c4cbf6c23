//! The visit store's contract, run against both adapters.

use std::sync::Arc;
use tally::visits::{Visit, VisitId, VisitStore};
use tally_tests::{Api, Engine, Stores};

fn id(raw: &str) -> VisitId {
    VisitId::parse("id", raw).expect("valid id")
}

async fn increments_start_at_one_and_count_reads_them(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = &stores.state.visits.store;
    assert_eq!(store.count(&id("alice")).await.expect("count"), None);
    assert_eq!(store.increment(&id("alice")).await.expect("inc"), 1);
    assert_eq!(store.increment(&id("alice")).await.expect("inc"), 2);
    assert_eq!(store.count(&id("alice")).await.expect("count"), Some(2));
}

async fn list_is_in_byte_order_and_resumes_after_a_key(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = &stores.state.visits.store;
    let ids = ["b", "a", "é", "Z", "a b", "zz", "0", "ab"];
    for raw in ids {
        store.increment(&id(raw)).await.expect("inc");
    }
    let mut expected: Vec<&str> = ids.to_vec();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let all: Vec<String> = store
        .list(None, 100)
        .await
        .expect("list")
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(all, expected);
    let after_a = store.list(Some("a"), 2).await.expect("list");
    assert_eq!(
        after_a,
        vec![
            Visit {
                id: "a b".into(),
                count: 1
            },
            Visit {
                id: "ab".into(),
                count: 1
            }
        ]
    );
}

async fn concurrent_increments_are_exact(engine: Engine) {
    const TOTAL: u64 = 2000;
    let stores = Stores::on(engine).await;
    let store: Arc<dyn VisitStore> = Arc::clone(&stores.state.visits.store);
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TOTAL {
        let (store, limit) = (Arc::clone(&store), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire().await.expect("semaphore");
            store.increment(&id("hot")).await.expect("increment")
        });
    }
    let mut seen = Vec::new();
    while let Some(count) = tasks.join_next().await {
        seen.push(count.expect("task"));
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=TOTAL).collect::<Vec<_>>(),
        "every increment saw a distinct count"
    );
    assert_eq!(store.count(&id("hot")).await.expect("count"), Some(TOTAL));
}

on_every_store!(
    increments_start_at_one_and_count_reads_them,
    list_is_in_byte_order_and_resumes_after_a_key,
    concurrent_increments_are_exact,
);

#[tokio::test]
async fn dynamodb_reads_are_gets_and_index_queries_never_scans() {
    let (state, log) = tally_tests::DynamoTables::create().await.recorded_state();
    let api = Api::serve(state).await;
    api.post("/counters/a").await;
    api.get("/counters/a").await;
    api.get("/database?limit=2").await;
    let ops = log.take();
    assert_eq!(
        ops[..3],
        ["UpdateItem", "UpdateItem", "GetItem"],
        "the count, its series"
    );
    assert_eq!(
        ops[3..],
        ["Query"; tally::test_support::VISIT_SHARDS as usize],
        "one Query per shard"
    );
}

/// The rank index is written only when a count crosses 2·4^j (here at 2 and 8): a second
/// UpdateItem then, none otherwise.
#[tokio::test]
async fn dynamodb_raises_the_rank_only_when_the_count_crosses_a_step() {
    let (state, log) = tally_tests::DynamoTables::create().await.recorded_state();
    for _ in 0..9 {
        state.visits.store.increment(&id("a")).await.expect("inc");
    }
    let ops = log.take();
    assert_eq!(ops, ["UpdateItem"; 11], "9 increments + 2 rank raises");
}

/// Once this process has seen ten ranked ids counted 8 times, an id counted less can never be
/// in the top ten: its increments are the ADD alone (no `ByRank` entry), the top list stays
/// exact, and the id enters the index on the increment that brings it to the floor.
#[tokio::test]
async fn dynamodb_ids_below_the_ten_highest_counts_seen_get_no_rank_until_they_reach_them() {
    let (state, log) = tally_tests::DynamoTables::create().await.recorded_state();
    let increment = |raw: &str| {
        let (visits, raw) = (&state.visits.store, raw.to_string());
        async move { visits.increment(&id(&raw)).await.expect("inc") }
    };
    let leaders: Vec<String> = (0..10).map(|i| format!("top{i}")).collect();
    for leader in &leaders {
        for _ in 0..8 {
            increment(leader).await;
        }
    }
    log.take();
    for count in 1..=7 {
        assert_eq!(increment("low").await, count);
    }
    assert_eq!(
        log.take(),
        ["UpdateItem"; 7],
        "the ADDs alone, below the floor of 8"
    );
    let top = state.visits.store.top(10).await.expect("top");
    let shown: Vec<(&str, u64)> = top.iter().map(|v| (v.id.as_str(), v.count)).collect();
    let expected: Vec<(&str, u64)> = leaders.iter().map(|l| (l.as_str(), 8)).collect();
    assert_eq!(shown, expected, "ten ids at 8 outrank low at 7");
    log.take();
    assert_eq!(increment("low").await, 8);
    assert_eq!(log.take(), ["UpdateItem"; 2], "the ADD, then low's rank 8");
    increment("low").await;
    let top = state.visits.store.top(10).await.expect("top");
    let shown: Vec<(&str, u64)> = top.iter().map(|v| (v.id.as_str(), v.count)).collect();
    assert_eq!(shown[0], ("low", 9));
    assert_eq!(shown[1..], expected[..9]);
}

/// Each increment's write units, measured on the wire by the meter with the longest id (128
/// 4-byte characters), are those the amortized simulation (`make amortized`) prices it at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_increments_cost_what_the_simulation_prices() {
    use tally::visits::floor::rank_to_set;
    use tally_tests::bench::counters::VisitWrite;
    let meter = tally_tests::meter::Meter::start(&tally_tests::dynalite_endpoint()).await;
    let state = tally_tests::DynamoTables::create_at(meter.endpoint())
        .await
        .state();
    let longest = id(&"\u{1D11E}".repeat(128));
    meter.take();
    let mut stored = None;
    for count in 1..=9 {
        assert_eq!(
            state.visits.store.increment(&longest).await.expect("inc"),
            count
        );
        let units = meter.take();
        // One id: fewer than ten ranked ids seen, so no entry floor.
        let set = rank_to_set(count, stored, 0);
        let write = VisitWrite::of(stored, set);
        stored = set.or(stored);
        assert_eq!(
            units.wru,
            write.units() as f64,
            "count {count}: {write:?} {units:?}"
        );
    }
}

/// The simulation behind `make amortized`, checked whole: 3,000 increments over 300 uniform
/// keys (counts of about 10, so the entry floor keeps most ids out of `ByRank` after the first
/// few hundred) sent one by one through the store to the meter cost exactly the write units
/// the simulation gives the same draws with one process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_a_workload_costs_what_the_simulation_gives_it() {
    use tally_tests::bench::{counters, workload};
    const KEYS: u32 = 300;
    const INCREMENTS: u64 = 3_000;
    let meter = tally_tests::meter::Meter::start(&tally_tests::dynalite_endpoint()).await;
    let state = tally_tests::DynamoTables::create_at(meter.endpoint())
        .await
        .state();
    meter.take();
    for key in workload::uniform(KEYS as usize, INCREMENTS as usize, 3) {
        state
            .visits
            .store
            .increment(&id(&key.to_string()))
            .await
            .expect("inc");
    }
    let measured = meter.take().wru;
    let simulated = counters::simulate(counters::Keys::Uniform { n: KEYS }, INCREMENTS, 3, 1);
    let simulated_units = simulated.visits_per_increment * INCREMENTS as f64;
    assert!(
        (measured - simulated_units).abs() < 1e-6,
        "measured {measured}, simulated {simulated_units} ({:?})",
        simulated.visit_transitions
    );
    let [_, entered, _] = simulated.visit_transitions;
    assert!(
        entered < u64::from(KEYS) / 2,
        "the floor kept most ids out: {entered} entered"
    );
}

/// A rank raise that never landed (the second write failed) is made good by the id's next
/// increment, which sees the stored rank behind its count (one id: no entry floor); until then
/// the top list ranks the id by its previous step.
#[tokio::test]
async fn dynamodb_a_lost_rank_raise_is_made_good_by_the_next_increment() {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    let tables = tally_tests::DynamoTables::create().await;
    let (client, table) = (tables.client.clone(), tables.names.visits.clone());
    let (state, log) = tables.recorded_state();
    for _ in 0..8 {
        state.visits.store.increment(&id("a")).await.expect("inc");
    }
    let shard = tally::store::shard_of("a", tally::test_support::VISIT_SHARDS);
    client
        .update_item()
        .table_name(&table)
        .key("shard", N(shard.to_string()))
        .key("id", S("a".into()))
        .update_expression("SET #rank = :two")
        .expression_attribute_names("#rank", "rank")
        .expression_attribute_values(":two", N("2".into()))
        .send()
        .await
        .expect("the rank as if its raise to 8 was lost");
    log.take();
    assert_eq!(
        state.visits.store.increment(&id("a")).await.expect("inc"),
        9
    );
    assert_eq!(
        log.take(),
        ["UpdateItem"; 2],
        "the ADD, then the raise to 8"
    );
    state.visits.store.increment(&id("a")).await.expect("inc");
    assert_eq!(log.take(), ["UpdateItem"], "the rank is current again");
}
