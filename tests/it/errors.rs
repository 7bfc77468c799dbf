//! Every 4xx the pages answer is the portal's own error page (or, for htmx,
//! only its alert), in the admin's language, with the right status, and
//! without actix's own words: bad ids in paths, unknown routes, wrong
//! methods, payloads over the limit, malformed uploads, queries and forms.

use actix_web::http::{Method, StatusCode};

use crate::support::*;

const NOT_FOUND_NL: &str = "Deze pagina bestaat niet.";
const METHOD_NL: &str = "Dit adres accepteert dit soort verzoek niet.";
const TOO_LARGE_NL: &str = "Wat je verstuurde, is te groot.";

/// The full error page, in Dutch.
fn assert_page(r: &Resp, status: StatusCode, text: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("text/html"), "{what}: content type {ct:?}");
    assert!(r.body.contains("<html lang=\"nl\">"), "{what}: {}", r.body);
    assert_eq!(r.alert().as_deref(), Some(text), "{what}: {}", r.body);
    for raw in [
        "deserialize",
        "duplicate field",
        "invalid digit",
        "boundary",
        "Payload",
        "overflow",
    ] {
        assert!(!r.body.contains(raw), "{what}: internal text {raw:?} in {}", r.body);
    }
}

/// What htmx swaps in: the alert alone.
fn assert_partial(r: &Resp, status: StatusCode, text: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("text/html"), "{what}: content type {ct:?}");
    assert!(!r.body.contains("<html"), "{what}: a whole page for htmx: {}", r.body);
    assert!(r.body.contains("role=\"alert\""), "{what}: {}", r.body);
    assert_eq!(r.alert().as_deref(), Some(text), "{what}");
}

async fn dutch_owner(app: &TestApp) -> Client<'_> {
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let r = c.post("/language", &[("lang", "nl")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    c.get("/users").await;
    c
}

#[actix_web::test]
async fn bad_ids_unknown_routes_and_wrong_methods_get_the_portal_page() {
    let app = TestApp::new();
    let c = dutch_owner(&app).await;
    for path in [
        "/import/jobs/abc",
        "/import/jobs/12abc/result.csv",
        "/users/abc/deactivate",
        "/no/such/page",
    ] {
        assert_page(&c.get(path).await, StatusCode::NOT_FOUND, NOT_FOUND_NL, path);
        assert_partial(&c.htmx_get(path).await, StatusCode::NOT_FOUND, NOT_FOUND_NL, path);
    }
    let r = c.post("/users/abc/deactivate", &[]).await;
    assert_page(&r, StatusCode::NOT_FOUND, NOT_FOUND_NL, "POST /users/abc/deactivate");
    let r = c.htmx_post("/import/jobs/abc/apply", &[]).await;
    assert_partial(
        &r,
        StatusCode::NOT_FOUND,
        NOT_FOUND_NL,
        "htmx POST /import/jobs/abc/apply",
    );
    // Wrong method on a path of ours.
    assert_page(
        &c.get("/logout").await,
        StatusCode::METHOD_NOT_ALLOWED,
        METHOD_NL,
        "GET /logout",
    );
    let token = c.csrf();
    let r = c
        .send(Method::PUT, "/users", None, &[("X-CSRF-Token", token.as_str())])
        .await;
    assert_page(&r, StatusCode::METHOD_NOT_ALLOWED, METHOD_NL, "PUT /users");
    let r = c
        .send(
            Method::DELETE,
            "/import",
            None,
            &[("X-CSRF-Token", token.as_str()), ("HX-Request", "true")],
        )
        .await;
    assert_partial(&r, StatusCode::METHOD_NOT_ALLOWED, METHOD_NL, "htmx DELETE /import");
}

#[actix_web::test]
async fn payloads_over_the_limit_get_413_on_the_portal_page() {
    let app = TestApp::new();
    let c = dutch_owner(&app).await;
    // Over the form limit (the form extractor), and over actix's payload
    // limit (read before the handler, by the CSRF check).
    for size in [100 * 1024, 300 * 1024] {
        let big = "x".repeat(size);
        let r = c.post("/language", &[("lang", "nl"), ("padding", &big)]).await;
        assert_page(
            &r,
            StatusCode::PAYLOAD_TOO_LARGE,
            TOO_LARGE_NL,
            &format!("{size} byte form"),
        );
        let r = c.htmx_post("/language", &[("lang", "nl"), ("padding", &big)]).await;
        assert_partial(
            &r,
            StatusCode::PAYLOAD_TOO_LARGE,
            TOO_LARGE_NL,
            &format!("htmx {size} byte form"),
        );
    }
}

#[actix_web::test]
async fn malformed_uploads_queries_and_forms_get_400_without_actix_words() {
    let app = TestApp::new();
    let c = dutch_owner(&app).await;
    let path = "/import".to_string();
    let cut_short = format!(
        "--xyz\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n\
         --xyz\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\ndeac",
        c.csrf()
    );
    for (content_type, body) in [
        ("multipart/form-data", b"no boundary at all".to_vec()),
        ("multipart/form-data; boundary=xyz", cut_short.into_bytes()),
    ] {
        let r = c
            .send_body(Method::POST, &path, Some((content_type.into(), body.clone())), &[])
            .await;
        assert_page(
            &r,
            StatusCode::BAD_REQUEST,
            "De upload kon niet worden gelezen.",
            content_type,
        );
        let r = c
            .send_body(
                Method::POST,
                &path,
                Some((content_type.into(), body)),
                &[("HX-Request", "true")],
            )
            .await;
        assert_partial(
            &r,
            StatusCode::BAD_REQUEST,
            "De upload kon niet worden gelezen.",
            content_type,
        );
    }
    let query = "/users?status=active&status=pending";
    assert_page(
        &c.get(query).await,
        StatusCode::BAD_REQUEST,
        "Het adres is onjuist.",
        query,
    );
    assert_partial(
        &c.htmx_get(query).await,
        StatusCode::BAD_REQUEST,
        "Het adres is onjuist.",
        query,
    );
    // A signed-out visitor who reads Dutch: Accept-Language decides.
    let anon = app.client();
    let nl = ("Accept-Language", "nl-NL,nl;q=0.9");
    anon.send(Method::GET, "/login", None, &[nl]).await;
    let token = anon.csrf();
    let form: &[(&str, &str)] = &[("csrf", &token), ("email", "owner@acme.test")];
    let r = anon.send(Method::POST, "/login", Some(form), &[nl]).await;
    assert_page(
        &r,
        StatusCode::BAD_REQUEST,
        "Het formulier kon niet worden gelezen.",
        "login without password",
    );
    let r = anon
        .send(Method::POST, "/login", Some(form), &[nl, ("HX-Request", "true")])
        .await;
    assert_partial(
        &r,
        StatusCode::BAD_REQUEST,
        "Het formulier kon niet worden gelezen.",
        "htmx login",
    );
    let r = anon.send(Method::GET, "/nowhere", None, &[nl]).await;
    assert_page(&r, StatusCode::NOT_FOUND, NOT_FOUND_NL, "signed out, unknown route");
}

#[actix_web::test]
async fn error_pages_show_the_request_id_the_header_carries() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    // A 404 of the router (answered inside the middleware) and one of a
    // handler (answered as an error the server turns into the page).
    for path in ["/no/such/page", "/users/999999/deactivate"] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        let id = r.header("x-request-id").expect("X-Request-Id");
        assert!(id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert_eq!(
            attr_values(&r.body, "data-request-id"),
            std::slice::from_ref(&id),
            "{path}"
        );
        assert!(r.body.contains(&format!("Request id: {id}")), "{}", r.body);
        // The message the user reads is unchanged.
        assert_eq!(r.alert().as_deref(), Some("This page does not exist."));
        // htmx gets the id inside the alert it swaps in, and every request its own.
        let h = c.htmx_get(path).await;
        let other = h.header("x-request-id").expect("X-Request-Id");
        assert_ne!(other, id);
        assert_eq!(attr_values(&h.body, "data-request-id"), [other]);
    }
    // Every answer carries one, not only errors.
    assert!(c.get("/users").await.header("x-request-id").is_some());
    // A missing static file is a 404 page too (it fell to 405 before).
    let r = c.get("/static/no-such.css").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.header("x-request-id").is_some());
}
