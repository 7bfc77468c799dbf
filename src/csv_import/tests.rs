use super::*;

fn emails(f: &CsvFile) -> Vec<&str> {
    f.rows.iter().map(|r| r.email.as_str()).collect()
}

#[test]
fn excel_utf8_bom_crlf_semicolons_and_blank_lines() {
    let bytes = b"\xEF\xBB\xBFE-mailadres;Gegevens overdragen naar e-mailadres;Vergaderingen overdragen;Webinars overdragen;Evenementen overdragen;Opnamen overdragen;;\r\n\
a@x.nl;b@x.nl;Ja;nee;;JA;;\r\n\r\n;;;;;;;\r\n\"c@x.nl\";;Nee;Nee;Nee;Nee;;\r\n";
    let f = read(bytes, Action::Delete).expect("reads");
    assert_eq!(f.separator, b';');
    assert_eq!(emails(&f), ["a@x.nl", "c@x.nl"]);
    assert_eq!(f.rows[0].line, 2);
    assert_eq!(f.rows[1].line, 5);
    assert_eq!(f.rows[0].transfer_to, "b@x.nl");
    assert_eq!(f.rows[0].transfer, [Ok(true), Ok(false), Ok(false), Ok(true)]);
}

#[test]
fn columns_in_any_order_and_any_language() {
    let f = read(
        b"Transfer rekaman,Alamat Email,transfer data ke email\nYa,a@x.id,b@x.id\n",
        Action::Unlink,
    )
    .expect("reads");
    assert_eq!(f.rows[0].email, "a@x.id");
    assert_eq!(f.rows[0].transfer_to, "b@x.id");
    assert_eq!(f.rows[0].transfer[3], Ok(true));
    assert_eq!(f.rows[0].transfer[0], Ok(false), "a missing column is No");
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
    ] {
        assert_eq!(parse_yes_no(cell), want, "{cell}");
    }
    assert_eq!(parse_yes_no("maybe"), Err("maybe".to_string()));
    assert_eq!(parse_yes_no("1"), Err("1".to_string()));
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
    let big = vec![b'a'; MAX_BYTES + 1];
    assert_eq!(read(&big, Action::Delete).unwrap_err(), FileError::TooLarge);
    let mut many = String::from("Email\n");
    for i in 0..=MAX_ROWS {
        many.push_str(&format!("u{i}@x\n"));
    }
    assert_eq!(
        read(many.as_bytes(), Action::Deactivate).unwrap_err(),
        FileError::TooManyRows
    );
}

#[test]
fn header_typos_are_named() {
    let e = read(b"Email,Transfer meetngs\na@x,Yes\n", Action::Delete).unwrap_err();
    assert!(e.to_string().contains("Transfer meetngs"));
}

#[test]
fn samples_follow_the_action_and_language() {
    assert_eq!(sample(Action::Deactivate, Lang::En), "Email\r\nuser@example.com\r\n");
    let nl = sample(Action::Delete, Lang::Nl);
    assert!(nl.starts_with("E-mailadres;Gegevens overdragen naar e-mailadres;Vergaderingen overdragen"));
    assert!(nl.contains(";Ja;Nee;"));
    // Every sample reads back.
    for lang in [Lang::En, Lang::Nl, Lang::Id] {
        for action in [Action::Deactivate, Action::Unlink, Action::Delete] {
            let f = read(sample(action, lang).as_bytes(), action).expect("sample reads");
            assert_eq!(f.rows[0].email, "user@example.com");
        }
    }
}

#[test]
fn formulas_are_escaped_for_spreadsheets() {
    assert_eq!(escape_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
    assert_eq!(escape_formula("+1"), "'+1");
    assert_eq!(escape_formula("-1"), "'-1");
    assert_eq!(escape_formula("@SUM(A1)"), "'@SUM(A1)");
    assert_eq!(escape_formula("a@x.nl"), "a@x.nl");
}
