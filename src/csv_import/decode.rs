//! Bytes to text, as spreadsheet software saves CSV: UTF-8 with or without
//! BOM, UTF-16 LE/BE with BOM, and the two single-byte encodings Excel
//! writes as plain "CSV": Windows-1252 (Windows) and Mac Roman (Excel for
//! Mac's "Comma Separated Values", older Mac exports). Both single-byte
//! encodings decode every byte, so the choice between them is made on
//! evidence (`single_byte_scores`); a file that fits neither is refused.

use std::borrow::Cow;

use super::FileError;

/// Mac Roman 0x80-0xFF (Apple's table as of 1998: 0xDB is the euro sign).
/// encoding_rs has no Mac Roman.
const MAC_ROMAN: [char; 128] = [
    '\u{00C4}', '\u{00C5}', '\u{00C7}', '\u{00C9}', '\u{00D1}', '\u{00D6}', '\u{00DC}', '\u{00E1}', '\u{00E0}',
    '\u{00E2}', '\u{00E4}', '\u{00E3}', '\u{00E5}', '\u{00E7}', '\u{00E9}', '\u{00E8}', '\u{00EA}', '\u{00EB}',
    '\u{00ED}', '\u{00EC}', '\u{00EE}', '\u{00EF}', '\u{00F1}', '\u{00F3}', '\u{00F2}', '\u{00F4}', '\u{00F6}',
    '\u{00F5}', '\u{00FA}', '\u{00F9}', '\u{00FB}', '\u{00FC}', '\u{2020}', '\u{00B0}', '\u{00A2}', '\u{00A3}',
    '\u{00A7}', '\u{2022}', '\u{00B6}', '\u{00DF}', '\u{00AE}', '\u{00A9}', '\u{2122}', '\u{00B4}', '\u{00A8}',
    '\u{2260}', '\u{00C6}', '\u{00D8}', '\u{221E}', '\u{00B1}', '\u{2264}', '\u{2265}', '\u{00A5}', '\u{00B5}',
    '\u{2202}', '\u{2211}', '\u{220F}', '\u{03C0}', '\u{222B}', '\u{00AA}', '\u{00BA}', '\u{03A9}', '\u{00E6}',
    '\u{00F8}', '\u{00BF}', '\u{00A1}', '\u{00AC}', '\u{221A}', '\u{0192}', '\u{2248}', '\u{2206}', '\u{00AB}',
    '\u{00BB}', '\u{2026}', '\u{00A0}', '\u{00C0}', '\u{00C3}', '\u{00D5}', '\u{0152}', '\u{0153}', '\u{2013}',
    '\u{2014}', '\u{201C}', '\u{201D}', '\u{2018}', '\u{2019}', '\u{00F7}', '\u{25CA}', '\u{00FF}', '\u{0178}',
    '\u{2044}', '\u{20AC}', '\u{2039}', '\u{203A}', '\u{FB01}', '\u{FB02}', '\u{2021}', '\u{00B7}', '\u{201A}',
    '\u{201E}', '\u{2030}', '\u{00C2}', '\u{00CA}', '\u{00C1}', '\u{00CB}', '\u{00C8}', '\u{00CD}', '\u{00CE}',
    '\u{00CF}', '\u{00CC}', '\u{00D3}', '\u{00D4}', '\u{F8FF}', '\u{00D2}', '\u{00DA}', '\u{00DB}', '\u{00D9}',
    '\u{0131}', '\u{02C6}', '\u{02DC}', '\u{00AF}', '\u{02D8}', '\u{02D9}', '\u{02DA}', '\u{00B8}', '\u{02DD}',
    '\u{02DB}', '\u{02C7}',
];

/// Windows-1252 0x80-0xFF, from encoding_rs once; 0x81, 0x8D, 0x8F, 0x90
/// and 0x9D are unassigned and decode to C1 controls.
fn windows_1252() -> &'static [char; 128] {
    static TABLE: std::sync::OnceLock<[char; 128]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let bytes: Vec<u8> = (0x80..=0xFF).collect();
        let text = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&bytes).0;
        let mut table = ['\u{FFFD}'; 128];
        for (slot, c) in table.iter_mut().zip(text.chars()) {
            *slot = c;
        }
        table
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleByte {
    Windows1252,
    MacRoman,
}

impl SingleByte {
    pub fn char_of(self, b: u8) -> char {
        match (self, b) {
            (_, 0..=0x7F) => b as char,
            (SingleByte::MacRoman, _) => MAC_ROMAN[(b - 0x80) as usize],
            (SingleByte::Windows1252, _) => windows_1252()[(b - 0x80) as usize],
        }
    }

    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            SingleByte::Windows1252 => encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
            SingleByte::MacRoman => bytes.iter().map(|b| self.char_of(*b)).collect(),
        }
    }
}

/// How well one byte above 0x7F reads as `c` between `prev` and `next`:
/// a letter whose case fits its word scores, a C1 control or a symbol in
/// the middle of a word costs.
fn fit(prev: Option<char>, c: char, next: Option<char>) -> i64 {
    let letter = |o: Option<char>| o.filter(|c| c.is_alphabetic());
    if c.is_control() {
        return -10;
    }
    if c.is_alphabetic() {
        let lower = |o: Option<char>| letter(o).is_some_and(char::is_lowercase);
        return match c.is_lowercase() {
            true if lower(prev) || lower(next) => 2,
            true => 1,
            // A capital inside a word: "JosŽ", "MŸller".
            false if lower(prev) || (letter(prev).is_some() && lower(next)) => -2,
            false => 1,
        };
    }
    if c != '\u{A0}' && letter(prev).is_some() && letter(next).is_some() {
        return -2;
    }
    0
}

/// The evidence for each single-byte encoding: (Windows-1252, Mac Roman).
/// Lines ended by CR alone (classic Mac) count for Mac Roman.
pub fn single_byte_scores(bytes: &[u8]) -> (i64, i64) {
    let score = |enc: SingleByte| -> i64 {
        let mut total = 0;
        for (i, b) in bytes.iter().enumerate().filter(|(_, b)| **b >= 0x80) {
            let prev = i.checked_sub(1).map(|j| enc.char_of(bytes[j]));
            let next = bytes.get(i + 1).map(|n| enc.char_of(*n));
            total += fit(prev, enc.char_of(*b), next);
        }
        total
    };
    let cr_only = bytes.contains(&b'\r') && !bytes.contains(&b'\n');
    (
        score(SingleByte::Windows1252),
        score(SingleByte::MacRoman) + if cr_only { 3 } else { 0 },
    )
}

/// Windows-1252 unless the evidence favours Mac Roman; None when neither
/// reads as text (e.g. UTF-8 with broken bytes, or another code page).
pub fn choose_single_byte(bytes: &[u8]) -> Option<SingleByte> {
    if looks_like_broken_utf8(bytes) {
        return None;
    }
    let (win, mac) = single_byte_scores(bytes);
    match (win, mac) {
        (w, m) if w < 0 && m < 0 => None,
        (w, m) if m > w => Some(SingleByte::MacRoman),
        _ => Some(SingleByte::Windows1252),
    }
}

/// UTF-8 with some bytes broken (an editor that mixed encodings): as many
/// well-formed multi-byte characters as broken bytes. Single-byte text
/// almost never forms a well-formed UTF-8 sequence ("Ã©").
fn looks_like_broken_utf8(bytes: &[u8]) -> bool {
    let (mut good, mut bad) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        bad += chunk.invalid().len();
    }
    good > 0 && good >= bad
}

/// Bytes to text, borrowing when the file already is UTF-8 (a large
/// upload is not copied). The size was checked by the caller.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    let text: Cow<'_, str> = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Cow::Borrowed(std::str::from_utf8(rest).map_err(|_| FileError::UnknownEncoding)?)
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
        Cow::Owned(text.into_owned())
    } else if let Ok(t) = std::str::from_utf8(bytes) {
        Cow::Borrowed(t)
    } else if bytes.contains(&0) {
        return Err(FileError::NotText);
    } else {
        Cow::Owned(
            choose_single_byte(bytes)
                .ok_or(FileError::UnknownEncoding)?
                .decode(bytes),
        )
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
