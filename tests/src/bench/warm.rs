//! Warm throughput and latency of the local API (its `local` build, embedded store), measured
//! with `wrk` from a second process on loopback. Each scenario is a wrk Lua script and a label
//! saying what it sends: one fixed request, or a new path or body on every request.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Stands in a script for a tag no other run of this process uses, so that no run repeats the
/// paths or bodies of another.
const RUN_TAG: &str = "RUN_TAG";

/// Gives each wrk thread its own `tid` and a counter `n`, for requests unique across threads.
const PER_THREAD: &str = r#"local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local n = 0
"#;

/// One request shape to load the API with.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// What the row says is sent, in Markdown.
    pub label: String,
    /// The wrk Lua script that sends it.
    script: String,
    /// Actions per request (`POST /log`), for the row's actions per second.
    pub actions: u32,
}

impl Scenario {
    /// The same request every time.
    pub fn fixed(method: &str, path: &str, content_type: &str, body: &str) -> Self {
        Scenario {
            label: format!("`{method} {path}`"),
            script: format!(
                "wrk.method = {method:?}\nwrk.path = {path:?}\nwrk.body = {body:?}\n\
                 wrk.headers[\"Content-Type\"] = {content_type:?}\n"
            ),
            actions: 0,
        }
    }

    pub fn get(path: &str) -> Self {
        Scenario::fixed("GET", path, "", "")
    }

    /// `GET /api/...` with a path never counted before on every request: each is a new row.
    pub fn distinct_paths() -> Self {
        Scenario {
            label: "`GET /api/bench/<new path>` (a path never counted before on every request: \
                    each inserts a row)"
                .into(),
            script: format!(
                "{PER_THREAD}function request()\n  n = n + 1\n  \
                 return wrk.format(\"GET\", \"/api/bench/{RUN_TAG}/\" .. tid .. \"/\" .. n)\nend\n"
            ),
            actions: 0,
        }
    }

    /// `POST /log` with a new body every request (its own `sessionId`), three actions of three
    /// types for one of 1,000 users: ingest, every action stored.
    pub fn distinct_logs() -> Self {
        Scenario {
            label: "`POST /log` (a new body on every request: its own `sessionId`, 3 actions of 3 \
                    types, one of 1,000 users; ingest, every action stored)"
                .into(),
            script: format!(
                "{PER_THREAD}{}function request()\n  n = n + 1\n  \
                 return wrk.format(\"POST\", \"/log\", {{[\"Content-Type\"] = \"application/json\"}}, \
                 log_body(\"{RUN_TAG}-\" .. tid .. \"-\" .. n, n % 1000))\nend\n",
                LOG_BODY
            ),
            actions: 3,
        }
    }

    /// Reads and writes together, in turn: per five requests two writes (a new path counted,
    /// a counter incremented) and three reads (that counter, the top ten paths, a user's logs).
    pub fn mixed() -> Self {
        Scenario {
            label: "mixed, in turn: `GET /api/bench/<new path>`, `POST /counters/mixed`, \
                    `GET /counters/mixed`, `GET /stats/?limit=10`, `GET /log?userId=u1&limit=10` \
                    (2 writes, 3 reads)"
                .into(),
            script: format!(
                "{PER_THREAD}local reads = {{\"/counters/mixed\", \"/stats/?limit=10\", \"/log?userId=u1&limit=10\"}}\n\
                 function request()\n  n = n + 1\n  local k = n % 5\n  \
                 if k == 0 then return wrk.format(\"GET\", \"/api/bench/mixed-{RUN_TAG}/\" .. tid .. \"/\" .. n) end\n  \
                 if k == 1 then return wrk.format(\"POST\", \"/counters/mixed\") end\n  \
                 return wrk.format(\"GET\", reads[k - 1])\nend\n"
            ),
            actions: 0,
        }
    }

    /// The same scenario, its row saying `note` about what it measures.
    pub fn noting(self, note: &str) -> Self {
        Scenario {
            label: format!("{} ({note})", self.label),
            ..self
        }
    }
}

/// A Lua function making a `POST /log` body of three actions for session `session`, user `user`.
const LOG_BODY: &str = r#"function log_body(session, user)
  return '{"userId":"u' .. user .. '","sessionId":"' .. session .. '","actions":[' ..
    '{"time":"2018-10-18T21:37:28-06:00","type":"CLICK","properties":{"x":1}},' ..
    '{"time":"2018-10-18T21:37:30-06:00","type":"VIEW","properties":{"x":2}},' ..
    '{"time":"2018-10-18T21:37:35-06:00","type":"NAVIGATE","properties":{"x":3}}]}'
end
"#;

/// Requests per second and latency percentiles at one concurrency.
#[derive(Debug, Clone)]
pub struct Throughput {
    pub scenario: String,
    /// Actions per request (`POST /log`), else 0.
    pub actions: u32,
    pub connections: u32,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
    /// The server's CPU time (all its threads) per request, in microseconds: less noisy than
    /// requests per second on a machine others share. `None` where `/proc` is missing.
    pub cpu_us: Option<f64>,
}

/// Linux's clock ticks per second in `/proc` (`USER_HZ`, fixed at 100 by its ABI).
const TICKS_PER_SECOND: f64 = 100.0;

/// The CPU seconds process `pid` has used so far (user and system, every thread), from
/// `/proc/<pid>/stat` (fields 14 and 15, counted after the parenthesised name).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    Some((ticks(11)? + ticks(12)?) / TICKS_PER_SECOND)
}

/// Parses a wrk latency such as `812.00us`, `1.20ms` or `2.01s` into milliseconds.
pub fn parse_latency(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(value / 1000.0),
        "ms" => Some(value),
        "s" => Some(value * 1000.0),
        "m" => Some(value * 60_000.0),
        _ => None,
    }
}

/// Reads wrk's `--latency` report.
pub fn parse_wrk(output: &str) -> (f64, f64, f64, u64) {
    let mut figures = (0.0, 0.0, 0.0, 0);
    for line in output.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(v)) => figures.0 = v.parse().unwrap_or(0.0),
            (Some("50%"), Some(v)) => figures.1 = parse_latency(v).unwrap_or(0.0),
            (Some("99%"), Some(v)) => figures.2 = parse_latency(v).unwrap_or(0.0),
            (Some("Non-2xx"), _) => {
                figures.3 = line
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0)
            }
            _ => {}
        }
    }
    figures
}

/// Loads `base` (served by process `server`) with `scenario` over `connections` connections
/// for `seconds`.
pub fn run_wrk(
    base: &str,
    server: Option<u32>,
    scenario: &Scenario,
    (connections, seconds): (u32, u32),
    scratch: &Path,
) -> Throughput {
    let cpu_before = server.and_then(cpu_seconds);
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let tag = format!("r{}", RUNS.fetch_add(1, Ordering::Relaxed));
    let script = scratch.join("request.lua");
    let _ = std::fs::write(&script, scenario.script.replace(RUN_TAG, &tag));
    let threads = connections.clamp(1, 2);
    let output = Command::new("wrk")
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--latency",
        ])
        .arg("-s")
        .arg(&script)
        .arg(base)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let (requests_per_second, p50_ms, p99_ms, non_2xx) = parse_wrk(&output);
    let requests = requests_per_second * f64::from(seconds);
    let cpu_us = match (cpu_before, server.and_then(cpu_seconds)) {
        (Some(before), Some(after)) if requests > 0.0 => Some((after - before) * 1e6 / requests),
        _ => None,
    };
    Throughput {
        scenario: scenario.label.clone(),
        actions: scenario.actions,
        connections,
        requests_per_second,
        p50_ms,
        p99_ms,
        non_2xx,
        cpu_us,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_reports_are_read() {
        let report = "  Latency Distribution\n     50%  812.00us\n     75%    1.00ms\n     90%    1.50ms\n     99%    2.00s\n  3000 requests in 1.00s, 1.00MB read\n  Non-2xx or 3xx responses: 7\nRequests/sec:   2999.50\n";
        assert_eq!(parse_wrk(report), (2999.5, 0.812, 2000.0, 7));
    }

    #[test]
    fn the_cpu_time_of_a_process_is_read() {
        let mine = cpu_seconds(std::process::id());
        assert!(mine.is_some_and(|s| s >= 0.0), "{mine:?}");
        assert_eq!(cpu_seconds(u32::MAX), None);
    }
}
