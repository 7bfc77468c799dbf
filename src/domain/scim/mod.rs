//! SCIM 2.0 (RFC 7643/7644, issue 16) as plain rules: the filter grammar we
//! serve, PATCH operations applied to a user's SCIM fields, `attributes` /
//! `excludedAttributes` projection, the resource's JSON form and the
//! discovery documents. No I/O: `services::scim` loads and writes,
//! `web::scim` reads the request and renders the answer.

pub mod discovery;
pub mod filter;
pub mod patch;
pub mod project;
pub mod resource;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// `count` when the request gives none, and the most one page holds.
pub const DEFAULT_COUNT: i64 = 100;
pub const MAX_COUNT: i64 = 1000;

/// Every way a SCIM request fails, each with its HTTP status and RFC 7644
/// `scimType`; `web::scim::errors` renders them in the Error schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    #[error("{0}")]
    InvalidFilter(String),
    #[error("{0}")]
    InvalidValue(String),
    #[error("{0}")]
    InvalidSyntax(String),
    #[error("{0}")]
    InvalidPath(String),
    #[error("{0}")]
    NoTarget(String),
    #[error("{0}")]
    Mutability(String),
    #[error("{0}")]
    Uniqueness(String),
    /// A rule of SPEC.md said no (R3, R4, R43, R51-R52, ...): 400, no scimType.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    NotFound(String),
    #[error("a bearer token with the scim scope is required")]
    Unauthorized,
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    #[error("{0}")]
    NotImplemented(String),
    #[error("the database is busy; try again")]
    Busy,
    #[error("something went wrong on the server")]
    Internal,
}

impl ScimError {
    pub fn status(&self) -> u16 {
        use ScimError::*;
        match self {
            InvalidFilter(_) | InvalidValue(_) | InvalidSyntax(_) | InvalidPath(_) | NoTarget(_) | Mutability(_)
            | Refused(_) => 400,
            Unauthorized => 401,
            NotFound(_) => 404,
            MethodNotAllowed => 405,
            Uniqueness(_) => 409,
            TooLarge(_) => 413,
            Internal => 500,
            NotImplemented(_) => 501,
            Busy => 503,
        }
    }

    pub fn scim_type(&self) -> Option<&'static str> {
        use ScimError::*;
        Some(match self {
            InvalidFilter(_) => "invalidFilter",
            InvalidValue(_) => "invalidValue",
            InvalidSyntax(_) => "invalidSyntax",
            InvalidPath(_) => "invalidPath",
            NoTarget(_) => "noTarget",
            Mutability(_) => "mutability",
            Uniqueness(_) => "uniqueness",
            _ => return None,
        })
    }

    /// The Error resource (RFC 7644 §3.12): `status` is a string.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status().to_string(),
            "detail": self.to_string(),
        });
        if let Some(t) = self.scim_type() {
            body["scimType"] = t.into();
        }
        body
    }
}

/// Strips a schema URN from an attribute name (`urn:...:User:userName`).
/// Returns the extension it names, if any, and the rest.
pub fn split_urn(name: &str) -> (Option<&'static str>, &str) {
    for (urn, ext) in [(USER_SCHEMA, None), (ENTERPRISE_SCHEMA, Some(ENTERPRISE_SCHEMA))] {
        let Some(head) = name.get(..urn.len()).filter(|h| h.eq_ignore_ascii_case(urn)) else {
            continue;
        };
        let rest = &name[head.len()..];
        if rest.is_empty() {
            return (ext, "");
        }
        if let Some(rest) = rest.strip_prefix(':') {
            return (ext, rest);
        }
    }
    (None, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_status_as_a_string_and_their_scim_type() {
        let body = ScimError::InvalidFilter("x".into()).body();
        assert_eq!(body["status"], "400");
        assert_eq!(body["scimType"], "invalidFilter");
        assert_eq!(body["schemas"][0], ERROR_SCHEMA);
        let body = ScimError::NotFound("no".into()).body();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none());
    }

    #[test]
    fn urns_are_stripped_case_insensitively() {
        assert_eq!(split_urn("userName"), (None, "userName"));
        assert_eq!(
            split_urn("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName"),
            (None, "name.givenName")
        );
        assert_eq!(
            split_urn("URN:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
            (Some(ENTERPRISE_SCHEMA), "manager")
        );
        assert_eq!(split_urn(ENTERPRISE_SCHEMA), (Some(ENTERPRISE_SCHEMA), ""));
    }
}
