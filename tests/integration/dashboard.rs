//! The dashboard page over HTTP: every section drawn from what was written, empty stores,
//! a failing store, and reads that stay the same whatever the stores hold.

use async_trait::async_trait;
use futures_util::StreamExt;
use std::sync::Arc;
use tally::stats::{CountedPath, PathCount, Ranked, StatsStore};
use tally::StoreError;
use tally_tests::dashboard::{assert_shows_seed, section, seed};
use tally_tests::{Api, DynamoTables, Engine};

async fn every_section_draws_what_was_written(engine: Engine) {
    let api = Api::on(engine).await;
    seed(&api.state).await;
    let reply = api.get("/dashboard").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = reply.header("content-security-policy").unwrap_or_default();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let html = reply.text();
    assert_shows_seed(&html);
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
}

async fn empty_stores_render_a_friendly_empty_state(engine: Engine) {
    let api = Api::on(engine).await;
    let reply = api.get("/dashboard").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let html = reply.text();
    for id in ["paths", "sdks", "daily", "visitors", "people"] {
        assert!(section(&html, id).contains("data-state=\"empty\""), "{id}");
    }
}

async fn the_front_page_links_to_the_dashboard(engine: Engine) {
    let api = Api::on(engine).await;
    assert!(api
        .get("/")
        .await
        .text()
        .contains("<a href=\"/dashboard\">"));
}

/// A request statistics store whose reads fail (writes are accepted and forgotten).
struct Down;

#[async_trait]
impl StatsStore for Down {
    async fn increment(&self, _path: &CountedPath) -> Result<u64, StoreError> {
        Ok(1)
    }

    async fn count(&self, _path: &CountedPath) -> Result<Option<u64>, StoreError> {
        Err(StoreError::Unavailable("down".into()))
    }

    async fn ranked(
        &self,
        _after: Option<&PathCount>,
        _limit: usize,
    ) -> Result<Ranked, StoreError> {
        Err(StoreError::Unavailable("down".into()))
    }
}

async fn a_failing_store_marks_only_its_section_unavailable(engine: Engine) {
    let api = Api::on_with(engine, |state| state.stats.store = Arc::new(Down)).await;
    seed(&api.state).await;
    let reply = api.get("/dashboard").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let html = reply.text();
    assert!(section(&html, "paths").contains("data-state=\"unavailable\""));
    for id in ["sdks", "daily", "visitors", "people"] {
        assert!(section(&html, id).contains("data-state=\"ok\""), "{id}");
    }
}

/// Writes `n` paths, visitors and log types, `n / 10` SDK versions and people, from `from`.
async fn grow(state: &tally::AppState, from: usize, n: usize) {
    let tasks = (from..from + n).map(|i| async move {
        let path = CountedPath::from_proxy(&format!("p{i}")).expect("path");
        state.stats.store.increment(&path).await.expect("path");
        let id = tally::visits::VisitId::parse("id", &format!("v{i}")).expect("id");
        state.visits.store.increment(&id).await.expect("visit");
        if i % 10 == 0 {
            let params = tally::ads::AdParams {
                username: "u".into(),
                sdk_version: format!("sdk{i}"),
            };
            let event = tally::ads::Event::AdRequest;
            state.ads.store.record(event, &params).await.expect("ad");
            let person = tally::people::Person {
                id: i as u64 + 1,
                details: tally::people::Details {
                    first: Some("P".into()),
                    last: None,
                    age: Some((i % 100) as u8),
                    github: None,
                    graduated: None,
                },
            };
            state.people.store.upsert(&person).await.expect("person");
        }
    });
    futures_util::stream::iter(tasks)
        .for_each_concurrent(16, |task| task)
        .await;
    let today = tally::date::format(tally::date::today());
    let actions: Vec<_> = (from..from + n)
        .map(|i| serde_json::json!({"time": format!("{today}T00:00:00Z"), "type": format!("t{i}")}))
        .collect();
    let body =
        serde_json::json!({"userId": "u", "sessionId": format!("s{from}"), "actions": actions});
    tally_tests::record_log(state, &body).await;
}

/// The page's DynamoDB operations, in a stable order.
async fn page_operations(api: &Api, log: &tally_tests::operations::OperationLog) -> Vec<String> {
    log.take();
    let reply = api.get("/dashboard").await;
    assert_eq!(reply.status, 200);
    assert!(!reply.text().contains("data-state=\"unavailable\""));
    let mut ops = log.take();
    ops.sort();
    ops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_the_page_reads_the_same_whatever_the_stores_hold() {
    let (state, log) = DynamoTables::create().await.recorded_state();
    let api = Api::serve(state).await;
    grow(&api.state, 0, 100).await;
    let small = page_operations(&api, &log).await;
    grow(&api.state, 100, 250).await;
    let large = page_operations(&api, &log).await;
    assert_eq!(small, large, "the page's reads grew with the data");
    assert!(small.len() <= 24, "{small:?}");
    assert!(!small.iter().any(|op| op == "Scan"));
}

on_every_engine!(
    every_section_draws_what_was_written,
    empty_stores_render_a_friendly_empty_state,
    the_front_page_links_to_the_dashboard,
    a_failing_store_marks_only_its_section_unavailable;
    lambda:
    every_section_draws_what_was_written,
    empty_stores_render_a_friendly_empty_state,
);
