//! Role management and the bulk privilege (R5).

use actix_web::http::StatusCode;
use diesel::prelude::*;
use offboard::db::schema::custom_roles;
use offboard::domain::BULK_PRIVILEGE;

use crate::support::*;

fn role_id(app: &TestApp, name: &str) -> i64 {
    custom_roles::table
        .filter(custom_roles::name.eq(name))
        .select(custom_roles::id)
        .first(&mut *app.conn())
        .unwrap()
}

async fn can_preview_bulk(c: &Client<'_>, user: i64) -> StatusCode {
    c.htmx_post(
        "/users/bulk/preview",
        &[("action", "deactivate"), ("user_ids", &user.to_string())],
    )
    .await
    .status
}

#[actix_web::test]
async fn the_owner_grants_and_takes_back_the_bulk_privilege_through_a_custom_role() {
    let app = TestApp::new();
    let admin = app.user(UserSpec::admin("a@acme.test"));
    let m = app.user(UserSpec::member("m@acme.test"));
    let owner = app.signed_in("owner@acme.test").await;
    owner.get("/roles").await;
    let r = owner
        .post("/roles", &[("name", "Helpdesk"), ("privilege", BULK_PRIVILEGE)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = owner.get("/roles").await;
    assert!(page.alert().unwrap_or_default().contains("Helpdesk was created"));
    assert!(page.body.contains(&format!("data-privilege=\"{BULK_PRIVILEGE}\"")));
    let helpdesk = role_id(&app, "Helpdesk");

    let a = app.signed_in("a@acme.test").await;
    a.get("/users").await;
    assert_eq!(can_preview_bulk(&a, m).await, StatusCode::FORBIDDEN);

    let dialog = owner.get(&format!("/users/{admin}/edit")).await;
    assert!(dialog.body.contains("name=\"custom_role\""));
    let r = owner
        .post(
            &format!("/users/{admin}/edit"),
            &[("role", "admin"), ("custom_role", &helpdesk.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.load_user(admin).unwrap().custom_role_id, Some(helpdesk));

    let a = app.signed_in("a@acme.test").await;
    let page = a.get("/users").await;
    assert!(!page.body.contains("data-bulk-action=\"deactivate\" disabled"));
    assert_eq!(can_preview_bulk(&a, m).await, StatusCode::OK);

    // The owner takes the privilege off the role: the admin is refused again.
    let r = owner.post(&format!("/roles/{helpdesk}"), &[("name", "Helpdesk")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    a.get("/users").await;
    assert_eq!(can_preview_bulk(&a, m).await, StatusCode::FORBIDDEN);

    let actions: Vec<String> = app.audit().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["create_role", "assign_role", "update_role"]);
}

#[actix_web::test]
async fn only_the_owner_manages_roles() {
    let app = TestApp::new();
    let role = app.custom_role("Helpdesk", &[BULK_PRIVILEGE]);
    let admin = app.user(UserSpec::admin("a@acme.test").custom_role(role));
    let other_admin = app.user(UserSpec::admin("b@acme.test"));
    app.user(UserSpec::member("m@acme.test"));
    let a = app.signed_in("a@acme.test").await;
    let page = a.get("/roles").await;
    assert_eq!(page.status, StatusCode::OK, "admins may look");
    assert!(page.body.contains("Only the account owner"));
    for (path, fields) in [
        (
            "/roles".to_string(),
            vec![("name", "Mine"), ("privilege", BULK_PRIVILEGE)],
        ),
        (format!("/roles/{role}"), vec![("name", "Renamed")]),
        (format!("/roles/{role}/delete"), vec![]),
    ] {
        let r = a.post(&path, &fields).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{path}");
        assert!(r
            .alert()
            .unwrap_or_default()
            .contains("only the account owner manages roles"));
    }
    let r = a
        .post(
            &format!("/users/{other_admin}/edit"),
            &[("role", "admin"), ("custom_role", &role.to_string())],
        )
        .await;
    assert_ne!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.load_user(other_admin).unwrap().custom_role_id, None);
    let m = app.signed_in("m@acme.test").await;
    assert_eq!(m.get("/roles").await.status, StatusCode::FORBIDDEN);
    m.get("/profile").await;
    assert_eq!(m.post("/roles", &[("name", "x")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.load_user(admin).unwrap().custom_role_id, Some(role));
    assert!(app.audit().is_empty());
}

#[actix_web::test]
async fn role_forms_refuse_bad_input() {
    let app = TestApp::new();
    app.custom_role("Helpdesk", &[]);
    let owner = app.signed_in("owner@acme.test").await;
    owner.get("/roles").await;
    for (name, privilege, why) in [
        ("", BULK_PRIVILEGE, "name"),
        ("X", "root:everything", "not a privilege"),
        ("Helpdesk", BULK_PRIVILEGE, "exists"),
        ("Admin", BULK_PRIVILEGE, "built-in"),
    ] {
        let r = owner.post("/roles", &[("name", name), ("privilege", privilege)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}");
        assert!(r.alert().unwrap_or_default().contains(why), "{name}: {:?}", r.alert());
    }
    let (other, _) = app.other_account("boss@other.test");
    let foreign: i64 = diesel::insert_into(custom_roles::table)
        .values((custom_roles::account_id.eq(other), custom_roles::name.eq("Theirs")))
        .returning(custom_roles::id)
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(
        owner.post(&format!("/roles/{foreign}/delete"), &[]).await.status,
        StatusCode::NOT_FOUND
    );
    let a = app.user(UserSpec::admin("a@acme.test"));
    assert_eq!(
        owner
            .post(
                &format!("/users/{a}/edit"),
                &[("role", "admin"), ("custom_role", &foreign.to_string())]
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.load_user(a).unwrap().custom_role_id, None);
}

#[actix_web::test]
async fn custom_roles_belong_to_admins() {
    let app = TestApp::new();
    let role = app.custom_role("Helpdesk", &[BULK_PRIVILEGE]);
    let m = app.user(UserSpec::member("m@acme.test"));
    let a = app.user(UserSpec::admin("a@acme.test").custom_role(role));
    let owner = app.signed_in("owner@acme.test").await;
    owner.get("/users").await;
    let r = owner
        .post(
            &format!("/users/{m}/edit"),
            &[("role", "member"), ("custom_role", &role.to_string())],
        )
        .await;
    assert_eq!(app.load_user(m).unwrap().custom_role_id, None, "{}", r.body);
    // Demoting an admin takes the custom role (and its privilege) away.
    owner.post(&format!("/users/{a}/edit"), &[("role", "member")]).await;
    assert_eq!(app.load_user(a).unwrap().custom_role_id, None);
}

#[actix_web::test]
async fn deleting_a_role_takes_it_from_its_users() {
    let app = TestApp::new();
    let role = app.custom_role("Helpdesk", &[BULK_PRIVILEGE]);
    let a = app.user(UserSpec::admin("a@acme.test").custom_role(role));
    let owner = app.signed_in("owner@acme.test").await;
    owner.get("/roles").await;
    let r = owner.post(&format!("/roles/{role}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let u = app.load_user(a).unwrap();
    assert_eq!((u.role.as_str(), u.custom_role_id), ("admin", None));
    assert_eq!(app.audit().last().unwrap().action, "delete_role");
}
