//! A stand-in for the ad server on loopback, so no test touches the internet: it answers VAST
//! XML, an error status or a redirect, or never answers, and counts the requests it received.

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
use tokio::task::JoinHandle;

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
    /// 302 to another path of the stub itself (so following it would be a second hit).
    Redirect,
    /// Reads the request and never answers.
    Hang,
}

/// A running stub; it stops when dropped.
pub struct VastStub {
    pub url: String,
    hits: Arc<AtomicUsize>,
    server: JoinHandle<()>,
}

impl Drop for VastStub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl VastStub {
    pub async fn start(behaviour: Behaviour) -> VastStub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/ad/vast", listener.local_addr().expect("addr"));
        let hits = Arc::new(AtomicUsize::new(0));
        let server = tokio::spawn(serve(listener, behaviour, Arc::clone(&hits)));
        VastStub { url, hits, server }
    }

    /// How many requests the stub has received.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// An ad server pointing at this stub.
    pub fn ad_server(&self, timeout: Duration) -> AdServer {
        AdServer::new(&self.url, timeout)
    }
}

async fn serve(listener: TcpListener, behaviour: Behaviour, hits: Arc<AtomicUsize>) {
    while let Ok((stream, _)) = listener.accept().await {
        let hits = Arc::clone(&hits);
        tokio::spawn(async move {
            let service = service_fn(move |_req: hyper::Request<Incoming>| {
                hits.fetch_add(1, Ordering::SeqCst);
                answer(behaviour)
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(behaviour: Behaviour) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (status, content_type, body) = match behaviour {
        Behaviour::Xml => (200, "application/xml", VAST_XML),
        Behaviour::Status(status) => (status, "text/plain", "stub failure"),
        Behaviour::Redirect => (302, "text/plain", "moved"),
        Behaviour::Hang => std::future::pending().await,
    };
    let mut resp = hyper::Response::builder()
        .status(status)
        .header("content-type", content_type);
    if status == 302 {
        resp = resp.header("location", "/ad/elsewhere");
    }
    Ok(resp
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("valid stub response"))
}
