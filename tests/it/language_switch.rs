//! The language switch sends the admin back to the page it was on, and only
//! ever to a page of this site, whatever the Referer says.

use actix_web::http::{Method, StatusCode};

use crate::support::*;

#[actix_web::test]
async fn the_switch_returns_to_pages_of_this_site_only() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let host = ("Host", "portal.example");
    for (referer, location) in [
        (
            "http://portal.example/users?q=anna&status=active",
            "/users?q=anna&status=active",
        ),
        ("http://portal.example/users/advanced#outbox", "/users/advanced"),
        ("https://evil.example/x", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http://evil.example@portal.example/", "/"),
        ("http://portal.example/%2F%2Fevil.example", "/"),
        ("http://portal.example//evil.example", "/"),
        ("http://portal.example/%09/evil.example", "/"),
    ] {
        let token = c.csrf();
        let form: &[(&str, &str)] = &[("csrf", &token), ("lang", "en")];
        let r = c
            .send(Method::POST, "/language", Some(form), &[host, ("Referer", referer)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{referer}");
        assert_eq!(r.header("location").as_deref(), Some(location), "{referer}");
    }
    let token = c.csrf();
    let form: &[(&str, &str)] = &[("csrf", &token), ("lang", "en")];
    let r = c.send(Method::POST, "/language", Some(form), &[host]).await;
    assert_eq!(r.header("location").as_deref(), Some("/"), "no Referer");
}
