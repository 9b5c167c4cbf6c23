//! The dashboard's render time on the embedded store holding 100,000 counted paths and
//! 100,000 logged actions (over the last 30 days, 20 types): the page must stay under 50 ms.

use super::median;
use futures_util::future::join_all;
use serde_json::json;
use std::time::Instant;
use tally::dashboard::{load, page};
use tally::date;
use tally::state::DashboardState;
use tally::stats::CountedPath;
use tally::AppState;
use time::Duration;

pub const PATHS: usize = 100_000;
pub const ACTIONS: usize = 100_000;
const ACTIONS_PER_REQUEST: usize = 1000;
const TYPES: usize = 20;
const RUNS: usize = 20;
/// How many writes the seeding keeps in flight (the store commits them together).
const LANES: usize = 64;

/// The page's render time: the median and the slowest of `RUNS`, in milliseconds.
#[derive(Debug)]
pub struct RenderTime {
    pub median_ms: f64,
    pub max_ms: f64,
}

/// Seeds a fresh embedded store under `dir` and times the page on it.
pub async fn measure(dir: &std::path::Path) -> RenderTime {
    let state = crate::sqlite_state(dir);
    seed(&state, PATHS, ACTIONS).await;
    let today = date::today();
    let _ = page::render(&load(&DashboardState::from(&state), today).await);
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let html = page::render(&load(&DashboardState::from(&state), today).await);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(!html.contains("data-state=\"unavailable\""));
    }
    RenderTime {
        max_ms: times.iter().copied().fold(0.0, f64::max),
        median_ms: median(times),
    }
}

/// Counts `paths` distinct paths and logs `actions` actions (over the last 30 days, `TYPES`
/// types, 1,000 per request) through the stores, `LANES` at a time.
pub async fn seed(state: &AppState, paths: usize, actions: usize) {
    join_all((0..LANES).map(|lane| async move {
        for i in (lane..paths).step_by(LANES) {
            let path = CountedPath::from_proxy(&format!("bench/{}/{i}", i % 97)).expect("path");
            state
                .stats
                .store
                .increment(&path)
                .await
                .expect("count path");
        }
    }))
    .await;
    join_all((0..LANES).map(|lane| async move {
        for request in (lane..actions / ACTIONS_PER_REQUEST).step_by(LANES) {
            log_request(state, request).await;
        }
    }))
    .await;
}

async fn log_request(state: &AppState, request: usize) {
    let today = date::today();
    let actions: Vec<_> = (0..ACTIONS_PER_REQUEST)
        .map(|i| {
            let n = request * ACTIONS_PER_REQUEST + i;
            let day = today.saturating_sub(Duration::days((n % 30) as i64));
            json!({"time": format!("{}T12:00:00Z", date::format(day)), "type": format!("T{}", n % TYPES)})
        })
        .collect();
    let body = json!({"userId": format!("u{request}"), "sessionId": "s", "actions": actions});
    crate::record_log(state, &body).await;
}
