//! Lambda mode of the local API (`make run-lambda`, `tally-local lambda`): every route served
//! by its own function binary through a Lambda Runtime API, behind API Gateway HTTP API's rules
//! (`gateway`), with DynamoDB reached over TLS (`crate::tls`). No Docker.

pub mod container;
pub mod gateway;
pub mod pool;
pub mod setup;
pub mod template;

use container::{Launch, Output};
use gateway::{Incoming, Response, Route};
use http_body_util::BodyExt;
use hyper::body::Bytes;
use hyper::service::service_fn;
use pool::Pool;
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use tokio::net::TcpListener;

/// How to run the functions.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the function binaries are (`target/debug` or `target/release`).
    pub bin_dir: PathBuf,
    /// Values for variables the template declares (table names, `VAST_URL`, ...).
    pub overrides: BTreeMap<String, String>,
    /// Variables every function gets besides the template's (`DYNAMODB_ENDPOINT`, ...).
    pub platform: Vec<(String, String)>,
    pub output: Output,
    /// Execution environments at once, across all functions; beyond: throttled.
    pub concurrency: usize,
}

/// The gateway and the functions behind it.
pub struct LambdaMode {
    routes: Vec<Route>,
    pools: HashMap<String, Pool>,
}

impl LambdaMode {
    /// Reads the template's functions and routes; starts nothing yet (a function's first
    /// environment starts on its first invocation).
    pub fn new(settings: &Settings) -> Result<Self, crate::schema::SchemaError> {
        let specs = template::functions(&settings.overrides)?;
        let running = Arc::new(AtomicUsize::new(0));
        let pools = specs
            .iter()
            .map(|spec| {
                let mut env: Vec<(String, String)> = spec.env.clone().into_iter().collect();
                env.extend(settings.platform.iter().cloned());
                let launch = Launch {
                    name: spec.binary.clone(),
                    binary: settings.bin_dir.join(&spec.binary),
                    memory_mib: spec.memory_mib,
                    timeout: spec.timeout,
                    env,
                    output: settings.output,
                };
                let pool = Pool::new(launch, Arc::clone(&running), settings.concurrency);
                (spec.binary.clone(), pool)
            })
            .collect();
        Ok(LambdaMode {
            routes: gateway::routes(&specs),
            pools,
        })
    }

    /// Answers one HTTP request as API Gateway and Lambda would.
    pub async fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
        source: SocketAddr,
        port: u16,
    ) -> Response {
        let request_id = container::request_id();
        let (parts, body) = req.into_parts();
        let Some(body) = read_limited(body, gateway::MAX_REQUEST_BYTES).await else {
            return gateway::too_large(&request_id);
        };
        let incoming = Incoming {
            method: parts.method.as_str(),
            raw_path: parts.uri.path(),
            raw_query: parts.uri.query().unwrap_or_default(),
            source_ip: source.ip().to_string(),
            port,
            request_id: &request_id,
        };
        let Some(selected) = gateway::select(&self.routes, incoming.method, incoming.raw_path)
        else {
            return gateway::not_found(&request_id);
        };
        let Some(pool) = self.pools.get(&selected.route.function) else {
            return gateway::not_found(&request_id);
        };
        let event = gateway::event(&incoming, &selected, &parts.headers, &body).to_string();
        if event.len() > gateway::MAX_EVENT_BYTES {
            return gateway::too_large(&request_id);
        }
        let function = &selected.route.function;
        let invoked = tokio::time::timeout(
            gateway::INTEGRATION_TIMEOUT,
            pool.invoke(Bytes::from(event)),
        )
        .await;
        let Ok(invoked) = invoked else {
            tracing::warn!(function, "integration timed out after 30 s");
            return gateway::unavailable(&request_id);
        };
        let (resp, failure) = gateway::respond(invoked, &request_id);
        if let Some(reason) = failure {
            let status = resp.status().as_u16();
            tracing::warn!(function, reason, status, "invocation failed");
        }
        resp
    }
}

/// The body, or `None` when it is longer than `limit`.
async fn read_limited(mut body: hyper::body::Incoming, limit: usize) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let data = frame.ok()?.into_data().unwrap_or_default();
        if bytes.len() + data.len() > limit {
            return None;
        }
        bytes.extend_from_slice(&data);
    }
    Some(bytes)
}

/// Serves Lambda mode on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, mode: Arc<LambdaMode>) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    crate::conn::accept_loop(listener, move |stream, source| {
        let mode = Arc::clone(&mode);
        async move {
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let mode = Arc::clone(&mode);
                async move {
                    let answer = |req| mode.handle(req, source, port);
                    Ok::<_, Infallible>(crate::conn::logged(req, answer).await)
                }
            });
            crate::conn::serve(stream, service, crate::conn::HEADER_TIMEOUT).await;
        }
    })
    .await;
}
