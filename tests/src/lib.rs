//! The integration-test harness: starts the local API in-process on a free loopback port, on
//! the embedded store (a fresh directory) or on one of the DynamoDB-protocol servers that
//! `make test` starts (fresh tables per test), or in Lambda mode (each route through its own
//! function binary, DynamoDB over TLS), and speaks HTTP to it.

pub mod background;
pub mod bench;
pub mod dashboard;
pub mod dynamodb_server;
pub mod events;
pub mod lambda_call;
pub mod meter;
pub mod operations;
pub mod proxy;
pub mod runtime_api;
pub mod slow_proxy;
pub mod stub;

use crate::background::Background;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tally::config::{Config, TableNames, TableSpec, TABLES};
use tally::http::cursor::random_key;
use tally::test_support::client_at;
use tally::AppState;
use tally_local::lambda::container::Output;
use tally_local::lambda::{LambdaMode, Settings};
use tempfile::TempDir;

/// Where `make test` runs the DynamoDB-protocol servers: moto, and dynalite.
pub const DYNAMODB_ENV: &str = "TALLY_TEST_DYNAMODB_ENDPOINT";
pub const DYNALITE_ENV: &str = "TALLY_TEST_DYNALITE_ENDPOINT";

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: run the tests with `make test`, which starts the DynamoDB servers"
        )
    })
}

/// The endpoint of the test DynamoDB server (moto). Its absence is a failure, never a skip.
pub fn dynamodb_endpoint() -> String {
    endpoint(DYNAMODB_ENV)
}

/// The endpoint of the test dynalite server.
pub fn dynalite_endpoint() -> String {
    endpoint(DYNALITE_ENV)
}

/// The function binaries `make test` builds (`target/debug`).
pub fn bin_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("debug")
}

/// Starts the `tally-local` at `binary` on a free loopback port, on the embedded store in `data`,
/// with `env` besides; returns the process and its base URL once it accepts connections.
pub async fn spawn_local(
    binary: &std::path::Path,
    data: &std::path::Path,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = tokio::process::Command::new(binary)
        .env("TALLY_ADDR", format!("127.0.0.1:{port}"))
        .env("TALLY_DATA_DIR", data)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{} runs ({e})", binary.display()));
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    (child, format!("http://127.0.0.1:{port}"))
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
    /// On the moto server.
    pub async fn create() -> Self {
        Self::create_at(&dynamodb_endpoint()).await
    }

    pub async fn create_at(endpoint: &str) -> Self {
        let client = client_at(endpoint).await;
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
        local: tally::config::Local {
            data_dir: dir.to_path_buf(),
            ..Default::default()
        },
        ..Config::default()
    };
    AppState::sqlite(&config).expect("embedded store opens")
}

/// What a test runs on: the local API in-process on one of three stores, or Lambda mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    /// DynamoDB as moto implements it.
    Dynamodb,
    /// DynamoDB as dynalite implements it (the store contract suites).
    Dynalite,
    /// Lambda mode on moto: every route through its function binary, behind the gateway.
    Lambda,
}

/// A fresh store of an engine and nothing else: no server, for the store contract suites,
/// which call the traits directly.
pub struct Stores {
    pub state: AppState,
    _dir: Option<TempDir>,
}

impl Stores {
    /// Fresh stores of `engine`; Lambda mode's stores are moto's.
    pub async fn on(engine: Engine) -> Stores {
        match engine {
            Engine::Sqlite => {
                let dir = TempDir::new().expect("temp dir");
                Stores {
                    state: sqlite_state(dir.path()),
                    _dir: Some(dir),
                }
            }
            Engine::Dynamodb | Engine::Lambda => Stores {
                state: dynamodb_state().await,
                _dir: None,
            },
            Engine::Dynalite => Stores {
                state: DynamoTables::create_at(&dynalite_endpoint()).await.state(),
                _dir: None,
            },
        }
    }
}

/// A running local API and an HTTP client for it.
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    pub state: Arc<AppState>,
    _server: Background,
    _dir: Option<TempDir>,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client")
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
            Engine::Sqlite | Engine::Dynamodb | Engine::Dynalite => {
                let Stores { mut state, _dir } = Stores::on(engine).await;
                configure(&mut state);
                let mut api = Api::serve(state).await;
                api._dir = _dir;
                api
            }
            Engine::Lambda => {
                let tables = DynamoTables::create().await;
                let env = tables.env();
                let mut state = tables.state();
                configure(&mut state);
                Api::lambda(state, &env, &dynamodb_endpoint()).await
            }
        }
    }

    /// Lambda mode on the tables `tables_env` names at `endpoint` (plain http; the functions
    /// reach it through a TLS terminator), its ad server the one of `state`, which the test
    /// keeps to look at the same tables directly.
    pub async fn lambda(state: AppState, tables_env: &[(&str, String)], endpoint: &str) -> Api {
        let dir = TempDir::new().expect("temp dir");
        let platform = tally_local::tls::dynamodb_env(endpoint, dir.path())
            .await
            .expect("TLS terminator");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (vast_url, vast_timeout) = state.ads.ad_server.settings();
        let mut overrides: BTreeMap<String, String> = tables_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        overrides.insert("VAST_URL".into(), vast_url.to_string());
        let timeout_ms = vast_timeout.as_millis().to_string();
        overrides.insert("VAST_TIMEOUT_MS".into(), timeout_ms);
        // Each install its own cursor key, as `make run-lambda` keeps one per data directory.
        let key: String = random_key().iter().map(|b| format!("{b:02x}")).collect();
        overrides.insert("TALLY_CURSOR_SECRET".into(), key);
        overrides.insert("TALLY_SELF_URL".into(), base.clone());
        let settings = Settings {
            bin_dir: bin_dir(),
            overrides,
            platform,
            output: Output::Inherit,
            concurrency: Config::default().local.lambda_concurrency,
        };
        let mode = Arc::new(LambdaMode::new(&settings).expect("template.yaml"));
        let server = Background::spawn(tally_local::lambda::serve(listener, mode));
        Api {
            base,
            client: client(),
            state: Arc::new(state),
            _server: server,
            _dir: Some(dir),
        }
    }

    /// The local API on the given stores.
    pub async fn serve(state: AppState) -> Api {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let mut state = state;
        state.self_test.self_url.get_or_insert_with(|| base.clone());
        let state = Arc::new(state);
        let server = Background::spawn(tally_local::server::serve(listener, Arc::clone(&state)));
        Api {
            base,
            client: client(),
            state,
            _server: server,
            _dir: None,
        }
    }

    /// Every item of `GET path?limit=...`, following `Next-Cursor`; `items` reads one page
    /// from its (200) reply.
    pub async fn walk<T>(
        &self,
        path: &str,
        limit: usize,
        items: impl Fn(&Reply) -> Vec<T>,
    ) -> Vec<T> {
        let items = &items;
        walk_pages(limit, |cursor: Option<String>| async move {
            let url = match &cursor {
                Some(c) => format!("{path}?limit={limit}&cursor={c}"),
                None => format!("{path}?limit={limit}"),
            };
            let reply = self.get(&url).await;
            assert_eq!(reply.status, 200, "{url}: {}", reply.text());
            let next = reply.header("next-cursor").map(str::to_string);
            (items(&reply), next)
        })
        .await
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

/// Every item of a paginated listing, page by page: `fetch(position)` returns one page and the
/// position after it (`None` on the last page). Every page must hold at most `limit` items.
pub async fn walk_pages<T, P, Fut>(limit: usize, mut fetch: impl FnMut(Option<P>) -> Fut) -> Vec<T>
where
    Fut: std::future::Future<Output = (Vec<T>, Option<P>)>,
{
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = fetch(after.take()).await;
        assert!(
            page.len() <= limit,
            "a page of {} for limit {limit}",
            page.len()
        );
        seen.extend(page);
        match next {
            Some(next) => after = Some(next),
            None => return seen,
        }
    }
}

/// Asserts an error envelope: the status, JSON, `success: false` and a message containing `needle`.
/// Stores a `POST /log` body straight through the domain (no HTTP): how the dashboard's suites
/// and benchmark fill the logs.
pub async fn record_log(state: &AppState, body: &serde_json::Value) {
    tally::logs::record(
        state.logs.store.as_ref(),
        state.keys.as_ref(),
        body.to_string().as_bytes(),
    )
    .await
    .expect("log");
}

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
