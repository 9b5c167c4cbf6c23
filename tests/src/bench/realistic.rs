//! Realistic data for the cost table and the per-route budget tests: each writing route's
//! request on the largest items the contract allows (`../shared/API.md`: ids of 128 code points
//! and names of 256 characters, in 4-byte UTF-8; ad parameters of 1,017 bytes; a 1,024-byte
//! path; a 1,000-action log filling the 1 MiB body; the largest person directory), after the requests
//! that make its items exist, and the data the reading routes then read.
//! Where the contract's longest input cannot be sent whole, the note at the scenario says why.

use crate::events::EventRequest;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::json;

/// A character of 4 UTF-8 bytes (U+1D11E), so that a length in characters is the most bytes.
const WIDE: &str = "\u{1D11E}";

/// A writing route's realistic request, and the requests that come before it.
pub struct Scenario {
    pub function: &'static str,
    /// Sent first, unmetered: what makes the request's items exist (an update, not a creation).
    pub setup: Vec<EventRequest>,
    pub request: EventRequest,
}

fn wide(chars: usize) -> String {
    WIDE.repeat(chars)
}

fn encoded(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

fn request(
    method: &str,
    path_and_query: &str,
    content_type: Option<&str>,
    body: String,
) -> EventRequest {
    EventRequest {
        function: "",
        method: method.into(),
        path_and_query: path_and_query.into(),
        content_type: content_type.map(str::to_string),
        body,
        idempotency_key: None,
    }
}

/// Sent twice: the first creates the item, the second (metered) updates it.
fn again(function: &'static str, request: EventRequest) -> Scenario {
    Scenario {
        function,
        setup: vec![request.clone()],
        request,
    }
}

/// Sent on fresh tables.
fn fresh(function: &'static str, request: EventRequest) -> Scenario {
    Scenario {
        function,
        setup: Vec::new(),
        request,
    }
}

/// Every writing route's scenario.
pub fn scenarios() -> Vec<Scenario> {
    let id = encoded(&wide(128));
    let form = format!("id={id}&question={}", encoded(&wide(256)));
    let path = format!("/api/{}", "p".repeat(1024));
    // Ad parameters of 1,017 bytes: the most a stored key (1,024 bytes with its 7-byte prefix)
    // takes (256 characters of 4 bytes would be a 400); each route its own user and SDK version.
    let ads = |last: char| {
        let param = encoded(&format!("{}{last}", wide(254)));
        format!("sdk_version={param}&session_id={param}&platform={param}&username={param}&country_code={param}")
    };
    vec![
        again(
            "visits-increment",
            EventRequest::plain("POST", &format!("/counters/{id}")),
        ),
        again(
            "visits-form",
            request(
                "POST",
                "/form",
                Some("application/x-www-form-urlencoded"),
                form,
            ),
        ),
        again("stats-count", EventRequest::plain("GET", &path)),
        // On fresh tables: the SDK shard item the request picks is new, so it also enters
        // `BySdk` (its worst case, and the same every run).
        fresh(
            "ads-ad",
            EventRequest::plain("GET", &format!("/ad?{}", ads('a'))),
        ),
        fresh(
            "ads-impression",
            EventRequest::plain("GET", &format!("/impression?{}", ads('i'))),
        ),
        fresh(
            "logs-record",
            request("POST", "/log", Some("application/json"), largest_log()),
        ),
        Scenario {
            function: "people-create",
            setup: largest_directory(),
            request: request(
                "POST",
                "/people",
                Some("application/json"),
                person(Some(150), None, 256).to_string(),
            ),
        },
    ]
}

/// The scenario of `function`, if it writes.
pub fn scenario(function: &str) -> Option<Scenario> {
    scenarios().into_iter().find(|s| s.function == function)
}

/// What the reading routes' events read on realistic data: every event's items, every
/// scenario's setup (not its request, measured after: a second log would be a retry), 100 more
/// visit counters and paths, and a 1,000-action log of the events' user.
pub fn world() -> Vec<EventRequest> {
    let mut calls = EventRequest::all();
    calls.extend(scenarios().into_iter().flat_map(|s| s.setup));
    for n in 0..100 {
        calls.push(EventRequest::plain(
            "POST",
            &format!("/counters/visitor-{n}"),
        ));
        calls.push(EventRequest::plain("GET", &format!("/api/products/{n}")));
    }
    let actions: Vec<_> = (0..1000)
        .map(|n| json!({"time": format!("2018-10-20T{:02}:{:02}:00Z", n / 60 % 24, n % 60), "type": "CLICK", "properties": {"n": n}}))
        .collect();
    let log = json!({"userId": "ABC123XYZ", "sessionId": "world", "actions": actions});
    calls.push(request(
        "POST",
        "/log",
        Some("application/json"),
        log.to_string(),
    ));
    calls
}

/// A person; names and account of `chars` wide characters.
fn person(age: Option<u8>, graduated: Option<i32>, chars: usize) -> serde_json::Value {
    json!({
        "First": wide(chars), "Last": wide(chars), "Age": age, "GithubAcct": wide(chars),
        "Date of 3rd Grade Graduation": graduated.map(|year| format!("{year}-01-01")),
    })
}

/// The largest directory: a person in every age group the contract allows (ages 0 to 150, a
/// graduation year from 1900 to this year without an age, and neither).
pub fn largest_directory() -> Vec<EventRequest> {
    let this_year = time::OffsetDateTime::now_utc().year();
    let ages = (0..=150).map(|age| person(Some(age), None, 1));
    let years = (1900..=this_year).map(|year| person(None, Some(year), 1));
    ages.chain(years)
        .chain([person(None, None, 1)])
        .map(|p| request("POST", "/people", Some("application/json"), p.to_string()))
        .collect()
}

/// A log of 1,000 actions (the contract's most) in a body just under 1 MiB (its limit): ids of
/// a UUID's length, a 16-character type, properties filling the rest (about 950 bytes each);
/// three types, one day. (1,000 actions of 16 KiB would not fit the body; longer ids would make
/// it cost more than the 10,000 write units a request may, and it would be refused.)
pub fn largest_log() -> String {
    const BODY_LIMIT: usize = 1024 * 1024;
    let log = |filler: usize| {
        let actions: Vec<_> = (0..1000)
            .map(|n| {
                json!({"time": format!("2018-10-18T21:{:02}:{:02}-06:00", n / 60 % 60, n % 60),
                       "type": format!("{}{}", n % 3, "t".repeat(15)),
                       "properties": {"p": "x".repeat(filler)}})
            })
            .collect();
        let id = "0".repeat(36);
        json!({"userId": id, "sessionId": id, "actions": actions}).to_string()
    };
    let frame = log(0).len();
    log((BODY_LIMIT - frame) / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_log_has_1000_actions_just_under_1_mib() {
        let body = largest_log();
        assert!(body.len() <= 1024 * 1024, "{}", body.len());
        assert!(body.len() > 1024 * 1024 - 1000, "{}", body.len());
        let log: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(log["actions"].as_array().map(Vec::len), Some(1000));
    }
}
