//! Business metrics as CloudWatch Embedded Metric Format (EMF) lines, so CloudWatch turns log
//! lines into metrics without an API call.
//!
//! In Lambda (`AWS_LAMBDA_FUNCTION_NAME` set) each line goes to stdout, where CloudWatch Logs
//! extracts it; elsewhere it is a `tracing` debug event on target `tally::metrics`, so local
//! runs and tests are not flooded (`RUST_LOG=tally::metrics=debug` shows them).

use serde_json::json;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The CloudWatch namespace of every Tally metric.
pub const NAMESPACE: &str = "Tally";

/// One EMF line: `metric` counted once for `service`, at `timestamp_ms`.
pub fn emf_line(service: &str, metric: &str, timestamp_ms: u64) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Service"]],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        "Service": service,
        metric: 1,
    })
    .to_string()
}

fn in_lambda() -> bool {
    static IN_LAMBDA: OnceLock<bool> = OnceLock::new();
    *IN_LAMBDA.get_or_init(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some())
}

/// Counts one business event: `metric` (e.g. `AdRequests`) for `service` (e.g. `ads`).
pub fn count(service: &str, metric: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
        .unwrap_or_default();
    let line = emf_line(service, metric, now);
    if in_lambda() {
        println!("{line}");
    } else {
        tracing::debug!(target: "tally::metrics", "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_lines_declare_the_metric_and_carry_its_value() {
        let line: serde_json::Value =
            serde_json::from_str(&emf_line("ads", "Impressions", 1_700_000_000_000))
                .expect("one JSON object");
        assert_eq!(
            line,
            json!({
                "_aws": {
                    "Timestamp": 1_700_000_000_000u64,
                    "CloudWatchMetrics": [{
                        "Namespace": "Tally",
                        "Dimensions": [["Service"]],
                        "Metrics": [{"Name": "Impressions", "Unit": "Count"}],
                    }],
                },
                "Service": "ads",
                "Impressions": 1,
            })
        );
    }
}
