//! `make smoke` (`scripts/smoke.py`) against the local API on DynamoDB and against Lambda mode
//! (each route's binary behind the gateway): every route, and the fallback, answers its safe
//! request as expected, and the script covers exactly the routes.

use std::collections::BTreeSet;
use std::time::Duration;
use tally_functions::routes::{FALLBACK_FUNCTION, ROUTES};
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::{Api, Engine};

/// Runs the smoke script against `base`; returns the functions it reported as ok.
async fn smoke(base: &str) -> BTreeSet<String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/smoke.py");
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .arg(base)
        .output()
        .await
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
        .lines()
        .filter_map(|line| line.strip_prefix("ok   "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn every_function() -> BTreeSet<String> {
    ROUTES
        .iter()
        .map(|route| route.function)
        .chain([FALLBACK_FUNCTION])
        .map(str::to_string)
        .collect()
}

/// Smoke against the API `engine` serves, its ad server a stub.
async fn smoke_passes_on_every_route(engine: Engine) {
    let ad_server = StubServer::start(Behaviour::Xml).await;
    let api = Api::on_with(engine, |state| {
        state.ads.ad_server = ad_server.ad_server(Duration::from_secs(3));
    })
    .await;
    assert_eq!(smoke(&api.base).await, every_function());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_passes_on_every_route_of_the_local_api() {
    smoke_passes_on_every_route(Engine::Dynamodb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_passes_on_every_route_in_lambda_mode() {
    smoke_passes_on_every_route(Engine::Lambda).await;
}
