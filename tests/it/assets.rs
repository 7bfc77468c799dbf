//! The embedded stylesheet and scripts (issue 20): hashed names cached for a
//! year, gzip when accepted, the plain names briefly, nothing else.

use actix_web::http::{Method, StatusCode};

use crate::support::*;

#[actix_web::test]
async fn assets_come_from_the_binary_under_hashed_names() {
    let app = TestApp::new();
    let c = app.client();
    let css = offboard::web::assets::url("app.css");
    let r = c.send(Method::GET, &css, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert!(r.header("content-type").unwrap_or_default().starts_with("text/css"));
    assert!(r.body.contains("--accent"), "the stylesheet itself");
    let gz = c
        .send(Method::GET, &css, None, &[("Accept-Encoding", "gzip, br")])
        .await;
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(gz.header("vary").as_deref(), Some("Accept-Encoding"));
    let plain = c.send(Method::GET, "/static/app.js", None, &[]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header("cache-control").as_deref(), Some("public, max-age=300"));
    for missing in [
        "/static/app.0000000000.css",
        "/static/../Cargo.toml",
        "/static/nothing.js",
    ] {
        let r = c.send(Method::GET, missing, None, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{missing}");
    }
    // The sign-in page links the hashed names.
    let login = c.get("/login").await;
    assert!(login.body.contains(&css), "{}", login.body);
}
