//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): which members
//! of a resource an answer carries. `id` and `schemas` are always returned.
//! Names are case-insensitive and may carry a schema URN or a sub-attribute.

use serde_json::{Map, Value};

use super::{split_urn, ENTERPRISE_SCHEMA};

const ALWAYS: [&str; 2] = ["id", "schemas"];

/// Which members to keep or drop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

impl Projection {
    /// From the two query parameters (comma-separated lists).
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Projection {
        let list = |s: Option<&str>| {
            s.unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        Projection {
            attributes: list(attributes),
            excluded: list(excluded),
        }
    }

    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(map) = resource else {
            return resource;
        };
        if !self.attributes.is_empty() {
            Value::Object(include(&map, &self.attributes))
        } else {
            Value::Object(exclude(map, &self.excluded))
        }
    }
}

/// `(member of the resource, sub-attribute)` for an attribute name.
fn steps(name: &str) -> (String, Option<String>) {
    let (ext, rest) = split_urn(name);
    match ext {
        Some(_) if rest.is_empty() => (ENTERPRISE_SCHEMA.to_string(), None),
        Some(_) => (ENTERPRISE_SCHEMA.to_string(), Some(rest.to_string())),
        None => match rest.split_once('.') {
            Some((a, s)) => (a.to_string(), Some(s.to_string())),
            None => (rest.to_string(), None),
        },
    }
}

fn key_of(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn include(map: &Map<String, Value>, names: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    for key in ALWAYS {
        if let Some(v) = map.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    for name in names {
        let (top, sub) = steps(name);
        let Some(key) = key_of(map, &top) else { continue };
        let value = &map[&key];
        match sub {
            None => {
                out.insert(key, value.clone());
            }
            Some(sub) => {
                let picked = pick(value, &sub);
                match (out.get_mut(&key), picked) {
                    (_, None) => {}
                    (Some(existing), Some(p)) => merge(existing, p),
                    (None, Some(p)) => {
                        out.insert(key, p);
                    }
                }
            }
        }
    }
    out
}

/// Only `sub` (itself possibly dotted, for the extension) of an object, or of each element.
fn pick(value: &Value, sub: &str) -> Option<Value> {
    match value {
        Value::Object(m) => {
            let (first, rest) = match sub.split_once('.') {
                Some((f, r)) => (f, Some(r)),
                None => (sub, None),
            };
            let key = key_of(m, first)?;
            let inner = match rest {
                Some(r) => pick(&m[&key], r)?,
                None => m[&key].clone(),
            };
            let mut out = Map::new();
            out.insert(key, inner);
            Some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(items.iter().filter_map(|i| pick(i, sub)).collect())),
        _ => None,
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        for (k, v) in b {
            a.insert(k, v);
        }
    }
}

fn exclude(mut map: Map<String, Value>, names: &[String]) -> Map<String, Value> {
    for name in names {
        let (top, sub) = steps(name);
        let Some(key) = key_of(&map, &top) else { continue };
        if ALWAYS.contains(&key.as_str()) {
            continue;
        }
        match sub {
            None => {
                map.remove(&key);
            }
            Some(sub) => {
                if let Some(v) = map.get_mut(&key) {
                    drop_sub(v, &sub);
                }
            }
        }
    }
    map
}

fn drop_sub(value: &mut Value, sub: &str) {
    match value {
        Value::Object(m) => {
            if let Some(k) = key_of(m, sub) {
                m.remove(&k);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| drop_sub(i, sub)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["s"], "id": "1", "userName": "a@b.nl",
            "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"value": "a@b.nl", "type": "work"}],
            "active": true,
            ENTERPRISE_SCHEMA: {"manager": {"value": "m@b.nl"}},
            "meta": {"resourceType": "User"}
        })
    }

    #[test]
    fn attributes_keep_only_what_is_asked_plus_id_and_schemas() {
        let cases: Vec<(&str, Value)> = vec![
            ("userName", json!({"schemas": ["s"], "id": "1", "userName": "a@b.nl"})),
            (
                "USERNAME,active",
                json!({"schemas": ["s"], "id": "1", "userName": "a@b.nl", "active": true}),
            ),
            (
                "name.givenName",
                json!({"schemas": ["s"], "id": "1", "name": {"givenName": "A"}}),
            ),
            (
                "emails.value",
                json!({"schemas": ["s"], "id": "1", "emails": [{"value": "a@b.nl"}]}),
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                json!({"schemas": ["s"], "id": "1", "userName": "a@b.nl"}),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                json!({"schemas": ["s"], "id": "1", ENTERPRISE_SCHEMA: {"manager": {"value": "m@b.nl"}}}),
            ),
            ("nothing", json!({"schemas": ["s"], "id": "1"})),
        ];
        for (attrs, expected) in cases {
            assert_eq!(Projection::parse(Some(attrs), None).apply(user()), expected, "{attrs}");
        }
    }

    #[test]
    fn excluded_attributes_drop_what_is_named_but_never_id() {
        let p = Projection::parse(None, Some("name.familyName, emails, id, meta"));
        let v = p.apply(user());
        assert_eq!(v["name"], json!({"givenName": "A"}));
        assert!(v.get("emails").is_none() && v.get("meta").is_none());
        assert_eq!(v["id"], "1");
        assert_eq!(Projection::default().apply(user()), user());
    }
}
