//! Row numbers as the spreadsheet shows them: row N is the Nth record of
//! the file, blank records included. A line end inside a quoted cell is part
//! of the cell, not a new row; CRLF, LF and CR alone each end a row.
//!
//! The csv crate's own line count counts every line end, quoted or not, so
//! a cell with a line break would shift every row after it. The counter
//! scans the text once, forward, with the csv crate's quoting rules (a quote
//! opens a quoted cell only at the start of the cell), and keeps no list.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

pub struct RowCounter {
    separator: u8,
    pos: usize,
    /// Row ends seen before `pos`.
    ends: u64,
    state: State,
    after_cr: bool,
}

impl RowCounter {
    pub fn new(separator: u8) -> RowCounter {
        RowCounter {
            separator,
            pos: 0,
            ends: 0,
            state: State::FieldStart,
            after_cr: false,
        }
    }

    /// The row number of the record that starts at `byte` (or at the first
    /// byte after the line ends that follow it). Calls come in file order.
    pub fn row_at(&mut self, text: &str, byte: usize) -> u64 {
        let bytes = text.as_bytes();
        let mut start = byte.min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.pos {
            for b in &bytes[self.pos..start] {
                self.step(*b);
            }
            self.pos = start;
        }
        self.ends + 1
    }

    fn step(&mut self, b: u8) {
        let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
        self.state = match (self.state, b) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::FieldStart, b'"') | (State::QuoteInQuoted, b'"') => State::Quoted,
            (_, b'\r') => {
                self.ends += 1;
                State::FieldStart
            }
            (_, b'\n') => {
                if !after_cr {
                    self.ends += 1;
                }
                State::FieldStart
            }
            (_, c) if c == self.separator => State::FieldStart,
            _ => State::Unquoted,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row of every record the csv crate reads, as the reader numbers them.
    fn rows(text: &str) -> Vec<u64> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut counter = RowCounter::new(b',');
        reader
            .records()
            .map(|r| {
                let r = r.expect("record");
                counter.row_at(text, r.position().expect("position").byte() as usize)
            })
            .collect()
    }

    #[test]
    fn every_line_end_style_counts_once() {
        assert_eq!(rows("a\nb\nc\n"), [1, 2, 3]);
        assert_eq!(rows("a\r\nb\r\nc\r\n"), [1, 2, 3]);
        assert_eq!(rows("a\rb\rc\r"), [1, 2, 3]);
        assert_eq!(rows("a\rb\r\nc\nd"), [1, 2, 3, 4]);
    }

    #[test]
    fn blank_rows_count_as_rows() {
        assert_eq!(rows("h\n\n\nx\r\n\r\ny"), [1, 4, 6]);
        assert_eq!(rows("h\r\rx\r"), [1, 3]);
        assert_eq!(rows("\n\nh\nx"), [3, 4]);
    }

    #[test]
    fn line_breaks_inside_quoted_cells_do_not_shift_rows() {
        assert_eq!(rows("h,n\r\na,\"two\r\nlines\"\r\nb,x\r\n"), [1, 2, 3]);
        assert_eq!(rows("h,n\ra,\"x\r\ry\"\rb,\"\"\"q\"\"\r\"\rc\r"), [1, 2, 3, 4]);
        // A quote inside an unquoted cell is a character, not a quote.
        assert_eq!(rows("h\na\"b\nc\n"), [1, 2, 3]);
    }
}
