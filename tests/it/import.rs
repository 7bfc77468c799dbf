//! CSV import, Update users (R60-R67): the fixture corpus with the exact
//! outcome of every row, applying a job, the result report, the privilege.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use offboard::db::models::ImportRow;
use offboard::db::schema::{import_jobs, import_rows};
use offboard::domain::BULK_PRIVILEGE;
use offboard::services::import;

use crate::support::*;

/// The users every fixture is written against.
pub(crate) fn world() -> TestApp {
    let app = TestApp::new();
    app.user(UserSpec::admin("admin@acme.test"));
    let alice = app.user(UserSpec::member("alice@gmail.test").licensed());
    app.give(
        alice,
        Owned {
            meetings: 2,
            pmi: 1,
            webinars: 1,
            events: 1,
            recordings: 1,
            phone: 1,
        },
    );
    app.user(UserSpec::member("bob@gmail.test"));
    app.user(UserSpec::member("carol@acme.test"));
    app.user(UserSpec::member("pending@gmail.test").status("pending"));
    app.user(UserSpec::member("room@gmail.test").room());
    app.user(UserSpec::member("off@gmail.test").status("deactivated"));
    app.user(UserSpec::member("heir@gmail.test"));
    app.user(UserSpec::member("lic@gmail.test").webinar());
    let (other, _) = app.other_account("boss@other.test");
    app.user_in(other, UserSpec::member("stranger@other.test"));
    app
}

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/import/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

pub(crate) fn job_id_of(r: &Resp) -> i64 {
    let loc = r
        .header("location")
        .unwrap_or_else(|| panic!("no redirect: {} {}", r.status, r.body));
    loc.trim_start_matches("/import/jobs/").parse().expect("job id")
}

/// Every row of a job as the report reads it (at the job's cursor).
pub(crate) fn rows(app: &TestApp, job: i64) -> Vec<(i64, String, String)> {
    // A purged job has no rows left either.
    let cursor: i64 = import_jobs::table
        .find(job)
        .select(import_jobs::applied_through)
        .first(&mut *app.conn())
        .optional()
        .unwrap()
        .unwrap_or(0);
    import_rows::table
        .filter(import_rows::job_id.eq(job))
        .order(import_rows::line)
        .select(ImportRow::as_select())
        .load::<ImportRow>(&mut *app.conn())
        .unwrap()
        .into_iter()
        .map(|r| import::as_applied(r, cursor))
        .map(|r| (r.line, r.state.to_string(), r.reason))
        .collect()
}

enum Expect {
    /// The whole file is refused with a message containing this text.
    File(&'static str),
    /// (line, state, text in the reason) of every row, in order.
    Rows(&'static [(i64, &'static str, &'static str)]),
}

const CORPUS: &[(&str, &str, Expect)] = &[
    (
        "deactivate_basic.csv",
        "deactivate",
        Expect::Rows(&[
            (2, "pending", "will be deactivated"),
            (3, "pending", "will be deactivated"),
        ]),
    ),
    (
        "bom_crlf.csv",
        "deactivate",
        Expect::Rows(&[
            (2, "pending", "will be deactivated"),
            (3, "pending", "will be deactivated"),
        ]),
    ),
    (
        "utf16.csv",
        "deactivate",
        Expect::Rows(&[(2, "pending", ""), (3, "pending", "")]),
    ),
    (
        "windows1252.csv",
        "delete",
        Expect::Rows(&[(
            2,
            "pending",
            "will be deleted after transferring meetings to lic@gmail.test",
        )]),
    ),
    (
        "semicolons_nl.csv",
        "delete",
        Expect::Rows(&[(
            2,
            "pending",
            "transferring meetings, webinars, cloud recordings to lic@gmail.test",
        )]),
    ),
    (
        "tab_separated.csv",
        "unlink",
        Expect::Rows(&[(
            2,
            "pending",
            "will be unlinked after transferring events to bob@gmail.test",
        )]),
    ),
    (
        "header_typo.csv",
        "deactivate",
        Expect::File("Unknown column \"Emial\""),
    ),
    (
        "extra_column.csv",
        "deactivate",
        Expect::File("Unknown column \"Notes\""),
    ),
    (
        "missing_email_column.csv",
        "delete",
        Expect::File("the column \"Email\" is missing"),
    ),
    (
        "deactivate_with_transfer_columns.csv",
        "deactivate",
        Expect::File("for unlink and delete files"),
    ),
    (
        "trailing_empty_columns.csv",
        "deactivate",
        Expect::Rows(&[(2, "pending", "")]),
    ),
    (
        "duplicate_emails.csv",
        "deactivate",
        Expect::Rows(&[
            (2, "pending", ""),
            (3, "pending", ""),
            (4, "skipped", "already on line 2"),
        ]),
    ),
    (
        "mixed_language_yes_no.csv",
        "delete",
        Expect::Rows(&[
            (2, "pending", "meetings, webinars, events to lic@gmail.test"),
            (3, "pending", "will be deleted"),
        ]),
    ),
    (
        "invalid_yes_no.csv",
        "delete",
        Expect::Rows(&[(2, "invalid", "\"maybe\" under transfer meetings is not Yes or No")]),
    ),
    (
        "owner_row.csv",
        "deactivate",
        Expect::Rows(&[(2, "invalid", "owner cannot be deactivated")]),
    ),
    (
        "admin_row.csv",
        "deactivate",
        Expect::Rows(&[(2, "invalid", "admin must first be changed into a member")]),
    ),
    (
        "pending_row.csv",
        "deactivate",
        Expect::Rows(&[(2, "invalid", "not activated")]),
    ),
    (
        "room_delete.csv",
        "delete",
        Expect::Rows(&[(2, "invalid", "Rooms page")]),
    ),
    (
        "managed_domain_unlink.csv",
        "unlink",
        Expect::Rows(&[(2, "invalid", "managed domain"), (3, "pending", "will be unlinked")]),
    ),
    (
        "unlicensed_recordings_target.csv",
        "delete",
        Expect::Rows(&[(2, "invalid", "cloud recordings need a licensed target")]),
    ),
    (
        "webinars_to_unlicensed.csv",
        "delete",
        Expect::Rows(&[(2, "invalid", "webinar license")]),
    ),
    (
        "target_deleted_in_same_file.csv",
        "delete",
        Expect::Rows(&[(2, "invalid", "also being removed"), (3, "pending", "will be deleted")]),
    ),
    (
        "target_other_account.csv",
        "delete",
        Expect::Rows(&[(2, "invalid", "stranger@other.test is not a user of this account")]),
    ),
    (
        "transfer_without_target.csv",
        "delete",
        Expect::Rows(&[(2, "invalid", "choose a user")]),
    ),
    (
        "deactivated_delete.csv",
        "delete",
        Expect::Rows(&[(2, "pending", "will be deleted")]),
    ),
    (
        "formula_cell.csv",
        "deactivate",
        Expect::Rows(&[(2, "invalid", "is not an email address"), (3, "pending", "")]),
    ),
    (
        "not_an_email.csv",
        "deactivate",
        Expect::Rows(&[(2, "invalid", "\"alice at gmail\" is not an email address")]),
    ),
    (
        "unknown_email.csv",
        "deactivate",
        Expect::Rows(&[
            (2, "invalid", "no user with this email in this account"),
            (3, "invalid", "no user with this email in this account"),
        ]),
    ),
    (
        "quoted_fields.csv",
        "delete",
        Expect::Rows(&[
            (2, "pending", "meetings to lic@gmail.test"),
            (3, "pending", "will be deleted"),
        ]),
    ),
    (
        "blank_lines.csv",
        "deactivate",
        Expect::Rows(&[(3, "pending", ""), (6, "pending", "")]),
    ),
    ("header_only.csv", "deactivate", Expect::File("no users")),
    ("empty.csv", "deactivate", Expect::File("The file is empty")),
    ("binary.csv", "deactivate", Expect::File("not a CSV file")),
    (
        "broken_quotes.csv",
        "deactivate",
        Expect::Rows(&[(2, "invalid", "is not an email address")]),
    ),
];

#[actix_web::test]
async fn every_file_of_the_corpus_gets_its_exact_report() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    for (name, action, expect) in CORPUS {
        let r = c.upload(action, name, &fixture(name)).await;
        match expect {
            Expect::File(text) => {
                assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
                let alert = r.alert().unwrap_or_default();
                assert!(alert.contains(text), "{name}: {alert}");
            }
            Expect::Rows(want) => {
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
                let got = rows(&app, job_id_of(&r));
                assert_eq!(got.len(), want.len(), "{name}: {got:?}");
                for ((line, state, reason), (wl, ws, wr)) in got.iter().zip(want.iter()) {
                    assert_eq!((*line, state.as_str()), (*wl, *ws), "{name}: {got:?}");
                    assert!(unescape(reason).contains(wr), "{name} line {line}: {reason}");
                }
            }
        }
    }
    assert!(app.audit().is_empty(), "validation changes nothing");
    assert_eq!(app.load_user(app.owner_id).unwrap().status.as_str(), "active");
}

#[actix_web::test]
async fn a_file_over_the_configured_size_is_refused_whole() {
    let mut app = world();
    // OFFBOARD_CSV_MAX_MB=50 (the default is 200).
    app.state.config.csv_limits.max_bytes = 50 * 1024 * 1024;
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    let mut big = b"Email\n".to_vec();
    while big.len() < 60 * 1024 * 1024 {
        big.extend_from_slice(b"someone.with.a.long.address@gmail.test\n");
    }
    let r = c.upload("deactivate", "big.csv", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.header("content-type").unwrap_or_default().starts_with("text/html"));
    assert!(r.alert().unwrap_or_default().contains("larger than 50 MB"));
    let jobs: i64 = import_jobs::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(jobs, 0);
}

#[actix_web::test]
async fn applying_a_delete_job_transfers_deletes_and_reports() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    let page = c.get("/import").await;
    assert!(page.body.contains("data-needs-action"));
    let r = c
        .upload("delete", "leavers.csv", &fixture("mixed_language_yes_no.csv"))
        .await;
    let job = job_id_of(&r);
    let report = c.get(&format!("/import/jobs/{job}")).await;
    assert!(report.body.contains("data-rows-valid=\"2\""), "{}", report.body);
    assert!(report.body.contains("data-apply"));
    let r = c.post(&format!("/import/jobs/{job}/apply"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // A second confirm does not start anything twice.
    c.get(&format!("/import/jobs/{job}")).await;
    c.post(&format!("/import/jobs/{job}/apply"), &[]).await;
    import::run_to_end(&mut app.conn(), job).unwrap();
    let page = c.get(&format!("/import/jobs/{job}")).await;
    assert!(page.body.contains("data-progress-percent=\"100\""), "{}", page.body);
    assert!(page.body.contains("data-job-state=\"done\""));
    assert!(
        offboard::services::users::find_by_email(&mut app.conn(), app.account_id, "alice@gmail.test")
            .unwrap()
            .is_none()
    );
    assert!(
        offboard::services::users::find_by_email(&mut app.conn(), app.account_id, "bob@gmail.test")
            .unwrap()
            .is_none()
    );
    let lic = offboard::services::users::find_by_email(&mut app.conn(), app.account_id, "lic@gmail.test")
        .unwrap()
        .unwrap();
    assert_eq!(
        app.owned(lic.id),
        (1, 1, 1, 0),
        "alice's non-PMI meeting, webinar and event; recordings were No"
    );
    let audit = app.audit();
    assert_eq!(audit.len(), 2);
    assert!(audit
        .iter()
        .all(|a| a.source == "csv" && a.job_id == Some(job) && a.action == "delete"));
    assert_eq!(
        rows(&app, job).iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        ["done", "done"]
    );
    let csv = c.get(&format!("/import/jobs/{job}/result.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut lines = csv.body.lines();
    assert_eq!(lines.next(), Some("\u{FEFF}Email,Transfer data to email,Transfer meetings,Transfer webinars,Transfer events,Transfer recordings,Line,Outcome,Reason"));
    assert!(lines
        .next()
        .unwrap()
        .starts_with("alice@gmail.test,lic@gmail.test,Ja,ya,YES,tidak,2,done"));
}

#[actix_web::test]
async fn the_result_report_is_safe_to_open_in_a_spreadsheet() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    let r = c
        .upload(
            "deactivate",
            "f.csv",
            b"Email\n=1+2@x.test\n+cmd@x.test\n-x@gmail.test\n@SUM(A1)\n",
        )
        .await;
    let job = job_id_of(&r);
    let csv = c.get(&format!("/import/jobs/{job}/result.csv")).await;
    for line in csv.body.lines().skip(1) {
        let first = line.trim_start_matches('"');
        assert!(first.starts_with('\''), "not escaped: {line}");
    }
    assert!(csv.body.contains("'=1+2@x.test"));
}

#[actix_web::test]
async fn r60_only_the_owner_or_a_custom_role_with_the_privilege_uploads() {
    let app = world();
    let role = app.custom_role("Helpdesk", &[BULK_PRIVILEGE]);
    app.user(UserSpec::admin("helpdesk@acme.test").custom_role(role));
    let a = app.signed_in("admin@acme.test").await;
    let page = a.get("/import").await;
    assert!(page.alert().unwrap_or_default().contains("privilege"));
    assert!(!page.body.contains("data-upload"));
    let r = a.upload("deactivate", "f.csv", &fixture("deactivate_basic.csv")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.get("/import/sample?action=deactivate").await.status,
        StatusCode::FORBIDDEN
    );
    let h = app.signed_in("helpdesk@acme.test").await;
    h.get("/import").await;
    let r = h.upload("deactivate", "f.csv", &fixture("deactivate_basic.csv")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let m = app.user(UserSpec::member("m@gmail.test"));
    let _ = m;
    let member = app.signed_in("m@gmail.test").await;
    assert_eq!(member.get("/import").await.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn r61_the_action_comes_first_and_shapes_the_sample() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    let r = c.upload("", "f.csv", &fixture("deactivate_basic.csv")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.alert().unwrap_or_default().contains("Choose an action first"));
    assert_eq!(c.get("/import/sample").await.status, StatusCode::BAD_REQUEST);
    let s = c.get("/import/sample?action=deactivate&lang=en").await;
    assert_eq!(s.body, "\u{FEFF}Email\r\nuser@example.com\r\n");
    assert!(s
        .header("content-disposition")
        .unwrap_or_default()
        .contains("attachment"));
    let s = c.get("/import/sample?action=delete&lang=id").await;
    assert!(s.body.starts_with(
        "\u{FEFF}Email;Transfer data ke email;Transfer rapat;Transfer webinar;Transfer acara;Transfer rekaman\r\n"
    ));
    let s = c
        .send(
            actix_web::http::Method::GET,
            "/import/sample?action=unlink",
            None,
            &[("Accept-Language", "nl-NL,nl;q=0.9")],
        )
        .await;
    assert!(s.body.starts_with("\u{FEFF}E-mailadres;"), "{}", s.body);
}

#[actix_web::test]
async fn a_job_with_no_valid_row_cannot_start_and_jobs_of_other_accounts_are_hidden() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    let job = job_id_of(&c.upload("deactivate", "f.csv", &fixture("owner_row.csv")).await);
    let page = c.get(&format!("/import/jobs/{job}")).await;
    assert!(!page.body.contains("data-apply"));
    let r = c.post(&format!("/import/jobs/{job}/apply"), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let boss = app.signed_in("boss@other.test").await;
    assert_eq!(
        boss.get(&format!("/import/jobs/{job}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        boss.get(&format!("/import/jobs/{job}/result.csv")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn rows_are_rechecked_when_applied() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    let job = job_id_of(&c.upload("deactivate", "f.csv", &fixture("deactivate_basic.csv")).await);
    // Bob becomes an admin after the report.
    let bob = offboard::services::users::find_by_email(&mut app.conn(), app.account_id, "bob@gmail.test")
        .unwrap()
        .unwrap();
    c.post(&format!("/users/{}/edit", bob.id), &[("role", "admin")]).await;
    c.get(&format!("/import/jobs/{job}")).await;
    c.post(&format!("/import/jobs/{job}/apply"), &[]).await;
    import::run_to_end(&mut app.conn(), job).unwrap();
    let got = rows(&app, job);
    assert_eq!((got[0].1.as_str(), got[1].1.as_str()), ("done", "skipped"));
    assert!(got[1].2.contains("changed into a member"));
}

#[actix_web::test]
async fn script_in_a_csv_cell_is_shown_inert_in_the_report() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    let r = c
        .upload(
            "deactivate",
            "x.csv",
            b"Email\n\"<script>alert(1)</script>@x.test\"\n\"\"\"><img src=x onerror=alert(1)>\"\n",
        )
        .await;
    let job = job_id_of(&r);
    let page = c.get(&format!("/import/jobs/{job}")).await;
    assert!(
        !page.body.contains("<script>alert(1)") && !page.body.contains("<img src=x"),
        "{}",
        page.body
    );
    assert!(page.body.contains("&#60;script&#62;") || page.body.contains("&lt;script&gt;"));
}

#[actix_web::test]
async fn batches_walk_the_rows_by_line_past_invalid_and_refused_ones() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    let file = "Email\nalice@gmail.test\nnot-an-email\nbob@gmail.test\nstranger@other.test\ncarol@acme.test\nheir@gmail.test\n";
    let job = job_id_of(&c.upload("deactivate", "f.csv", file.as_bytes()).await);
    // Bob becomes an admin after the report: his row is refused when applied.
    let bob = offboard::services::users::find_by_email(&mut app.conn(), app.account_id, "bob@gmail.test")
        .unwrap()
        .unwrap();
    c.post(&format!("/users/{}/edit", bob.id), &[("role", "admin")]).await;
    c.post(&format!("/import/jobs/{job}/apply"), &[]).await;
    // One row per batch: each batch takes the next valid row after the last.
    let now = offboard::services::now();
    let mut batches = 1;
    while import::apply_batch(&mut app.conn(), job, 1, now).unwrap() {
        batches += 1;
        assert!(batches <= 5, "a batch read a row twice or none");
    }
    let states: Vec<(i64, String)> = rows(&app, job).into_iter().map(|(l, s, _)| (l, s)).collect();
    let want = [
        (2, "done"),
        (3, "invalid"),
        (4, "skipped"),
        (5, "invalid"),
        (6, "done"),
        (7, "done"),
    ];
    assert_eq!(states, want.map(|(l, s)| (l, s.to_string())));
    let (state, done, skipped, through): (String, i32, i32, i64) = import_jobs::table
        .find(job)
        .select((
            import_jobs::state,
            import_jobs::done,
            import_jobs::skipped,
            import_jobs::applied_through,
        ))
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!((state.as_str(), done, skipped, through), ("done", 3, 1, 7));
    // The report lists the rows that need a look first, then the others.
    let found = import::find_job(&mut app.conn(), app.account_id, job).unwrap();
    let report: Vec<i64> = import::report_rows(&mut app.conn(), &found, 4)
        .unwrap()
        .iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(report, [3, 4, 5, 2]);
}

#[actix_web::test]
async fn a_failed_job_keeps_its_applied_rows_done() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    let file = "Email\nalice@gmail.test\nbob@gmail.test\ncarol@acme.test\n";
    let job = job_id_of(&c.upload("deactivate", "f.csv", file.as_bytes()).await);
    c.post(&format!("/import/jobs/{job}/apply"), &[]).await;
    let now = offboard::services::now();
    assert!(import::apply_batch(&mut app.conn(), job, 1, now).unwrap());
    import::fail_job(&mut app.conn(), job, "the worker stopped", now).unwrap();
    let got: Vec<(i64, String)> = rows(&app, job).into_iter().map(|(l, s, _)| (l, s)).collect();
    let want = [(2, "done"), (3, "failed"), (4, "failed")];
    assert_eq!(got, want.map(|(l, s)| (l, s.to_string())));
    let page = c.get(&format!("/import/jobs/{job}/result.csv")).await;
    let alice = page
        .body
        .lines()
        .find(|l| l.contains("alice@gmail.test"))
        .expect("alice's row");
    assert!(alice.ends_with(",2,done,"), "{alice}");
}

#[actix_web::test]
async fn a_file_longer_than_one_insert_stores_every_row_in_order() {
    let app = world();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/import").await;
    // 2,450 unknown addresses (rows are checked a thousand at a time on a
    // second thread and stored 200 per insert), then Alice.
    let mut file = String::from("Email\n");
    for i in 0..2_450 {
        file.push_str(&format!("nobody{i}@gmail.test\n"));
    }
    file.push_str("alice@gmail.test\n");
    let job = job_id_of(&c.upload("deactivate", "f.csv", file.as_bytes()).await);
    let got = rows(&app, job);
    assert_eq!(got.len(), 2_451);
    assert!(got.iter().enumerate().all(|(i, r)| r.0 == i as i64 + 2));
    assert!(got[..2_450].iter().all(|r| r.1 == "invalid"));
    assert_eq!(got[2_450].1, "pending");
    let report = c.get(&format!("/import/jobs/{job}")).await;
    assert!(report.body.contains("data-rows-valid=\"1\""), "{}", report.body);
}
