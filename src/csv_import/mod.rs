//! Reading the Update-users CSV files as spreadsheet software writes them
//! (R62-R64): UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252,
//! CRLF or LF, comma, semicolon or tab (detected), quoted fields, blank lines
//! and trailing empty columns. Headers in English, Dutch or Indonesian, in
//! any order. The result is typed rows with their line numbers; the rules
//! are checked later, by the import service.

mod headers;

pub use headers::{sample, Column, Lang};

use crate::domain::Action;

pub const MAX_BYTES: usize = 50 * 1024 * 1024;
pub const MAX_ROWS: usize = 200_000;

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
            FileError::MissingColumn(c) => tr_args(lang, "file-missing-column", &[("column", c.clone())]),
            FileError::UnknownColumn(c) => tr_args(lang, "file-unknown-column", &[("column", c.clone())]),
            FileError::DuplicateColumn(c) => tr_args(lang, "file-duplicate-column", &[("column", c.clone())]),
            FileError::NotForDeactivate(c) => tr_args(lang, "file-not-for-deactivate", &[("column", c.clone())]),
            FileError::Malformed { line, .. } => tr_args(lang, "file-malformed", &[("line", line.to_string())]),
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

/// Bytes to text: UTF-16 and UTF-8 by their BOM, UTF-8 without one, else
/// Windows-1252 (what Excel's plain "CSV" writes on Windows).
pub fn decode(bytes: &[u8]) -> Result<String, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(FileError::TooLarge);
    }
    let text = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8(rest.to_vec()).map_err(|_| FileError::NotText)?
    } else if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let encoding = if bytes[0] == 0xFF {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        let (text, _, had_errors) = encoding.decode(bytes);
        if had_errors {
            return Err(FileError::NotText);
        }
        text.into_owned()
    } else {
        match std::str::from_utf8(bytes) {
            Ok(t) => t.to_string(),
            Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
        }
    };
    let controls = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    if text.contains('\0') || controls * 100 > text.len().max(1) {
        return Err(FileError::NotText);
    }
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    Ok(text)
}

/// The separator of the header line: the most frequent of `;`, `,` and tab
/// outside quotes (Dutch and Indonesian Excel write semicolons).
pub fn detect_separator(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for c in counts.iter_mut() {
                if c.0 == b {
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

/// Yes/No in the account's languages (R64); an empty cell is No.
pub fn parse_yes_no(cell: &str) -> Result<bool, String> {
    match cell.trim().to_lowercase().as_str() {
        "" | "no" | "nee" | "tidak" => Ok(false),
        "yes" | "ja" | "ya" => Ok(true),
        _ => Err(cell.to_string()),
    }
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
    let mut records = reader.records();
    // The header is the first row with any text in it.
    let header = loop {
        match records.next() {
            None => return Err(FileError::Empty),
            Some(Err(e)) => return Err(malformed(&e)),
            Some(Ok(r)) if r.iter().all(|c| c.trim().is_empty()) => continue,
            Some(Ok(r)) => break r,
        }
    };
    let headers: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let columns = headers::map_columns(&headers, action)?;
    let mut lines = LineCounter::default();
    let mut rows = Vec::new();
    for result in records {
        let r = result.map_err(|e| malformed(&e))?;
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FileError::TooManyRows);
        }
        let line = lines.line_at(&text, r.position().map(|p| p.byte()).unwrap_or(0) as usize);
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
        rows.push(CsvRow {
            line,
            cells: r.iter().map(str::to_string).collect(),
            email: cell(Column::Email),
            transfer_to: cell(Column::TransferTo),
            transfer,
        });
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

/// Line numbers as a spreadsheet shows them. The csv crate's own line count
/// lags by the previous row's line end, so count from the record's byte
/// offset, skipping the line ends (and blank lines) before it.
#[derive(Default)]
struct LineCounter {
    pos: usize,
    line: u64,
}

impl LineCounter {
    fn line_at(&mut self, text: &str, byte: usize) -> u64 {
        let bytes = text.as_bytes();
        let mut start = byte.min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.pos {
            self.line += bytes[self.pos..start].iter().filter(|b| **b == b'\n').count() as u64;
            self.pos = start;
        }
        self.line + 1
    }
}

fn malformed(e: &csv::Error) -> FileError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    FileError::Malformed {
        line,
        message: "the row cannot be read as CSV (check the quotes)".into(),
    }
}

/// A cell made safe to open in a spreadsheet: text that would start a
/// formula (= + - @, tab, carriage return) gets a leading apostrophe.
pub fn escape_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests;
