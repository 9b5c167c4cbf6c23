//! Warm throughput and latency of the local API (release build, embedded store), measured
//! with `wrk` from a second process on loopback.

use std::path::Path;
use std::process::Command;

/// One request shape to load the API with.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub method: &'static str,
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
    /// What repeating this request does, where that is not plain from the request itself.
    pub note: &'static str,
}

impl Scenario {
    pub const fn get(path: &'static str) -> Self {
        Scenario {
            method: "GET",
            path,
            content_type: "",
            body: "",
            note: "",
        }
    }

    pub const fn post(path: &'static str, content_type: &'static str, body: &'static str) -> Self {
        Scenario {
            method: "POST",
            path,
            content_type,
            body,
            note: "",
        }
    }

    /// The same scenario, its row saying `note` about what it measures.
    pub const fn noting(self, note: &'static str) -> Self {
        Scenario { note, ..self }
    }

    /// The row's label, in Markdown: the request as code, then the note.
    pub fn label(&self) -> String {
        match self.note {
            "" => format!("`{} {}`", self.method, self.path),
            note => format!("`{} {}` ({note})", self.method, self.path),
        }
    }

    /// The wrk Lua script that sends this request.
    fn script(&self) -> String {
        format!(
            "wrk.method = {:?}\nwrk.body = {:?}\nwrk.headers[\"Content-Type\"] = {:?}\n",
            self.method, self.body, self.content_type
        )
    }
}

/// Requests per second and latency percentiles at one concurrency.
#[derive(Debug, Clone)]
pub struct Throughput {
    pub scenario: String,
    pub connections: u32,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
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

/// Loads `base` with `scenario` over `connections` connections for `seconds`.
pub fn run_wrk(
    base: &str,
    scenario: &Scenario,
    connections: u32,
    seconds: u32,
    scratch: &Path,
) -> Throughput {
    let script = scratch.join("request.lua");
    let _ = std::fs::write(&script, scenario.script());
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
        .arg(format!("{base}{}", scenario.path))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let (requests_per_second, p50_ms, p99_ms, non_2xx) = parse_wrk(&output);
    Throughput {
        scenario: scenario.label(),
        connections,
        requests_per_second,
        p50_ms,
        p99_ms,
        non_2xx,
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
}
