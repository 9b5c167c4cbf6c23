//! One Lambda execution environment: a function binary started with the Lambda environment
//! variables, and the Runtime API it polls for work (one invocation at a time), on loopback.
//! Runtime API: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// A synchronous invocation's response payload is at most 6 MB; the Runtime API refuses a
/// larger one (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// How one invocation ended, as the Runtime API saw it.
#[derive(Debug)]
pub enum Outcome {
    /// The function's response payload.
    Response(Bytes),
    /// The function reported an error (`/invocation/{id}/error`, or `/init/error`).
    Error(String),
    /// The response was larger than `MAX_RESPONSE_BYTES`.
    TooLarge(usize),
    /// The process exited before answering.
    Crashed(String),
}

/// Where a container's stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// This process's own (the logs of `make run-lambda`).
    Inherit,
    /// Kept in memory, for `Container::output` (tests, the benchmark).
    Capture,
}

/// Everything needed to start one execution environment of a function.
#[derive(Debug, Clone)]
pub struct Launch {
    pub name: String,
    pub binary: std::path::PathBuf,
    pub memory_mib: u64,
    pub timeout: Duration,
    pub env: Vec<(String, String)>,
    pub output: Output,
}

struct Job {
    request_id: String,
    event: Bytes,
    timeout: Duration,
    handed_out: oneshot::Sender<()>,
    done: oneshot::Sender<Outcome>,
}

/// The Runtime API's view of the container.
struct Runtime {
    jobs: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    /// How many times the function asked for work (`next`); the first is the end of init.
    nexts: watch::Sender<u64>,
}

/// A running execution environment. Dropping it kills the process.
pub struct Container {
    jobs: mpsc::Sender<Job>,
    runtime: Arc<Runtime>,
    pid: Option<u32>,
    started: Instant,
    ready_at: Arc<Mutex<Option<Instant>>>,
    exited: watch::Receiver<Option<String>>,
    output: Arc<Mutex<String>>,
    captures: Vec<tokio::task::JoinHandle<()>>,
    kill: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Container {
    fn drop(&mut self) {
        self.server.abort();
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A request id in Lambda's format (a UUID).
pub fn request_id() -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0) as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (nanos >> 32) as u32,
        (nanos >> 16) as u16,
        nanos & 0xfff,
        n & 0xfff,
        n ^ std::process::id() as u64
    )
}

impl Container {
    /// Starts the binary with its own Runtime API (cold start). It begins polling for work
    /// when its init is done.
    pub async fn start(launch: &Launch) -> std::io::Result<Container> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (jobs_tx, jobs_rx) = mpsc::channel(1);
        let runtime = Arc::new(Runtime {
            jobs: tokio::sync::Mutex::new(jobs_rx),
            in_flight: Mutex::new(HashMap::new()),
            nexts: watch::channel(0).0,
        });
        let server = tokio::spawn(serve(listener, Arc::clone(&runtime)));
        let started = Instant::now();
        let mut child = command(launch, &addr.to_string()).spawn()?;
        let pid = child.id();
        let output = Arc::new(Mutex::new(String::new()));
        let captures = [
            capture(child.stdout.take(), &output),
            capture(child.stderr.take(), &output),
        ]
        .into_iter()
        .flatten()
        .collect();
        let (kill_tx, kill_rx) = oneshot::channel();
        let (exited_tx, exited) = watch::channel(None);
        let watched = Arc::clone(&runtime);
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
                _ = kill_rx => { let _ = child.kill().await; "killed".to_string() }
            };
            fail_in_flight(&watched, &status);
            let _ = exited_tx.send(Some(status));
        });
        let ready_at = Arc::new(Mutex::new(None));
        let mut nexts = runtime.nexts.subscribe();
        let ready = Arc::clone(&ready_at);
        tokio::spawn(async move {
            if nexts.changed().await.is_ok() {
                *ready.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            }
        });
        Ok(Container {
            jobs: jobs_tx,
            runtime,
            pid,
            started,
            ready_at,
            exited,
            output,
            captures,
            kill: Some(kill_tx),
            server,
        })
    }

    /// Hands `event` to the function as invocation `request_id` and waits for its outcome: at most `init_limit` for the
    /// function to take it (the end of a cold start), then its timeout. `None`: it timed out
    /// (the caller must drop the container, which kills it, as Lambda does).
    pub async fn invoke(
        &self,
        request_id: String,
        event: Bytes,
        timeout: Duration,
        init_limit: Duration,
    ) -> Option<Outcome> {
        let (handed_tx, handed_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let job = Job {
            request_id,
            event,
            timeout,
            handed_out: handed_tx,
            done: done_tx,
        };
        if self.jobs.send(job).await.is_err() {
            return Some(Outcome::Crashed("the runtime is gone".into()));
        }
        let mut exited = self.exited.clone();
        let died = async move {
            let _ = exited.wait_for(Option::is_some).await;
        };
        tokio::select! {
            handed = tokio::time::timeout(init_limit, handed_rx) => match handed {
                Err(_) => return None,
                Ok(Err(_)) => {}
                Ok(Ok(())) => {}
            },
            _ = died => return Some(Outcome::Crashed(self.exit_status())),
        }
        match tokio::time::timeout(timeout, done_rx).await {
            Err(_) => None,
            Ok(Ok(outcome)) => Some(outcome),
            Ok(Err(_)) => Some(Outcome::Crashed(self.exit_status())),
        }
    }

    /// Waits until the function asks for work again after `invocations` invocations (its
    /// previous invocation, metrics flush included, is then over).
    pub async fn wait_idle(&self, invocations: u64, limit: Duration) -> bool {
        let mut nexts = self.runtime.nexts.subscribe();
        tokio::time::timeout(limit, nexts.wait_for(|n| *n > invocations))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// From exec to the function's first request for work, once it has asked.
    pub fn init_duration(&self) -> Option<Duration> {
        let ready = *self.ready_at.lock().unwrap_or_else(|p| p.into_inner());
        ready.map(|at| at - self.started)
    }

    /// The function's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    pub fn is_alive(&self) -> bool {
        self.exited.borrow().is_none()
    }

    fn exit_status(&self) -> String {
        self.exited
            .borrow()
            .clone()
            .unwrap_or_else(|| "exited".into())
    }

    /// Peak resident memory so far, in KiB (0 once the process is gone).
    pub fn peak_rss_kib(&self) -> u64 {
        let Some(pid) = self.pid else { return 0 };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Kills the process and returns everything it wrote (with `Output::Capture`).
    pub async fn stop(mut self) -> String {
        drop(self.kill.take());
        let _ = self.exited.wait_for(Option::is_some).await;
        for capture in std::mem::take(&mut self.captures) {
            let _ = capture.await;
        }
        let output = self.output.lock().unwrap_or_else(|p| p.into_inner());
        output.clone()
    }
}

/// The binary with the variables Lambda sets, and nothing inherited but `PATH`.
/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
fn command(launch: &Launch, runtime_api: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(&launch.binary);
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "en_US.UTF-8")
        .env("TZ", ":UTC")
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", &launch.name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            launch.memory_mib.to_string(),
        )
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .envs(launch.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .kill_on_drop(true);
    match launch.output {
        Output::Inherit => cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit()),
        Output::Capture => cmd.stdout(Stdio::piped()).stderr(Stdio::piped()),
    };
    cmd
}

fn capture(
    pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
    into: &Arc<Mutex<String>>,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut pipe = pipe?;
    let into = Arc::clone(into);
    Some(tokio::spawn(async move {
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            into.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_str(&text);
        }
    }))
}

fn fail_in_flight(runtime: &Runtime, status: &str) {
    let pending: Vec<_> = runtime
        .in_flight
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .drain()
        .collect();
    for (_, done) in pending {
        let _ = done.send(Outcome::Crashed(status.to_string()));
    }
}

async fn serve(listener: TcpListener, runtime: Arc<Runtime>) {
    while let Ok((stream, _)) = listener.accept().await {
        let runtime = Arc::clone(&runtime);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let runtime = Arc::clone(&runtime);
                async move { Ok::<_, hyper::Error>(answer(&runtime, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn reply(status: u16, body: impl Into<Bytes>) -> hyper::Response<Full<Bytes>> {
    let mut resp = hyper::Response::new(Full::new(body.into()));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
    resp
}

async fn answer(runtime: &Runtime, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return reply(404, "unknown Runtime API path");
    };
    if rest == "invocation/next" {
        return next(runtime).await;
    }
    let body = match req.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return reply(400, "body unreadable"),
    };
    if rest == "init/error" {
        fail_in_flight(
            runtime,
            &format!("init error: {}", String::from_utf8_lossy(&body)),
        );
        return reply(202, "");
    }
    let Some((id, kind)) = rest
        .strip_prefix("invocation/")
        .and_then(|r| r.split_once('/'))
    else {
        return reply(404, "unknown Runtime API path");
    };
    let done = runtime
        .in_flight
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(id);
    let Some(done) = done else {
        return reply(400, "no such invocation");
    };
    let (status, outcome) = match kind {
        "response" if body.len() > MAX_RESPONSE_BYTES => (413, Outcome::TooLarge(body.len())),
        "response" => (202, Outcome::Response(body)),
        _ => (
            202,
            Outcome::Error(String::from_utf8_lossy(&body).into_owned()),
        ),
    };
    let _ = done.send(outcome);
    reply(status, "")
}

/// `GET /invocation/next`: blocks until there is an invocation, then hands it out.
async fn next(runtime: &Runtime) -> hyper::Response<Full<Bytes>> {
    runtime.nexts.send_modify(|n| *n += 1);
    let job = runtime.jobs.lock().await.recv().await;
    let Some(job) = job else {
        // The container is stopping: its process is killed while it waits, as in Lambda.
        return std::future::pending().await;
    };
    let deadline = SystemTime::now() + job.timeout;
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    runtime
        .in_flight
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(job.request_id.clone(), job.done);
    let _ = job.handed_out.send(());
    let mut resp = reply(200, job.event);
    let headers = resp.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", job.request_id);
    set("lambda-runtime-deadline-ms", deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:tally".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e;Sampled=0".into(),
    );
    set("content-type", "application/json".into());
    resp
}
