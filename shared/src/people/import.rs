//! The CSV importer of people (`people.csv` and any file of its shape): a bad row is reported
//! with its physical line number and skipped, every other row is stored or overwritten, so an
//! import run twice changes nothing. Only the local crate enables it (feature `import`).

use super::input::{cell_integer, Raw};
use super::{Details, Person, PersonId, PersonStore, DATE_FIELD};
use crate::{ApiError, StoreError};
use csv::{ByteRecord, ReaderBuilder};
use std::collections::HashMap;
use std::io::Read;
use time::Date;

/// The header every import file starts with (after an optional byte order mark).
pub const HEADER: [&str; 6] = ["ID", "First", "Last", "Age", "GithubAcct", DATE_FIELD];

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line 1: the header must be {expected:?}, not {found:?}")]
    Header { expected: String, found: String },
    #[error("could not read the file: {0}")]
    Read(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A row that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub loaded: usize,
    pub skipped: Vec<RowError>,
}

/// Reads the CSV from `input` and stores each valid row in `store`, validated as of `today`.
pub async fn import(
    store: &dyn PersonStore,
    input: impl Read,
    today: Date,
) -> Result<Report, ImportError> {
    let mut reader = ReaderBuilder::new().flexible(true).from_reader(input);
    check_header(reader.byte_headers().map_err(read_error)?)?;
    let mut report = Report::default();
    let mut seen: HashMap<u64, u64> = HashMap::new();
    for record in reader.byte_records() {
        let record = record.map_err(read_error)?;
        let line = record.position().map_or(0, csv::Position::line);
        let person = row(&record, today).map_err(|e| e.to_string()).and_then(|p| {
            match seen.insert(p.id, line) {
                Some(first) => Err(format!("ID: {} already appeared on line {first}", p.id)),
                None => Ok(p),
            }
        });
        match person {
            Ok(person) => {
                store.upsert(&person).await?;
                report.loaded += 1;
            }
            Err(message) => report.skipped.push(RowError { line, message }),
        }
    }
    Ok(report)
}

fn read_error(err: csv::Error) -> ImportError {
    ImportError::Read(err.to_string())
}

fn check_header(header: &ByteRecord) -> Result<(), ImportError> {
    let found: Vec<String> = header
        .iter()
        .map(|cell| String::from_utf8_lossy(cell).trim().to_string())
        .collect();
    if found == HEADER {
        return Ok(());
    }
    Err(ImportError::Header {
        expected: HEADER.join(","),
        found: found.join(","),
    })
}

/// One data row as a person; a row without an `ID` is refused, since a re-import must find it.
fn row(record: &ByteRecord, today: Date) -> Result<Person, ApiError> {
    if record.len() != HEADER.len() {
        return Err(ApiError::field(
            "row",
            format!("has {} cells, expected {}", record.len(), HEADER.len()),
        ));
    }
    let cells = record
        .iter()
        .map(std::str::from_utf8)
        .collect::<Result<Vec<&str>, _>>()
        .map_err(|_| ApiError::field("row", "is not valid UTF-8"))?;
    let id = cell_integer("ID", cells[0])?.ok_or_else(|| ApiError::field("ID", "is required"))?;
    let raw = Raw {
        first: Some(cells[1]),
        last: Some(cells[2]),
        age: cell_integer("Age", cells[3])?,
        github: Some(cells[4]),
        graduated: Some(cells[5]),
    };
    Ok(Person {
        id: PersonId::new(id)?.get(),
        details: Details::new(raw, today)?,
    })
}
