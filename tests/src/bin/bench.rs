//! `make bench`: measures every function cold, the local API warm, and each route's cost, then
//! prints the tables and writes them into README.md. Needs the release binaries, `wrk`, and the
//! local DynamoDB servers (`scripts/with-dynamodb.sh`); `make bench` provides all three.
//! `bench dashboard` runs only the dashboard render benchmark (no wrk, no release binaries);
//! `bench cold DIR [PROCS]` only the cold starts of the binaries in DIR (to compare builds;
//! with PROCS, a CPU cgroup's `cgroup.procs`, each invocation runs in it after an unthrottled
//! Init: `scripts/cold-cpu-share.sh`);
//! `bench cost` (`make cost`) only the cost table, through the meter (any build);
//! `bench counters` only the amortized write units of the counters (`make amortized`);
//! `bench logs-mix` only the simulated amortized cost of `POST /log` (no server);
//! `bench people [N]` only the amortized units of `POST /people` (`make amortized-people`);
//! `bench warm` (`make bench-warm`) only the warm throughput of the local API.

use std::path::{Path, PathBuf};
use tally_functions::routes::{FALLBACK_FUNCTION, ROUTES};
use tally_tests::bench::warm::{run_wrk, Scenario, Throughput};
use tally_tests::bench::{cold, cost, counters, dashboard, logs_mix, people, report};
use tally_tests::spawn_local;
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::DynamoTables;

const COLD_RUNS: usize = 5;
/// The loads of the warm runs: open connections, two wrk threads.
const CONNECTIONS: &[u32] = &[32, 128];
const SECONDS: u32 = 10;
/// What the grown store holds besides the empty-store runs' rows.
const GROWN_PATHS: usize = 1_000_000;
const GROWN_ACTIONS: usize = 1_000_000;

/// The requests the warm run loads the API with, on the store as the runs leave it.
fn scenarios() -> Vec<Scenario> {
    let ad = "sdk_version=1.0&session_id=s&platform=ios&username=bench&country_code=US";
    vec![
        Scenario::get("/ping").noting("no store: the HTTP path alone"),
        Scenario::get("/api/bench/hot").noting("one hot path: each request adds 1 to it"),
        Scenario::distinct_paths(),
        Scenario::distinct_logs(),
        Scenario::fixed("POST", "/log", "application/json", FIXED_LOG).noting(
            "one fixed body: after the first, each is a retry that stores nothing: the dedup path, not ingest",
        ),
        Scenario::mixed(),
        Scenario::get("/"),
        Scenario::fixed("POST", "/counters/bench", "", "").noting("one counter: each request adds 1"),
        Scenario::get("/counters/bench"),
        Scenario::get("/stats/?limit=10"),
        Scenario::get("/database?limit=100"),
        Scenario::get(&format!("/ad?{ad}")),
        Scenario::get(&format!("/impression?{ad}")),
        Scenario::get("/statistics?sdk=1.0"),
        Scenario::get("/log?userId=u1&limit=100"),
    ]
}

/// The writes (and the mixed load) again, once the store has grown.
fn grown_scenarios() -> Vec<Scenario> {
    let grown =
        &format!("on the grown store: {GROWN_PATHS} more paths, {GROWN_ACTIONS} more actions");
    vec![
        Scenario::get("/api/bench/hot").noting(grown),
        Scenario::distinct_paths().noting(grown),
        Scenario::distinct_logs().noting(grown),
        Scenario::mixed().noting(grown),
    ]
}

const FIXED_LOG: &str = r#"{"userId":"bench","sessionId":"s","actions":[{"time":"2018-10-18T21:37:28-06:00","type":"CLICK","properties":{"x":1}}]}"#;

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

/// The cold starts of every function in `bin_dir` (`throttle`: see `cold::measure`).
async fn cold_starts(
    bin_dir: &Path,
    repo: &Path,
    env: &[(&'static str, String)],
    throttle: Option<&Path>,
) -> Vec<cold::ColdStart> {
    let mut cold_starts = Vec::new();
    for function in functions() {
        let figures = cold::measure(function, bin_dir, repo, env, COLD_RUNS, throttle).await;
        eprintln!("cold {function}: {figures:?}");
        cold_starts.push(figures);
    }
    cold_starts
}

/// The local API's `local` build on the embedded store in `data`, its ad server at `vast_url`.
async fn start_local_api(
    repo: &Path,
    data: &Path,
    vast_url: &str,
) -> (tokio::process::Child, String) {
    spawn_local(
        &repo.join("target/local/tally-local"),
        data,
        &[("VAST_URL", vast_url)],
    )
    .await
}

/// Runs each scenario at each load against a fresh local API on `data` (scripts in `scratch`).
async fn load(
    repo: &Path,
    data: &Path,
    vast_url: &str,
    scenarios: &[Scenario],
    scratch: &Path,
) -> Vec<Throughput> {
    let (mut api, base) = start_local_api(repo, data, vast_url).await;
    // The counters the reading rows read exist before they are read.
    for counter in ["bench", "mixed"] {
        let _ = reqwest::Client::new()
            .post(format!("{base}/counters/{counter}"))
            .send()
            .await;
    }
    let mut warm = Vec::new();
    for scenario in scenarios {
        for &connections in CONNECTIONS {
            let load = (connections, SECONDS);
            let figures = run_wrk(&base, api.id(), scenario, load, scratch);
            eprintln!("warm {figures:?}");
            warm.push(figures);
        }
    }
    let _ = api.kill().await;
    let _ = api.wait().await;
    warm
}

/// The size of the data directory on disk, in MiB: the database, its WAL and shared-memory
/// files (and the 64-byte cursor key).
fn store_mib(data: &Path) -> f64 {
    let bytes: u64 = std::fs::read_dir(data)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    bytes as f64 / 1_048_576.0
}

/// The warm section: every scenario on the store as the runs grow it, then the writes again
/// once a million paths and a million actions more are stored; and the store's size.
async fn warm_section(repo: &Path, vast_url: &str) -> String {
    let scratch = tempfile::TempDir::new().expect("temp dir");
    let data = &scratch.path().join("data");
    let mut warm = load(repo, data, vast_url, &scenarios(), scratch.path()).await;
    let first_mib = store_mib(data);
    let seeding = std::time::Instant::now();
    let state = tally_tests::sqlite_state(data);
    dashboard::seed(&state, GROWN_PATHS, GROWN_ACTIONS).await;
    drop(state);
    eprintln!("grown in {:.0} s", seeding.elapsed().as_secs_f64());
    warm.extend(load(repo, data, vast_url, &grown_scenarios(), scratch.path()).await);
    let intro = format!(
        "**Warm throughput** (local API, `local` build (release, opt-level 3), embedded store, \
         `wrk -t2`, {SECONDS} s a row, loopback; wrk shares the machine's cores). The store on \
         disk: {first_mib:.0} MiB after the first rows, {:.0} MiB once grown by {GROWN_PATHS} \
         paths and {GROWN_ACTIONS} actions (`make bench-warm` runs this part alone):",
        store_mib(data)
    );
    report::render_warm(&intro, &warm)
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
                .flat_map(|&keys| {
                    counters::PROCESSES.iter().map(move |&processes| {
                        counters::simulate(keys, counters::INCREMENTS, 14, processes)
                    })
                })
                .collect();
            print!("{}", counters::table(&results));
            return;
        }
        Some("logs-mix") => return logs_mix(),
        Some("people") => {
            let creates = std::env::args()
                .nth(2)
                .and_then(|n| n.parse().ok())
                .unwrap_or(people::CREATES);
            print!("{}", people::table(&people::measure(creates).await));
            return;
        }
        _ => {}
    }
    let ad_server = StubServer::start(Behaviour::Xml).await;
    if std::env::args().nth(1).as_deref() == Some("warm") {
        let warm = warm_section(&repo, &format!("{}/ad/vast", ad_server.base)).await;
        println!("{warm}");
        return write_section(&repo, report::WARM, &warm);
    }
    let scratch = tempfile::TempDir::new().expect("temp dir");
    let env = function_env(&ad_server, &scratch.path().join("tls")).await;
    if std::env::args().nth(1).as_deref() == Some("cold") {
        let dir = std::env::args()
            .nth(2)
            .unwrap_or_else(|| "target/release".into());
        let throttle = std::env::args().nth(3).map(PathBuf::from);
        for c in cold_starts(Path::new(&dir), &repo, &env, throttle.as_deref()).await {
            println!(
                "| {} | {:.1} | {:.1} | {:.1} |",
                c.function, c.init_ms, c.first_invoke_ms, c.first_response_ms
            );
        }
        return;
    }
    let cold_starts = cold_starts(&repo.join("target/release"), &repo, &env, None).await;
    cost_table(&repo).await;
    let warm = warm_section(&repo, &format!("{}/ad/vast", ad_server.base)).await;
    println!("{warm}");
    write_section(&repo, report::WARM, &warm);
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
    let section = report::render(&header, &cold_starts);
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
