//! `tally-local lambda` (`make run-lambda`): Lambda mode on the same settings as `make run`
//! (`TALLY_ADDR`, `VAST_URL`, `DYNAMODB_ENDPOINT`, table names), the tables created and
//! `people.csv` loaded as `make run` does, then the gateway served.

use super::container::Output;
use super::{LambdaMode, Settings};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tally::config::{Config, TABLES};

/// The function binaries: beside this executable (the same `target/` profile).
fn bin_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target/debug"))
}

/// The values this configuration gives the variables `template.yaml` declares.
pub fn overrides(config: &Config) -> BTreeMap<String, String> {
    let mut overrides = BTreeMap::from([
        ("VAST_URL".to_string(), config.ads.vast_url.clone()),
        (
            "VAST_TIMEOUT_MS".into(),
            config.ads.vast_timeout_ms.to_string(),
        ),
        (
            "SDK_COUNTER_SHARDS".into(),
            config.ads.ad_shards.to_string(),
        ),
    ]);
    for spec in TABLES {
        overrides.insert(spec.env.to_string(), config.tables.of(spec).to_string());
    }
    if let Some(url) = &config.stats.self_url {
        overrides.insert("TALLY_SELF_URL".into(), url.clone());
    }
    // The template's `CursorSecret` has no default; the key kept in the data directory.
    if let Some(secret) = &config.paging.cursor_secret {
        overrides.insert("TALLY_CURSOR_SECRET".into(), secret.clone());
    }
    overrides
}

/// Runs Lambda mode until killed.
pub async fn run(config: &Config) -> ExitCode {
    let Some(endpoint) = &config.aws.dynamodb_endpoint else {
        tracing::error!(
            "DYNAMODB_ENDPOINT is not set: use `make run-lambda`, which starts a DynamoDB server"
        );
        return ExitCode::FAILURE;
    };
    let state = match crate::stores::from_config(config).await {
        Ok(state) => state,
        Err(err) => {
            tracing::error!(error = %err, "could not create the tables");
            return ExitCode::FAILURE;
        }
    };
    crate::people::seed_logged(&state).await;
    let platform =
        match crate::tls::dynamodb_env(endpoint, &config.local.data_dir.join("tls")).await {
            Ok(env) => env,
            Err(err) => {
                tracing::error!(error = %err, "could not start the TLS terminator");
                return ExitCode::FAILURE;
            }
        };
    let settings = Settings {
        bin_dir: bin_dir(),
        overrides: overrides(config),
        platform,
        output: Output::Inherit,
        concurrency: config.local.lambda_concurrency,
    };
    let mode = match LambdaMode::new(&settings) {
        Ok(mode) => Arc::new(mode),
        Err(err) => {
            tracing::error!(error = %err, "template.yaml");
            return ExitCode::FAILURE;
        }
    };
    let Some(listener) = crate::listen(&config.local.addr).await else {
        return ExitCode::FAILURE;
    };
    let bin_dir = settings.bin_dir.display();
    tracing::info!(%bin_dir, "Lambda mode: each route runs its own function binary");
    super::serve(listener, mode).await;
    ExitCode::SUCCESS
}
