//! Deactivate, activate, unlink, delete and edit one user: every rule, on
//! the data it leaves behind (R1-R5, R10-R14, R30-R32, R40-R46, R50-R53).

use actix_web::http::StatusCode;
use diesel::prelude::*;
use offboard::db::schema::{accounts, phone_records, users};

use crate::support::*;

const ALL_KINDS: [(&str, &str); 4] = [
    ("transfer_meetings", "yes"),
    ("transfer_webinars", "yes"),
    ("transfer_events", "yes"),
    ("transfer_recordings", "yes"),
];

fn with(
    fields: &[(&'static str, &'static str)],
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut v = fields.to_vec();
    v.extend_from_slice(extra);
    v
}

#[actix_web::test]
async fn r10_deactivate_removes_every_license_and_keeps_settings() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("m@acme.test").webinar().phone());
    diesel::update(users::table.find(id))
        .set(users::settings.eq("{\"lang\":\"nl\"}"))
        .execute(&mut *app.conn())
        .unwrap();
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let r = c.post(&format!("/users/{id}/deactivate"), &[("mode", "now")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let u = app.load_user(id).unwrap();
    assert_eq!(u.status.as_str(), "deactivated");
    assert_eq!(u.user_type.as_str(), "basic");
    assert!(!u.webinar_license && !u.phone_license);
    assert!(u.deactivated_at.is_some());
    assert_eq!(u.settings, "{\"lang\":\"nl\"}");
    let audit = app.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (
            audit[0].action.as_str(),
            audit[0].target_email.as_str(),
            audit[0].actor_email.as_str()
        ),
        ("deactivate", "m@acme.test", "owner@acme.test")
    );
    assert_eq!(audit[0].source, "single");
    // The flash shows on the next page.
    let page = c.get("/users").await;
    assert!(
        page.alert().unwrap_or_default().contains("m@acme.test was deactivated"),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn r11_deactivation_ends_the_users_sessions_and_refuses_sign_in() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("m@acme.test"));
    let member = app.signed_in("m@acme.test").await;
    assert_eq!(member.get("/profile").await.status, StatusCode::OK);
    let admin = app.signed_in("owner@acme.test").await;
    admin.get("/users").await;
    admin.post(&format!("/users/{id}/deactivate"), &[("mode", "now")]).await;
    assert_eq!(member.get("/profile").await.status, StatusCode::SEE_OTHER);
    let r = app.client().sign_in("m@acme.test", PASSWORD).await;
    assert!(r.alert().unwrap_or_default().contains("deactivated"));
}

#[actix_web::test]
async fn r12_deactivated_users_are_not_found_in_the_directory() {
    let app = TestApp::new();
    let id = app.named("jan@acme.test", "Jan", "Jansen");
    app.named("janneke@acme.test", "Janneke", "Smit");
    app.user(UserSpec::member("m@acme.test"));
    let member = app.signed_in("m@acme.test").await;
    let before = attr_values(&member.get("/directory?q=jan").await.body, "data-contact-email");
    assert_eq!(before, ["jan@acme.test", "janneke@acme.test"]);
    let admin = app.signed_in("owner@acme.test").await;
    admin.get("/users").await;
    admin.post(&format!("/users/{id}/deactivate"), &[]).await;
    let after = attr_values(&member.get("/directory?q=jan").await.body, "data-contact-email");
    assert_eq!(after, ["janneke@acme.test"]);
}

#[actix_web::test]
async fn r13_external_user_loses_what_they_had_here() {
    let app = TestApp::new();
    let role: i64 = diesel::insert_into(offboard::db::schema::custom_roles::table)
        .values((
            offboard::db::schema::custom_roles::account_id.eq(app.account_id),
            offboard::db::schema::custom_roles::name.eq("Guests"),
        ))
        .returning(offboard::db::schema::custom_roles::id)
        .get_result(&mut *app.conn())
        .unwrap();
    let id = app.user(
        UserSpec::member("guest@partner.test")
            .external()
            .licensed()
            .custom_role(role),
    );
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    c.post(&format!("/users/{id}/deactivate"), &[]).await;
    let u = app.load_user(id).unwrap();
    assert_eq!(
        (u.status.as_str(), u.user_type.as_str(), u.custom_role_id),
        ("deactivated", "basic", None)
    );
}

#[actix_web::test]
async fn r14_activate_brings_the_user_back_without_licenses() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("m@acme.test").webinar());
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    c.post(&format!("/users/{id}/deactivate"), &[]).await;
    let r = c.htmx_post(&format!("/users/{id}/activate"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.alert().unwrap_or_default().contains("not restored"));
    assert_eq!(r.header("hx-trigger").as_deref(), Some("users-changed"));
    let u = app.load_user(id).unwrap();
    assert_eq!(
        (u.status.as_str(), u.user_type.as_str(), u.webinar_license),
        ("active", "basic", false)
    );
    assert!(u.deactivated_at.is_none());
    assert_eq!(
        app.client().sign_in("m@acme.test", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn r1_members_cannot_act_even_with_forged_requests() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("victim@acme.test"));
    app.user(UserSpec::member("m@acme.test"));
    let c = app.signed_in("m@acme.test").await;
    c.get("/profile").await;
    for action in ["deactivate", "unlink", "delete", "edit"] {
        let r = c
            .post(&format!("/users/{id}/{action}"), &[("mode", "now"), ("role", "member")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{action}");
        assert_eq!(
            c.get(&format!("/users/{id}/{action}")).await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(app.load_user(id).unwrap().status.as_str(), "active");
    assert!(app.audit().is_empty());
}

#[actix_web::test]
async fn r2_pending_users_cannot_be_acted_on() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("p@acme.test").status("pending"));
    let c = app.signed_in("owner@acme.test").await;
    let page = c.get("/users?q=p%40").await;
    assert!(
        attr_values(&page.body, "data-action").iter().all(|a| a == "edit"),
        "only Edit is offered"
    );
    for action in ["deactivate", "unlink", "delete"] {
        let r = c.post(&format!("/users/{id}/{action}"), &[("mode", "now")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}");
        assert!(r.alert().unwrap_or_default().contains("not activated"));
    }
    assert_eq!(app.load_user(id).unwrap().status.as_str(), "pending");
    assert!(app.audit().is_empty());
}

#[actix_web::test]
async fn r3_admins_become_members_first_and_only_the_owner_changes_them() {
    let app = TestApp::new();
    let target = app.user(UserSpec::admin("boss2@acme.test"));
    app.user(UserSpec::admin("a@acme.test"));
    let owner = app.signed_in("owner@acme.test").await;
    owner.get("/users").await;
    for action in ["deactivate", "unlink", "delete"] {
        let r = owner
            .post(&format!("/users/{target}/{action}"), &[("mode", "now")])
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(
            r.alert().unwrap_or_default().contains("changed into a member"),
            "{}",
            r.body
        );
    }
    // Another admin may not demote an admin.
    let admin = app.signed_in("a@acme.test").await;
    admin.get("/users").await;
    let dialog = admin.get(&format!("/users/{target}/edit")).await;
    assert!(
        dialog.alert().unwrap_or_default().contains("only the account owner"),
        "{}",
        dialog.body
    );
    let r = admin
        .post(&format!("/users/{target}/edit"), &[("role", "member")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(app.load_user(target).unwrap().role.as_str(), "admin");
    // The owner does: Edit -> Member -> Save, then the deactivation works.
    let r = owner
        .post(&format!("/users/{target}/edit"), &[("role", "member")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.load_user(target).unwrap().role.as_str(), "member");
    let r = owner.post(&format!("/users/{target}/deactivate"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let actions: Vec<String> = app.audit().into_iter().map(|a| a.action).collect();
    assert_eq!(actions, ["change_role", "deactivate"]);
}

#[actix_web::test]
async fn r3_role_change_ends_the_users_sessions() {
    let app = TestApp::new();
    let id = app.user(UserSpec::admin("a@acme.test"));
    let admin = app.signed_in("a@acme.test").await;
    assert_eq!(admin.get("/users").await.status, StatusCode::OK);
    let owner = app.signed_in("owner@acme.test").await;
    owner.get("/users").await;
    owner.post(&format!("/users/{id}/edit"), &[("role", "member")]).await;
    assert_eq!(admin.get("/users").await.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn r4_owner_and_own_user_are_untouchable() {
    let app = TestApp::new();
    let admin_id = app.user(UserSpec::admin("a@acme.test"));
    let c = app.signed_in("a@acme.test").await;
    c.get("/users").await;
    for action in ["deactivate", "unlink", "delete"] {
        let r = c
            .post(&format!("/users/{}/{action}", app.owner_id), &[("mode", "now")])
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.alert().unwrap_or_default().contains("owner"));
        let r = c.post(&format!("/users/{admin_id}/{action}"), &[("mode", "now")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
    }
    let r = c
        .post(&format!("/users/{}/edit", app.owner_id), &[("role", "member")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(app.load_user(app.owner_id).unwrap().role.as_str(), "owner");
    // The UI offers nothing on the owner's row.
    let page = c.get("/users?q=owner").await;
    assert!(attr_values(&page.body, "data-action").is_empty(), "{}", page.body);
}

#[actix_web::test]
async fn r31_managed_domain_users_cannot_be_unlinked() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("m@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    let page = c.get("/users?q=m%40").await;
    assert!(!attr_values(&page.body, "data-action").contains(&"unlink".to_string()));
    let r = c.post(&format!("/users/{id}/unlink"), &[("mode", "now")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.alert().unwrap_or_default().contains("managed domain"));
    assert_eq!(app.load_user(id).unwrap().account_id, app.account_id);
}

#[actix_web::test]
async fn r30_r53_unlink_gives_a_free_account_with_untransferred_data() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("free@gmail.test").licensed());
    let to = app.user(UserSpec::member("keeper@acme.test").licensed());
    app.give(
        id,
        Owned {
            meetings: 3,
            pmi: 1,
            webinars: 1,
            events: 2,
            recordings: 2,
            phone: 1,
        },
    );
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let r = c
        .post(
            &format!("/users/{id}/unlink"),
            &[
                ("mode", "transfer"),
                ("transfer_recordings", "yes"),
                ("transfer_to", "keeper@acme.test"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let u = app.load_user(id).unwrap();
    assert_ne!(u.account_id, app.account_id);
    assert_eq!(
        (u.role.as_str(), u.user_type.as_str(), u.status.as_str()),
        ("owner", "basic", "active")
    );
    let is_free: bool = accounts::table
        .find(u.account_id)
        .select(accounts::is_free)
        .first(&mut *app.conn())
        .unwrap();
    assert!(is_free);
    assert_eq!(
        app.owned(id),
        (3, 1, 2, 0),
        "meetings, webinars and events go along; recordings were transferred"
    );
    assert_eq!(app.owned(to), (0, 0, 0, 2));
    // No longer in this account's table; can sign in to their own account.
    assert!(c.get("/users?q=free").await.emails().is_empty());
    let a = app.audit();
    assert_eq!(
        (
            a[0].action.as_str(),
            a[0].recordings_transferred,
            a[0].transfer_to_email.as_deref()
        ),
        ("unlink", 2, Some("keeper@acme.test"))
    );
}

#[actix_web::test]
async fn r32_unlinking_an_external_user_ends_their_access_here() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("guest@acme.test").external());
    let guest = app.signed_in("guest@acme.test").await;
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let r = c.post(&format!("/users/{id}/unlink"), &[("mode", "now")]).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "external users in a managed domain may still be unlinked: {}",
        r.body
    );
    assert_ne!(app.load_user(id).unwrap().account_id, app.account_id);
    assert_eq!(
        guest.get("/profile").await.status,
        StatusCode::SEE_OTHER,
        "their session here ended"
    );
}

#[actix_web::test]
async fn r40_r42_r45_delete_with_transfer_of_meetings_only() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("leaver@acme.test").licensed().phone());
    let to = app.user(UserSpec::member("heir@acme.test"));
    app.give(
        id,
        Owned {
            meetings: 4,
            pmi: 1,
            webinars: 2,
            events: 1,
            recordings: 3,
            phone: 2,
        },
    );
    let c = app.signed_in("owner@acme.test").await;
    let dialog = c.get(&format!("/users/{id}/delete")).await;
    assert_eq!(
        attr_values(&dialog.body, "data-count"),
        ["meetings", "webinars", "events", "recordings"]
    );
    assert!(
        dialog.body.contains("data-count=\"meetings\">3<"),
        "3 transferable meetings: {}",
        dialog.body
    );
    assert!(dialog
        .body
        .contains("1 meetings on the Personal Meeting ID cannot be transferred"));
    assert!(dialog.body.contains("2 phone call recordings and voicemails stay"));
    let r = c
        .post(
            &format!("/users/{id}/delete"),
            &[
                ("mode", "transfer"),
                ("transfer_meetings", "yes"),
                ("transfer_to", "heir@acme.test"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(app.load_user(id).is_none());
    assert_eq!(app.owned(to), (3, 0, 0, 0), "the non-PMI meetings went to the heir");
    assert_eq!(
        app.owned(id),
        (0, 0, 0, 0),
        "webinars, events, recordings and the PMI meeting are gone"
    );
    let phones: Vec<(Option<i64>, String)> = phone_records::table
        .filter(phone_records::account_id.eq(app.account_id))
        .select((phone_records::user_id, phone_records::user_email))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(
        phones,
        vec![(None, "leaver@acme.test".to_string()); 2],
        "phone records stay in the account log"
    );
    let a = &app.audit()[0];
    assert_eq!(
        (a.action.as_str(), a.meetings_transferred, a.webinars_transferred),
        ("delete", 3, 0)
    );
    assert!(a.detail.contains("1 on the PMI"), "{}", a.detail);
}

#[actix_web::test]
async fn r41_the_email_is_free_again_after_delete() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("again@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    c.post(&format!("/users/{id}/delete"), &[("mode", "now")]).await;
    assert!(app.load_user(id).is_none());
    let new_id = app.user(UserSpec::member("again@acme.test"));
    assert_ne!(new_id, id);
}

#[actix_web::test]
async fn r43_rooms_are_not_deleted_from_the_users_page() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("room-1@acme.test").room());
    let c = app.signed_in("owner@acme.test").await;
    let page = c.get("/users?q=room").await;
    assert!(!attr_values(&page.body, "data-action").contains(&"delete".to_string()));
    let r = c.post(&format!("/users/{id}/delete"), &[("mode", "now")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.alert().unwrap_or_default().contains("Rooms page"));
    assert!(app.load_user(id).is_some());
}

#[actix_web::test]
async fn r44_a_deactivated_user_can_be_deleted_one_at_a_time() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("off@acme.test").status("deactivated"));
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let r = c.post(&format!("/users/{id}/delete"), &[("mode", "now")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.load_user(id).is_none());
}

#[actix_web::test]
async fn r46_deleting_an_external_user_may_transfer_their_data() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("guest@partner.test").external());
    let to = app.user(UserSpec::member("host@acme.test"));
    app.give(
        id,
        Owned {
            meetings: 2,
            events: 1,
            ..Default::default()
        },
    );
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let fields = with(
        &[("mode", "transfer"), ("transfer_to", "host@acme.test")],
        &[("transfer_meetings", "yes"), ("transfer_events", "yes")],
    );
    let r = c.post(&format!("/users/{id}/delete"), &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(app.load_user(id).is_none());
    assert_eq!(app.owned(to), (2, 0, 1, 0));
}

#[actix_web::test]
async fn r51_transfer_target_must_be_an_active_user_of_this_account() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("leaver@acme.test").licensed());
    app.give(
        id,
        Owned {
            meetings: 2,
            ..Default::default()
        },
    );
    app.user(UserSpec::member("off@acme.test").status("deactivated"));
    app.user(UserSpec::member("new@acme.test").status("pending"));
    let (other, _) = app.other_account("boss@other.test");
    app.user_in(other, UserSpec::member("stranger@other.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    for (to, why) in [
        ("off@acme.test", "active user"),
        ("new@acme.test", "active user"),
        ("stranger@other.test", "active user"),
        ("leaver@acme.test", "being removed"),
        ("nobody@acme.test", "choose a user"),
        ("", "choose a user"),
    ] {
        let r = c
            .post(
                &format!("/users/{id}/delete"),
                &[("mode", "transfer"), ("transfer_meetings", "yes"), ("transfer_to", to)],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{to}");
        assert!(r.alert().unwrap_or_default().contains(why), "{to}: {:?}", r.alert());
        assert!(app.load_user(id).is_some(), "nothing changed");
        assert_eq!(app.owned(id).0, 2);
    }
    assert!(app.audit().is_empty());
}

#[actix_web::test]
async fn r52_recordings_need_a_licensed_target_and_webinars_a_webinar_license() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("leaver@acme.test").webinar());
    app.give(
        id,
        Owned {
            webinars: 1,
            recordings: 1,
            ..Default::default()
        },
    );
    app.user(UserSpec::member("basic@acme.test"));
    app.user(UserSpec::member("licensed@acme.test").licensed());
    let webinar_to = app.user(UserSpec::member("webinar@acme.test").webinar());
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    let r = c
        .post(
            &format!("/users/{id}/delete"),
            &[
                ("mode", "transfer"),
                ("transfer_recordings", "yes"),
                ("transfer_to", "basic@acme.test"),
            ],
        )
        .await;
    assert!(r.alert().unwrap_or_default().contains("licensed target"));
    let r = c
        .post(
            &format!("/users/{id}/delete"),
            &[
                ("mode", "transfer"),
                ("transfer_webinars", "yes"),
                ("transfer_to", "licensed@acme.test"),
            ],
        )
        .await;
    assert!(r.alert().unwrap_or_default().contains("webinar license"));
    assert!(app.load_user(id).is_some());
    let fields = with(
        &[("mode", "transfer"), ("transfer_to", "webinar@acme.test")],
        &ALL_KINDS,
    );
    let r = c.post(&format!("/users/{id}/delete"), &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.owned(webinar_to), (0, 1, 0, 1));
}

#[actix_web::test]
async fn a_target_deactivated_between_dialog_and_confirm_changes_nothing() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("leaver@acme.test"));
    let heir = app.user(UserSpec::member("heir@acme.test"));
    app.give(
        id,
        Owned {
            meetings: 1,
            ..Default::default()
        },
    );
    let c = app.signed_in("owner@acme.test").await;
    let dialog = c.get(&format!("/users/{id}/delete")).await;
    assert_eq!(dialog.status, StatusCode::OK);
    // Another admin deactivates the heir meanwhile.
    app.user(UserSpec::admin("a2@acme.test"));
    let a2 = app.signed_in("a2@acme.test").await;
    a2.get("/users").await;
    a2.post(&format!("/users/{heir}/deactivate"), &[]).await;
    let r = c
        .post(
            &format!("/users/{id}/delete"),
            &[
                ("mode", "transfer"),
                ("transfer_meetings", "yes"),
                ("transfer_to", "heir@acme.test"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(app.load_user(id).is_some());
    assert_eq!(app.owned(id).0, 1);
    assert_eq!(app.audit().len(), 1, "only the other admin's deactivation");
}

#[actix_web::test]
async fn forged_and_malformed_requests_are_refused_and_change_nothing() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("m@acme.test"));
    let (other, _) = app.other_account("boss@other.test");
    let stranger = app.user_in(other, UserSpec::member("stranger@other.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    // Another account's user: not found, whatever the action.
    for action in ["deactivate", "delete", "edit"] {
        assert_eq!(
            c.post(&format!("/users/{stranger}/{action}"), &[("role", "member")])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            c.get(&format!("/users/{stranger}/{action}")).await.status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(app.load_user(stranger).unwrap().status.as_str(), "active");
    assert_eq!(
        c.post(&format!("/users/{id}/explode"), &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.post("/users/not-a-number/delete", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    let r = c.post(&format!("/users/{id}/delete"), &[("mode", "sideways")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c
        .post(
            &format!("/users/{id}/delete"),
            &[("mode", "transfer"), ("transfer_to", "owner@acme.test")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "transfer with nothing chosen");
    let r = c.post(&format!("/users/{id}/edit"), &[("role", "owner")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c
        .post_without_csrf(&format!("/users/{id}/delete"), &[("mode", "now")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.load_user(id).unwrap().status.as_str(), "active");
    assert!(app.audit().is_empty());
}

#[actix_web::test]
async fn dialogs_open_as_htmx_partials_and_as_pages() {
    let app = TestApp::new();
    let id = app.user(UserSpec::member("m@elsewhere.test"));
    let c = app.signed_in("owner@acme.test").await;
    let part = c.htmx_get(&format!("/users/{id}/delete")).await;
    assert!(!part.body.contains("<html"));
    assert!(part.body.contains("role=\"dialog\""));
    assert!(part.body.contains("Transfer data, then delete"));
    assert!(part.body.contains("Delete now without data transfer"));
    let page = c.get(&format!("/users/{id}/unlink")).await;
    assert!(page.body.contains("<html"));
    assert!(page.body.contains("Unlink now without data transfer"));
    let edit = c.htmx_get(&format!("/users/{id}/edit")).await;
    assert!(edit.body.contains("name=\"role\""));
}
