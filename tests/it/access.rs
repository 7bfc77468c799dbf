//! The access boundary (issue 12): server-side sessions, sign-out
//! everywhere, no-store, CSRF never in a URL, atomic sign-in throttling,
//! concurrent acts without a 500, and faults inside the server.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use futures_util::future::join_all;
use offboard::db::schema::{audit_log, import_jobs, sessions, signin_throttle, users};

use crate::support::*;

const BULK: &str = offboard::domain::BULK_PRIVILEGE;

fn signed_out(r: &Resp) -> bool {
    r.status == StatusCode::SEE_OTHER && r.header("location").as_deref() == Some("/login")
}

#[actix_web::test]
async fn a_cookie_copied_before_sign_out_is_signed_out_after() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    let stolen = c.cookie_jar();
    assert_eq!(c.get("/users").await.status, StatusCode::OK);
    let r = c.post("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let thief = app.client();
    thief.set_cookie_jar(stolen);
    assert!(signed_out(&thief.get("/users").await), "the copied cookie still works");
    let rows: i64 = sessions::table.count().get_result(&mut *app.conn()).expect("count");
    assert_eq!(rows, 0, "sign-out removed the server-side session");
}

#[actix_web::test]
async fn sessions_end_on_the_server_when_idle_or_too_old() {
    let app = TestApp::new();
    let now = offboard::services::now();
    let c = app.signed_in("owner@acme.test").await;
    diesel::update(sessions::table)
        .set(sessions::last_seen_at.eq(now - chrono::Duration::minutes(31)))
        .execute(&mut *app.conn())
        .expect("idle");
    assert!(signed_out(&c.get("/users").await), "30 minutes idle ends the session");

    let c = app.signed_in("owner@acme.test").await;
    diesel::update(sessions::table)
        .set(sessions::created_at.eq(now - chrono::Duration::hours(12)))
        .execute(&mut *app.conn())
        .expect("old");
    assert!(
        signed_out(&c.get("/users").await),
        "12 hours after sign-in, however active"
    );

    // Active within the limits: still signed in, and the last-seen time moves.
    let c = app.signed_in("owner@acme.test").await;
    diesel::update(sessions::table)
        .set(sessions::last_seen_at.eq(now - chrono::Duration::minutes(20)))
        .execute(&mut *app.conn())
        .expect("recent");
    assert_eq!(c.get("/users").await.status, StatusCode::OK);
    let seen: chrono::NaiveDateTime = sessions::table
        .select(sessions::last_seen_at)
        .first(&mut *app.conn())
        .expect("row");
    assert!(seen >= now - chrono::Duration::minutes(1), "touched: {seen}");
}

/// A page whose session is due a touch while a job holds SQLite's write
/// lock is served at once, untouched; the next one after the lock touches.
#[actix_web::test]
async fn a_session_touch_never_waits_for_a_writer() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::new();
    let offboard::db::DbUrl::Sqlite(path) = app.state.config.database.clone() else {
        return; // PostgreSQL locks rows, not the database: nothing waits here.
    };
    let now = offboard::services::now();
    let c = app.signed_in("owner@acme.test").await;
    let before = now - chrono::Duration::minutes(5);
    diesel::update(sessions::table)
        .set(sessions::last_seen_at.eq(before))
        .execute(&mut *app.conn())
        .expect("due a touch");
    let seen = || -> chrono::NaiveDateTime {
        sessions::table
            .select(sessions::last_seen_at)
            .first(&mut *app.conn())
            .expect("row")
    };
    let mut job = diesel::SqliteConnection::establish(&path).expect("second connection");
    job.batch_execute("BEGIN IMMEDIATE").expect("the write lock");
    // Waiting would end in "database is locked" after the busy timeout.
    assert_eq!(c.get("/users").await.status, StatusCode::OK);
    assert_eq!(seen(), before, "touched through another writer's lock");
    job.batch_execute("COMMIT").expect("released");
    assert_eq!(c.get("/users").await.status, StatusCode::OK);
    assert!(seen() >= now - chrono::Duration::minutes(1), "touched once free");
}

#[actix_web::test]
async fn the_owner_signs_a_user_out_everywhere_audited() {
    let app = TestApp::new();
    let admin_id = app.user(UserSpec::admin("admin@acme.test"));
    let laptop = app.signed_in("admin@acme.test").await;
    let phone = app.signed_in("admin@acme.test").await;
    assert_eq!(laptop.get("/users").await.status, StatusCode::OK);

    // An admin may not end another user's sessions.
    app.user(UserSpec::member("m@acme.test"));
    let r = laptop
        .htmx_post(&format!("/users/{}/sign-out-everywhere", app.owner_id), &[])
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);

    let owner = app.signed_in("owner@acme.test").await;
    let users_page = owner.get("/users").await;
    assert!(users_page
        .body
        .contains(&format!("/users/{admin_id}/sign-out-everywhere")));
    let r = owner
        .htmx_post(&format!("/users/{admin_id}/sign-out-everywhere"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("admin@acme.test"));
    assert!(signed_out(&laptop.get("/users").await));
    assert!(signed_out(&phone.get("/users").await));
    assert_eq!(
        owner.get("/users").await.status,
        StatusCode::OK,
        "the owner's own session goes on"
    );
    let audited = app
        .audit()
        .iter()
        .filter(|e| e.action == "sign_out_everywhere" && e.target_id == Some(admin_id))
        .count();
    assert_eq!(audited, 1);
    // The admin signs in again afresh.
    assert_eq!(
        app.client().sign_in("admin@acme.test", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn acts_on_a_user_end_their_sessions_at_once() {
    let app = TestApp::new();
    let id = app.user(UserSpec::admin("a2@acme.test"));
    let theirs = app.signed_in("a2@acme.test").await;
    let owner = app.signed_in("owner@acme.test").await;
    // A role change ends them (R11) ...
    let r = owner.post(&format!("/users/{id}/edit"), &[("role", "member")]).await;
    assert!(r.status.is_redirection() || r.status.is_success(), "{}", r.body);
    assert!(signed_out(&theirs.get("/profile").await));
    // ... and so does deactivation.
    let theirs = app.signed_in("a2@acme.test").await;
    assert_eq!(theirs.get("/profile").await.status, StatusCode::OK);
    let r = owner.post(&format!("/users/{id}/deactivate"), &[]).await;
    assert!(r.status.is_redirection(), "{}", r.body);
    assert!(signed_out(&theirs.get("/profile").await));
}

#[actix_web::test]
async fn authenticated_answers_are_not_stored_but_static_files_are_cacheable() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    for path in [
        "/users",
        "/users?q=own",
        "/audit",
        "/audit/export",
        "/import",
        "/advanced",
        "/profile",
    ] {
        let r = c.get(path).await;
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("no-store"),
            "{path}: {}",
            r.status
        );
    }
    let r = c.htmx_get("/users?q=own").await;
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"), "partial");
    let r = c.get("/static/app.css").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(r.header("cache-control").as_deref(), Some("no-store"));
}

#[actix_web::test]
async fn the_csrf_token_never_rides_in_a_url() {
    let app = TestApp::new();
    let member = app.user(UserSpec::member("m@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    for path in ["/users", "/import", "/advanced", "/audit", "/roles"] {
        let body = c.get(path).await.body;
        assert!(
            !body.contains("?csrf=") && !body.contains("&amp;csrf=") && !body.contains("&csrf="),
            "{path}"
        );
    }
    // A token in the query string is not accepted, for forms or uploads.
    let token = c.get("/users").await.body;
    let token = attr_values(&token, "value")
        .into_iter()
        .find(|v| v.len() == 48)
        .expect("token");
    let r = c
        .post_without_csrf(&format!("/users/{member}/deactivate?csrf={token}"), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let csv = b"Email\r\nm@acme.test\r\n";
    let r = c.upload_raw(&[("action", "deactivate")], "x.csv", csv).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no csrf field");
    let r = c
        .upload_raw(&[("action", "deactivate"), ("csrf", &token)], "x.csv", csv)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the token must come before the data");
    let r = c
        .upload_raw(&[("csrf", "forged"), ("action", "deactivate")], "x.csv", csv)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let jobs: i64 = import_jobs::table.count().get_result(&mut *app.conn()).expect("jobs");
    assert_eq!(jobs, 0);
    let r = c.upload("deactivate", "x.csv", csv).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The sample is posted, not fetched with the form's token in its URL.
    let r = c
        .post("/import/sample", &[("action", "deactivate"), ("lang", "nl")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("E-mailadres"));
}

#[actix_web::test]
async fn thirty_parallel_wrong_guesses_are_all_counted_and_five_are_checked() {
    let app = TestApp::new();
    let c = app.client().at_address("127.0.0.2:5000");
    c.get("/login").await;
    let guesses = (0..30).map(|_| c.post("/login", &[("email", "owner@acme.test"), ("password", "wrong")]));
    let answers = join_all(guesses).await;
    let checked = answers.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED).count();
    let refused: Vec<&Resp> = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(checked, 5, "password checks in the window");
    assert_eq!(refused.len(), 25);
    let retry: i64 = refused[0]
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("secs");
    assert!((1..=60).contains(&retry), "{retry}");
    // The right password is refused too while the pair waits ...
    let r = c.sign_in("owner@acme.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // ... but the real owner signing in from another address is not locked out.
    let elsewhere = app.client().at_address("127.0.0.3:5000");
    assert_eq!(
        elsewhere.sign_in("owner@acme.test", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn the_wait_doubles_and_a_success_resets_the_pair() {
    let app = TestApp::new();
    let key = "owner@acme.test\n127.0.0.4";
    let c = app.client().at_address("127.0.0.4:1");
    for _ in 0..5 {
        assert_eq!(
            c.sign_in("owner@acme.test", "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        c.sign_in("owner@acme.test", "wrong").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The minute passes; five more failures wait two minutes.
    let past = offboard::services::now() - chrono::Duration::seconds(1);
    let expire = || {
        diesel::update(signin_throttle::table.find(key))
            .set(signin_throttle::blocked_until.eq(Some(past)))
            .execute(&mut *app.conn())
            .expect("expire")
    };
    expire();
    for _ in 0..5 {
        assert_eq!(
            c.sign_in("owner@acme.test", "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = c.sign_in("owner@acme.test", "wrong").await;
    let retry: i64 = r.header("retry-after").expect("Retry-After").parse().expect("secs");
    assert!((61..=120).contains(&retry), "second wait {retry}");
    expire();
    assert_eq!(
        c.sign_in("owner@acme.test", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let left: i64 = signin_throttle::table
        .filter(signin_throttle::key.eq(key))
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(left, 0, "a success resets the pair");
}

#[actix_web::test]
async fn forty_simultaneous_acts_from_four_admins_never_fail() {
    let app = TestApp::new();
    let admins: Vec<String> = (0..4).map(|i| format!("admin{i}@acme.test")).collect();
    for a in &admins {
        app.user(UserSpec::admin(a));
    }
    let members: Vec<i64> = (0..30)
        .map(|i| app.user(UserSpec::member(&format!("m{i}@acme.test"))))
        .collect();
    let mut clients = Vec::new();
    for a in &admins {
        clients.push(app.signed_in(a).await);
    }
    // 30 distinct users, and 10 acts that race another admin for the same user.
    let paths: Vec<String> = (0..40)
        .map(|i| format!("/users/{}/deactivate", members[i % 30]))
        .collect();
    let acts = paths
        .iter()
        .enumerate()
        .map(|(i, path)| clients[i % 4].htmx_post(path, &[]));
    let answers = join_all(acts).await;
    for r in &answers {
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::CONFLICT,
            "{}: {}",
            r.status,
            r.body
        );
        assert!(!r.body.contains("went wrong"), "{}", r.body);
    }
    let applied = answers.iter().filter(|r| r.status == StatusCode::OK).count();
    assert_eq!(applied, 30, "each user once");
    let audited: i64 = audit_log::table
        .filter(audit_log::action.eq("deactivate"))
        .count()
        .get_result(&mut *app.conn())
        .expect("audit");
    assert_eq!(audited, 30);
    let active: i64 = users::table
        .filter(users::id.eq_any(&members))
        .filter(users::status.eq("active"))
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(active, 0);
}

#[actix_web::test]
async fn setting_the_same_language_again_writes_no_audit_row() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    for _ in 0..3 {
        let r = c.post("/language", &[("lang", "nl")]).await;
        assert!(r.status.is_redirection(), "{}", r.status);
    }
    let rows = app.audit().iter().filter(|e| e.action == "set_language").count();
    assert_eq!(rows, 1);
}

#[actix_web::test]
async fn a_privilege_sent_twice_is_not_a_server_failure() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    let r = c
        .post(
            "/roles",
            &[("name", "Helpdesk"), ("privilege", BULK), ("privilege", BULK)],
        )
        .await;
    assert!(!r.status.is_server_error(), "{}: {}", r.status, r.body);
    // The same name twice: a message, not a failure.
    let privileges: i64 = offboard::db::schema::role_privileges::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(privileges, 1, "given once");
    let r = c.post("/roles", &[("name", "Helpdesk"), ("privilege", BULK)]).await;
    assert!(r.status.is_client_error() || r.status.is_redirection(), "{}", r.status);
    assert!(!r.status.is_server_error());
}

/// No pooled connection is inside a transaction.
fn pool_is_clean(pool: &offboard::db::Pool) {
    use diesel::connection::{Connection, TransactionManager};
    let mut held: Vec<_> = (0..4).map(|_| pool.get().expect("conn")).collect();
    for conn in held.iter_mut() {
        let depth =
            <offboard::db::DbConn as Connection>::TransactionManager::transaction_manager_status_mut(&mut **conn)
                .transaction_depth()
                .expect("status");
        assert_eq!(depth, None, "a pooled connection is still inside a transaction");
    }
}

/// A write from a connection outside the pool, with a short busy timeout:
/// it fails if a pooled connection still holds SQLite's write lock.
fn write_from_outside(app: &TestApp) -> usize {
    let mut conn = offboard::db::establish(&app.state.config.database).expect("conn");
    if let offboard::db::DbConn::Sqlite(c) = &mut conn {
        diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA busy_timeout = 300").expect("pragma");
    }
    diesel::update(users::table.find(app.owner_id))
        .set(users::last_name.eq("after"))
        .execute(&mut conn)
        .expect("write after the panic")
}

fn half_written(app: &TestApp) -> bool {
    let first: String = users::table
        .find(app.owner_id)
        .select(users::first_name)
        .first(&mut *app.conn())
        .expect("owner");
    first == "half-written"
}

#[test]
fn a_panic_inside_a_transaction_never_returns_its_connection_to_the_pool() {
    let app = TestApp::new();
    let pool = app.state.pool.clone();
    // Caught where it happened: the connection is given back after the panic.
    let mut conn = pool.get().expect("conn");
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        offboard::db::write_transaction(&mut conn, |conn| -> Result<(), diesel::result::Error> {
            diesel::update(users::table)
                .set(users::first_name.eq("half-written"))
                .execute(conn)?;
            panic!("a bug mid-transaction")
        })
    }));
    assert!(caught.is_err());
    drop(conn);
    pool_is_clean(&pool);
    assert_eq!(write_from_outside(&app), 1);
    assert!(!half_written(&app), "the panicked transaction was rolled back");
    // Unwinding through a thread: the connection drops while panicking.
    let p = pool.clone();
    let joined = std::thread::spawn(move || {
        let mut conn = p.get().expect("conn");
        let _ = offboard::db::write_transaction(&mut conn, |conn| -> Result<(), diesel::result::Error> {
            diesel::update(users::table)
                .set(users::first_name.eq("half-written"))
                .execute(conn)?;
            panic!("another bug")
        });
    })
    .join();
    assert!(joined.is_err());
    pool_is_clean(&pool);
    assert_eq!(write_from_outside(&app), 1);
    assert!(!half_written(&app));
}

#[test]
fn a_panic_in_the_worker_fails_the_job_with_a_message_and_the_worker_goes_on() {
    let app = TestApp::new();
    app.user(UserSpec::member("m1@acme.test"));
    app.user(UserSpec::member("m2@acme.test"));
    let job_id = actix_web::rt::System::new().block_on(async {
        let c = app.signed_in("owner@acme.test").await;
        let r = c
            .upload("deactivate", "x.csv", b"Email\r\nm1@acme.test\r\nm2@acme.test\r\n")
            .await;
        let job: i64 = r.header("location").expect("job")["/import/jobs/".len()..]
            .parse()
            .expect("id");
        let r = c.post(&format!("/import/jobs/{job}/apply"), &[]).await;
        assert!(r.status.is_redirection(), "{}", r.body);
        job
    });
    let pool = app.state.pool.clone();
    let outcome = offboard::worker::run_guarded(&pool, job_id, |conn| {
        offboard::db::write_transaction(conn, |conn| -> Result<bool, offboard::services::ServiceError> {
            diesel::update(users::table)
                .set(users::first_name.eq("half-written"))
                .execute(conn)?;
            panic!("a bug in a batch")
        })
    });
    assert!(matches!(outcome, Ok(false)), "the worker goes on: {outcome:?}");
    let (state, failed, error): (String, i32, Option<String>) = import_jobs::table
        .find(job_id)
        .select((import_jobs::state, import_jobs::failed, import_jobs::error))
        .first(&mut *app.conn())
        .expect("job");
    assert_eq!((state.as_str(), failed), ("done", 2), "no longer running");
    assert!(error.is_some());
    assert!(!half_written(&app));
    // The worker's next round finds nothing left to run, and the page says why.
    assert!(!offboard::worker::work_once(&pool, app.state.config.import_batch).expect("work"));
    let page = actix_web::rt::System::new().block_on(async {
        let c = app.signed_in("owner@acme.test").await;
        c.get(&format!("/import/jobs/{job_id}")).await
    });
    assert!(page.body.contains("data-job-failed"), "{}", page.body);
}

#[actix_web::test]
async fn password_checks_are_bounded_and_the_rest_get_429() {
    let app = TestApp::new();
    let all = app.state.config.password_checks as u32;
    // Every check is taken (as by a flood of sign-ins in progress).
    let held = app
        .state
        .password_checks
        .clone()
        .try_acquire_many_owned(all)
        .expect("permits");
    let c = app.client().at_address("127.0.0.5:1");
    let r = c.sign_in("owner@acme.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.header("retry-after").is_some());
    assert!(r.alert().unwrap_or_default().contains("Try again"), "{}", r.body);
    drop(held);
    let c = app.client().at_address("127.0.0.6:1");
    assert_eq!(
        c.sign_in("owner@acme.test", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

/// The Users and Audit pages check who asks and read their rows in one
/// trip to the database (issue 20): who asks is still answered first, and
/// only an active owner or admin ever gets rows.
#[actix_web::test]
async fn the_admin_pages_answer_who_asks_before_their_input_and_rows() {
    let app = TestApp::new();
    app.user(UserSpec::member("mia@acme.test"));
    app.user(UserSpec::admin("ada@acme.test"));
    for path in ["/users?status=bogus", "/audit?from=not-a-day", "/users", "/audit"] {
        assert!(signed_out(&app.client().get(path).await), "{path}: signed out first");
        let member = app.signed_in("mia@acme.test").await;
        let r = member.get(path).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{path}: a member is refused before the input is read"
        );
        assert!(!r.body.contains("data-user-email"), "{path}: no rows for a member");
    }
    let admin = app.signed_in("ada@acme.test").await;
    assert_eq!(admin.get("/users?status=bogus").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(admin.get("/audit?from=not-a-day").await.status, StatusCode::BAD_REQUEST);
    let r = admin.get("/users").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("data-user-email=\"mia@acme.test\""),
        "the admin gets the rows"
    );
    // Deactivated since: the next page is the sign-in page, and the session is gone (R11).
    diesel::update(users::table.filter(users::email.eq("ada@acme.test")))
        .set(users::status.eq("deactivated"))
        .execute(&mut *app.conn())
        .expect("deactivate");
    assert!(
        signed_out(&admin.get("/users").await),
        "a deactivated admin's session is over"
    );
    let left: i64 = sessions::table
        .inner_join(users::table)
        .filter(users::email.eq("ada@acme.test"))
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(left, 0, "the over session was removed");
    assert!(signed_out(&admin.get("/audit").await));
}
