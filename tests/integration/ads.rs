//! The ad statistics over HTTP (contract section C), on both engines, with a loopback stub as
//! the ad server.

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally::ads::params::AD_PARAMS;
use tally_tests::stub::{Behaviour, StubServer, VAST_XML};
use tally_tests::{assert_error, Api, Engine, Reply};

const TIMEOUT: Duration = Duration::from_millis(500);

/// The local API on `engine` with its ad server at a stub behaving as `behaviour`.
async fn api_with(engine: Engine, behaviour: Behaviour) -> (Api, StubServer) {
    let stub = StubServer::start(behaviour).await;
    let api = Api::on_with(engine, |state| {
        state.ads.ad_server = stub.ad_server(TIMEOUT)
    })
    .await;
    (api, stub)
}

fn query(username: &str, sdk_version: &str) -> String {
    format!(
        "sdk_version={sdk_version}&session_id=s-1&platform=ios&username={username}&country_code=US"
    )
}

async fn ad(api: &Api, username: &str, sdk: &str) -> Reply {
    api.get(&format!("/ad?{}", query(username, sdk))).await
}

async fn impression(api: &Api, username: &str, sdk: &str) -> Reply {
    api.get(&format!("/impression?{}", query(username, sdk)))
        .await
}

/// The `/statistics` entry for `filter` (`username=alice`, `sdk=1.0`), after checking the envelope.
async fn stats(api: &Api, filter: &str) -> Value {
    let reply = api.get(&format!("/statistics?{filter}")).await;
    assert_eq!(reply.status, 200, "{filter}: {}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["success"], true, "{body}");
    let name = filter.split_once('=').map(|(_, v)| v).unwrap_or_default();
    body[name].clone()
}

fn totals(ad_requests: u64, impressions: u64, fill_rate: f64) -> Value {
    json!({"impressions": impressions, "ad_requests": ad_requests, "fill_rate": fill_rate})
}

async fn ad_returns_the_vast_xml_unchanged_and_counts_user_and_sdk(engine: Engine) {
    let (api, stub) = api_with(engine, Behaviour::Xml).await;
    let reply = ad(&api, "alice", "1.0").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/xml"));
    assert_eq!(reply.body, VAST_XML.as_bytes());
    assert_eq!(stub.hits(), 1);
    assert_eq!(stats(&api, "username=alice").await, totals(1, 0, 0.0));
    assert_eq!(stats(&api, "sdk=1.0").await, totals(1, 0, 0.0));
}

async fn impression_answers_the_original_message_and_counts(engine: Engine) {
    let (api, stub) = api_with(engine, Behaviour::Xml).await;
    let reply = impression(&api, "alice", "1.0").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        json!({"success": true, "message": "Successfully fetched"})
    );
    assert_eq!(stub.hits(), 0, "an impression does not call the ad server");
    assert_eq!(stats(&api, "sdk=1.0").await, totals(0, 1, 0.0));
}

async fn statistics_answers_the_whole_body_with_the_fill_rate(engine: Engine) {
    let (api, _stub) = api_with(engine, Behaviour::Xml).await;
    for _ in 0..4 {
        ad(&api, "alice", "1.0").await;
    }
    impression(&api, "alice", "1.0").await;
    let reply = api.get("/statistics?username=alice").await;
    assert_eq!(
        reply.json(),
        json!({"success": true, "alice": totals(4, 1, 0.25), "stats": totals(4, 1, 0.25)})
    );
    assert_eq!(stats(&api, "sdk=1.0").await, totals(4, 1, 0.25));
}

async fn a_key_seen_on_only_one_endpoint_answers_with_zero_for_the_other(engine: Engine) {
    let (api, _stub) = api_with(engine, Behaviour::Xml).await;
    impression(&api, "viewer", "2.0").await;
    impression(&api, "viewer", "2.0").await;
    ad(&api, "requester", "3.0").await;
    assert_eq!(stats(&api, "username=viewer").await, totals(0, 2, 0.0));
    assert_eq!(stats(&api, "sdk=2.0").await, totals(0, 2, 0.0));
    assert_eq!(stats(&api, "username=requester").await, totals(1, 0, 0.0));
    assert_eq!(stats(&api, "sdk=3.0").await, totals(1, 0, 0.0));
}

async fn a_user_named_like_an_sdk_version_is_kept_apart(engine: Engine) {
    let (api, _stub) = api_with(engine, Behaviour::Xml).await;
    ad(&api, "1.0", "2.0").await;
    impression(&api, "bob", "1.0").await;
    impression(&api, "bob", "1.0").await;
    assert_eq!(stats(&api, "username=1.0").await, totals(1, 0, 0.0));
    assert_eq!(stats(&api, "sdk=1.0").await, totals(0, 2, 0.0));
    assert_error(&api.get("/statistics?sdk=bob").await, 404, "bob not found");
    assert_error(
        &api.get("/statistics?username=2.0").await,
        404,
        "2.0 not found",
    );
}

async fn unknown_users_and_sdk_versions_are_404(engine: Engine) {
    let (api, _stub) = api_with(engine, Behaviour::Xml).await;
    let reply = api.get("/statistics?username=nobody").await;
    assert_error(&reply, 404, "");
    assert_eq!(reply.json()["message"], "nobody not found");
    assert_error(&api.get("/statistics?sdk=9.9").await, 404, "9.9 not found");
}

/// Every non-empty subset of the five parameters left out, absent or empty, on both routes.
async fn every_missing_parameter_combination_is_named_and_counts_nothing(engine: Engine) {
    let (api, stub) = api_with(engine, Behaviour::Xml).await;
    let values = ["1.0", "s-1", "ios", "alice", "US"];
    for (mask, empty) in (1u32..32).flat_map(|mask| [(mask, false), (mask, true)]) {
        let mut given = Vec::new();
        let mut missing = Vec::new();
        for (i, (name, value)) in AD_PARAMS.iter().zip(values).enumerate() {
            if mask & (1 << i) == 0 {
                given.push(format!("{name}={value}"));
            } else {
                missing.push(format!("'{name}'"));
                if empty {
                    given.push(format!("{name}="));
                }
            }
        }
        let expected = json!({
            "success": false,
            "message": format!("following params are required [{}]", missing.join(", "))
        });
        for path in ["/ad", "/impression"] {
            let reply = api.get(&format!("{path}?{}", given.join("&"))).await;
            assert_eq!(reply.status, 400, "{path}?{}", given.join("&"));
            assert_eq!(reply.header("content-type"), Some("application/json"));
            assert_eq!(reply.json(), expected, "{path}?{}", given.join("&"));
        }
    }
    assert_eq!(stub.hits(), 0, "a rejected request makes no upstream call");
    assert_error(
        &api.get("/statistics?username=alice").await,
        404,
        "alice not found",
    );
    assert_error(&api.get("/statistics?sdk=1.0").await, 404, "1.0 not found");
}

async fn the_contract_example_message_is_exact(engine: Engine) {
    let (api, _stub) = api_with(engine, Behaviour::Xml).await;
    let reply = api
        .get("/ad?session_id=s&platform=ios&country_code=US&username=")
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["message"].as_str(),
        Some("following params are required ['sdk_version', 'username']")
    );
}

async fn parameters_over_256_characters_are_400_and_count_nothing(engine: Engine) {
    let (api, stub) = api_with(engine, Behaviour::Xml).await;
    let long = "u".repeat(257);
    assert_error(
        &ad(&api, &long, "1.0").await,
        400,
        "username: must be at most 256 characters",
    );
    assert_error(
        &impression(&api, "alice", &long).await,
        400,
        "sdk_version: must be at most 256 characters",
    );
    assert_error(
        &api.get(&format!("/statistics?sdk={long}")).await,
        400,
        "sdk: must be at most 256",
    );
    assert_eq!(stub.hits(), 0);
    assert_error(&api.get("/statistics?sdk=1.0").await, 404, "1.0 not found");
    let longest = "u".repeat(256);
    assert_eq!(impression(&api, &longest, "1.0").await.status, 200);
}

async fn statistics_needs_exactly_one_of_username_and_sdk(engine: Engine) {
    let (api, _stub) = api_with(engine, Behaviour::Xml).await;
    impression(&api, "alice", "1.0").await;
    for path in [
        "/statistics",
        "/statistics?username=",
        "/statistics?sdk=&username=",
    ] {
        let reply = api.get(path).await;
        assert_eq!(reply.status, 400, "{path}");
        assert_eq!(
            reply.json(),
            json!({"success": false, "message": "following params are required ['username', 'sdk']"})
        );
    }
    let both = api.get("/statistics?username=alice&sdk=1.0").await;
    assert_eq!(both.status, 400);
    assert_eq!(
        both.json(),
        json!({"success": false, "message": "give either username or sdk, not both"})
    );
}

async fn ad_server_errors_are_502_and_still_counted(engine: Engine) {
    let (api, stub) = api_with(engine, Behaviour::Status(500)).await;
    assert_error(&ad(&api, "alice", "1.0").await, 502, "answered 500");
    assert_eq!(stub.hits(), 1);
    assert_eq!(stats(&api, "username=alice").await, totals(1, 0, 0.0));
    assert_eq!(stats(&api, "sdk=1.0").await, totals(1, 0, 0.0));
}

async fn a_hanging_ad_server_is_504_within_the_timeout_and_still_counted(engine: Engine) {
    let (api, _stub) = api_with(engine, Behaviour::Hang).await;
    let started = Instant::now();
    let reply = ad(&api, "alice", "1.0").await;
    let elapsed = started.elapsed();
    assert_error(&reply, 504, "did not answer within 500 ms");
    assert!(
        elapsed >= TIMEOUT && elapsed < TIMEOUT + Duration::from_secs(3),
        "answered after {elapsed:?}"
    );
    assert_eq!(stats(&api, "username=alice").await, totals(1, 0, 0.0));
}

on_every_engine!(
    ad_returns_the_vast_xml_unchanged_and_counts_user_and_sdk,
    impression_answers_the_original_message_and_counts,
    statistics_answers_the_whole_body_with_the_fill_rate,
    a_key_seen_on_only_one_endpoint_answers_with_zero_for_the_other,
    a_user_named_like_an_sdk_version_is_kept_apart,
    unknown_users_and_sdk_versions_are_404,
    every_missing_parameter_combination_is_named_and_counts_nothing,
    the_contract_example_message_is_exact,
    parameters_over_256_characters_are_400_and_count_nothing,
    statistics_needs_exactly_one_of_username_and_sdk,
    ad_server_errors_are_502_and_still_counted,
    a_hanging_ad_server_is_504_within_the_timeout_and_still_counted,
    concurrent_ads_and_impressions_count_exactly;
    lambda:
    ad_returns_the_vast_xml_unchanged_and_counts_user_and_sdk,
    impression_answers_the_original_message_and_counts,
    statistics_answers_the_whole_body_with_the_fill_rate,
    unknown_users_and_sdk_versions_are_404,
    ad_server_errors_are_502_and_still_counted,
    every_missing_parameter_combination_is_named_and_counts_nothing,
);

#[tokio::test]
async fn ad_server_redirects_are_502_and_not_followed() {
    let (api, stub) = api_with(Engine::Sqlite, Behaviour::Redirect).await;
    assert_error(&ad(&api, "alice", "1.0").await, 502, "answered 302");
    assert_eq!(stub.hits(), 1, "the redirect was not followed");
}

#[tokio::test]
async fn an_unreachable_ad_server_is_502() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/vast", closed.local_addr().expect("addr"));
    drop(closed);
    let api = Api::on_with(Engine::Sqlite, |state| {
        state.ads.ad_server = std::sync::Arc::new(tally::ads::AdServer::new(url, TIMEOUT))
    })
    .await;
    assert_error(&ad(&api, "alice", "1.0").await, 502, "could not be reached");
}

/// `/ad` and `/impression`, `total` of each for one user and one SDK version: 10,000 each on
/// the embedded store, 64 in flight; 1,000 each on the DynamoDB server, 16 in flight (it is
/// shared by every test and serves about 350 writes/s, one at a time).
async fn concurrent_ads_and_impressions_count_exactly(engine: Engine) {
    let (total, in_flight): (u64, usize) = match engine {
        Engine::Sqlite => (10_000, 64),
        _ => (1_000, 16),
    };
    let (api, stub) = api_with(engine, Behaviour::Xml).await;
    let api = Arc::new(api);
    let limit = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..2 * total {
        let (api, limit) = (Arc::clone(&api), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire().await.expect("semaphore");
            let path = if i % 2 == 0 { "/ad" } else { "/impression" };
            let reply = api.get(&format!("{path}?{}", query("hot", "9.1"))).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("request task");
    }
    assert_eq!(stub.hits() as u64, total);
    let expected = totals(total, total, 1.0);
    assert_eq!(stats(&api, "username=hot").await, expected);
    assert_eq!(stats(&api, "sdk=9.1").await, expected);
}
