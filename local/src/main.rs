//! `make run`: the whole API at `TALLY_ADDR` (default `127.0.0.1:3000`);
//! `tally-local import-people FILE`: loads a people CSV into the same store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tally::config::Config;
use tally::AppState;

#[tokio::main]
async fn main() -> ExitCode {
    lambda_runtime::tracing::init_default_subscriber();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let import = match args.as_slice() {
        [] => None,
        [command, file] if command == "import-people" => Some(PathBuf::from(file)),
        _ => {
            eprintln!("usage: tally-local [import-people FILE]");
            return ExitCode::from(2);
        }
    };
    let config = Config::from_env();
    let state = match tally_local::stores::from_config(&config).await {
        Ok(state) => Arc::new(state),
        Err(err) => {
            tracing::error!(error = %err, "could not open the store");
            return ExitCode::FAILURE;
        }
    };
    match import {
        Some(file) => tally_local::people::import_command(&state, &file).await,
        None => serve(state, &config.addr).await,
    }
}

async fn serve(state: Arc<AppState>, addr: &str) -> ExitCode {
    match tally_local::people::seed_if_empty(&state).await {
        Ok(Some(report)) => tracing::info!(
            loaded = report.loaded,
            skipped = report.skipped.len(),
            "loaded data/people.csv into the empty people store"
        ),
        Ok(None) => {}
        Err(err) => tracing::warn!(error = %err, "could not load data/people.csv"),
    }
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(error = %err, addr, "could not listen (set TALLY_ADDR to another address)");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("Tally local API listening on http://{addr}");
    tally_local::server::serve(listener, state).await;
    ExitCode::SUCCESS
}
