//! The DynamoDB engine: the client built once per container, table names, error mapping and
//! the query helpers the service adapters share.

use crate::config::Aws;
use crate::store::merge::ShardedQuery;
use crate::store::shard_of;
use crate::StoreError;
use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::{TimeoutConfig, TimeoutConfigBuilder};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, PutRequest, ReturnValue, WriteRequest,
};
pub use aws_sdk_dynamodb::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::Duration;

/// One DynamoDB item as the SDK returns it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The timeouts of every call: connecting, and the whole operation with its retries.
fn timeouts() -> TimeoutConfigBuilder {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_timeout(Duration::from_secs(5))
}

/// Per-call settings for a write that must not be applied twice, such as a counter's `ADD`:
/// no per-attempt timeout, so a slow attempt is awaited (within the operation timeout) instead
/// of being abandoned and sent again, which would count twice if the first one was applied.
/// Use with `.customize().config_override(write_once())`.
pub(crate) fn write_once() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::default()
        .timeout_config(timeouts().disable_operation_attempt_timeout().build())
}

/// Per-call settings for a conditional write: sent once, no SDK retry and no per-attempt
/// timeout (within the operation timeout), because a resent conditional write whose first
/// attempt was applied fails its own condition. The caller resends only what `is_throttling`
/// says was not applied. Use with `.customize().config_override(send_once())`.
pub(crate) fn send_once() -> aws_sdk_dynamodb::config::Builder {
    write_once().retry_config(RetryConfig::disabled())
}

/// Builds the client once per container: for AWS, or for the DynamoDB-protocol server at
/// `DYNAMODB_ENDPOINT`. Credentials and region come from the settings, which in Lambda hold
/// what Lambda sets for the execution role (`AWS_ACCESS_KEY_ID`, ..., `AWS_REGION`): the
/// first source aws-config's default chain would take there anyway, without linking that
/// chain (profiles, SSO, STS, IMDS, ECS) into every function. Without credentials and with an
/// endpoint: dummy ones; without a region: `us-east-1`.
/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
pub fn client(config: &Aws) -> Client {
    let region = config
        .aws_region
        .clone()
        .or_else(|| config.aws_default_region.clone())
        .unwrap_or_else(|| "us-east-1".to_string());
    let credentials = match (&config.aws_access_key, &config.aws_secret_key) {
        (Some(key), Some(secret)) => Some(Credentials::new(
            key,
            secret,
            config.aws_session_token.clone(),
            None,
            "environment",
        )),
        _ => config
            .dynamodb_endpoint
            .as_ref()
            .map(|_| Credentials::new("local", "local", None, None, "tally-local")),
    };
    let mut sdk = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https())
        .region(Region::new(region))
        .timeout_config(call_timeouts())
        .retry_config(retries());
    sdk.set_credentials_provider(credentials.map(SharedCredentialsProvider::new));
    sdk.set_endpoint_url(config.dynamodb_endpoint.clone());
    Client::from_conf(sdk.build())
}

/// How long Init waits for `warm_up` at most.
const WARM_UP: Duration = Duration::from_millis(500);

/// The client `connect` built, and for which settings.
static CONNECTED: std::sync::Mutex<Option<(Aws, Client)>> = std::sync::Mutex::new(None);

/// A function's client, its connections opened (`warm_up`): what every state a function
/// builds during Init uses. Built once per process and settings, so that the parts of one
/// state (a service's store and its idempotency keys) share one client, one connection pool
/// and one warm-up.
pub async fn connect(config: &Aws) -> Client {
    let built = |held: &Option<(Aws, Client)>| {
        held.as_ref()
            .filter(|(aws, _)| aws == config)
            .map(|(_, client)| client.clone())
    };
    if let Some(client) = CONNECTED.lock().ok().and_then(|held| built(&held)) {
        return client;
    }
    let client = client(config);
    warm_up(&client).await;
    if let Ok(mut held) = CONNECTED.lock() {
        *held = Some((config.clone(), client.clone()));
    }
    client
}

/// Opens the client's connection during Init with one cheap call, so that the first request
/// does not pay the TLS handshake at the invocation's CPU share (Init is observed to run with
/// more CPU: README, "Cold start"). `DescribeEndpoints` reads no table and costs no capacity
/// units. Bounded by `WARM_UP`; whatever it answers, an error included, leaves the connection
/// open, and a failure to connect is logged and otherwise ignored: the first request then
/// connects itself.
/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeEndpoints.html
pub async fn warm_up(client: &Client) {
    match tokio::time::timeout(WARM_UP, client.describe_endpoints().send()).await {
        Ok(Ok(_)) => tracing::debug!("DynamoDB connection opened during Init"),
        Ok(Err(SdkError::ServiceError(err))) => tracing::debug!(
            status = err.raw().status().as_u16(),
            "DynamoDB connection opened during Init (the warm-up call was refused)"
        ),
        Ok(Err(err)) => tracing::warn!(
            error = %DisplayErrorContext(&err),
            "no DynamoDB connection during Init; the first request connects"
        ),
        Err(_) => tracing::warn!(
            timeout_ms = WARM_UP.as_millis() as u64,
            "the DynamoDB warm-up call timed out; the first request connects"
        ),
    }
}

/// The SDK's default chain (credentials, region and endpoint from the environment, profiles,
/// SSO where the binary enables aws-config's `sso` feature) with Tally's timeouts and retries:
/// what an admin command on a laptop uses (`tally-local import-people --stack`).
pub fn loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https())
        .timeout_config(call_timeouts())
        .retry_config(retries())
}

/// Every client's HTTPS stack: the SDK's own (hyper, rustls, the system's root certificates)
/// with rustls on ring rather than the SDK's default aws-lc, which is the larger library in
/// every function's binary (README, "Sizes").
pub fn https() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Every client's timeouts: `timeouts`, and 2 s per attempt.
fn call_timeouts() -> TimeoutConfig {
    timeouts()
        .operation_attempt_timeout(Duration::from_secs(2))
        .build()
}

/// Every client's retries: standard, 3 attempts.
fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// DynamoDB error codes worth retrying: the request was throttled, or DynamoDB failed
/// inside (every 5xx is retryable too). Every other 4xx (`ValidationException`,
/// `ResourceNotFoundException`, `AccessDeniedException`, ...) fails again if resent. See
/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
const TRANSIENT_CODES: &[&str] = &[
    THROTTLING_CODES[0],
    THROTTLING_CODES[1],
    THROTTLING_CODES[2],
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
    "LimitExceededException",
];

/// The codes of a request DynamoDB refused for its rate, before applying anything.
const THROTTLING_CODES: [&str; 3] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
];

/// Whether DynamoDB refused a request for its rate, so applied nothing of it.
pub(crate) fn is_throttling<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .is_some_and(|code| THROTTLING_CODES.contains(&code))
}

/// The one classification of SDK errors: timeouts, lost connections, unreadable responses,
/// throttling and 5xx are transient (503); anything else DynamoDB said is permanent (500).
impl<E> From<SdkError<E, HttpResponse>> for StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        let transient = match &err {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => {
                service.raw().status().is_server_error()
                    || service
                        .err()
                        .code()
                        .is_some_and(|code| TRANSIENT_CODES.contains(&code))
            }
            _ => false,
        };
        let message = DisplayErrorContext(&err).to_string();
        if transient {
            StoreError::Unavailable(message)
        } else {
            StoreError::Failed(message)
        }
    }
}

/// Runs a query until it has `limit` items or the partition is exhausted (a page stops at 1 MB).
pub(crate) async fn query_up_to(
    query: QueryFluentBuilder,
    limit: usize,
) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start = query.get_exclusive_start_key().clone();
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

/// How often `batch_get` asks again for keys DynamoDB left unprocessed before giving up.
const BATCH_GET_ATTEMPTS: u32 = 5;

/// Reads items by key, strongly consistent (each item costs one read unit per 4 KB), with
/// `batch_read`.
pub(crate) async fn batch_get(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
) -> Result<Vec<Item>, StoreError> {
    batch_read(client, table, keys, true).await
}

/// Keys per BatchGetItem call (the API's limit:
/// <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html>).
const BATCH_GET_KEYS: usize = 100;

/// Reads any number of items by key, strongly consistent or not (eventually consistent: half a
/// read unit per 4 KB): one BatchGetItem per 100 keys, `BATCHES_IN_FLIGHT` at a time. No keys,
/// no call.
pub(crate) async fn batch_read(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
    consistent: bool,
) -> Result<Vec<Item>, StoreError> {
    let chunks: Vec<Vec<Item>> = keys.chunks(BATCH_GET_KEYS).map(<[Item]>::to_vec).collect();
    let items: Vec<Vec<Item>> = stream::iter(chunks)
        .map(|chunk| batch_read_once(client, table, chunk, consistent))
        .buffered(BATCHES_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(items.into_iter().flatten().collect())
}

/// One BatchGetItem of at most 100 keys; keys DynamoDB leaves unprocessed are asked again after
/// a short backoff.
async fn batch_read_once(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
    consistent: bool,
) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut pending = keys;
    for attempt in 0..BATCH_GET_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let request = KeysAndAttributes::builder()
            .set_keys(Some(pending))
            .consistent_read(consistent)
            .build()
            .map_err(|err| StoreError::Failed(err.to_string()))?;
        let out = client
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await?;
        if let Some(found) = out.responses.and_then(|mut r| r.remove(table)) {
            items.extend(found);
        }
        pending = out
            .unprocessed_keys
            .and_then(|mut u| u.remove(table))
            .map(|k| k.keys)
            .unwrap_or_default();
        if pending.is_empty() {
            return Ok(items);
        }
    }
    Err(StoreError::Unavailable(format!(
        "BatchGetItem left {} keys unprocessed",
        pending.len()
    )))
}

/// Items per BatchWriteItem call (the API's limit).
pub(crate) const BATCH_SIZE: usize = 25;
/// BatchWriteItem calls one request keeps in flight.
const BATCHES_IN_FLIGHT: usize = 4;
/// Calls per batch (the first and its retries of unprocessed items) before giving up.
const BATCH_ATTEMPTS: u32 = 6;

/// Puts every item, 25 per BatchWriteItem and a few batches at a time, retrying unprocessed
/// items with exponential backoff and jitter. A failure may leave part of the items written,
/// so only idempotent puts (same key, same item on a retry) belong here.
pub(crate) async fn put_all(
    client: &Client,
    table: &str,
    items: Vec<Item>,
) -> Result<(), StoreError> {
    let mut requests = items.into_iter().map(|item| {
        PutRequest::builder()
            .set_item(Some(item))
            .build()
            .map(|put| WriteRequest::builder().put_request(put).build())
            .map_err(|err| StoreError::Failed(err.to_string()))
    });
    let mut batches = Vec::new();
    loop {
        let batch = requests
            .by_ref()
            .take(BATCH_SIZE)
            .collect::<Result<Vec<_>, _>>()?;
        if batch.is_empty() {
            break;
        }
        batches.push(Ok(batch));
    }
    stream::iter(batches)
        .try_for_each_concurrent(BATCHES_IN_FLIGHT, |batch| write_batch(client, table, batch))
        .await
}

async fn write_batch(
    client: &Client,
    table: &str,
    mut batch: Vec<WriteRequest>,
) -> Result<(), StoreError> {
    for attempt in 0..BATCH_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let out = client
            .batch_write_item()
            .request_items(table, batch)
            .send()
            .await?;
        batch = out
            .unprocessed_items
            .and_then(|mut left| left.remove(table))
            .unwrap_or_default();
        if batch.is_empty() {
            return Ok(());
        }
    }
    Err(StoreError::Unavailable(format!(
        "{} items still unprocessed after {BATCH_ATTEMPTS} attempts",
        batch.len()
    )))
}

/// The pause before retrying what a batch call left unprocessed (`batch_get`, `put_all`):
/// half of 25 ms x 2^attempt, plus a random part up to the other half, so that callers that
/// failed together do not retry together.
fn backoff(attempt: u32) -> Duration {
    let ceiling = 25u64 << attempt.min(8);
    Duration::from_millis(ceiling / 2 + fastrand::u64(0..=ceiling / 2))
}

/// An `UpdateItem` that counts one more on the item `key_name = key`: `ADD count 1` and `SET
/// shard` to the key's index shard (of `shards`), then the further `SET` clauses `more_set`
/// (", ..."; their names and values added by the caller). Send it with `new_count`. The visit
/// counter and the request statistics count this way.
pub(crate) fn add_one(
    client: &Client,
    table: &str,
    key_name: &str,
    key: &str,
    shards: u32,
    more_set: &str,
) -> UpdateItemFluentBuilder {
    client
        .update_item()
        .table_name(table)
        .key(key_name, s(key))
        .update_expression(format!("ADD #count :one SET #shard = :shard{more_set}"))
        .expression_attribute_names("#count", "count")
        .expression_attribute_names("#shard", "shard")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":shard", n(shard_of(key, shards)))
        .return_values(ReturnValue::UpdatedNew)
}

/// Sends an `add_one` update once (`write_once`) and returns the new count.
pub(crate) async fn new_count(update: UpdateItemFluentBuilder) -> Result<u64, StoreError> {
    let out = update
        .customize()
        .config_override(write_once())
        .send()
        .await?;
    number(&out.attributes.unwrap_or_default(), "count")
}

/// Where a `ByCount` index shard (partition `shard`, sort `count`) resumes after the entry
/// `key_name = key` counted `count` times: its `ExclusiveStartKey`.
pub(crate) fn by_count_start(key_name: &str, key: &str, shard: u32, count: u64) -> Item {
    [(key_name, s(key)), ("shard", n(shard)), ("count", n(count))]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// A sharded index read through the merge (`store::merge`): `query(shard, after)` is the Query
/// of one shard resumed after a key, in key order; `parse` turns an item into its key and value.
pub(crate) struct IndexShards<Q, P> {
    pub(crate) shards: u32,
    pub(crate) query: Q,
    pub(crate) parse: P,
}

#[async_trait]
impl<K, T, Q, P> ShardedQuery for IndexShards<Q, P>
where
    K: Ord + Clone + Send + Sync,
    T: Send,
    Q: Fn(u32, Option<&K>) -> QueryFluentBuilder + Sync,
    P: Fn(&Item) -> Result<(K, T), StoreError> + Sync,
{
    type Key = K;
    type Item = T;

    fn shards(&self) -> usize {
        self.shards as usize
    }

    async fn fetch(
        &self,
        shard: usize,
        after: Option<&K>,
        limit: usize,
    ) -> Result<Vec<(K, T)>, StoreError> {
        let shard = u32::try_from(shard).unwrap_or(u32::MAX);
        let items = query_up_to((self.query)(shard, after), limit).await?;
        items.iter().map(&self.parse).collect()
    }
}

/// Runs one query per shard at once, each up to `limit` items; returns the items shard by shard.
/// Only for sums over every shard (the logs' daily rollup, whose every counter lives on every
/// shard, so each must be read whole anyway); listings and top-N go through the merge.
pub(crate) async fn query_shards(
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
            joined.map_err(|err| StoreError::Failed(format!("shard query: {err}")))?;
        results[shard as usize] = items?;
    }
    Ok(results)
}

fn malformed(name: &str) -> StoreError {
    StoreError::Failed(format!(
        "item attribute {name} is missing or has the wrong type"
    ))
}

/// A string attribute of an item.
pub(crate) fn string(item: &Item, name: &str) -> Result<String, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| malformed(name))
}

/// A number attribute of an item, parsed.
pub(crate) fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| malformed(name))
}

/// A number attribute that may be absent; present with the wrong type is an error.
pub(crate) fn optional_number<T: std::str::FromStr>(
    item: &Item,
    name: &str,
) -> Result<Option<T>, StoreError> {
    item.get(name).map(|_| number(item, name)).transpose()
}

/// An optional attribute, converted by `read`; present with the wrong type is an error.
pub(crate) fn optional<T>(
    item: &Item,
    name: &str,
    read: impl Fn(&AttributeValue) -> Option<T>,
) -> Result<Option<T>, StoreError> {
    item.get(name)
        .map(|v| read(v).ok_or_else(|| malformed(name)))
        .transpose()
}

/// A number attribute value.
pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute value.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_types::body::SdkBody;

    #[test]
    fn backoff_is_half_its_ceiling_plus_a_random_part_up_to_the_rest() {
        for attempt in 1..6 {
            let ceiling = 25u64 << attempt;
            let pauses: std::collections::HashSet<u64> = (0..200)
                .map(|_| backoff(attempt).as_millis() as u64)
                .collect();
            assert!(pauses.iter().all(|ms| (ceiling / 2..=ceiling).contains(ms)));
            assert!(pauses.len() > 1, "jittered: {pauses:?}");
        }
    }

    #[test]
    fn by_count_start_names_the_index_keys_and_the_table_key() {
        let start = by_count_start("id", "alice", 3, 7);
        assert_eq!(start.get("id"), Some(&s("alice")));
        assert_eq!(start.get("shard"), Some(&n(3)));
        assert_eq!(start.get("count"), Some(&n(7)));
    }

    fn service_error(status: u16, code: &str) -> StoreError {
        let err = GetItemError::generic(ErrorMetadata::builder().code(code).build());
        let status = status.try_into().expect("a status code");
        SdkError::service_error(err, HttpResponse::new(status, SdkBody::empty())).into()
    }

    #[test]
    fn throttling_and_server_errors_are_transient_validation_is_permanent() {
        assert!(service_error(400, "ThrottlingException").is_transient());
        assert!(service_error(400, "ProvisionedThroughputExceededException").is_transient());
        assert!(service_error(500, "InternalServerError").is_transient());
        assert!(service_error(503, "Whatever").is_transient());
        assert!(!service_error(400, "ValidationException").is_transient());
        assert!(!service_error(400, "ResourceNotFoundException").is_transient());
    }
}
