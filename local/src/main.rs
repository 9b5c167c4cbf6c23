//! `make run`: the whole API at `TALLY_ADDR` (default `127.0.0.1:3000`);
//! `tally-local lambda` (`make run-lambda`): the same through the function binaries;
//! `tally-local import-people [--stack NAME | --table ID=NAME] FILE`: loads a people CSV into
//! the same store, or into a deployed stack's table (`admin`).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use tally::config::Config;
use tally::AppState;
use tally_local::admin::{self, Account, Command, Target};

#[tokio::main]
async fn main() -> ExitCode {
    lambda_runtime::tracing::init_default_subscriber();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match admin::parse(&args) {
        Ok(command) => command,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    if let Command::ImportPeople { target, file } = &command {
        if *target != Target::Local {
            return import_into_account(target, file).await;
        }
    }
    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    if let Err(err) = tally_local::stores::keep_cursor_key(&mut config) {
        tracing::error!(error = %err, "could not read or make the cursor key in TALLY_DATA_DIR");
        return ExitCode::FAILURE;
    }
    tally_local::set_self_url(&mut config);
    match command {
        Command::Lambda => tally_local::lambda::setup::run(&config).await,
        Command::ImportPeople { file, .. } => match local_state(&config).await {
            Some(state) => {
                tally_local::people::import_command(state.people.store.as_ref(), &file).await
            }
            None => ExitCode::FAILURE,
        },
        Command::Serve => match local_state(&config).await {
            Some(state) => serve(state, &config.local.addr).await,
            None => ExitCode::FAILURE,
        },
    }
}

/// The local API's stores, as `make run` opens them.
async fn local_state(config: &Config) -> Option<Arc<AppState>> {
    match tally_local::stores::from_config(config).await {
        Ok(state) => Some(Arc::new(state)),
        Err(err) => {
            tracing::error!(error = %err, "could not open the store");
            None
        }
    }
}

/// `import-people --stack/--table`: into the people table of an AWS account, as it exists.
async fn import_into_account(target: &Target, file: &Path) -> ExitCode {
    let state = match Account::connect(target)
        .await
        .and_then(|a| a.state(&["PeopleTable"]))
    {
        Ok(state) => state,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    tally_local::people::import_command(state.people.store.as_ref(), file).await
}

async fn serve(state: Arc<AppState>, addr: &str) -> ExitCode {
    tally_local::people::seed_logged(&state).await;
    let Some(listener) = tally_local::listen(addr).await else {
        return ExitCode::FAILURE;
    };
    tally_local::server::serve(listener, state).await;
    ExitCode::SUCCESS
}
