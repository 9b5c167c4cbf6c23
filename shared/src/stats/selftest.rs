//! `POST /test/{n}/`: sends n real GET requests to `/api/...` through the API, a bounded number
//! at a time and within a time budget that fits API Gateway's 30 seconds, and reports them.

use super::PREFIX;
use crate::http::client::Client;
use crate::http::MAX_BODY_BYTES;
use crate::ApiError;
use fastrand::Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The most requests one run sends (the contract's maximum).
pub const MAX_REQUESTS: u32 = 10_000;
/// Requests in flight at once.
pub const CONCURRENCY: usize = 32;
/// When the run stops sending; what is not sent by then counts as failed.
pub const BUDGET: Duration = Duration::from_secs(25);
/// The longest one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const POOL_SIZE: usize = 3;
const WORD_LETTERS: usize = 8;
const MAX_SEGMENTS: usize = 6;

/// Parses `n`: a whole number from 1 to `MAX_REQUESTS`.
pub fn parse_requests(raw: &str) -> Result<u32, ApiError> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_REQUESTS).contains(n))
        .ok_or_else(|| {
            ApiError::field(
                "n",
                format!("must be a whole number from 1 to {MAX_REQUESTS} (got {raw:?})"),
            )
        })
}

/// Three distinct random words of lowercase ASCII letters (the generator is seeded anew for
/// every run, so pools differ between runs).
fn pool(rng: &mut Rng) -> Vec<String> {
    let mut words: Vec<String> = Vec::with_capacity(POOL_SIZE);
    while words.len() < POOL_SIZE {
        let word: String = (0..WORD_LETTERS)
            .map(|_| char::from(rng.u8(b'a'..=b'z')))
            .collect();
        if !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// A counted path of 1 to 6 segments drawn from `words`.
fn random_path(words: &[String], rng: &mut Rng) -> String {
    let segments = rng.usize(1..=MAX_SEGMENTS);
    let picked: Vec<&str> = (0..segments)
        .map(|_| words[rng.usize(..words.len())].as_str())
        .collect();
    picked.join("/")
}

/// What a run did: `paths` counts the requests sent per counted path.
#[derive(Debug, Serialize)]
pub struct Report {
    pub requested: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub paths: BTreeMap<String, u32>,
}

/// Sends `n` GET requests to `{base}/api/<path>` and reports them; `base` is the API's origin.
pub async fn run(base: &str, n: u32) -> Result<Report, ApiError> {
    let mut rng = Rng::new();
    let words = pool(&mut rng);
    let plan: Arc<Vec<String>> = Arc::new((0..n).map(|_| random_path(&words, &mut rng)).collect());
    let client = Client::new()
        .map_err(|err| ApiError::BadGateway(format!("self test: no HTTP client ({err})")))?;
    let sender = Arc::new(Sender {
        client,
        base: format!("{}{PREFIX}", base.trim_end_matches('/')),
        plan,
        next: AtomicUsize::new(0),
        deadline: Instant::now() + BUDGET,
    });
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY.min(n as usize) {
        workers.spawn(Arc::clone(&sender).work());
    }
    let mut report = Report {
        requested: n,
        succeeded: 0,
        failed: n,
        paths: BTreeMap::new(),
    };
    while let Some(done) = workers.join_next().await {
        match done {
            Ok(outcomes) => sender.record(&outcomes, &mut report),
            Err(err) => tracing::error!(error = %err, "self-test worker stopped"),
        }
    }
    Ok(report)
}

/// The shared state of a run's workers: each takes the next planned request until none is left
/// or the budget is spent.
struct Sender {
    client: Client,
    base: String,
    plan: Arc<Vec<String>>,
    next: AtomicUsize,
    deadline: Instant,
}

impl Sender {
    /// Sends planned requests one after another; returns (plan index, answered 200) for each.
    async fn work(self: Arc<Self>) -> Vec<(usize, bool)> {
        let mut outcomes = Vec::new();
        loop {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            if index >= self.plan.len() || Instant::now() >= self.deadline {
                return outcomes;
            }
            let url = format!("{}{}", self.base, self.plan[index]);
            let ok = tokio::time::timeout_at(self.deadline, self.get(&url))
                .await
                .unwrap_or(false);
            outcomes.push((index, ok));
        }
    }

    /// True when the API answered 200; the body is read so the connection can be reused.
    async fn get(&self, url: &str) -> bool {
        let answer = self
            .client
            .get(url, &[], MAX_BODY_BYTES, REQUEST_TIMEOUT)
            .await;
        answer.is_ok_and(|resp| resp.status == hyper::StatusCode::OK)
    }

    fn record(&self, outcomes: &[(usize, bool)], report: &mut Report) {
        for &(index, ok) in outcomes {
            *report.paths.entry(self.plan[index].clone()).or_default() += 1;
            if ok {
                report.succeeded += 1;
                report.failed -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_is_a_whole_number_from_1_to_the_maximum() {
        assert_eq!(parse_requests("1").unwrap(), 1);
        assert_eq!(parse_requests("10000").unwrap(), MAX_REQUESTS);
        for bad in ["0", "-1", "abc", "10001", "1.5", "", "99999999999999999999"] {
            let err = parse_requests(bad).expect_err(bad);
            assert!(err.to_string().starts_with("n: "), "{err}");
        }
    }

    #[test]
    fn the_pool_is_three_distinct_lowercase_words_new_each_run() {
        let first = pool(&mut Rng::new());
        let second = pool(&mut Rng::new());
        assert_eq!(first.len(), 3);
        for word in &first {
            assert_eq!(word.len(), WORD_LETTERS);
            assert!(word.bytes().all(|b| b.is_ascii_lowercase()), "{word}");
        }
        assert_ne!(first, second);
    }

    #[test]
    fn paths_have_1_to_6_segments_from_the_pool() {
        let mut rng = Rng::new();
        let words = pool(&mut rng);
        let mut lengths = std::collections::HashSet::new();
        for _ in 0..1000 {
            let path = random_path(&words, &mut rng);
            let segments: Vec<&str> = path.split('/').collect();
            assert!(
                segments.iter().all(|s| words.iter().any(|w| w == s)),
                "{path}"
            );
            lengths.insert(segments.len());
        }
        assert_eq!(lengths, (1..=6).collect());
    }
}
