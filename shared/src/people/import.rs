//! The CSV importer of people (`people.csv` and any file of its shape): a bad row is reported
//! with its physical line number and skipped, every other row is stored or overwritten, so an
//! import run twice changes nothing. Only the local crate enables it (feature `import`).

use super::input::{cell_integer, Raw};
use super::{Details, Person, PersonId, PersonStore, DATE_FIELD};
use crate::{ApiError, StoreError};
use csv::{ByteRecord, ReaderBuilder};
use std::collections::{HashMap, VecDeque};
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
    let mut reader = ReaderBuilder::new()
        .flexible(true)
        .from_reader(LineStarts::new(input));
    check_header(reader.byte_headers().map_err(read_error)?)?;
    let mut report = Report::default();
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut record = ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(read_error)? {
        let offset = record.position().map_or(0, csv::Position::byte);
        let line = reader.get_mut().line_at(offset);
        let person = row(&record, today)
            .map_err(|e| e.to_string())
            .and_then(|p| match seen.insert(p.id, line) {
                Some(first) => Err(format!("ID: {} already appeared on line {first}", p.id)),
                None => Ok(p),
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

/// Passes the input through, noting where each line's content starts and on which line.
///
/// The csv crate's own line numbers drift after CRLF line ends and blank lines: it positions a
/// record where parsing resumed, before the rest of the line break. A record really starts at
/// the first byte after that which is not a line break, and this says which line that is.
struct LineStarts<R> {
    inner: R,
    offset: u64,
    breaks: u64,
    after_break: bool,
    starts: VecDeque<(u64, u64)>,
}

impl<R> LineStarts<R> {
    fn new(inner: R) -> Self {
        LineStarts {
            inner,
            offset: 0,
            breaks: 0,
            after_break: false,
            starts: VecDeque::new(),
        }
    }

    /// The physical line (from 1) of the record the csv reader positioned at `offset`.
    /// Offsets only grow, so line starts before it are forgotten.
    fn line_at(&mut self, offset: u64) -> u64 {
        while self
            .starts
            .front()
            .is_some_and(|(start, _)| *start < offset)
        {
            self.starts.pop_front();
        }
        self.starts
            .front()
            .map_or(self.breaks, |(_, breaks)| *breaks)
            + 1
    }
}

impl<R: Read> Read for LineStarts<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for byte in &buf[..n] {
            match byte {
                b'\n' => {
                    self.breaks += 1;
                    self.after_break = true;
                }
                b'\r' => self.after_break = true,
                _ if self.after_break => {
                    self.starts.push_back((self.offset, self.breaks));
                    self.after_break = false;
                }
                _ => {}
            }
            self.offset += 1;
        }
        Ok(n)
    }
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
        id: PersonId::chosen(id)?.get(),
        details: Details::new(raw, today)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The physical line of each data record, as the importer reports it.
    fn lines(input: &str) -> Vec<u64> {
        let mut reader = ReaderBuilder::new()
            .flexible(true)
            .from_reader(LineStarts::new(input.as_bytes()));
        let mut record = ByteRecord::new();
        let mut lines = Vec::new();
        while reader.read_byte_record(&mut record).expect("csv") {
            let offset = record.position().map_or(0, csv::Position::byte);
            lines.push(reader.get_mut().line_at(offset));
        }
        lines
    }

    #[test]
    fn line_numbers_are_physical_with_lf_crlf_blank_lines_and_quoted_breaks() {
        assert_eq!(lines("h\na\nb\n\"c\nd\"\ne"), vec![2, 3, 4, 6]);
        assert_eq!(lines("h\r\na\r\nb\r\n\"c\r\nd\"\r\ne"), vec![2, 3, 4, 6]);
        assert_eq!(lines("\u{feff}h\r\na\r\n\r\n\r\nb\r\n"), vec![2, 5]);
    }

    #[test]
    fn the_header_may_carry_a_byte_order_mark() {
        let with_bom = format!("\u{feff}{}\r\n", HEADER.join(","));
        let mut reader = ReaderBuilder::new().from_reader(with_bom.as_bytes());
        assert!(check_header(reader.byte_headers().expect("header")).is_ok());
        let mut other = ReaderBuilder::new().from_reader("ID,Name\n".as_bytes());
        assert!(check_header(other.byte_headers().expect("header")).is_err());
    }
}
