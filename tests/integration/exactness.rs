//! Exactness under load, run by `make exactness` (CI, after `make test`), not by `make test`:
//! for every counter service, 2 x 10,000 concurrent calls through the local API on the
//! embedded store, 64 in flight, end with exactly the right counts.

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tally_tests::events::EventRequest;
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::{Api, Engine};

/// Calls of each of the two requests of a run.
const EACH: u64 = 10_000;
const IN_FLIGHT: usize = 64;

/// Sends `EACH` of each request, interleaved, `IN_FLIGHT` at a time; every answer is a 200.
async fn hammer(api: &Arc<Api>, requests: [EventRequest; 2]) {
    let requests = Arc::new(requests);
    let limit = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..2 * EACH as usize {
        let (api, limit, requests) = (Arc::clone(api), Arc::clone(&limit), Arc::clone(&requests));
        tasks.spawn(async move {
            let _permit = limit.acquire().await.expect("semaphore");
            let request = &requests[i % 2];
            let reply = request.send(&api).await;
            assert_eq!(reply.status, 200, "{request:?}: {}", reply.text());
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("request task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "exactness suite: make exactness"]
async fn visits_count_every_form_and_counter_post_exactly() {
    let api = Arc::new(Api::on(Engine::Sqlite).await);
    let form = EventRequest {
        content_type: Some("application/x-www-form-urlencoded".into()),
        body: "id=hot&question=again".into(),
        ..EventRequest::plain("POST", "/form")
    };
    hammer(&api, [EventRequest::plain("POST", "/counters/hot"), form]).await;
    assert_eq!(
        api.get("/counters/hot").await.json(),
        json!({"id": "hot", "count": 2 * EACH})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "exactness suite: make exactness"]
async fn ads_count_every_ad_request_and_impression_exactly() {
    let stub = StubServer::start(Behaviour::Xml).await;
    let api = Arc::new(
        Api::on_with(Engine::Sqlite, |state| {
            state.ads.ad_server = stub.ad_server(Duration::from_secs(3))
        })
        .await,
    );
    let query = "sdk_version=9.1&session_id=s&platform=ios&username=hot&country_code=US";
    hammer(
        &api,
        [
            EventRequest::plain("GET", &format!("/ad?{query}")),
            EventRequest::plain("GET", &format!("/impression?{query}")),
        ],
    )
    .await;
    assert_eq!(stub.hits() as u64, EACH);
    let totals = json!({"impressions": EACH, "ad_requests": EACH, "fill_rate": 1.0});
    for (query, key) in [("username=hot", "hot"), ("sdk=9.1", "9.1")] {
        assert_eq!(
            api.get(&format!("/statistics?{query}")).await.json(),
            json!({"success": true, key: totals, "stats": totals})
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "exactness suite: make exactness"]
async fn stats_count_every_spelling_of_one_path_exactly() {
    let api = Arc::new(Api::on(Engine::Sqlite).await);
    hammer(
        &api,
        [
            EventRequest::plain("GET", "/api/hot/path"),
            EventRequest::plain("GET", "/api/hot/path/?x=1"),
        ],
    )
    .await;
    assert_eq!(
        api.get("/stats/").await.json(),
        json!([{"path": "hot/path", "count": 2 * EACH}])
    );
}

/// The retry storm (contract G): 2 x 10,000 requests in which each of 10,000 keys is sent
/// twice at once; a 409 (the twin still in flight) is retried as its `Retry-After` asks. The
/// counter ends at exactly 10,000, and exactly 10,000 answers are not replays.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "exactness suite: make exactness"]
async fn a_retry_storm_under_idempotency_keys_counts_each_key_once() {
    let api = Arc::new(Api::on(Engine::Sqlite).await);
    let limit = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..2 * EACH {
        let (api, limit) = (Arc::clone(&api), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire().await.expect("semaphore");
            let request = EventRequest::plain("POST", "/counters/storm")
                .with_key(&format!("storm-{}", i / 2));
            loop {
                let reply = request.send(&api).await;
                match reply.status {
                    200 => return reply.header("idempotency-replayed").is_none(),
                    409 => tokio::time::sleep(Duration::from_millis(5)).await,
                    other => panic!("{other}: {}", reply.text()),
                }
            }
        });
    }
    let mut first = 0;
    while let Some(done) = tasks.join_next().await {
        first += u64::from(done.expect("request task"));
    }
    assert_eq!(first, EACH, "answers that were not replays");
    assert_eq!(
        api.get("/counters/storm").await.json(),
        json!({"id": "storm", "count": EACH})
    );
}
