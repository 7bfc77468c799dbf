//! R67: a CSV job survives a restart of the server, even kill -9, without
//! losing or repeating a row. Drives the real `offboard serve` process.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use offboard::db::schema::{audit_log, import_jobs, import_rows, users};
use offboard::db::DbUrl;
use offboard::domain::Action;
use offboard::services::import;

use crate::support::*;

fn serve(app: &TestApp) -> Child {
    let url = match &app.state.config.database {
        DbUrl::Sqlite(p) => p.clone(),
        DbUrl::Postgres(u) => u.clone(),
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--workers", "1"])
        .env("DATABASE_URL", url)
        .env("OFFBOARD_SECRET_KEY", "ab".repeat(64))
        // Many small batches, so the kill lands mid-job.
        .env("OFFBOARD_IMPORT_BATCH", "50")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start offboard serve")
}

fn counters(app: &TestApp, job: i64) -> (String, i32) {
    import_jobs::table
        .find(job)
        .select((import_jobs::state, import_jobs::done))
        .first(&mut *app.conn())
        .unwrap()
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_job_killed_mid_way_resumes_without_losing_or_repeating_a_row() {
    const N: usize = 6_000;
    let app = TestApp::new();
    let mut csv = String::from("Email\n");
    for i in 0..N {
        let email = format!("leaver{i:05}@gmail.test");
        app.user(UserSpec::member(&email));
        csv.push_str(&email);
        csv.push('\n');
    }
    let by = app.owner_info();
    let now = offboard::services::now();
    let job = import::validate(
        &mut app.conn(),
        &by,
        Action::Deactivate,
        "leavers.csv",
        csv.as_bytes(),
        &Default::default(),
        now,
    )
    .unwrap();
    import::start(&mut app.conn(), &by, job, now).unwrap();

    let mut server = serve(&app);
    wait_for("the first batch", Duration::from_secs(60), || counters(&app, job).1 > 0);
    server.kill().expect("kill -9");
    server.wait().unwrap();
    let (state, done) = counters(&app, job);
    assert_eq!(state, "running", "killed before the end (done {done} of {N})");
    assert!((done as usize) < N);
    // What the job counts is exactly what happened: whole batches only.
    // A row the cursor passed that is still pending was applied (as_applied).
    let cursor: i64 = import_jobs::table
        .find(job)
        .select(import_jobs::applied_through)
        .first(&mut *app.conn())
        .unwrap();
    let rows_done: i64 = import_rows::table
        .filter(import_rows::job_id.eq(job))
        .filter(import_rows::line.le(cursor))
        .filter(import_rows::state.eq_any(["done", "pending"]))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    let audited: i64 = audit_log::table
        .filter(audit_log::job_id.eq(job))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    let deactivated: i64 = users::table
        .filter(users::status.eq("deactivated"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(
        (rows_done, audited, deactivated),
        (done as i64, done as i64, done as i64)
    );

    let mut server = serve(&app);
    wait_for("the job to finish", Duration::from_secs(120), || {
        counters(&app, job).0 == "done"
    });
    server.kill().unwrap();
    server.wait().unwrap();

    let audited: Vec<Option<i64>> = audit_log::table
        .filter(audit_log::job_id.eq(job))
        .select(audit_log::target_id)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(audited.len(), N, "one audit row per CSV row: none lost, none repeated");
    let mut unique = audited.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), N);
    let deactivated: i64 = users::table
        .filter(users::status.eq("deactivated"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(deactivated, N as i64);
    let (_, done) = counters(&app, job);
    assert_eq!(done as usize, N);
}
