//! The authorisation matrix: every state-changing route, every kind of
//! actor, every kind of target, one exact expected outcome each. Targets of
//! another account are never touchable (404); refusals change nothing.

use actix_web::http::StatusCode;
use offboard::domain::BULK_PRIVILEGE;

use crate::support::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Owner,
    Admin,
    Helpdesk,
    Member,
    Deactivated,
    SignedOut,
}

const ACTORS: [Who; 6] = [
    Who::Owner,
    Who::Admin,
    Who::Helpdesk,
    Who::Member,
    Who::Deactivated,
    Who::SignedOut,
];
const TARGETS: [&str; 8] = [
    "owner", "self", "admin", "member", "pending", "external", "room", "stranger",
];

/// A fresh account with one user of each kind; returns (actor email, target ids by kind).
fn world(who: Who) -> (TestApp, Option<&'static str>, Vec<(&'static str, i64)>) {
    let app = TestApp::new();
    let helpdesk_role = app.custom_role("Helpdesk", &[BULK_PRIVILEGE]);
    let admin = app.user(UserSpec::admin("admin@acme.test"));
    let helpdesk = app.user(UserSpec::admin("helpdesk@acme.test").custom_role(helpdesk_role));
    let member = app.user(UserSpec::member("member@gmail.test"));
    let actor_member = app.user(UserSpec::member("actor@gmail.test"));
    let gone = app.user(UserSpec::member("gone@gmail.test"));
    let pending = app.user(UserSpec::member("pending@gmail.test").status("pending"));
    let external = app.user(UserSpec::member("guest@acme.test").external());
    let room = app.user(UserSpec::member("room@gmail.test").room());
    let (other, _) = app.other_account("boss@other.test");
    let stranger = app.user_in(other, UserSpec::member("stranger@other.test"));
    let (email, me) = match who {
        Who::Owner => (Some("owner@acme.test"), app.owner_id),
        Who::Admin => (Some("admin@acme.test"), admin),
        Who::Helpdesk => (Some("helpdesk@acme.test"), helpdesk),
        Who::Member => (Some("actor@gmail.test"), actor_member),
        Who::Deactivated => (Some("gone@gmail.test"), gone),
        Who::SignedOut => (None, 0),
    };
    // The admin target is another admin than the actor.
    let other_admin = if who == Who::Admin { helpdesk } else { admin };
    let targets = vec![
        ("owner", app.owner_id),
        ("self", me),
        ("admin", other_admin),
        ("member", member),
        ("pending", pending),
        ("external", external),
        ("room", room),
        ("stranger", stranger),
    ];
    (app, email, targets)
}

async fn client_for<'a>(app: &'a TestApp, who: Who, email: Option<&str>) -> Client<'a> {
    match (who, email) {
        (Who::SignedOut, _) | (_, None) => {
            let c = app.client();
            c.get("/login").await;
            c
        }
        (Who::Deactivated, Some(e)) => {
            // Signed in while active, then deactivated: the session is over.
            let c = app.signed_in(e).await;
            c.get("/profile").await;
            let id = offboard::services::users::find_by_email(&mut app.conn(), app.account_id, e)
                .unwrap()
                .unwrap()
                .id;
            use diesel::prelude::*;
            diesel::update(offboard::db::schema::users::table.find(id))
                .set(offboard::db::schema::users::status.eq("deactivated"))
                .execute(&mut *app.conn())
                .unwrap();
            c
        }
        (_, Some(e)) => {
            let c = app.signed_in(e).await;
            c.get("/users").await;
            c
        }
    }
}

const OK: StatusCode = StatusCode::SEE_OTHER;
const NO: StatusCode = StatusCode::CONFLICT;
const FORBIDDEN: StatusCode = StatusCode::FORBIDDEN;
const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;

/// What a single-user action must answer.
fn expected(who: Who, action: &str, target: &str) -> StatusCode {
    match who {
        Who::SignedOut | Who::Deactivated => return StatusCode::SEE_OTHER, // to the sign-in page
        Who::Member => return FORBIDDEN,
        _ => {}
    }
    if target == "stranger" {
        return NOT_FOUND;
    }
    if target == "owner" || target == "self" {
        return NO;
    }
    if action == "edit" {
        // Making a user a member: only the owner changes an admin (R3).
        return if target == "admin" && who != Who::Owner { NO } else { OK };
    }
    match (action, target) {
        (_, "admin") => NO,
        (_, "pending") => NO,
        ("activate", _) => NO,
        ("delete", "room") => NO,
        _ => OK,
    }
}

#[actix_web::test]
async fn every_single_user_action_for_every_actor_and_target() {
    let mut checked = 0;
    for who in ACTORS {
        for action in ["deactivate", "activate", "unlink", "delete", "edit"] {
            let (app, email, targets) = world(who);
            let c = client_for(&app, who, email).await;
            assert_eq!(targets.len(), TARGETS.len());
            for (kind, id) in &targets {
                if *id == 0 {
                    continue;
                }
                let before = app.load_user(*id).map(|u| (u.status, u.role, u.account_id));
                let r = c
                    .post(&format!("/users/{id}/{action}"), &[("mode", "now"), ("role", "member")])
                    .await;
                let want = expected(who, action, kind);
                if who == Who::Deactivated {
                    // The first request ends the session (to sign-in); later ones carry no token.
                    assert!(
                        [StatusCode::SEE_OTHER, FORBIDDEN].contains(&r.status),
                        "{who:?} {action} {kind}: {}",
                        r.status
                    );
                    assert_ne!(r.header("location").as_deref(), Some("/"), "not signed in");
                } else {
                    assert_eq!(
                        r.status,
                        want,
                        "{who:?} {action} {kind}: {}",
                        r.alert().unwrap_or_default()
                    );
                }
                if want != OK {
                    let after = app.load_user(*id).map(|u| (u.status, u.role, u.account_id));
                    assert_eq!(before, after, "{who:?} {action} {kind}: a refusal changed nothing");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 200);
}

#[actix_web::test]
async fn every_account_wide_route_for_every_actor() {
    for who in ACTORS {
        let (app, email, targets) = world(who);
        let c = client_for(&app, who, email).await;
        let member = targets.iter().find(|(k, _)| *k == "member").unwrap().1.to_string();
        let out = matches!(who, Who::SignedOut | Who::Deactivated);
        let status = |owner: StatusCode, admin: StatusCode, helpdesk: StatusCode| match who {
            Who::Owner => owner,
            Who::Admin => admin,
            Who::Helpdesk => helpdesk,
            Who::Member => FORBIDDEN,
            _ => StatusCode::SEE_OTHER,
        };
        let r = c
            .htmx_post(
                "/users/bulk/preview",
                &[("action", "deactivate"), ("user_ids", &member)],
            )
            .await;
        let want = if out {
            StatusCode::UNAUTHORIZED
        } else {
            status(StatusCode::OK, FORBIDDEN, StatusCode::OK)
        };
        assert_eq!(r.status, want, "{who:?} bulk preview");
        // Signed out: sent to sign in. Deactivated: the first request above ended
        // the session, and with it the CSRF token.
        let refused = |s: StatusCode| match who {
            Who::SignedOut => StatusCode::SEE_OTHER,
            Who::Deactivated => FORBIDDEN,
            _ => s,
        };
        let r = c.post("/roles", &[("name", "New role")]).await;
        assert_eq!(r.status, refused(status(OK, NO, NO)), "{who:?} create role");
        let r = c.post("/users/advanced", &[("enabled", "on"), ("days", "30")]).await;
        assert_eq!(r.status, refused(status(OK, OK, NO)), "{who:?} advanced setting");
        let r = c.upload("deactivate", "f.csv", b"Email\nmember@gmail.test\n").await;
        // The upload's token is its first field, read after the sign-in check.
        let upload_refused = match who {
            Who::Deactivated => StatusCode::SEE_OTHER,
            _ => refused(status(OK, FORBIDDEN, OK)),
        };
        assert_eq!(r.status, upload_refused, "{who:?} CSV upload");
        // Webhooks: the owner and admins; not a custom role without "API tokens".
        let r = c.get("/webhooks").await;
        let want = match who {
            Who::Owner | Who::Admin => StatusCode::OK,
            Who::Helpdesk | Who::Member => FORBIDDEN,
            _ => StatusCode::SEE_OTHER,
        };
        assert_eq!(r.status, want, "{who:?} GET /webhooks");
        let r = c
            .post(
                "/webhooks",
                &[("url", "http://127.0.0.1:9/x"), ("events", "user.deleted")],
            )
            .await;
        let private_refused = StatusCode::BAD_REQUEST;
        assert_eq!(
            r.status,
            refused(status(private_refused, private_refused, FORBIDDEN)),
            "{who:?} add webhook"
        );
        // Sign out everywhere: the owner only (R11).
        let r = c.post(&format!("/users/{member}/sign-out-everywhere"), &[]).await;
        assert_eq!(r.status, refused(status(OK, NO, NO)), "{who:?} sign out everywhere");
        for path in ["/users", "/roles", "/import", "/audit", "/users/advanced"] {
            let r = c.get(path).await;
            let want = match who {
                Who::Owner | Who::Admin | Who::Helpdesk => StatusCode::OK,
                Who::Member => FORBIDDEN,
                _ => StatusCode::SEE_OTHER,
            };
            assert_eq!(r.status, want, "{who:?} GET {path}");
        }
        // Nothing of the other account is visible.
        if !out && who != Who::Member {
            assert!(!c.get("/users?q=stranger").await.body.contains("stranger@other.test"));
        }
    }
}
