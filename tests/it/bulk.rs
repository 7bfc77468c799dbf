//! Bulk actions on checked rows: preview, privilege, apply, double submit (R5, R44, R51, B2).

use actix_web::http::StatusCode;
use diesel::prelude::*;
use offboard::db::schema::users;
use offboard::domain::BULK_PRIVILEGE;

use crate::support::*;

/// Posts the bulk bar's form; returns the preview and its token.
async fn preview(c: &Client<'_>, action: &str, ids: &[i64]) -> (Resp, Option<String>) {
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    let mut fields: Vec<(&str, &str)> = vec![("action", action)];
    fields.extend(ids.iter().map(|i| ("user_ids", i.as_str())));
    let r = c.htmx_post("/users/bulk/preview", &fields).await;
    let token = attr_values(&r.body, "action").into_iter().find_map(|a| {
        a.strip_prefix("/users/bulk/")
            .and_then(|t| t.strip_suffix("/apply"))
            .map(str::to_string)
    });
    (r, token)
}

fn verdicts(r: &Resp) -> Vec<(String, String)> {
    attr_values(&r.body, "data-preview-email")
        .into_iter()
        .zip(attr_values(&r.body, "data-preview"))
        .collect()
}

fn results(r: &Resp) -> Vec<(String, String)> {
    attr_values(&r.body, "data-result-email")
        .into_iter()
        .zip(attr_values(&r.body, "data-result"))
        .collect()
}

#[actix_web::test]
async fn mixed_selection_previews_and_applies_exactly_what_the_rules_allow() {
    let app = TestApp::new();
    let plain = app.user(UserSpec::member("plain@acme.test"));
    let outside = app.user(UserSpec::member("outside@gmail.test"));
    let admin = app.user(UserSpec::admin("admin@acme.test"));
    let pending = app.user(UserSpec::member("pending@acme.test").status("pending"));
    let room = app.user(UserSpec::member("room@acme.test").room());
    let off = app.user(UserSpec::member("off@acme.test").status("deactivated"));
    let all = [app.owner_id, plain, outside, admin, pending, room, off];
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;

    // Deactivate: owner/self, admin, pending and the already deactivated are skipped.
    let (r, _) = preview(&c, "deactivate", &all).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = verdicts(&r);
    let allowed: Vec<&str> = v
        .iter()
        .filter(|(_, k)| k == "apply")
        .map(|(e, _)| e.as_str())
        .collect();
    assert_eq!(allowed, ["outside@gmail.test", "plain@acme.test", "room@acme.test"]);
    assert!(r.body.contains("data-preview-skipped=\"4\""));
    assert!(r.body.contains("changed into a member"));
    assert!(r.body.contains("not activated"));

    // Unlink: the managed domain is skipped too (R31).
    let (r, _) = preview(&c, "unlink", &all).await;
    let allowed: Vec<String> = verdicts(&r)
        .into_iter()
        .filter(|(_, k)| k == "apply")
        .map(|(e, _)| e)
        .collect();
    assert_eq!(
        allowed,
        ["outside@gmail.test"],
        "acme.test is managed: off, plain and room are skipped"
    );
    assert!(r.body.contains("managed domain"));

    // Delete: the room (R43) and the deactivated user (R44) are skipped.
    let (r, token) = preview(&c, "delete", &all).await;
    let allowed: Vec<String> = verdicts(&r)
        .into_iter()
        .filter(|(_, k)| k == "apply")
        .map(|(e, _)| e)
        .collect();
    assert_eq!(allowed, ["outside@gmail.test", "plain@acme.test"]);
    assert!(r.body.contains("Rooms page"));
    assert!(r.body.contains("one at a time or by CSV"));
    assert!(app.audit().is_empty(), "a preview changes nothing");

    let r = c
        .htmx_post(
            &format!("/users/bulk/{}/apply", token.unwrap()),
            &[("action", "delete"), ("mode", "now")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("hx-trigger").as_deref(), Some("users-changed"));
    assert_eq!(
        results(&r),
        [
            ("outside@gmail.test".to_string(), "done".to_string()),
            ("plain@acme.test".to_string(), "done".to_string())
        ]
    );
    assert!(app.load_user(plain).is_none() && app.load_user(outside).is_none());
    for id in [admin, pending, room, off, app.owner_id] {
        assert!(app.load_user(id).is_some());
    }
    let audit = app.audit();
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|a| a.source == "bulk" && a.action == "delete"));
}

#[actix_web::test]
async fn r5_bulk_needs_the_privilege_even_when_forged() {
    let app = TestApp::new();
    let m = app.user(UserSpec::member("m@acme.test"));
    app.user(UserSpec::admin("plain-admin@acme.test"));
    let helpdesk = app.custom_role("Helpdesk", &[BULK_PRIVILEGE]);
    app.user(UserSpec::admin("helpdesk@acme.test").custom_role(helpdesk));
    let without = app.custom_role("Viewer", &[]);
    app.user(UserSpec::admin("viewer@acme.test").custom_role(without));

    for email in ["plain-admin@acme.test", "viewer@acme.test"] {
        let c = app.signed_in(email).await;
        let page = c.get("/users").await;
        assert!(page.body.contains("data-bulk-action=\"deactivate\" disabled"));
        let (r, _) = preview(&c, "deactivate", &[m]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{email}");
        assert!(r.alert().unwrap_or_default().contains("privilege"));
        let r = c
            .htmx_post(
                "/users/bulk/anything/apply",
                &[("action", "deactivate"), ("mode", "now")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    // A member is refused outright.
    app.user(UserSpec::member("member2@acme.test"));
    let c = app.signed_in("member2@acme.test").await;
    c.get("/profile").await;
    assert_eq!(preview(&c, "deactivate", &[m]).await.0.status, StatusCode::FORBIDDEN);
    assert_eq!(app.load_user(m).unwrap().status.as_str(), "active");

    let c = app.signed_in("helpdesk@acme.test").await;
    c.get("/users").await;
    let (r, token) = preview(&c, "deactivate", &[m]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c
        .htmx_post(
            &format!("/users/bulk/{}/apply", token.unwrap()),
            &[("action", "deactivate"), ("mode", "now")],
        )
        .await;
    assert_eq!(results(&r), [("m@acme.test".to_string(), "done".to_string())]);
    assert_eq!(app.load_user(m).unwrap().status.as_str(), "deactivated");
}

#[actix_web::test]
async fn a_second_click_or_replayed_request_applies_nothing_again() {
    let app = TestApp::new();
    let m = app.user(UserSpec::member("m@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let (_, token) = preview(&c, "deactivate", &[m]).await;
    let url = format!("/users/bulk/{}/apply", token.unwrap());
    let first = c.htmx_post(&url, &[("action", "deactivate"), ("mode", "now")]).await;
    assert!(first.body.contains("data-result-done=\"1\""));
    // Reactivate, then replay: the user stays active and no audit row is added.
    c.post(&format!("/users/{m}/activate"), &[]).await;
    let again = c.htmx_post(&url, &[("action", "deactivate"), ("mode", "now")]).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.alert().unwrap_or_default().contains("already applied"));
    assert_eq!(app.load_user(m).unwrap().status.as_str(), "active");
    assert_eq!(app.audit().len(), 2);
    // Another admin cannot use this token either.
    app.user(UserSpec::admin("a@acme.test"));
    let other = app.signed_in("a@acme.test").await;
    other.get("/users").await;
    assert_eq!(
        other.htmx_post(&url, &[("action", "deactivate")]).await.status,
        StatusCode::FORBIDDEN
    );
}

#[actix_web::test]
async fn apply_rechecks_each_user_and_runs_each_on_its_own() {
    let app = TestApp::new();
    let a = app.user(UserSpec::member("a@acme.test"));
    let b = app.user(UserSpec::member("b@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let (_, token) = preview(&c, "deactivate", &[a, b]).await;
    // Between preview and confirm, b becomes an admin.
    diesel::update(users::table.find(b))
        .set(users::role.eq("admin"))
        .execute(&mut *app.conn())
        .unwrap();
    let r = c
        .htmx_post(
            &format!("/users/bulk/{}/apply", token.unwrap()),
            &[("action", "deactivate"), ("mode", "now")],
        )
        .await;
    assert_eq!(
        results(&r),
        [
            ("a@acme.test".to_string(), "done".to_string()),
            ("b@acme.test".to_string(), "skipped".to_string())
        ]
    );
    assert_eq!(app.load_user(a).unwrap().status.as_str(), "deactivated");
    assert_eq!(app.load_user(b).unwrap().status.as_str(), "active");
}

#[actix_web::test]
async fn select_all_matching_covers_every_page_of_the_search() {
    let app = TestApp::new();
    for i in 0..120 {
        app.user(UserSpec::member(&format!("temp{i:03}@gmail.test")));
    }
    let keep = app.user(UserSpec::member("staff@gmail.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let r = c
        .htmx_post(
            "/users/bulk/preview",
            &[
                ("action", "deactivate"),
                ("all_matching", "1"),
                ("q", "temp"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("data-preview-allowed=\"120\""), "{}", r.body);
    let token = attr_values(&r.body, "action")
        .into_iter()
        .find_map(|a| {
            a.strip_prefix("/users/bulk/")
                .and_then(|t| t.strip_suffix("/apply"))
                .map(str::to_string)
        })
        .unwrap();
    let r = c
        .htmx_post(
            &format!("/users/bulk/{token}/apply"),
            &[("action", "deactivate"), ("mode", "now")],
        )
        .await;
    assert!(r.body.contains("data-result-done=\"120\""));
    assert_eq!(c.get("/users?q=temp&status=active").await.emails().len(), 0);
    assert_eq!(app.load_user(keep).unwrap().status.as_str(), "active");
}

#[actix_web::test]
async fn bulk_delete_transfers_to_one_target_and_skips_a_target_in_the_batch() {
    let app = TestApp::new();
    let a = app.user(UserSpec::member("a@gmail.test"));
    let b = app.user(UserSpec::member("b@gmail.test"));
    let heir = app.user(UserSpec::member("heir@acme.test").licensed());
    app.give(
        a,
        Owned {
            meetings: 2,
            recordings: 1,
            ..Default::default()
        },
    );
    app.give(
        b,
        Owned {
            meetings: 1,
            pmi: 1,
            ..Default::default()
        },
    );
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;

    // The heir is in the selection: the preview says so once the transfer is checked.
    let (_, token) = preview(&c, "delete", &[a, b, heir]).await;
    let r = c
        .htmx_post(
            &format!("/users/bulk/{}/preview", token.unwrap()),
            &[
                ("action", "delete"),
                ("mode", "check"),
                ("transfer_meetings", "yes"),
                ("transfer_to", "heir@acme.test"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("also being removed"), "{}", r.body);
    assert!(r.body.contains("data-preview-allowed=\"0\""));

    let (_, token) = preview(&c, "delete", &[a, b]).await;
    let r = c
        .htmx_post(
            &format!("/users/bulk/{}/apply", token.unwrap()),
            &[
                ("action", "delete"),
                ("mode", "transfer"),
                ("transfer_meetings", "yes"),
                ("transfer_recordings", "yes"),
                ("transfer_to", "heir@acme.test"),
            ],
        )
        .await;
    assert!(r.body.contains("data-result-done=\"2\""), "{}", r.body);
    assert_eq!(app.owned(heir), (2, 0, 0, 1), "b's PMI meeting is not transferred");
    assert!(app
        .audit()
        .iter()
        .all(|e| e.transfer_to_email.as_deref() == Some("heir@acme.test")));
}

#[actix_web::test]
async fn bad_bulk_requests_get_clear_messages() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let r = c.htmx_post("/users/bulk/preview", &[("action", "deactivate")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.alert().unwrap_or_default().contains("at least one"));
    let r = c
        .htmx_post("/users/bulk/preview", &[("action", "activate"), ("user_ids", "1")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c
        .htmx_post("/users/bulk/preview", &[("action", "deactivate"), ("user_ids", "x")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c
        .htmx_post("/users/bulk/nope/apply", &[("action", "deactivate"), ("mode", "now")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Ids of another account are not found, so nothing is previewed.
    let (other, _) = app.other_account("boss@other.test");
    let stranger = app.user_in(other, UserSpec::member("s@other.test"));
    let (r, _) = preview(&c, "deactivate", &[stranger]).await;
    assert!(verdicts(&r).is_empty());
    assert!(r.body.contains("data-preview-allowed=\"0\""));
}
