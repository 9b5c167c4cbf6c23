//! The meter: a proxy in front of a DynamoDB-protocol server that measures what every operation
//! sent through it would cost in AWS, in read and write request units, from the items on the
//! wire and as stored, by DynamoDB's documented rules (`rules.rs`, `size.rs`; docs/cost.md).
//!
//! Usage (N requests through the meter, then their total):
//! ```ignore
//! let meter = Meter::start(&tally_tests::dynalite_endpoint()).await;
//! let state = DynamoTables::create_at(meter.endpoint()).await.state(); // or any client at it
//! // ... send requests to an `Api::serve(state)`, or call the stores directly ...
//! let units = meter.take(); // Units { rru, wru, per_op } since the last take
//! ```
//! Each write is metered by reading its item (a consistent GetItem) before and after forwarding
//! it, and operations are forwarded one at a time, so concurrent requests are metered exactly
//! but not concurrently. Table and index schemas come from the server (`DescribeTable`).

mod backend;
pub mod ops;
pub mod rules;
pub mod schema;
pub mod size;

use crate::background::Background;
use crate::proxy::{forward, serve, Answer, Received};
use backend::Backend;
use rules::Part;
use schema::TableSchema;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// The units of the operations metered since the last `take`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Units {
    pub rru: f64,
    pub wru: f64,
    pub per_op: Vec<OpUnits>,
}

/// One operation's units, and where they went (the table, or `Table/Index`).
#[derive(Debug, Clone, PartialEq)]
pub struct OpUnits {
    pub operation: String,
    pub rru: f64,
    pub wru: f64,
    pub parts: Vec<Part>,
    /// For a write, the units the server itself reported (the meter asks for them with
    /// `ReturnConsumedCapacity: TOTAL` when the client did not): a cross-check; dynalite
    /// counts the table's write only, not its indexes'.
    pub reported: Option<f64>,
}

impl OpUnits {
    /// The units that went to tables themselves, not to their indexes.
    pub fn table_units(&self) -> f64 {
        let tables = self.parts.iter().filter(|(place, _)| !place.contains('/'));
        tables.fold(0.0, |sum, (_, units)| sum + units)
    }
}

impl Units {
    /// The operations' names, in the order they were sent.
    pub fn operations(&self) -> Vec<&str> {
        self.per_op.iter().map(|op| op.operation.as_str()).collect()
    }
}

/// A running meter; dropping it stops the proxy.
pub struct Meter {
    endpoint: String,
    state: Arc<State>,
    _server: Background,
}

struct State {
    upstream: String,
    client: reqwest::Client,
    /// One operation at a time: its before, itself and its after.
    turn: tokio::sync::Mutex<()>,
    schemas: Arc<Mutex<HashMap<String, TableSchema>>>,
    metered: Mutex<Vec<OpUnits>>,
}

impl Meter {
    /// A meter in front of the DynamoDB-protocol server at `upstream`, on a free loopback port.
    pub async fn start(upstream: &str) -> Meter {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: reqwest::Client::new(),
            turn: tokio::sync::Mutex::new(()),
            schemas: Arc::default(),
            metered: Mutex::default(),
        });
        let serving = Arc::clone(&state);
        let server = Background::spawn(serve(listener, move |req| {
            let state = Arc::clone(&serving);
            async move { state.meter(req).await.into_response() }
        }));
        Meter {
            endpoint,
            state,
            _server: server,
        }
    }

    /// Where clients reach the server through the meter.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The units metered since the last call, leaving the meter at zero.
    pub fn take(&self) -> Units {
        let per_op = self
            .state
            .metered
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default();
        Units {
            rru: per_op.iter().fold(0.0, |sum, op| sum + op.rru),
            wru: per_op.iter().fold(0.0, |sum, op| sum + op.wru),
            per_op,
        }
    }
}

impl State {
    /// Forwards one request and records its units.
    async fn meter(&self, req: Received) -> Answer {
        let operation = req.operation().to_string();
        let url = format!("{}{}", self.upstream, req.parts.uri.path());
        let _turn = self.turn.lock().await;
        let request: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let backend = Backend {
            client: &self.client,
            url: url.clone(),
            headers: &req.parts.headers,
            schemas: &self.schemas,
        };
        let writes = ops::writes(&backend, &operation, &request).await;
        let before = ops::snapshot(&backend, &writes).await;
        let is_write = ops::WRITES.contains(&operation.as_str());
        let sent = if is_write && request.get("ReturnConsumedCapacity").is_none() {
            let mut asking = request.clone();
            asking["ReturnConsumedCapacity"] = "TOTAL".into();
            asking.to_string().into_bytes()
        } else {
            req.body.to_vec()
        };
        let answer = forward(&self.client, &url, &req.parts.headers, sent).await;
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        if is_write && charged(&answer, &body) {
            let parts = ops::write_parts(&backend, &writes, before).await;
            self.record(operation, false, parts, reported(&body));
        } else if ops::READS.contains(&operation.as_str()) && answer.status == 200 {
            let parts = ops::read_parts(&backend, &operation, &request, &body).await;
            self.record(operation, true, parts, None);
        } else if !is_write {
            // CreateTable, DeleteTable, UpdateTable, ...: not billed per request.
            backend.forget(request["TableName"].as_str().unwrap_or_default());
        }
        answer
    }

    /// Records an operation whose parts are read units (`read`) or write units.
    fn record(&self, operation: String, read: bool, parts: Vec<Part>, reported: Option<f64>) {
        let total = parts.iter().fold(0.0, |sum, (_, units)| sum + units);
        let (rru, wru) = if read { (total, 0.0) } else { (0.0, total) };
        let op = OpUnits {
            operation,
            rru,
            wru,
            parts,
            reported,
        };
        if let Ok(mut metered) = self.metered.lock() {
            metered.push(op);
        }
    }
}

/// The units a server reported in `ConsumedCapacity` (one object, or one per table).
fn reported(body: &Value) -> Option<f64> {
    let consumed = &body["ConsumedCapacity"];
    let each = consumed
        .as_array()
        .cloned()
        .unwrap_or_else(|| vec![consumed.clone()]);
    each.iter().map(|c| c["CapacityUnits"].as_f64()).sum()
}

/// Whether a write was billed: it succeeded, or its condition failed (a failed condition still
/// costs the item's size: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#write-operation-consumption).
fn charged(answer: &Answer, body: &Value) -> bool {
    let kind = body["__type"].as_str().unwrap_or_default();
    answer.status == 200
        || kind.ends_with("ConditionalCheckFailedException")
        || kind.ends_with("TransactionCanceledException")
}
