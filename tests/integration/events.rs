//! Every file in `events/` is an API Gateway HTTP API (payload 2.0) event for the function it
//! is named after; each is run through that function's handler and must succeed.

use std::sync::Arc;
use std::time::Duration;
use tally::http::response::respond;
use tally_functions::dispatch::handler;
use tally_functions::routes::FALLBACK_FUNCTION;
use tally_tests::events::{events_dir, functions, read};
use tally_tests::stub::{Behaviour, StubServer};

#[test]
fn events_and_functions_match_one_to_one() {
    let mut files: Vec<String> = std::fs::read_dir(events_dir())
        .expect("events/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    let mut expected: Vec<String> = functions().iter().map(|f| format!("{f}.json")).collect();
    expected.sort();
    assert_eq!(files, expected);
}

#[tokio::test]
async fn every_event_runs_through_its_function() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let stub = StubServer::start(Behaviour::Xml).await;
    let mut state = tally_tests::sqlite_state(dir.path());
    state.ads.ad_server = stub.ad_server(Duration::from_secs(3));
    let state = Arc::new(state);
    for function in functions() {
        let req = lambda_http::request::from_str(&read(function))
            .unwrap_or_else(|e| panic!("{function}: not an API Gateway event: {e}"));
        let handle = handler(function).unwrap_or_else(|| panic!("{function}: no such function"));
        let resp = respond(handle(&state, req).await);
        let expected_ok = function != FALLBACK_FUNCTION;
        assert_eq!(
            resp.status().is_success(),
            expected_ok,
            "{function}: status {} body {:?}",
            resp.status(),
            String::from_utf8_lossy(resp.body().as_ref())
        );
    }
}
