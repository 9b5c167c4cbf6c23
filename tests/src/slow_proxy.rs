//! A proxy in front of the test DynamoDB server that holds back the answer to the first
//! request of one operation (it is applied, then answered late), as a slow DynamoDB attempt
//! does: what a client that gives up and resends would get wrong shows.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running proxy; `endpoint` is where clients reach it.
pub struct SlowProxy {
    pub endpoint: String,
    server: JoinHandle<()>,
}

impl Drop for SlowProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What the proxy forwards to, and which first request it answers `delay` late.
#[derive(Clone)]
struct Plan {
    upstream: String,
    operation: &'static str,
    delay: Duration,
    delayed: Arc<AtomicBool>,
    client: reqwest::Client,
}

impl SlowProxy {
    /// Forwards to `upstream`; the first `operation` (such as `PutItem`) is answered `delay` late.
    pub async fn start(upstream: &str, operation: &'static str, delay: Duration) -> SlowProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let plan = Plan {
            upstream: upstream.to_string(),
            operation,
            delay,
            delayed: Arc::new(AtomicBool::new(false)),
            client: reqwest::Client::new(),
        };
        let server = tokio::spawn(serve(listener, plan));
        SlowProxy { endpoint, server }
    }
}

async fn serve(listener: TcpListener, plan: Plan) {
    while let Ok((stream, _)) = listener.accept().await {
        let plan = plan.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| forward(plan.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn forward(
    plan: Plan,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut out = plan
        .client
        .post(format!("{}{}", plan.upstream, parts.uri.path()))
        .body(body.to_vec());
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            out = out.header(name, value);
        }
    }
    let answer = out.send().await.expect("upstream answers");
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.expect("upstream body");
    let is_target = target.ends_with(&format!(".{}", plan.operation));
    if is_target && !plan.delayed.swap(true, Ordering::SeqCst) {
        tokio::time::sleep(plan.delay).await;
    }
    let mut resp = hyper::Response::builder().status(status.as_u16());
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" {
            resp = resp.header(name.as_str(), value.as_bytes());
        }
    }
    Ok(resp.body(Full::new(bytes)).expect("response"))
}
