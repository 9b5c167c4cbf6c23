//! How the local API and Lambda mode serve one HTTP/1.1 connection: methods as sent (hyper
//! keeps their case), a time limit on each request's headers (idle keep-alive connections
//! included), and the protocol errors hyper answers by itself rewritten as the JSON envelope.
//!
//! hyper 1 answers a request it cannot parse (bad request line or header, too many or too
//! large headers, a URI over its limit) with its own empty response and closes, offering no
//! hook to shape it. `JsonErrors` recognises those responses as they are written (an error
//! status, `content-length: 0`, no `content-type`: never a response of Tally's, which always
//! carries a JSON or other typed body) and writes the envelope instead. A header read that
//! times out is closed without an answer: hyper writes nothing there to rewrite.

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::HttpService;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How long a client may take to send a request's headers, counted from when the server
/// starts waiting for them (so an idle keep-alive connection is closed after this too).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's body once its headers arrived.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers `req` with `answer`, then logs its method, path, status and time: the one request
/// log line of the local API and Lambda mode.
pub async fn logged<B, F, Fut>(req: hyper::Request<Incoming>, answer: F) -> hyper::Response<B>
where
    F: FnOnce(hyper::Request<Incoming>) -> Fut,
    Fut: std::future::Future<Output = hyper::Response<B>>,
{
    let started = std::time::Instant::now();
    let (method, path) = (req.method().to_string(), req.uri().path().to_string());
    let resp = answer(req).await;
    tracing::info!(
        method,
        path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    resp
}

/// Accepts connections on `listener` until the task is dropped, handing each to `serve_one`
/// on its own task; a failed accept (say, out of file descriptors) is logged and retried.
pub async fn accept_loop<F, Fut>(listener: tokio::net::TcpListener, serve_one: F)
where
    F: Fn(TcpStream, std::net::SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        match listener.accept().await {
            Ok((stream, source)) => {
                // Answers go out as they are written, not held for the client's delayed ACK.
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(error = %err, "TCP_NODELAY not set");
                }
                tokio::spawn(serve_one(stream, source));
            }
            Err(err) => {
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Serves `stream` with `service`, headers limited to `header_timeout`.
pub async fn serve<S>(stream: TcpStream, service: S, header_timeout: Duration)
where
    S: HttpService<Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let io = TokioIo::new(JsonErrors::new(stream));
    if let Err(err) = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(io, service)
        .await
    {
        tracing::debug!(error = %err, "connection ended");
    }
}

/// A stream whose writes of hyper's own error responses become the JSON envelope.
pub struct JsonErrors<S> {
    inner: S,
    /// A rewritten response still to be written, and how much of it has been.
    pending: Vec<u8>,
    written: usize,
}

impl<S> JsonErrors<S> {
    pub fn new(inner: S) -> Self {
        JsonErrors {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

/// The JSON response that replaces `head`, if `head` is an empty error response of hyper's.
pub fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let rest = text.strip_prefix("HTTP/1.1 ")?;
    let (status_line, headers) = rest.split_once("\r\n")?;
    let headers = headers
        .strip_suffix("\r\n\r\n")
        .or(headers.strip_suffix("\r\n"))?;
    let status: u16 = status_line.get(..3)?.parse().ok()?;
    let lower = headers.to_ascii_lowercase();
    let lines: Vec<&str> = lower.split("\r\n").collect();
    if status < 400 || !lines.contains(&"content-length: 0") {
        return None;
    }
    if lines.iter().any(|line| line.starts_with("content-type:")) {
        return None;
    }
    let message = match status {
        400 => "request: not a valid HTTP/1.1 request (request line, method, header or version)",
        414 => "uri: the request target is too long",
        431 => "headers: too many or too large",
        505 => "version: only HTTP/1.1 and HTTP/1.0 are served",
        _ => "request: refused by the HTTP server",
    };
    let body = serde_json::json!({"success": false, "message": message}).to_string();
    let date: String = headers
        .split("\r\n")
        .filter(|line| line.to_ascii_lowercase().starts_with("date:"))
        .map(|line| format!("{line}\r\n"))
        .collect();
    Some(
        format!(
            "HTTP/1.1 {status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n{date}\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncWrite + Unpin> JsonErrors<S> {
    /// Writes what is pending; ready once nothing is.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.written += n,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonErrors<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrors<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.drain(cx)?.is_pending() {
            return Poll::Pending;
        }
        match rewrite(buf) {
            Some(replacement) => {
                self.pending = replacement;
                // Taken whole; written by this call if it can be, else by flush or shutdown.
                let _ = self.drain(cx)?;
                Poll::Ready(Ok(buf.len()))
            }
            None => Pin::new(&mut self.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.drain(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.drain(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_empty_error_responses_become_the_envelope() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Sat, 28 Nov 2026 10:00:00 GMT\r\n\r\n";
        let text = String::from_utf8(rewrite(head).expect("rewritten")).expect("text");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains("date: Sat, 28 Nov 2026"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(json["success"], false);
        assert!(json["message"]
            .as_str()
            .expect("message")
            .starts_with("headers: "));
    }

    #[test]
    fn tallys_own_responses_pass_unchanged() {
        for head in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n",
            b"{\"success\": false}",
        ] {
            assert_eq!(rewrite(head), None, "{}", String::from_utf8_lossy(head));
        }
    }
}
