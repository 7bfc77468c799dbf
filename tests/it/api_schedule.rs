//! `/v2/users/{userId}/schedule` (issue 17): plan and cancel through the
//! API, the plan on the user object, the same rules as the portal.

use actix_web::http::{Method, StatusCode};
use chrono::Duration;

use crate::api::{call, token};
use crate::support::*;

fn in_days(days: i64) -> String {
    (offboard::services::now() + Duration::days(days))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[actix_web::test]
async fn a_script_plans_reads_and_cancels_a_removal() {
    let app = TestApp::new();
    let leaver = app.user(UserSpec::member("leaver@acme.test"));
    app.user(UserSpec::member("heir@acme.test").licensed());
    let t = token(&app, "owner@acme.test", "user:read,user:write,user:delete");
    let at = in_days(3);
    let body =
        format!(r#"{{"action":"delete","at":"{at}","transfer_email":"heir@acme.test","transfer_meeting":true}}"#);
    let path = "/v2/users/leaver@acme.test/schedule";
    let r = call(&app, Method::PUT, path, Some(&t), Some(&body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.resp.body);
    assert_eq!(r.json["scheduled_at"], at.as_str());
    assert_eq!(r.json["scheduled_action"], "delete");
    let got = call(&app, Method::GET, &format!("/v2/users/{leaver}"), Some(&t), None).await;
    assert_eq!(got.json["scheduled_action"], "delete");
    let list = call(&app, Method::GET, "/v2/users", Some(&t), None).await;
    let listed = list.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "leaver@acme.test")
        .cloned();
    assert_eq!(listed.unwrap()["scheduled_at"], at.as_str());
    let audit: Vec<_> = app
        .audit()
        .into_iter()
        .filter(|e| e.action != "create_api_token")
        .collect();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].source.as_str()),
        ("schedule", "api")
    );
    assert_eq!(audit[0].transfer_to_email.as_deref(), Some("heir@acme.test"));
    let r = call(&app, Method::DELETE, path, Some(&t), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = call(&app, Method::DELETE, path, Some(&t), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no plan left");
    let got = call(&app, Method::GET, &format!("/v2/users/{leaver}"), Some(&t), None).await;
    assert!(got.json["scheduled_at"].is_null());
}

#[actix_web::test]
async fn bad_plans_are_refused_with_the_field_named_and_nothing_stored() {
    let app = TestApp::new();
    app.user(UserSpec::member("leaver@acme.test"));
    let t = token(&app, "owner@acme.test", "user:read,user:write");
    let path = "/v2/users/leaver@acme.test/schedule";
    let cases = [
        (r#"{"action":"deactivate"}"#, StatusCode::BAD_REQUEST),
        (r#"{"action":"vanish","at":"2030-01-01"}"#, StatusCode::BAD_REQUEST),
        (r#"{"action":"deactivate","at":"someday"}"#, StatusCode::BAD_REQUEST),
        (
            r#"{"action":"deactivate","at":"2020-01-01T00:00:00Z"}"#,
            StatusCode::BAD_REQUEST,
        ),
        (r#"{"action":"deactivate","at":5}"#, StatusCode::BAD_REQUEST),
        (r#"[]"#, StatusCode::BAD_REQUEST),
        // Deleting needs `user:delete`.
        (r#"{"action":"delete","at":"2030-01-01"}"#, StatusCode::FORBIDDEN),
    ];
    for (body, want) in cases {
        let r = call(&app, Method::PUT, path, Some(&t), Some(body)).await;
        assert_eq!(r.status, want, "{body}: {}", r.resp.body);
    }
    let owner = call(
        &app,
        Method::PUT,
        "/v2/users/owner@acme.test/schedule",
        Some(&t),
        Some(r#"{"action":"deactivate","at":"2030-01-01"}"#),
    )
    .await;
    assert_eq!(owner.status, StatusCode::BAD_REQUEST, "the owner, as now (R4)");
    assert!(app.audit().iter().all(|e| e.action == "create_api_token"));
    let doc = app.client().get("/v2/openapi.json").await;
    assert!(doc.body.contains("/v2/users/{userId}/schedule") && doc.body.contains("scheduled_at"));
}
