use super::*;

fn rows(f: &CsvFile) -> Vec<CsvRow> {
    f.rows().collect()
}

fn emails(f: &CsvFile) -> Vec<String> {
    f.rows().map(|r| r.email).collect()
}

#[test]
fn excel_utf8_bom_crlf_semicolons_and_blank_lines() {
    let bytes = b"\xEF\xBB\xBFE-mailadres;Gegevens overdragen naar e-mailadres;Vergaderingen overdragen;Webinars overdragen;Evenementen overdragen;Opnamen overdragen;;\r\n\
a@x.nl;b@x.nl;Ja;nee;;JA;;\r\n\r\n;;;;;;;\r\n\"c@x.nl\";;Nee;Nee;Nee;Nee;;\r\n";
    let f = read(bytes, Action::Delete).expect("reads");
    assert_eq!(f.separator, b';');
    assert_eq!(emails(&f), ["a@x.nl", "c@x.nl"]);
    assert_eq!(rows(&f)[0].line, 2);
    assert_eq!(rows(&f)[1].line, 5);
    assert_eq!(rows(&f)[0].transfer_to, "b@x.nl");
    assert_eq!(rows(&f)[0].transfer, [Ok(true), Ok(false), Ok(false), Ok(true)]);
}

#[test]
fn columns_in_any_order_and_any_language() {
    let f = read(
        b"Transfer rekaman,Alamat Email,transfer data ke email\nYa,a@x.id,b@x.id\n",
        Action::Unlink,
    )
    .expect("reads");
    assert_eq!(rows(&f)[0].email, "a@x.id");
    assert_eq!(rows(&f)[0].transfer_to, "b@x.id");
    assert_eq!(rows(&f)[0].transfer[3], Ok(true));
    assert_eq!(rows(&f)[0].transfer[0], Ok(false), "a missing column is No");
}

#[test]
fn utf16_with_bom_is_read() {
    let text = "Email\tTransfer meetings\r\nzoë@x.nl\tYes\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let f = read(&bytes, Action::Delete).expect("reads");
    assert_eq!(f.separator, b'\t');
    assert_eq!(emails(&f), ["zoë@x.nl"]);
}

#[test]
fn windows_1252_is_read() {
    let f = read(b"Email\n\xe9mile@x.fr\n", Action::Deactivate).expect("reads");
    assert_eq!(emails(&f), ["émile@x.fr"]);
}

#[test]
fn yes_no_words_of_three_languages() {
    for (cell, want) in [
        ("Yes", Ok(true)),
        ("ja", Ok(true)),
        ("YA", Ok(true)),
        (" no ", Ok(false)),
        ("Nee", Ok(false)),
        ("tidak", Ok(false)),
        ("", Ok(false)),
        ("TRUE", Ok(true)),
        ("False", Ok(false)),
        ("WAAR", Ok(true)),
        ("onwaar", Ok(false)),
        ("Benar", Ok(true)),
        ("SALAH", Ok(false)),
        ("1", Ok(true)),
        ("0", Ok(false)),
    ] {
        assert_eq!(parse_yes_no(cell), want, "{cell}");
    }
    assert_eq!(parse_yes_no("maybe"), Err("maybe".to_string()));
    assert_eq!(parse_yes_no("2"), Err("2".to_string()));
}

#[test]
fn file_level_problems_are_one_message() {
    assert_eq!(read(b"", Action::Delete).unwrap_err(), FileError::Empty);
    assert_eq!(read(b"\r\n\r\n", Action::Delete).unwrap_err(), FileError::Empty);
    assert_eq!(read(b"Email\r\n", Action::Delete).unwrap_err(), FileError::NoRows);
    assert_eq!(
        read(b"\x89PNG\r\n\x1a\n\0\0\0IHDR", Action::Delete).unwrap_err(),
        FileError::NotText
    );
    assert_eq!(
        read(b"Emial\na@x\n", Action::Delete).unwrap_err(),
        FileError::UnknownColumn("Emial".into())
    );
    assert_eq!(
        read(b"Transfer meetings\nYes\n", Action::Delete).unwrap_err(),
        FileError::MissingColumn("\"Email\"".into())
    );
    assert_eq!(
        read(b"Email,E-mail\na,b\n", Action::Delete).unwrap_err(),
        FileError::DuplicateColumn("E-mail".into())
    );
    assert_eq!(
        read(b"Email,Transfer meetings\na@x,Yes\n", Action::Deactivate).unwrap_err(),
        FileError::NotForDeactivate("Transfer meetings".into())
    );
    let small = Limits {
        max_bytes: 1024 * 1024,
        max_rows: 1_000,
    };
    let big = vec![b'a'; small.max_bytes + 1];
    assert_eq!(
        read_with(&big, Action::Delete, &small).unwrap_err(),
        FileError::TooLarge { mb: 1 }
    );
    let mut many = String::from("Email\n");
    for i in 0..=small.max_rows {
        many.push_str(&format!("u{i}@x\n"));
    }
    assert_eq!(
        read_with(many.as_bytes(), Action::Deactivate, &small).unwrap_err(),
        FileError::TooManyRows { rows: 1_000 }
    );
    assert!(
        read(many.as_bytes(), Action::Deactivate).is_ok(),
        "the default allows a million rows"
    );
    assert_eq!(Limits::default().max_rows, 1_000_000);
    assert_eq!(Limits::default().too_large(), FileError::TooLarge { mb: 200 });
}

#[test]
fn header_typos_are_named() {
    let e = read(b"Email,Transfer meetngs\na@x,Yes\n", Action::Delete).unwrap_err();
    assert!(e.to_string().contains("Transfer meetngs"));
}

#[test]
fn samples_follow_the_action_and_language() {
    assert_eq!(
        sample(Action::Deactivate, Lang::En),
        "\u{FEFF}Email\r\nuser@example.com\r\n"
    );
    let nl = sample(Action::Delete, Lang::Nl);
    assert!(nl.starts_with("\u{FEFF}E-mailadres;Gegevens overdragen naar e-mailadres;Vergaderingen overdragen"));
    assert!(nl.contains(";Ja;Nee;"));
    // Every sample reads back.
    for lang in [Lang::En, Lang::Nl, Lang::Id] {
        for action in [Action::Deactivate, Action::Unlink, Action::Delete] {
            let text = sample(action, lang);
            let f = read(text.as_bytes(), action).expect("sample reads");
            assert_eq!(rows(&f)[0].email, "user@example.com");
        }
    }
}

#[test]
fn cr_alone_ends_rows_too() {
    let f = read(b"Email\ra@x.nl\r\rb@x.nl\r", Action::Deactivate).expect("reads");
    assert_eq!(emails(&f), ["a@x.nl", "b@x.nl"]);
    assert_eq!(rows(&f).iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
    let f = read(b"Email;Transfer meetings\rc@x.nl;Ja\r", Action::Delete).expect("reads");
    assert_eq!(f.separator, b';');
    assert_eq!(rows(&f)[0].transfer[0], Ok(true));
}

#[test]
fn rows_are_numbered_as_the_spreadsheet_shows_them() {
    let text = "Email,Transfer data to email,Transfer meetings\r\n\
a@x.nl,\"two\r\nlines\",Yes\r\n\
,,\r\n\
\r\n\
b@x.nl,,No\r\n\
\"c@x.nl\",\"\"\"q\"\"\nx\ny\",\r\n\
d@x.nl,,\r\n";
    let f = read(text.as_bytes(), Action::Delete).expect("reads");
    assert_eq!(emails(&f), ["a@x.nl", "b@x.nl", "c@x.nl", "d@x.nl"]);
    assert_eq!(rows(&f).iter().map(|r| r.line).collect::<Vec<_>>(), [2, 5, 6, 7]);
}

#[test]
fn mac_roman_is_told_from_windows_1252() {
    // "José Müller", "Zoë" and a non-breaking space (0xCA) as Excel for Mac writes them.
    let mac = b"Email,Transfer data to email\rjos\x8e.m\x9fller@x.nl,zo\x91\xcaz@x.nl\r";
    assert_eq!(choose_single_byte(mac), Some(SingleByte::MacRoman));
    let f = read(mac, Action::Unlink).expect("reads");
    assert_eq!(emails(&f), ["josé.müller@x.nl"]);
    assert_eq!(rows(&f)[0].transfer_to, "zoë\u{A0}z@x.nl");
    // The same names from Excel on Windows.
    let win = b"Email,Transfer data to email\r\njos\xe9.m\xfcller@x.nl,zo\xeb\xa0z@x.nl\r\n";
    assert_eq!(choose_single_byte(win), Some(SingleByte::Windows1252));
    let f = read(win, Action::Unlink).expect("reads");
    assert_eq!(emails(&f), ["josé.müller@x.nl"]);
    assert_eq!(rows(&f)[0].transfer_to, "zoë\u{A0}z@x.nl");
    // With LF line ends Mac Roman still wins on its letters alone.
    assert_eq!(choose_single_byte(b"Email\nZo\x91@x.nl\n"), Some(SingleByte::MacRoman));
    assert_eq!(
        choose_single_byte(b"Email\n\xc9mile@x.fr\n"),
        Some(SingleByte::Windows1252)
    );
}

#[test]
fn mac_roman_table_decodes_every_byte() {
    let all: Vec<u8> = (0x80..=0xFF).collect();
    let text = SingleByte::MacRoman.decode(&all);
    assert_eq!(text.chars().count(), 128);
    assert!(text.starts_with("ÄÅÇÉÑÖÜá"));
    assert_eq!(SingleByte::MacRoman.char_of(0xCA), '\u{A0}');
    assert_eq!(SingleByte::MacRoman.char_of(0xDB), '€');
    assert!(text.ends_with("˚¸˝˛ˇ"));
}

#[test]
fn a_file_in_no_known_encoding_is_refused_naming_one() {
    // UTF-8 with a broken byte: neither single-byte reading fits.
    let e = read(b"Email\nzo\xc3\xab@x.nl\nb\xff@x.nl\n", Action::Deactivate).unwrap_err();
    assert_eq!(e, FileError::UnknownEncoding);
    assert!(e.text(crate::i18n::Lang::En).contains("CSV UTF-8"));
    // A UTF-8 BOM before bytes that are not UTF-8.
    assert_eq!(
        read(b"\xEF\xBB\xBFEmail\n\xff\n", Action::Deactivate).unwrap_err(),
        FileError::UnknownEncoding
    );
}

#[test]
fn utf16_big_endian_is_read() {
    let text = "Email\r\nzoë@x.nl\r\n";
    let mut bytes = vec![0xFE, 0xFF];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_be_bytes());
    }
    assert_eq!(emails(&read(&bytes, Action::Deactivate).expect("reads")), ["zoë@x.nl"]);
}

#[test]
fn cells_rows_and_header_are_capped() {
    let cell = "a".repeat(MAX_CELL_CHARS + 1);
    assert_eq!(
        read(format!("Email\nok@x.nl\n{cell}\n").as_bytes(), Action::Deactivate).unwrap_err(),
        FileError::CellTooLong { line: 3 }
    );
    let row = vec!["a"; MAX_ROW_BYTES].join(",");
    assert_eq!(
        read(format!("Email\n{row}\n").as_bytes(), Action::Deactivate).unwrap_err(),
        FileError::RowTooLong { line: 2 }
    );
    let header = format!("Email{}", ",".repeat(MAX_HEADER_BYTES));
    assert_eq!(
        read(format!("{header}\na@x.nl\n").as_bytes(), Action::Deactivate).unwrap_err(),
        FileError::HeaderTooLong
    );
}

#[test]
fn messages_echo_at_most_a_hundred_characters() {
    let long = "x".repeat(500);
    assert_eq!(echo(&long).chars().count(), ECHO_CHARS + 1);
    assert!(echo(&long).ends_with('…'));
    assert_eq!(echo(" short "), "short");
    let e = read(format!("{long}\na\n").as_bytes(), Action::Deactivate).unwrap_err();
    assert!(
        e.text(crate::i18n::Lang::En).chars().count() < 200,
        "{}",
        e.text(crate::i18n::Lang::En)
    );
}

#[test]
fn stored_cells_read_back_unchanged() {
    let cells = ["a@x.nl", "with, comma", "with \"quotes\"", "", "line\nbreak", "=1+2"];
    assert_eq!(cells_of(&cells_line(cells)), cells);
}
