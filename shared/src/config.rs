//! Every setting Tally reads from the environment, declared once with its default and meaning,
//! in the part of the settings that uses it (a function reads only the parts its state needs;
//! the local API reads them all, `Config::from_env`), read once at start and handed to the
//! state; never read in a handler.
//! A setting that is present but invalid stops the process at start (`SettingError`): a value
//! that "may grow, never shrink" must not quietly become its default.
//!
//! Adding a setting is one entry in a part of `settings!` below (and its row in the README's table,
//! which a test holds to `names()`).

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;

/// One setting: its environment variable and what it means (its field's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub meaning: &'static str,
}

/// A setting that is set but cannot be used: its variable, its value and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value:?} is not allowed: {allowed}")]
pub struct SettingError {
    pub name: &'static str,
    pub value: String,
    pub allowed: String,
}

/// How a setting is looked up: the value of a variable, if set.
pub type Get<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Declares each part of the settings: a struct whose fields each have a variable and how
/// its raw value becomes the field (`$parse` gets the variable's name and its value, if set),
/// its `read` and its `SETTINGS` list. A function reads only the parts its state needs.
macro_rules! settings {
    ($(
        $(#[doc = $part_doc:literal])+
        $part:ident {
            $(
                $(#[doc = $doc:literal])+
                $field:ident: $ty:ty = $name:literal, $parse:expr;
            )*
        }
    )*) => {
        $(
            $(#[doc = $part_doc])+
            #[derive(Clone, Debug, PartialEq)]
            pub struct $part {
                $($(#[doc = $doc])+ pub $field: $ty,)*
            }

            impl $part {
                /// This part's settings, in declaration order.
                pub const SETTINGS: &'static [Setting] = &[$(Setting {
                    name: $name,
                    meaning: concat!($($doc),+),
                }),*];

                /// This part, given each variable's value (`None`: unset); the first one set
                /// to a value it cannot take is the error.
                pub fn read(get: Get) -> Result<Self, SettingError> {
                    Ok($part {
                        $($field: ($parse)($name, get($name))?,)*
                    })
                }
            }

            impl Default for $part {
                /// Every default; each is valid (`every_default_is_valid`).
                fn default() -> Self {
                    match $part::read(&|_| None) {
                        Ok(part) => part,
                        Err(err) => unreachable!("a default setting is invalid: {err}"),
                    }
                }
            }
        )*

        /// Every part's settings but the table names (`TABLES`).
        pub const PARTS: &[&[Setting]] = &[$($part::SETTINGS),*];
    };
}

/// The original service's ad server, `VAST_URL`'s default.
const ORIGINAL_AD_SERVER: &str =
    "https://6u3td6zfza.execute-api.us-east-2.amazonaws.com/prod/ad/vast";

settings! {
    /// The local API's own settings; no function reads them.
    Local {
        /// The local API's listen address (the port `sam local start-api` uses).
        addr: String = "TALLY_ADDR", text("127.0.0.1:3000");
        /// The directory of the local API's embedded store (one SQLite file, WAL mode).
        data_dir: PathBuf = "TALLY_DATA_DIR", |name, raw| text(".tally")(name, raw).map(PathBuf::from);
        /// Lambda mode (`make run-lambda`): execution environments running at once, all
        /// functions together (1 to 10000, default 1000, Lambda's default account quota);
        /// beyond: throttled.
        lambda_concurrency: usize = "TALLY_LAMBDA_CONCURRENCY", number(1000, 1..=10_000);
    }
    /// How a process logs and names itself in metrics: read by every function.
    Logging {
        /// The function's name, set by Lambda: the `Function` dimension of metrics (default
        /// `local`).
        function_name: String = "AWS_LAMBDA_FUNCTION_NAME", text("local");
        /// The functions' log level (Lambda's advanced logging controls; default `INFO`).
        lambda_log_level: Option<String> = "AWS_LAMBDA_LOG_LEVEL", optional;
        /// The functions' log level when `AWS_LAMBDA_LOG_LEVEL` is unset (a level, no filters).
        rust_log: Option<String> = "RUST_LOG", optional;
        /// `JSON`: the functions log JSON lines (Lambda's JSON log format); otherwise text.
        lambda_log_format: Option<String> = "AWS_LAMBDA_LOG_FORMAT", optional;
    }
    /// Where DynamoDB is and who calls it: read by every function with a store.
    Aws {
        /// A DynamoDB-protocol endpoint to use instead of AWS (the local API then uses
        /// DynamoDB instead of its embedded store, creating missing tables from
        /// `template.yaml`). Unset or blank: AWS (Lambda), the embedded store (local API).
        dynamodb_endpoint: Option<String> = "DYNAMODB_ENDPOINT", optional;
        /// The DynamoDB client's credentials (set by Lambda, with the secret key and session
        /// token below). Unset with `DYNAMODB_ENDPOINT`: dummy credentials.
        aws_access_key: Option<String> = "AWS_ACCESS_KEY_ID", optional;
        /// The secret of `AWS_ACCESS_KEY_ID`.
        aws_secret_key: Option<String> = "AWS_SECRET_ACCESS_KEY", optional;
        /// The session token of temporary credentials (Lambda's execution role).
        aws_session_token: Option<String> = "AWS_SESSION_TOKEN", optional;
        /// The DynamoDB client's region (set by Lambda). Unset (with `AWS_DEFAULT_REGION`):
        /// `us-east-1`.
        aws_region: Option<String> = "AWS_REGION", optional;
        /// The fallback region variable; see `AWS_REGION`.
        aws_default_region: Option<String> = "AWS_DEFAULT_REGION", optional;
    }
    /// The key of pagination cursors: read by the services that list (visits, people, logs,
    /// request statistics).
    Paging {
        /// The key of pagination cursors. AWS: the template's `CursorSecret` parameter
        /// (NoEcho, no default). The local API: a random key made on first start and kept in
        /// `TALLY_DATA_DIR/cursor-key`. Unset anywhere else: a random key for this process only.
        cursor_secret: Option<String> = "TALLY_CURSOR_SECRET", optional;
    }
    /// The ad statistics' settings.
    AdsSettings {
        /// How many items each SDK version's ad counter is spread over (1 to 100, default 8).
        /// It may grow, never shrink: a read sums only the shards below the current count.
        ad_shards: u32 = "SDK_COUNTER_SHARDS", number(8, 1..=crate::ads::MAX_SHARDS);
        /// The ad server `/ad` fetches VAST XML from (default: the original service's).
        vast_url: String = "VAST_URL", text(ORIGINAL_AD_SERVER);
        /// How long `/ad` waits for the ad server, in milliseconds (1 to 60000, default 3000).
        vast_timeout_ms: u64 = "VAST_TIMEOUT_MS", number(3000, 1..=60_000);
    }
    /// The event logs' settings.
    LogsSettings {
        /// Days an event-log action and its retry record are kept on DynamoDB before its TTL
        /// deletes them (`template.yaml` sets it from `LogActionRetentionDays`; 0 to 36500,
        /// default 0: kept forever).
        log_retention_days: u64 = "LOGS_RETENTION_DAYS", number(0, 0..=36_500);
    }
    /// The request statistics' settings.
    StatsSettings {
        /// Where `POST /test/{n}` sends its requests; unset or blank: the origin the caller
        /// used.
        self_url: Option<String> = "TALLY_SELF_URL", optional;
    }
}

/// Every setting, read once at start by the local API (a function reads only its parts).
/// `Config::default()` is every default, whatever the environment says (for tests).
#[derive(Clone, Debug)]
pub struct Config {
    pub local: Local,
    pub logging: Logging,
    pub aws: Aws,
    pub paging: Paging,
    pub ads: AdsSettings,
    pub logs: LogsSettings,
    pub stats: StatsSettings,
    /// The physical table names: each table's variable in `TABLES` (set by `template.yaml` in
    /// AWS), defaulting to its logical id.
    pub tables: TableNames,
}

impl Config {
    /// Every part, given each variable's value; the first one set to a value it cannot take
    /// is the error.
    pub fn read(get: Get) -> Result<Self, SettingError> {
        Ok(Config {
            local: Local::read(get)?,
            logging: Logging::read(get)?,
            aws: Aws::read(get)?,
            paging: Paging::read(get)?,
            ads: AdsSettings::read(get)?,
            logs: LogsSettings::read(get)?,
            stats: StatsSettings::read(get)?,
            tables: TableNames::resolve(|spec| table(get, spec.logical_id)),
        })
    }

    /// The settings of this process's environment.
    pub fn from_env() -> Result<Self, SettingError> {
        Config::read(&env)
    }
}

impl Default for Config {
    /// Every default; each is valid (`every_default_is_valid`).
    fn default() -> Self {
        match Config::read(&|_| None) {
            Ok(config) => config,
            Err(err) => unreachable!("a default setting is invalid: {err}"),
        }
    }
}

/// A variable of this process's environment.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The physical name of the table `logical_id` names in `template.yaml`: its variable's
/// value, else the logical id itself.
pub fn table(get: Get, logical_id: &str) -> String {
    TABLES
        .iter()
        .find(|spec| spec.logical_id == logical_id)
        .and_then(|spec| get(spec.env))
        .unwrap_or_else(|| logical_id.to_string())
}

/// Every variable Tally reads: every part's settings and the table names.
pub fn names() -> impl Iterator<Item = &'static str> {
    PARTS
        .iter()
        .flat_map(|part| part.iter())
        .map(|s| s.name)
        .chain(TABLES.iter().map(|t| t.env))
}

/// The value as given, or `default` when unset.
fn text(default: &'static str) -> impl Fn(&'static str, Option<String>) -> Read<String> {
    move |_, raw| Ok(raw.unwrap_or_else(|| default.to_string()))
}

/// What reading one setting gives.
type Read<T> = Result<T, SettingError>;

/// The value trimmed; unset or blank is `None`.
fn optional(_name: &'static str, raw: Option<String>) -> Read<Option<String>> {
    Ok(raw
        .map(|raw| raw.trim().to_string())
        .filter(|raw| !raw.is_empty()))
}

/// The value parsed as a whole number in `range` (spaces around it allowed), `default` when
/// unset; anything else set is refused, blank included.
fn number<T>(
    default: T,
    range: RangeInclusive<T>,
) -> impl Fn(&'static str, Option<String>) -> Read<T>
where
    T: FromStr + PartialOrd + Copy + std::fmt::Display,
{
    move |name, raw| {
        let Some(raw) = raw else {
            return Ok(default);
        };
        match raw.trim().parse::<T>() {
            Ok(value) if range.contains(&value) => Ok(value),
            _ => Err(SettingError {
                name,
                value: raw,
                allowed: format!(
                    "a whole number from {} to {} (unset: {default})",
                    range.start(),
                    range.end()
                ),
            }),
        }
    }
}

/// A table of `template.yaml`: its logical id there and the variable that names it at run time.
pub struct TableSpec {
    pub logical_id: &'static str,
    pub env: &'static str,
}

/// Every table Tally uses. The keys and indexes themselves are declared only in `template.yaml`.
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        logical_id: "VisitsTable",
        env: "VISITS_TABLE",
    },
    TableSpec {
        logical_id: "AdStatsTable",
        env: "ADS_TABLE",
    },
    TableSpec {
        logical_id: "LogsTable",
        env: "LOGS_TABLE",
    },
    TableSpec {
        logical_id: "PeopleTable",
        env: "PEOPLE_TABLE",
    },
    TableSpec {
        logical_id: "StatsTable",
        env: "STATS_TABLE",
    },
    TableSpec {
        logical_id: "SeriesTable",
        env: "SERIES_TABLE",
    },
    TableSpec {
        logical_id: "IdempotencyTable",
        env: "IDEMPOTENCY_TABLE",
    },
];

/// The physical table names the adapters use.
#[derive(Debug, Clone)]
pub struct TableNames {
    pub visits: String,
    pub ads: String,
    pub logs: String,
    pub people: String,
    pub stats: String,
    pub series: String,
    pub keys: String,
}

impl TableNames {
    /// Resolves each table's name from its spec (env variable, prefix, ...).
    pub fn resolve(name: impl Fn(&TableSpec) -> String) -> Self {
        let by_id = |id: &str| {
            TABLES
                .iter()
                .find(|t| t.logical_id == id)
                .map(&name)
                .unwrap_or_default()
        };
        TableNames {
            visits: by_id("VisitsTable"),
            ads: by_id("AdStatsTable"),
            logs: by_id("LogsTable"),
            people: by_id("PeopleTable"),
            stats: by_id("StatsTable"),
            series: by_id("SeriesTable"),
            keys: by_id("IdempotencyTable"),
        }
    }

    /// The name of the table `spec` describes.
    pub fn of(&self, spec: &TableSpec) -> &str {
        match spec.logical_id {
            "VisitsTable" => &self.visits,
            "AdStatsTable" => &self.ads,
            "LogsTable" => &self.logs,
            "PeopleTable" => &self.people,
            "SeriesTable" => &self.series,
            "IdempotencyTable" => &self.keys,
            _ => &self.stats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn with(vars: &[(&str, &str)]) -> Config {
        read(vars).expect("valid settings")
    }

    fn read(vars: &[(&str, &str)]) -> Result<Config, SettingError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::read(&move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn every_default_is_valid() {
        assert!(Config::read(&|_| None).is_ok());
        assert_eq!(Config::default().ads.ad_shards, 8);
    }

    #[test]
    fn numbers_out_of_range_or_unparsable_are_refused_naming_variable_value_and_range() {
        for bad in ["0", "101", "abc", "", "8.5"] {
            let err = read(&[("SDK_COUNTER_SHARDS", bad)]).expect_err(bad);
            assert_eq!(
                err.to_string(),
                format!(
                    "SDK_COUNTER_SHARDS={bad:?} is not allowed: a whole number from 1 to 100 \
                     (unset: 8)"
                )
            );
        }
        assert_eq!(with(&[("SDK_COUNTER_SHARDS", " 16 ")]).ads.ad_shards, 16);
        let err = read(&[("VAST_TIMEOUT_MS", "60001")]).expect_err("refused");
        assert_eq!(err.name, "VAST_TIMEOUT_MS");
    }

    #[test]
    fn blank_optional_settings_are_unset_and_tables_default_to_logical_ids() {
        let config = with(&[("TALLY_SELF_URL", "  "), ("STATS_TABLE", "t-stats")]);
        assert_eq!(config.stats.self_url, None);
        assert_eq!(
            with(&[("TALLY_SELF_URL", " http://x ")])
                .stats
                .self_url
                .as_deref(),
            Some("http://x")
        );
        assert_eq!(config.tables.stats, "t-stats");
        assert_eq!(config.tables.visits, "VisitsTable");
        for spec in TABLES {
            assert_eq!(with(&[]).tables.of(spec), spec.logical_id);
        }
    }

    /// The README's settings table lists exactly the variables declared here.
    #[test]
    fn the_readme_lists_every_setting() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("### Settings")
            .nth(1)
            .expect("README has a Settings section");
        let listed: BTreeSet<&str> = section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .filter_map(|line| line.split('|').nth(1))
            .flat_map(|cell| cell.split('`').skip(1).step_by(2))
            .collect();
        assert_eq!(listed, names().collect::<BTreeSet<_>>());
        assert!(PARTS
            .iter()
            .flat_map(|p| p.iter())
            .all(|s| !s.meaning.is_empty()));
    }
}
