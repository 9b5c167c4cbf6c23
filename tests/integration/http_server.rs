//! Issue 13, item 10: the local API's own HTTP handling. Idle or half-sent requests are cut off
//! by time limits and never starve other clients; the errors hyper answers by itself (bad
//! request line, too many headers, an over-long URI) carry the JSON envelope.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tally_local::server::{serve_with, Limits};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The local API on a fresh embedded store with these limits; its address and its directory.
async fn start(limits: Limits) -> (String, TempDir) {
    let dir = TempDir::new().expect("dir");
    let state = Arc::new(tally_tests::sqlite_state(dir.path()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    tokio::spawn(serve_with(listener, state, limits));
    (addr, dir)
}

/// Sends raw bytes and reads until the server closes (or 5 s pass).
async fn exchange(addr: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("send");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status and the parsed JSON body of a raw answer, checking it is the envelope.
fn envelope(answer: &str) -> (u16, serde_json::Value) {
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{answer:?}"));
    let status = head[9..12].parse().expect("status");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let json: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    assert_eq!(json["success"], false, "{json}");
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protocol_errors_are_answered_with_the_json_envelope() {
    let (addr, _dir) = start(Limits::default()).await;
    let many_headers: String = (0..200).map(|i| format!("x-h{i}: v\r\n")).collect();
    let long_uri = format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(64 * 1024));
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"GARBAGE\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/1.1\r\nbad header line\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/9.9\r\nhost: x\r\n\r\n".to_vec(), 400),
        (b"G\x01T / HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(), 400),
        (
            format!("GET /ping HTTP/1.1\r\nhost: x\r\n{many_headers}\r\n").into_bytes(),
            431,
        ),
        (long_uri.into_bytes(), 414),
    ];
    for (request, status) in cases {
        let answer = exchange(&addr, &request).await;
        let (got, json) = envelope(&answer);
        assert_eq!(got, status, "{json}");
    }
    let lower = exchange(
        &addr,
        b"post /counters/x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(envelope(&lower).0, 405);
    assert!(
        lower.to_ascii_lowercase().contains("allow: post, get"),
        "{lower}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_and_half_sent_requests_are_cut_off_and_never_starve_others() {
    let limits = Limits {
        headers: Duration::from_millis(500),
        body: Duration::from_millis(500),
    };
    let (addr, _dir) = start(limits).await;
    let mut idle = Vec::new();
    for i in 0..300 {
        let mut stream = TcpStream::connect(&addr).await.expect("connect");
        let partial: &[u8] = match i % 3 {
            0 => b"GET /ping HTTP/1.1\r\nhost: x\r\nx-slow: ",
            1 => b"POST /log HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"userId\"",
            _ => b"",
        };
        stream.write_all(partial).await.expect("send");
        idle.push((i % 3, stream));
    }
    let started = Instant::now();
    let ping = exchange(
        &addr,
        b"GET /ping HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(ping.ends_with("pong"), "{ping:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    for (kind, mut stream) in idle {
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        assert!(
            read.is_ok(),
            "kind {kind}: the server kept the connection open"
        );
        if kind == 1 {
            let answer = String::from_utf8_lossy(&answer);
            assert_eq!(envelope(&answer).0, 408, "{answer}");
        }
    }
}
