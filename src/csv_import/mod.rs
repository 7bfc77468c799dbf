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
pub use dupes::{find_duplicates, Dup, DupKey};
pub use headers::{sample, Column, Lang};
pub use write::{csv_line, safe_cell, CsvStyle, BOM};

use crate::domain::Action;
use rows::RowCounter;

/// The default limits of one file (issue 20: over six times the largest
/// peer's); `OFFBOARD_CSV_MAX_MB` and `OFFBOARD_CSV_MAX_ROWS` change them.
pub const MAX_BYTES: usize = 200 * 1024 * 1024;
pub const MAX_ROWS: usize = 1_000_000;

/// How large a file and how many rows one upload may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_rows: usize,
}

impl Limits {
    /// The refusal of a file over `max_bytes`, in whole megabytes.
    pub fn too_large(&self) -> FileError {
        FileError::TooLarge {
            mb: self.max_bytes / (1024 * 1024),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: MAX_BYTES,
            max_rows: MAX_ROWS,
        }
    }
}
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
    #[error("The file is larger than {mb} MB. Split it into smaller files.")]
    TooLarge { mb: usize },
    #[error("The file has more than {rows} rows. Split it into smaller files.")]
    TooManyRows { rows: usize },
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
            FileError::TooLarge { mb } => {
                tr_args(lang, "file-too-large", &[("mb", crate::i18n::number(lang, *mb as i64))])
            }
            FileError::TooManyRows { rows } => tr_args(
                lang,
                "file-too-many-rows",
                &[("rows", crate::i18n::number(lang, *rows as i64))],
            ),
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
    /// The cells as they were, as one line (`cells_line`), for the result report.
    pub cells: String,
    pub email: String,
    pub transfer_to: String,
    /// meetings, webinars, events, recordings: Ok(yes) or the bad cell.
    pub transfer: [Result<bool, String>; 4],
    /// The effective-date cell as written (empty: apply at once).
    pub effective: String,
}

/// A file that reads without a file-level problem.
#[derive(Debug, Clone)]
pub struct CsvFile<'a> {
    text: std::borrow::Cow<'a, str>,
    pub headers: Vec<String>,
    pub separator: u8,
    columns: Vec<Option<Column>>,
    /// Data rows (blank rows are not counted).
    pub len: usize,
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

/// Reads and checks a whole file for `action`. Nothing per row is kept:
/// `CsvFile::rows` reads the rows again from the text, so a 50 MB file is
/// never held as rows in memory.
pub fn read(bytes: &[u8], action: Action) -> Result<CsvFile<'_>, FileError> {
    read_with(bytes, action, &Limits::default())
}

/// [`read`] under other limits than the defaults.
pub fn read_with<'b>(bytes: &'b [u8], action: Action, limits: &Limits) -> Result<CsvFile<'b>, FileError> {
    if bytes.len() > limits.max_bytes {
        return Err(limits.too_large());
    }
    let text = decode(bytes)?;
    let separator = detect_separator(&text);
    let (headers, columns, len) = {
        let mut records = Records::new(&text, separator);
        // The header is the first row with any text in it.
        let (header, _) = records.next_record().ok_or(FileError::Empty)??;
        if record_len(&header) > MAX_HEADER_BYTES {
            return Err(FileError::HeaderTooLong);
        }
        let headers: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        let columns = headers::map_columns(&headers, action)?;
        let mut len = 0;
        while let Some(record) = records.next_record() {
            let (r, line) = record?;
            if len == limits.max_rows {
                return Err(FileError::TooManyRows { rows: limits.max_rows });
            }
            check_size(&r, line)?;
            len += 1;
        }
        if len == 0 {
            return Err(FileError::NoRows);
        }
        (headers, columns, len)
    };
    Ok(CsvFile {
        text,
        headers,
        separator,
        columns,
        len,
    })
}

impl CsvFile<'_> {
    /// The data rows, read again from the text (`read` checked them all).
    pub fn rows(&self) -> impl Iterator<Item = CsvRow> + '_ {
        let mut records = Records::new(&self.text, self.separator);
        let _header = records.next_record();
        std::iter::from_fn(move || records.next_record())
            .filter_map(Result::ok)
            .map(|(r, line)| typed_row(&r, &self.columns, line))
    }
}

/// The non-blank records of a text with their spreadsheet row numbers.
struct Records<'t> {
    records: csv::StringRecordsIntoIter<&'t [u8]>,
    text: &'t str,
    counter: RowCounter,
}

impl<'t> Records<'t> {
    fn new(text: &'t str, separator: u8) -> Records<'t> {
        let records = csv::ReaderBuilder::new()
            .delimiter(separator)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
            .into_records();
        Records {
            records,
            text,
            counter: RowCounter::new(separator),
        }
    }

    fn next_record(&mut self) -> Option<Result<(csv::StringRecord, u64), FileError>> {
        loop {
            match self.records.next()? {
                Err(e) => return Some(Err(malformed(&e, self.text, &mut self.counter))),
                Ok(r) if is_blank(&r) => continue,
                Ok(r) => {
                    let byte = r.position().map(|p| p.byte()).unwrap_or(0) as usize;
                    let line = self.counter.row_at(self.text, byte);
                    return Some(Ok((r, line)));
                }
            }
        }
    }
}

/// The cells as one CSV line (quoted where needed), as the import keeps
/// them with the row for the result report.
/// Written by hand: a csv::Writer per row would allocate its buffer 100,000 times.
pub fn cells_line<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = String::new();
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&cell.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(cell);
        }
    }
    line
}

pub fn cells_of(line: &str) -> Vec<String> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes())
        .records()
        .next()
        .and_then(Result::ok)
        .map(|r| r.iter().map(str::to_string).collect())
        .unwrap_or_default()
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
        cells: cells_line(r.iter()),
        email: cell(Column::Email),
        transfer_to: cell(Column::TransferTo),
        transfer,
        effective: cell(Column::EffectiveDate),
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
