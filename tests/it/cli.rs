//! The `offboard` command: migrate, seed --demo, create-owner.

use std::io::Write;
use std::process::{Command, Stdio};

use diesel::prelude::*;
use offboard::db::schema::{custom_roles, managed_domains, users};
use offboard::db::{self, DbUrl};
use offboard::services::auth::{self, SignIn};

fn temp_db(name: &str) -> String {
    let p = std::env::temp_dir().join(format!("offboard-cli-{}-{name}.db", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p.to_string_lossy().into_owned()
}

fn offboard(db: &str, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_offboard"))
        .args(args)
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
    drop(c);
    let _ = std::fs::remove_file(&db);
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
