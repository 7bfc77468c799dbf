//! PATCH (RFC 7644 §3.5.2) applied to a user's [`UserFields`]: `add`,
//! `replace` and `remove` in any case (Entra sends `Replace`), with a
//! `path` or without one (a value object whose keys may be dotted, as in
//! `name.givenName`, or name the enterprise extension). Paths with a value
//! filter (`emails[type eq "work"].value`) are understood; `emails` is
//! derived from `userName`, so operations on it change nothing.
//! Attributes Offboard does not keep are ignored (they are not in `/Schemas`).

use serde_json::Value;

use super::resource::{self, get_ci, UserFields};
use super::{split_urn, ScimError, ENTERPRISE_SCHEMA};

/// The most operations one request may carry.
pub const MAX_OPERATIONS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

/// What a path designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    UserName,
    Name,
    GivenName,
    FamilyName,
    DisplayName,
    ExternalId,
    Active,
    Emails,
    /// The enterprise extension as a whole.
    Enterprise,
    Manager,
    /// Not kept by Offboard: the operation is ignored.
    Ignored,
    /// `id`, `meta`, `schemas`: the server's.
    ReadOnly,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::InvalidSyntax(detail.into())
}

/// Applies the operations of a PatchOp body to `fields`, in order.
pub fn apply(fields: &mut UserFields, body: &Value) -> Result<(), ScimError> {
    let Value::Object(map) = body else {
        return Err(syntax("the body must be a PatchOp JSON object"));
    };
    let Some(Value::Array(ops)) = get_ci(map, "Operations") else {
        return Err(syntax("the body needs an \"Operations\" array"));
    };
    if ops.is_empty() || ops.len() > MAX_OPERATIONS {
        return Err(syntax(format!(
            "\"Operations\" must hold 1 to {MAX_OPERATIONS} operations"
        )));
    }
    for op in ops {
        apply_one(fields, op)?;
    }
    Ok(())
}

fn apply_one(fields: &mut UserFields, op: &Value) -> Result<(), ScimError> {
    let Value::Object(map) = op else {
        return Err(syntax("each operation must be an object"));
    };
    let kind = match get_ci(map, "op") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("add") => Op::Add,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("replace") => Op::Replace,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("remove") => Op::Remove,
        _ => return Err(syntax("\"op\" must be add, replace or remove")),
    };
    let value = get_ci(map, "value").unwrap_or(&Value::Null);
    match get_ci(map, "path") {
        Some(Value::String(path)) if !path.trim().is_empty() => set(fields, kind, target(path.trim())?, value),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            if kind == Op::Remove {
                return Err(ScimError::NoTarget("remove needs a \"path\"".into()));
            }
            set_all(fields, kind, value)
        }
        Some(_) => Err(ScimError::InvalidPath("\"path\" must be a string".into())),
    }
}

/// An add or replace without a path: every member of the value object.
fn set_all(fields: &mut UserFields, kind: Op, value: &Value) -> Result<(), ScimError> {
    let Value::Object(members) = value else {
        return Err(ScimError::InvalidValue(
            "without a path the value must be an object of attributes".into(),
        ));
    };
    for (key, v) in members {
        match target(key)? {
            // The resource's own members, sent back as read: nothing to change.
            Target::ReadOnly => {}
            t => set(fields, kind, t, v)?,
        }
    }
    Ok(())
}

/// What `path` designates: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`,
/// each optionally behind a schema URN.
pub fn target(path: &str) -> Result<Target, ScimError> {
    let (ext, rest) = split_urn(path);
    let (attr, sub) = split_path(rest)?;
    let sub = sub.map(str::to_ascii_lowercase);
    let attr = attr.to_ascii_lowercase();
    if ext == Some(ENTERPRISE_SCHEMA) {
        return Ok(match (attr.as_str(), sub.as_deref()) {
            ("", None) => Target::Enterprise,
            ("manager", None | Some("value")) => Target::Manager,
            _ => Target::Ignored,
        });
    }
    Ok(match (attr.as_str(), sub.as_deref()) {
        ("", _) => return Err(ScimError::InvalidPath(format!("\"{path}\" names no attribute"))),
        ("username", None) => Target::UserName,
        ("name", None) => Target::Name,
        ("name", Some("givenname")) => Target::GivenName,
        ("name", Some("familyname")) => Target::FamilyName,
        ("displayname", None) => Target::DisplayName,
        ("externalid", None) => Target::ExternalId,
        ("active", None) => Target::Active,
        ("emails", _) => Target::Emails,
        ("id" | "meta" | "schemas", _) => Target::ReadOnly,
        _ => Target::Ignored,
    })
}

/// `attr`, then the sub-attribute after a `.` (a bracketed filter skipped).
fn split_path(path: &str) -> Result<(&str, Option<&str>), ScimError> {
    let bad = || ScimError::InvalidPath(format!("\"{path}\" is not a valid attribute path"));
    let end = path.find(['[', '.']).unwrap_or(path.len());
    let attr = &path[..end];
    let mut rest = &path[end..];
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']').ok_or_else(bad)?;
        rest = &after[close + 1..];
    }
    let sub = match rest {
        "" => None,
        _ => Some(
            rest.strip_prefix('.')
                .filter(|s| !s.is_empty() && !s.contains(['.', '[']))
                .ok_or_else(bad)?,
        ),
    };
    if attr.contains(|c: char| c.is_whitespace() || c == ']') {
        return Err(bad());
    }
    Ok((attr, sub))
}

fn set(fields: &mut UserFields, kind: Op, target: Target, value: &Value) -> Result<(), ScimError> {
    if kind == Op::Remove {
        return remove(fields, target);
    }
    match target {
        Target::UserName => fields.user_name = resource::user_name(value)?,
        Target::Name => set_name(fields, value)?,
        Target::GivenName => fields.given_name = resource::text("name.givenName", value)?.unwrap_or_default(),
        Target::FamilyName => fields.family_name = resource::text("name.familyName", value)?.unwrap_or_default(),
        Target::DisplayName => fields.display_name = resource::text("displayName", value)?,
        Target::ExternalId => fields.external_id = resource::text("externalId", value)?,
        Target::Active => fields.active = resource::active(value)?,
        Target::Manager => fields.manager = resource::manager(value)?,
        Target::Enterprise => match value {
            Value::Object(ext) => {
                if let Some(m) = get_ci(ext, "manager") {
                    fields.manager = resource::manager(m)?;
                }
            }
            _ => {
                return Err(ScimError::InvalidValue(
                    "the enterprise extension must be an object".into(),
                ))
            }
        },
        Target::ReadOnly => return Err(ScimError::Mutability("id, meta and schemas cannot be changed".into())),
        Target::Emails | Target::Ignored => {}
    }
    Ok(())
}

/// `name` as an object: the sub-attributes given replace, the others stay.
fn set_name(fields: &mut UserFields, value: &Value) -> Result<(), ScimError> {
    let Value::Object(name) = value else {
        return Err(ScimError::InvalidValue("name must be an object".into()));
    };
    if let Some(v) = get_ci(name, "givenName") {
        fields.given_name = resource::text("name.givenName", v)?.unwrap_or_default();
    }
    if let Some(v) = get_ci(name, "familyName") {
        fields.family_name = resource::text("name.familyName", v)?.unwrap_or_default();
    }
    Ok(())
}

fn remove(fields: &mut UserFields, target: Target) -> Result<(), ScimError> {
    match target {
        Target::UserName => {
            return Err(ScimError::Mutability(
                "userName is required and cannot be removed".into(),
            ))
        }
        Target::Active => {
            return Err(ScimError::Mutability(
                "active cannot be removed; replace it with false to deactivate the user".into(),
            ))
        }
        Target::ReadOnly => return Err(ScimError::Mutability("id, meta and schemas cannot be changed".into())),
        Target::Name => {
            fields.given_name.clear();
            fields.family_name.clear();
        }
        Target::GivenName => fields.given_name.clear(),
        Target::FamilyName => fields.family_name.clear(),
        Target::DisplayName => fields.display_name = None,
        Target::ExternalId => fields.external_id = None,
        Target::Manager | Target::Enterprise => fields.manager = None,
        Target::Emails | Target::Ignored => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jan() -> UserFields {
        UserFields {
            user_name: "jan@acme.test".into(),
            given_name: "Jan".into(),
            family_name: "Jansen".into(),
            active: true,
            ..UserFields::default()
        }
    }

    fn patched(ops: Value) -> Result<UserFields, ScimError> {
        let mut f = jan();
        apply(
            &mut f,
            &json!({"schemas": [super::super::PATCH_OP_SCHEMA], "Operations": ops}),
        )?;
        Ok(f)
    }

    #[test]
    fn the_operations_identity_providers_send() {
        let off = UserFields { active: false, ..jan() };
        let cases: Vec<(Value, UserFields)> = vec![
            // Okta: replace without a path.
            (json!([{"op": "replace", "value": {"active": false}}]), off.clone()),
            // Entra: capitalised op, the value as a string, or a boolean.
            (
                json!([{"op": "Replace", "path": "active", "value": "False"}]),
                off.clone(),
            ),
            (
                json!([{"op": "replace", "path": "active", "value": false}]),
                off.clone(),
            ),
            (json!([{"op": "Replace", "path": "active", "value": "True"}]), jan()),
            (
                json!([{"op": "Replace", "path": "name.familyName", "value": "Smit"}]),
                UserFields {
                    family_name: "Smit".into(),
                    ..jan()
                },
            ),
            (
                json!([{"op": "Add", "path": "name.givenName", "value": "Piet"}]),
                UserFields {
                    given_name: "Piet".into(),
                    ..jan()
                },
            ),
            (
                json!([{"op": "Remove", "path": "name.familyName"}]),
                UserFields {
                    family_name: String::new(),
                    ..jan()
                },
            ),
            // emails is derived from userName: accepted, nothing changes.
            (
                json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "x@y.nl"}]),
                jan(),
            ),
            (
                json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "x@y.nl"}]),
                jan(),
            ),
            (
                json!([{"op": "Remove", "path": "emails[type eq \"work\"].value"}]),
                jan(),
            ),
            // Dotted keys in a value object, and the enterprise extension.
            (
                json!([{"op": "replace", "value": {"name.givenName": "Kees", "displayName": "Kees J", "externalId": "e1"}}]),
                UserFields {
                    given_name: "Kees".into(),
                    display_name: Some("Kees J".into()),
                    external_id: Some("e1".into()),
                    ..jan()
                },
            ),
            (
                json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": "boss@acme.test"}}]),
                UserFields {
                    manager: Some("boss@acme.test".into()),
                    ..jan()
                },
            ),
            (
                json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "boss@acme.test"}}}]),
                UserFields {
                    manager: Some("boss@acme.test".into()),
                    ..jan()
                },
            ),
            (
                json!([{"op": "replace", "path": "name", "value": {"givenName": "A"}}]),
                UserFields {
                    given_name: "A".into(),
                    ..jan()
                },
            ),
            (
                json!([{"op": "remove", "path": "name"}]),
                UserFields {
                    given_name: String::new(),
                    family_name: String::new(),
                    ..jan()
                },
            ),
            (
                json!([{"op": "replace", "path": "userName", "value": "New@Acme.test"}]),
                UserFields {
                    user_name: "new@acme.test".into(),
                    ..jan()
                },
            ),
            // Attributes Offboard does not keep are ignored.
            (json!([{"op": "replace", "path": "title", "value": "Boss"}]), jan()),
            (
                json!([{"op": "add", "value": {"phoneNumbers": [{"value": "1"}], "id": "7"}}]),
                jan(),
            ),
        ];
        for (ops, expected) in cases {
            assert_eq!(patched(ops.clone()).unwrap(), expected, "{ops}");
        }
    }

    #[test]
    fn malformed_operations_are_client_errors() {
        let cases: Vec<(Value, &str)> = vec![
            (json!([]), "invalidSyntax"),
            (
                json!([{"op": "move", "path": "active", "value": true}]),
                "invalidSyntax",
            ),
            (json!([{"path": "active", "value": true}]), "invalidSyntax"),
            (json!(["replace"]), "invalidSyntax"),
            (json!([{"op": "remove"}]), "noTarget"),
            (json!([{"op": "remove", "path": "userName"}]), "mutability"),
            (json!([{"op": "remove", "path": "active"}]), "mutability"),
            (json!([{"op": "replace", "path": "id", "value": "9"}]), "mutability"),
            (
                json!([{"op": "replace", "path": "active", "value": "yes"}]),
                "invalidValue",
            ),
            (json!([{"op": "replace", "path": "active", "value": 1}]), "invalidValue"),
            (
                json!([{"op": "replace", "path": "userName", "value": "jan"}]),
                "invalidValue",
            ),
            (json!([{"op": "replace", "value": true}]), "invalidValue"),
            (
                json!([{"op": "replace", "path": "emails[type eq \"work\".value", "value": "x"}]),
                "invalidPath",
            ),
            (json!([{"op": "replace", "path": 5, "value": "x"}]), "invalidPath"),
            (json!([{"op": "replace", "path": "name.", "value": "x"}]), "invalidPath"),
        ];
        for (ops, kind) in cases {
            let err = patched(ops.clone()).unwrap_err();
            assert_eq!(err.scim_type(), Some(kind), "{ops}");
        }
        assert!(apply(&mut jan(), &json!({"Operations": "x"})).is_err());
        assert!(apply(&mut jan(), &json!(null)).is_err());
    }
}
