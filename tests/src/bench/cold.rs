//! Cold start of each function's release binary under the loopback Runtime API, reaching
//! DynamoDB over TLS as in AWS: init (exec to first request for work), first invocation, exec
//! to first response, peak memory and binary size.

use super::median;
use crate::runtime_api::{invoke_cold, invoke_cold_throttled_after_init};
use std::path::Path;

/// One function's cold-start figures.
#[derive(Debug, Clone)]
pub struct ColdStart {
    pub function: String,
    pub init_ms: f64,
    pub first_invoke_ms: f64,
    /// From exec to the first response: what a cold request waits for.
    pub first_response_ms: f64,
    pub peak_rss_mib: f64,
    pub size_mib: f64,
    pub status: u64,
}

/// Runs `function` cold `runs` times with its event from `events/`; with `throttle` (a CPU
/// cgroup's `cgroup.procs`), Init runs unthrottled and the invocation in that cgroup.
pub async fn measure(
    function: &str,
    bin_dir: &Path,
    repo: &Path,
    env: &[(&'static str, String)],
    runs: usize,
    throttle: Option<&Path>,
) -> ColdStart {
    let binary = bin_dir.join(function);
    let event =
        std::fs::read_to_string(repo.join(format!("events/{function}.json"))).unwrap_or_default();
    let (mut init, mut first, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rss, mut status) = (0.0_f64, 0);
    for _ in 0..runs {
        let run = match throttle {
            None => invoke_cold(&binary, &event, env).await,
            Some(procs) => invoke_cold_throttled_after_init(&binary, &event, env, procs).await,
        };
        init.push(run.init.as_secs_f64() * 1000.0);
        first.push(run.duration.as_secs_f64() * 1000.0);
        total.push((run.init + run.duration).as_secs_f64() * 1000.0);
        rss = rss.max(run.peak_rss_kib as f64 / 1024.0);
        status = run.response["statusCode"].as_u64().unwrap_or(0);
    }
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0) as f64 / (1024.0 * 1024.0);
    ColdStart {
        function: function.to_string(),
        init_ms: median(init),
        first_invoke_ms: median(first),
        first_response_ms: median(total),
        peak_rss_mib: rss,
        size_mib: size,
        status,
    }
}
