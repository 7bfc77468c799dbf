//! Scheduled offboarding (B7): planned on the row, carried out by the
//! scheduler when due under the rules that hold then, with the clock moved
//! by the test rather than slept through.

use actix_web::http::StatusCode;
use chrono::Duration;
use diesel::prelude::*;
use offboard::db::schema::{mail_outbox, scheduled_acts, users};
use offboard::worker::run_plans;

use crate::support::*;

fn in_a_day() -> String {
    (offboard::services::now() + Duration::days(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

fn plan_state(app: &TestApp, user: i64) -> Vec<(String, String)> {
    scheduled_acts::table
        .filter(scheduled_acts::user_id.eq(user))
        .order(scheduled_acts::id)
        .select((scheduled_acts::state, scheduled_acts::outcome))
        .load(&mut *app.conn())
        .expect("plans")
}

#[actix_web::test]
async fn a_planned_deactivation_happens_when_due_and_not_before() {
    let app = TestApp::new();
    let leaver = app.user(UserSpec::member("leaver@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    let dialog = c.htmx_get(&format!("/users/{leaver}/schedule")).await;
    assert_eq!(dialog.status, StatusCode::OK);
    let at = in_a_day();
    let r = c
        .post(
            &format!("/users/{leaver}/schedule"),
            &[("action", "deactivate"), ("at", &at), ("mode", "now")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get("/users?q=leaver").await;
    assert!(page.body.contains("data-scheduled"), "the badge");
    // The filter lists the scheduled users only.
    app.user(UserSpec::member("stays@acme.test"));
    let filtered = c.get("/users?status=scheduled").await;
    assert_eq!(filtered.emails(), vec!["leaver@acme.test"]);
    assert!(page.body.contains("data-action=\"cancel-schedule\""));
    let pool = &app.state.pool;
    let now = offboard::services::now();
    assert_eq!(run_plans(pool, now).expect("run"), (0, 0), "not yet");
    assert_eq!(app.load_user(leaver).expect("user").status.as_str(), "active");
    assert_eq!(
        run_plans(pool, now + Duration::days(1) + Duration::seconds(30)).expect("run"),
        (1, 0)
    );
    assert_eq!(app.load_user(leaver).expect("user").status.as_str(), "deactivated");
    assert_eq!(plan_state(&app, leaver), vec![("done".to_string(), String::new())]);
    let acts: Vec<String> = app.audit().into_iter().map(|e| e.action).collect();
    assert!(acts.contains(&"schedule".to_string()) && acts.contains(&"deactivate".to_string()));
}

#[actix_web::test]
async fn a_plan_the_rules_refuse_when_due_is_recorded_and_mailed() {
    let app = TestApp::new();
    let leaver = app.user(UserSpec::member("leaver@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    let at = in_a_day();
    c.post(
        &format!("/users/{leaver}/schedule"),
        &[("action", "delete"), ("at", &at), ("mode", "now")],
    )
    .await;
    // Meanwhile the leaver became an admin: admins cannot be deleted (R3).
    diesel::update(users::table.find(leaver))
        .set(users::role.eq("admin"))
        .execute(&mut *app.conn())
        .expect("promote");
    let later = offboard::services::now() + Duration::days(2);
    assert_eq!(run_plans(&app.state.pool, later).expect("run"), (0, 1));
    assert!(app.load_user(leaver).is_some(), "nothing was done");
    let plans = plan_state(&app, leaver);
    assert_eq!(plans[0].0, "refused");
    assert!(!plans[0].1.is_empty(), "the reason is kept");
    let mails: Vec<(String, String)> = mail_outbox::table
        .select((mail_outbox::to_email, mail_outbox::subject))
        .load(&mut *app.conn())
        .expect("mail");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].0, "owner@acme.test");
    assert!(mails[0].1.contains("leaver@acme.test"));
}

#[actix_web::test]
async fn a_cancelled_plan_does_nothing_and_a_past_moment_is_refused() {
    let app = TestApp::new();
    let leaver = app.user(UserSpec::member("leaver@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    let at = in_a_day();
    c.post(
        &format!("/users/{leaver}/schedule"),
        &[("action", "deactivate"), ("at", &at), ("mode", "now")],
    )
    .await;
    let r = c.htmx_post(&format!("/users/{leaver}/schedule/cancel"), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        run_plans(&app.state.pool, offboard::services::now() + Duration::days(3)).expect("run"),
        (0, 0)
    );
    assert_eq!(app.load_user(leaver).expect("user").status.as_str(), "active");
    assert_eq!(plan_state(&app, leaver)[0].0, "cancelled");
    let r = c
        .htmx_post(
            &format!("/users/{leaver}/schedule"),
            &[("action", "deactivate"), ("at", "2020-01-01"), ("mode", "now")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The owner cannot be planned away either (R4), as now.
    let r = c
        .htmx_post(
            &format!("/users/{}/schedule", app.owner_id),
            &[("action", "deactivate"), ("at", &at), ("mode", "now")],
        )
        .await;
    assert!(r.status.is_client_error());
}
