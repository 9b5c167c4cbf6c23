//! Request parsing never panics and never answers a 5xx: random methods, paths, query strings,
//! content types and bodies (JSON up to 100,000 levels deep among them) aimed at every route,
//! routed in-process through the local API on the embedded store; every error is the JSON
//! envelope. A run takes a few seconds; its seed is printed, `TALLY_FUZZ_SEED` replays it and
//! `TALLY_FUZZ_CASES` sizes it.

use fastrand::Rng;
use lambda_http::http::request::Parts;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tally_functions::routes::ROUTES;
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::{Api, Engine};

const DEFAULT_CASES: u64 = 8_000;

// The tables below are kept dense: one entry a line would make them a page each.

/// What random strings are made of: the edge cases of every parser in the API.
#[rustfmt::skip]
const FRAGMENTS: &[&str] = &[
    "", " ", "a", "Z", "0", "1", "-1", "3", "1.5", "1e3", "0x10", "10001", "+7",
    "99999999999999999999", "9007199254740993", "%", "%zz", "%00", "%ff", "%C3%A9", "%E2%80%AE",
    "%2F", "%3F", "%2e%2e", "é", "日本", "🦀", "\u{0}", "\u{7f}", "\u{85}", "\u{feff}", "\t",
    "\r\n", "..", "/", "//", "?", "#", "&", "=", "+", ";", "null", "true", "[]", "{}", "\"", "'",
    "\\", "<b>", "2018-10-18T21:37:28Z", "2018-10-18t21:37:28+25:00", "2018-10-18 21:37:28Z",
    "1970-01-01T00:00:00-00:00", "9999-12-31T23:59:60Z", "6/24/40", "13/45/99", "2/30/2020",
    "2024-02-29", "eyJ0IjoxfQ", "alice", "Robiner", "sdk#1#0", "user#x", "application/json",
];

/// Query parameter names some route reads.
#[rustfmt::skip]
const PARAMS: &[&str] = &[
    "limit", "cursor", "username", "sdk", "sdk_version", "session_id", "platform", "country_code",
    "userId", "type", "startTime", "endTime", "id", "question",
];

/// Body fields some route reads.
#[rustfmt::skip]
const FIELDS: &[&str] = &[
    "ID", "First", "Last", "Age", "GithubAcct", "Date of 3rd Grade Graduation", "userId",
    "sessionId", "actions", "time", "type", "properties", "id", "question",
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

#[rustfmt::skip]
const CONTENT_TYPES: &[&str] = &[
    "application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
    "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x",
    "application/jsonx", ";", "",
];

fn random_string(rng: &mut Rng) -> String {
    match rng.u8(0..20) {
        0 => "x".repeat(rng.choice([129, 257, 1025, 5000]).unwrap_or(1)),
        1 => (0..rng.usize(1..8)).map(|_| rng.char(..)).collect(),
        _ => (0..rng.usize(0..4))
            .filter_map(|_| rng.choice(FRAGMENTS).copied())
            .collect(),
    }
}

/// Percent-encodes what a URI cannot hold, leaving `%` as it is (so `%zz` stays malformed).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'\'' | b'(' | b')' | b'*' | b'+' | b','
            | b';' | b':' | b'@' | b'%' | b'=' | b'&' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A path aimed at a random route, its parameters random; now and then no route at all.
fn random_path(rng: &mut Rng) -> (&'static str, String) {
    let Some(route) = rng.choice(ROUTES).filter(|_| rng.u8(0..10) > 0) else {
        return ("GET", format!("/{}", encode(&random_string(rng))));
    };
    let mut path = String::new();
    for part in route.path.split('/').skip(1) {
        path.push('/');
        if part.ends_with("+}") {
            let segments: Vec<String> = (0..rng.usize(0..4))
                .map(|_| encode(&random_string(rng)))
                .collect();
            path.push_str(&segments.join("/"));
        } else if part.starts_with('{') {
            path.push_str(&encode(&random_string(rng)));
        } else {
            path.push_str(part);
        }
    }
    if rng.bool() {
        path.push('/');
    }
    (route.method, path)
}

fn random_query(rng: &mut Rng) -> String {
    let pairs: Vec<String> = (0..rng.usize(0..7))
        .map(|_| {
            let name = match rng.choice(PARAMS).filter(|_| rng.u8(0..5) > 0) {
                Some(name) => name.to_string(),
                None => random_string(rng),
            };
            format!("{}={}", encode(&name), encode(&random_string(rng)))
        })
        .collect();
    pairs.join("&")
}

fn random_json(rng: &mut Rng, depth: u8) -> Value {
    match rng.u8(0..if depth == 0 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.bool()),
        2 => json!(rng
            .choice([0, -1, 150, 151, 1 << 53, i64::MAX])
            .unwrap_or(0)),
        3 => json!(rng.f64() * 1e3 - 5e2),
        4 => json!(random_string(rng)),
        5 | 6 => {
            let mut object = Map::new();
            for _ in 0..rng.usize(0..6) {
                let key = match rng.choice(FIELDS).filter(|_| rng.u8(0..6) > 0) {
                    Some(key) => key.to_string(),
                    None => random_string(rng),
                };
                object.insert(key, random_json(rng, depth - 1));
            }
            Value::Object(object)
        }
        _ => Value::Array(
            (0..rng.usize(0..4))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
    }
}

/// A JSON value nesting `levels` levels of objects or arrays, as text (a `Value` this deep
/// would overflow the stack when dropped).
fn deep_json(rng: &mut Rng, levels: usize) -> String {
    let (open, close) = if rng.bool() {
        ("{\"a\":", "}")
    } else {
        ("[", "]")
    };
    format!("{}1{}", open.repeat(levels), close.repeat(levels))
}

/// A body with a value 1 to 100,000 levels deep where a route reads a field or properties.
fn deep_body(rng: &mut Rng) -> Vec<u8> {
    let levels = rng.choice([1, 31, 32, 33, 200, 100_000]).unwrap_or(1);
    let deep = deep_json(rng, levels);
    let field = rng.choice(FIELDS).copied().unwrap_or("Last");
    match rng.u8(0..3) {
        0 => format!(r#"{{"{field}":{deep}}}"#),
        1 => format!(
            r#"{{"userId":"u","sessionId":"s","actions":[{{"time":"2024-01-01T00:00:00Z","type":"T","properties":{{"p":{deep}}}}}]}}"#
        ),
        _ => deep,
    }
    .into_bytes()
}

fn random_body(rng: &mut Rng) -> Vec<u8> {
    match rng.u8(0..9) {
        8 => deep_body(rng),
        0 => Vec::new(),
        1 => random_string(rng).into_bytes(),
        2 => (0..rng.usize(1..64)).map(|_| rng.u8(..)).collect(),
        3 => format!(
            "id={}&question={}",
            encode(&random_string(rng)),
            random_string(rng)
        )
        .into_bytes(),
        4 => "[".repeat(rng.usize(100..5000)).into_bytes(),
        5 => {
            let mut text = random_json(rng, 4).to_string().into_bytes();
            text.truncate(rng.usize(0..=text.len()));
            text
        }
        _ => random_json(rng, 4).to_string().into_bytes(),
    }
}

/// One random request; `None` when the random URI is not one HTTP can carry.
fn random_request(rng: &mut Rng, host: &str) -> Option<(Parts, Vec<u8>)> {
    let (method, path) = random_path(rng);
    let method = match rng.choice(METHODS).filter(|_| rng.u8(0..5) == 0) {
        Some(other) => other,
        None => method,
    };
    let query = random_query(rng);
    let uri = if query.is_empty() && rng.bool() {
        path
    } else {
        format!("{path}?{query}")
    };
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", host);
    if let Some(content_type) = rng.choice(CONTENT_TYPES).filter(|_| rng.u8(0..4) > 0) {
        builder = builder.header("content-type", *content_type);
    }
    if rng.u8(0..10) == 0 {
        builder = builder.header("x-forwarded-proto", encode(&random_string(rng)));
    }
    let (parts, ()) = builder.body(()).ok()?.into_parts();
    Some((parts, random_body(rng)))
}

/// The seed of this run: `TALLY_FUZZ_SEED`, or a new one.
fn seed() -> u64 {
    std::env::var("TALLY_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..))
}

fn cases() -> u64 {
    std::env::var("TALLY_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_requests_to_every_route_never_panic_nor_answer_5xx() {
    let seed = seed();
    eprintln!("fuzz seed {seed} (TALLY_FUZZ_SEED={seed} replays this run)");
    let mut rng = Rng::with_seed(seed);
    let stub = StubServer::start(Behaviour::Xml).await;
    // A real server on the same store, so `POST /test/{n}` has an API to call back.
    let api = Api::on_with(Engine::Sqlite, |state| {
        state.ads.ad_server = stub.ad_server(Duration::from_secs(3))
    })
    .await;
    let host = api.base.trim_start_matches("http://").to_string();
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    for case in 0..cases() {
        let Some((parts, body)) = random_request(&mut rng, &host) else {
            continue;
        };
        let what = format!(
            "seed {seed} case {case}: {} {} {:?} body {:?}",
            parts.method,
            parts.uri,
            parts.headers.get("content-type"),
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
        let event = tally_local::server::event(parts, body);
        let resp = tokio::spawn(tally_local::server::route(Arc::clone(&api.state), event))
            .await
            .unwrap_or_else(|e| panic!("{what}: panicked: {e}"));
        assert_answer(&what, &resp);
        *statuses.entry(resp.status().as_u16()).or_default() += 1;
    }
    eprintln!("answers by status: {statuses:?}");
    let sent: u64 = statuses.values().sum();
    assert!(
        sent * 10 >= cases() * 9,
        "only {sent} requests were valid HTTP"
    );
}

/// No 5xx; an error is the JSON envelope.
fn assert_answer(what: &str, resp: &tally::http::response::Response) {
    let status = resp.status().as_u16();
    let body = String::from_utf8_lossy(resp.body().as_ref());
    assert!(status < 500, "{what}: {status} {body}");
    if status >= 400 {
        let envelope: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{what}: {status} not JSON ({e}): {body}"));
        assert_eq!(envelope["success"], false, "{what}: {body}");
        assert!(envelope["message"].is_string(), "{what}: {body}");
    }
}
