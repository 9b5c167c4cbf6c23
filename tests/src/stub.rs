//! A loopback HTTP server with canned answers, counting the requests it receives: the ad server
//! of the tests (VAST XML, an error status, a redirect, or no answer), so no test touches the
//! internet, and a slow DynamoDB endpoint.

use crate::background::Background;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tally::ads::AdServer;
use tokio::net::TcpListener;

/// What the stub answers with `Behaviour::Xml`.
pub const VAST_XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
    <VAST version=\"3.0\"><Ad id=\"stub-1\"><InLine><AdTitle>Stub &amp; co</AdTitle>\
    </InLine></Ad></VAST>\n";

/// How the stub answers every request.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// 200 with `VAST_XML`.
    Xml,
    /// This status with a short text body.
    Status(u16),
    /// This (2xx) status with an empty body.
    Empty(u16),
    /// 200 with `VAST_XML` gzip-encoded (`Content-Encoding: gzip`), unless the request says
    /// `Accept-Encoding: identity`; with `always`, whatever the request says.
    Gzip { always: bool },
    /// 302 to another path of the stub itself (so following it would be a second hit).
    Redirect,
    /// Reads the request and never answers.
    Hang,
    /// 200 with the empty AWS JSON object `{}` after this delay: a slow DynamoDB `UpdateItem`.
    SlowAwsJson(Duration),
}

/// A running stub; it stops when dropped.
pub struct StubServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    hits: Arc<AtomicUsize>,
    _server: Background,
}

impl StubServer {
    pub async fn start(behaviour: Behaviour) -> StubServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let hits = Arc::new(AtomicUsize::new(0));
        let server = Background::spawn(serve(listener, behaviour, Arc::clone(&hits)));
        StubServer {
            base,
            hits,
            _server: server,
        }
    }

    /// How many requests the stub has received.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// An ad server pointing at this stub.
    pub fn ad_server(&self, timeout: Duration) -> Arc<AdServer> {
        Arc::new(AdServer::new(format!("{}/ad/vast", self.base), timeout))
    }
}

async fn serve(listener: TcpListener, behaviour: Behaviour, hits: Arc<AtomicUsize>) {
    while let Ok((stream, _)) = listener.accept().await {
        let hits = Arc::clone(&hits);
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<Incoming>| {
                hits.fetch_add(1, Ordering::SeqCst);
                let identity = req
                    .headers()
                    .get("accept-encoding")
                    .is_some_and(|value| value.as_bytes() == b"identity");
                answer(behaviour, identity)
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// `VAST_XML`'s first bytes as gzip would start them (the magic number, deflate, no flags).
const GZIP_BYTES: &str = "\u{1f}\u{8b}\u{8}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{3}";

async fn answer(
    behaviour: Behaviour,
    identity: bool,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let gzip = matches!(behaviour, Behaviour::Gzip { always } if always || !identity);
    let (status, content_type, body) = match behaviour {
        Behaviour::Xml => (200, "application/xml", VAST_XML),
        Behaviour::Gzip { .. } if gzip => (200, "application/xml", GZIP_BYTES),
        Behaviour::Gzip { .. } => (200, "application/xml", VAST_XML),
        Behaviour::Status(status) => (status, "text/plain", "stub failure"),
        Behaviour::Empty(status) => (status, "application/xml", ""),
        Behaviour::Redirect => (302, "text/plain", "moved"),
        Behaviour::Hang => std::future::pending().await,
        Behaviour::SlowAwsJson(delay) => {
            tokio::time::sleep(delay).await;
            (200, "application/x-amz-json-1.0", "{}")
        }
    };
    let mut resp = hyper::Response::builder()
        .status(status)
        .header("content-type", content_type);
    if status == 302 {
        resp = resp.header("location", "/ad/elsewhere");
    }
    if gzip {
        resp = resp.header("content-encoding", "gzip");
    }
    Ok(resp
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("valid stub response"))
}
