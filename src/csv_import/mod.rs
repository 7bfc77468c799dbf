//! Reading the Update-users CSV files as spreadsheet software writes them
//! (R62-R64): UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252 or
//! Mac Roman (`decode`), CRLF, LF or CR alone, comma, semicolon or tab
//! (detected), quoted fields with line breaks, blank lines and trailing
//! empty columns. Headers in English, Dutch or Indonesian, in any order.
//! The result is typed rows numbered as the spreadsheet numbers its rows
//! (`rows`); the rules are checked later, by the import service.

mod decode;
mod dupes;
mod headers;
mod rows;
mod write;

pub use decode::{choose_single_byte, decode, SingleByte};
pub use dupes::{find_duplicates, Dup};
pub use headers::{sample, Column, Lang};
pub use write::{csv_line, safe_cell, CsvStyle, BOM};

use crate::domain::Action;
use rows::RowCounter;

pub const MAX_BYTES: usize = 50 * 1024 * 1024;
pub const MAX_ROWS: usize = 200_000;
/// Longer cells, rows and header rows refuse the file: an address is at
/// most 254 characters, and a file of the sample's shape never comes near.
/// The limits keep what a row costs in memory and in the report bounded.
pub const MAX_CELL_CHARS: usize = 256;
pub const MAX_ROW_BYTES: usize = 2_048;
pub const MAX_HEADER_BYTES: usize = 1_024;
/// No message shows more of the file than this many characters.
pub const ECHO_CHARS: usize = 100;

/// A problem with the whole file: one clear message, nothing imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is larger than 50 MB. Split it into smaller files.")]
    TooLarge,
    #[error("The file has more than 200,000 rows. Split it into smaller files.")]
    TooManyRows,
    #[error("This is not a CSV file (it holds binary data). Save the sheet as CSV and upload that.")]
    NotText,
    #[error("The file has a header row but no users.")]
    NoRows,
    #[error("The first row must name the columns; the column {0} is missing. Download the sample for this action.")]
    MissingColumn(String),
    #[error("Unknown column \"{0}\". Use the columns of the sample for this action.")]
    UnknownColumn(String),
    #[error("The column {0} appears twice.")]
    DuplicateColumn(String),
    #[error("The column \"{0}\" is for unlink and delete files, not for deactivate.")]
    NotForDeactivate(String),
    #[error("Line {line}: {message}")]
    Malformed { line: u64, message: String },
    #[error("The characters of the file cannot be read. Save it as \"CSV UTF-8\".")]
    UnknownEncoding,
    #[error("The header row is longer than 1,024 characters.")]
    HeaderTooLong,
    #[error("Row {line} is longer than 2,048 characters.")]
    RowTooLong { line: u64 },
    #[error("Row {line} has a cell longer than 256 characters.")]
    CellTooLong { line: u64 },
}

impl FileError {
    /// The message in the uploader's language.
    pub fn text(&self, lang: crate::i18n::Lang) -> String {
        use crate::i18n::{tr, tr_args};
        match self {
            FileError::Empty => tr(lang, "file-empty"),
            FileError::TooLarge => tr(lang, "file-too-large"),
            FileError::TooManyRows => tr(lang, "file-too-many-rows"),
            FileError::NotText => tr(lang, "file-not-text"),
            FileError::NoRows => tr(lang, "file-no-rows"),
            FileError::MissingColumn(c) => tr_args(lang, "file-missing-column", &[("column", echo(c))]),
            FileError::UnknownColumn(c) => tr_args(lang, "file-unknown-column", &[("column", echo(c))]),
            FileError::DuplicateColumn(c) => tr_args(lang, "file-duplicate-column", &[("column", echo(c))]),
            FileError::NotForDeactivate(c) => tr_args(lang, "file-not-for-deactivate", &[("column", echo(c))]),
            FileError::Malformed { line, .. } => tr_args(lang, "file-malformed", &[("line", line.to_string())]),
            FileError::UnknownEncoding => tr(lang, "file-unknown-encoding"),
            FileError::HeaderTooLong => tr(lang, "file-header-too-long"),
            FileError::RowTooLong { line } => tr_args(lang, "file-row-too-long", &[("line", line.to_string())]),
            FileError::CellTooLong { line } => tr_args(lang, "file-cell-too-long", &[("line", line.to_string())]),
        }
    }
}

/// One data row as read, before the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub line: u64,
    /// The cells as they were, for the result report.
    pub cells: Vec<String>,
    pub email: String,
    pub transfer_to: String,
    /// meetings, webinars, events, recordings: Ok(yes) or the bad cell.
    pub transfer: [Result<bool, String>; 4],
}

#[derive(Debug, Clone)]
pub struct CsvFile {
    pub headers: Vec<String>,
    pub separator: u8,
    pub rows: Vec<CsvRow>,
}

/// The separator of the header row: the most frequent of `;`, `,` and tab
/// outside quotes (Dutch and Indonesian Excel write semicolons).
pub fn detect_separator(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    let mut seen_text = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\r' | b'\n' if !quoted && seen_text => break,
            _ if quoted => {}
            _ => {
                seen_text |= !b.is_ascii_whitespace();
                if let Some(c) = counts.iter_mut().find(|c| c.0 == b) {
                    c.1 += 1;
                }
            }
        }
    }
    counts
        .iter()
        .max_by_key(|c| c.1)
        .filter(|c| c.1 > 0)
        .map(|c| c.0)
        .unwrap_or(b',')
}

/// Yes/No as people and spreadsheets write them (R64): the words of the
/// three languages, the TRUE/FALSE a spreadsheet writes for a boolean cell
/// in each (WAAR/ONWAAR, BENAR/SALAH), and 1/0; any case. An empty cell is No.
pub fn parse_yes_no(cell: &str) -> Result<bool, String> {
    match cell.trim().to_lowercase().as_str() {
        "" | "no" | "nee" | "tidak" | "false" | "onwaar" | "salah" | "0" => Ok(false),
        "yes" | "ja" | "ya" | "true" | "waar" | "benar" | "1" => Ok(true),
        _ => Err(cell.to_string()),
    }
}

/// Text from the file as a message may show it: at most `ECHO_CHARS`
/// characters, then "…".
pub fn echo(cell: &str) -> String {
    let cell = cell.trim();
    match cell.char_indices().nth(ECHO_CHARS) {
        Some((cut, _)) => format!("{}…", &cell[..cut]),
        None => cell.to_string(),
    }
}

fn is_blank(r: &csv::StringRecord) -> bool {
    r.iter().all(|c| c.trim().is_empty())
}

/// The record's length as written, separators included (quotes not).
fn record_len(r: &csv::StringRecord) -> usize {
    r.as_slice().len() + r.len().saturating_sub(1)
}

/// Refuses a record longer than the limits before it is kept.
fn check_size(r: &csv::StringRecord, line: u64) -> Result<(), FileError> {
    if record_len(r) > MAX_ROW_BYTES {
        return Err(FileError::RowTooLong { line });
    }
    if r.iter().any(|c| c.chars().count() > MAX_CELL_CHARS) {
        return Err(FileError::CellTooLong { line });
    }
    Ok(())
}

/// Reads a whole file for `action`.
pub fn read(bytes: &[u8], action: Action) -> Result<CsvFile, FileError> {
    let text = decode(bytes)?;
    let separator = detect_separator(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows_of = RowCounter::new(separator);
    let mut records = reader.records();
    // The header is the first row with any text in it.
    let header = loop {
        match records.next() {
            None => return Err(FileError::Empty),
            Some(Err(e)) => return Err(malformed(&e, &text, &mut rows_of)),
            Some(Ok(r)) if is_blank(&r) => continue,
            Some(Ok(r)) if record_len(&r) > MAX_HEADER_BYTES => return Err(FileError::HeaderTooLong),
            Some(Ok(r)) => break r,
        }
    };
    let headers: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let columns = headers::map_columns(&headers, action)?;
    let mut rows = Vec::new();
    for result in records {
        let r = result.map_err(|e| malformed(&e, &text, &mut rows_of))?;
        if is_blank(&r) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FileError::TooManyRows);
        }
        let line = rows_of.row_at(&text, r.position().map(|p| p.byte()).unwrap_or(0) as usize);
        check_size(&r, line)?;
        rows.push(typed_row(&r, &columns, line));
    }
    if rows.is_empty() {
        return Err(FileError::NoRows);
    }
    Ok(CsvFile {
        headers,
        separator,
        rows,
    })
}

fn typed_row(r: &csv::StringRecord, columns: &[Option<Column>], line: u64) -> CsvRow {
    let cell = |col: Column| -> String {
        columns
            .iter()
            .position(|c| *c == Some(col))
            .and_then(|i| r.get(i))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let transfer =
        [Column::Meetings, Column::Webinars, Column::Events, Column::Recordings].map(|c| parse_yes_no(&cell(c)));
    CsvRow {
        line,
        cells: r.iter().map(str::to_string).collect(),
        email: cell(Column::Email),
        transfer_to: cell(Column::TransferTo),
        transfer,
    }
}

fn malformed(e: &csv::Error, text: &str, rows_of: &mut RowCounter) -> FileError {
    let line = match e.position() {
        Some(p) => rows_of.row_at(text, p.byte() as usize),
        None => 0,
    };
    FileError::Malformed {
        line,
        message: "the row cannot be read as CSV (check the quotes)".into(),
    }
}

#[cfg(test)]
mod tests;
