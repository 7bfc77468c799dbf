//! The one check of an email address for the whole crate: the CLI's
//! create-owner, the transfer fields of the forms and the CSV reader.

/// The address trimmed and lowercased, when it is a plain address mail can
/// go to: lettre's `Address` (an RFC 5321 local part and domain), a dot in
/// the domain, and none of what a quoted name, a list or a spreadsheet
/// formula brings (quotes, brackets, commas, `=`, a leading `+` or `-`).
pub fn parse(text: &str) -> Option<String> {
    let email = text.trim().to_lowercase();
    let address: lettre::Address = email.parse().ok()?;
    let plain =
        !email.chars().any(|c| c.is_whitespace() || "\"(),:;<>[]\\=".contains(c)) && !email.starts_with(['+', '-']);
    (plain && address.domain().contains('.')).then_some(email)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn plain_addresses_trimmed_and_lowercased() {
        assert_eq!(parse(" A.B@X.nl ").as_deref(), Some("a.b@x.nl"));
        assert_eq!(
            parse("first+tag@sub.example.co.id").as_deref(),
            Some("first+tag@sub.example.co.id")
        );
        for bad in [
            "",
            "a",
            "@x.nl",
            "a@",
            "a@x",
            "a b@x.nl",
            "=a@x.nl",
            "-a@x.nl",
            "\"a\"@x.nl",
            "a@x.nl,b@y.nl",
            "Name <a@x.nl>",
            "a@[127.0.0.1]",
            "a@@x.nl",
            "a..b@x.nl",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
