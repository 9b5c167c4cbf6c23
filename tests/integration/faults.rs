//! Store faults, on a DynamoDB server of the test's own: frozen (requests hang) or killed
//! (connections refused) mid-run, every route answers within its Lambda timeout, 503 with
//! `Retry-After` when it needs the store; counters end between the acknowledged and the
//! attempted number of requests; after a restart every route works again.

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally::config::TABLES;
use tally_functions::dispatch::tables;
use tally_functions::routes::FALLBACK_FUNCTION;
use tally_local::lambda::template;
use tally_tests::dynamodb_server::DynamoServer;
use tally_tests::events::{assert_every_route_works, EventRequest};
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::{assert_error, Api, Engine, Reply};

/// What a function answers its event with while the store is down, when it answers without
/// the store: a function whose state has no table (the route table says which) as always, the
/// self test reporting its failed requests in a 200; the dashboard marks its sections
/// unavailable in a 200; the fallback's event, an unknown path, is its 404.
fn status_without_store(function: &str) -> Option<u16> {
    match function {
        "dashboard-page" => Some(200),
        FALLBACK_FUNCTION => Some(404),
        _ if tables(function).is_some_and(|t| t.is_empty()) => Some(200),
        _ => None,
    }
}

/// A function's Lambda timeout in `template.yaml` (its own, else the global one).
fn lambda_timeout(function: &str) -> Duration {
    let specs = template::functions(&BTreeMap::new()).expect("template.yaml");
    let spec = specs.iter().find(|s| s.binary == function);
    spec.map(|s| s.timeout).expect("a Lambda timeout")
}

/// The local API (in-process, or in Lambda mode) on `server`'s tables, with its ad server
/// pointed at `stub`.
async fn api_on(server: &DynamoServer, stub: &StubServer, engine: Engine) -> Api {
    let names = server.create_tables().await;
    let mut state = tally_tests::dynamodb_state_on(server.client().await, names);
    state.ads.ad_server = stub.ad_server(Duration::from_secs(3));
    if engine == Engine::Lambda {
        let tables: Vec<(&str, String)> = TABLES
            .iter()
            .map(|spec| (spec.env, spec.logical_id.to_string()))
            .collect();
        return Api::lambda(state, &tables, &server.endpoint()).await;
    }
    Api::serve(state).await
}

/// Sends every event at once to an API whose store is down; each answers within its Lambda
/// timeout, 503 with `Retry-After` unless it needs no store. Returns the slowest answer.
async fn every_route_fails_fast(api: &Arc<Api>) -> Duration {
    let mut tasks = tokio::task::JoinSet::new();
    for request in EventRequest::all() {
        let api = Arc::clone(api);
        tasks.spawn(async move {
            let started = Instant::now();
            let reply = request.send(&api).await;
            let took = started.elapsed();
            let limit = lambda_timeout(request.function);
            assert!(took < limit, "{}: {took:?} >= {limit:?}", request.function);
            expect_store_down_answer(request.function, &reply);
            took
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(took) = tasks.join_next().await {
        slowest = slowest.max(took.expect("route check"));
    }
    slowest
}

fn expect_store_down_answer(function: &str, reply: &Reply) {
    match status_without_store(function) {
        Some(status) => assert_eq!(reply.status, status, "{function}: {}", reply.text()),
        None => {
            assert_error(reply, 503, "unavailable");
            assert!(reply.header("retry-after").is_some(), "{function}");
        }
    }
    if function == "dashboard-page" {
        assert!(
            reply.text().contains(r#"data-state="unavailable""#),
            "{}",
            reply.text()
        );
    }
    if function == "stats-test" {
        assert_eq!(reply.json()["succeeded"], 0, "{}", reply.text());
    }
}

/// One request that counts, and how many were sent and acknowledged (200).
struct Counted {
    request: EventRequest,
    attempted: AtomicU64,
    acknowledged: AtomicU64,
}

const ADS_QUERY: &str = "sdk_version=9.1&session_id=s&platform=ios&username=hot&country_code=US";

fn counted(method: &str, path_and_query: String) -> Arc<Counted> {
    Arc::new(Counted {
        request: EventRequest::plain(method, &path_and_query),
        attempted: AtomicU64::new(0),
        acknowledged: AtomicU64::new(0),
    })
}

/// Increments of every counter service, two clients each, until stopped. Every answer is 200,
/// or 503 with `Retry-After`, within the Lambda timeout.
struct Load {
    visits: Arc<Counted>,
    ads: Arc<Counted>,
    impressions: Arc<Counted>,
    stats: Arc<Counted>,
    stop: Arc<AtomicBool>,
    tasks: tokio::task::JoinSet<()>,
}

impl Load {
    fn start(api: &Arc<Api>) -> Load {
        let mut load = Load {
            visits: counted("POST", "/counters/hot".into()),
            ads: counted("GET", format!("/ad?{ADS_QUERY}")),
            impressions: counted("GET", format!("/impression?{ADS_QUERY}")),
            stats: counted("GET", "/api/hot".into()),
            stop: Arc::new(AtomicBool::new(false)),
            tasks: tokio::task::JoinSet::new(),
        };
        for counter in [&load.visits, &load.ads, &load.impressions, &load.stats] {
            for _ in 0..2 {
                let (api, counter, stop) = (Arc::clone(api), Arc::clone(counter), &load.stop);
                load.tasks.spawn(send_until(api, counter, Arc::clone(stop)));
            }
        }
        load
    }

    /// Waits (at most a minute) until every counter has `n` more acknowledged requests;
    /// a client that failed fails the test at once.
    async fn until_acknowledged(&mut self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let counters = [&self.visits, &self.ads, &self.impressions, &self.stats];
        let targets: Vec<u64> = counters
            .iter()
            .map(|c| c.acknowledged.load(Ordering::SeqCst) + n)
            .collect();
        while counters
            .iter()
            .zip(&targets)
            .any(|(c, target)| c.acknowledged.load(Ordering::SeqCst) < *target)
        {
            assert!(
                Instant::now() < deadline,
                "the counters stopped acknowledging"
            );
            if let Some(done) = self.tasks.try_join_next() {
                done.expect("load client");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(mut self) -> Load {
        self.stop.store(true, Ordering::SeqCst);
        while let Some(done) = self.tasks.join_next().await {
            done.expect("load client");
        }
        self
    }
}

async fn send_until(api: Arc<Api>, counter: Arc<Counted>, stop: Arc<AtomicBool>) {
    let limit = lambda_timeout("visits-increment");
    while !stop.load(Ordering::SeqCst) {
        counter.attempted.fetch_add(1, Ordering::SeqCst);
        let started = Instant::now();
        let reply = counter.request.send(&api).await;
        assert!(started.elapsed() < limit, "{:?}", started.elapsed());
        match reply.status {
            200 => {
                counter.acknowledged.fetch_add(1, Ordering::SeqCst);
            }
            503 => assert!(reply.header("retry-after").is_some()),
            other => panic!("{other}: {}", reply.text()),
        }
    }
}

/// Asserts acknowledged <= stored <= attempted for `counter`.
fn within_bounds(name: &str, counter: &Counted, stored: &Value) {
    let stored = stored
        .as_u64()
        .unwrap_or_else(|| panic!("{name}: {stored}"));
    let acknowledged = counter.acknowledged.load(Ordering::SeqCst);
    let attempted = counter.attempted.load(Ordering::SeqCst);
    eprintln!("{name}: acknowledged {acknowledged} <= stored {stored} <= attempted {attempted}?");
    assert!(
        (acknowledged..=attempted).contains(&stored),
        "{name}: stored {stored}, acknowledged {acknowledged}, attempted {attempted}"
    );
}

async fn every_count_within_bounds(api: &Api, load: &Load) {
    let visits = api.get("/counters/hot").await.json();
    within_bounds("visits", &load.visits, &visits["count"]);
    for query in ["username=hot", "sdk=9.1"] {
        let stats = api.get(&format!("/statistics?{query}")).await.json();
        let name = query.split('=').nth(1).unwrap_or_default();
        for (counter, field) in [
            (&load.ads, "ad_requests"),
            (&load.impressions, "impressions"),
        ] {
            within_bounds(&format!("{query} {field}"), counter, &stats[name][field]);
        }
    }
    let ranking = api.get("/stats/?limit=1000").await.json();
    let hot = ranking
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["path"] == "hot")
        .map(|entry| entry["count"].clone())
        .unwrap_or_default();
    within_bounds("stats", &load.stats, &hot);
}

async fn a_frozen_store_is_503_within_the_timeout_and_counts_stay_within_bounds(engine: Engine) {
    let server = DynamoServer::start().await;
    let stub = StubServer::start(Behaviour::Xml).await;
    let api = Arc::new(api_on(&server, &stub, engine).await);
    assert_every_route_works(&api).await;

    let mut load = Load::start(&api);
    load.until_acknowledged(20).await;
    server.freeze();
    let slowest = every_route_fails_fast(&api).await;
    eprintln!("store frozen: the slowest route answered in {slowest:?}");
    server.thaw();
    load.until_acknowledged(20).await;
    let load = load.stop().await;
    every_count_within_bounds(&api, &load).await;
    assert_every_route_works(&api).await;
}

async fn a_killed_store_is_503_and_every_route_works_after_it_restarts(engine: Engine) {
    let mut server = DynamoServer::start().await;
    let stub = StubServer::start(Behaviour::Xml).await;
    let api = Arc::new(api_on(&server, &stub, engine).await);
    assert_every_route_works(&api).await;

    let mut load = Load::start(&api);
    load.until_acknowledged(20).await;
    server.kill().await;
    let slowest = every_route_fails_fast(&api).await;
    eprintln!("store killed: the slowest route answered in {slowest:?}");
    load.stop().await;

    server.restart().await;
    server.create_tables().await;
    assert_every_route_works(&api).await;
}

mod in_process {
    use tally_tests::Engine;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_frozen_store_is_503_within_the_timeout_and_counts_stay_within_bounds() {
        super::a_frozen_store_is_503_within_the_timeout_and_counts_stay_within_bounds(
            Engine::Dynamodb,
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_killed_store_is_503_and_every_route_works_after_it_restarts() {
        super::a_killed_store_is_503_and_every_route_works_after_it_restarts(Engine::Dynamodb).await
    }
}

/// The same through Lambda mode: each function binary, its SDK client over TLS, answers 503
/// within its own timeout.
mod lambda {
    use tally_tests::Engine;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_frozen_store_is_503_within_the_timeout_and_counts_stay_within_bounds() {
        super::a_frozen_store_is_503_within_the_timeout_and_counts_stay_within_bounds(
            Engine::Lambda,
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_killed_store_is_503_and_every_route_works_after_it_restarts() {
        super::a_killed_store_is_503_and_every_route_works_after_it_restarts(Engine::Lambda).await
    }
}
