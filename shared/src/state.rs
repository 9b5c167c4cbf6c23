//! The stores a handler can reach, built once per container (Lambda) or process (local API).

use crate::ads::dynamodb::{shards_from_env, DynamoAds};
use crate::ads::{AdServer, AdStore};
use crate::logs::dynamodb::DynamoLogs;
use crate::logs::LogStore;
use crate::people::dynamodb::DynamoPeople;
use crate::people::PersonStore;
use crate::stats::dynamodb::DynamoStats;
use crate::stats::StatsStore;
use crate::store::dynamodb::{Client, TableNames};
use crate::visits::dynamodb::DynamoVisits;
use crate::visits::VisitStore;
use std::sync::Arc;

pub struct AppState {
    pub visits: Arc<dyn VisitStore>,
    pub ads: Arc<dyn AdStore>,
    /// Where `GET /ad` fetches its VAST XML (`VAST_URL`, `VAST_TIMEOUT_MS`).
    pub ad_server: AdServer,
    /// Where `POST /test/{n}` sends its requests (`TALLY_SELF_URL`); `None`: the caller's origin.
    pub self_url: Option<String>,
    pub logs: Arc<dyn LogStore>,
    pub people: Arc<dyn PersonStore>,
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
            ads: Arc::new(DynamoAds::new(
                client.clone(),
                tables.ads.clone(),
                shards_from_env(),
            )),
            ad_server: AdServer::from_env(),
            self_url: crate::config::self_url(),
            logs: Arc::new(DynamoLogs::new(client.clone(), tables.logs.clone())),
            people: Arc::new(DynamoPeople::new(client.clone(), tables.people.clone())),
            stats: Arc::new(DynamoStats::new(client, tables.stats.clone())),
        }
    }

    /// Local wiring: every store in one SQLite file under `dir`.
    #[cfg(feature = "embedded")]
    pub fn sqlite(dir: &std::path::Path) -> Result<Self, crate::StoreError> {
        let db = crate::store::sqlite::Sqlite::open(dir)?;
        Ok(AppState {
            visits: Arc::new(crate::visits::sqlite::SqliteVisits::open(db.clone())?),
            ads: Arc::new(crate::ads::sqlite::SqliteAds::open(db.clone())?),
            ad_server: AdServer::from_env(),
            self_url: crate::config::self_url(),
            logs: Arc::new(crate::logs::sqlite::SqliteLogs::open(db.clone())?),
            people: Arc::new(crate::people::sqlite::SqlitePeople::open(db.clone())?),
            stats: Arc::new(crate::stats::sqlite::SqliteStats::open(db)?),
        })
    }
}
