//! The discovery documents (RFC 7644 §4): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`, describing exactly what is served:
//! Users with the core schema and the enterprise extension's `manager`.
//! Groups are not offered: `/ResourceTypes` lists only User, and
//! `GET /Groups` answers an empty list so providers' connection tests pass.

use serde_json::{json, Value};

use super::{ENTERPRISE_SCHEMA, LIST_SCHEMA, MAX_COUNT, USER_SCHEMA};

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RT_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://github.com/offboard/offboard#scim",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "An Offboard API token with the scim scope, from the Provisioning (SCIM) page.",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")}
    })
}

pub fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": [RT_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A user of the organisation account (Groups are not offered)",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": false}],
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")}
    })
}

pub fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

fn attr(name: &str, kind: &str, required: bool, mutability: &str, description: &str) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": false, "description": description,
        "required": required, "caseExact": false, "mutability": mutability,
        "returned": "default", "uniqueness": "none"
    })
}

fn user_schema(base: &str) -> Value {
    let mut user_name = attr("userName", "string", true, "readWrite", "The user's email address.");
    user_name["uniqueness"] = "server".into();
    let mut email_value = attr(
        "value",
        "string",
        false,
        "readOnly",
        "The email address (the userName).",
    );
    email_value["returned"] = "default".into();
    let mut emails = attr("emails", "complex", false, "readOnly", "Derived from userName.");
    emails["multiValued"] = true.into();
    emails["subAttributes"] = json!([
        email_value,
        attr("type", "string", false, "readOnly", "Always work."),
        attr("primary", "boolean", false, "readOnly", "Always true."),
    ]);
    let mut name = attr("name", "complex", false, "readWrite", "The user's name.");
    name["subAttributes"] = json!([
        attr("givenName", "string", false, "readWrite", "First name."),
        attr("familyName", "string", false, "readWrite", "Last name."),
    ]);
    // Always present: remove it and the user would have no state. Set it false to deactivate.
    let active = attr("active", "boolean", true, "readWrite", "false: deactivated or pending.");
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "User Account",
        "attributes": [
            user_name, name,
            attr("displayName", "string", false, "readWrite", "The name shown for the user."),
            emails, active,
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{USER_SCHEMA}")}
    })
}

fn enterprise_schema(base: &str) -> Value {
    let mut manager = attr("manager", "complex", false, "readWrite", "The user's manager.");
    manager["subAttributes"] = json!([attr(
        "value",
        "string",
        false,
        "readWrite",
        "The manager's email address."
    )]);
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": ENTERPRISE_SCHEMA,
        "name": "EnterpriseUser",
        "description": "Enterprise User",
        "attributes": [manager],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{ENTERPRISE_SCHEMA}")}
    })
}

pub fn schemas(base: &str) -> Vec<Value> {
    vec![user_schema(base), enterprise_schema(base)]
}

/// One schema by its URN (case-insensitive), or `None`.
pub fn schema(base: &str, id: &str) -> Option<Value> {
    schemas(base)
        .into_iter()
        .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_say_what_is_served() {
        let spc = service_provider_config("b");
        assert_eq!(spc["patch"]["supported"], true);
        assert_eq!(spc["bulk"]["supported"], false);
        assert_eq!(spc["filter"]["maxResults"], MAX_COUNT);
        assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
        let user = schema("b", &USER_SCHEMA.to_uppercase()).unwrap();
        let emails = user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "emails")
            .unwrap();
        assert_eq!(emails["mutability"], "readOnly");
        assert!(schema("b", "urn:x").is_none());
        assert_eq!(
            user_resource_type("b")["schemaExtensions"][0]["schema"],
            ENTERPRISE_SCHEMA
        );
    }
}
