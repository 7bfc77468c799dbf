//! The REST API under /v2 (issue 14): every endpoint, its refusal codes,
//! missing and insufficient scopes, JSON errors, paging and the rate limit.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::http::{Method, StatusCode};
use offboard::i18n::Lang;
use offboard::services::{self, api_tokens};
use serde_json::Value;

use crate::support::*;

static N: AtomicUsize = AtomicUsize::new(0);

/// A token of `email` with these scopes.
pub fn token(app: &TestApp, email: &str, scopes: &str) -> String {
    let mut conn = app.conn();
    let user = services::users::find_any_by_email(&mut conn, email).unwrap().unwrap();
    let by = api_tokens::actor_info(&mut conn, &user, Lang::En, false).unwrap();
    let name = format!("t{}", N.fetch_add(1, Ordering::SeqCst));
    api_tokens::create(&mut conn, &by, &name, scopes, None, services::now())
        .unwrap()
        .token
}

const ALL: &str = "user:read,user:write,user:delete";

pub struct Answer {
    pub status: StatusCode,
    pub json: Value,
    pub resp: Resp,
}

impl Answer {
    fn code(&self) -> i64 {
        self.json["code"].as_i64().unwrap_or(-1)
    }
}

pub async fn call(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<&str>) -> Answer {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let body = body.map(|b| ("application/json".to_string(), b.as_bytes().to_vec()));
    let resp = app.client().send_body(method, path, body, &headers).await;
    let json = serde_json::from_str(&resp.body).unwrap_or(Value::Null);
    if resp.status.is_client_error() || resp.status.is_server_error() {
        assert!(
            resp.header("content-type")
                .unwrap_or_default()
                .starts_with("application/json"),
            "{path}: {} {}",
            resp.status,
            resp.body
        );
        assert!(json["code"].is_number() && json["message"].is_string(), "{}", resp.body);
    }
    Answer {
        status: resp.status,
        json,
        resp,
    }
}

async fn get(app: &TestApp, path: &str, token: &str) -> Answer {
    call(app, Method::GET, path, Some(token), None).await
}

async fn put_status(app: &TestApp, user: &str, action: &str, token: &str) -> Answer {
    let body = format!("{{\"action\":\"{action}\"}}");
    call(
        app,
        Method::PUT,
        &format!("/v2/users/{user}/status"),
        Some(token),
        Some(&body),
    )
    .await
}

async fn delete(app: &TestApp, query: &str, token: &str) -> Answer {
    call(app, Method::DELETE, &format!("/v2/users/{query}"), Some(token), None).await
}

#[actix_web::test]
async fn tokens_missing_unknown_revoked_or_without_the_scope_are_refused() {
    let app = TestApp::new();
    app.user(UserSpec::member("m@acme.test"));
    let read = token(&app, "owner@acme.test", "user:read");
    for t in [None, Some("obt_nope"), Some("")] {
        let a = call(&app, Method::GET, "/v2/users", t, None).await;
        assert_eq!((a.status, a.code()), (StatusCode::UNAUTHORIZED, 124), "{t:?}");
        assert_eq!(a.json["message"], "Invalid access token.");
    }
    let a = put_status(&app, "m@acme.test", "deactivate", &read).await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, 4700));
    assert!(a.json["message"].as_str().unwrap().contains("user:write"));
    let a = delete(&app, "m@acme.test", &read).await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, 4700));
    assert!(a.json["message"].as_str().unwrap().contains("user:delete"));
    let a = call(
        &app,
        Method::POST,
        "/v2/roles/2/members",
        Some(&read),
        Some(r#"{"members":[{"email":"m@acme.test"}]}"#),
    )
    .await;
    assert_eq!(a.code(), 4700);
    // Revoked: 401.
    let id = api_tokens::list(&mut app.conn(), app.account_id, services::now()).unwrap()[0]
        .row
        .id;
    let by = api_tokens::actor_info(&mut app.conn(), &app.load_user(app.owner_id).unwrap(), Lang::En, false).unwrap();
    api_tokens::revoke(&mut app.conn(), &by, id, services::now()).unwrap();
    let a = get(&app, "/v2/users", &read).await;
    assert_eq!(a.code(), 124);
}

#[actix_web::test]
async fn list_users_pages_by_keyset_within_the_account_only() {
    let app = TestApp::new();
    for i in 0..7 {
        app.user(UserSpec::member(&format!("u{i}@acme.test")));
    }
    app.user(UserSpec::member("off@acme.test").status("deactivated"));
    app.user(UserSpec::member("new@acme.test").status("pending"));
    let (other_account, _) = app.other_account("boss@other.test");
    app.user_in(other_account, UserSpec::member("stranger@other.test"));
    let t = token(&app, "owner@acme.test", "user:read");
    let mut seen = Vec::new();
    let mut path = "/v2/users?page_size=3".to_string();
    loop {
        let a = get(&app, &path, &t).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.resp.body);
        assert_eq!(a.json["total_records"], 8);
        assert_eq!(a.json["page_size"], 3);
        for u in a.json["users"].as_array().unwrap() {
            assert_eq!(u["status"], "active");
            seen.push(u["email"].as_str().unwrap().to_string());
        }
        let next = a.json["next_page_token"].as_str().unwrap().to_string();
        if next.is_empty() {
            break;
        }
        path = format!("/v2/users?page_size=3&next_page_token={next}");
    }
    assert_eq!(seen.len(), 8);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert!(!seen.iter().any(|e| e.contains("other.test")));
    let a = get(&app, "/v2/users?status=inactive", &t).await;
    assert_eq!(a.json["users"][0]["email"], "off@acme.test");
    assert_eq!(a.json["users"][0]["status"], "inactive");
    let a = get(&app, "/v2/users?status=pending", &t).await;
    assert_eq!(a.json["total_records"], 1);
    let a = get(&app, "/v2/users?role_id=0", &t).await;
    assert_eq!(a.json["users"][0]["role_id"], "0");
    assert_eq!(a.json["users"][0]["type"], 2);

    // Bad paging input: 400 naming the field, never another account's rows.
    for bad in [
        "page_size=0",
        "page_size=2001",
        "page_size=x",
        "status=gone",
        "role_id=9",
    ] {
        let a = get(&app, &format!("/v2/users?{bad}"), &t).await;
        assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, 300), "{bad}");
        assert_eq!(a.json["errors"][0]["field"], bad.split('=').next().unwrap());
    }
    let first = get(&app, "/v2/users?page_size=2", &t).await;
    let cursor = first.json["next_page_token"].as_str().unwrap().to_string();
    // Another query, another account's token, a forged cursor: 400.
    let a = get(&app, &format!("/v2/users?status=inactive&next_page_token={cursor}"), &t).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let other = token(&app, "boss@other.test", "user:read");
    let a = get(&app, &format!("/v2/users?next_page_token={cursor}"), &other).await;
    assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, 300));
    let a = get(&app, "/v2/users?next_page_token=616263.00", &t).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn get_user_by_id_or_email_and_never_another_accounts() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("m@acme.test"));
    let (other_account, _) = app.other_account("boss@other.test");
    let stranger = app.user_in(other_account, UserSpec::member("stranger@other.test"));
    let t = token(&app, "owner@acme.test", "user:read");
    let a = get(&app, &format!("/v2/users/{id}"), &t).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json["email"], "m@acme.test");
    assert_eq!(a.json["role_id"], "2");
    let a = get(&app, "/v2/users/M@acme.test", &t).await;
    assert_eq!(a.json["id"], id.to_string());
    for key in [
        stranger.to_string(),
        "stranger@other.test".into(),
        "nobody@acme.test".into(),
        "x".into(),
    ] {
        let a = get(&app, &format!("/v2/users/{key}"), &t).await;
        assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, 1001), "{key}");
        assert_eq!(a.json["message"], format!("User does not exist: {key}."));
    }
}

#[actix_web::test]
async fn status_goes_through_the_portal_rules_and_repeating_it_writes_nothing() {
    let app = TestApp::new();
    let m = app.user(UserSpec::member("m@acme.test"));
    app.user(UserSpec::admin("admin@acme.test"));
    app.user(UserSpec::member("new@acme.test").status("pending"));
    let t = token(&app, "admin@acme.test", "user:write");
    let a = put_status(&app, "m@acme.test", "deactivate", &t).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.resp.body);
    assert_eq!(a.json["status"], "inactive");
    assert_eq!(app.load_user(m).unwrap().status.as_str(), "deactivated");
    let audit = app.audit();
    let last = audit.last().unwrap();
    assert_eq!(last.action, "deactivate");
    assert_eq!(last.source, "api");
    assert!(last.actor_email.starts_with("API token t") && last.actor_email.ends_with("(by admin@acme.test)"));
    // Again: 200, nothing written.
    let a = put_status(&app, &m.to_string(), "deactivate", &t).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(app.audit().len(), audit.len());
    let a = put_status(&app, "m@acme.test", "activate", &t).await;
    assert_eq!(a.json["status"], "active");
    let a = put_status(&app, "m@acme.test", "activate", &t).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(app.audit().len(), audit.len() + 1);

    for (who, code) in [
        ("owner@acme.test", 200),
        ("admin@acme.test", 200),
        ("new@acme.test", 1120),
    ] {
        let a = put_status(&app, who, "deactivate", &t).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::BAD_REQUEST, code),
            "{who}: {}",
            a.resp.body
        );
    }
    let a = put_status(&app, "m@acme.test", "clock_in", &t).await;
    assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, 300));
    assert_eq!(a.json["errors"][0]["field"], "action");
    let a = call(
        &app,
        Method::PUT,
        "/v2/users/m@acme.test/status",
        Some(&t),
        Some("{not json"),
    )
    .await;
    assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, 300));
    let a = put_status(&app, "ghost@acme.test", "deactivate", &t).await;
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, 1001));
}

#[actix_web::test]
async fn delete_and_disassociate_answer_each_refusal_with_its_code() {
    let app = TestApp::new();
    app.user(UserSpec::admin("admin@acme.test"));
    let m = app.user(UserSpec::member("m@acme.test"));
    app.user(UserSpec::member("guest@elsewhere.test"));
    app.user(UserSpec::member("room@acme.test").room());
    app.user(UserSpec::member("new@acme.test").status("pending"));
    let t = token(&app, "owner@acme.test", "user:delete");
    for (query, code) in [
        ("admin@acme.test", 1117),
        ("admin@acme.test?action=delete", 200),
        ("m@acme.test?action=disassociate", 1107),
        ("room@acme.test?action=delete", 200),
        ("new@acme.test?action=delete", 1120),
        ("owner@acme.test?action=delete", 200),
        (
            "m@acme.test?action=delete&transfer_email=m@acme.test&transfer_meeting=true",
            300,
        ),
        ("m@acme.test?action=delete&transfer_meeting=true", 300),
        (
            "m@acme.test?action=delete&transfer_email=nobody@acme.test&transfer_meeting=true",
            300,
        ),
        ("m@acme.test?action=erase", 300),
        ("m@acme.test?action=delete&transfer_meeting=yes", 300),
    ] {
        let a = delete(&app, query, &t).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::BAD_REQUEST, code),
            "{query}: {}",
            a.resp.body
        );
    }
    let a = delete(&app, "guest@elsewhere.test", &t).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.resp.body);
    assert_eq!(app.audit().last().unwrap().action, "unlink");
    let a = delete(
        &app,
        &format!("{m}?action=delete&transfer_email=owner@acme.test&transfer_meeting=true"),
        &t,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.resp.body);
    assert!(app.load_user(m).is_none());
    let last = app.audit().pop().unwrap();
    assert_eq!((last.action.as_str(), last.source.as_str()), ("delete", "api"));
    let a = delete(&app, &m.to_string(), &t).await;
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, 1001));
}

#[actix_web::test]
async fn roles_list_and_members_follow_edit_user() {
    let app = TestApp::new();
    let helpdesk = app.custom_role("Helpdesk", &["users:bulk_remove"]);
    let m = app.user(UserSpec::member("m@acme.test"));
    app.user(UserSpec::admin("admin@acme.test"));
    let owner = token(&app, "owner@acme.test", "user:read,user:write");
    let a = get(&app, "/v2/roles", &owner).await;
    assert_eq!(a.status, StatusCode::OK);
    let ids: Vec<&str> = a.json["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["0", "1", "2", &format!("c{helpdesk}")]);
    assert_eq!(a.json["roles"][2]["total_members"], 1);

    // An admin may not make admins (R3): 403 code 4711, nothing changed.
    let admin = token(&app, "admin@acme.test", "user:write");
    let body = r#"{"members":[{"email":"m@acme.test"}]}"#;
    let a = call(&app, Method::POST, "/v2/roles/1/members", Some(&admin), Some(body)).await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, 4711), "{}", a.resp.body);
    assert!(a.json["message"].as_str().unwrap().starts_with("m@acme.test: "));
    // The owner may, and gives a custom role.
    let body = format!(r#"{{"members":[{{"id":"{m}"}}]}}"#);
    let a = call(
        &app,
        Method::POST,
        &format!("/v2/roles/c{helpdesk}/members"),
        Some(&owner),
        Some(&body),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.resp.body);
    let u = app.load_user(m).unwrap();
    assert_eq!((u.role.as_str(), u.custom_role_id), ("admin", Some(helpdesk)));
    let a = get(&app, &format!("/v2/users/{m}"), &owner).await;
    assert_eq!(a.json["role_id"], format!("c{helpdesk}"));
    assert_eq!(a.json["role_name"], "Helpdesk");
    let a = call(&app, Method::POST, "/v2/roles/2/members", Some(&owner), Some(&body)).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(app.load_user(m).unwrap().role.as_str(), "member");
    let a = call(&app, Method::POST, "/v2/roles/0/members", Some(&owner), Some(&body)).await;
    assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, 200));
    let a = call(&app, Method::POST, "/v2/roles/c999/members", Some(&owner), Some(&body)).await;
    assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, 1034));
    let many = format!(r#"{{"members":[{}]}}"#, vec![r#"{"id":"1"}"#; 31].join(","));
    let a = call(&app, Method::POST, "/v2/roles/2/members", Some(&owner), Some(&many)).await;
    assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, 300));
    let a = call(
        &app,
        Method::POST,
        "/v2/roles/2/members",
        Some(&owner),
        Some(r#"{"members":[{"email":"x@nowhere.test"}]}"#),
    )
    .await;
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, 1001));
}

#[actix_web::test]
async fn errors_under_v2_are_json_and_messages_speak_the_creators_language() {
    let mut app = TestApp::new();
    let t = token(&app, "owner@acme.test", ALL);
    let a = get(&app, "/v2/nothing", &t).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = call(&app, Method::PATCH, "/v2/users", Some(&t), None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.resp.header("allow").as_deref(), Some("GET"));
    let a = call(&app, Method::POST, "/v2/roles/2/members", Some(&t), Some("[")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = get(&app, "/v2/users?page_size=%ZZ", &t).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);

    // The creator reads Dutch: so do the token's errors.
    {
        use diesel::prelude::*;
        use offboard::db::schema::users;
        diesel::update(users::table.find(app.owner_id))
            .set(users::language.eq(Some("nl")))
            .execute(&mut *app.conn())
            .unwrap();
    }
    let a = put_status(&app, "owner@acme.test", "deactivate", &t).await;
    assert_eq!(a.code(), 200);
    assert_eq!(a.json["message"], offboard::i18n::tr(Lang::Nl, "refusal-owner"));

    // The rate: a request over it is refused with Retry-After.
    // One a second, and enough requests that a loaded machine still sends two in one.
    app.state.api_rate = std::sync::Arc::new(offboard::web::api::RateLimiter::new(1));
    let mut limited = None;
    for _ in 0..50 {
        let a = get(&app, "/v2/roles", &t).await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(a);
            break;
        }
    }
    let a = limited.expect("429");
    assert_eq!(a.code(), 429);
    assert_eq!(a.resp.header("retry-after").as_deref(), Some("1"));
}

#[actix_web::test]
async fn the_openapi_document_lists_every_operation_and_the_bearer_scheme() {
    let app = TestApp::new();
    let a = call(&app, Method::GET, "/v2/openapi.json", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method) in [
        ("/v2/users", "get"),
        ("/v2/users/{userId}", "get"),
        ("/v2/users/{userId}", "delete"),
        ("/v2/users/{userId}/status", "put"),
        ("/v2/roles", "get"),
        ("/v2/roles/{roleId}/members", "post"),
    ] {
        assert!(a.json["paths"][path][method].is_object(), "{method} {path}");
    }
    assert_eq!(a.json["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let description = a.json["info"]["description"].as_str().unwrap();
    assert!(description.contains("| 400 | 1117 | R3 |"), "{description}");
}

/// The API's row of the authorisation matrix: a token of the owner or of an
/// admin, each act, each kind of target; one exact (status, code) each,
/// the same as the portal's rules decide. Another account's user is 404.
#[actix_web::test]
async fn matrix_of_token_holder_act_and_target() {
    const TARGETS: [&str; 8] = [
        "owner", "self", "admin", "member", "pending", "external", "room", "stranger",
    ];
    let expected = |act: &str, target: &str| -> (u16, i64) {
        match (act, target) {
            (_, "stranger") => (404, 1001),
            (_, "owner" | "self") => (400, 200),
            (_, "pending") => (400, 1120),
            ("disassociate", "admin") => (400, 1117),
            (_, "admin") => (400, 200),
            ("delete", "room") => (400, 200),
            ("deactivate", _) => (200, -1),
            _ => (204, -1),
        }
    };
    for holder in ["owner@acme.test", "admin@acme.test"] {
        for act in ["deactivate", "disassociate", "delete"] {
            for target in TARGETS {
                let app = TestApp::new();
                let admin = app.user(UserSpec::admin("admin@acme.test"));
                let other_admin = app.user(UserSpec::admin("admin2@acme.test"));
                let ids = [
                    ("owner", app.owner_id),
                    (
                        "self",
                        if holder.starts_with("owner") {
                            app.owner_id
                        } else {
                            admin
                        },
                    ),
                    ("admin", other_admin),
                    ("member", app.user(UserSpec::member("member@gmail.test"))),
                    (
                        "pending",
                        app.user(UserSpec::member("pending@gmail.test").status("pending")),
                    ),
                    ("external", app.user(UserSpec::member("guest@acme.test").external())),
                    ("room", app.user(UserSpec::member("room@gmail.test").room())),
                    ("stranger", {
                        let (other, _) = app.other_account("boss@other.test");
                        app.user_in(other, UserSpec::member("stranger@other.test"))
                    }),
                ];
                let id = ids.iter().find(|(k, _)| *k == target).unwrap().1;
                let t = token(&app, holder, ALL);
                let before = app.audit().len();
                let a = match act {
                    "deactivate" => put_status(&app, &id.to_string(), "deactivate", &t).await,
                    _ => delete(&app, &format!("{id}?action={act}"), &t).await,
                };
                let want = expected(act, target);
                let got = (a.status.as_u16(), if a.status.is_success() { -1 } else { a.code() });
                assert_eq!(got, want, "{holder} {act} {target}: {}", a.resp.body);
                let written = app.audit().len() - before;
                assert_eq!(written, usize::from(a.status.is_success()), "{holder} {act} {target}");
            }
        }
    }
}

fn multipart(fields: &[(&str, &str)], file: Option<&str>) -> (String, Vec<u8>) {
    let boundary = "----api-test-boundary";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    if let Some(f) = file {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"users.csv\"\r\nContent-Type: text/csv\r\n\r\n{f}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body.into_bytes())
}

async fn upload(app: &TestApp, token: &str, fields: &[(&str, &str)], file: Option<&str>) -> Answer {
    let auth = format!("Bearer {token}");
    let resp = app
        .client()
        .send_body(
            Method::POST,
            "/v2/imports",
            Some(multipart(fields, file)),
            &[("Authorization", &auth)],
        )
        .await;
    Answer {
        status: resp.status,
        json: serde_json::from_str(&resp.body).unwrap_or(Value::Null),
        resp,
    }
}

#[actix_web::test]
async fn imports_validate_apply_and_report_through_the_api() {
    let app = TestApp::new();
    let a1 = app.user(UserSpec::member("a1@gmail.test"));
    app.user(UserSpec::admin("admin@acme.test"));
    let t = token(&app, "owner@acme.test", "import");
    let csv = "Email\r\na1@gmail.test\r\nadmin@acme.test\r\na1@gmail.test\r\n";
    let a = upload(&app, &t, &[("action", "deactivate")], Some(csv)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.resp.body);
    assert_eq!(a.json["state"], "validated");
    let outcomes: Vec<&str> = a.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["ok", "refused", "duplicate"], "{}", a.resp.body);
    let id = a.json["id"].as_str().unwrap().to_string();
    let a = call(&app, Method::POST, &format!("/v2/imports/{id}/apply"), Some(&t), None).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.resp.body);
    services::import::run_to_end(&mut app.conn(), id.parse().unwrap()).unwrap();
    let a = get(&app, &format!("/v2/imports/{id}?page_size=1"), &t).await;
    assert_eq!(
        (a.json["state"].as_str(), a.json["done"].as_i64()),
        (Some("done"), Some(1)),
        "{}",
        a.resp.body
    );
    assert_eq!(a.json["rows"].as_array().unwrap().len(), 1);
    assert_eq!(a.json["next_after_line"], 2);
    assert_eq!(app.load_user(a1).unwrap().status.as_str(), "deactivated");
    let a = get(&app, &format!("/v2/imports/{id}/result.csv"), &t).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.resp.body.contains("a1@gmail.test"));

    // Without the scope, without the bulk privilege, without an action, another account's job.
    let read = token(&app, "owner@acme.test", "user:read");
    assert_eq!(
        upload(&app, &read, &[("action", "deactivate")], Some(csv)).await.json["code"],
        4700
    );
    let admin = token(&app, "admin@acme.test", "import");
    let a = upload(&app, &admin, &[("action", "deactivate")], Some(csv)).await;
    assert_eq!(
        (a.status, a.json["code"].as_i64()),
        (StatusCode::FORBIDDEN, Some(4711)),
        "{}",
        a.resp.body
    );
    let a = upload(&app, &t, &[], Some(csv)).await;
    assert_eq!(
        (a.status, a.json["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("action"))
    );
    app.other_account("boss@other.test");
    let other = token(&app, "boss@other.test", "import");
    let a = get(&app, &format!("/v2/imports/{id}"), &other).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = call(&app, Method::POST, "/v2/imports", Some(&t), Some("{}")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}
