//! Each function binary, started cold under a loopback Lambda Runtime API with its event from
//! `events/`, answers it and writes only JSON lines: logs carrying the request id and CloudWatch
//! Embedded Metric Format metrics (cold start, requests, latency). Every route, its event sent
//! as HTTP, answers through Lambda mode; the gateway answers as API Gateway does.

use std::path::PathBuf;
use std::time::Duration;
use tally_functions::routes::{FALLBACK_FUNCTION, ROUTES};
use tally_tests::events::assert_every_route_works;
use tally_tests::runtime_api::{invoke_cold, REQUEST_ID};
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::{bin_dir, Api, DynamoTables, Engine};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_its_event_through_lambda_mode() {
    let stub = StubServer::start(Behaviour::Xml).await;
    let timeout = Duration::from_secs(3);
    let api = Api::on_with(Engine::Lambda, |state| {
        state.ads.ad_server = stub.ad_server(timeout)
    })
    .await;
    assert_every_route_works(&api).await;
    let reply = api.get("/nowhere").await;
    assert_eq!(reply.status, 404, "the $default route's function answers");
    assert!(reply.header("apigw-requestid").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_answers_its_event_and_logs_json_with_metrics() {
    every_function_answers_its_event(|function| bin_dir().join(function)).await;
}

/// What `sam deploy` uploads is what ran here: each function's `bootstrap` at the template's
/// `CodeUri` (from `make lambda-build`: arm64, release profile) answers its event, run under
/// qemu's arm64 user-mode emulation with Debian's arm64 glibc.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs `make lambda-build` and qemu-user: `make lambda-test` runs it"]
async fn every_deploy_artifact_answers_its_event_under_arm64_emulation() {
    let template: serde_norway::Value =
        serde_norway::from_str(tally_local::schema::TEMPLATE).expect("template.yaml");
    let artifacts: std::collections::BTreeMap<String, PathBuf> = template["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .filter_map(tally_local::schema::function_binary)
        .map(|f| {
            (
                f.to_string(),
                repo().join(format!("target/lambda/{f}/bootstrap")),
            )
        })
        .collect();
    let launchers = tempfile::tempdir().expect("temp dir");
    every_function_answers_its_event(|function| {
        let artifact = &artifacts[function];
        let elf = std::fs::read(artifact).unwrap_or_else(|e| panic!("{}: {e}", artifact.display()));
        // ELF e_machine (bytes 18-19, little-endian) 183 is AArch64.
        assert_eq!(
            elf.get(18..20),
            Some(&[183u8, 0][..]),
            "{function} is not arm64"
        );
        let launcher = launchers.path().join(function);
        let script = format!(
            "#!/bin/sh\nexec qemu-aarch64-static -L /usr/aarch64-linux-gnu {} \"$@\"\n",
            artifact.display()
        );
        std::fs::write(&launcher, script).expect("launcher");
        std::fs::set_permissions(
            &launcher,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("executable");
        launcher
    })
    .await;
}

/// Starts each function from `binary(function)` cold with its event from `events/`, checks its
/// answer and that its output is JSON lines: the request log and the metrics.
async fn every_function_answers_its_event(binary: impl Fn(&str) -> PathBuf) {
    let ad_server = StubServer::start(Behaviour::Xml).await;
    let mut env = DynamoTables::create().await.env();
    env.extend([
        ("VAST_URL", format!("{}/ad/vast", ad_server.base)),
        ("DYNAMODB_ENDPOINT", tally_tests::dynamodb_endpoint()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
    ]);
    for function in ROUTES.iter().map(|r| r.function).chain([FALLBACK_FUNCTION]) {
        let event =
            std::fs::read_to_string(repo().join(format!("events/{function}.json"))).expect("event");
        let run = invoke_cold(&binary(function), &event, &env).await;
        let status = run.response["statusCode"].as_u64().unwrap_or(0);
        let expected = if function == FALLBACK_FUNCTION {
            404
        } else {
            200
        };
        assert!(
            status == expected || (status == 201 && expected == 200),
            "{function}: {} {}",
            status,
            run.output
        );
        let lines: Vec<serde_json::Value> = run
            .output
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{function}: not JSON ({e}): {l}"))
            })
            .collect();
        let logged_request = lines
            .iter()
            .any(|l| l["fields"]["message"] == "request" && l.to_string().contains(REQUEST_ID));
        assert!(
            logged_request,
            "{function}: no request log with the request id:\n{}",
            run.output
        );
        let metrics: Vec<&serde_json::Value> =
            lines.iter().filter(|l| l.get("_aws").is_some()).collect();
        let has = |name: &str| metrics.iter().any(|m| m.get(name).is_some());
        assert!(
            has("ColdStart") && has("Requests") && has("Latency"),
            "{function}: metrics missing:\n{}",
            run.output
        );
        assert!(metrics
            .iter()
            .all(|m| m["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Tally"));
    }
}
