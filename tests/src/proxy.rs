//! The plumbing the test proxies in front of a DynamoDB-protocol server share: accepting
//! connections, forwarding a request upstream as it came, and answering with what came back.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::future::Future;
use tokio::net::TcpListener;

/// A request read whole: its head and body.
pub struct Received {
    pub parts: Parts,
    pub body: Bytes,
}

impl Received {
    /// The DynamoDB operation, from `X-Amz-Target: DynamoDB_20120810.<Operation>`.
    pub fn operation(&self) -> &str {
        self.parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or_default()
    }
}

/// An upstream answer, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The answer as the proxy's own response.
    pub fn into_response(self) -> hyper::Response<Full<Bytes>> {
        let mut resp = hyper::Response::builder().status(self.status);
        for (name, value) in &self.headers {
            if name != "content-length" && name != "transfer-encoding" {
                resp = resp.header(name.as_str(), value.as_bytes());
            }
        }
        resp.body(Full::new(self.body)).expect("response")
    }
}

/// Serves every connection on `listener`, each request read whole and given to `handle`.
pub async fn serve<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(Received) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = hyper::Response<Full<Bytes>>> + Send,
{
    while let Ok((stream, _)) = listener.accept().await {
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<Incoming>| {
                let handle = handle.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let body = body.collect().await?.to_bytes();
                    Ok::<_, hyper::Error>(handle(Received { parts, body }).await)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// POSTs `body` to `url` with `headers` (a client's signature and date among them: the test
/// servers check that they are there, not what they sign).
pub async fn forward(
    client: &reqwest::Client,
    url: &str,
    headers: &hyper::HeaderMap,
    body: Vec<u8>,
) -> Answer {
    let mut out = client.post(url).body(body);
    for (name, value) in headers {
        if name != "host" && name != "content-length" {
            out = out.header(name, value);
        }
    }
    let answer = out.send().await.expect("upstream answers");
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let body = answer.bytes().await.expect("upstream body");
    Answer {
        status,
        headers,
        body,
    }
}
