//! A minimal Lambda Runtime API on loopback: runs a function binary for one invocation, as
//! Lambda would, and records its response, its output and how long it took to start.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The request id the harness gives the invocation.
pub const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

/// What one cold invocation showed.
#[derive(Debug)]
pub struct Invocation {
    /// The function's answer: the API Gateway response object.
    pub response: serde_json::Value,
    /// Everything the function wrote to stdout and stderr.
    pub output: String,
    /// From exec to the function's first request for work.
    pub init: Duration,
    /// From handing over the event to receiving the response.
    pub duration: Duration,
    /// Peak resident memory, in KiB.
    pub peak_rss_kib: u64,
}

enum Seen {
    Next(Instant),
    Response(Instant, Vec<u8>),
}

/// Serves the Runtime API: the first `next` gets `event`, later ones wait forever.
async fn runtime_api(listener: TcpListener, event: String, seen: mpsc::UnboundedSender<Seen>) {
    let handed_out = Arc::new(Mutex::new(false));
    while let Ok((stream, _)) = listener.accept().await {
        let (event, seen, handed_out) = (event.clone(), seen.clone(), Arc::clone(&handed_out));
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<Incoming>| {
                let (event, seen, handed_out) =
                    (event.clone(), seen.clone(), Arc::clone(&handed_out));
                async move { Ok::<_, hyper::Error>(answer(req, &event, &seen, &handed_out).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    req: hyper::Request<Incoming>,
    event: &str,
    seen: &mpsc::UnboundedSender<Seen>,
    handed_out: &Mutex<bool>,
) -> hyper::Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if path.ends_with("/invocation/next") {
        let _ = seen.send(Seen::Next(Instant::now()));
        let first = !std::mem::replace(&mut *handed_out.lock().expect("lock"), true);
        if !first {
            std::future::pending::<()>().await;
        }
        let deadline = std::time::SystemTime::now() + Duration::from_secs(30);
        let deadline_ms = deadline
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis();
        return hyper::Response::builder()
            .header("lambda-runtime-aws-request-id", REQUEST_ID)
            .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:tally",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e;Sampled=0",
            )
            .body(Full::new(Bytes::from(event.to_string())))
            .expect("response");
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let _ = seen.send(Seen::Response(Instant::now(), body));
    hyper::Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .expect("response")
}

async fn next_seen(seen: &mut mpsc::UnboundedReceiver<Seen>) -> Option<Seen> {
    tokio::time::timeout(Duration::from_secs(20), seen.recv())
        .await
        .ok()
        .flatten()
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Starts `binary` as a cold Lambda function with `env`, invokes it once with `event`, stops it.
pub async fn invoke_cold(binary: &Path, event: &str, env: &[(&str, String)]) -> Invocation {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let server = tokio::spawn(runtime_api(listener, event.to_string(), seen_tx));
    let name = binary
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("function")
        .to_string();
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (build it first: `cargo build -p tally-functions --bins`)",
                binary.display()
            )
        });
    let Some(Seen::Next(asked)) = next_seen(&mut seen).await else {
        panic!("{name} never asked for work")
    };
    let Some(Seen::Response(answered, body)) = next_seen(&mut seen).await else {
        panic!("{name} never answered")
    };
    // Asking for the next event means the invocation, metrics flush included, is over.
    let _ = next_seen(&mut seen).await;
    let peak_rss_kib = child.id().map(peak_rss_kib).unwrap_or(0);
    let _ = child.start_kill();
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut output).await;
    }
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut output).await;
    }
    let _ = child.wait().await;
    server.abort();
    Invocation {
        response: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        output,
        init: asked - started,
        duration: answered - asked,
        peak_rss_kib,
    }
}
