//! The functions' log lines: JSON when Lambda's log format is JSON, at the level Lambda's
//! logging controls (or `RUST_LOG`) give, without the request timestamp Lambda adds itself.
//! A plain level filter, not `EnvFilter`: that one links a regex engine into every function
//! (about half a megabyte) for per-module directives Tally does not use.
//! https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html

use std::str::FromStr;
use tally::config::Logging;
use tracing_subscriber::filter::LevelFilter;

/// Installs the subscriber of this process; a second call changes nothing.
pub fn init(config: &Logging) {
    let level = config
        .lambda_log_level
        .as_deref()
        .or(config.rust_log.as_deref())
        .and_then(|level| LevelFilter::from_str(level.trim()).ok())
        .unwrap_or(LevelFilter::INFO);
    let lines = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(level);
    let json = config
        .lambda_log_format
        .as_deref()
        .is_some_and(|format| format.eq_ignore_ascii_case("json"));
    let _ = if json {
        lines.json().try_init()
    } else {
        lines.try_init()
    };
}
