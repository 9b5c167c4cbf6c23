//! Time series over HTTP (contract section F), on both engines and through Lambda mode: every
//! bucket of the range present, zeros filled, counts in the hour and day they were made.

use serde_json::{json, Value};
use tally_tests::{assert_error, Api, Engine};

/// The `count`s of a series answer, in order.
fn counts(body: &Value) -> Vec<u64> {
    body["series"]
        .as_array()
        .expect("a series")
        .iter()
        .map(|bucket| bucket["count"].as_u64().expect("a count"))
        .collect()
}

async fn a_counter_s_counts_are_in_its_hour_and_its_day(engine: Engine) {
    let api = Api::on(engine).await;
    for _ in 0..3 {
        api.post("/counters/walker").await;
    }
    let form = [("id", "walker")];
    api.send(api.client.post(api.url("/form")).form(&form))
        .await;
    let hours = api.get("/counters/walker/series?interval=hour").await;
    assert_eq!(hours.status, 200, "{}", hours.text());
    let body = hours.json();
    assert_eq!(
        (body["id"].as_str(), body["interval"].as_str()),
        (Some("walker"), Some("hour"))
    );
    let hourly = counts(&body);
    assert_eq!(hourly.len(), 49, "48 hours before now, and now");
    assert_eq!(hourly.iter().sum::<u64>(), 4);
    // Counted within the last two hours (the test may cross an hour).
    assert_eq!(hourly[47] + hourly[48], 4);
    let start = body["series"][48]["start"].as_str().expect("start");
    assert!(start.ends_with(":00:00Z") && start.len() == 20, "{start}");
    assert_eq!(body["from"], body["series"][0]["start"]);
    let days = api.get("/counters/walker/series").await.json();
    assert_eq!(days["interval"], "day");
    let daily = counts(&days);
    assert_eq!(daily.len(), 31, "30 days before now, and today");
    assert_eq!(daily.iter().sum::<u64>(), 4, "the days sum to the count");
    assert!(days["series"][30]["start"]
        .as_str()
        .is_some_and(|s| s.ends_with("T00:00:00Z")));
}

async fn a_past_range_is_every_bucket_and_zeros(engine: Engine) {
    let api = Api::on(engine).await;
    api.post("/counters/old").await;
    let reply = api
        .get("/counters/old/series?from=2026-01-01&to=2026-01-07")
        .await
        .json();
    assert_eq!(counts(&reply), vec![0; 7]);
    assert_eq!(reply["from"], "2026-01-01T00:00:00Z");
    assert_eq!(reply["to"], "2026-01-08T00:00:00Z");
    assert_eq!(
        reply["series"][6],
        json!({"start": "2026-01-07T00:00:00Z", "count": 0})
    );
}

async fn a_series_of_a_counter_never_counted_is_404_and_bad_ranges_are_400(engine: Engine) {
    let api = Api::on(engine).await;
    assert_error(&api.get("/counters/nobody/series").await, 404, "id: nobody");
    api.post("/counters/ranged").await;
    for (query, field) in [
        ("interval=week", "interval: "),
        ("from=yesterday", "from: "),
        ("to=2026-02-30", "to: "),
        (
            "from=2026-12-02&to=2026-12-01",
            "from: must not be after to",
        ),
        ("from=2020-01-01&to=2026-01-01", "from: the range holds"),
        (
            "interval=hour&from=2020-01-01&to=2020-01-02",
            "from: hourly buckets",
        ),
    ] {
        let reply = api.get(&format!("/counters/ranged/series?{query}")).await;
        assert_error(&reply, 400, field);
    }
}

async fn a_path_s_requests_are_in_its_series_as_counted(engine: Engine) {
    let api = Api::on(engine).await;
    for path in ["/api/docs/a", "/api/docs/a/", "/api/docs%2Fa"] {
        assert_eq!(api.get(path).await.status, 200, "{path}");
    }
    let reply = api.get("/stats/series?path=docs/a&interval=hour").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["path"], "docs/a");
    assert_eq!(counts(&body).iter().sum::<u64>(), 3);
    let daily = api.get("/stats/series?path=docs%2Fa%2F").await.json();
    assert_eq!(
        counts(&daily).iter().sum::<u64>(),
        3,
        "trailing slashes as counted"
    );
    assert_error(
        &api.get("/stats/series?path=docs/b").await,
        404,
        "path: docs/b",
    );
    assert_error(&api.get("/stats/series").await, 400, "path: is required");
    let long = "x".repeat(1025);
    assert_error(
        &api.get(&format!("/stats/series?path={long}")).await,
        400,
        "path: ",
    );
    assert_error(
        &api.get("/stats/series?path=docs/a&to=x").await,
        400,
        "to: ",
    );
}

on_every_engine!(
    a_counter_s_counts_are_in_its_hour_and_its_day,
    a_past_range_is_every_bucket_and_zeros,
    a_series_of_a_counter_never_counted_is_404_and_bad_ranges_are_400,
    a_path_s_requests_are_in_its_series_as_counted;
    lambda:
    a_counter_s_counts_are_in_its_hour_and_its_day,
    a_series_of_a_counter_never_counted_is_404_and_bad_ranges_are_400,
    a_path_s_requests_are_in_its_series_as_counted,
);
