//! What htmx swaps in and what the portal writes as CSV, exactly, as
//! reviewed snapshots (tests/it/snapshots/*.snap): the users table partial,
//! a flash message, the bulk preview, a job's progress, a result report and
//! the sample files in the three languages. Ids, tokens and rates are
//! replaced by names so the snapshots hold on SQLite and PostgreSQL alike.
//!
//! A changed snapshot fails the test and leaves a `.snap.new` beside it;
//! after checking it, accept it with `INSTA_UPDATE=always cargo test --test
//! it snapshots`. `scripts/test.sh` sets `INSTA_UPDATE=no` and insta writes
//! nothing under `CI` either: the test command only compares.

use crate::import::{fixture, job_id_of, world};
use crate::support::*;

/// A tiny account: the owner, a licensed member with add-ons, a
/// deactivated member, an external admin.
fn tiny() -> (TestApp, Vec<(i64, &'static str)>) {
    let app = TestApp::new();
    let ann = app.user(UserSpec::member("ann@acme.test").webinar().phone());
    let bo = app.user(UserSpec::member("bo@gmail.test").status("deactivated"));
    let cy = app.user(UserSpec::admin("cy@partner.test").external());
    let ids = vec![(app.owner_id, "owner"), (ann, "ann"), (bo, "bo"), (cy, "cy")];
    (app, ids)
}

/// The body with the client's CSRF token and the given ids replaced by names.
fn redact(body: &str, c: &Client<'_>, ids: &[(i64, &str)]) -> String {
    let mut out = body.replace(&c.csrf(), "[csrf]");
    for (id, name) in ids {
        for (before, after) in [
            ("/users/", "/"),
            ("data-user-id=\"", "\""),
            ("name=\"user_ids\" value=\"", "\""),
        ] {
            out = out.replace(&format!("{before}{id}{after}"), &format!("{before}[{name}]{after}"));
        }
    }
    out
}

/// CSV text with its byte-order mark and line ends made visible.
fn visible_csv(text: &str) -> String {
    text.replace('\u{FEFF}', "[BOM]").replace("\r\n", "\\r\n")
}

#[actix_web::test]
async fn the_users_table_partial() {
    let (app, ids) = tiny();
    let c = app.signed_in("owner@acme.test").await;
    let r = c.htmx_get("/users?status=all").await;
    insta::assert_snapshot!("users_table", redact(&r.body, &c, &ids));
}

#[actix_web::test]
async fn a_flash_message_in_dutch() {
    let (app, ids) = tiny();
    let c = app.signed_in("owner@acme.test").await;
    c.post("/language", &[("lang", "nl")]).await;
    c.get("/users").await;
    let r = c.htmx_post(&format!("/users/{}/deactivate", ids[1].0), &[]).await;
    assert_eq!(r.header("hx-trigger").as_deref(), Some("users-changed"));
    insta::assert_snapshot!("flash_deactivated_nl", redact(&r.body, &c, &ids));
}

#[actix_web::test]
async fn the_bulk_preview() {
    let (app, ids) = tiny();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let mut fields: Vec<(&str, String)> = vec![("action", "delete".into())];
    fields.extend(ids[1..].iter().map(|(id, _)| ("user_ids", id.to_string())));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.htmx_post("/users/bulk/preview", &fields).await;
    let token = attr_values(&r.body, "action")
        .into_iter()
        .find_map(|a| {
            a.strip_prefix("/users/bulk/")?
                .strip_suffix("/apply")
                .map(str::to_string)
        })
        .expect("a token");
    let body = redact(&r.body, &c, &ids).replace(&token, "[token]");
    insta::assert_snapshot!("bulk_preview", body);
}

#[actix_web::test]
async fn a_finished_jobs_progress_and_result_report() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    let job = job_id_of(&c.upload("deactivate", "f.csv", &fixture("deactivate_basic.csv")).await);
    c.get(&format!("/import/jobs/{job}")).await;
    c.post(&format!("/import/jobs/{job}/apply"), &[]).await;
    offboard::services::import::run_to_end(&mut app.conn(), job).expect("runs");
    let r = c.htmx_get(&format!("/import/jobs/{job}/progress")).await;
    // The rate depends on the clock.
    let body = match r.body.find(" rows/s") {
        Some(end) => {
            let start = r.body[..end].rfind(", ").expect("rate");
            format!("{}, [rate]{}", &r.body[..start], &r.body[end..])
        }
        None => r.body.clone(),
    };
    insta::assert_snapshot!("job_progress_done", body.replace(&format!("/{job}/"), "/[job]/"));
    let csv = c.get(&format!("/import/jobs/{job}/result.csv")).await;
    insta::assert_snapshot!("result_deactivate_en", visible_csv(&csv.body));
}

#[actix_web::test]
async fn the_sample_files_in_three_languages() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    for lang in ["en", "nl", "id"] {
        let mut all = String::new();
        for action in ["deactivate", "unlink", "delete"] {
            let r = c.get(&format!("/import/sample?action={action}&lang={lang}")).await;
            all.push_str(&format!(
                "--- {action}: {}\n",
                r.header("content-disposition").unwrap_or_default()
            ));
            all.push_str(&visible_csv(&r.body));
        }
        insta::assert_snapshot!(format!("sample_{lang}"), all);
    }
}
