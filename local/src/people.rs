//! The people directory's local extras: the `import-people` command, and loading the original
//! `people.csv` on the first start of an empty people store (never on Lambda).

use std::path::Path;
use std::process::ExitCode;
use tally::date::today;
use tally::people::import::{import, ImportError, Report};
use tally::people::PersonStore;
use tally::AppState;

/// The project's copy of the original `people.csv`, byte for byte (BOM, CRLF, blank cells).
pub const ORIGINAL_CSV: &[u8] = include_bytes!("../../data/people.csv");

/// Imports the CSV file at `path` into `people`.
pub async fn import_file(people: &dyn PersonStore, path: &Path) -> Result<Report, ImportError> {
    let file = std::fs::File::open(path)
        .map_err(|err| ImportError::Read(format!("{}: {err}", path.display())))?;
    import(people, std::io::BufReader::new(file), today()).await
}

/// Loads the original `people.csv` if no person is stored yet (one cheap read otherwise).
pub async fn seed_if_empty(state: &AppState) -> Result<Option<Report>, ImportError> {
    if !state.people.store.is_empty().await? {
        return Ok(None);
    }
    import(state.people.store.as_ref(), ORIGINAL_CSV, today())
        .await
        .map(Some)
}

/// Loads the original `people.csv` into an empty store, logging what happened.
pub async fn seed_logged(state: &AppState) {
    match seed_if_empty(state).await {
        Ok(Some(report)) => tracing::info!(
            loaded = report.loaded,
            skipped = report.skipped.len(),
            "loaded data/people.csv into the empty people store"
        ),
        Ok(None) => {}
        Err(err) => tracing::warn!(error = %err, "could not load data/people.csv"),
    }
}

/// `tally-local import-people FILE`: reports each skipped row on stderr. Exit status 0 when
/// every row loaded, 3 when some were skipped, 1 when the import could not run.
pub async fn import_command(people: &dyn PersonStore, path: &Path) -> ExitCode {
    match import_file(people, path).await {
        Ok(report) => {
            for row in &report.skipped {
                eprintln!("{}: {row}", path.display());
            }
            println!(
                "{}: {} people loaded, {} rows skipped",
                path.display(),
                report.loaded,
                report.skipped.len()
            );
            if report.skipped.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            }
        }
        Err(err) => {
            eprintln!("{}: {err}", path.display());
            ExitCode::FAILURE
        }
    }
}
