//! The same user on several rows of one file. An exact repeat (same
//! transfer address and Yes/No values) is skipped as a duplicate of the first
//! row; a row with other values contradicts the first: both are refused,
//! each naming the other's row, since the file does not say which is meant.

use std::collections::HashMap;

use super::CsvRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dup {
    /// The same values as the row on this line: skipped.
    Repeat(u64),
    /// Other values than the row on this line: refused.
    Conflict(u64),
}

/// What a row's duplicate check needs: its email and a digest of its values.
#[derive(Debug, Clone)]
pub struct DupKey {
    pub line: u64,
    /// Trimmed and lowercased.
    pub email: String,
    values: u64,
}

impl DupKey {
    pub fn of(r: &CsvRow) -> DupKey {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        r.transfer_to.trim().to_lowercase().hash(&mut h);
        for v in &r.transfer {
            v.as_ref().map_err(|cell| cell.trim().to_lowercase()).hash(&mut h);
        }
        r.effective.trim().hash(&mut h);
        DupKey {
            line: r.line,
            email: r.email.trim().to_lowercase(),
            values: h.finish(),
        }
    }
}

/// For each row, whether it repeats or contradicts an earlier row of the
/// same email (rows without an email are no one's duplicate).
pub fn find_duplicates(rows: &[DupKey]) -> Vec<Option<Dup>> {
    let mut out: Vec<Option<Dup>> = vec![None; rows.len()];
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.email.is_empty() {
            continue;
        }
        let Some(&f) = first.get(r.email.as_str()) else {
            first.insert(&r.email, i);
            continue;
        };
        if rows[f].values == r.values {
            out[i] = Some(Dup::Repeat(rows[f].line));
        } else {
            out[i] = Some(Dup::Conflict(rows[f].line));
            if out[f].is_none() {
                out[f] = Some(Dup::Conflict(r.line));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: u64, email: &str, to: &str, meetings: &str) -> DupKey {
        DupKey::of(&CsvRow {
            line,
            cells: String::new(),
            email: email.into(),
            transfer_to: to.into(),
            transfer: [super::super::parse_yes_no(meetings), Ok(false), Ok(false), Ok(false)],
            effective: String::new(),
        })
    }

    #[test]
    fn repeats_are_skipped_and_contradictions_name_each_other() {
        let rows = [
            row(2, "a@x.nl", "h@x.nl", "Yes"),
            row(3, "b@x.nl", "", ""),
            row(4, "A@X.nl", "H@x.nl", "ja"),
            row(5, "b@x.nl", "h@x.nl", "Yes"),
            row(7, "", "", ""),
            row(8, "", "", ""),
        ];
        assert_eq!(
            find_duplicates(&rows),
            [
                None,
                Some(Dup::Conflict(5)),
                Some(Dup::Repeat(2)),
                Some(Dup::Conflict(3)),
                None,
                None
            ]
        );
    }
}
