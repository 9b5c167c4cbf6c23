//! Each service's state (its store and what else its handlers need), built from its own part
//! of the settings: a Lambda function builds only the state its route takes (`Open`), and so
//! links only that store's adapter; the local API holds every state in one `AppState` and
//! hands each handler its part.

use crate::ads::dynamodb::DynamoAds;
use crate::ads::{AdServer, AdStore};
use crate::config::{table, AdsSettings, Aws, Config, Get, LogsSettings, Paging, SettingError};
use crate::config::{StatsSettings, TableNames};
use crate::http::cursor::Cursors;
use crate::logs::dynamodb::DynamoLogs;
use crate::logs::LogStore;
use crate::once::dynamodb::DynamoKeys;
use crate::once::KeyStore;
use crate::people::dynamodb::DynamoPeople;
use crate::people::PersonStore;
use crate::series::dynamodb::DynamoSeries;
use crate::series::SeriesStore;
use crate::stats::dynamodb::DynamoStats;
use crate::stats::StatsStore;
use crate::store::dynamodb::{connect, Client};
use crate::visits::dynamodb::DynamoVisits;
use crate::visits::VisitStore;
use std::future::Future;
use std::sync::Arc;

/// A state a Lambda function builds during Init: from the settings it reads (and no others),
/// on DynamoDB, its connection opened.
pub trait Open: Sized + Send + Sync + 'static {
    /// The tables it uses (logical ids in `template.yaml`): what its function's environment
    /// and policy name (checked against the template by the tests).
    const TABLES: &'static [&'static str];
    /// Whether it also holds the idempotency keys (`Keyed`), and so uses `KEYS_TABLE` too.
    const KEYED: bool = false;

    /// Reads its settings (a present but invalid one is the error) and builds the state.
    fn open(get: Get<'_>) -> impl Future<Output = Result<Self, SettingError>>;
}

/// The state of a handler that needs none (`GET /`, `GET /ping`).
#[derive(Clone, Default)]
pub struct NoState;

impl Open for NoState {
    const TABLES: &'static [&'static str] = &[];

    async fn open(_get: Get<'_>) -> Result<Self, SettingError> {
        Ok(NoState)
    }
}

/// Declares the state of a service that is a store and its pagination cursors, opened on its
/// one table.
macro_rules! paged_state {
    ($($(#[doc = $doc:literal])+ $name:ident($store:ident, $adapter:ident, $table:literal);)*) => {
        $(
            $(#[doc = $doc])+
            #[derive(Clone)]
            pub struct $name {
                pub store: Arc<dyn $store>,
                /// Issues and checks the cursors of its lists.
                pub cursors: Cursors,
            }

            impl $name {
                pub fn dynamodb(client: Client, table: String, cursors: Cursors) -> Self {
                    $name {
                        store: Arc::new($adapter::new(client, table)),
                        cursors,
                    }
                }
            }

            impl Open for $name {
                const TABLES: &'static [&'static str] = &[$table];

                async fn open(get: Get<'_>) -> Result<Self, SettingError> {
                    let (aws, paging) = (Aws::read(get)?, Paging::read(get)?);
                    Ok(Self::dynamodb(
                        connect(&aws).await,
                        table(get, $table),
                        Cursors::from_settings(&paging),
                    ))
                }
            }
        )*
    };
}

paged_state! {
    /// The visit counter's state (`/database` cursors).
    VisitsState(VisitStore, DynamoVisits, "VisitsTable");
    /// The people directory's state (`/people` and `/people/age` cursors).
    PeopleState(PersonStore, DynamoPeople, "PeopleTable");
    /// The request statistics' state (`/api/{path}`, `/stats/` and its cursors).
    StatsState(StatsStore, DynamoStats, "StatsTable");
}

/// Declares the state of a service where it counts and reads series: its store and the
/// series (`POST /counters/{id}`, `GET /counters/{id}/series`, ...), opened on its table and
/// `SeriesTable`.
macro_rules! counter_state {
    ($($(#[doc = $doc:literal])+ $name:ident($store:ident, $adapter:ident, $table:literal);)*) => {
        $(
            $(#[doc = $doc])+
            #[derive(Clone)]
            pub struct $name {
                pub store: Arc<dyn $store>,
                pub series: Arc<dyn SeriesStore>,
            }

            impl $name {
                pub fn dynamodb(client: Client, table: String, series: String) -> Self {
                    $name {
                        store: Arc::new($adapter::new(client.clone(), table)),
                        series: Arc::new(DynamoSeries::new(client, series)),
                    }
                }
            }

            impl Open for $name {
                const TABLES: &'static [&'static str] = &[$table, "SeriesTable"];

                async fn open(get: Get<'_>) -> Result<Self, SettingError> {
                    let aws = Aws::read(get)?;
                    let (own, series) = (table(get, $table), table(get, "SeriesTable"));
                    Ok(Self::dynamodb(connect(&aws).await, own, series))
                }
            }
        )*
    };
}

counter_state! {
    /// The visit counter's state where it counts (`POST /form`, `POST /counters/{id}`) and
    /// reads a counter's series.
    VisitCounterState(VisitStore, DynamoVisits, "VisitsTable");
    /// The request statistics' state where they count (`GET /api/{path}`) and read a path's
    /// series.
    StatsCounterState(StatsStore, DynamoStats, "StatsTable");
}

/// The ad statistics' state.
#[derive(Clone)]
pub struct AdsState {
    pub store: Arc<dyn AdStore>,
    /// Where `GET /ad` fetches its VAST XML (`VAST_URL`, `VAST_TIMEOUT_MS`).
    pub ad_server: Arc<AdServer>,
}

impl AdsState {
    pub fn dynamodb(client: Client, table: String, settings: &AdsSettings) -> Self {
        AdsState {
            store: Arc::new(DynamoAds::new(client, table, settings.ad_shards)),
            ad_server: Arc::new(AdServer::from_settings(settings)),
        }
    }
}

impl Open for AdsState {
    const TABLES: &'static [&'static str] = &["AdStatsTable"];

    async fn open(get: Get<'_>) -> Result<Self, SettingError> {
        let (aws, settings) = (Aws::read(get)?, AdsSettings::read(get)?);
        Ok(Self::dynamodb(
            connect(&aws).await,
            table(get, Self::TABLES[0]),
            &settings,
        ))
    }
}

/// The event logs' state.
#[derive(Clone)]
pub struct LogsState {
    pub store: Arc<dyn LogStore>,
    /// Issues and checks `GET /log` cursors.
    pub cursors: Cursors,
}

impl LogsState {
    pub fn dynamodb(client: Client, table: String, logs: &LogsSettings, cursors: Cursors) -> Self {
        LogsState {
            store: Arc::new(
                DynamoLogs::new(client, table).with_retention_days(logs.log_retention_days),
            ),
            cursors,
        }
    }
}

impl Open for LogsState {
    const TABLES: &'static [&'static str] = &["LogsTable"];

    async fn open(get: Get<'_>) -> Result<Self, SettingError> {
        let aws = Aws::read(get)?;
        let (logs, paging) = (LogsSettings::read(get)?, Paging::read(get)?);
        let table = table(get, Self::TABLES[0]);
        let cursors = Cursors::from_settings(&paging);
        Ok(Self::dynamodb(connect(&aws).await, table, &logs, cursors))
    }
}

/// The table of the idempotency keys (logical id in `template.yaml`).
pub const KEYS_TABLE: &str = "IdempotencyTable";

/// The state of a counting or creating route (contract G): its service's state and the
/// idempotency keys, opened on the service's tables and `KEYS_TABLE` through one client.
pub struct Keyed<S> {
    pub inner: Arc<S>,
    pub keys: Arc<dyn KeyStore>,
}

/// A keyed route's handler reads its service's state through it.
impl<S> std::ops::Deref for Keyed<S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.inner
    }
}

impl<S: Open> Open for Keyed<S> {
    const TABLES: &'static [&'static str] = S::TABLES;
    const KEYED: bool = true;

    async fn open(get: Get<'_>) -> Result<Self, SettingError> {
        let inner = Arc::new(S::open(get).await?);
        let client = connect(&Aws::read(get)?).await;
        Ok(Keyed {
            inner,
            keys: Arc::new(DynamoKeys::new(client, table(get, KEYS_TABLE))),
        })
    }
}

impl<S> From<&AppState> for Keyed<S>
where
    S: for<'a> From<&'a AppState>,
{
    fn from(all: &AppState) -> Self {
        Keyed {
            inner: Arc::new(S::from(all)),
            keys: Arc::clone(&all.keys),
        }
    }
}

/// The self test's state (`POST /test/{n}`): where it sends its requests; no store.
#[derive(Clone)]
pub struct SelfTestState {
    /// `TALLY_SELF_URL`; `None`: the caller's origin.
    pub self_url: Option<String>,
}

impl Open for SelfTestState {
    const TABLES: &'static [&'static str] = &[];

    async fn open(get: Get<'_>) -> Result<Self, SettingError> {
        Ok(SelfTestState::from_settings(&StatsSettings::read(get)?))
    }
}

impl SelfTestState {
    pub fn from_settings(stats: &StatsSettings) -> Self {
        SelfTestState {
            self_url: stats.self_url.clone(),
        }
    }
}

/// The dashboard's state: a read of every service's store.
#[derive(Clone)]
pub struct DashboardState {
    pub visits: Arc<dyn VisitStore>,
    pub ads: Arc<dyn AdStore>,
    pub logs: Arc<dyn LogStore>,
    pub people: Arc<dyn PersonStore>,
    pub stats: Arc<dyn StatsStore>,
}

impl Open for DashboardState {
    const TABLES: &'static [&'static str] = &[
        "VisitsTable",
        "AdStatsTable",
        "LogsTable",
        "PeopleTable",
        "StatsTable",
    ];

    async fn open(get: Get<'_>) -> Result<Self, SettingError> {
        let (aws, ads) = (Aws::read(get)?, AdsSettings::read(get)?);
        let tables = TableNames::resolve(|spec| table(get, spec.logical_id));
        let client = connect(&aws).await;
        Ok(DashboardState {
            visits: Arc::new(DynamoVisits::new(client.clone(), tables.visits)),
            ads: Arc::new(DynamoAds::new(client.clone(), tables.ads, ads.ad_shards)),
            logs: Arc::new(DynamoLogs::new(client.clone(), tables.logs)),
            people: Arc::new(DynamoPeople::new(client.clone(), tables.people)),
            stats: Arc::new(DynamoStats::new(client, tables.stats)),
        })
    }
}

/// Every service's state: what the local API (and the tests) hold, handing each handler its
/// part (`From<&AppState>`).
#[derive(Clone)]
pub struct AppState {
    pub visits: VisitsState,
    pub series: Arc<dyn SeriesStore>,
    /// The idempotency keys of every counting or creating route.
    pub keys: Arc<dyn KeyStore>,
    pub ads: AdsState,
    pub logs: LogsState,
    pub people: PeopleState,
    pub stats: StatsState,
    pub self_test: SelfTestState,
}

impl AppState {
    /// Every store on DynamoDB through `client`, on the tables `config` names.
    pub fn dynamodb(client: Client, config: &Config) -> Self {
        let tables = config.tables.clone();
        let cursors = Cursors::from_settings(&config.paging);
        AppState {
            visits: VisitsState::dynamodb(client.clone(), tables.visits, cursors.clone()),
            series: Arc::new(DynamoSeries::new(client.clone(), tables.series)),
            keys: Arc::new(DynamoKeys::new(client.clone(), tables.keys)),
            ads: AdsState::dynamodb(client.clone(), tables.ads, &config.ads),
            logs: LogsState::dynamodb(client.clone(), tables.logs, &config.logs, cursors.clone()),
            people: PeopleState::dynamodb(client.clone(), tables.people, cursors.clone()),
            stats: StatsState::dynamodb(client, tables.stats, cursors),
            self_test: SelfTestState::from_settings(&config.stats),
        }
    }

    /// Local wiring: every store in one SQLite file under `config.local.data_dir`.
    #[cfg(feature = "embedded")]
    pub fn sqlite(config: &Config) -> Result<Self, crate::StoreError> {
        let db = crate::store::sqlite::Sqlite::open(&config.local.data_dir)?;
        let cursors = Cursors::from_settings(&config.paging);
        Ok(AppState {
            visits: VisitsState {
                store: Arc::new(crate::visits::sqlite::SqliteVisits::open(db.clone())?),
                cursors: cursors.clone(),
            },
            series: Arc::new(crate::series::sqlite::SqliteSeries::open(db.clone())?),
            keys: Arc::new(crate::once::sqlite::SqliteKeys::open(db.clone())?),
            ads: AdsState {
                store: Arc::new(crate::ads::sqlite::SqliteAds::open(db.clone())?),
                ad_server: Arc::new(AdServer::from_settings(&config.ads)),
            },
            logs: LogsState {
                store: Arc::new(crate::logs::sqlite::SqliteLogs::open(db.clone())?),
                cursors: cursors.clone(),
            },
            people: PeopleState {
                store: Arc::new(crate::people::sqlite::SqlitePeople::open(db.clone())?),
                cursors: cursors.clone(),
            },
            stats: StatsState {
                store: Arc::new(crate::stats::sqlite::SqliteStats::open(db)?),
                cursors,
            },
            self_test: SelfTestState::from_settings(&config.stats),
        })
    }
}

/// Each part the local API hands a handler, taken from every service's state.
macro_rules! parts {
    ($($state:ty => |$all:ident| $part:expr;)*) => {
        $(impl From<&AppState> for $state {
            fn from($all: &AppState) -> Self {
                $part
            }
        })*
    };
}

parts! {
    NoState => |_all| NoState;
    VisitsState => |all| all.visits.clone();
    VisitCounterState => |all| VisitCounterState {
        store: Arc::clone(&all.visits.store),
        series: Arc::clone(&all.series),
    };
    StatsCounterState => |all| StatsCounterState {
        store: Arc::clone(&all.stats.store),
        series: Arc::clone(&all.series),
    };
    AdsState => |all| all.ads.clone();
    LogsState => |all| all.logs.clone();
    PeopleState => |all| all.people.clone();
    StatsState => |all| all.stats.clone();
    SelfTestState => |all| all.self_test.clone();
    DashboardState => |all| DashboardState {
        visits: Arc::clone(&all.visits.store),
        ads: Arc::clone(&all.ads.store),
        logs: Arc::clone(&all.logs.store),
        people: Arc::clone(&all.people.store),
        stats: Arc::clone(&all.stats.store),
    };
}
