//! The dashboard in a real browser: headless Chromium (Debian's `chromium`, which `make test`
//! installs) loads the page from the local API under its own Content-Security-Policy, its DOM
//! must hold each section's chart with the data written, and screenshots (desktop and phone)
//! are saved under `.test-output/`.

use std::path::{Path, PathBuf};
use std::process::Output;
use tally_tests::dashboard::{assert_shows_seed, seed};
use tally_tests::{Api, Engine};
use tempfile::TempDir;

const CHROMIUM: &str = "chromium";

fn output_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.test-output")
}

/// Runs headless Chromium on `url` with a fresh profile, plus `args`.
async fn chromium(url: &str, args: &[String]) -> Output {
    let profile = TempDir::new().expect("profile dir");
    let run = tokio::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("chromium finished within 60 s")
        .unwrap_or_else(|err| {
            panic!(
                "cannot run `{CHROMIUM}` ({err}): install Debian's chromium \
                 (`apt-get install -y chromium`; `make test` does it)"
            )
        });
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chromium_draws_every_section_with_the_written_data() {
    let api = Api::on(Engine::Sqlite).await;
    seed(&api.state).await;
    let url = api.url("/dashboard");
    std::fs::create_dir_all(output_dir()).expect("output dir");
    let dom = chromium(&url, &["--dump-dom".into()]).await;
    let html = String::from_utf8_lossy(&dom.stdout);
    assert_shows_seed(&html);
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(
        !log.contains("Content Security Policy"),
        "CSP refused something: {log}"
    );
    for (name, size) in [
        ("dashboard.png", "1280,2200"),
        ("dashboard-phone.png", "390,3200"),
    ] {
        let file = output_dir().join(name);
        let _ = std::fs::remove_file(&file);
        chromium(
            &url,
            &[
                format!("--screenshot={}", file.display()),
                format!("--window-size={size}"),
            ],
        )
        .await;
        let png = std::fs::read(&file).expect("screenshot written");
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{name} looks empty"
        );
    }
}
