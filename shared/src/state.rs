//! The stores and services a handler can reach, built once per container (Lambda) or process
//! (local API) from the `Config` read at start.

use crate::ads::dynamodb::DynamoAds;
use crate::ads::{AdServer, AdStore};
use crate::config::Config;
use crate::http::cursor::{random_key, Cursors};
use crate::logs::dynamodb::DynamoLogs;
use crate::logs::LogStore;
use crate::people::dynamodb::DynamoPeople;
use crate::people::PersonStore;
use crate::stats::dynamodb::DynamoStats;
use crate::stats::StatsStore;
use crate::store::dynamodb::Client;
use crate::visits::dynamodb::DynamoVisits;
use crate::visits::VisitStore;
use std::sync::Arc;
use std::time::Duration;

pub struct AppState {
    pub visits: Arc<dyn VisitStore>,
    pub ads: Arc<dyn AdStore>,
    /// Where `GET /ad` fetches its VAST XML (`VAST_URL`, `VAST_TIMEOUT_MS`).
    pub ad_server: AdServer,
    /// Where `POST /test/{n}` sends its requests (`TALLY_SELF_URL`); `None`: the caller's origin.
    pub self_url: Option<String>,
    /// Issues and checks pagination cursors (`TALLY_CURSOR_SECRET`).
    pub cursors: Cursors,
    pub logs: Arc<dyn LogStore>,
    pub people: Arc<dyn PersonStore>,
    pub stats: Arc<dyn StatsStore>,
}

/// What the state holds besides its stores, built from the settings alike on every engine.
struct Services {
    ad_server: AdServer,
    self_url: Option<String>,
    cursors: Cursors,
}

impl Services {
    fn new(config: &Config) -> Self {
        Services {
            ad_server: AdServer::new(
                config.vast_url.clone(),
                Duration::from_millis(config.vast_timeout_ms),
            ),
            self_url: config.self_url.clone(),
            cursors: match &config.cursor_secret {
                Some(secret) => Cursors::new(secret.as_bytes()),
                None => {
                    tracing::warn!(
                        "TALLY_CURSOR_SECRET is unset: cursors hold for this process only"
                    );
                    Cursors::new(&random_key())
                }
            },
        }
    }
}

impl AppState {
    /// Production wiring: every store on DynamoDB (AWS, or `DYNAMODB_ENDPOINT`).
    pub async fn from_config(config: &Config) -> Self {
        let client = crate::store::dynamodb::client(config).await;
        Self::dynamodb(client, config)
    }

    /// Every store on DynamoDB through `client`, on the tables `config` names.
    pub fn dynamodb(client: Client, config: &Config) -> Self {
        let tables = &config.tables;
        let services = Services::new(config);
        AppState {
            visits: Arc::new(DynamoVisits::new(client.clone(), tables.visits.clone())),
            ads: Arc::new(DynamoAds::new(
                client.clone(),
                tables.ads.clone(),
                config.ad_shards,
            )),
            ad_server: services.ad_server,
            self_url: services.self_url,
            cursors: services.cursors,
            logs: Arc::new(
                DynamoLogs::new(client.clone(), tables.logs.clone())
                    .with_retention_days(config.log_retention_days),
            ),
            people: Arc::new(DynamoPeople::new(client.clone(), tables.people.clone())),
            stats: Arc::new(DynamoStats::new(client, tables.stats.clone())),
        }
    }

    /// Local wiring: every store in one SQLite file under `config.data_dir`.
    #[cfg(feature = "embedded")]
    pub fn sqlite(config: &Config) -> Result<Self, crate::StoreError> {
        let db = crate::store::sqlite::Sqlite::open(&config.data_dir)?;
        let services = Services::new(config);
        Ok(AppState {
            visits: Arc::new(crate::visits::sqlite::SqliteVisits::open(db.clone())?),
            ads: Arc::new(crate::ads::sqlite::SqliteAds::open(db.clone())?),
            ad_server: services.ad_server,
            self_url: services.self_url,
            cursors: services.cursors,
            logs: Arc::new(crate::logs::sqlite::SqliteLogs::open(db.clone())?),
            people: Arc::new(crate::people::sqlite::SqlitePeople::open(db.clone())?),
            stats: Arc::new(crate::stats::sqlite::SqliteStats::open(db)?),
        })
    }
}
