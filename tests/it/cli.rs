//! The `offboard` command: migrate, seed --demo, create-owner.

use std::io::Write;
use std::process::{Command, Stdio};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use offboard::db::schema::{custom_roles, managed_domains, scheduled_acts, users};
use offboard::db::{self, DbUrl};
use offboard::services::auth::{self, SignIn};

fn temp_db(name: &str) -> String {
    let p = std::env::temp_dir().join(format!("offboard-cli-{}-{name}.db", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p.to_string_lossy().into_owned()
}

fn offboard(db: &str, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    offboard_with(db, args, stdin, &[])
}

/// The command with these settings added to the environment.
fn offboard_with(db: &str, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(args)
        .envs(env.iter().copied())
        .env("DATABASE_URL", db)
        .env("OFFBOARD_DEMO_PASSWORD", "demo-password-1")
        .env("OFFBOARD_SECRET_KEY", "ef".repeat(64))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn migrate_then_create_owner_who_can_sign_in() {
    let db = temp_db("owner");
    let (ok, out) = offboard(&db, &["migrate"], None);
    assert!(ok && out.contains("up to date"), "{out}");
    let (ok, out) = offboard(&db, &["create-owner", "--email", "Boss@Example.com"], Some("short\n"));
    assert!(!ok && out.contains("at least 8 characters"), "{out}");
    let (ok, out) = offboard(
        &db,
        &["create-owner", "--email", "Boss@Example.com"],
        Some("a long password\n"),
    );
    assert!(ok && out.contains("boss@example.com"), "{out}");
    let (ok, out) = offboard(
        &db,
        &["create-owner", "--email", "boss@example.com"],
        Some("a long password\n"),
    );
    assert!(!ok && out.contains("already has a user"), "{out}");
    let pool = db::connect(&DbUrl::Sqlite(db.clone()), 1).unwrap();
    let r = auth::sign_in(&mut pool.get().unwrap(), "boss@example.com", "a long password").unwrap();
    assert!(matches!(r, SignIn::Ok { .. }), "{r:?}");
    let _ = std::fs::remove_file(&db);
}

#[test]
fn seed_demo_prints_the_sign_in_and_fills_every_kind_of_user() {
    let db = temp_db("demo");
    let (ok, out) = offboard(&db, &["seed", "--demo"], None);
    assert!(ok, "{out}");
    assert!(
        out.contains("/login") && out.contains("owner@acme.example") && out.contains("demo-password-1"),
        "{out}"
    );
    let pool = db::connect(&DbUrl::Sqlite(db.clone()), 1).unwrap();
    let mut c = pool.get().unwrap();
    let all: Vec<(String, String, bool, bool, bool, bool)> = users::table
        .select((
            users::role,
            users::status,
            users::is_external,
            users::is_room,
            users::webinar_license,
            users::phone_license,
        ))
        .load(&mut *c)
        .unwrap();
    assert!(all.len() > 200);
    for (what, n) in [
        ("admins", all.iter().filter(|u| u.0 == "admin").count()),
        ("pending", all.iter().filter(|u| u.1 == "pending").count()),
        ("deactivated", all.iter().filter(|u| u.1 == "deactivated").count()),
        ("external", all.iter().filter(|u| u.2).count()),
        ("rooms", all.iter().filter(|u| u.3).count()),
        ("webinar licenses", all.iter().filter(|u| u.4).count()),
        ("phone licenses", all.iter().filter(|u| u.5).count()),
    ] {
        assert!(n > 0, "no {what}");
    }
    let roles: Vec<String> = custom_roles::table.select(custom_roles::name).load(&mut *c).unwrap();
    assert_eq!(roles, ["Helpdesk"]);
    let domains: Vec<String> = managed_domains::table
        .select(managed_domains::domain)
        .load(&mut *c)
        .unwrap();
    assert_eq!(domains, ["acme.example"]);
    // A demo with a history (issue 18): weeks of audit entries, users due
    // for automatic deletion within the month, a scheduled leaver.
    let now = offboard::services::now();
    let account: i64 = users::table
        .filter(users::email.eq("owner@acme.example"))
        .select(users::account_id)
        .first(&mut *c)
        .unwrap();
    let days = offboard::services::audit::per_day(&mut c, account, now.date(), 30).unwrap();
    let active_days = days.iter().filter(|(_, n)| n.iter().sum::<i64>() > 0).count();
    assert!(active_days >= 14, "{days:?}");
    let overview = offboard::services::auto_delete::overview(&mut c, account, now).unwrap();
    assert_eq!(overview.due_now, 0, "nobody is due at once");
    assert!(
        overview.next_days.iter().map(|d| d.1).sum::<i64>() > 0,
        "some are due this month"
    );
    let plans: i64 = scheduled_acts::table.count().get_result(&mut *c).unwrap();
    assert_eq!(plans, 1);
    drop(c);
    let _ = std::fs::remove_file(&db);
}

#[test]
fn a_bad_setting_or_address_stops_the_command_with_a_clear_message() {
    let db = temp_db("bad");
    let (ok, out) = offboard(&db, &["create-owner", "--email", "boss"], Some("a long password\n"));
    assert!(!ok && out.contains("'boss' is not an email address"), "{out}");
    for (env, says) in [
        (vec![("OFFBOARD_IMPORT_BATCH", "0")], "OFFBOARD_IMPORT_BATCH must be"),
        (
            vec![("OFFBOARD_JOB_RETENTION_DAYS", "forever")],
            "OFFBOARD_JOB_RETENTION_DAYS must be",
        ),
        (vec![("OFFBOARD_SWEEP_SECONDS", "-5")], "OFFBOARD_SWEEP_SECONDS must be"),
        (
            vec![("SMTP_URL", "smtp://127.0.0.1:2525"), ("OFFBOARD_MAIL_FROM", "nobody")],
            "OFFBOARD_MAIL_FROM must be",
        ),
    ] {
        let (ok, out) = offboard_with(&db, &["migrate"], None, &env);
        assert!(!ok && out.contains(says), "{env:?}: {out}");
    }
    let _ = std::fs::remove_file(&db);
}

/// `offboard webhook add` prints the secret as the last word of its first
/// line before the challenge goes out; the receiver reads it from there.
#[test]
fn webhook_add_prints_the_secret_first_then_validates() {
    use std::io::{BufRead, BufReader};
    let db = temp_db("webhook");
    assert!(offboard(&db, &["seed", "--demo"], None).0);
    let receiver = crate::webhooks::Receiver::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args([
            "webhook",
            "add",
            "--owner",
            "owner@acme.example",
            "--url",
            &receiver.url,
        ])
        .args(["--events", "user.deactivated,user.deleted"])
        .env("DATABASE_URL", &db)
        .env("OFFBOARD_SECRET_KEY", "ef".repeat(64))
        .env("OFFBOARD_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let secret = first.split_whitespace().last().unwrap().to_string();
    assert_eq!(secret.len(), 48, "{first}");
    *receiver.secret.lock().unwrap() = secret;
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(rest.contains("validated"), "{rest}");

    // Nobody listening: kept, unvalidated, exit 0 with a warning.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/gone", closed.local_addr().unwrap());
    drop(closed);
    let (ok, text) = offboard_with(
        &db,
        &[
            "webhook",
            "add",
            "--owner",
            "owner@acme.example",
            "--url",
            &url,
            "--events",
            "user.deleted",
        ],
        None,
        &[("OFFBOARD_WEBHOOK_ALLOW_PRIVATE", "true")],
    );
    assert!(ok, "{text}");
    assert!(text.contains("warning: validation failed"), "{text}");
    // Without the setting, a loopback destination is refused before anything is stored.
    let (ok, text) = offboard(
        &db,
        &[
            "webhook",
            "add",
            "--owner",
            "owner@acme.example",
            "--url",
            "http://127.0.0.1:9/x",
            "--events",
            "user.deleted",
        ],
        None,
    );
    assert!(!ok && text.contains("private"), "{text}");
}
#[test]
fn api_token_create_prints_the_token_last_and_revoke_ends_it() {
    let db = temp_db("api-token");
    let (ok, out) = offboard(&db, &["seed", "--demo"], None);
    assert!(ok, "{out}");
    let create = [
        "api-token",
        "create",
        "--owner",
        "owner@acme.example",
        "--name",
        "HR",
        "--scopes",
        "user:read,user:write,user:delete",
    ];
    let (ok, out) = offboard(&db, &create, None);
    assert!(ok, "{out}");
    let token = out.split_whitespace().last().unwrap().to_string();
    assert!(token.starts_with("obt_"), "{out}");
    let pool = db::connect(&DbUrl::Sqlite(db.clone()), 1).unwrap();
    let now = offboard::services::now();
    let caller = offboard::services::api_tokens::authenticate(&mut pool.get().unwrap(), &token, now).unwrap();
    assert_eq!(caller.unwrap().scopes.len(), 3);
    // A member may not; a scope that does not exist is refused.
    let (ok, out) = offboard(
        &db,
        &[
            "api-token",
            "create",
            "--owner",
            "owner@acme.example",
            "--name",
            "x",
            "--scopes",
            "user:all",
        ],
        None,
    );
    assert!(!ok && out.contains("user:all"), "{out}");
    let (ok, out) = offboard(
        &db,
        &["api-token", "revoke", "HR", "--owner", "owner@acme.example"],
        None,
    );
    assert!(ok && out.contains("revoked"), "{out}");
    let caller = offboard::services::api_tokens::authenticate(&mut pool.get().unwrap(), &token, now).unwrap();
    assert!(caller.is_none());
    drop(pool);
    let _ = std::fs::remove_file(&db);
}

/// The server's pool on SQLite (issue 20): its connections never copy the
/// WAL back in a commit; the checkpoint thread does, without being asked.
#[test]
fn the_server_pool_leaves_the_wal_to_the_checkpoint_thread() {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        wal_autocheckpoint: i64,
    }
    let db = temp_db("checkpoint");
    let pool = db::connect_serving(&DbUrl::Sqlite(db.clone()), 2).unwrap();
    let mut conn = pool.get().unwrap();
    let db::DbConn::Sqlite(c) = &mut *conn else {
        unreachable!()
    };
    let setting: Setting = diesel::sql_query("PRAGMA wal_autocheckpoint").get_result(c).unwrap();
    assert_eq!(setting.wal_autocheckpoint, 0);
    let before = std::fs::metadata(&db).unwrap().len();
    // 8 MB written: in WAL mode the database file grows only by a checkpoint.
    c.batch_execute(
        "CREATE TABLE filler (b BLOB); \
         WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 2000) \
         INSERT INTO filler SELECT randomblob(4000) FROM k;",
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::metadata(&db).unwrap().len() < before + 8_000_000 {
        assert!(std::time::Instant::now() < deadline, "the WAL was never copied back");
        std::thread::sleep(db::CHECKPOINT_EVERY);
    }
    drop(conn);
    let _ = std::fs::remove_file(&db);
}
