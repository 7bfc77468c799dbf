//! Every CSV the portal writes (the sample, the import result report, the
//! audit export) goes through here, so all follow the admin's language:
//!
//! - English: comma; Dutch and Indonesian: semicolon, the list separator of
//!   Excel in those locales, so a double-click opens the file in columns.
//! - Always UTF-8 with a BOM (English too: without one Excel reads the file
//!   as the machine's ANSI code page and breaks accented names) and CRLF.
//! - Formula escaping (`safe_cell`): a cell that starts with `=`, `+`, `-`,
//!   `@`, tab or CR gets a leading `'`; inside a cell, a `,` or `;` followed
//!   by one of those characters gets a `'` inserted after it, because Excel
//!   of another locale splits the cell there and the piece would start a
//!   formula. A cell holding `,` or `;` is quoted whatever the separator.

/// UTF-8 byte order mark, first in every file written.
pub const BOM: &str = "\u{FEFF}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvStyle {
    pub separator: char,
}

impl CsvStyle {
    /// The style for a language code (`en`, `nl`, `id`, ...).
    pub fn of(lang_code: &str) -> CsvStyle {
        let separator = match lang_code.get(..2).unwrap_or("") {
            "nl" | "id" => ';',
            _ => ',',
        };
        CsvStyle { separator }
    }

    /// One row: the cells made safe, separated, quoted where needed, CRLF.
    pub fn line<S: AsRef<str>>(&self, cells: &[S]) -> String {
        let mut out = String::with_capacity(cells.iter().map(|c| c.as_ref().len() + 3).sum::<usize>() + 2);
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push(self.separator);
            }
            out.push_str(&csv_line_cell(&safe_cell(cell.as_ref()), self.separator));
        }
        out.push_str("\r\n");
        out
    }
}

/// `CsvStyle::of(lang_code).line(cells)`.
pub fn csv_line<S: AsRef<str>>(lang_code: &str, cells: &[S]) -> String {
    CsvStyle::of(lang_code).line(cells)
}

fn starts_formula(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// A cell made safe to open in a spreadsheet of any locale (see the module
/// comment); the text is otherwise unchanged.
pub fn safe_cell(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len() + 2);
    if cell.starts_with(starts_formula) {
        out.push('\'');
    }
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if matches!(c, ',' | ';') && chars.peek().is_some_and(|n| starts_formula(*n)) {
            out.push('\'');
        }
    }
    out
}

/// Quotes a cell that holds a quote, a line end or either separator.
fn csv_line_cell(cell: &str, separator: char) -> String {
    if cell.contains(['"', '\n', '\r', ',', ';', separator]) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_writes_its_excel_separator_and_crlf() {
        assert_eq!(csv_line("en", &["a", "b"]), "a,b\r\n");
        assert_eq!(csv_line("nl", &["a", "b"]), "a;b\r\n");
        assert_eq!(csv_line("id", &["a", "b"]), "a;b\r\n");
    }

    #[test]
    fn cells_with_either_separator_are_quoted_whatever_the_file_uses() {
        assert_eq!(
            csv_line("en", &["x;y", "p,q", "say \"hi\"", "two\nlines"]),
            "\"x;y\",\"p,q\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
        assert_eq!(csv_line("nl", &["x;y", "p,q"]), "\"x;y\";\"p,q\"\r\n");
    }

    #[test]
    fn formulas_are_escaped_at_the_start_and_after_a_separator_inside_the_cell() {
        for (cell, want) in [
            ("=1+2", "'=1+2"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("a,=cmd", "a,'=cmd"),
            ("a;@x", "a;'@x"),
            ("a, b", "a, b"),
            ("a@x.nl", "a@x.nl"),
        ] {
            assert_eq!(safe_cell(cell), want, "{cell:?}");
        }
        assert_eq!(csv_line("en", &["a,=cmd"]), "\"a,'=cmd\"\r\n");
        assert_eq!(csv_line("nl", &["a;-1"]), "\"a;'-1\"\r\n");
    }
}
