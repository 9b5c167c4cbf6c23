//! `make run`: the whole API at `TALLY_ADDR` (default `127.0.0.1:3000`);
//! `tally-local lambda` (`make run-lambda`): the same through the function binaries;
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
    let mut config = Config::from_env();
    if let Err(err) = tally_local::stores::keep_cursor_key(&mut config) {
        tracing::error!(error = %err, "could not read or make the cursor key in TALLY_DATA_DIR");
        return ExitCode::FAILURE;
    }
    tally_local::set_self_url(&mut config);
    let import = match args.as_slice() {
        [] => None,
        [command] if command == "lambda" => return tally_local::lambda::setup::run(&config).await,
        [command, file] if command == "import-people" => Some(PathBuf::from(file)),
        _ => {
            eprintln!("usage: tally-local [lambda | import-people FILE]");
            return ExitCode::from(2);
        }
    };
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
    tally_local::people::seed_logged(&state).await;
    let Some(listener) = tally_local::listen(addr).await else {
        return ExitCode::FAILURE;
    };
    tally_local::server::serve(listener, state).await;
    ExitCode::SUCCESS
}
