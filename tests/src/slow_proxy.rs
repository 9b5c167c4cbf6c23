//! A proxy in front of the test DynamoDB server that holds back the answer to the first
//! request of one operation (it is applied, then answered late), as a slow DynamoDB attempt
//! does: what a client that gives up and resends would get wrong shows.

use crate::background::Background;
use crate::proxy::{forward, serve, Received};
use http_body_util::Full;
use hyper::body::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A running proxy; `endpoint` is where clients reach it.
pub struct SlowProxy {
    pub endpoint: String,
    _server: Background,
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
        let server = Background::spawn(serve(listener, move |req| answer_late(plan.clone(), req)));
        SlowProxy {
            endpoint,
            _server: server,
        }
    }
}

/// Forwards one request; answers it late if it is the first of the planned operation.
async fn answer_late(plan: Plan, req: Received) -> hyper::Response<Full<Bytes>> {
    let url = format!("{}{}", plan.upstream, req.parts.uri.path());
    let answer = forward(&plan.client, &url, &req.parts.headers, req.body.to_vec()).await;
    if req.operation() == plan.operation && !plan.delayed.swap(true, Ordering::SeqCst) {
        tokio::time::sleep(plan.delay).await;
    }
    answer.into_response()
}
