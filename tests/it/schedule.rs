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
    // The Scheduled tab's count comes with the statuses' and is not one of them.
    assert!(
        page.body.contains(r#"data-status-tab="scheduled" data-count="1""#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"data-status-tab="all" data-count="2""#),
        "{}",
        page.body
    );
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

fn plans(app: &TestApp) -> Vec<(String, String, chrono::NaiveDateTime)> {
    scheduled_acts::table
        .filter(scheduled_acts::state.eq("scheduled"))
        .order(scheduled_acts::user_email)
        .select((
            scheduled_acts::user_email,
            scheduled_acts::action,
            scheduled_acts::due_at,
        ))
        .load(&mut *app.conn())
        .expect("plans")
}

/// A date this many days ahead, as `format` writes it.
fn days_ahead(days: i64, format: &str) -> (String, chrono::NaiveDate) {
    let day = (offboard::services::now() + Duration::days(days)).date();
    (day.format(format).to_string(), day)
}

#[actix_web::test]
async fn moments_are_read_and_shown_in_the_accounts_time_zone() {
    let app = TestApp::new();
    let leaver = app.user(UserSpec::member("leaver@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    let advanced = c.get("/users/advanced").await;
    assert!(advanced.body.contains("<option selected>UTC</option>"), "the default");
    let r = c
        .post("/users/advanced/time-zone", &[("time_zone", "Mars/Olympus")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(app.audit().is_empty(), "a bad zone changes nothing");
    let r = c
        .post("/users/advanced/time-zone", &[("time_zone", "Asia/Jakarta")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(c
        .get("/users/advanced")
        .await
        .body
        .contains("<option selected>Asia/Jakarta</option>"));
    let dialog = c.htmx_get(&format!("/users/{leaver}/schedule")).await;
    assert!(dialog.body.contains("Asia/Jakarta"), "the dialog names the zone");
    // A date alone: the start of that day in Jakarta (UTC+7), 17:00 UTC the day before.
    let (text, day) = days_ahead(10, "%Y-%m-%d");
    let r = c
        .post(
            &format!("/users/{leaver}/schedule"),
            &[("action", "deactivate"), ("at", &text), ("mode", "now")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let due = plans(&app)[0].2;
    assert_eq!(due, day.and_hms_opt(0, 0, 0).unwrap() - Duration::hours(7));
    let page = c.get("/users?status=scheduled").await;
    assert!(page.body.contains(&format!("{text} 00:00 WIB")), "{}", page.body);
    let acts: Vec<String> = app.audit().into_iter().map(|e| e.action).collect();
    assert_eq!(acts, vec!["time_zone", "schedule"]);
}

#[actix_web::test]
async fn the_bulk_bar_schedules_after_a_preview() {
    let app = TestApp::new();
    let a = app.user(UserSpec::member("a@acme.test"));
    let b = app.user(UserSpec::member("b@acme.test"));
    let boss = app.user(UserSpec::admin("boss@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    assert!(c.get("/users").await.body.contains("data-bulk-action=\"schedule\""));
    let (ids, at) = ([a, b, boss].map(|i| i.to_string()), in_a_day());
    let selection: Vec<(&str, &str)> = ids.iter().map(|i| ("user_ids", i.as_str())).collect();
    let mut fields = selection.clone();
    fields.push(("action", "schedule"));
    let dialog = c.htmx_post("/users/bulk/preview", &fields).await;
    assert!(dialog.body.contains("data-dialog=\"bulk-schedule\""), "{}", dialog.body);
    let mut fields = selection.clone();
    fields.extend([("action", "deactivate"), ("at", at.as_str())]);
    let preview = c.htmx_post("/users/bulk/preview", &fields).await;
    assert!(preview.body.contains("data-preview-allowed=\"2\""), "{}", preview.body);
    assert!(
        preview.body.contains("data-scheduled-at"),
        "the moment goes with the confirm"
    );
    assert!(plans(&app).is_empty(), "a preview plans nothing");
    let token = attr_values(&preview.body, "action")
        .into_iter()
        .find(|a| a.ends_with("/apply"))
        .expect("confirm form");
    let r = c
        .htmx_post(&token, &[("action", "deactivate"), ("at", &at), ("mode", "now")])
        .await;
    assert!(r.body.contains("data-result-done=\"2\""), "{}", r.body);
    let planned: Vec<String> = plans(&app).into_iter().map(|p| p.0).collect();
    assert_eq!(planned, vec!["a@acme.test", "b@acme.test"]);
    let sources: Vec<(String, String)> = app.audit().into_iter().map(|e| (e.action, e.source)).collect();
    assert_eq!(sources, vec![("schedule".into(), "bulk".into()); 2]);
    assert_eq!(app.load_user(a).unwrap().status.as_str(), "active", "not yet");
    let later = offboard::services::now() + Duration::days(2);
    assert_eq!(run_plans(&app.state.pool, later).expect("run"), (2, 0));
    assert_eq!(app.load_user(b).unwrap().status.as_str(), "deactivated");
}

#[actix_web::test]
async fn a_transfer_the_rules_refuse_now_is_not_scheduled() {
    let app = TestApp::new();
    let leaver = app.user(UserSpec::member("leaver@acme.test"));
    app.user(UserSpec::member("basic@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    let at = in_a_day();
    // Recordings need a licensed target (R52).
    let r = c
        .htmx_post(
            &format!("/users/{leaver}/schedule"),
            &[
                ("action", "delete"),
                ("at", &at),
                ("mode", "transfer"),
                ("transfer_recordings", "yes"),
                ("transfer_to", "basic@acme.test"),
            ],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert!(plans(&app).is_empty());
}

#[actix_web::test]
async fn a_csv_effective_date_schedules_the_row_instead() {
    let app = TestApp::new();
    for who in ["later", "now", "bad", "past"] {
        app.user(UserSpec::member(&format!("{who}@acme.test")));
    }
    let c = app.signed_in("owner@acme.test").await;
    let r = c
        .post("/users/advanced/time-zone", &[("time_zone", "Europe/Amsterdam")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // As Dutch Excel writes it: semicolons, day-first dates without leading zeros.
    let (dutch, day) = days_ahead(20, "%-d-%-m-%Y");
    let file = format!(
        "E-mailadres;Ingangsdatum\r\nlater@acme.test;{dutch}\r\nnow@acme.test;\r\nbad@acme.test;morgen\r\npast@acme.test;1-1-2020\r\n"
    );
    let r = c.upload("deactivate", "leavers.csv", file.as_bytes()).await;
    let job = crate::import::job_id_of(&r);
    let rows = crate::import::rows(&app, job);
    let states: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(states, vec!["pending", "pending", "invalid", "invalid"], "{rows:?}");
    assert!(
        rows[0].2.contains(&day.format("%Y-%m-%d 00:00 CE").to_string()),
        "{rows:?}"
    );
    assert!(
        rows[2].2.contains("morgen") && rows[3].2.contains("1-1-2020"),
        "{rows:?}"
    );
    c.get(&format!("/import/jobs/{job}")).await;
    c.post(&format!("/import/jobs/{job}/apply"), &[]).await;
    offboard::services::import::run_to_end(&mut app.conn(), job).unwrap();
    let report = c.get(&format!("/import/jobs/{job}")).await;
    assert!(report.body.contains("data-due-at="), "{}", report.body);
    let planned = plans(&app);
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].0, "later@acme.test");
    // Midnight in Amsterdam is 23:00 or 22:00 UTC the day before.
    let midnight = day.and_hms_opt(0, 0, 0).unwrap();
    assert!(
        [1, 2].contains(&(midnight - planned[0].2).num_hours()),
        "{:?}",
        planned[0].2
    );
    let status = |e: &str| {
        offboard::services::users::find_by_email(&mut app.conn(), app.account_id, e)
            .unwrap()
            .unwrap()
            .status
            .as_str()
            .to_string()
    };
    assert_eq!(status("now@acme.test"), "deactivated");
    assert_eq!(status("later@acme.test"), "active");
    let sources: Vec<(String, String)> = app.audit().into_iter().map(|e| (e.action, e.source)).collect();
    assert!(sources.contains(&("schedule".into(), "csv".into())), "{sources:?}");
}

#[actix_web::test]
async fn the_dialog_shows_what_the_heir_will_own_afterwards() {
    let app = TestApp::new();
    let leaver = app.user(UserSpec::member("leaver@acme.test"));
    let heir = app.user(UserSpec::member("heir@acme.test").licensed());
    let owned = |meetings, pmi, recordings| Owned {
        meetings,
        pmi,
        recordings,
        ..Default::default()
    };
    app.give(leaver, owned(3, 1, 2));
    app.give(heir, owned(1, 0, 1));
    let c = app.signed_in("owner@acme.test").await;
    let dialog = c.htmx_get(&format!("/users/{leaver}/delete")).await;
    assert!(dialog.body.contains("/heir"), "the dialog asks for it");
    let r = c
        .htmx_get(&format!(
            "/users/{leaver}/heir?transfer_to=heir%40acme.test&transfer_meetings=yes&transfer_recordings=yes"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // 1 + 2 movable meetings (the PMI one stays), 1 + 2 recordings.
    assert_eq!(
        attr_values(&r.body, "data-heir-after"),
        vec!["meetings", "webinars", "events", "recordings"]
    );
    assert!(r.body.contains("data-heir-after=\"meetings\">3<"), "{}", r.body);
    assert!(r.body.contains("data-heir-after=\"recordings\">3<"), "{}", r.body);
    let r = c
        .htmx_get(&format!(
            "/users/{leaver}/heir?transfer_to=nobody%40acme.test&transfer_meetings=yes"
        ))
        .await;
    assert!(r.body.contains("data-heir-refused"), "{}", r.body);
    assert!(app.audit().is_empty(), "looking changes nothing");
}
