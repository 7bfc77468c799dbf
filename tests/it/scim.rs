//! SCIM 2.0 under /scim/v2 (issue 16): discovery, every Users operation,
//! the requests Okta and Entra ID really send (each replayed as sent), the
//! rules of SPEC.md through SCIM, the audit log, the webhook outbox, the
//! request log and the Provisioning page.

use actix_web::http::{Method, StatusCode};
use diesel::prelude::*;
use offboard::db::schema::{users, webhook_events};
use offboard::domain::webhooks::EventKind;
use offboard::domain::Action;
use offboard::i18n::Lang;
use offboard::services::scim::settings::{self, Settings};
use offboard::services::{self, api_tokens};
use serde_json::{json, Value};

use crate::support::*;

const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// A token of the owner named `name` with `scopes`.
fn named_token(app: &TestApp, name: &str, scopes: &str) -> String {
    let mut conn = app.conn();
    let user = services::users::find_any_by_email(&mut conn, "owner@acme.test")
        .unwrap()
        .unwrap();
    let by = api_tokens::actor_info(&mut conn, &user, Lang::En, false).unwrap();
    api_tokens::create(&mut conn, &by, name, scopes, None, services::now())
        .unwrap()
        .token
}

fn okta(app: &TestApp) -> String {
    named_token(app, "Okta", "scim")
}

struct Answer {
    status: StatusCode,
    json: Value,
}

async fn send(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<(&str, String)>) -> Answer {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let body = body.map(|(ct, b)| (ct.to_string(), b.into_bytes()));
    let resp = app.client().send_body(method, path, body, &headers).await;
    let json: Value = serde_json::from_str(&resp.body).unwrap_or(Value::Null);
    if resp.status != StatusCode::NO_CONTENT {
        assert_eq!(
            resp.header("content-type").as_deref(),
            Some("application/scim+json"),
            "{path}: {} {}",
            resp.status,
            resp.body
        );
    }
    if resp.status.is_client_error() || resp.status.is_server_error() {
        assert_eq!(json["schemas"][0], ERROR, "{}", resp.body);
        assert_eq!(json["status"], resp.status.as_u16().to_string(), "status is a string");
        assert!(json["detail"].is_string());
    }
    assert!(!resp.status.is_server_error(), "{path}: {}", resp.body);
    Answer {
        status: resp.status,
        json,
    }
}

async fn get(app: &TestApp, path: &str, token: &str) -> Answer {
    send(app, Method::GET, path, Some(token), None).await
}

async fn with_body(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> Answer {
    send(
        app,
        method,
        path,
        Some(token),
        Some(("application/scim+json", body.to_string())),
    )
    .await
}

async fn patch(app: &TestApp, id: i64, token: &str, ops: Value) -> Answer {
    let body = json!({"schemas": [PATCH], "Operations": ops});
    with_body(app, Method::PATCH, &format!("/scim/v2/Users/{id}"), token, body).await
}

fn status_of(app: &TestApp, id: i64) -> String {
    app.load_user(id).expect("user").status.as_str().to_string()
}

fn audit_of(app: &TestApp, action: &str) -> Vec<offboard::db::models::AuditEntry> {
    app.audit().into_iter().filter(|e| e.action == action).collect()
}

fn events(app: &TestApp) -> Vec<String> {
    webhook_events::table
        .select(webhook_events::event)
        .order(webhook_events::id)
        .load::<String>(&mut *app.conn())
        .unwrap()
}

/// An active endpoint wanting every event, so acts write the outbox.
fn subscribe(app: &TestApp) {
    let mut conn = app.conn();
    let (by, _) = services::users::actor_by_email(&mut conn, "owner@acme.test").unwrap();
    let e = services::webhooks::add_endpoint(
        &mut conn,
        &by,
        "https://hooks.example.com/x",
        EventKind::ALL,
        services::now(),
    )
    .unwrap();
    services::webhooks::set_validated(&mut conn, e.id, true, services::now()).unwrap();
}

#[actix_web::test]
async fn discovery_says_what_is_served() {
    let app = TestApp::new();
    let t = okta(&app);
    let spc = get(&app, "/scim/v2/ServiceProviderConfig", &t).await;
    assert_eq!(spc.status, StatusCode::OK);
    assert_eq!(spc.json["patch"]["supported"], true);
    assert_eq!(spc.json["bulk"]["supported"], false);
    assert_eq!(spc.json["filter"]["maxResults"], 1000);
    assert_eq!(spc.json["authenticationSchemes"][0]["type"], "oauthbearertoken");
    let types = get(&app, "/scim/v2/ResourceTypes", &t).await;
    assert_eq!(types.json["totalResults"], 1);
    assert_eq!(types.json["Resources"][0]["endpoint"], "/Users");
    assert_eq!(
        get(&app, "/scim/v2/ResourceTypes/User", &t).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&app, "/scim/v2/ResourceTypes/Group", &t).await.status,
        StatusCode::NOT_FOUND
    );
    let schemas = get(&app, "/scim/v2/Schemas", &t).await;
    assert_eq!(schemas.json["totalResults"], 2);
    let user = get(&app, &format!("/scim/v2/Schemas/{USER}"), &t).await;
    let emails = user.json["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "emails")
        .unwrap();
    assert_eq!(emails["mutability"], "readOnly");
    // Groups are not offered: an empty list, quickly.
    let groups = get(&app, "/scim/v2/Groups?filter=displayName%20eq%20%22x%22", &t).await;
    assert_eq!(
        (groups.status, groups.json["totalResults"].clone()),
        (StatusCode::OK, json!(0))
    );
    // Other methods and unknown paths answer in the Error schema.
    let post = send(&app, Method::POST, "/scim/v2/ServiceProviderConfig", Some(&t), None).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get(&app, "/scim/v2/Nothing", &t).await.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn only_a_token_with_the_scim_scope_gets_in() {
    let app = TestApp::new();
    let wrong = named_token(&app, "REST", "user:read,user:write");
    for token in [None, Some("obt_nonsense"), Some(wrong.as_str())] {
        let a = send(&app, Method::GET, "/scim/v2/Users", token, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{token:?}");
    }
    // No session, no CSRF token: a bearer token is all a provider sends.
    let t = okta(&app);
    let a = with_body(
        &app,
        Method::POST,
        "/scim/v2/Users",
        &t,
        json!({"userName": "new@acme.test"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn okta_checks_count_one_unknown_filter_upper_case_and_unknown_id() {
    let app = TestApp::new();
    let t = okta(&app);
    app.named("jan@acme.test", "Jan", "Jansen");
    // count=1 returns one user with name, userName, active and emails; integers.
    let a = get(&app, "/scim/v2/Users?startIndex=1&count=1", &t).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json["totalResults"], 2);
    assert_eq!(a.json["itemsPerPage"], 1);
    assert_eq!(a.json["startIndex"], 1);
    let u = &a.json["Resources"][0];
    for key in ["name", "userName", "active", "emails", "id", "meta"] {
        assert!(!u[key].is_null(), "{key} in {u}");
    }
    // An unknown user: 200 and totalResults 0.
    let a = get(
        &app,
        "/scim/v2/Users?filter=userName%20eq%20%22nobody%40acme.test%22&startIndex=1&count=100",
        &t,
    )
    .await;
    assert_eq!((a.status, a.json["totalResults"].clone()), (StatusCode::OK, json!(0)));
    assert_eq!(a.json["Resources"], json!([]));
    // The upper-cased userName finds the user.
    let a = get(&app, "/scim/v2/Users?filter=userName%20eq%20%22JAN%40ACME.TEST%22", &t).await;
    assert_eq!(a.json["totalResults"], 1);
    assert_eq!(a.json["Resources"][0]["userName"], "jan@acme.test");
    assert_eq!(
        a.json["Resources"][0]["name"],
        json!({"givenName": "Jan", "familyName": "Jansen"})
    );
    // An unknown id: 404 in the Error schema (checked by `send`).
    assert_eq!(
        get(&app, "/scim/v2/Users/999999", &t).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/scim/v2/Users/not-a-number", &t).await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn filters_paging_and_attributes() {
    let app = TestApp::new();
    let t = okta(&app);
    let jan = app.user(UserSpec::member("jan@acme.test"));
    app.user(UserSpec::member("off@acme.test").status("deactivated"));
    app.user(UserSpec::member("new@acme.test").status("pending"));
    let created = with_body(
        &app,
        Method::POST,
        "/scim/v2/Users",
        &t,
        json!({"schemas": [USER], "userName": "ext@acme.test", "externalId": "00uX"}),
    )
    .await;
    let ext_id = created.json["id"].as_str().unwrap().to_string();
    let total = |q: &str| {
        let (app, t, q) = (&app, &t, q.to_string());
        async move { get(app, &format!("/scim/v2/Users?{q}"), t).await.json["totalResults"].clone() }
    };
    assert_eq!(total("").await, 5, "inactive and pending users are listed too");
    assert_eq!(total("filter=externalId%20eq%20%2200uX%22").await, 1);
    assert_eq!(total("filter=emails.value%20EQ%20%22Jan%40acme.test%22").await, 1);
    assert_eq!(total(&format!("filter=id%20eq%20%22{jan}%22")).await, 1);
    assert_eq!(
        total(&format!(
            "filter=id%20eq%20%22{ext_id}%22%20and%20externalId%20eq%20%2200uX%22"
        ))
        .await,
        1
    );
    assert_eq!(
        total("filter=userName%20eq%20%22jan%40acme.test%22%20and%20externalId%20eq%20%2200uX%22").await,
        0
    );
    let page = get(&app, "/scim/v2/Users?startIndex=2&count=2", &t).await.json;
    assert_eq!(
        (page["startIndex"].clone(), page["itemsPerPage"].clone()),
        (json!(2), json!(2))
    );
    let capped = get(&app, "/scim/v2/Users?count=5000", &t).await;
    assert_eq!(capped.status, StatusCode::OK);
    for bad in ["count=abc", "startIndex=1.5"] {
        let a = get(&app, &format!("/scim/v2/Users?{bad}"), &t).await;
        assert_eq!(
            (a.status, a.json["scimType"].clone()),
            (StatusCode::BAD_REQUEST, json!("invalidValue"))
        );
    }
    for bad in [
        "displayName%20eq%20%22x%22",
        "userName%20co%20%22j%22",
        "userName%20eq%20%22a%22%20or%20id%20eq%20%221%22",
    ] {
        let a = get(&app, &format!("/scim/v2/Users?filter={bad}"), &t).await;
        assert_eq!(
            (a.status, a.json["scimType"].clone()),
            (StatusCode::BAD_REQUEST, json!("invalidFilter"))
        );
    }
    let inactive = get(&app, "/scim/v2/Users?filter=userName%20eq%20%22off%40acme.test%22", &t).await;
    assert_eq!(inactive.json["Resources"][0]["active"], false);
    let pending = get(&app, "/scim/v2/Users?filter=userName%20eq%20%22new%40acme.test%22", &t).await;
    assert_eq!(pending.json["Resources"][0]["active"], false);
    let only = get(&app, &format!("/scim/v2/Users/{jan}?attributes=userName"), &t)
        .await
        .json;
    assert_eq!(
        only,
        json!({"schemas": [USER], "id": jan.to_string(), "userName": "jan@acme.test"})
    );
    let without = get(
        &app,
        &format!("/scim/v2/Users/{jan}?excludedAttributes=emails,meta"),
        &t,
    )
    .await
    .json;
    assert!(without.get("emails").is_none() && without.get("meta").is_none() && without["userName"].is_string());
    let search = with_body(&app, Method::POST, "/scim/v2/Users/.search", &t, json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"jan@acme.test\"", "attributes": ["userName"]})).await;
    assert_eq!(search.json["totalResults"], 1);
    assert!(search.json["Resources"][0].get("active").is_none());
}

#[actix_web::test]
async fn create_is_active_at_once_audited_and_fires_a_webhook() {
    let app = TestApp::new();
    subscribe(&app);
    let t = okta(&app);
    let body = json!({
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "Piet@Acme.test", "name": {"givenName": "Piet", "familyName": "Pieters"},
        "displayName": "Piet P", "externalId": "00u42",
        "emails": [{"value": "piet@acme.test", "type": "work", "primary": true}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "owner@acme.test"}}
    });
    // application/json is accepted as well as application/scim+json.
    let a = send(
        &app,
        Method::POST,
        "/scim/v2/Users",
        Some(&t),
        Some(("application/json", body.to_string())),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json);
    let id: i64 = a.json["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(a.json["userName"], "piet@acme.test");
    assert_eq!(a.json["displayName"], "Piet P");
    assert_eq!(
        a.json["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
        "owner@acme.test"
    );
    assert_eq!(a.json["meta"]["resourceType"], "User");
    assert!(a.json["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/scim/v2/Users/{id}")));
    // In the portal at once: active, no invitation.
    let user = app.load_user(id).unwrap();
    assert_eq!((user.status.as_str(), user.first_name.as_str()), ("active", "Piet"));
    let created = audit_of(&app, "scim_create");
    assert_eq!(created.len(), 1);
    assert_eq!(
        (created[0].actor_email.as_str(), created[0].source.as_str()),
        ("via SCIM: Okta", "scim")
    );
    assert_eq!(events(&app), vec!["user.created"]);
    // The same userName again: 409 uniqueness, in any case.
    let again = with_body(
        &app,
        Method::POST,
        "/scim/v2/Users",
        &t,
        json!({"userName": "PIET@acme.test"}),
    )
    .await;
    assert_eq!(
        (again.status, again.json["scimType"].clone()),
        (StatusCode::CONFLICT, json!("uniqueness"))
    );
    let portal = with_body(
        &app,
        Method::POST,
        "/scim/v2/Users",
        &t,
        json!({"userName": "owner@acme.test"}),
    )
    .await;
    assert_eq!(portal.status, StatusCode::CONFLICT);
    // A userName that is no email address: 400 invalidValue.
    let bad = with_body(&app, Method::POST, "/scim/v2/Users", &t, json!({"userName": "piet"})).await;
    assert_eq!(
        (bad.status, bad.json["scimType"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalidValue"))
    );
}

#[actix_web::test]
async fn malformed_requests_are_400s_never_500s() {
    let app = TestApp::new();
    let t = okta(&app);
    let jan = app.user(UserSpec::member("jan@acme.test"));
    let path = format!("/scim/v2/Users/{jan}");
    let cases: Vec<(Method, &str, String)> = vec![
        (Method::POST, "/scim/v2/Users", "{not json".into()),
        (Method::POST, "/scim/v2/Users", "[1,2]".into()),
        (
            Method::POST,
            "/scim/v2/Users",
            json!({"userName": ["a@b.nl"]}).to_string(),
        ),
        (
            Method::POST,
            "/scim/v2/Users",
            json!({"userName": "a@b.nl", "active": 3}).to_string(),
        ),
        (Method::PUT, &path, json!({"name": {"givenName": "x"}}).to_string()),
        (
            Method::PATCH,
            &path,
            json!({"Operations": [{"op": "jump"}]}).to_string(),
        ),
        (
            Method::PATCH,
            &path,
            json!({"Operations": [{"op": "replace", "path": "active", "value": "nope"}]}).to_string(),
        ),
        (
            Method::PATCH,
            &path,
            json!({"Operations": [{"op": "remove"}]}).to_string(),
        ),
        (Method::PATCH, &path, "".into()),
    ];
    for (method, p, body) in cases {
        let a = send(
            &app,
            method.clone(),
            p,
            Some(&t),
            Some(("application/scim+json", body.clone())),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{method} {p} {body}: {}", a.json);
    }
    let huge = json!({"userName": "big@acme.test", "displayName": "x".repeat(400_000)}).to_string();
    let a = send(
        &app,
        Method::POST,
        "/scim/v2/Users",
        Some(&t),
        Some(("application/scim+json", huge)),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    // An unknown attribute is ignored, not an error.
    let a = with_body(
        &app,
        Method::POST,
        "/scim/v2/Users",
        &t,
        json!({"userName": "x@acme.test", "nickName": "X", "title": 5}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(status_of(&app, jan), "active", "nothing changed");
}

#[actix_web::test]
async fn okta_deactivates_with_a_replace_without_path_and_a_resend_writes_nothing() {
    let app = TestApp::new();
    subscribe(&app);
    let t = okta(&app);
    let jan = app.user(UserSpec::member("jan@acme.test").licensed());
    let epoch = app.load_user(jan).unwrap().session_epoch;
    // Okta's request, as sent.
    let ops = json!([{"op": "replace", "value": {"active": false}}]);
    let a = patch(&app, jan, &t, ops.clone()).await;
    assert_eq!((a.status, a.json["active"].clone()), (StatusCode::OK, json!(false)));
    let user = app.load_user(jan).unwrap();
    assert_eq!(
        (user.status.as_str(), user.user_type.as_str()),
        ("deactivated", "basic")
    );
    assert!(user.session_epoch > epoch, "the user's sessions end");
    let acts = audit_of(&app, "deactivate");
    assert_eq!(acts.len(), 1);
    assert_eq!(
        (acts[0].actor_email.as_str(), acts[0].source.as_str()),
        ("via SCIM: Okta", "scim")
    );
    assert_eq!(events(&app), vec!["user.deactivated"]);
    // Providers resend: 200, and nothing is written.
    let audit_before = app.audit().len();
    let again = patch(&app, jan, &t, ops).await;
    assert_eq!(
        (again.status, again.json["active"].clone()),
        (StatusCode::OK, json!(false))
    );
    assert_eq!(app.audit().len(), audit_before);
    assert_eq!(events(&app).len(), 1);
    // active true reactivates (licenses not restored, R14).
    let back = patch(&app, jan, &t, json!([{"op": "replace", "value": {"active": true}}])).await;
    assert_eq!(back.json["active"], true);
    assert_eq!(app.load_user(jan).unwrap().user_type.as_str(), "basic");
    assert_eq!(events(&app), vec!["user.deactivated", "user.activated"]);
}

#[actix_web::test]
async fn okta_put_with_active_false_deactivates() {
    let app = TestApp::new();
    let t = okta(&app);
    let jan = app.named("jan@acme.test", "Jan", "Jansen");
    let body = json!({
        "schemas": [USER], "id": jan.to_string(), "userName": "jan@acme.test",
        "name": {"givenName": "Jan", "familyName": "Jansen"},
        "emails": [{"primary": true, "value": "jan@acme.test", "type": "work"}],
        "active": false
    });
    let a = with_body(&app, Method::PUT, &format!("/scim/v2/Users/{jan}"), &t, body.clone()).await;
    assert_eq!((a.status, a.json["active"].clone()), (StatusCode::OK, json!(false)));
    assert_eq!(status_of(&app, jan), "deactivated");
    assert!(audit_of(&app, "scim_update").is_empty(), "the names did not change");
    let before = app.audit().len();
    assert_eq!(
        with_body(&app, Method::PUT, &format!("/scim/v2/Users/{jan}"), &t, body)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.audit().len(), before);
    // A PUT that renames: the portal shows it at once, audited.
    let renamed = json!({"userName": "jan@acme.test", "name": {"givenName": "Johannes", "familyName": "Jansen"}, "active": false});
    let a = with_body(&app, Method::PUT, &format!("/scim/v2/Users/{jan}"), &t, renamed).await;
    assert_eq!(a.json["name"]["givenName"], "Johannes");
    assert_eq!(app.load_user(jan).unwrap().first_name, "Johannes");
    let updated = audit_of(&app, "scim_update");
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].detail, "changed: name.givenName");
}

#[actix_web::test]
async fn entra_sends_active_as_a_string_with_a_capitalised_op_or_as_a_boolean() {
    let app = TestApp::new();
    let t = named_token(&app, "Entra", "scim");
    let jan = app.user(UserSpec::member("jan@acme.test"));
    let a = patch(
        &app,
        jan,
        &t,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    assert_eq!((a.status, a.json["active"].clone()), (StatusCode::OK, json!(false)));
    assert_eq!(status_of(&app, jan), "deactivated");
    assert_eq!(audit_of(&app, "deactivate")[0].actor_email, "via SCIM: Entra");
    let a = patch(
        &app,
        jan,
        &t,
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
    )
    .await;
    assert_eq!(a.json["active"], true);
    // With ?aadOptscim062020: lower-case op and a boolean.
    let a = patch(
        &app,
        jan,
        &t,
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    assert_eq!(a.json["active"], false);
    assert_eq!(status_of(&app, jan), "deactivated");
}

#[actix_web::test]
async fn entra_adds_replaces_and_removes_attributes_by_path() {
    let app = TestApp::new();
    subscribe(&app);
    let t = named_token(&app, "Entra", "scim");
    let jan = app.named("jan@acme.test", "Jan", "Jansen");
    let ops = json!([
        {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "jan@acme.test"},
        {"op": "Replace", "path": "name.familyName", "value": "Smit"},
        {"op": "Add", "path": "displayName", "value": "Jan Smit"},
        {"op": "Add", "path": "externalId", "value": "aad-1"}
    ]);
    let a = patch(&app, jan, &t, ops).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["name"]["familyName"], "Smit");
    assert_eq!(a.json["displayName"], "Jan Smit");
    assert_eq!(a.json["emails"][0]["value"], "jan@acme.test");
    assert_eq!(app.load_user(jan).unwrap().last_name, "Smit");
    let ops = json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "jan@acme.test"},
        {"op": "Remove", "path": "name.familyName"},
        {"op": "Remove", "path": "emails[type eq \"work\"].value"}
    ]);
    let a = patch(&app, jan, &t, ops).await;
    assert_eq!(a.json["name"], json!({"givenName": "Jan"}));
    assert_eq!(a.json["userName"], "jan@acme.test");
    assert_eq!(app.load_user(jan).unwrap().last_name, "");
    let updates = audit_of(&app, "scim_update");
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0].source, "scim");
    assert_eq!(events(&app), vec!["user.updated", "user.updated"]);
    // Entra names the manager by their SCIM id: stored and shown as their email.
    let ops = json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": app.owner_id.to_string()}]);
    let a = patch(&app, jan, &t, ops).await;
    assert_eq!(
        a.json["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
        "owner@acme.test"
    );
    let ops = json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": "999999"}}]);
    let a = patch(&app, jan, &t, ops).await;
    assert_eq!(
        (a.status, a.json["scimType"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalidValue"))
    );
    // Filterable by the externalId Entra set.
    let found = get(
        &app,
        "/scim/v2/Users?aadOptscim062020&filter=externalId%20eq%20%22aad-1%22",
        &t,
    )
    .await;
    assert_eq!(found.json["totalResults"], 1);
}

#[actix_web::test]
async fn admins_and_the_owner_are_refused_with_the_rule() {
    let app = TestApp::new();
    let t = okta(&app);
    let admin = app.user(UserSpec::admin("boss@acme.test"));
    let a = patch(&app, admin, &t, json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.json["detail"]
            .as_str()
            .unwrap()
            .contains("admin must first be changed into a member"),
        "{}",
        a.json
    );
    assert_eq!(status_of(&app, admin), "active");
    let a = patch(
        &app,
        app.owner_id,
        &t,
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(status_of(&app, app.owner_id), "active");
    // A refused status change takes its profile changes back with it.
    let ops = json!([{"op": "replace", "value": {"name.givenName": "Changed", "active": false}}]);
    assert_eq!(patch(&app, admin, &t, ops).await.status, StatusCode::BAD_REQUEST);
    assert_ne!(app.load_user(admin).unwrap().first_name, "Changed");
    // Another account's user is not found.
    let (other, _) = app.other_account("owner@other.test");
    let theirs = app.user_in(other, UserSpec::member("them@other.test"));
    assert_eq!(
        get(&app, &format!("/scim/v2/Users/{theirs}"), &t).await.status,
        StatusCode::NOT_FOUND
    );
    let a = patch(&app, theirs, &t, json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn delete_deactivates_by_default_answers_404_and_a_later_post_links_again() {
    let app = TestApp::new();
    let t = okta(&app);
    let jan = app.user(UserSpec::member("jan@acme.test"));
    let a = send(&app, Method::DELETE, &format!("/scim/v2/Users/{jan}"), Some(&t), None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(
        status_of(&app, jan),
        "deactivated",
        "the portal shows the user deactivated"
    );
    assert_eq!(
        get(&app, &format!("/scim/v2/Users/{jan}"), &t).await.status,
        StatusCode::NOT_FOUND
    );
    let listed = get(&app, "/scim/v2/Users?filter=userName%20eq%20%22jan%40acme.test%22", &t).await;
    assert_eq!(listed.json["totalResults"], 0);
    let gone = audit_of(&app, "scim_delete");
    assert_eq!((gone.len(), gone[0].detail.as_str()), (1, "deprovisioned: deactivate"));
    assert_eq!(
        send(&app, Method::DELETE, &format!("/scim/v2/Users/{jan}"), Some(&t), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The provider creates the user again: the same portal user, active.
    let again = with_body(
        &app,
        Method::POST,
        "/scim/v2/Users",
        &t,
        json!({"userName": "jan@acme.test", "externalId": "00u9"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.json);
    assert_eq!(again.json["id"], jan.to_string());
    assert_eq!(again.json["active"], true);
    assert_eq!(status_of(&app, jan), "active");
    assert!(audit_of(&app, "scim_update")[0].detail.starts_with("linked again"));
}

#[actix_web::test]
async fn delete_unlinks_or_deletes_with_transfer_as_the_account_chose_and_refuses_rooms() {
    let app = TestApp::new();
    let t = okta(&app);
    let heir = app.user(UserSpec::member("heir@acme.test").webinar());
    let leaver = app.user(UserSpec::member("leaver@acme.test"));
    app.give(
        leaver,
        Owned {
            meetings: 2,
            webinars: 1,
            recordings: 1,
            ..Owned::default()
        },
    );
    let external = app.user(UserSpec::member("guest@elsewhere.test").external());
    let mut conn = app.conn();
    let (by, _) = services::users::actor_by_email(&mut conn, "owner@acme.test").unwrap();
    // The target is checked with the transfer rules: a missing one is refused.
    let none = Settings {
        action: Action::Delete,
        transfer_to: None,
    };
    assert!(settings::save(&mut conn, &by, &none, services::now()).is_err());
    let unlicensed = app.user(UserSpec::member("plain@acme.test"));
    let _ = unlicensed;
    let weak = Settings {
        action: Action::Delete,
        transfer_to: Some("plain@acme.test".into()),
    };
    assert!(settings::save(&mut conn, &by, &weak, services::now()).is_err());
    let delete = Settings {
        action: Action::Delete,
        transfer_to: Some("heir@acme.test".into()),
    };
    settings::save(&mut conn, &by, &delete, services::now()).unwrap();
    drop(conn);
    let a = send(
        &app,
        Method::DELETE,
        &format!("/scim/v2/Users/{leaver}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(app.load_user(leaver).is_none(), "deleted");
    assert_eq!(app.owned(heir).0, 2, "meetings transferred");
    assert_eq!(
        get(&app, &format!("/scim/v2/Users/{leaver}"), &t).await.status,
        StatusCode::NOT_FOUND
    );
    let deleted = audit_of(&app, "delete");
    assert_eq!(
        (deleted[0].source.as_str(), deleted[0].meetings_transferred),
        ("scim", 2)
    );
    // Unlink.
    let unlink = Settings {
        action: Action::Unlink,
        transfer_to: None,
    };
    settings::save(&mut app.conn(), &by, &unlink, services::now()).unwrap();
    let a = send(
        &app,
        Method::DELETE,
        &format!("/scim/v2/Users/{external}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_ne!(app.load_user(external).unwrap().account_id, app.account_id, "unlinked");
    assert_eq!(
        get(&app, &format!("/scim/v2/Users/{external}"), &t).await.status,
        StatusCode::NOT_FOUND
    );
    // Rooms are refused with 400, whatever the choice.
    let room = app.user(UserSpec::member("room1@acme.test").room());
    let a = send(&app, Method::DELETE, &format!("/scim/v2/Users/{room}"), Some(&t), None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json["detail"].as_str().unwrap().contains("R43"));
    // A user in a managed domain cannot be unlinked (R31): the refusal is a 400.
    let a = send(&app, Method::DELETE, &format!("/scim/v2/Users/{heir}"), Some(&t), None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        users::table
            .find(heir)
            .select(users::status)
            .first::<String>(&mut *app.conn())
            .unwrap(),
        "active"
    );
}

#[actix_web::test]
async fn the_provisioning_page_creates_a_token_sets_delete_tests_and_lists_requests() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    let page = c.get("/provisioning").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-scim-base") && page.body.contains("/scim/v2"));
    let made = c
        .post("/provisioning/token", &[("name", "Okta"), ("days", "365")])
        .await;
    assert_eq!(made.status, StatusCode::OK);
    let token = attr_text(&made.body, "data-token");
    // The new token works against the endpoint, and the request is listed.
    assert_eq!(
        get(&app, "/scim/v2/Users/424242", &token).await.status,
        StatusCode::NOT_FOUND
    );
    let saved = c
        .post("/provisioning/settings", &[("action", "unlink"), ("transfer_to", "")])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        settings::load(&mut app.conn(), app.account_id).unwrap().action,
        Action::Unlink
    );
    let tested = c.post("/provisioning/test", &[]).await;
    assert_eq!(tested.status, StatusCode::SEE_OTHER);
    let page = c.get("/provisioning").await;
    assert!(
        page.alert().unwrap_or_default().contains("owner@acme.test"),
        "{:?}",
        page.alert()
    );
    assert_eq!(attr_values(&page.body, "data-scim-request").len(), 2);
    assert!(page.body.contains("no user with id 424242") || page.body.contains("no such user"));
    assert!(page.body.contains("value=\"unlink\" checked"));
    // The audit log names SCIM acts in the reader's words and filters on them.
    let audit = c.get("/audit?action=scim_settings").await;
    assert!(
        audit.body.contains("SCIM delete setting") && audit.body.contains("deactivate -&#62; unlink"),
        "{}",
        audit.body
    );
    // Members and admins whose custom role lacks "API tokens" neither see nor change it.
    app.user(UserSpec::member("m@acme.test"));
    let helpdesk = app.custom_role("Helpdesk", &[offboard::domain::BULK_PRIVILEGE]);
    app.user(UserSpec::admin("help@acme.test").custom_role(helpdesk));
    for who in ["m@acme.test", "help@acme.test"] {
        let m = app.signed_in(who).await;
        assert_ne!(m.get("/provisioning").await.status, StatusCode::OK, "{who}");
        let r = m
            .post(
                "/provisioning/settings",
                &[("action", "delete"), ("transfer_to", "owner@acme.test")],
            )
            .await;
        assert!(r.status.is_client_error(), "{who}: {}", r.status);
        let r = m.post("/provisioning/token", &[("name", "Mine")]).await;
        assert!(r.status.is_client_error(), "{who}: {}", r.status);
    }
    assert_eq!(
        settings::load(&mut app.conn(), app.account_id).unwrap().action,
        Action::Unlink
    );
}

#[actix_web::test]
async fn the_request_log_keeps_the_last_fifty() {
    let app = TestApp::new();
    let t = okta(&app);
    for _ in 0..53 {
        get(&app, "/scim/v2/ServiceProviderConfig", &t).await;
    }
    offboard::web::scim::log::flush(&app.state).await;
    let kept = services::scim::requests::recent(&mut app.conn(), app.account_id).unwrap();
    assert_eq!(kept.len(), 50);
    assert_eq!((kept[0].token_name.as_str(), kept[0].status), ("Okta", 200));
}

/// The text inside the element carrying `attr`.
fn attr_text(html: &str, attr: &str) -> String {
    let start = html.find(attr).expect("attribute");
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest[open..].find('<').unwrap();
    rest[open..open + close].trim().to_string()
}

/// The SCIM acts × who holds the token × every kind of target: one exact
/// status each, and a refusal changes nothing. (Helpdesk admins and members
/// cannot hold a token: see tests/it/api_tokens.rs.)
#[actix_web::test]
async fn the_scim_matrix_of_token_holders_and_targets() {
    // (target, PATCH active false, then DELETE with the default action)
    let expected: [(&str, u16, u16); 8] = [
        ("owner", 400, 400),
        ("self", 400, 400),
        ("admin", 400, 400),
        ("member", 200, 204),
        // Pending users read as active: false already: nothing to do (200);
        // a delete would deactivate them, which R2 refuses.
        ("pending", 200, 400),
        ("external", 200, 204),
        ("room", 200, 400),
        ("stranger", 404, 404),
    ];
    for holder in ["owner", "admin"] {
        let app = TestApp::new();
        let admin = app.user(UserSpec::admin("admin@acme.test"));
        let other_admin = app.user(UserSpec::admin("admin2@acme.test"));
        let (other, _) = app.other_account("boss@other.test");
        let targets = [
            ("owner", app.owner_id),
            ("self", if holder == "owner" { app.owner_id } else { admin }),
            ("admin", if holder == "owner" { admin } else { other_admin }),
            ("member", app.user(UserSpec::member("member@gmail.test"))),
            (
                "pending",
                app.user(UserSpec::member("pending@gmail.test").status("pending")),
            ),
            ("external", app.user(UserSpec::member("guest@acme.test").external())),
            ("room", app.user(UserSpec::member("room@gmail.test").room())),
            ("stranger", app.user_in(other, UserSpec::member("stranger@other.test"))),
        ];
        let token = {
            let mut conn = app.conn();
            let email = if holder == "owner" {
                "owner@acme.test"
            } else {
                "admin@acme.test"
            };
            let user = services::users::find_any_by_email(&mut conn, email).unwrap().unwrap();
            let by = api_tokens::actor_info(&mut conn, &user, Lang::En, false).unwrap();
            api_tokens::create(&mut conn, &by, "IdP", "scim", None, services::now())
                .unwrap()
                .token
        };
        for ((kind, id), (k, patched, deleted)) in targets.into_iter().zip(expected) {
            assert_eq!(kind, k);
            let before = app.load_user(id).unwrap().status;
            let a = patch(&app, id, &token, json!([{"op": "replace", "value": {"active": false}}])).await;
            assert_eq!(a.status.as_u16(), patched, "{holder} PATCH {kind}: {}", a.json);
            if patched != 200 || kind == "pending" {
                assert_eq!(
                    app.load_user(id).unwrap().status,
                    before,
                    "{holder} PATCH {kind} changed nothing"
                );
            }
            let a = send(
                &app,
                Method::DELETE,
                &format!("/scim/v2/Users/{id}"),
                Some(&token),
                None,
            )
            .await;
            assert_eq!(a.status.as_u16(), deleted, "{holder} DELETE {kind}: {}", a.json);
        }
    }
}
