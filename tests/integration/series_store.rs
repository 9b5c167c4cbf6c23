//! The series store's contract, run against both adapters (SQLite, moto, dynalite).

use futures_util::future::join_all;
use tally::series::{Counts, Hour, SeriesRange};
use tally_tests::{Engine, Stores};

/// 2026-12-07T13:00Z, as hours since the epoch.
const NOW: Hour = 20_794 * 24 + 13;

fn range(interval: &str, from: &str, to: &str) -> SeriesRange {
    SeriesRange::parse(Some(interval), Some(from), Some(to), NOW).expect("a range")
}

fn counts(pairs: &[(&str, u64)]) -> Counts {
    pairs.iter().map(|(f, n)| (f.to_string(), *n)).collect()
}

async fn adds_land_in_their_hour_and_day_and_reads_keep_to_the_range(engine: Engine) {
    let stores = Stores::on(engine).await;
    let series = &stores.state.series;
    let fields = [("impressions", 1), ("ad_requests", 2)];
    series.add("s", NOW, &fields).await.expect("add");
    series.add("s", NOW, &fields).await.expect("add");
    series
        .add("s", NOW - 1, &[("ad_requests", 5)])
        .await
        .expect("add");
    series
        .add("s", NOW - 24, &[("ad_requests", 7)])
        .await
        .expect("add");
    series
        .add("other", NOW, &[("ad_requests", 9)])
        .await
        .expect("add");
    let hours = series
        .read(
            "s",
            &range("hour", "2026-12-07T12:00:00Z", "2026-12-07T13:59:59Z"),
        )
        .await
        .expect("hours");
    assert_eq!(
        hours,
        vec![
            (NOW - 1, counts(&[("ad_requests", 5)])),
            (NOW, counts(&[("ad_requests", 4), ("impressions", 2)])),
        ]
    );
    let days = series
        .read("s", &range("day", "2026-12-06", "2026-12-07"))
        .await
        .expect("days");
    assert_eq!(
        days,
        vec![
            (NOW - 13 - 24, counts(&[("ad_requests", 7)])),
            (NOW - 13, counts(&[("ad_requests", 9), ("impressions", 2)])),
        ]
    );
    let today = series
        .read("s", &range("day", "2026-12-07", "2026-12-07"))
        .await;
    assert_eq!(today.expect("today").len(), 1);
}

async fn concurrent_adds_are_exact(engine: Engine) {
    let stores = Stores::on(engine).await;
    let series = &stores.state.series;
    for added in join_all((0..200).map(|_| series.add("hot", NOW, &[("count", 1)]))).await {
        added.expect("add");
    }
    for interval in ["hour", "day"] {
        let read = series
            .read("hot", &range(interval, "2026-12-07", "2026-12-07"))
            .await
            .expect("read");
        let total: u64 = read.iter().map(|(_, c)| c["count"]).sum();
        assert_eq!(total, 200, "{interval}");
    }
}

on_every_store!(
    adds_land_in_their_hour_and_day_and_reads_keep_to_the_range,
    concurrent_adds_are_exact,
);
