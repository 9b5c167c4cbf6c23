//! A function binary answers every odd but possible API Gateway HTTP API event (a query holding
//! bytes a URI may not, a bad host, a body marked base64 that is not, no method, ...) with a
//! JSON response below 500, and lives on to answer the next one: `lambda_http` would panic on
//! each before the entry point repaired or rejected it.

use serde_json::{json, Value};
use std::time::Duration;
use tally_functions::routes::FALLBACK_FUNCTION;
use tally_local::lambda::container::{request_id, Container, Launch, Outcome, Output};
use tally_tests::bin_dir;
use tally_tests::events::read;

/// Each case: its name, what it changes in the fallback function's event, and whether the event
/// is repaired (it reaches the handler: 404 for its unknown path) rather than rejected (400).
type Case = (&'static str, fn(&mut Value), bool);

const CASES: &[Case] = &[
    (
        "query with URI-forbidden bytes",
        |e| e["rawQueryString"] = json!("q=\"<>{}|^`\\ x#y"),
        true,
    ),
    (
        "query with non-ASCII text",
        |e| e["rawQueryString"] = json!("name=é😀"),
        true,
    ),
    (
        "query with non-UTF-8 escapes",
        |e| e["rawQueryString"] = json!("a=%FF%FE&b=%C3"),
        false,
    ),
    (
        "query with bare percents",
        |e| e["rawQueryString"] = json!("a=%&b=%zz%4"),
        true,
    ),
    (
        "path without leading slash",
        |e| e["rawPath"] = json!("no/such"),
        true,
    ),
    (
        "path with a port-like start",
        |e| e["rawPath"] = json!(":99999"),
        true,
    ),
    (
        "path with space, hash and query",
        |e| e["rawPath"] = json!("/a b#c?d|é"),
        true,
    ),
    (
        "named stage with odd bytes",
        |e| e["requestContext"]["stage"] = json!("a b?#"),
        true,
    ),
    (
        "huge header",
        |e| e["headers"]["x-big"] = json!("a".repeat(60_000)),
        true,
    ),
    (
        "host with a space",
        |e| e["headers"]["host"] = json!("exa mple.com"),
        false,
    ),
    (
        "host with a bad port",
        |e| e["headers"]["host"] = json!("example.com:99999"),
        false,
    ),
    (
        "unclosed IPv6 host",
        |e| e["headers"]["host"] = json!("[::1"),
        false,
    ),
    (
        "empty x-forwarded-proto",
        |e| e["headers"]["x-forwarded-proto"] = json!(""),
        false,
    ),
    (
        "invalid base64 body",
        |e| {
            e["body"] = json!("not base64!");
            e["isBase64Encoded"] = json!(true);
        },
        false,
    ),
    (
        "empty method",
        |e| e["requestContext"]["http"]["method"] = json!(""),
        false,
    ),
    (
        "method with a space",
        |e| e["requestContext"]["http"]["method"] = json!("GE T"),
        false,
    ),
    (
        "header name with a space",
        |e| e["headers"]["bad name"] = json!("x"),
        false,
    ),
    (
        "header value with a newline",
        |e| e["headers"]["x-a"] = json!("a\nb"),
        false,
    ),
    (
        "no requestContext",
        |e| drop(e.as_object_mut().map(|o| o.remove("requestContext"))),
        false,
    ),
    ("not an object", |e| *e = json!(["GET", "/"]), false),
    (
        "query over 64 KiB",
        |e| e["rawQueryString"] = json!("a".repeat(70_000)),
        false,
    ),
];

/// The fallback function's launch: no store reachable (it needs none).
fn fallback_launch() -> Launch {
    Launch {
        name: FALLBACK_FUNCTION.into(),
        binary: bin_dir().join(FALLBACK_FUNCTION),
        memory_mib: 128,
        timeout: Duration::from_secs(10),
        env: vec![
            ("AWS_REGION".into(), "us-east-1".into()),
            ("DYNAMODB_ENDPOINT".into(), "http://127.0.0.1:9".into()),
        ],
        output: Output::Capture,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_events_get_json_answers_and_the_function_lives_on() {
    let launch = fallback_launch();
    let container = Container::start(&launch).await.expect("function starts");
    let base: Value = serde_json::from_str(&read(FALLBACK_FUNCTION)).expect("event");
    let good: Case = ("the unchanged event", |_| {}, true);
    for (name, change, repaired) in CASES.iter().chain([&good]) {
        let mut event = base.clone();
        change(&mut event);
        let outcome = container
            .invoke(
                request_id(),
                event.to_string().into(),
                launch.timeout,
                launch.timeout,
            )
            .await;
        let Some(Outcome::Response(body)) = outcome else {
            panic!("{name}: {outcome:?}\n{}", container.stop().await);
        };
        let resp: Value = serde_json::from_slice(&body).expect("response JSON");
        let answer: Value = serde_json::from_str(resp["body"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{name}: body not JSON ({e}): {resp}"));
        let expected = if *repaired { 404 } else { 400 };
        let status = resp["statusCode"].as_u64().unwrap_or(0);
        assert!(
            status == expected || (!repaired && status == 414),
            "{name}: {status} {answer}"
        );
        assert_eq!(answer["success"], false, "{name}: {answer}");
        assert!(container.is_alive(), "{name}: the function died");
    }
    container.stop().await;
}

/// An event holding a member 100,000 levels deep (objects, arrays; at the top, in a header) is
/// refused without a crash: the runtime's parser stops at its depth limit and reports an
/// invocation error, and the function answers the next event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_nested_a_hundred_thousand_levels_is_refused_and_the_function_lives_on() {
    let launch = fallback_launch();
    let container = Container::start(&launch).await.expect("function starts");
    let base = read(FALLBACK_FUNCTION);
    let levels = 100_000;
    for (open, close) in [("{\"a\":", "}"), ("[", "]")] {
        let deep = format!("{}1{}", open.repeat(levels), close.repeat(levels));
        for event in [
            base.replacen('{', &format!("{{\"deep\":{deep},"), 1),
            base.replacen(
                "\"headers\": {",
                &format!("\"headers\": {{\"x\":{deep},"),
                1,
            ),
        ] {
            assert!(event.len() > 2 * levels, "the deep member is in the event");
            let outcome = container
                .invoke(request_id(), event.into(), launch.timeout, launch.timeout)
                .await;
            match outcome {
                Some(Outcome::Error(_)) => {}
                Some(Outcome::Response(body)) => {
                    let resp: Value = serde_json::from_slice(&body).expect("response JSON");
                    assert!(resp["statusCode"].as_u64() < Some(500), "{resp}");
                }
                other => panic!("{other:?}\n{}", container.stop().await),
            }
            assert!(container.is_alive(), "the function died");
        }
    }
    let outcome = container
        .invoke(request_id(), base.into(), launch.timeout, launch.timeout)
        .await;
    assert!(matches!(outcome, Some(Outcome::Response(_))), "{outcome:?}");
    container.stop().await;
}
