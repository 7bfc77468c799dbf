//! A user as a SCIM resource: the fields SCIM reads and writes
//! ([`UserFields`]), their JSON form, and reading a POST/PUT body.
//! `userName` is the user's email; `emails` is derived from it (readOnly).

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use super::{ScimError, ENTERPRISE_SCHEMA, USER_SCHEMA};

/// The longest text attribute accepted (names, displayName, externalId).
pub const MAX_TEXT: usize = 256;

/// What SCIM sees of a user. Empty names are unassigned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserFields {
    pub user_name: String,
    pub given_name: String,
    pub family_name: String,
    pub display_name: Option<String>,
    pub external_id: Option<String>,
    pub active: bool,
    /// The enterprise extension's `manager.value`: an email address.
    pub manager: Option<String>,
}

/// What the server adds to the fields.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub id: i64,
    pub created: NaiveDateTime,
    pub last_modified: NaiveDateTime,
}

pub fn timestamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The resource as `GET /Users/{id}` answers it; `base` is the `/scim/v2` URL.
pub fn to_json(f: &UserFields, meta: &Meta, base: &str) -> Value {
    let mut schemas = vec![USER_SCHEMA];
    let mut out = Map::new();
    out.insert("id".into(), meta.id.to_string().into());
    if let Some(e) = &f.external_id {
        out.insert("externalId".into(), e.clone().into());
    }
    out.insert("userName".into(), f.user_name.clone().into());
    let mut name = Map::new();
    if !f.given_name.is_empty() {
        name.insert("givenName".into(), f.given_name.clone().into());
    }
    if !f.family_name.is_empty() {
        name.insert("familyName".into(), f.family_name.clone().into());
    }
    if !name.is_empty() {
        out.insert("name".into(), Value::Object(name));
    }
    if let Some(d) = &f.display_name {
        out.insert("displayName".into(), d.clone().into());
    }
    out.insert(
        "emails".into(),
        json!([{"value": f.user_name, "type": "work", "primary": true}]),
    );
    out.insert("active".into(), f.active.into());
    if let Some(m) = &f.manager {
        schemas.push(ENTERPRISE_SCHEMA);
        out.insert(ENTERPRISE_SCHEMA.into(), json!({"manager": {"value": m}}));
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": timestamp(meta.created),
            "lastModified": timestamp(meta.last_modified),
            "location": format!("{base}/Users/{}", meta.id),
        }),
    );
    out.insert("schemas".into(), json!(schemas));
    Value::Object(out)
}

/// A member of `map` by attribute name, case-insensitively (RFC 7643 §2.1).
pub fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name)
        .or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// A text attribute: a string (trimmed, at most [`MAX_TEXT`]) or null (unassigned).
pub fn text(name: &str, value: &Value) -> Result<Option<String>, ScimError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() <= MAX_TEXT => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Value::String(_) => Err(ScimError::InvalidValue(format!(
            "{name} is longer than {MAX_TEXT} characters"
        ))),
        _ => Err(ScimError::InvalidValue(format!("{name} must be a string"))),
    }
}

/// `userName`: an email address, lowercased.
pub fn user_name(value: &Value) -> Result<String, ScimError> {
    let refused = || ScimError::InvalidValue("userName must be the user's email address".into());
    match value {
        Value::String(s) => crate::email::parse(s).ok_or_else(refused),
        _ => Err(refused()),
    }
}

/// `active`: a boolean, or the strings "True"/"False" in any case (Entra ID).
pub fn active(value: &Value) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::InvalidValue("active must be true or false".into())),
    }
}

/// The enterprise extension's manager: `{"value": EMAIL}`, a bare email, or
/// null. Entra ID sends the manager's SCIM id instead: digits are kept as
/// they are for the service to turn into that user's email ([`is_user_id`]).
pub fn manager(value: &Value) -> Result<Option<String>, ScimError> {
    let inner = match value {
        Value::Object(m) => get_ci(m, "value").unwrap_or(&Value::Null),
        other => other,
    };
    match inner {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) if is_user_id(s.trim()) => Ok(Some(s.trim().to_string())),
        Value::String(s) => crate::email::parse(s)
            .map(Some)
            .ok_or_else(|| ScimError::InvalidValue("manager.value must be the manager's email address".into())),
        _ => Err(ScimError::InvalidValue("manager.value must be a string".into())),
    }
}

/// A manager value naming a user by id rather than by email.
pub fn is_user_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= 18 && value.chars().all(|c| c.is_ascii_digit())
}

/// The fields of a POST or PUT body. `active` defaults to true (a new user
/// is active at once) or to the current state for a PUT that leaves it out.
/// Attributes we do not serve are ignored (RFC 7644 §3.3), read-only ones too.
pub fn from_resource(body: &Value, default_active: bool) -> Result<UserFields, ScimError> {
    let Value::Object(map) = body else {
        return Err(ScimError::InvalidSyntax("the body must be a JSON object".into()));
    };
    let user_name = match get_ci(map, "userName") {
        Some(v) => user_name(v)?,
        None => return Err(ScimError::InvalidValue("userName is required".into())),
    };
    let mut fields = UserFields {
        user_name,
        active: default_active,
        ..UserFields::default()
    };
    match get_ci(map, "name") {
        None | Some(Value::Null) => {}
        Some(Value::Object(name)) => {
            let part = |key: &str| get_ci(name, key).map_or(Ok(None), |v| text(&format!("name.{key}"), v));
            fields.given_name = part("givenName")?.unwrap_or_default();
            fields.family_name = part("familyName")?.unwrap_or_default();
        }
        Some(_) => return Err(ScimError::InvalidValue("name must be an object".into())),
    }
    if let Some(v) = get_ci(map, "displayName") {
        fields.display_name = text("displayName", v)?;
    }
    if let Some(v) = get_ci(map, "externalId") {
        fields.external_id = text("externalId", v)?;
    }
    if let Some(v) = get_ci(map, "active") {
        fields.active = active(v)?;
    }
    match get_ci(map, ENTERPRISE_SCHEMA) {
        None | Some(Value::Null) => {}
        Some(Value::Object(ext)) => {
            if let Some(m) = get_ci(ext, "manager") {
                fields.manager = manager(m)?;
            }
        }
        Some(_) => {
            return Err(ScimError::InvalidValue(
                "the enterprise extension must be an object".into(),
            ))
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .unwrap();
        Meta {
            id: 7,
            created: t,
            last_modified: t,
        }
    }

    #[test]
    fn a_user_renders_with_emails_from_the_user_name_and_meta() {
        let f = UserFields {
            user_name: "jan@acme.test".into(),
            given_name: "Jan".into(),
            active: true,
            ..UserFields::default()
        };
        let v = to_json(&f, &meta(), "http://h/scim/v2");
        assert_eq!(v["id"], "7");
        assert_eq!(v["name"], json!({"givenName": "Jan"}));
        assert_eq!(v["emails"][0]["value"], "jan@acme.test");
        assert_eq!(v["active"], true);
        assert_eq!(v["meta"]["location"], "http://h/scim/v2/Users/7");
        assert_eq!(v["meta"]["created"], "2026-12-01T10:00:00Z");
        assert_eq!(v["schemas"], json!([USER_SCHEMA]));
        assert!(v.get("displayName").is_none() && v.get("externalId").is_none());
    }

    #[test]
    fn bodies_are_read_leniently_but_typed() {
        let body = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "USERNAME": "Jan@Acme.test", "name": {"givenname": "Jan", "familyName": "Jansen"},
            "externalId": "00u1", "active": "False", "title": "ignored",
            ENTERPRISE_SCHEMA: {"manager": {"value": "Boss@acme.test"}}
        });
        let f = from_resource(&body, true).unwrap();
        assert_eq!(f.user_name, "jan@acme.test");
        assert_eq!((f.given_name.as_str(), f.family_name.as_str()), ("Jan", "Jansen"));
        assert_eq!(f.external_id.as_deref(), Some("00u1"));
        assert!(!f.active);
        assert_eq!(f.manager.as_deref(), Some("boss@acme.test"));
    }

    #[test]
    fn bad_bodies_are_client_errors() {
        let cases = [
            (json!([]), "invalidSyntax"),
            (json!({}), "invalidValue"),
            (json!({"userName": "not-an-email"}), "invalidValue"),
            (json!({"userName": 5}), "invalidValue"),
            (json!({"userName": "a@b.nl", "active": "maybe"}), "invalidValue"),
            (json!({"userName": "a@b.nl", "name": "Jan"}), "invalidValue"),
            (json!({"userName": "a@b.nl", "name": {"givenName": 5}}), "invalidValue"),
            (
                json!({"userName": "a@b.nl", "displayName": "x".repeat(300)}),
                "invalidValue",
            ),
            (
                json!({"userName": "a@b.nl", ENTERPRISE_SCHEMA: {"manager": {"value": "nobody"}}}),
                "invalidValue",
            ),
        ];
        for (body, kind) in cases {
            let err = from_resource(&body, true).unwrap_err();
            assert_eq!(err.scim_type(), Some(kind), "{body}");
        }
    }
}
