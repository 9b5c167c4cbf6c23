//! Issue 24, "settings that refuse": a setting that is set but invalid stops the process at
//! start with one line naming the variable, the value and what is allowed, in the local API and
//! in a function binary (whose Init then fails, as Lambda reports it), instead of serving on a
//! default.

use std::time::Duration;
use tally_local::lambda::container::{request_id, Container, Launch, Outcome, Output};
use tally_tests::bin_dir;
use tally_tests::events::read;

const BAD: (&str, &str) = ("SDK_COUNTER_SHARDS", "abc");
const LINE: &str =
    r#"SDK_COUNTER_SHARDS="abc" is not allowed: a whole number from 1 to 100 (unset: 8)"#;

#[tokio::test]
async fn the_local_api_refuses_to_start_on_an_invalid_setting() {
    let data = tempfile::TempDir::new().expect("temp dir");
    let out = tokio::process::Command::new(bin_dir().join("tally-local"))
        .env("TALLY_ADDR", "127.0.0.1:0")
        .env("TALLY_DATA_DIR", data.path())
        .env(BAD.0, BAD.1)
        .output()
        .await
        .expect("tally-local runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), LINE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_fails_its_init_on_an_invalid_setting() {
    let launch = Launch {
        name: "ads-impression".into(),
        binary: bin_dir().join("ads-impression"),
        memory_mib: 128,
        timeout: Duration::from_secs(10),
        env: vec![
            ("AWS_REGION".into(), "us-east-1".into()),
            ("DYNAMODB_ENDPOINT".into(), "http://127.0.0.1:9".into()),
            (BAD.0.into(), BAD.1.into()),
        ],
        output: Output::Capture,
    };
    let container = Container::start(&launch).await.expect("function starts");
    let event = read("ads-impression");
    let outcome = container
        .invoke(request_id(), event.into(), launch.timeout, launch.timeout)
        .await;
    assert!(
        matches!(outcome, Some(Outcome::Crashed(_)) | Some(Outcome::Error(_))),
        "{outcome:?}"
    );
    let output = container.stop().await;
    let lines: Vec<&str> = output.lines().filter(|l| l.contains(BAD.0)).collect();
    assert_eq!(lines.len(), 1, "{output}");
    // Logged as Lambda's JSON log format asks (the container sets it), or as text.
    let message = serde_json::from_str::<serde_json::Value>(lines[0])
        .ok()
        .and_then(|line| line["fields"]["message"].as_str().map(String::from))
        .unwrap_or_else(|| lines[0].to_string());
    assert!(message.contains(LINE), "{output}");
}
