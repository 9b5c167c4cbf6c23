//! Sample figures for the dashboard tests (HTTP, browser): a little of everything, written
//! through the stores, and a way to pick one section out of the page.

use serde_json::json;
use tally::ads::{AdParams, Event};
use tally::people::{Details, Person};
use tally::stats::CountedPath;
use tally::visits::VisitId;
use tally::AppState;

/// Writes the sample: paths `a/b` x3 and `<x>&y` x1; SDK `1.0` with 4 ad requests and 1
/// impression, SDK `2.0"` with 1 ad request; today `CLICK` x2 and `VIEW` x1; visitors `alice`
/// x2 and `bob` x1; three people, aged 30, 31 and unknown.
pub async fn seed(state: &AppState) {
    for (path, times) in [("a/b", 3), ("<x>&y", 1)] {
        let path = CountedPath::from_proxy(path).expect("path");
        for _ in 0..times {
            state
                .stats
                .store
                .increment(&path)
                .await
                .expect("count path");
        }
    }
    let ad = |sdk: &str| AdParams {
        username: "u".into(),
        sdk_version: sdk.into(),
    };
    for _ in 0..4 {
        state
            .ads
            .store
            .record(Event::AdRequest, &ad("1.0"))
            .await
            .expect("ad");
    }
    state
        .ads
        .store
        .record(Event::Impression, &ad("1.0"))
        .await
        .expect("impression");
    state
        .ads
        .store
        .record(Event::AdRequest, &ad("2.0\""))
        .await
        .expect("ad");
    let today = tally::date::format(tally::date::today());
    let at = format!("{today}T12:00:00Z");
    let body = json!({"userId": "u", "sessionId": "s", "actions": [
        {"time": at, "type": "CLICK"}, {"time": at, "type": "CLICK"}, {"time": at, "type": "VIEW"},
    ]});
    crate::record_log(state, &body).await;
    for (id, times) in [("alice", 2), ("bob", 1)] {
        let id = VisitId::parse("id", id).expect("id");
        for _ in 0..times {
            state.visits.store.increment(&id).await.expect("visit");
        }
    }
    for (id, age) in [(1, Some(30)), (2, Some(31)), (3, None)] {
        let person = Person {
            id,
            details: Details {
                first: Some(format!("P{id}")),
                last: None,
                age,
                github: None,
                graduated: None,
            },
        };
        state.people.store.upsert(&person).await.expect("person");
    }
}

/// The `<section id="{id}" ...>...</section>` of a page (empty when absent).
pub fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or(html.len());
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// Asserts that every section of a page shows the sample of `seed`.
pub fn assert_shows_seed(html: &str) {
    for id in ["paths", "sdks", "daily", "visitors", "people"] {
        assert!(
            section(html, id).contains("data-state=\"ok\""),
            "section {id} is not drawn: {}",
            section(html, id)
        );
        assert!(
            section(html, id).contains("<svg"),
            "section {id} has no chart"
        );
    }
    let paths = section(html, "paths");
    assert!(paths.contains("a/b") && paths.contains("data-value=\"3\""));
    assert!(paths.contains("&lt;x&gt;&amp;y") && !paths.contains("<x>"));
    let sdks = section(html, "sdks");
    assert!(sdks.contains("4 req, 1 imp, fill 25.0%"), "{sdks}");
    // As served, or as a browser serialises the parsed text node.
    assert!(
        sdks.contains("2.0&quot;<") || sdks.contains("2.0\"<"),
        "{sdks}"
    );
    let daily = section(html, "daily");
    assert!(
        daily.contains("data-series=\"CLICK\" data-value=\"2\""),
        "{daily}"
    );
    assert!(daily.contains("data-series=\"VIEW\" data-value=\"1\""));
    let visitors = section(html, "visitors");
    assert!(visitors.contains("alice") && visitors.contains("data-value=\"2\""));
    let people = section(html, "people");
    assert!(people.contains("data-total=\"3\""), "{people}");
    assert!(people.contains("30–39") && people.contains("no age or date"));
}
