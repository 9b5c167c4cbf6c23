//! The stores a handler can reach, built once per container (Lambda) or process (local API).

use crate::stats::dynamodb::DynamoStats;
use crate::stats::StatsStore;
use crate::store::dynamodb::{Client, TableNames};
use crate::visits::dynamodb::DynamoVisits;
use crate::visits::VisitStore;
use std::sync::Arc;

pub struct AppState {
    pub visits: Arc<dyn VisitStore>,
    pub stats: Arc<dyn StatsStore>,
}

impl AppState {
    /// Production wiring: every store on DynamoDB, with the tables named by the environment.
    pub async fn from_env() -> Self {
        let client = crate::store::dynamodb::client_from_env().await;
        Self::dynamodb(client, &TableNames::from_env())
    }

    pub fn dynamodb(client: Client, tables: &TableNames) -> Self {
        AppState {
            visits: Arc::new(DynamoVisits::new(client.clone(), tables.visits.clone())),
            stats: Arc::new(DynamoStats::new(client, tables.stats.clone())),
        }
    }

    /// Local wiring: every store in one SQLite file under `dir`.
    #[cfg(feature = "embedded")]
    pub fn sqlite(dir: &std::path::Path) -> Result<Self, crate::StoreError> {
        let db = crate::store::sqlite::Sqlite::open(dir)?;
        Ok(AppState {
            visits: Arc::new(crate::visits::sqlite::SqliteVisits::open(db.clone())?),
            stats: Arc::new(crate::stats::sqlite::SqliteStats::open(db)?),
        })
    }
}
