//! The event logs over HTTP (contract section D), on both engines.

use serde_json::{json, Value};
use tally_tests::{assert_error, Api, Engine, Reply};

const SAMPLE: &str = include_str!("../fixtures/sample_log.json");

fn sample() -> Value {
    serde_json::from_str(SAMPLE).expect("fixture is JSON")
}

async fn find(api: &Api, query: &[(&str, &str)]) -> Reply {
    let mut url = reqwest::Url::parse(&api.url("/log")).expect("URL");
    url.query_pairs_mut().extend_pairs(query);
    api.send(api.client.get(url)).await
}

/// Every result of a query, following `nextCursor` page by page.
async fn walk(api: &Api, query: &[(&str, &str)], limit: usize) -> Vec<Value> {
    let limit_text = limit.to_string();
    let limit_text = limit_text.as_str();
    tally_tests::walk_pages(limit, |cursor: Option<String>| async move {
        let mut params = query.to_vec();
        params.push(("limit", limit_text));
        if let Some(cursor) = &cursor {
            params.push(("cursor", cursor));
        }
        let reply = find(api, &params).await;
        assert_eq!(reply.status, 200, "{query:?}: {}", reply.text());
        let body = reply.json();
        let page = body["result"].as_array().expect("result array").clone();
        (page, body["nextCursor"].as_str().map(str::to_string))
    })
    .await
}

async fn count(api: &Api, query: &[(&str, &str)]) -> usize {
    walk(api, query, 100).await.len()
}

async fn post(api: &Api, body: &Value) -> Reply {
    api.post_json("/log", body).await
}

fn actions(user: &str, session: &str, list: &[(&str, &str)]) -> Value {
    let list: Vec<Value> = list
        .iter()
        .map(|(time, kind)| json!({"time": time, "type": kind, "properties": {"locationX": 52}}))
        .collect();
    json!({"userId": user, "sessionId": session, "actions": list})
}

async fn the_original_scenario_gives_its_five_filter_counts(engine: Engine) {
    let api = Api::on(engine).await;
    let (old, mid, new) = (
        "2018-10-18T21:37:28-06:00",
        "2019-01-01T21:37:28-06:00",
        "2020-01-01T21:37:28-06:00",
    );
    for body in [
        actions(
            "testuser1",
            "testsession1",
            &[(new, "CLICK"), (old, "VIEW")],
        ),
        actions(
            "testuser1",
            "testsession2",
            &[(mid, "CLICK"), (old, "VIEW")],
        ),
        actions(
            "testuser2",
            "testsession2",
            &[(mid, "CLICK"), (old, "VIEW")],
        ),
    ] {
        assert_eq!(
            post(&api, &body).await.json(),
            json!({"success": true, "stored": 2})
        );
    }
    assert_eq!(count(&api, &[("userId", "testuser1")]).await, 4);
    assert_eq!(
        count(&api, &[("userId", "testuser1"), ("type", "CLICK")]).await,
        2
    );
    let since = [
        ("userId", "testuser1"),
        ("startTime", "2019-01-02T21:37:28-06:00"),
    ];
    assert_eq!(count(&api, &since).await, 1);
    assert_eq!(
        count(&api, &[("endTime", "2018-01-19T21:37:28-06:00")]).await,
        0
    );
    let between = [
        ("userId", "testuser1"),
        ("startTime", "2018-10-19T21:37:28-06:00"),
        ("endTime", "2019-10-18T21:37:28-06:00"),
    ];
    assert_eq!(count(&api, &between).await, 1);
}

async fn an_offset_time_is_found_by_the_same_instant_in_utc_and_returned_as_sent(engine: Engine) {
    let api = Api::on(engine).await;
    assert_eq!(
        post(&api, &sample()).await.json(),
        json!({"success": true, "stored": 3})
    );
    let reply = find(
        &api,
        &[("startTime", "2018-10-19T03:37:28Z"), ("type", "CLICK")],
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        json!({"result": [{
            "userId": "ABC123XYZ",
            "sessionId": "XYZ456ABC",
            "time": "2018-10-18T21:37:28-06:00",
            "type": "CLICK",
            "properties": {"locationX": 52, "locationY": 11}
        }]})
    );
    let just_after = [
        ("startTime", "2018-10-19T03:37:28.001Z"),
        ("endTime", "2018-10-19T03:37:29Z"),
    ];
    assert_eq!(count(&api, &just_after).await, 0);
    let all_three = walk(&api, &[("endTime", "2018-10-19T03:37:30Z")], 1).await;
    let kinds: Vec<&str> = all_three
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["CLICK", "VIEW", "NAVIGATE"]);
    // An unencoded `+` offset arrives as a space; it still names the same instant.
    let reply = api
        .get("/log?startTime=2018-10-19T09:07:28+05:30&type=CLICK")
        .await;
    assert_eq!(reply.json()["result"].as_array().map(Vec::len), Some(1));
}

async fn a_request_whose_third_action_is_invalid_stores_none(engine: Engine) {
    let api = Api::on(engine).await;
    let mut body = sample();
    body["actions"][2]["time"] = json!("2018-10-18 21:37:30");
    assert_error(&post(&api, &body).await, 400, "actions[2].time: ");
    let mut body = sample();
    body["actions"][2]["properties"] = json!("not an object");
    assert_error(&post(&api, &body).await, 400, "actions[2].properties: ");
    assert_error(
        &post(&api, &json!({"sessionId": "s"})).await,
        400,
        "userId: is required",
    );
    assert_eq!(count(&api, &[]).await, 0);
}

async fn the_same_request_sent_twice_stores_its_actions_once(engine: Engine) {
    let api = Api::on(engine).await;
    assert_eq!(post(&api, &sample()).await.json()["stored"], 3);
    let retry = api
        .send(
            api.client
                .post(api.url("/log"))
                .header("content-type", "application/json")
                .body(format!("  {}\n", SAMPLE.replace(",\"", " , \""))),
        )
        .await;
    assert_eq!(retry.json(), json!({"success": true, "stored": 3}));
    assert_eq!(count(&api, &[]).await, 3);
    let mut doubled = sample();
    doubled["actions"][1] = doubled["actions"][0].clone();
    assert_eq!(post(&api, &doubled).await.json()["stored"], 3);
    let clicks = [("userId", "ABC123XYZ"), ("type", "CLICK")];
    assert_eq!(
        count(&api, &clicks).await,
        3,
        "two identical actions are two elements"
    );
    let empty = json!({"userId": "u", "sessionId": "s"});
    assert_eq!(
        post(&api, &empty).await.json(),
        json!({"success": true, "stored": 0})
    );
}

async fn bad_query_values_are_400(engine: Engine) {
    let api = Api::on(engine).await;
    post(&api, &sample()).await;
    let cases = [
        ("startTime", "yesterday", "startTime: "),
        ("endTime", "2018-10-19 03:37:28Z", "endTime: "),
        ("limit", "0", "limit: "),
        ("limit", "1001", "limit: "),
        ("limit", "abc", "limit: "),
        ("cursor", "forged", "cursor: "),
        ("cursor", "eyJ4Ijo.AAAA", "cursor: "),
    ];
    for (name, value, needle) in cases {
        assert_error(&find(&api, &[(name, value)]).await, 400, needle);
    }
    let backwards = [
        ("startTime", "2018-10-19T03:37:29Z"),
        ("endTime", "2018-10-19T03:37:28Z"),
    ];
    assert_error(
        &find(&api, &backwards).await,
        400,
        "startTime: must not be after endTime",
    );
    let first = find(&api, &[("userId", "ABC123XYZ"), ("limit", "1")])
        .await
        .json();
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let reused = [
        ("userId", "someone-else"),
        ("limit", "1"),
        ("cursor", cursor),
    ];
    assert_error(&find(&api, &reused).await, 400, "cursor: ");
    let resumed = [("userId", "ABC123XYZ"), ("limit", "1"), ("cursor", cursor)];
    assert_eq!(find(&api, &resumed).await.status, 200);
    assert_eq!(
        find(&api, &[("userId", ""), ("cursor", "")]).await.json()["result"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

async fn bodies_of_the_wrong_type_shape_or_size_are_refused(engine: Engine) {
    let api = Api::on(engine).await;
    let form = api
        .send(
            api.client
                .post(api.url("/log"))
                .header("content-type", "text/plain")
                .body(SAMPLE),
        )
        .await;
    assert_error(&form, 415, "body:");
    assert_error(
        &post(&api, &json!([sample()])).await,
        400,
        "body: must be a JSON object",
    );
    let mut huge = sample();
    huge["padding"] = json!("x".repeat(1024 * 1024));
    assert_error(&post(&api, &huge).await, 413, "1 MiB");
    assert_eq!(count(&api, &[]).await, 0);
}

/// One action the walk test sent: its UTC second (past noon), request, index, user and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Sent {
    second: usize,
    request: usize,
    index: usize,
    user: &'static str,
    kind: &'static str,
}

impl Sent {
    /// The time as sent: noon plus `second` in UTC, written at an offset from -02:00 to +02:00.
    fn time(&self) -> String {
        let offset = self.index as i64 % 5 - 2;
        let local = 12 * 3600 + self.second as i64 + offset * 3600;
        let sign = if offset < 0 { '-' } else { '+' };
        format!(
            "2024-01-01T{:02}:{:02}:{:02}{sign}{:02}:00",
            local / 3600,
            local / 60 % 60,
            local % 60,
            offset.abs()
        )
    }
}

/// Which sent actions a filter combination selects.
type Keep = dyn Fn(&Sent) -> bool;

/// The seconds past noon that the walk's time filters start and end at.
const START: usize = 100;
const END: usize = 400;

fn in_range(a: &Sent) -> bool {
    (START..=END).contains(&a.second)
}

fn utc(second: usize) -> String {
    format!("2024-01-01T12:{:02}:{:02}Z", second / 60, second % 60)
}

/// Posts `total` actions in 5 requests (2 users, 3 types, many equal instants) and returns
/// them in the order `GET /log` must list them: by instant, then request, then index.
async fn post_walk_data(api: &Api, total: usize) -> Vec<Sent> {
    let mut sent = Vec::new();
    for request in 0..5 {
        let user = ["u0", "u1"][request % 2];
        let actions: Vec<Sent> = (0..total / 5)
            .map(|index| Sent {
                second: (index * 7919 + request * 131) % 600,
                request,
                index,
                user,
                kind: ["CLICK", "VIEW", "NAVIGATE"][index % 3],
            })
            .collect();
        let list: Vec<Value> = actions
            .iter()
            .map(|a| json!({"time": a.time(), "type": a.kind, "properties": {"r": request, "i": a.index}}))
            .collect();
        let body = json!({"userId": user, "sessionId": format!("s{request}"), "actions": list});
        assert_eq!(post(api, &body).await.json()["stored"], total / 5);
        sent.extend(actions);
    }
    sent.sort();
    sent
}

/// 5,000 actions on SQLite; 1,000 on the DynamoDB test server (moto), whose queries cost a
/// scan of the table plus ~2 ms per item returned: 5,000 there would take minutes.
async fn walking_every_filter_with_limit_137_returns_each_action_once_in_order(engine: Engine) {
    let api = Api::on(engine).await;
    let total = match engine {
        Engine::Sqlite => 5000,
        _ => 1000,
    };
    let sent = post_walk_data(&api, total).await;
    let (from, to) = (utc(START), utc(END));
    let cases: [(Vec<(&str, &str)>, &Keep); 8] = [
        (vec![], &|_| true),
        (vec![("startTime", &from), ("endTime", &to)], &in_range),
        (vec![("userId", "u1")], &|a| a.user == "u1"),
        (vec![("userId", "u1"), ("type", "VIEW")], &|a| {
            a.user == "u1" && a.kind == "VIEW"
        }),
        (vec![("userId", "u0"), ("startTime", &from)], &|a| {
            a.user == "u0" && a.second >= START
        }),
        (
            vec![
                ("userId", "u0"),
                ("type", "CLICK"),
                ("startTime", &from),
                ("endTime", &to),
            ],
            &|a| a.user == "u0" && a.kind == "CLICK" && in_range(a),
        ),
        (vec![("type", "NAVIGATE")], &|a| a.kind == "NAVIGATE"),
        (vec![("type", "CLICK"), ("endTime", &to)], &|a| {
            a.kind == "CLICK" && a.second <= END
        }),
    ];
    for (query, keep) in cases {
        let expected: Vec<Value> = sent
            .iter()
            .filter(|a| keep(a))
            .map(|a| json!({"r": a.request, "i": a.index}))
            .collect();
        let seen: Vec<Value> = walk(&api, &query, 137)
            .await
            .into_iter()
            .map(|e| e["properties"].clone())
            .collect();
        assert_eq!(seen.len(), expected.len(), "{query:?}");
        assert!(
            seen == expected,
            "{query:?}: not each action once, in order"
        );
    }
}

on_every_engine!(
    the_original_scenario_gives_its_five_filter_counts,
    an_offset_time_is_found_by_the_same_instant_in_utc_and_returned_as_sent,
    a_request_whose_third_action_is_invalid_stores_none,
    the_same_request_sent_twice_stores_its_actions_once,
    bad_query_values_are_400,
    bodies_of_the_wrong_type_shape_or_size_are_refused,
    walking_every_filter_with_limit_137_returns_each_action_once_in_order;
    lambda:
    the_original_scenario_gives_its_five_filter_counts,
    a_request_whose_third_action_is_invalid_stores_none,
    bad_query_values_are_400,
    bodies_of_the_wrong_type_shape_or_size_are_refused,
);

#[tokio::test]
async fn reads_and_writes_on_a_failing_store_are_503_with_retry_after() {
    let dead = tally::test_support::client_at("http://127.0.0.1:9").await;
    let tables = tally::config::TableNames::resolve(|spec| spec.logical_id.into());
    let api = Api::serve(tally_tests::dynamodb_state_on(dead, tables)).await;
    let reply = post(&api, &sample()).await;
    assert_error(&reply, 503, "retry");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_error(&find(&api, &[]).await, 503, "retry");
}
