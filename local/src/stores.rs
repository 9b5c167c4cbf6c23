//! Chooses the local API's stores from the settings: DynamoDB when `DYNAMODB_ENDPOINT` is set
//! (creating missing tables), else the embedded store in `TALLY_DATA_DIR` (`.tally/`).

use crate::schema::{ensure_tables, SchemaError};
use tally::config::Config;
use tally::store::dynamodb::client;
use tally::AppState;

/// Builds the stores the settings ask for.
pub async fn from_config(config: &Config) -> Result<AppState, SchemaError> {
    if config.dynamodb_endpoint.is_some() {
        let client = client(config).await;
        let tables = ensure_tables(&client, |spec| config.tables.of(spec).to_string()).await?;
        tracing::info!(?tables, "using DynamoDB");
        return Ok(AppState::dynamodb(client, config));
    }
    tracing::info!(dir = %config.data_dir.display(), "using the embedded store");
    Ok(AppState::sqlite(config)?)
}
