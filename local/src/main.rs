//! `make run`: the whole API at `TALLY_ADDR` (default `127.0.0.1:3000`).

use std::process::ExitCode;
use std::sync::Arc;

#[tokio::main]
async fn main() -> ExitCode {
    lambda_runtime::tracing::init_default_subscriber();
    let addr = std::env::var("TALLY_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let state = match tally_local::stores::from_env().await {
        Ok(state) => Arc::new(state),
        Err(err) => {
            tracing::error!(error = %err, "could not open the store");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
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
