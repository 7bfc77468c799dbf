//! Several instances on one database (SPEC B9): CSV jobs under a lease with
//! `FOR UPDATE SKIP LOCKED`, the sweeper and the scheduler as singletons,
//! migrations once, the newer-schema refusal and the health checks. The
//! lease and the advisory locks are PostgreSQL's; on SQLite (one process)
//! the same tests check that today's path is unchanged.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use offboard::cluster::{self, Lease};
use offboard::db::schema::{audit_log, import_jobs};
use offboard::db::{DbConn, DbUrl};
use offboard::domain::Action;
use offboard::services::import;

use crate::support::*;

/// A running deactivation job over `n` new members; returns its id.
fn running_job(app: &TestApp, n: usize) -> i64 {
    let mut csv = String::from("Email\n");
    for i in 0..n {
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
        "l.csv",
        csv.as_bytes(),
        &Default::default(),
        now,
    )
    .unwrap();
    import::start(&mut app.conn(), &by, job, now).unwrap();
    job
}

fn job_done(app: &TestApp, job: i64) -> (String, i32) {
    import_jobs::table
        .find(job)
        .select((import_jobs::state, import_jobs::done))
        .first(&mut *app.conn())
        .unwrap()
}

/// Audit rows of the job, and how many distinct users they name.
fn audited(app: &TestApp, job: i64) -> (usize, usize) {
    let mut targets: Vec<Option<i64>> = audit_log::table
        .filter(audit_log::job_id.eq(job))
        .select(audit_log::target_id)
        .load(&mut *app.conn())
        .unwrap();
    let all = targets.len();
    targets.sort();
    targets.dedup();
    (all, targets.len())
}

#[test]
fn two_workers_on_one_job_never_apply_a_row_twice() {
    const N: usize = 1_500;
    let app = TestApp::new();
    let job = running_job(&app, N);
    // Leases of 0 s: each worker may take the job whenever the other is not
    // inside a batch, so they contend for every batch.
    let batches = std::thread::scope(|s| {
        let workers: Vec<_> = ["instance-a", "instance-b"]
            .into_iter()
            .map(|name| {
                let pool = app.state.pool.clone();
                s.spawn(move || {
                    let lease = Lease::new(name, 0);
                    let mut mine = 0;
                    let mut conn = pool.get().unwrap();
                    let start = Instant::now();
                    loop {
                        let now = offboard::services::now();
                        if import::apply_batch_leased(&mut conn, job, 40, now, &lease).unwrap() {
                            mine += 1;
                        }
                        let state: String = import_jobs::table
                            .find(job)
                            .select(import_jobs::state)
                            .first(&mut *conn)
                            .unwrap();
                        if state == "done" || start.elapsed() > Duration::from_secs(120) {
                            return mine;
                        }
                    }
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect::<Vec<_>>()
    });
    assert_eq!(
        job_done(&app, job),
        ("done".to_string(), N as i32),
        "batches {batches:?}"
    );
    assert_eq!(audited(&app, job), (N, N), "one audit row per row, none twice");
}

#[test]
fn a_job_whose_lease_ran_out_is_taken_over() {
    let app = TestApp::new();
    let job = running_job(&app, 120);
    let now = offboard::services::now();
    let a = Lease::new("instance-a", cluster::JOB_LEASE_SECONDS);
    let b = Lease::new("instance-b", cluster::JOB_LEASE_SECONDS);
    assert!(import::apply_batch_leased(&mut app.conn(), job, 40, now, &a).unwrap());
    assert_eq!(job_done(&app, job).1, 40);
    let soon = now + chrono::Duration::seconds(5);
    let later = now + chrono::Duration::seconds(cluster::JOB_LEASE_SECONDS + 1);
    if backend() == "postgres" {
        // Instance a still holds the job: b leaves it alone.
        assert_eq!(import::next_job_for(&mut app.conn(), &b, soon).unwrap(), None);
        assert!(!import::apply_batch_leased(&mut app.conn(), job, 40, soon, &b).unwrap());
        assert_eq!(job_done(&app, job).1, 40);
        // a renews its lease with each batch and goes on.
        assert_eq!(import::next_job_for(&mut app.conn(), &a, soon).unwrap(), Some(job));
        assert!(import::apply_batch_leased(&mut app.conn(), job, 40, soon, &a).unwrap());
        assert_eq!(
            import::next_job_for(&mut app.conn(), &b, later).unwrap(),
            None,
            "renewed"
        );
    } else {
        assert!(import::apply_batch_leased(&mut app.conn(), job, 40, soon, &a).unwrap());
    }
    // a fell silent: once its lease ran out b takes the job over and finishes it.
    let takeover = soon + chrono::Duration::seconds(cluster::JOB_LEASE_SECONDS + 1);
    assert_eq!(import::next_job_for(&mut app.conn(), &b, takeover).unwrap(), Some(job));
    while import::apply_batch_leased(&mut app.conn(), job, 40, takeover, &b).unwrap() {}
    assert_eq!(job_done(&app, job), ("done".to_string(), 120));
    assert_eq!(audited(&app, job), (120, 120));
    if backend() == "postgres" {
        let holder: Option<String> = import_jobs::table
            .find(job)
            .select(import_jobs::claimed_by)
            .first(&mut *app.conn())
            .unwrap();
        assert_eq!(holder.as_deref(), Some("instance-b"));
    }
}

/// A connection of its own, as another instance would have.
fn other_connection(app: &TestApp) -> DbConn {
    offboard::db::establish(&app.state.config.database).unwrap()
}

#[test]
fn the_sweeper_and_the_scheduler_run_once_at_a_time() {
    let app = TestApp::new();
    let pool = &app.state.pool;
    for key in [cluster::SWEEPER_LOCK, cluster::PLANS_LOCK] {
        let mut other = other_connection(&app);
        if let DbConn::Pg(_) = other {
            // Another instance is in the middle of its run.
            other
                .batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({key});"))
                .unwrap();
            let ran = cluster::singleton(pool, key, |_| Ok(1)).unwrap();
            assert_eq!(ran, None, "skipped while another instance runs it");
            other.batch_execute("COMMIT").unwrap();
        }
        assert_eq!(cluster::singleton(pool, key, |_| Ok(1)).unwrap(), Some(1));
    }
    // The scheduler itself: a held lock means nothing done this round.
    let mut other = other_connection(&app);
    if let DbConn::Pg(_) = other {
        other
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({});",
                cluster::PLANS_LOCK
            ))
            .unwrap();
        let started = Instant::now();
        assert_eq!(
            offboard::worker::run_plans(pool, offboard::services::now()).unwrap(),
            (0, 0)
        );
        assert!(started.elapsed() < Duration::from_secs(5), "skipped, not waited");
        let (report, _) = offboard::worker::sweep_once(pool, None, 30, offboard::services::now()).unwrap();
        assert_eq!(report, Default::default());
        other.batch_execute("COMMIT").unwrap();
    }
}

#[actix_web::test]
async fn healthz_and_readyz_answer_and_readyz_sees_a_newer_schema() {
    let app = TestApp::new();
    let c = app.client();
    let r = c.get("/healthz").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok\n"));
    let r = c.get("/readyz").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ready\n"));
    newer_migration(&app);
    let r = c.get("/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("newer than this binary"), "{}", r.body);
    assert_eq!(
        c.get("/healthz").await.status,
        StatusCode::OK,
        "the process is up all the same"
    );
}

/// What a later Offboard's migration leaves in the database.
fn newer_migration(app: &TestApp) {
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('20991231000000')")
        .execute(&mut *app.conn())
        .unwrap();
}

fn database_url(app: &TestApp) -> String {
    match &app.state.config.database {
        DbUrl::Sqlite(p) => p.clone(),
        DbUrl::Postgres(u) => u.clone(),
    }
}

#[test]
fn an_instance_refuses_to_serve_a_newer_schema() {
    let app = TestApp::new();
    newer_migration(&app);
    let out = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", database_url(&app))
        .env("OFFBOARD_SECRET_KEY", "ab".repeat(64))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("newer than this binary") && err.contains("20991231000000"),
        "{err}"
    );
}

#[test]
fn instances_starting_together_migrate_once() {
    let db = TestDb::new();
    let url = match &db.url {
        DbUrl::Sqlite(p) => p.clone(),
        DbUrl::Postgres(u) => u.clone(),
    };
    let migrate = || {
        Command::new(env!("CARGO_BIN_EXE_offboard"))
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Together on PostgreSQL (the advisory lock); SQLite is one process's
    // database, migrated by one at a time.
    let outputs: Vec<std::process::Output> = if backend() == "postgres" {
        let runs: Vec<_> = (0..3).map(|_| migrate()).collect();
        runs.into_iter().map(|r| r.wait_with_output().unwrap()).collect()
    } else {
        (0..3).map(|_| migrate().wait_with_output().unwrap()).collect()
    };
    for out in outputs {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut conn = offboard::db::establish(&db.url).unwrap();
    assert!(offboard::db::schema_current(&mut conn).is_ok());
}

/// Two real `serve` processes: the one running the job is killed (-9), and
/// the other finishes the job once the lease has run out, within 30 s.
#[test]
fn a_dead_instances_job_is_finished_by_another() {
    const N: usize = 3_000;
    let app = TestApp::new();
    let job = running_job(&app, N);
    let mut first = serve(&app);
    wait_for("the first batch", Duration::from_secs(60), || job_done(&app, job).1 > 0);
    first.kill().unwrap();
    first.wait().unwrap();
    let stopped_at = Instant::now();
    let (_, done) = job_done(&app, job);
    assert!((done as usize) < N, "killed mid-job");
    let mut second = serve(&app);
    wait_for("the other instance to go on", Duration::from_secs(60), || {
        job_done(&app, job).1 > done
    });
    let took_over = stopped_at.elapsed();
    wait_for("the job to finish", Duration::from_secs(120), || {
        job_done(&app, job).0 == "done"
    });
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(job_done(&app, job).1 as usize, N);
    assert_eq!(audited(&app, job), (N, N), "none lost, none twice");
    assert!(took_over < Duration::from_secs(30), "taken over after {took_over:?}");
}

fn serve(app: &TestApp) -> std::process::Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--workers", "1"])
        .env("DATABASE_URL", database_url(app))
        .env("OFFBOARD_SECRET_KEY", "ab".repeat(64))
        .env("OFFBOARD_IMPORT_BATCH", "50")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[derive(QueryableByName)]
struct Backend {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

fn backend_pid(conn: &mut DbConn) -> QueryResult<i32> {
    diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Backend>(conn)
        .map(|b| b.pid)
}

/// Ends a PostgreSQL backend as a restart or an administrator would, and
/// waits until it is gone.
fn drop_backend(app: &TestApp, pid: i32) {
    app.conn()
        .batch_execute(&format!("SELECT pg_terminate_backend({pid})"))
        .expect("terminate");
    let started = Instant::now();
    while backend_pids(app).contains(&pid) && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn backend_pids(app: &TestApp) -> Vec<i32> {
    diesel::sql_query("SELECT pid FROM pg_stat_activity")
        .load::<Backend>(&mut *app.conn())
        .expect("backends")
        .into_iter()
        .map(|b| b.pid)
        .collect()
}

/// The pool skips its `SELECT 1` at check-out within a moment of a healthy
/// give-back, so a connection the database dropped meanwhile costs at most
/// the one statement that finds it dead: the pool then drops it, and the
/// next check-out gets a new connection. After that moment the check-out
/// itself finds a dead connection and replaces it, with no statement lost.
#[test]
fn a_connection_the_database_dropped_costs_at_most_one_statement() {
    let app = TestApp::new();
    if !matches!(&mut *app.conn(), DbConn::Pg(_)) {
        return; // a file has no connection to lose
    }
    let pool = offboard::db::connect(&app.state.config.database, 1).expect("pool");
    let first = backend_pid(&mut pool.get().expect("conn")).expect("pid");
    drop_backend(&app, first);
    let tried = backend_pid(&mut pool.get().expect("conn"));
    let next = backend_pid(&mut pool.get().expect("conn")).expect("a new connection");
    assert_ne!(next, first);
    if let Ok(pid) = tried {
        assert_eq!(pid, next, "checked at check-out and replaced at once");
    }
    drop_backend(&app, next);
    std::thread::sleep(offboard::db::ALIVE_WINDOW + Duration::from_millis(100));
    let after = backend_pid(&mut pool.get().expect("conn")).expect("checked at check-out");
    assert_ne!(after, next);
}

/// Requests beyond the connections wait for one in the order they came:
/// with every connection held, A then B queue; as one connection at a time
/// comes free, A runs before B, and every request is answered.
#[actix_web::test]
async fn requests_wait_for_a_connection_in_the_order_they_came() {
    use std::sync::{mpsc, Arc, Mutex};
    let app = TestApp::new();
    let ran = Arc::new(Mutex::new(Vec::new()));
    let mut gates = Vec::new();
    let mut holders = Vec::new();
    // One permit per pooled connection: hold them all.
    for _ in 0..app.state.pool.max_size() {
        let (open, gate) = mpsc::channel::<()>();
        gates.push(open);
        let state = app.state.clone();
        holders.push(actix_web::rt::spawn(async move {
            state
                .blocking(move |_conn| gate.recv().map_err(|_| offboard::services::ServiceError::Busy))
                .await
        }));
    }
    let queued = |name: &'static str| {
        let (state, ran) = (app.state.clone(), ran.clone());
        actix_web::rt::spawn(async move {
            state
                .blocking(move |_conn| {
                    ran.lock().unwrap().push(name);
                    Ok::<_, offboard::services::ServiceError>(())
                })
                .await
        })
    };
    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    let a = queued("A");
    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    let b = queued("B");
    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    assert!(
        ran.lock().unwrap().is_empty(),
        "no request ran while every connection was held"
    );
    for open in gates {
        open.send(()).unwrap();
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    for holder in holders {
        assert!(matches!(holder.await.unwrap(), Ok(Ok(()))));
    }
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(matches!(a, Ok(Ok(()))) && matches!(b, Ok(Ok(()))));
    assert_eq!(*ran.lock().unwrap(), vec!["A", "B"]);
}
