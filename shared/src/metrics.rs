//! Business counters through the `metrics` facade. In Lambda the CloudWatch Embedded Metric
//! Format recorder that `functions/src/lambda.rs` installs turns them into EMF lines (namespace
//! `Tally`, dimension `Function`); elsewhere no recorder is installed and they cost nothing.

/// Counts one business event, such as `AdRequests`.
pub fn count(metric: &'static str) {
    ::metrics::counter!(metric).increment(1);
}
