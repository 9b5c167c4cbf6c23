//! The people directory over HTTP (contract section B), on both engines.

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use tally::people::{Details, Person};
use tally_local::people::seed_if_empty;
use tally_tests::{assert_error, Api, Engine};
use time::{Date, Month, OffsetDateTime};

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Estimated age, computed here independently of the service: 9 + whole years since `date`.
fn estimate(date: Date, today: Date) -> i64 {
    let passed = (today.month(), today.day()) >= (date.month(), date.day());
    9 + i64::from(today.year() - date.year()) - i64::from(!passed)
}

/// Follows `Next-Cursor` from `path` to the last page, returning every element.
async fn walk(api: &Api, path: &str, limit: usize) -> Vec<Value> {
    api.walk(path, limit, |reply| {
        reply.json().as_array().expect("array body").clone()
    })
    .await
}

async fn the_original_people_come_back_exactly(engine: Engine) {
    let api = Api::on(engine).await;
    assert_eq!(
        seed_if_empty(&api.state)
            .await
            .expect("seed")
            .map(|r| r.loaded),
        Some(7)
    );
    assert!(
        seed_if_empty(&api.state).await.expect("seed").is_none(),
        "loads only once"
    );
    let people = api.get("/people").await;
    assert_eq!(people.header("content-type"), Some("application/json"));
    assert_eq!(
        people.json(),
        json!([
            {"ID": 1, "First": "Matt", "Last": "Conway", "Age": 22, "GithubAcct": "wr0ngway", "Date of 3rd Grade Graduation": "2001-06-25"},
            {"ID": 2, "First": "David", "Last": "Block", "Age": 76, "GithubAcct": null, "Date of 3rd Grade Graduation": "1940-06-24"},
            {"ID": 3, "First": null, "Last": "Robiner", "Age": 16, "GithubAcct": null, "Date of 3rd Grade Graduation": "2007-06-25"},
            {"ID": 4, "First": "Rob", "Last": "May", "Age": null, "GithubAcct": null, "Date of 3rd Grade Graduation": "1988-06-25"},
            {"ID": 5, "First": "Jason", "Last": null, "Age": 30, "GithubAcct": "haruska", "Date of 3rd Grade Graduation": null},
            {"ID": 6, "First": "Alex", "Last": "Robiner", "Age": 25, "GithubAcct": "a-rob", "Date of 3rd Grade Graduation": "2003-01-01"},
            {"ID": 7, "First": "Lawrence", "Last": "Robiner", "Age": 50, "GithubAcct": null, "Date of 3rd Grade Graduation": "1970-03-26"}
        ])
    );
    assert_eq!(
        api.get("/ids/lastname/robiner").await.json(),
        json!([3, 6, 7])
    );
    assert_eq!(
        api.get("/ids/lastname/%20ROBINER%20").await.json(),
        json!([3, 6, 7])
    );
    assert_eq!(api.get("/ids/lastname/nobody").await.json(), json!([]));
    let david = api.get("/people/2").await.json();
    assert_eq!(david["Date of 3rd Grade Graduation"], "1940-06-24");
    assert_eq!(api.get("/people/3").await.json()["First"], Value::Null);
    let rob_may = estimate(
        Date::from_calendar_date(1988, Month::June, 25).expect("date"),
        today(),
    );
    let mut expected = vec![
        (16, 3),
        (22, 1),
        (25, 6),
        (30, 5),
        (50, 7),
        (76, 2),
        (rob_may, 4),
    ];
    expected.sort_unstable();
    let by_age = api.get("/people/age").await.json();
    let order: Vec<(i64, i64)> = by_age
        .as_array()
        .expect("array")
        .iter()
        .map(|p| {
            let age = p["Age"]
                .as_i64()
                .or(p["EstimatedAge"].as_i64())
                .expect("placed");
            (age, p["ID"].as_i64().expect("id"))
        })
        .collect();
    assert_eq!(order, expected);
    for p in by_age.as_array().expect("array") {
        let estimated = p["ID"] == 4;
        assert_eq!(p.get("EstimatedAge").is_some(), estimated, "{p}");
        assert_eq!(p["Age"].is_null(), estimated);
    }
}

/// 2,500 people: stated ages, estimated ones (straddling today's month and day), and neither.
fn generated_people(count: u64, today: Date) -> Vec<Person> {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    (1..=count)
        .map(|id| {
            let kind = next(10);
            let year = today.year() - i32::try_from(next(90)).unwrap_or(0) - 1;
            let month =
                Month::try_from(u8::try_from(next(12) + 1).unwrap_or(1)).unwrap_or(Month::May);
            let date =
                Date::from_calendar_date(year, month, u8::try_from(next(28) + 1).unwrap_or(1)).ok();
            Person {
                id,
                details: Details {
                    first: Some(format!("P{id}")),
                    last: None,
                    age: (kind < 4).then(|| u8::try_from(next(151)).unwrap_or(0)),
                    github: None,
                    graduated: if kind < 9 { date } else { None },
                },
            }
        })
        .collect()
}

async fn paging_2500_people_returns_each_once_in_order(engine: Engine) {
    let api = Api::on(engine).await;
    let today = today();
    let people = generated_people(2500, today);
    let limit = Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = tokio::task::JoinSet::new();
    for person in people.clone() {
        let (store, limit) = (Arc::clone(&api.state.people.store), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire().await.expect("semaphore");
            store.upsert(&person).await.expect("upsert");
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
    let ids: Vec<i64> = walk(&api, "/people", 1000)
        .await
        .iter()
        .map(|p| p["ID"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids, (1..=2500).collect::<Vec<i64>>());

    let rank = |p: &Person| {
        let age = p
            .details
            .age
            .map(i64::from)
            .or(p.details.graduated.map(|d| estimate(d, today)));
        (
            age.is_none(),
            age.unwrap_or(0),
            i64::try_from(p.id).unwrap_or(0),
        )
    };
    let mut expected: Vec<(bool, i64, i64)> = people.iter().map(rank).collect();
    expected.sort_unstable();
    let seen: Vec<(bool, i64, i64)> = walk(&api, "/people/age", 1000)
        .await
        .iter()
        .map(|p| {
            let age = p["Age"].as_i64().or(p["EstimatedAge"].as_i64());
            (
                age.is_none(),
                age.unwrap_or(0),
                p["ID"].as_i64().expect("id"),
            )
        })
        .collect();
    assert_eq!(seen.len(), 2500);
    assert_eq!(seen, expected);
}

async fn explicit_duplicate_ids_are_409_and_change_nothing(engine: Engine) {
    let api = Api::on(engine).await;
    let first = api
        .post_json("/people", &json!({"ID": 42, "First": "Ann"}))
        .await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.header("location"), Some("/people/42"));
    let retry = api
        .post_json("/people", &json!({"ID": 42, "First": "Other"}))
        .await;
    assert_error(&retry, 409, "ID: 42");
    assert_eq!(api.get("/people/42").await.json()["First"], "Ann");
    let next = api.post_json("/people", &json!({"Last": "Next"})).await;
    assert_eq!(next.json()["ID"], 43, "new ids are above every stored id");
}

async fn concurrent_posts_without_ids_get_distinct_ids(engine: Engine) {
    let api = Arc::new(Api::on(engine).await);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..100 {
        let api = Arc::clone(&api);
        tasks.spawn(async move {
            let reply = api
                .post_json("/people", &json!({"First": format!("c{n}")}))
                .await;
            assert_eq!(reply.status, 201, "{}", reply.text());
            let body = reply.json();
            assert_eq!(
                reply.header("location"),
                Some(format!("/people/{}", body["ID"]).as_str())
            );
            body["ID"].as_i64().expect("id")
        });
    }
    let mut ids = BTreeSet::new();
    while let Some(id) = tasks.join_next().await {
        ids.insert(id.expect("task"));
    }
    assert_eq!(ids.len(), 100);
    assert_eq!(walk(&api, "/people", 1000).await.len(), 100);
}

async fn bad_bodies_are_4xx_and_store_nothing(engine: Engine) {
    let api = Api::on(engine).await;
    let post_raw = |content_type: &'static str, body: Vec<u8>| {
        api.send(
            api.client
                .post(api.url("/people"))
                .header("content-type", content_type)
                .body(body),
        )
    };
    assert_error(
        &post_raw("application/json", b"not json".to_vec()).await,
        400,
        "body:",
    );
    assert_error(
        &post_raw("application/json", b"[1]".to_vec()).await,
        400,
        "body:",
    );
    assert_error(&post_raw("text/csv", b"{}".to_vec()).await, 415, "body:");
    let huge = format!("{{\"First\": \"{}\"}}", "a".repeat(2 * 1024 * 1024)).into_bytes();
    assert_error(&post_raw("application/json", huge).await, 413, "1 MiB");
    for (body, field) in [
        (json!({"Last": "x", "Age": 30.5}), "Age: "),
        (json!({"Last": "x", "Age": "30"}), "Age: "),
        (json!({"Last": "x", "Age": -1}), "Age: "),
        (json!({"Last": "x", "Age": 151}), "Age: "),
        (json!({"Last": "x", "ID": 0}), "ID: "),
        (json!({"Last": "x", "ID": 9_007_199_254_740_992u64}), "ID: "),
        (json!({"Last": "x", "ID": "5"}), "ID: "),
        (json!({"Last": 5}), "Last: "),
        (json!({"First": "", "Last": "  "}), "First and Last: "),
        (json!({}), "First and Last: "),
        (
            json!({"Last": "x", "Date of 3rd Grade Graduation": "2001-13-01"}),
            "Date of 3rd Grade Graduation: ",
        ),
        (
            json!({"Last": "x", "Date of 3rd Grade Graduation": "25/6/2001"}),
            "Date of 3rd Grade Graduation: ",
        ),
        (
            json!({"Last": "x", "Date of 3rd Grade Graduation": "1/1/3000"}),
            "Date of 3rd Grade Graduation: ",
        ),
        (
            json!({"Last": "x", "Date of 3rd Grade Graduation": 20010625}),
            "Date of 3rd Grade Graduation: ",
        ),
    ] {
        assert_error(&api.post_json("/people", &body).await, 400, field);
    }
    assert_eq!(api.get("/people").await.json(), json!([]));
    assert_eq!(api.get("/people/age").await.json(), json!([]));
    let first = api.post_json("/people", &json!({"Last": "First"})).await;
    assert_eq!(first.json()["ID"], 1, "refused requests took no id");
}

async fn bad_ids_limits_and_cursors_are_400(engine: Engine) {
    let api = Api::on(engine).await;
    for n in 1..=3 {
        api.post_json("/people", &json!({"Last": format!("p{n}")}))
            .await;
    }
    assert_error(&api.get("/people/abc").await, 400, "id: ");
    assert_error(&api.get("/people/0").await, 400, "id: ");
    assert_error(&api.get("/people/99").await, 404, "id: ");
    for path in ["/people", "/people/age"] {
        for bad in ["limit=0", "limit=1001", "limit=x", "cursor=forged"] {
            assert_error(&api.get(&format!("{path}?{bad}")).await, 400, "");
        }
    }
    let list_cursor = api.get("/people?limit=1").await;
    let cursor = list_cursor.header("next-cursor").expect("more pages");
    assert_error(
        &api.get(&format!("/people/age?cursor={cursor}")).await,
        400,
        "cursor: ",
    );
    let last = api.get("/people?limit=3").await;
    assert_eq!(
        last.header("next-cursor"),
        None,
        "the last page carries no cursor"
    );
}

on_every_engine!(
    the_original_people_come_back_exactly,
    paging_2500_people_returns_each_once_in_order,
    explicit_duplicate_ids_are_409_and_change_nothing,
    concurrent_posts_without_ids_get_distinct_ids,
    bad_bodies_are_4xx_and_store_nothing,
    bad_ids_limits_and_cursors_are_400;
    lambda:
    the_original_people_come_back_exactly,
    explicit_duplicate_ids_are_409_and_change_nothing,
    bad_bodies_are_4xx_and_store_nothing,
    bad_ids_limits_and_cursors_are_400,
);

#[tokio::test]
async fn ping_answers_pong_as_plain_text() {
    let api = Api::on(Engine::Sqlite).await;
    let reply = api.get("/ping").await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/plain"));
    assert_eq!(reply.text(), "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_serves_every_people_route_without_scan() {
    let (state, log) = tally_tests::DynamoTables::create().await.recorded_state();
    let api = Api::serve(state).await;
    seed_if_empty(&api.state).await.expect("seed");
    let seeding = log.take();
    for path in [
        "/people?limit=2",
        "/people/age?limit=3",
        "/ids/lastname/robiner",
        "/people/4",
        "/ping",
    ] {
        assert_eq!(api.get(path).await.status, 200, "{path}");
    }
    let created = api
        .post_json("/people", &json!({"ID": 80, "Last": "New"}))
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(
        api.post_json("/people", &json!({"Last": "Auto"}))
            .await
            .status,
        201
    );
    let ops = log.take();
    let served: BTreeSet<&str> = ops.iter().map(String::as_str).collect();
    assert_eq!(
        served,
        BTreeSet::from(["GetItem", "PutItem", "Query", "UpdateItem"]),
        "{ops:?}"
    );
    assert!(
        !ops.iter().chain(&seeding).any(|op| op == "Scan"),
        "{ops:?}"
    );
}
