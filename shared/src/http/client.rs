//! The outgoing HTTP client (the ad server, the self test): hyper, rustls on ring and the
//! system's root certificates, as the AWS SDK's client links them: no second HTTP stack.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Request, StatusCode, Uri};
use hyper_rustls::{ConfigBuilderExt, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as Pool;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

/// Why a GET gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Failed(String),
}

/// An answer: status, headers and the whole body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A pooled HTTP/1.1 client for `http` and `https` URLs; it never follows redirects.
#[derive(Clone)]
pub struct Client {
    pool: Pool<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl Client {
    /// A client trusting the system's root certificates (as the SDK's client does); fails when
    /// there are none.
    pub fn new() -> Result<Self, String> {
        let ring = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(ring)
            .with_safe_default_protocol_versions()
            .map_err(|err| format!("no TLS versions: {err}"))?
            .with_native_roots()
            .map_err(|err| format!("no root certificates: {err}"))?
            .with_no_client_auth();
        // TCP_NODELAY, as the SDK's own client sets it: with Nagle's algorithm, the request
        // written right after the TLS handshake can wait for the peer's delayed ACK (~40 ms).
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.enforce_http(false);
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Ok(Client {
            pool: Pool::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// GETs `url` with `headers`, reading at most `limit` body bytes, all within `timeout`.
    pub async fn get(
        &self,
        url: &str,
        headers: &[(&'static str, &'static str)],
        limit: usize,
        timeout: Duration,
    ) -> Result<Answer, FetchError> {
        tokio::time::timeout(timeout, self.fetch(url, headers, limit))
            .await
            .map_err(|_| FetchError::Timeout(timeout))?
    }

    async fn fetch(
        &self,
        url: &str,
        headers: &[(&'static str, &'static str)],
        limit: usize,
    ) -> Result<Answer, FetchError> {
        let uri: Uri = url.parse().map_err(|err| failed("bad URL", err))?;
        let mut request = Request::get(uri);
        for &(name, value) in headers {
            request = request.header(name, HeaderValue::from_static(value));
        }
        let request = request
            .body(Empty::new())
            .map_err(|err| failed("bad request", err))?;
        let response = self
            .pool
            .request(request)
            .await
            .map_err(|err| failed("request failed", err))?;
        let (parts, mut body) = response.into_parts();
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|err| failed("body failed", err))?;
            if let Some(chunk) = frame.data_ref() {
                if bytes.len() + chunk.len() > limit {
                    return Err(FetchError::TooLarge(limit));
                }
                bytes.extend_from_slice(chunk);
            }
        }
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body: bytes.into(),
        })
    }
}

fn failed(what: &str, err: impl std::fmt::Display) -> FetchError {
    FetchError::Failed(format!("{what}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server answering each connection with `answer` (none: it never answers).
    async fn serve(answer: Option<Vec<u8>>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let answer = answer.clone();
                tokio::spawn(async move {
                    let _ = socket.read(&mut [0; 4096]).await;
                    match answer {
                        Some(answer) => drop(socket.write_all(&answer).await),
                        None => std::future::pending().await,
                    }
                });
            }
        });
        url
    }

    fn answer(body: &[u8]) -> Vec<u8> {
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
        [head.as_bytes(), body].concat()
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_the_limit_and_no_further() {
        let client = Client::new().unwrap();
        let url = serve(Some(answer(&[b'x'; 1001]))).await;
        let second = Duration::from_secs(1);
        let err = client.get(&url, &[], 1000, second).await.err().unwrap();
        assert!(matches!(err, FetchError::TooLarge(1000)), "{err}");
        let ok = client.get(&url, &[], 1001, second).await.unwrap();
        assert_eq!((ok.status, ok.body.len()), (StatusCode::OK, 1001));
    }

    #[tokio::test]
    async fn no_answer_in_time_is_a_timeout() {
        let url = serve(None).await;
        let timeout = Duration::from_millis(100);
        let err = Client::new().unwrap().get(&url, &[], 10, timeout).await;
        assert!(matches!(err, Err(FetchError::Timeout(t)) if t == timeout));
    }
}
