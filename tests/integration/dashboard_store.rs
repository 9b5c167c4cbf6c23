//! The store reads the dashboard adds to each service's trait, and the counters behind them
//! kept at write time, run against both adapters.

use futures_util::StreamExt;
use serde_json::json;
use tally::ads::{AdParams, Counts, Event};
use tally::logs::{record, DailyCount};
use tally::people::age::AgeGroup;
use tally::people::{Details, Person};
use tally::visits::{Visit, VisitId};
use tally_tests::{Engine, Stores};

async fn top_visitors_are_most_counted_first_ties_by_id(engine: Engine) {
    let stores = Stores::on(engine).await;
    for (id, times) in [("b", 2), ("a", 2), ("c", 5), ("d", 1)] {
        let id = VisitId::parse("id", id).expect("id");
        for _ in 0..times {
            stores.state.visits.store.increment(&id).await.expect("inc");
        }
    }
    let visit = |id: &str, count| Visit {
        id: id.into(),
        count,
    };
    let top = stores.state.visits.store.top(3).await.expect("top");
    assert_eq!(top, vec![visit("c", 5), visit("a", 2), visit("b", 2)]);
}

/// Counts across rank groups (1, 2..7, 8..31 on DynamoDB), so every `limit` cuts a group in
/// a different place or reaches into the ids counted once.
async fn top_visitors_are_exact_wherever_the_limit_cuts(engine: Engine) {
    let stores = Stores::on(engine).await;
    let counts = [
        ("x", 9),
        ("y", 8),
        ("z", 7),
        ("w", 3),
        ("v", 2),
        ("u", 1),
        ("t", 1),
        ("s", 1),
    ];
    for (id, times) in counts {
        let id = VisitId::parse("id", id).expect("id");
        for _ in 0..times {
            stores.state.visits.store.increment(&id).await.expect("inc");
        }
    }
    let ranked = ["x", "y", "z", "w", "v", "s", "t", "u"];
    for limit in 0..=9 {
        let top = stores.state.visits.store.top(limit).await.expect("top");
        let ids: Vec<&str> = top.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, ranked[..limit.min(8)], "limit {limit}");
        for visit in top {
            let expected = counts.iter().find(|(id, _)| *id == visit.id).expect("id");
            assert_eq!(visit.count, expected.1, "{}", visit.id);
        }
    }
}

/// 150 ids share one rank step (counts 2 and 3 are both rank 2 on DynamoDB): the top list
/// reads the whole step, more than one BatchGetItem, and still ranks it exactly.
async fn top_visitors_are_exact_inside_a_crowded_rank_step(engine: Engine) {
    let stores = Stores::on(engine).await;
    let ids: Vec<String> = (0..150).map(|i| format!("v{i:03}")).collect();
    let tasks = ids.iter().map(|raw| {
        let visits = &stores.state.visits.store;
        async move {
            let id = VisitId::parse("id", raw).expect("id");
            let times = if raw == "v149" { 3 } else { 2 };
            for _ in 0..times {
                visits.increment(&id).await.expect("inc");
            }
        }
    });
    futures_util::stream::iter(tasks)
        .for_each_concurrent(16, |task| task)
        .await;
    let top = stores.state.visits.store.top(3).await.expect("top");
    let shown: Vec<(&str, u64)> = top.iter().map(|v| (v.id.as_str(), v.count)).collect();
    assert_eq!(shown, [("v149", 3), ("v000", 2), ("v001", 2)]);
}

async fn sdk_versions_are_listed_in_order_with_their_totals(engine: Engine) {
    let stores = Stores::on(engine).await;
    let params = |user: &str, sdk: &str| AdParams {
        username: user.into(),
        sdk_version: sdk.into(),
    };
    for _ in 0..5 {
        stores
            .state
            .ads
            .store
            .record(Event::AdRequest, &params("u", "2.0"))
            .await
            .expect("ad");
    }
    stores
        .state
        .ads
        .store
        .record(Event::Impression, &params("v", "2.0"))
        .await
        .expect("imp");
    stores
        .state
        .ads
        .store
        .record(Event::AdRequest, &params("1.0", "1.0"))
        .await
        .expect("ad");
    stores
        .state
        .ads
        .store
        .record(Event::AdRequest, &params("w", "3.0"))
        .await
        .expect("ad");
    let counts = |ad_requests, impressions| Counts {
        ad_requests,
        impressions,
    };
    let listed = stores
        .state
        .ads
        .store
        .sdk_versions(2)
        .await
        .expect("versions");
    assert_eq!(
        listed,
        vec![
            ("1.0".to_string(), counts(1, 0)),
            ("2.0".to_string(), counts(5, 1))
        ]
    );
}

fn day(day: &str, kind: &str, count: u64) -> DailyCount {
    DailyCount {
        day: day.into(),
        kind: kind.into(),
        count,
    }
}

async fn the_daily_rollup_counts_each_action_once_even_on_a_retry(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.logs.store.as_ref();
    let marks = stores.state.keys.as_ref();
    let body = json!({"userId": "u", "sessionId": "s", "actions": [
        {"time": "2026-03-01T23:30:00-02:00", "type": "CLICK"},
        {"time": "2026-03-02T00:10:00Z", "type": "CLICK"},
        {"time": "2026-03-02T00:20:00Z", "type": "VIEW"},
        {"time": "2026-02-27T12:00:00Z", "type": "VIEW"},
    ]});
    for _ in 0..2 {
        let stored = record(store, marks, body.to_string().as_bytes()).await;
        assert_eq!(stored.expect("recorded").stored, 4);
    }
    let other = json!({"userId": "w", "sessionId": "s", "actions": [
        {"time": "2026-03-02T08:00:00Z", "type": "CLICK"},
    ]});
    let stored = record(store, marks, other.to_string().as_bytes()).await;
    assert_eq!(stored.expect("recorded").stored, 1);
    let rollup = store
        .daily_counts("2026-02-28", "2026-03-02", 100)
        .await
        .expect("rollup");
    assert_eq!(
        rollup,
        vec![day("2026-03-02", "CLICK", 3), day("2026-03-02", "VIEW", 1)]
    );
}

fn person(id: u64, age: Option<u8>) -> Person {
    Person {
        id,
        details: Details {
            first: Some("A".into()),
            last: None,
            age,
            github: None,
            graduated: None,
        },
    }
}

async fn group_counts_follow_inserts_and_overwrites(engine: Engine) {
    let stores = Stores::on(engine).await;
    let people = &stores.state.people.store;
    assert_eq!(people.group_counts().await.expect("counts"), vec![]);
    assert!(people.insert(&person(1, Some(30))).await.expect("insert"));
    assert!(people.insert(&person(2, Some(30))).await.expect("insert"));
    assert!(!people.insert(&person(2, Some(40))).await.expect("taken"));
    people.upsert(&person(3, None)).await.expect("upsert");
    people.upsert(&person(2, Some(41))).await.expect("move");
    people
        .upsert(&person(1, Some(30)))
        .await
        .expect("same group");
    let new = people
        .insert_new(&person(0, Some(41)).details)
        .await
        .expect("new");
    assert!(new.is_some());
    let mut counts = people.group_counts().await.expect("counts");
    counts.retain(|(_, n)| *n > 0);
    assert_eq!(
        counts,
        vec![
            (AgeGroup::Stated(30), 1),
            (AgeGroup::Stated(41), 2),
            (AgeGroup::Unplaced, 1)
        ]
    );
}

on_every_store!(
    top_visitors_are_most_counted_first_ties_by_id,
    top_visitors_are_exact_wherever_the_limit_cuts,
    top_visitors_are_exact_inside_a_crowded_rank_step,
    sdk_versions_are_listed_in_order_with_their_totals,
    the_daily_rollup_counts_each_action_once_even_on_a_retry,
    group_counts_follow_inserts_and_overwrites,
);
