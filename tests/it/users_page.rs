//! The Users page: listing, search, status filter, keyset paging, htmx partials.

use actix_web::http::StatusCode;

use crate::support::*;

#[actix_web::test]
async fn lists_every_user_of_the_account_with_contract_attributes() {
    let app = TestApp::new();
    app.user(UserSpec::member("active@acme.test"));
    app.user(UserSpec::member("pending@acme.test").status("pending"));
    app.user(UserSpec::member("off@acme.test").status("deactivated"));
    let (_, _) = app.other_account("boss@other.test");
    let c = app.signed_in("owner@acme.test").await;
    let r = c.get("/users").await;
    assert_eq!(r.status, StatusCode::OK);
    let mut emails = r.emails();
    emails.sort();
    assert_eq!(
        emails,
        [
            "active@acme.test",
            "off@acme.test",
            "owner@acme.test",
            "pending@acme.test"
        ]
    );
    assert_eq!(
        attr_values(&r.body, "name").iter().filter(|n| *n == "user_ids").count(),
        4
    );
    let bulk = attr_values(&r.body, "data-bulk-action");
    assert_eq!(bulk, ["deactivate", "unlink", "delete", "schedule"]);
    assert!(r.body.contains("id=\"select-all\""));
    // The More menu offers what the rules allow: nothing on the owner's own row.
    let actions = attr_values(&r.body, "data-action");
    assert!(actions.contains(&"deactivate".to_string()));
    assert!(actions.contains(&"activate".to_string()));
    assert!(actions.contains(&"delete".to_string()));
    assert!(actions.contains(&"edit".to_string()));
    assert!(
        r.body.contains(&offboard::web::assets::url("htmx.min.js")),
        "the vendored htmx, by its hashed name"
    );
}

#[actix_web::test]
async fn search_matches_email_first_and_last_name_prefixes_case_insensitively() {
    let app = TestApp::new();
    app.named("jan.devries@acme.test", "Jan", "de Vries");
    app.named("siti@acme.test", "Siti", "Rahayu");
    app.named("bob@acme.test", "Robert", "Janssen");
    let c = app.signed_in("owner@acme.test").await;
    let sorted = |r: Resp| {
        let mut e = r.emails();
        e.sort();
        e
    };
    assert_eq!(sorted(c.get("/users?q=SITI").await), ["siti@acme.test"]);
    assert_eq!(
        sorted(c.get("/users?q=jan").await),
        ["bob@acme.test", "jan.devries@acme.test"]
    );
    assert_eq!(sorted(c.get("/users?q=rah").await), ["siti@acme.test"]);
    assert_eq!(sorted(c.get("/users?q=bob%40").await), ["bob@acme.test"]);
    assert_eq!(sorted(c.get("/users?q=jan+de").await), ["jan.devries@acme.test"]);
    assert!(c.get("/users?q=zzz").await.emails().is_empty());
    // Not a substring search: "vries" is not a prefix of anything.
    assert!(c.get("/users?q=vries").await.emails().is_empty());
}

#[actix_web::test]
async fn status_filter_shows_only_that_status() {
    let app = TestApp::new();
    app.user(UserSpec::member("a1@acme.test"));
    app.user(UserSpec::member("p1@acme.test").status("pending"));
    app.user(UserSpec::member("d1@acme.test").status("deactivated"));
    app.user(UserSpec::member("d2@acme.test").status("deactivated"));
    let c = app.signed_in("owner@acme.test").await;
    assert_eq!(
        c.get("/users?status=deactivated").await.emails(),
        ["d1@acme.test", "d2@acme.test"]
    );
    assert_eq!(c.get("/users?status=pending").await.emails(), ["p1@acme.test"]);
    assert_eq!(
        c.get("/users?status=active").await.emails(),
        ["a1@acme.test", "owner@acme.test"]
    );
    assert_eq!(c.get("/users?status=deactivated&q=d2").await.emails(), ["d2@acme.test"]);
}

#[actix_web::test]
async fn pages_of_fifty_follow_rel_next_without_gaps_or_repeats() {
    let app = TestApp::new();
    for i in 0..120 {
        app.user(UserSpec::member(&format!("user{i:03}@acme.test")));
    }
    let c = app.signed_in("owner@acme.test").await;
    let mut seen = Vec::new();
    let mut url = "/users".to_string();
    let mut pages = 0;
    loop {
        let r = c.get(&url).await;
        assert_eq!(r.status, StatusCode::OK);
        let emails = r.emails();
        assert!(emails.len() <= 50);
        seen.extend(emails);
        pages += 1;
        match next_href(&r.body) {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 121);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "ordered by email, no repeats");
}

#[actix_web::test]
async fn paging_keeps_search_and_filter() {
    let app = TestApp::new();
    for i in 0..60 {
        app.user(UserSpec::member(&format!("x{i:02}@acme.test")).status("deactivated"));
        app.user(UserSpec::member(&format!("y{i:02}@acme.test")).status("deactivated"));
    }
    let c = app.signed_in("owner@acme.test").await;
    let r = c.get("/users?q=x&status=deactivated").await;
    assert_eq!(r.emails().len(), 50);
    let next = next_href(&r.body).expect("next");
    assert!(next.contains("q=x") && next.contains("status=deactivated"), "{next}");
    let r = c.get(&next).await;
    assert_eq!(r.emails().len(), 10);
    assert!(r.emails().iter().all(|e| e.starts_with('x')));
    assert!(next_href(&r.body).is_none());
}

#[actix_web::test]
async fn htmx_gets_the_table_partial_and_the_address_bar_the_page() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    let full = c.get("/users?q=own").await;
    assert!(full.body.contains("<html"));
    let part = c.htmx_get("/users?q=own").await;
    assert_eq!(part.status, StatusCode::OK);
    assert!(!part.body.contains("<html"));
    assert_eq!(part.emails(), ["owner@acme.test"]);
}

/// The count beside a search is the number of users listed: a user whose
/// email and first name both match counts once, other accounts never (on
/// PostgreSQL it is a union of three index ranges, on SQLite an OR).
#[actix_web::test]
async fn a_search_counts_each_matching_user_once() {
    let app = TestApp::new();
    app.named("zedcount@acme.test", "Zedcount", "Both");
    app.named("a1@acme.test", "Zedcounter", "First");
    app.named("b1@acme.test", "Last", "Zedcountson");
    app.named("c1@acme.test", "Anna", "Neither");
    let (other, _) = app.other_account("boss@other.test");
    app.user_in(other, UserSpec::member("zedcount.other@other.test"));
    let c = app.signed_in("owner@acme.test").await;
    let page = c.get("/users?q=zedcount").await;
    assert_eq!(page.emails().len(), 3, "{}", page.body);
    assert!(page.body.contains("Showing 1-3 of 3"), "{}", page.body);
    let tab = c.get("/users?q=zedcount&status=active").await;
    assert!(tab.body.contains("Showing 1-3 of 3"), "{}", tab.body);
}

#[actix_web::test]
async fn users_of_another_account_are_never_listed() {
    let app = TestApp::new();
    let (other, _) = app.other_account("boss@other.test");
    app.user_in(other, UserSpec::member("stranger@other.test"));
    let c = app.signed_in("owner@acme.test").await;
    assert!(c.get("/users?q=stranger").await.emails().is_empty());
    assert!(!c.get("/users").await.body.contains("other.test"));
}

#[actix_web::test]
async fn admin_without_bulk_privilege_sees_bulk_buttons_disabled() {
    let app = TestApp::new();
    app.user(UserSpec::admin("a@acme.test"));
    let c = app.signed_in("a@acme.test").await;
    let r = c.get("/users").await;
    assert!(
        r.body.contains("data-bulk-action=\"deactivate\" disabled"),
        "{}",
        r.body
    );
    let owner = app.signed_in("owner@acme.test").await;
    assert!(!owner
        .get("/users")
        .await
        .body
        .contains("data-bulk-action=\"deactivate\" disabled"));
}

#[actix_web::test]
async fn names_and_emails_are_shown_inert() {
    let app = TestApp::new();
    app.named(
        "x@acme.test",
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
    );
    let c = app.signed_in("owner@acme.test").await;
    let r = c.get("/users").await;
    assert!(!r.body.contains("<script>alert"));
    assert!(!r.body.contains("<img src=x"));
    assert!(
        r.body.contains("&lt;script&gt;") || r.body.contains("&#60;script&#62;"),
        "escaped, not dropped"
    );
}

#[actix_web::test]
async fn responses_carry_security_headers() {
    let app = TestApp::new();
    let r = app.client().get("/login").await;
    assert!(r
        .header("content-security-policy")
        .unwrap_or_default()
        .contains("frame-ancestors 'none'"));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
}

#[actix_web::test]
async fn htmx_is_served_from_the_app() {
    let app = TestApp::new();
    let r = app.client().get("/static/htmx.min.js").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with("var htmx="));
}

fn next_href(body: &str) -> Option<String> {
    let i = body.find("rel=\"next\"")?;
    let tag_start = body[..i].rfind("<a ")?;
    let tag = &body[tag_start..];
    attr_values(tag, "href").into_iter().next()
}

/// The numbers of the status tabs, and what each tab lists.
async fn tabs_and_lists(c: &Client<'_>) -> Vec<(String, i64, usize)> {
    let page = c.get("/users").await;
    let keys = attr_values(&page.body, "data-status-tab");
    let counts = attr_values(&page.body, "data-count");
    let mut out = Vec::new();
    for (key, n) in keys.iter().zip(counts.iter()) {
        let path = if key == "all" {
            "/users".to_string()
        } else {
            format!("/users?status={key}")
        };
        let listed = c.get(&path).await.emails().len();
        out.push((key.clone(), n.parse().expect("count"), listed));
    }
    out
}

#[actix_web::test]
async fn the_status_tabs_count_what_they_list_after_every_kind_of_act() {
    let app = TestApp::new();
    let a = app.user(UserSpec::member("a@acme.test"));
    let b = app.user(UserSpec::member("b@gmail.test"));
    let d = app.user(UserSpec::member("d@acme.test"));
    app.user(UserSpec::member("p@acme.test").status("pending"));
    app.user(UserSpec::member("x@acme.test").status("deactivated"));
    let c = app.signed_in("owner@acme.test").await;
    c.post(&format!("/users/{a}/deactivate"), &[("mode", "now")]).await;
    c.post(&format!("/users/{b}/unlink"), &[("mode", "now")]).await;
    c.post(&format!("/users/{d}/delete"), &[("mode", "now")]).await;
    let got = tabs_and_lists(&c).await;
    let want: Vec<(&str, i64)> = vec![
        ("all", 4),
        ("active", 1),
        ("deactivated", 2),
        ("pending", 1),
        ("scheduled", 0),
    ];
    for ((key, n, listed), (wkey, wn)) in got.iter().zip(&want) {
        assert_eq!((key.as_str(), *n), (*wkey, *wn), "{got:?}");
        assert_eq!(*n as usize, *listed, "tab {key} counts what it lists");
    }
    let page = c.get("/users?q=p").await;
    assert!(page.body.contains("Showing 1-1 of 1"), "{}", page.body);
    assert!(c.get("/users").await.body.contains("Showing 1-4 of 4"));
}

#[actix_web::test]
async fn counts_are_written_with_the_readers_digits_and_pages_say_where_they_are() {
    let app = TestApp::new();
    for i in 0..60 {
        app.user(UserSpec::member(&format!("m{i:02}@acme.test")));
    }
    let c = app.signed_in("owner@acme.test").await;
    let first = c.get("/users").await;
    assert!(first.body.contains("Showing 1-50 of 61"), "{}", first.body);
    let next = attr_values(&first.body, "href")
        .into_iter()
        .find(|h| h.contains("after="))
        .expect("next");
    let second = c.get(&unescape(&next)).await;
    assert!(second.body.contains("Showing 51-61 of 61"), "{}", second.body);
}

#[actix_web::test]
async fn a_name_prefix_over_several_names_lists_them_in_email_order_across_pages() {
    let app = TestApp::new();
    let mut want = Vec::new();
    // Three first names under "ann", their emails interleaved.
    for i in 0..40 {
        for (k, first) in ["ann", "anna", "anneke"].iter().enumerate() {
            let email = format!("p{i:02}{k}@acme.test");
            app.named(&email, first, "Jansen");
            want.push(email);
        }
    }
    app.named("bob@acme.test", "Bob", "Annema");
    want.push("bob@acme.test".into());
    want.sort();
    let c = app.signed_in("owner@acme.test").await;
    let mut got = Vec::new();
    let mut path = "/users?q=ann".to_string();
    loop {
        let r = c.get(&path).await;
        got.extend(r.emails());
        match attr_values(&r.body, "href").into_iter().find(|h| h.contains("after=")) {
            Some(next) => path = unescape(&next),
            None => break,
        }
    }
    assert_eq!(got, want, "first names and last names (Annema), by email, every page");
}

/// More distinct names under a prefix than a search seeks one by one (64 on
/// SQLite, which then reads the range): every user still comes, by email.
#[actix_web::test]
async fn a_prefix_over_seventy_names_lists_every_user_in_email_order() {
    let app = TestApp::new();
    let mut want = Vec::new();
    for i in 0..70 {
        // The names' order is the reverse of the emails'.
        let email = format!("k{:02}@acme.test", 69 - i);
        app.named(&email, &format!("Kim{i:02}"), "Tan");
        want.push(email);
    }
    app.named("kimberly@acme.test", "Bo", "Lee");
    want.push("kimberly@acme.test".into());
    want.sort();
    let c = app.signed_in("owner@acme.test").await;
    let first = c.get("/users?q=kim").await;
    let next = attr_values(&first.body, "href")
        .into_iter()
        .find(|h| h.contains("after="))
        .expect("a second page");
    let mut got = first.emails();
    assert_eq!(got.len(), 50);
    got.extend(c.get(&unescape(&next)).await.emails());
    assert_eq!(got, want, "seventy first names and one email, by email, two pages");
}

/// The managed domains come with the tabs' counts in one statement; a row's
/// menu still follows them (R32: unlink is for users outside them).
#[actix_web::test]
async fn a_row_offers_unlink_only_outside_the_managed_domains() {
    let app = TestApp::new();
    let inside = app.user(UserSpec::member("inside@acme.test"));
    let outside = app.user(UserSpec::member("outside@gmail.test"));
    let c = app.signed_in("owner@acme.test").await;
    let page = c.get("/users").await;
    assert!(
        page.body.contains(&format!("href=\"/users/{outside}/unlink\"")),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(&format!("href=\"/users/{inside}/unlink\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("href=\"/users/{inside}/deactivate\"")));
}
