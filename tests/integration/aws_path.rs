//! The request path as it is in AWS (issue 17): each finding checked in-process, through the
//! local API, and on the Lambda path, where each real function binary gets the payload 2.0
//! event API Gateway builds (`tally_tests::lambda_call`). Both run on the same fresh tables of
//! the test DynamoDB server.

use serde_json::json;
use std::time::Duration;
use tally::config::TableNames;
use tally::people::age::AgeGroup;
use tally_tests::lambda_call::{call, call_within, function_env, LambdaRequest};
use tally_tests::slow_proxy::SlowProxy;
use tally_tests::{assert_error, dynamodb_endpoint, dynamodb_state_on, Api, DynamoTables, Reply};

/// The local API and the functions' environment, on the same fresh tables.
async fn both_paths() -> (Api, Vec<(&'static str, String)>) {
    let tables = DynamoTables::create().await;
    let env = function_env(&tables);
    (Api::serve(tables.state()).await, env)
}

/// Sends `req` on the Lambda path to the function API Gateway would pick.
async fn lambda(req: &LambdaRequest, env: &[(&str, String)]) -> Reply {
    call(req.function(), req, env).await.reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2_mib_body_is_413_and_counts_nothing_on_both_paths() {
    let (api, env) = both_paths().await;
    let big = vec![b'a'; 2 * 1024 * 1024];
    let local = api
        .send(api.client.post(api.url("/counters/big")).body(big.clone()))
        .await;
    assert_error(&local, 413, "1 MiB");
    let req = LambdaRequest::new("POST", "/counters/big").body(big);
    assert_eq!(req.function(), "visits-increment");
    assert_error(&lambda(&req, &env).await, 413, "1 MiB");
    assert_error(&api.get("/counters/big").await, 404, "never been counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trailing_slash_paths_reaching_the_fallback_answer_as_their_route() {
    let (api, mut env) = both_paths().await;
    assert_eq!(api.post("/counters/seen").await.status, 200);
    env.push(("TALLY_SELF_URL", api.base.clone()));
    let stats = LambdaRequest::new("GET", "/stats/");
    let reply = call("fallback", &stats, &env).await.reply;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.json().is_array());
    // `$default` has no IAM authorization: the self test is sent on to its IAM-only route.
    let selftest = LambdaRequest::new("POST", "/test/2/");
    let reply = call("fallback", &selftest, &env).await.reply;
    assert_eq!(reply.status, 308, "{}", reply.text());
    assert_eq!(reply.header("location"), Some("/test/2"));
    assert!(reply.json()["message"].as_str().unwrap().contains("IAM"));
    assert_eq!(
        api.get("/stats").await.json(),
        json!([]),
        "nothing was sent"
    );
    let wrong = call("fallback", &LambdaRequest::new("GET", "/test/2/"), &env).await;
    assert_error(&wrong.reply, 405, "GET");
    // Other near misses are 404 on both paths, whichever function API Gateway picks.
    let near_miss = LambdaRequest::new("POST", "/counters/seen/");
    assert_eq!(near_miss.function(), "fallback");
    assert_error(&lambda(&near_miss, &env).await, 404, "no route");
    assert_error(&api.post("/counters/seen/").await, 404, "no route");
    assert_eq!(api.get("/stats/").await.status, 200);
    assert_eq!(api.get("/counters/seen").await.json()["count"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counted_path_is_the_decoded_path_on_both_paths() {
    let (api, env) = both_paths().await;
    let first = api.get("/api/a%2Fb").await;
    assert_eq!(first.json(), json!({"path": "a/b", "count": 1}));
    let second = api.get("/api/a/b/").await;
    assert_eq!(second.json(), json!({"path": "a/b", "count": 2}));
    let question = api.get("/api/a%3Fb").await;
    assert_eq!(question.json(), json!({"path": "a?b", "count": 1}));
    let req = LambdaRequest::new("GET", "/api/a%3Fb?x=1");
    let reply = lambda(&req, &env).await;
    assert_eq!(
        reply.json(),
        json!({"path": "a?b", "count": 2}),
        "{}",
        reply.text()
    );
    let reply = lambda(&LambdaRequest::new("GET", "/api/a%2Fb/"), &env).await;
    assert_eq!(reply.json(), json!({"path": "a/b", "count": 3}));
    // 1,024 bytes once decoded, though 3,072 on the wire; one more is 414.
    let long = api.get(&format!("/api/{}", "%41".repeat(1024))).await;
    assert_eq!(long.json()["path"], "A".repeat(1024));
    let too_long = api.get(&format!("/api/{}", "%41".repeat(1025))).await;
    assert_error(&too_long, 414, "path: ");
    let too_long = LambdaRequest::new("GET", &format!("/api/{}", "%41".repeat(1025)));
    assert_error(&lambda(&too_long, &env).await, 414, "path: ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_too_long_in_bytes_is_400_before_anything_is_counted_on_both_paths() {
    let (api, env) = both_paths().await;
    // 255 characters (the contract allows 256), but `sdk#<version>#<k>` is over 1,024 bytes.
    let version = "%F0%9F%98%80".repeat(255);
    let query = format!("sdk_version={version}&session_id=s&platform=p&username=u&country_code=c");
    let local = api.get(&format!("/impression?{query}")).await;
    assert_error(&local, 400, "sdk_version: is too long");
    let req = LambdaRequest::new("GET", &format!("/impression?{query}"));
    assert_error(&lambda(&req, &env).await, 400, "sdk_version: is too long");
    let ad = LambdaRequest::new("GET", &format!("/ad?{query}"));
    assert_error(&lambda(&ad, &env).await, 400, "sdk_version: is too long");
    assert_error(&api.get("/statistics?username=u").await, 404, "not found");
    let stats = api.get(&format!("/statistics?sdk={version}")).await;
    assert_error(&stats, 400, "sdk: is too long");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_store_error_is_a_500_without_retry_after_on_both_paths() {
    let tables = DynamoTables::create().await;
    let mut env = function_env(&tables);
    env.retain(|(name, _)| *name != "VISITS_TABLE");
    env.push(("VISITS_TABLE", "no-such-table".to_string()));
    let names = TableNames {
        visits: "no-such-table".into(),
        ..tables.names.clone()
    };
    let api = Api::serve(dynamodb_state_on(tables.client.clone(), names)).await;
    for reply in [
        api.get("/counters/x").await,
        lambda(&LambdaRequest::new("GET", "/counters/x"), &env).await,
    ] {
        assert_error(&reply, 500, "internal error");
        assert_eq!(reply.header("retry-after"), None);
    }
}

/// `n` actions of about 16 KiB of `properties` each, mostly quotes (which Lambda's response
/// escapes once more), posted for user `u` in bodies under 1 MiB.
async fn post_heavy_actions(api: &Api, n: usize) {
    let quotes = vec![""; 5400];
    let mut sent = 0;
    while sent < n {
        let batch = (n - sent).min(55);
        let actions: Vec<serde_json::Value> = (sent..sent + batch)
            .map(|i| {
                let time = format!("2026-01-01T00:{:02}:{:02}Z", i / 60, i % 60);
                json!({"time": time, "type": "VIEW", "properties": {"q": quotes}})
            })
            .collect();
        let body = json!({"userId": "u", "sessionId": "s", "actions": actions});
        let reply = api.post_json("/log", &body).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        sent += batch;
    }
}

/// What a body weighs in a Lambda response, where it is a JSON string.
fn escaped_bytes(body: &[u8]) -> usize {
    body.len() + body.iter().filter(|b| matches!(b, b'"' | b'\\')).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_page_stays_under_6_mb_with_its_cursor_at_the_cut_on_both_paths() {
    let (api, env) = both_paths().await;
    post_heavy_actions(&api, 300).await;
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let reply = api
            .get(&format!("/log?userId=u&limit=1000&cursor={cursor}"))
            .await;
        assert_eq!(reply.status, 200);
        assert!(
            escaped_bytes(&reply.body) < 6_000_000,
            "{}",
            reply.body.len()
        );
        let page = reply.json();
        let times: Vec<&str> = page["result"]
            .as_array()
            .expect("result")
            .iter()
            .map(|e| e["time"].as_str().expect("time"))
            .collect();
        for time in times {
            let expected = format!("2026-01-01T00:{:02}:{:02}Z", seen / 60, seen % 60);
            assert_eq!(time, expected);
            seen += 1;
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, 300);
    let req = LambdaRequest::new("GET", "/log?userId=u&limit=1000");
    let answer = call(req.function(), &req, &env).await;
    assert_eq!(answer.reply.status, 200, "{}", answer.invocation.output);
    assert!(answer.invocation.response_bytes < 6_000_000);
    let page = answer.reply.json();
    assert!(page["nextCursor"].is_string());
    assert!(page["result"].as_array().expect("result").len() < 300);
}

/// The functions' environment with DynamoDB reached through `endpoint`.
fn through(env: &[(&'static str, String)], endpoint: &str) -> Vec<(&'static str, String)> {
    let mut env: Vec<_> = env
        .iter()
        .filter(|(name, _)| *name != "DYNAMODB_ENDPOINT")
        .cloned()
        .collect();
    env.push(("DYNAMODB_ENDPOINT", endpoint.to_string()));
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_conditional_put_is_awaited_not_resent_on_both_paths() {
    let tables = DynamoTables::create().await;
    let env = function_env(&tables);
    let slow = Duration::from_millis(2500);
    let proxy = SlowProxy::start(&dynamodb_endpoint(), "PutItem", slow).await;
    let client = tally::store::dynamodb::client(&tally::config::Aws {
        dynamodb_endpoint: Some(proxy.endpoint.clone()),
        ..Default::default()
    });
    let api = Api::serve(dynamodb_state_on(client, tables.names.clone())).await;
    let reply = api.post_json("/people", &json!({"First": "Slow"})).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let proxy = SlowProxy::start(&dynamodb_endpoint(), "PutItem", slow).await;
    let req = LambdaRequest::new("POST", "/people")
        .header("content-type", "application/json")
        .body(json!({"First": "Slower"}).to_string());
    let reply = lambda(&req, &through(&env, &proxy.endpoint)).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let listed = api.get("/people").await.json();
    let firsts: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["First"].as_str().expect("First"))
        .collect();
    assert_eq!(firsts, ["Slow", "Slower"], "each person stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_ends_in_409_registers_no_group_on_both_paths() {
    let tables = DynamoTables::create().await;
    let env = function_env(&tables);
    let client = tables.client.clone();
    let api = Api::serve(dynamodb_state_on(client, tables.names.clone())).await;
    let create = |body: serde_json::Value| {
        LambdaRequest::new("POST", "/people")
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    let first = lambda(&create(json!({"ID": 5, "First": "Ann", "Age": 30})), &env).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let taken = lambda(&create(json!({"ID": 5, "First": "Bo", "Age": 40})), &env).await;
    assert_error(&taken, 409, "ID: 5");
    let taken = api
        .post_json("/people", &json!({"ID": 5, "First": "Cy", "Age": 50}))
        .await;
    assert_error(&taken, 409, "ID: 5");
    let retry = api
        .post_json("/people", &json!({"ID": 5, "First": "Ann", "Age": 30}))
        .await;
    assert_error(&retry, 409, "ID: 5");
    let groups = api.state.people.store.age_groups().await.expect("groups");
    assert_eq!(groups, [AgeGroup::Stated(30)]);
}

/// A DynamoDB endpoint that accepts connections and never answers.
async fn frozen_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    endpoint
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_answers_503_before_its_deadline_on_both_paths() {
    let tables = DynamoTables::create().await;
    let env = function_env(&tables);
    let frozen = frozen_endpoint().await;
    let client = tally::store::dynamodb::client(&tally::config::Aws {
        dynamodb_endpoint: Some(frozen.clone()),
        ..Default::default()
    });
    let state = std::sync::Arc::new(dynamodb_state_on(client, tables.names.clone()));
    let handler = tally_functions::dispatch::handler("visits-increment").expect("handler");
    let req = tally_local::server::event(
        lambda_http::http::Request::post("/counters/x")
            .body(())
            .expect("request")
            .into_parts()
            .0,
        Vec::new(),
    );
    let mut params = std::collections::HashMap::new();
    params.insert("id".to_string(), "x".to_string());
    let req = lambda_http::RequestExt::with_path_parameters(req, params);
    let limit = Duration::from_secs(2);
    let started = std::time::Instant::now();
    let resp = tally_functions::invoke::invoke(move |req| handler(&state, req), req, limit).await;
    assert!(started.elapsed() < limit, "{:?}", started.elapsed());
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    let req = LambdaRequest::new("POST", "/counters/x");
    let started = std::time::Instant::now();
    let answer = call_within("visits-increment", &req, &through(&env, &frozen), limit).await;
    assert_error(&answer.reply, 503, "retry");
    assert_eq!(answer.reply.header("retry-after"), Some("1"));
    assert!(
        started.elapsed() < limit + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_mode_serves_the_findings_through_its_gateway() {
    let api = Api::on(tally_tests::Engine::Lambda).await;
    let big = vec![b'a'; 2 * 1024 * 1024];
    let reply = api
        .send(api.client.post(api.url("/counters/big")).body(big))
        .await;
    assert_error(&reply, 413, "1 MiB");
    assert_error(&api.get("/counters/big").await, 404, "never been counted");
    let question = api.get("/api/a%3Fb").await;
    assert_eq!(question.json(), json!({"path": "a?b", "count": 1}));
    let slash = api.get("/api/a%2Fb/").await;
    assert_eq!(slash.json(), json!({"path": "a/b", "count": 1}));
    assert_eq!(api.get("/stats/").await.status, 200);
    assert_error(&api.post("/counters/x/").await, 404, "");
    let version = "%F0%9F%98%80".repeat(255);
    let query = format!("sdk_version={version}&session_id=s&platform=p&username=u&country_code=c");
    let reply = api.get(&format!("/impression?{query}")).await;
    assert_error(&reply, 400, "sdk_version: is too long");
}
