//! The same user on several rows of one file. An exact repeat (same
//! transfer address and Yes/No values) is skipped as a duplicate of the first
//! row; a row with other values contradicts the first: both are refused,
//! each naming the other's row, since the file does not say which is meant.

use super::CsvRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dup {
    /// The same values as the row on this line: skipped.
    Repeat(u64),
    /// Other values than the row on this line: refused.
    Conflict(u64),
}

/// What a row's duplicate check needs: a digest of its email and of its
/// values. A million-row file keeps one per row, so not the address itself.
#[derive(Debug, Clone)]
pub struct DupKey {
    pub line: u64,
    /// Of the trimmed, lowercased email (two halves, so a key is 40 bytes
    /// rather than 48); None without one.
    email: Option<[u64; 2]>,
    values: u64,
}

/// 128 bits from two keyed hashers, keyed at random per process: two
/// different addresses of one file share a digest with a chance of about
/// 1 in 10^26 at a million rows, and no one can craft a pair that does.
fn email_digest(email: &str) -> [u64; 2] {
    use std::hash::BuildHasher;
    static KEYS: std::sync::OnceLock<[std::hash::RandomState; 2]> = std::sync::OnceLock::new();
    let [a, b] = KEYS.get_or_init(|| [std::hash::RandomState::new(), std::hash::RandomState::new()]);
    [a.hash_one(email), b.hash_one(email)]
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
        let email = r.email.trim().to_lowercase();
        DupKey {
            line: r.line,
            email: (!email.is_empty()).then(|| email_digest(&email)),
            values: h.finish(),
        }
    }
}

/// For each row, whether it repeats or contradicts an earlier row of the
/// same email (rows without an email are no one's duplicate). The rows are
/// grouped by sorting their positions (4 bytes a row) rather than in a hash
/// table (32 a row at a million).
pub fn find_duplicates(rows: &[DupKey]) -> Vec<Option<Dup>> {
    let mut out: Vec<Option<Dup>> = vec![None; rows.len()];
    let mut order: Vec<u32> = (0..rows.len() as u32)
        .filter(|&i| rows[i as usize].email.is_some())
        .collect();
    // Stable: each group keeps the file's order, its first row first.
    order.sort_by_key(|&i| rows[i as usize].email);
    for group in order.chunk_by(|&a, &b| rows[a as usize].email == rows[b as usize].email) {
        let f = group[0] as usize;
        for &i in &group[1..] {
            let r = &rows[i as usize];
            if rows[f].values == r.values {
                out[i as usize] = Some(Dup::Repeat(rows[f].line));
            } else {
                out[i as usize] = Some(Dup::Conflict(rows[f].line));
                if out[f].is_none() {
                    out[f] = Some(Dup::Conflict(r.line));
                }
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
