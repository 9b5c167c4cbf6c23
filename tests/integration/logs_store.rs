//! The log store's contract, run against both adapters.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use tally::logs::{LogBatch, LogEntry, LogFilter, LogPositions, LogStore};
use tally::test_support::incompressible_text as noise;
use tally_tests::{Engine, Stores};

fn batch(body: Value) -> LogBatch {
    LogBatch::parse(body.to_string().as_bytes()).expect("valid batch")
}

fn sample() -> LogBatch {
    batch(serde_json::from_str(include_str!("../fixtures/sample_log.json")).expect("fixture"))
}

fn filter(
    user: Option<&str>,
    kind: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
) -> LogFilter {
    LogFilter::parse(user, kind, start, end).expect("valid filter")
}

/// Every page of `filter`, `limit` at a time, checking each page's positions.
async fn all(store: &dyn LogStore, filter: &LogFilter, limit: usize) -> Vec<LogEntry> {
    tally_tests::walk_pages(limit, |after: Option<LogPositions>| async move {
        let page = store
            .find(filter, after.as_ref(), limit)
            .await
            .expect("find");
        if let Some(next) = &page.next {
            assert_eq!(next.len(), store.shards(filter));
        }
        (page.items, page.next)
    })
    .await
}

async fn recording_the_same_request_twice_stores_each_action_once(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.logs.store.as_ref();
    store.record(&sample(), 1_000).await.expect("record");
    store.record(&sample(), 2_000).await.expect("record again");
    let found = all(store, &LogFilter::default(), 100).await;
    let kinds: Vec<&str> = found.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["CLICK", "VIEW", "NAVIGATE"]);
    assert_eq!(found[0].time, "2018-10-18T21:37:28-06:00");
    assert_eq!(
        found[0].properties,
        json!({"locationX": 52, "locationY": 11}).to_string()
    );
    assert_eq!(
        (found[0].user_id.as_str(), found[0].session_id.as_str()),
        ("ABC123XYZ", "XYZ456ABC")
    );
}

fn one_action(user: &str, kind: &str, time: &str) -> LogBatch {
    batch(json!({"userId": user, "sessionId": "s", "actions": [{"time": time, "type": kind}]}))
}

async fn equal_instants_follow_first_arrival_then_place_in_request(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.logs.store.as_ref();
    let first = batch(json!({"userId": "u", "sessionId": "s", "actions": [
        {"time": "2018-10-19T03:37:28Z", "type": "B"},
        {"time": "2018-10-18T21:37:28-06:00", "type": "A"}
    ]}));
    let second = one_action("u", "C", "2018-10-19T04:37:28+01:00");
    store.record(&first, 100).await.expect("record");
    store.record(&second, 200).await.expect("record");
    store
        .record(&first, 300)
        .await
        .expect("retry keeps the first arrival");
    let earlier = one_action("v", "Z", "2018-10-19T03:37:27.999Z");
    store.record(&earlier, 400).await.expect("record");
    let kinds = |entries: Vec<LogEntry>| entries.into_iter().map(|e| e.kind).collect::<Vec<_>>();
    assert_eq!(
        kinds(all(store, &LogFilter::default(), 2).await),
        ["Z", "B", "A", "C"]
    );
    assert_eq!(
        kinds(all(store, &filter(Some("u"), None, None, None), 2).await),
        ["B", "A", "C"]
    );
}

async fn every_filter_combination_selects_exactly(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.logs.store.as_ref();
    let times = [
        "2018-10-18T21:00:00-06:00",
        "2018-10-19T04:00:00+01:00",
        "2018-10-19T05:00:00Z",
    ];
    for (i, (user, kind)) in [("u", "CLICK"), ("u", "VIEW"), ("v", "CLICK")]
        .iter()
        .enumerate()
    {
        for time in times {
            store
                .record(&one_action(user, kind, time), i as u64)
                .await
                .expect("record");
        }
    }
    let start = Some("2018-10-19T03:00:00Z");
    let end = Some("2018-10-18T22:00:00-06:00");
    let cases = [
        (filter(None, None, None, None), 9),
        (filter(Some("u"), None, None, None), 6),
        (filter(Some("u"), Some("VIEW"), None, None), 3),
        (filter(Some("u"), Some("CLICK"), start, end), 2),
        (filter(Some("u"), None, start, None), 6),
        (filter(None, Some("CLICK"), None, None), 6),
        (filter(None, Some("CLICK"), None, end), 4),
        (filter(None, None, start, end), 6),
        (
            filter(None, None, Some("2018-10-19T05:00:00.000000001Z"), None),
            0,
        ),
        (filter(Some("nobody"), None, None, None), 0),
        (filter(None, Some("click"), None, None), 0),
    ];
    for (filter, expected) in cases {
        let found = all(store, &filter, 4).await;
        assert_eq!(found.len(), expected, "{filter:?}");
        assert!(found
            .iter()
            .all(|e| filter.user_id.as_ref().is_none_or(|u| &e.user_id == u)));
        assert!(found
            .iter()
            .all(|e| filter.kind.as_ref().is_none_or(|k| &e.kind == k)));
    }
}

/// Properties of every size come back whole from every filter, whether the index entry carries
/// them or the row is read from the table (DynamoDB keeps large ones out of the indexes).
async fn properties_of_any_size_come_back_whole_from_every_filter(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.logs.store.as_ref();
    let texts = [
        String::new(),
        "é".repeat(350),
        noise(700),
        noise(900),
        "é".repeat(8_000),
        noise(16_000),
    ];
    let actions: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({"time": format!("2018-10-19T03:37:{i:02}Z"), "type": "T",
                "properties": {"n": -0.5, "p": text}})
        })
        .collect();
    let sent = batch(json!({"userId": "u", "sessionId": "s", "actions": actions}));
    store.record(&sent, 1_000).await.expect("record");
    let expected: Vec<String> = sent.actions.iter().map(|a| a.properties.clone()).collect();
    for filter in [
        filter(None, None, None, None),
        filter(Some("u"), None, None, None),
        filter(Some("u"), Some("T"), None, None),
        filter(None, Some("T"), None, None),
    ] {
        let found: Vec<String> = all(store, &filter, 2)
            .await
            .into_iter()
            .map(|e| e.properties)
            .collect();
        assert_eq!(found, expected, "{filter:?}");
    }
}

on_every_store!(
    properties_of_any_size_come_back_whole_from_every_filter,
    recording_the_same_request_twice_stores_each_action_once,
    equal_instants_follow_first_arrival_then_place_in_request,
    every_filter_combination_selects_exactly,
);

/// A request that failed half-way (here: one of its items never written) is completed by its
/// retry: every action once, in the places the first attempt gave them.
#[tokio::test]
async fn a_retry_after_a_partial_write_completes_it_without_duplicates() {
    let (client, tables) = tally_tests::dynamodb_tables().await;
    let state = tally_tests::dynamodb_state_on(client.clone(), tables.clone());
    let store = state.logs.store.as_ref();
    store.record(&sample(), 1_000).await.expect("record");
    let before = all(store, &LogFilter::default(), 100).await;
    let user = filter(Some("ABC123XYZ"), None, None, None);
    let page = store.find(&user, None, 1).await.expect("find");
    let lost = page.next.expect("more").remove(0).expect("first key");
    client
        .delete_item()
        .table_name(&tables.logs)
        .key("pk", AttributeValue::S("u#ABC123XYZ".into()))
        .key("sk", AttributeValue::S(lost))
        .send()
        .await
        .expect("delete");
    assert_eq!(all(store, &LogFilter::default(), 100).await.len(), 2);
    store.record(&sample(), 9_000).await.expect("retry");
    assert_eq!(all(store, &LogFilter::default(), 100).await, before);
}

/// With a retention, every action and the request's retry record carry `expires` = first
/// arrival + retention (what DynamoDB's TTL deletes by), fixed by the first arrival so a retry
/// rewrites the same value; rollup items never expire. Without one, nothing carries it.
#[tokio::test]
async fn actions_and_retry_records_expire_after_the_retention_rollups_never() {
    use tally::test_support::LOG_EXPIRES;
    let logs_with_retention = |client, tables, days| {
        let config = tally::config::Config {
            tables,
            logs: tally::config::LogsSettings {
                log_retention_days: days,
            },
            ..tally::config::Config::default()
        };
        tally::AppState::dynamodb(client, &config).logs.store
    };
    let (client, tables) = tally_tests::dynamodb_tables().await;
    let arrival = 1_700_000_000_123_456_789;
    let store = logs_with_retention(client.clone(), tables.clone(), 30);
    store.record(&sample(), arrival).await.expect("record");
    store.record(&sample(), arrival + 5).await.expect("retry");
    let items = client
        .scan()
        .table_name(&tables.logs)
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    let expires = |prefix: &str| -> Vec<Option<String>> {
        items
            .iter()
            .filter(|item| matches!(item.get("pk"), Some(AttributeValue::S(pk)) if pk.starts_with(prefix)))
            .map(|item| item.get(LOG_EXPIRES).and_then(|v| v.as_n().ok()).cloned())
            .collect()
    };
    let due = Some((1_700_000_000 + 30 * 86_400).to_string());
    assert_eq!(expires("u#"), vec![due.clone(); 3]);
    assert_eq!(expires("r#"), vec![due]);
    assert!(!expires("d#").is_empty() && expires("d#").iter().all(Option::is_none));

    let (client, tables) = tally_tests::dynamodb_tables().await;
    let forever = logs_with_retention(client.clone(), tables.clone(), 0);
    forever.record(&sample(), arrival).await.expect("record");
    let items = client
        .scan()
        .table_name(&tables.logs)
        .send()
        .await
        .expect("scan");
    assert!(items
        .items()
        .iter()
        .all(|item| !item.contains_key(LOG_EXPIRES)));
}

/// Index entries carry an action's properties only while the entry stays within one write unit
/// (1 KB): a large action costs its table item plus 1 unit per index, not its size four times.
#[tokio::test]
async fn index_entries_leave_large_properties_to_the_table_item() {
    let (client, tables) = tally_tests::dynamodb_tables().await;
    let state = tally_tests::dynamodb_state_on(client.clone(), tables.clone());
    let action =
        |time: &str, text: String| json!({"time": time, "type": "T", "properties": {"p": text}});
    let sent = batch(json!({"userId": "u", "sessionId": "s", "actions": [
        action("2018-10-19T03:37:28Z", "x".repeat(100)),
        action("2018-10-19T03:37:29Z", noise(16_000))]}));
    state.logs.store.record(&sent, 1_000).await.expect("record");
    for (index, key, value) in [
        ("ByUserType", "ut", json!(["u", "T"]).to_string()),
        ("ByType", "ts", json!(["T", 0]).to_string()),
    ] {
        let mut carried = Vec::new();
        for shard in 0..8 {
            let value = match key {
                "ts" => json!(["T", shard]).to_string(),
                _ => value.clone(),
            };
            let out = client
                .query()
                .table_name(&tables.logs)
                .index_name(index)
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", key)
                .expression_attribute_values(":k", AttributeValue::S(value))
                .send()
                .await
                .expect("query");
            carried.extend(out.items().iter().map(|entry| {
                let size = entry
                    .get("properties")
                    .and_then(|p| p.as_s().ok())
                    .map(String::len);
                (entry.get("sk").cloned(), size)
            }));
            if key == "ut" {
                break;
            }
        }
        carried.sort_by(|a, b| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)));
        let sizes: Vec<Option<usize>> = carried.into_iter().map(|(_, size)| size).collect();
        assert_eq!(sizes, [Some(108), None], "{index}");
    }
}
