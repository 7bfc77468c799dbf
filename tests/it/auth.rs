//! Sign-in, sign-out, sessions, CSRF and role refusals (R1, R11).

use actix_web::http::StatusCode;
use diesel::prelude::*;
use offboard::db::schema::users;

use crate::support::*;

#[actix_web::test]
async fn owner_signs_in_and_lands_on_users_page() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    let r = c.get("/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location").as_deref(), Some("/users"));
    let r = c.get("/users").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.emails().contains(&"owner@acme.test".to_string()));
}

#[actix_web::test]
async fn email_is_case_insensitive_at_sign_in() {
    let app = TestApp::new();
    let c = app.client();
    let r = c.sign_in("  Owner@ACME.test ", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::new();
    let c = app.client();
    let wrong = c.sign_in("owner@acme.test", "not the password").await;
    let unknown = c.sign_in("nobody@acme.test", PASSWORD).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(wrong.alert(), unknown.alert());
    assert_eq!(wrong.alert().as_deref(), Some("The email or password is not correct."));
    // Still signed out.
    assert_eq!(c.get("/users").await.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn deactivated_user_is_refused_with_a_deactivated_message() {
    let app = TestApp::new();
    app.user(UserSpec::member("gone@acme.test").status("deactivated"));
    let r = app.client().sign_in("gone@acme.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.alert().unwrap_or_default().contains("deactivated"), "{}", r.body);
}

#[actix_web::test]
async fn deactivated_user_with_wrong_password_learns_nothing() {
    let app = TestApp::new();
    app.user(UserSpec::member("gone@acme.test").status("deactivated"));
    let r = app.client().sign_in("gone@acme.test", "guess").await;
    assert_eq!(r.alert().as_deref(), Some("The email or password is not correct."));
}

#[actix_web::test]
async fn pending_user_is_refused_with_its_own_message() {
    let app = TestApp::new();
    app.user(UserSpec::member("new@acme.test").status("pending"));
    let r = app.client().sign_in("new@acme.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.alert().unwrap_or_default().contains("not activated"), "{}", r.body);
}

#[actix_web::test]
async fn member_sees_profile_and_is_refused_admin_pages() {
    let app = TestApp::new();
    app.user(UserSpec::member("m@acme.test"));
    let c = app.signed_in("m@acme.test").await;
    let r = c.get("/").await;
    assert_eq!(r.header("location").as_deref(), Some("/profile"));
    let r = c.get("/profile").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("m@acme.test"));
    assert!(
        !r.body.contains("href=\"/users\""),
        "members get no link to admin pages"
    );
    let r = c.get("/users").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.alert().is_some());
}

#[actix_web::test]
async fn admin_may_open_users_page() {
    let app = TestApp::new();
    app.user(UserSpec::admin("a@acme.test"));
    let c = app.signed_in("a@acme.test").await;
    assert_eq!(c.get("/users").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn signed_out_requests_go_to_sign_in() {
    let app = TestApp::new();
    let c = app.client();
    let r = c.get("/users").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location").as_deref(), Some("/login"));
    let r = c.htmx_get("/users").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("hx-redirect").as_deref(), Some("/login"));
}

#[actix_web::test]
async fn sign_out_ends_the_session() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let r = c.post("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/users").await.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn a_session_ends_when_the_user_is_deactivated() {
    let app = TestApp::new();
    let id = app.user(UserSpec::admin("a@acme.test"));
    let c = app.signed_in("a@acme.test").await;
    assert_eq!(c.get("/users").await.status, StatusCode::OK);
    diesel::update(users::table.find(id))
        .set(users::status.eq("deactivated"))
        .execute(&mut *app.conn())
        .unwrap();
    let r = c.get("/users").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "a deactivated user's next request is signed out"
    );
}

#[actix_web::test]
async fn state_changing_requests_without_csrf_token_are_refused() {
    let app = TestApp::new();
    let c = app.client();
    c.get("/login").await;
    let r = c
        .post_without_csrf("/login", &[("email", "owner@acme.test"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.alert().unwrap_or_default().contains("expired"));
    let c = app.signed_in("owner@acme.test").await;
    let r = c.post_without_csrf("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        c.get("/users").await.status,
        StatusCode::OK,
        "the refused sign-out changed nothing"
    );
    let r = c.post_without_csrf("/logout", &[("csrf", "forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn csrf_token_in_htmx_header_is_accepted() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let r = c.htmx_post("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn session_cookie_is_http_only_and_lax() {
    let app = TestApp::new();
    let c = app.client();
    let r = c.get("/login").await;
    let cookie = r.header("set-cookie").expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http on loopback: not Secure");
}

#[actix_web::test]
async fn bad_input_gets_clear_answers() {
    let app = TestApp::new();
    let c = app.client();
    let r = c.get("/no/such/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.alert().is_some());
    c.get("/login").await;
    let r = c.post("/login", &[("email", "owner@acme.test")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.alert().unwrap_or_default().contains("form"), "{}", r.body);
    let c = app.signed_in("owner@acme.test").await;
    let r = c.get("/users?status=bogus").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.alert().unwrap_or_default().contains("bogus"));
}
