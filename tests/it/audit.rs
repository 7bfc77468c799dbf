//! The Audit log page and export (B1), append-only, and sign-in throttling.

use actix_web::http::StatusCode;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use offboard::db::schema::audit_log;

use crate::support::*;

/// Three actions by the owner: deactivate m1, delete m2 with a transfer, deactivate m3.
async fn history(app: &TestApp) -> Client<'_> {
    let m1 = app.user(UserSpec::member("m1@gmail.test"));
    let m2 = app.user(UserSpec::member("m2@gmail.test"));
    let m3 = app.user(UserSpec::member("m3@gmail.test"));
    app.user(UserSpec::member("heir@gmail.test"));
    app.give(
        m2,
        Owned {
            meetings: 2,
            ..Default::default()
        },
    );
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    c.post(&format!("/users/{m1}/deactivate"), &[]).await;
    c.post(
        &format!("/users/{m2}/delete"),
        &[
            ("mode", "transfer"),
            ("transfer_meetings", "yes"),
            ("transfer_to", "heir@gmail.test"),
        ],
    )
    .await;
    c.post(&format!("/users/{m3}/deactivate"), &[]).await;
    c
}

#[actix_web::test]
async fn the_audit_page_answers_who_removed_whom_and_where_the_data_went() {
    let app = TestApp::new();
    let c = history(&app).await;
    let r = c.get("/audit").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        attr_values(&r.body, "data-audit-action"),
        ["deactivate", "delete", "deactivate"],
        "newest first"
    );
    assert!(r.body.contains("heir@gmail.test: 2 Meetings"), "{}", r.body);
    let r = c.get("/audit?target=m2%40gmail.test").await;
    assert_eq!(attr_values(&r.body, "data-audit-action"), ["delete"]);
    let r = c.get("/audit?action=deactivate&actor=owner%40acme.test").await;
    assert_eq!(attr_values(&r.body, "data-audit-action").len(), 2);
    let today = offboard::services::now().date();
    let r = c.get(&format!("/audit?from={today}&until={today}")).await;
    assert_eq!(attr_values(&r.body, "data-audit-action").len(), 3);
    let r = c.get(&format!("/audit?until={}", today.pred_opt().unwrap())).await;
    assert!(attr_values(&r.body, "data-audit-action").is_empty());
    assert_eq!(c.get("/audit?from=yesterday").await.status, StatusCode::BAD_REQUEST);
    // Members do not see it; other accounts see nothing of it.
    app.user(UserSpec::member("m@acme.test"));
    assert_eq!(
        app.signed_in("m@acme.test").await.get("/audit").await.status,
        StatusCode::FORBIDDEN
    );
    app.other_account("boss@other.test");
    let boss = app.signed_in("boss@other.test").await;
    assert!(attr_values(&boss.get("/audit").await.body, "data-audit-action").is_empty());
}

#[actix_web::test]
async fn the_audit_log_pages_newest_first_without_gaps() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    for i in 0..60 {
        let id = app.user(UserSpec::member(&format!("u{i:02}@gmail.test")));
        c.post(&format!("/users/{id}/deactivate"), &[]).await;
    }
    let first = c.get("/audit").await;
    let ids: Vec<i64> = attr_values(&first.body, "data-audit-id")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 50);
    let next = attr_values(&first.body, "href")
        .into_iter()
        .find(|h| h.contains("before="))
        .expect("older entries");
    let second = c.get(&next).await;
    let more: Vec<i64> = attr_values(&second.body, "data-audit-id")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(more.len(), 10);
    assert!(ids
        .iter()
        .chain(&more)
        .zip(ids.iter().chain(&more).skip(1))
        .all(|(a, b)| a > b));
}

#[actix_web::test]
async fn the_export_is_the_filtered_log_as_csv_escaped_for_spreadsheets() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("=cmd@gmail.test"));
    let c = history(&app).await;
    c.post(&format!("/users/{id}/deactivate"), &[]).await;
    let r = c.get("/audit/export.csv").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap_or_default().starts_with("text/csv"));
    let lines: Vec<&str> = r.body.lines().collect();
    assert!(lines[0].starts_with("\u{FEFF}id,at (UTC),actor,action,target"));
    assert_eq!(lines.len(), 5);
    assert!(r.body.contains(",'=cmd@gmail.test,"), "{}", r.body);
    let r = c.get("/audit/export.csv?action=delete").await;
    let lines: Vec<&str> = r.body.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[1].contains("heir@gmail.test,2,0,0,0"));
}

#[actix_web::test]
async fn the_audit_log_is_append_only_in_the_database() {
    let app = TestApp::new();
    history(&app).await;
    let before = app.audit();
    let update = diesel::update(audit_log::table)
        .set(audit_log::detail.eq("tampered"))
        .execute(&mut *app.conn());
    assert!(update.is_err(), "updates are refused");
    let delete = diesel::delete(audit_log::table).execute(&mut *app.conn());
    assert!(delete.is_err(), "deletes are refused");
    let after = app.audit();
    assert_eq!(before.len(), after.len());
    assert!(after.iter().all(|e| e.detail != "tampered"));
    // And no code path writes anything but inserts.
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/services/audit.rs")).unwrap();
    assert!(!src.contains("diesel::update(") && !src.contains("diesel::delete("));
    for dir in ["src/services", "src/web", "src/worker.rs", "src/mail"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        // Every file below `dir`, subfolders (src/web/api/) included.
        let mut files = Vec::new();
        let mut todo = vec![path];
        while let Some(p) = todo.pop() {
            if p.is_dir() {
                todo.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            } else {
                files.push(p);
            }
        }
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for bad in ["update(audit_log", "delete(audit_log"] {
                assert!(!text.contains(bad), "{} contains {bad}", f.display());
            }
        }
    }
}

#[actix_web::test]
async fn repeated_failed_sign_ins_are_throttled_alike_for_unknown_and_known_emails() {
    let app = TestApp::new();
    for email in ["owner@acme.test", "nobody@acme.test"] {
        let c = app.client();
        for _ in 0..5 {
            let r = c.sign_in(email, "wrong password").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        let r = c.sign_in(email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(r.alert().unwrap_or_default().contains("Too many failed sign-ins"));
    }
    // Another account is not held up by it.
    app.user(UserSpec::member("m@acme.test"));
    assert_eq!(
        app.client().sign_in("m@acme.test", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

/// Details are stored in English and shown in the reader's language
/// (src/web/audit_detail.rs); a service that changes its wording makes this
/// fail instead of leaking English into the Dutch page.
#[actix_web::test]
async fn details_licenses_and_export_columns_read_in_dutch() {
    let app = TestApp::new();
    let lic = app.user(UserSpec::member("lic@gmail.test").webinar().phone());
    let adm = app.user(UserSpec::admin("adm@acme.test"));
    let gone = app.user(UserSpec::member("gone@gmail.test"));
    app.give(
        gone,
        Owned {
            meetings: 1,
            ..Default::default()
        },
    );
    let c = app.signed_in("owner@acme.test").await;
    c.post("/language", &[("lang", "nl")]).await;
    let users = c.get("/users").await;
    assert!(users.body.contains(">Webinar, Telefoon</td>"), "licenses in Dutch");
    c.post(&format!("/users/{lic}/deactivate"), &[]).await;
    c.post(&format!("/users/{lic}/activate"), &[]).await;
    c.post(&format!("/users/{adm}/edit"), &[("role", "member")]).await;
    c.post(&format!("/users/{gone}/delete"), &[("mode", "now")]).await;
    c.get("/users/advanced").await;
    c.post("/users/advanced", &[("enabled", "on"), ("days", "45"), ("warn", "on")])
        .await;
    let page = unescape(&c.get("/audit").await.body);
    for dutch in [
        "licenties verwijderd: met licentie, webinar, telefoon",
        "opnieuw geactiveerd als Basis; licenties niet hersteld",
        "Beheerder -> Lid",
        "1 vergaderingen (0 met de persoonlijke vergadering-ID), 0 webinars, 0 evenementen en 0 opnames verwijderd; 0 gespreksopnames bewaard",
        "-> aan na 45 dagen, waarschuwing aan",
    ] {
        assert!(page.contains(dutch), "{dutch:?} missing in {page}");
    }
    for english in [
        "licenses removed",
        "reactivated",
        "admin -> member",
        "deleted 1",
        "after 45 days",
    ] {
        assert!(!page.contains(english), "{english:?} in {page}");
    }
    let export = c.get("/audit/export.csv").await.body;
    let header = export.lines().next().unwrap_or_default();
    assert_eq!(
        header,
        "\u{FEFF}id;tijdstip (UTC);uitgevoerd door;actie;gebruiker;bron;taak;overgedragen aan;vergaderingen;webinars;evenementen;opnames;details"
    );
    assert!(export.contains("licenties verwijderd: met licentie"), "{export}");
    // What is stored stays English: the log is evidence, not a page.
    assert!(app.audit().iter().any(|e| e.detail == "admin -> member"));
}

#[actix_web::test]
async fn the_charts_show_the_same_figures_as_their_tables() {
    let app = TestApp::new();
    let a = app.user(UserSpec::member("a@acme.test"));
    let b = app.user(UserSpec::member("b@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.post(&format!("/users/{a}/deactivate"), &[]).await;
    c.post(&format!("/users/{b}/deactivate"), &[]).await;
    c.post(&format!("/users/{b}/activate"), &[]).await;
    let page = c.get("/audit").await;
    assert!(page.body.contains("<svg class=\"chart\"") && page.body.contains("<title id=\"chart-"));
    let today = offboard::services::now().date().format("%Y-%m-%d").to_string();
    let row = page
        .body
        .split(&format!("<tr data-acts-day=\"{today}\">"))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("today's row")
        .to_string();
    // Deactivated 2, activated 1, unlinked 0, deleted 0, other 0.
    assert!(
        row.contains("<td>2</td><td>1</td><td>0</td><td>0</td><td>0</td>"),
        "{row}"
    );
    assert_eq!(page.body.matches("<rect").count(), 2, "one bar, two kinds");
    // The Advanced tab: the deactivated user is due in N days.
    c.post("/users/advanced", &[("enabled", "on"), ("days", "3")]).await;
    let advanced = c.get("/users/advanced").await;
    let due = (offboard::services::now() + chrono::Duration::days(3))
        .date()
        .format("%Y-%m-%d");
    assert!(
        advanced.body.contains(&format!("data-due-day=\"{due}\">1<")),
        "{}",
        advanced.body
    );
}

#[derive(QueryableByName)]
struct Kept {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The statements a PostgreSQL connection keeps prepared that read `table`.
fn kept_statements(conn: &mut offboard::db::DbConn, table: &str) -> Option<i64> {
    let offboard::db::DbConn::Pg(pg) = conn else {
        return None;
    };
    let like = format!("%FROM \"{table}\"%");
    diesel::sql_query("SELECT COUNT(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1")
        .bind::<diesel::sql_types::Text, _>(like)
        .get_result::<Kept>(pg)
        .ok()
        .map(|k| k.n)
}

/// On PostgreSQL the Audit log is read with a plan made for its size at
/// that moment: a statement kept prepared gets a generic plan after five
/// runs, and one made while a new account's log was empty scans and sorts
/// the whole log at each page once it has filled. The connection keeps no
/// prepared statement of the log's reads (it keeps the Users listing's).
#[test]
fn the_audit_log_is_read_with_a_plan_for_its_size_now() {
    use offboard::services::{audit, users};
    let app = TestApp::new();
    let mut conn = offboard::db::establish(&app.state.config.database).unwrap();
    let filters = [
        audit::AuditFilter::default(),
        audit::AuditFilter {
            target: Some("m1@gmail.test".into()),
            ..Default::default()
        },
    ];
    for _ in 0..7 {
        for f in &filters {
            audit::list(&mut conn, app.account_id, f, 51).unwrap();
        }
    }
    users::list_users(&mut conn, app.account_id, &Default::default()).unwrap();
    if let (Some(audit_kept), Some(users_kept)) = (
        kept_statements(&mut conn, "audit_log"),
        kept_statements(&mut conn, "users"),
    ) {
        assert_eq!(audit_kept, 0, "the Audit log's reads are planned each time");
        assert!(users_kept > 0, "the probe sees kept statements");
    }
}

fn plan_of(conn: &mut offboard::db::DbConn, account_id: i64) -> String {
    explain(
        conn,
        &format!("SELECT * FROM audit_log WHERE account_id = {account_id} ORDER BY id DESC LIMIT 51"),
    )
}

/// On PostgreSQL a page of the Audit log walks an index newest first even
/// when the log's statistics are older than its rows (taken while a new
/// account's log was nearly empty, 3,000 entries since): planned on those,
/// the page reads every entry and sorts them (the control below).
#[test]
fn the_audit_log_is_walked_in_index_order_whatever_its_statistics_say() {
    let app = TestApp::new();
    let Some(mut conn) = pg_connection(&app) else {
        return;
    };
    conn.batch_execute("ANALYZE audit_log").unwrap();
    conn.batch_execute(&format!(
        "INSERT INTO audit_log (account_id, at, actor_email, action, target_email, source) \
         SELECT {}, now(), 'owner@acme.test', 'deactivate', 'u' || i || '@acme.test', 'csv' \
         FROM generate_series(1, 3000) AS i",
        app.account_id
    ))
    .unwrap();
    let stale = plan_of(&mut conn, app.account_id);
    assert!(
        stale.contains("Sort"),
        "the control: planned on stale statistics\n{stale}"
    );
    let walked = offboard::db::in_index_order(&mut conn, |c| Ok(plan_of(c, app.account_id))).unwrap();
    assert!(!walked.contains("Sort"), "{walked}");
    assert!(walked.contains("Index Scan Backward"), "{walked}");
}
