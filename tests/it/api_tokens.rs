//! The API page and the token services (issue 14).

use actix_web::http::StatusCode;
use offboard::services::{self, api_tokens};

use crate::support::*;

fn token_in(body: &str) -> String {
    let start = body.find("data-token>").expect("token shown") + "data-token>".len();
    body[start..start + body[start..].find('<').unwrap()].to_string()
}

fn authenticate(app: &TestApp, token: &str) -> Option<api_tokens::Caller> {
    api_tokens::authenticate(&mut app.conn(), token, services::now()).unwrap()
}

#[actix_web::test]
async fn the_owner_creates_a_token_shown_once_and_revokes_it() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    let r = c.get("/users").await;
    assert!(r.body.contains("href=\"/api-tokens\""), "nav link");
    let r = c.get("/api-tokens").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c
        .post(
            "/api-tokens",
            &[
                ("name", "HR sync"),
                ("scope", "user:read"),
                ("scope", "user:write"),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = token_in(&r.body);
    assert!(token.starts_with("obt_") && token.len() == 68, "{token}");
    let caller = authenticate(&app, &token).expect("token works");
    assert_eq!(caller.name, "HR sync");
    assert_eq!(caller.by.email, "API token HR sync (by owner@acme.test)");
    // Shown once: the list has only the last 4 characters.
    let r = c.get("/api-tokens").await;
    assert!(!r.body.contains(&token) && r.body.contains(&token[64..]), "{}", r.body);
    assert!(r.body.contains("user:read, user:write"));
    // The same live name twice is refused.
    let r = c
        .post("/api-tokens", &[("name", "HR sync"), ("scope", "user:read")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c
        .post("/api-tokens", &[("name", "x"), ("scope", "user:read"), ("days", "366")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let id = api_tokens::list(&mut app.conn(), app.account_id, services::now()).unwrap()[0]
        .row
        .id;
    let r = c.post(&format!("/api-tokens/{id}/revoke"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(authenticate(&app, &token).is_none(), "revoked");
    let actions: Vec<String> = app.audit().into_iter().map(|e| e.action).collect();
    assert_eq!(actions.iter().filter(|a| *a == "create_api_token").count(), 1);
    assert_eq!(actions.iter().filter(|a| *a == "revoke_api_token").count(), 1);
}

#[actix_web::test]
async fn who_manages_tokens() {
    let app = TestApp::new();
    let plain = app.custom_role("Plain", &[]);
    let keeper = app.custom_role("Keeper", &["api:tokens"]);
    app.user(UserSpec::admin("admin@acme.test"));
    app.user(UserSpec::admin("plain@acme.test").custom_role(plain));
    app.user(UserSpec::admin("keeper@acme.test").custom_role(keeper));
    app.user(UserSpec::member("member@acme.test"));
    for (email, allowed) in [
        ("admin@acme.test", true),
        ("keeper@acme.test", true),
        ("plain@acme.test", false),
        ("member@acme.test", false),
    ] {
        let c = app.signed_in(email).await;
        let r = c.get("/api-tokens").await;
        let want = if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN };
        assert_eq!(r.status, want, "{email}");
        let r = c.get("/users").await;
        assert_eq!(r.body.contains("href=\"/api-tokens\""), allowed, "{email}: nav link");
        let r = c.post("/api-tokens", &[("name", email), ("scope", "user:read")]).await;
        let want = if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN };
        assert_eq!(r.status, want, "{email}: {}", r.body);
    }
}

#[actix_web::test]
async fn a_token_stops_when_its_creator_cannot_use_it_and_the_owner_reissues_it() {
    let app = TestApp::new();
    let admin = app.user(UserSpec::admin("admin@acme.test"));
    let c = app.signed_in("admin@acme.test").await;
    let r = c
        .post("/api-tokens", &[("name", "Payroll"), ("scope", "user:delete")])
        .await;
    let token = token_in(&r.body);
    assert!(authenticate(&app, &token).is_some());
    // Demoted to member: the token stops, and the page says why.
    let by = api_tokens::actor_info(
        &mut app.conn(),
        &app.load_user(app.owner_id).unwrap(),
        Default::default(),
        false,
    )
    .unwrap();
    services::user_actions::change_role(
        &mut app.conn(),
        &by,
        admin,
        offboard::domain::Role::Member,
        services::now(),
    )
    .unwrap();
    assert!(authenticate(&app, &token).is_none());
    let owner = app.signed_in("owner@acme.test").await;
    let r = owner.get("/api-tokens").await;
    assert!(r.body.contains("The creator can no longer use it"), "{}", r.body);
    let id = api_tokens::list(&mut app.conn(), app.account_id, services::now()).unwrap()[0]
        .row
        .id;
    let r = owner.post(&format!("/api-tokens/{id}/reissue"), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let new = token_in(&r.body);
    let caller = authenticate(&app, &new).expect("re-issued token works");
    assert_eq!(caller.name, "Payroll");
    assert_eq!(caller.by.actor.id, app.owner_id);
    assert!(authenticate(&app, &token).is_none());
}

#[actix_web::test]
async fn the_owners_get_one_mail_two_weeks_before_a_token_expires() {
    use diesel::prelude::*;
    use offboard::db::schema::mail_outbox;
    let app = TestApp::new();
    app.user(UserSpec::admin("admin@acme.test"));
    let mut conn = app.conn();
    let admin = services::users::find_any_by_email(&mut conn, "admin@acme.test")
        .unwrap()
        .unwrap();
    let by = api_tokens::actor_info(&mut conn, &admin, Default::default(), false).unwrap();
    let now = services::now();
    api_tokens::create(&mut conn, &by, "Soon", "user:read", Some(10), now).unwrap();
    api_tokens::create(&mut conn, &by, "Later", "user:read", Some(90), now).unwrap();
    assert_eq!(api_tokens::queue_expiry_warnings(&mut conn, now).unwrap(), 1);
    assert_eq!(api_tokens::queue_expiry_warnings(&mut conn, now).unwrap(), 0, "once");
    let mails: Vec<(String, String)> = mail_outbox::table
        .select((mail_outbox::to_email, mail_outbox::subject))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].0, "owner@acme.test");
    assert!(mails[0].1.starts_with("API token Soon expires on "), "{}", mails[0].1);
}
