//! The Lambda side's rules, with small Python runtimes standing in for function binaries.

use super::*;
use crate::lambda::container::Output;
use std::path::{Path, PathBuf};

/// A runtime that takes each invocation and then runs `behaviour` (Python, with `rid`, `api`
/// and `post(path, body)` defined).
fn runtime(dir: &Path, behaviour: &str) -> PathBuf {
    let path = dir.join("function");
    let script = format!(
        r#"#!/usr/bin/env python3
import os, sys, time, urllib.request, urllib.error
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
def post(path, body):
    try:
        urllib.request.urlopen(urllib.request.Request(api + path, data=body, method="POST"))
    except urllib.error.HTTPError:
        pass
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        rid = r.headers["lambda-runtime-aws-request-id"]
        r.read()
    {behaviour}
"#
    );
    std::fs::write(&path, script).expect("script");
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&path, mode).expect("chmod");
    path
}

const ANSWER_PID: &str = r#"post("/invocation/" + rid + "/response", ('{"statusCode":200,"body":"%d"}' % os.getpid()).encode())"#;

fn pool(dir: &tempfile::TempDir, behaviour: &str, timeout_ms: u64, limit: usize) -> Pool {
    let launch = Launch {
        name: "test".into(),
        binary: runtime(dir.path(), behaviour),
        memory_mib: 128,
        timeout: Duration::from_millis(timeout_ms),
        env: Vec::new(),
        output: Output::Capture,
    };
    Pool::new(launch, Arc::new(AtomicUsize::new(0)), limit)
}

async fn pid(pool: &Pool) -> String {
    match pool.invoke(Bytes::from_static(b"{}")).await {
        Invoked::Response(body) => {
            let value: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            value["body"].as_str().expect("pid").to_string()
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_warm_environment_serves_the_next_invocation() {
    let dir = tempfile::TempDir::new().expect("dir");
    let pool = pool(&dir, ANSWER_PID, 5_000, 10);
    assert_eq!(pid(&pool).await, pid(&pool).await);
}

#[tokio::test]
async fn busy_environments_make_another_start_up_to_the_limit() {
    let dir = tempfile::TempDir::new().expect("dir");
    let slow = format!("time.sleep(0.5)\n    {ANSWER_PID}");
    let two = pool(&dir, &slow, 5_000, 2);
    let (a, b) = tokio::join!(pid(&two), pid(&two));
    assert_ne!(a, b, "two invocations at once run in two environments");
    let one = pool(&dir, &slow, 5_000, 1);
    let (a, b) = tokio::join!(one.invoke(Bytes::new()), one.invoke(Bytes::new()));
    let throttled = [&a, &b]
        .iter()
        .filter(|i| matches!(i, Invoked::Throttled(_)))
        .count();
    assert_eq!(throttled, 1, "{a:?} {b:?}");
}

#[tokio::test]
async fn a_timeout_fails_the_invocation_and_discards_the_environment() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hang = format!("time.sleep(30)\n    {ANSWER_PID}");
    let pool = pool(&dir, &hang, 1_000, 10);
    let started = std::time::Instant::now();
    match pool.invoke(Bytes::new()).await {
        Invoked::Failed(reason) => assert!(reason.contains("timed out"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(pool.idle.lock().expect("idle").is_empty());
}

#[tokio::test]
async fn crashes_errors_and_oversized_responses_fail_the_invocation() {
    let dir = tempfile::TempDir::new().expect("dir");
    let cases = [
        ("sys.exit(3)", "runtime exited"),
        (
            r#"post("/invocation/" + rid + "/error", b'{"errorType":"Boom"}')"#,
            "Boom",
        ),
        (
            r#"post("/invocation/" + rid + "/response", b'"' + b'x' * (7 * 1024 * 1024) + b'"')"#,
            "exceeds 6 MB",
        ),
    ];
    for (behaviour, expected) in cases {
        let pool = pool(&dir, behaviour, 5_000, 10);
        match pool.invoke(Bytes::new()).await {
            Invoked::Failed(reason) => assert!(reason.contains(expected), "{reason}"),
            other => panic!("{behaviour}: {other:?}"),
        }
    }
}
