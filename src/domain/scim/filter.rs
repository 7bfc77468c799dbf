//! The `filter` of `GET /Users` (RFC 7644 §3.4.2.2), the part identity
//! providers use: `attr eq "value"` on `userName`, `externalId`,
//! `emails.value` (or `emails`) and `id`, joined by `and`. Attribute names
//! and operators are case-insensitive; anything else is `invalidFilter`.

use super::{split_urn, ScimError};

/// The longest filter read; identity providers send a few dozen characters.
pub const MAX_LEN: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAttr {
    /// Compared case-insensitively (emails are stored lowercased).
    UserName,
    ExternalId,
    Email,
    Id,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub attr: FilterAttr,
    /// Lowercased for `userName` and `emails.value`.
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::InvalidFilter(detail.into())
}

/// The conditions of `text`, all of which must hold.
pub fn parse(text: &str) -> Result<Vec<Condition>, ScimError> {
    if text.len() > MAX_LEN {
        return Err(invalid(format!("the filter is longer than {MAX_LEN} characters")));
    }
    let tokens = tokenize(text)?;
    let mut conditions = Vec::new();
    let mut rest = tokens.as_slice();
    loop {
        let (condition, after) = condition(rest)?;
        conditions.push(condition);
        match after {
            [] => return Ok(conditions),
            [Token::Word(w), more @ ..] if w.eq_ignore_ascii_case("and") => rest = more,
            [Token::Word(w), ..] if w.eq_ignore_ascii_case("or") => {
                return Err(invalid("only \"and\" joins conditions; \"or\" is not supported"))
            }
            _ => return Err(invalid("expected \"and\" between conditions")),
        }
    }
}

fn condition(tokens: &[Token]) -> Result<(Condition, &[Token]), ScimError> {
    let [Token::Word(name), Token::Word(op), value, rest @ ..] = tokens else {
        return Err(invalid("expected a condition such as userName eq \"jan@example.com\""));
    };
    let attr = attribute(name)?;
    if !op.eq_ignore_ascii_case("eq") {
        return Err(invalid(format!(
            "the operator \"{op}\" is not supported; only \"eq\" is"
        )));
    }
    let value = match (value, attr) {
        (Token::Str(s), _) => s.clone(),
        // An id is a number; some clients send it unquoted.
        (Token::Word(w), FilterAttr::Id) if w.chars().all(|c| c.is_ascii_digit()) => w.clone(),
        _ => {
            return Err(invalid(format!(
                "the value compared with {name} must be a quoted string"
            )))
        }
    };
    let value = match attr {
        FilterAttr::UserName | FilterAttr::Email => value.to_lowercase(),
        _ => value,
    };
    Ok((Condition { attr, value }, rest))
}

fn attribute(name: &str) -> Result<FilterAttr, ScimError> {
    let (ext, rest) = split_urn(name);
    let attr = match rest.to_ascii_lowercase().as_str() {
        _ if ext.is_some() => None,
        "username" => Some(FilterAttr::UserName),
        "externalid" => Some(FilterAttr::ExternalId),
        "emails" | "emails.value" => Some(FilterAttr::Email),
        "id" => Some(FilterAttr::Id),
        _ => None,
    };
    attr.ok_or_else(|| {
        invalid(format!(
            "filtering on \"{name}\" is not supported; use userName, externalId, emails.value or id"
        ))
    })
}

fn tokenize(text: &str) -> Result<Vec<Token>, ScimError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            let end = string_end(text, start)?;
            let s: String = serde_json::from_str(&text[start..end])
                .map_err(|_| invalid("a quoted value in the filter is not a valid JSON string"))?;
            tokens.push(Token::Str(s));
            while chars.peek().is_some_and(|&(i, _)| i < end) {
                chars.next();
            }
        } else if "()[]".contains(c) {
            return Err(invalid("grouping with parentheses or brackets is not supported"));
        } else {
            let mut end = text.len();
            while let Some(&(i, c)) = chars.peek() {
                if c.is_whitespace() || "\"()[]".contains(c) {
                    end = i;
                    break;
                }
                chars.next();
            }
            tokens.push(Token::Word(text[start..end].to_string()));
        }
    }
    Ok(tokens)
}

/// The byte index just after the closing quote of the string at `start`.
fn string_end(text: &str, start: usize) -> Result<usize, ScimError> {
    let mut escaped = false;
    for (i, c) in text[start + 1..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Ok(start + 1 + i + 1),
            _ => {}
        }
    }
    Err(invalid("a quoted value in the filter is not closed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(attr: FilterAttr, value: &str) -> Vec<Condition> {
        vec![Condition {
            attr,
            value: value.into(),
        }]
    }

    #[test]
    fn the_filters_identity_providers_send() {
        let cases: &[(&str, Vec<Condition>)] = &[
            (
                "userName eq \"jan@acme.test\"",
                one(FilterAttr::UserName, "jan@acme.test"),
            ),
            (
                "USERNAME EQ \"JAN@ACME.TEST\"",
                one(FilterAttr::UserName, "jan@acme.test"),
            ),
            ("externalId eq \"00u1AbC\"", one(FilterAttr::ExternalId, "00u1AbC")),
            ("emails.value eq \"A@b.nl\"", one(FilterAttr::Email, "a@b.nl")),
            ("emails eq \"a@b.nl\"", one(FilterAttr::Email, "a@b.nl")),
            ("id eq \"42\"", one(FilterAttr::Id, "42")),
            ("id eq 42", one(FilterAttr::Id, "42")),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"x@y.nl\"",
                one(FilterAttr::UserName, "x@y.nl"),
            ),
            ("userName eq \"a \\\"q\\\" b\"", one(FilterAttr::UserName, "a \"q\" b")),
            (
                "userName eq \"a@b.nl\" and externalId eq \"7\"",
                vec![
                    Condition {
                        attr: FilterAttr::UserName,
                        value: "a@b.nl".into(),
                    },
                    Condition {
                        attr: FilterAttr::ExternalId,
                        value: "7".into(),
                    },
                ],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&parse(text).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn everything_else_is_an_invalid_filter() {
        for text in [
            "",
            "userName",
            "userName eq",
            "userName co \"a\"",
            "userName sw \"a\"",
            "userName pr",
            "displayName eq \"x\"",
            "userName eq \"a\" or userName eq \"b\"",
            "(userName eq \"a\")",
            "emails[type eq \"work\"]",
            "userName eq \"unclosed",
            "userName eq true",
            "userName eq \"a\" and",
            "userName eq \"a\" userName eq \"b\"",
            "not (userName eq \"a\")",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq \"a\"",
            "é eq \"x\"",
        ] {
            assert!(matches!(parse(text), Err(ScimError::InvalidFilter(_))), "{text}");
        }
        assert!(parse(&"a".repeat(MAX_LEN + 1)).is_err());
    }
}
