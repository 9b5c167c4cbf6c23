//! `make bench`: measures every function cold, the local API warm, and each route's cost, then
//! prints the tables and writes them into README.md. Needs the release binaries, `wrk`, and the
//! local DynamoDB servers (`scripts/with-dynamodb.sh`); `make bench` provides all three.
//! `bench dashboard` runs only the dashboard render benchmark (no wrk, no release binaries);
//! `bench cold DIR` only the cold starts of the binaries in DIR (to compare builds);
//! `bench cost` (`make cost`) only the cost table, through the meter (any build);
//! `bench counters` only the amortized write units of the counters (`make amortized`);
//! `bench logs-mix` only the simulated amortized cost of `POST /log` (no server).

use std::path::{Path, PathBuf};
use std::time::Duration;
use tally_functions::routes::{FALLBACK_FUNCTION, ROUTES};
use tally_tests::bench::warm::{run_wrk, Scenario};
use tally_tests::bench::{cold, cost, counters, dashboard, logs_mix, report};
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::DynamoTables;

const COLD_RUNS: usize = 5;
const CONNECTIONS: &[u32] = &[1, 16, 64];
const SECONDS: u32 = 5;

/// The requests the warm run loads the API with.
const SCENARIOS: &[Scenario] = &[
    Scenario::get("/"),
    Scenario::post("/counters/bench", "", "").noting("one counter: each request adds 1"),
    Scenario::get("/counters/bench"),
    Scenario::get("/database?limit=100"),
    Scenario::get("/ad?sdk_version=1.0&session_id=s&platform=ios&username=bench&country_code=US"),
    Scenario::get(
        "/impression?sdk_version=1.0&session_id=s&platform=ios&username=bench&country_code=US",
    ),
    Scenario::get("/statistics?sdk=1.0"),
    Scenario::post(
        "/log",
        "application/json",
        r#"{"userId":"bench","sessionId":"s","actions":[{"time":"2018-10-18T21:37:28-06:00","type":"CLICK","properties":{"x":1}}]}"#,
    )
    .noting("one fixed body: after the first, each is a retry that stores nothing, so this measures the dedup path, not ingest"),
    Scenario::get("/log?userId=bench&limit=100"),
];

fn functions() -> Vec<&'static str> {
    ROUTES
        .iter()
        .map(|r| r.function)
        .chain([FALLBACK_FUNCTION])
        .collect()
}

/// What each function gets: fresh tables, the stub ad server, and DynamoDB behind a TLS
/// terminator whose CA (in `tls_dir`) it trusts through `SSL_CERT_FILE`. The server is
/// dynalite: moto's own latency (Python, one request at a time) would add ~15 ms to each
/// first invocation, which is the server's cost, not the function's.
async fn function_env(ad_server: &StubServer, tls_dir: &Path) -> Vec<(&'static str, String)> {
    let endpoint = tally_tests::dynalite_endpoint();
    let mut env = DynamoTables::create_at(&endpoint).await.env();
    env.push(("VAST_URL", format!("{}/ad/vast", ad_server.base)));
    let tls = tally_local::tls::dynamodb_env(&endpoint, tls_dir)
        .await
        .expect("TLS terminator");
    let names = [
        "DYNAMODB_ENDPOINT",
        "SSL_CERT_FILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ];
    for (name, value) in tls {
        if let Some(name) = names.iter().find(|n| **n == name) {
            env.push((name, value));
        }
    }
    env
}

/// The cold starts of every function in `bin_dir`.
async fn cold_starts(
    bin_dir: &Path,
    repo: &Path,
    env: &[(&'static str, String)],
) -> Vec<cold::ColdStart> {
    let mut cold_starts = Vec::new();
    for function in functions() {
        let figures = cold::measure(function, bin_dir, repo, env, COLD_RUNS).await;
        eprintln!("cold {function}: {figures:?}");
        cold_starts.push(figures);
    }
    cold_starts
}

async fn start_local_api(
    repo: &Path,
    data: &Path,
    vast_url: &str,
) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(3999);
    let child = tokio::process::Command::new(repo.join("target/release/tally-local"))
        .env("TALLY_ADDR", format!("127.0.0.1:{port}"))
        .env("TALLY_DATA_DIR", data)
        .env("VAST_URL", vast_url)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("target/release/tally-local (make bench builds it)");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = reqwest::Client::new()
        .post(format!("{base}/counters/bench"))
        .send()
        .await;
    (child, base)
}

/// Times the dashboard on a seeded embedded store and prints the figure.
async fn dashboard_render() -> dashboard::RenderTime {
    let scratch = tempfile::TempDir::new().expect("temp dir");
    let time = dashboard::measure(scratch.path()).await;
    println!(
        "dashboard with {} paths and {} actions (embedded store): median {:.1} ms, max {:.1} ms (target < 50 ms)",
        dashboard::PATHS,
        dashboard::ACTIONS,
        time.median_ms,
        time.max_ms
    );
    time
}

/// The amortized cost of `POST /log` over the simulated mix (`bench::logs_mix`), as README rows.
fn logs_mix() {
    println!("| properties | requests | actions | WRU | goal WRU | WRU / goal | WRU per request | costliest request against its goal |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for content in [logs_mix::Content::Json, logs_mix::Content::Noise] {
        let mix = logs_mix::Mix {
            batches: 400,
            seed: 14,
            content,
        };
        println!("{}", logs_mix::line(mix, &logs_mix::simulate(mix)));
    }
}

#[tokio::main]
async fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    match std::env::args().nth(1).as_deref() {
        Some("dashboard") => {
            dashboard_render().await;
            return;
        }
        Some("cost") => return cost_table(&repo).await,
        Some("counters") => {
            let results: Vec<_> = counters::WORKLOADS
                .iter()
                .map(|&keys| counters::simulate(keys, counters::INCREMENTS, 14))
                .collect();
            print!("{}", counters::table(&results));
            return;
        }
        Some("logs-mix") => return logs_mix(),
        _ => {}
    }
    let ad_server = StubServer::start(Behaviour::Xml).await;
    let scratch = tempfile::TempDir::new().expect("temp dir");
    let env = function_env(&ad_server, &scratch.path().join("tls")).await;
    if std::env::args().nth(1).as_deref() == Some("cold") {
        let dir = std::env::args()
            .nth(2)
            .unwrap_or_else(|| "target/release".into());
        for c in cold_starts(Path::new(&dir), &repo, &env).await {
            println!(
                "| {} | {:.1} | {:.1} | {:.1} |",
                c.function, c.init_ms, c.first_invoke_ms, c.first_response_ms
            );
        }
        return;
    }
    let cold_starts = cold_starts(&repo.join("target/release"), &repo, &env).await;
    cost_table(&repo).await;
    let (mut api, base) = start_local_api(
        &repo,
        scratch.path(),
        &format!("{}/ad/vast", ad_server.base),
    )
    .await;
    let mut warm = Vec::new();
    for scenario in SCENARIOS {
        for &connections in CONNECTIONS {
            let figures = run_wrk(&base, scenario, connections, SECONDS, scratch.path());
            eprintln!("warm {figures:?}");
            warm.push(figures);
        }
    }
    let _ = api.kill().await;
    let render = dashboard_render().await;
    let header = format!(
        "Measured by `make bench` on {} ({} cores), {}.\n\n**Dashboard**: `GET /dashboard` renders in \
         {:.1} ms median, {:.1} ms at most, with {} paths and {} actions on the embedded store \
         (target: under 50 ms).",
        std::env::consts::ARCH,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        String::from_utf8_lossy(
            &std::process::Command::new("date")
                .arg("-u")
                .arg("+%Y-%m-%d")
                .output()
                .map(|o| o.stdout)
                .unwrap_or_default()
        )
        .trim(),
        render.median_ms,
        render.max_ms,
        dashboard::PATHS,
        dashboard::ACTIONS
    );
    let section = report::render(&header, &cold_starts, &warm);
    println!("{section}");
    write_section(&repo, report::BENCH, &section);
}

/// Measures every route's cost through the meter and writes the cost table into README.md.
async fn cost_table(repo: &Path) {
    let section = report::render_cost(&cost::measure_all().await);
    println!("{section}");
    write_section(repo, report::COST, &section);
}

/// Writes `section` into README.md between `markers`.
fn write_section(repo: &Path, markers: report::Markers, section: &str) {
    let readme_path = repo.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap_or_default();
    match report::splice(&readme, markers, section) {
        Some(updated) => {
            let _ = std::fs::write(&readme_path, updated);
            eprintln!("README.md section {} updated", markers.0);
        }
        None => eprintln!(
            "README.md has no {} ... {} markers; not updated",
            markers.0, markers.1
        ),
    }
}
