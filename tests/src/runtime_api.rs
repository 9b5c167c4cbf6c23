//! One cold invocation of a function binary under Lambda mode's Runtime API
//! (`tally_local::lambda::container`): its response, its output and how long it took to start.

use std::path::Path;
use std::time::{Duration, Instant};
use tally_local::lambda::container::{Container, Launch, Outcome, Output};

/// The request id the harness gives the invocation.
pub const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

/// What one cold invocation showed.
#[derive(Debug)]
pub struct Invocation {
    /// The function's answer: the API Gateway response object.
    pub response: serde_json::Value,
    /// The size of that answer as the function sent it, in bytes (Lambda allows 6 MB).
    pub response_bytes: usize,
    /// Everything the function wrote to stdout and stderr.
    pub output: String,
    /// From exec to the function's first request for work.
    pub init: Duration,
    /// From handing over the event to receiving the response.
    pub duration: Duration,
    /// Peak resident memory, in KiB.
    pub peak_rss_kib: u64,
}

/// Starts `binary` as a cold Lambda function with `env`, invokes it once with `event`, stops it.
pub async fn invoke_cold(binary: &Path, event: &str, env: &[(&str, String)]) -> Invocation {
    invoke_cold_within(binary, event, env, Duration::from_secs(30)).await
}

/// As `invoke_cold`, the invocation's deadline `timeout` after it is handed out.
pub async fn invoke_cold_within(
    binary: &Path,
    event: &str,
    env: &[(&str, String)],
    timeout: Duration,
) -> Invocation {
    run_cold(binary, event, env, timeout, None).await
}

/// As `invoke_cold`, with Init at whatever CPU the process has and the invocation in a CPU
/// cgroup: once Init is over (the function waits on its first `/next`), the process is moved
/// into the cgroup whose `cgroup.procs` file is `throttle` (all its threads go with it), and
/// only then is the event handed out. `duration` is then from handing out to the response.
pub async fn invoke_cold_throttled_after_init(
    binary: &Path,
    event: &str,
    env: &[(&str, String)],
    throttle: &Path,
) -> Invocation {
    run_cold(binary, event, env, Duration::from_secs(30), Some(throttle)).await
}

async fn run_cold(
    binary: &Path,
    event: &str,
    env: &[(&str, String)],
    timeout: Duration,
    throttle: Option<&Path>,
) -> Invocation {
    let name = binary
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("function")
        .to_string();
    let launch = Launch {
        name: name.clone(),
        binary: binary.to_path_buf(),
        memory_mib: 128,
        timeout,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        output: Output::Capture,
    };
    let started = Instant::now();
    let container = Container::start(&launch).await.unwrap_or_else(|e| {
        panic!(
            "{}: {e} (build it first: `cargo build -p tally-functions --bins`)",
            binary.display()
        )
    });
    let limit = Duration::from_secs(20);
    if let Some(procs) = throttle {
        if !container.wait_idle(0, limit).await {
            panic!("{name}: Init did not end\n{}", container.stop().await)
        }
        let pid = container
            .pid()
            .map(|pid| pid.to_string())
            .unwrap_or_default();
        if let Err(err) = std::fs::write(procs, &pid) {
            panic!("{name}: moving {pid} into {}: {err}", procs.display())
        }
    }
    let handed_out = Instant::now();
    let outcome = container
        .invoke(
            REQUEST_ID.into(),
            event.to_string().into(),
            launch.timeout,
            limit,
        )
        .await;
    let total = started.elapsed();
    let invoked = handed_out.elapsed();
    let Some(Outcome::Response(body)) = outcome else {
        panic!("{name}: {outcome:?}\n{}", container.stop().await)
    };
    // Asking for the next event means the invocation, metrics flush included, is over.
    container.wait_idle(1, limit).await;
    let init = container.init_duration().unwrap_or_default();
    let peak_rss_kib = container.peak_rss_kib();
    Invocation {
        response: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        response_bytes: body.len(),
        output: container.stop().await,
        init,
        duration: match throttle {
            Some(_) => invoked,
            None => total.saturating_sub(init),
        },
        peak_rss_kib,
    }
}
