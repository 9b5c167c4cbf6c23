//! The DynamoDB engine: the client built once per container, table names, error mapping and
//! the query helpers the service adapters share.

use crate::StoreError;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
pub use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use std::time::Duration;

/// One DynamoDB item as the SDK returns it.
pub type Item = HashMap<String, AttributeValue>;

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
        logical_id: "StatsTable",
        env: "STATS_TABLE",
    },
];

/// The physical table names the adapters use.
#[derive(Debug, Clone)]
pub struct TableNames {
    pub visits: String,
    pub stats: String,
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
            stats: by_id("StatsTable"),
        }
    }

    /// Names from the environment (`VISITS_TABLE`, ...), defaulting to the logical ids.
    pub fn from_env() -> Self {
        Self::resolve(|spec| {
            std::env::var(spec.env).unwrap_or_else(|_| spec.logical_id.to_string())
        })
    }
}

/// Builds the client once per container. `DYNAMODB_ENDPOINT` points it at a local server.
pub async fn client_from_env() -> Client {
    client_for(std::env::var("DYNAMODB_ENDPOINT").ok().as_deref()).await
}

/// A client for AWS, or for a DynamoDB-protocol server at `endpoint` (with dummy credentials
/// and a default region when the environment configures none).
pub async fn client_for(endpoint: Option<&str>) -> Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(Credentials::new(
                "local",
                "local",
                None,
                None,
                "tally-local",
            ));
        }
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            loader = loader.region(Region::new("us-east-1"));
        }
    }
    Client::new(&loader.load().await)
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn from(err: SdkError<E, R>) -> Self {
        StoreError::Unavailable(DisplayErrorContext(&err).to_string())
    }
}

/// Runs a query until it has `limit` items or the partition is exhausted (a page stops at 1 MB).
pub async fn query_up_to(query: QueryFluentBuilder, limit: usize) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let want = i32::try_from(limit - items.len()).unwrap_or(i32::MAX);
        let out = query
            .clone()
            .set_exclusive_start_key(start)
            .limit(want)
            .send()
            .await?;
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() || items.len() >= limit {
            return Ok(items);
        }
    }
}

/// Runs one query per shard at once, each up to `limit` items; returns the items shard by shard.
pub async fn query_shards(
    shards: u32,
    limit: usize,
    query: impl Fn(u32) -> QueryFluentBuilder,
) -> Result<Vec<Vec<Item>>, StoreError> {
    let mut tasks = tokio::task::JoinSet::new();
    for shard in 0..shards {
        let query = query(shard);
        tasks.spawn(async move { (shard, query_up_to(query, limit).await) });
    }
    let mut results = vec![Vec::new(); shards as usize];
    while let Some(joined) = tasks.join_next().await {
        let (shard, items) =
            joined.map_err(|err| StoreError::Unavailable(format!("shard query: {err}")))?;
        results[shard as usize] = items?;
    }
    Ok(results)
}

fn malformed(name: &str) -> StoreError {
    StoreError::Unavailable(format!(
        "item attribute {name} is missing or has the wrong type"
    ))
}

/// A string attribute of an item.
pub fn string(item: &Item, name: &str) -> Result<String, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| malformed(name))
}

/// A number attribute of an item, parsed.
pub fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| malformed(name))
}

/// A number attribute value.
pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute value.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}
