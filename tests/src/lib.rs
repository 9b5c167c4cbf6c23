//! The integration-test harness: starts the local API in-process on a free loopback port, on
//! the embedded store (a fresh directory) or on the DynamoDB-protocol server that `make test`
//! starts (fresh tables per test), and speaks HTTP to it.

pub mod bench;
pub mod dashboard;
pub mod dynamodb_server;
pub mod events;
pub mod operations;
pub mod runtime_api;
pub mod stub;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tally::config::{Config, TableNames, TableSpec, TABLES};
use tally::store::dynamodb::client_at;
use tally::AppState;
use tempfile::TempDir;
use tokio::task::JoinHandle;

/// Where `make test` runs the DynamoDB-protocol server.
pub const DYNAMODB_ENV: &str = "TALLY_TEST_DYNAMODB_ENDPOINT";

/// The endpoint of the test DynamoDB server. Its absence is a failure, never a skip.
pub fn dynamodb_endpoint() -> String {
    std::env::var(DYNAMODB_ENV).unwrap_or_else(|_| {
        panic!("{DYNAMODB_ENV} is not set: run the tests with `make test`, which starts the DynamoDB server")
    })
}

/// A table-name prefix no other test in this run uses.
fn unique_prefix() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t{}-{}-",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Fresh tables on the test DynamoDB server, created from `template.yaml`.
pub struct DynamoTables {
    pub client: tally::store::dynamodb::Client,
    pub names: TableNames,
    prefix: String,
}

impl DynamoTables {
    pub async fn create() -> Self {
        let client = client_at(&dynamodb_endpoint()).await;
        let prefix = unique_prefix();
        let names = tally_local::schema::ensure_tables(&client, |spec| table_name(&prefix, spec))
            .await
            .expect("tables created from template.yaml");
        DynamoTables {
            client,
            names,
            prefix,
        }
    }

    /// The environment a function needs to use these tables (`VISITS_TABLE=...`, ...).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        TABLES
            .iter()
            .map(|spec| (spec.env, table_name(&self.prefix, spec)))
            .collect()
    }

    pub fn state(self) -> AppState {
        dynamodb_state_on(self.client, self.names)
    }

    /// Stores on these tables whose DynamoDB operations are recorded.
    pub fn recorded_state(self) -> (AppState, operations::OperationLog) {
        let (client, log) = operations::recorded(&self.client);
        (dynamodb_state_on(client, self.names), log)
    }
}

fn table_name(prefix: &str, spec: &TableSpec) -> String {
    format!("{prefix}{}", spec.logical_id)
}

/// A client and the names of fresh DynamoDB tables, for tests that talk to the tables directly.
pub async fn dynamodb_tables() -> (tally::store::dynamodb::Client, TableNames) {
    let tables = DynamoTables::create().await;
    (tables.client, tables.names)
}

/// Stores on the given DynamoDB tables, every other setting at its default.
pub fn dynamodb_state_on(client: tally::store::dynamodb::Client, tables: TableNames) -> AppState {
    AppState::dynamodb(
        client,
        &Config {
            tables,
            ..Config::default()
        },
    )
}

/// Stores on fresh DynamoDB tables.
pub async fn dynamodb_state() -> AppState {
    DynamoTables::create().await.state()
}

/// Stores in an embedded database under `dir`.
pub fn sqlite_state(dir: &std::path::Path) -> AppState {
    let config = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    AppState::sqlite(&config).expect("embedded store opens")
}

/// The two engines every store-backed test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Engine {
    Sqlite,
    Dynamodb,
}

/// A running local API and an HTTP client for it.
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    pub state: Arc<AppState>,
    server: JoinHandle<()>,
    _dir: Option<TempDir>,
}

impl Drop for Api {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Api {
    /// The local API on a fresh store of `engine`.
    pub async fn on(engine: Engine) -> Api {
        Api::on_with(engine, |_| {}).await
    }

    /// The local API on a fresh store of `engine`, its state adjusted first (e.g. to point
    /// `ad_server` at a stub).
    pub async fn on_with(engine: Engine, configure: impl FnOnce(&mut AppState)) -> Api {
        match engine {
            Engine::Sqlite => {
                let dir = TempDir::new().expect("temp dir");
                let mut state = sqlite_state(dir.path());
                configure(&mut state);
                let mut api = Api::serve(state).await;
                api._dir = Some(dir);
                api
            }
            Engine::Dynamodb => {
                let mut state = dynamodb_state().await;
                configure(&mut state);
                Api::serve(state).await
            }
        }
    }

    /// The local API on the given stores.
    pub async fn serve(state: AppState) -> Api {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(state);
        let server = tokio::spawn(tally_local::server::serve(listener, Arc::clone(&state)));
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        Api {
            base,
            client,
            state,
            server,
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request built from this API's client and reads the whole response.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.expect("body read").to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str) -> Reply {
        self.send(self.client.post(self.url(path))).await
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Reply {
        self.send(self.client.post(self.url(path)).json(body)).await
    }
}

/// Asserts an error envelope: the status, JSON, `success: false` and a message containing `needle`.
pub fn assert_error(reply: &Reply, status: u16, needle: &str) {
    assert_eq!(reply.status, status, "body: {}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["success"], false, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(needle),
        "message {message:?} should mention {needle:?}"
    );
}
