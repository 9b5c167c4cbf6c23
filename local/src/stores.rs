//! Chooses the local API's stores from the environment: DynamoDB when `DYNAMODB_ENDPOINT` is
//! set (creating missing tables), else the embedded store in `TALLY_DATA_DIR` (`.tally/`).

use crate::schema::{ensure_tables, SchemaError};
use std::path::PathBuf;
use tally::store::dynamodb::client_from_env;
use tally::AppState;

/// The data directory of the embedded store.
pub fn data_dir() -> PathBuf {
    std::env::var_os("TALLY_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".tally"))
}

/// Builds the stores the environment asks for.
pub async fn from_env() -> Result<AppState, SchemaError> {
    if std::env::var_os("DYNAMODB_ENDPOINT").is_some() {
        let client = client_from_env().await;
        let tables = ensure_tables(&client, |spec| {
            std::env::var(spec.env).unwrap_or_else(|_| spec.logical_id.to_string())
        })
        .await?;
        tracing::info!(?tables, "using DynamoDB");
        return Ok(AppState::dynamodb(client, &tables));
    }
    let dir = data_dir();
    tracing::info!(dir = %dir.display(), "using the embedded store");
    Ok(AppState::sqlite(&dir)?)
}
