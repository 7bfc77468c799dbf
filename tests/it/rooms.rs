//! The Rooms page (R43): rooms are deleted here, not on the Users page.

use actix_web::http::StatusCode;

use crate::support::*;

#[actix_web::test]
async fn rooms_are_listed_and_deleted_after_a_confirmation_audited() {
    let app = TestApp::new();
    let room = app.user(UserSpec::member("room-a@acme.test").room());
    let keep = app.user(UserSpec::member("room-b@acme.test").room());
    let person = app.user(UserSpec::member("m@acme.test"));
    let (_, stranger_owner) = app.other_account("owner@other.test");
    let c = app.signed_in("owner@acme.test").await;
    let page = c.get("/rooms").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        attr_values(&page.body, "data-room-email"),
        vec!["room-a@acme.test", "room-b@acme.test"]
    );
    // The Users page refuses rooms and links here (R43).
    let users = c.get("/users?q=room-a").await;
    assert!(users.body.contains("data-rooms-link"));
    assert!(!users.body.contains(&format!("/users/{room}/delete")));
    // A person or another account's user is no room: not on the confirmation.
    let ids = [room.to_string(), person.to_string(), stranger_owner.to_string()];
    let fields: Vec<(&str, &str)> = ids.iter().map(|i| ("room_ids", i.as_str())).collect();
    let confirm = c.post("/rooms/delete", &fields).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert_eq!(attr_values(&confirm.body, "data-room-email"), vec!["room-a@acme.test"]);
    assert!(app.load_user(room).is_some(), "nothing happens before the confirmation");
    let done = c.post("/rooms/delete/confirm", &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(app.load_user(room).is_none());
    assert!(app.load_user(keep).is_some());
    assert!(app.load_user(person).is_some(), "people are not deleted here");
    assert!(app.load_user(stranger_owner).is_some());
    let audited: Vec<String> = app
        .audit()
        .into_iter()
        .filter(|e| e.action == "delete_room")
        .map(|e| e.target_email)
        .collect();
    assert_eq!(audited, vec!["room-a@acme.test"]);
    // Nothing chosen: a message, nothing changed.
    let none = c.post("/rooms/delete", &[]).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn members_have_no_rooms_page() {
    let app = TestApp::new();
    app.user(UserSpec::member("m@acme.test"));
    let room = app.user(UserSpec::member("room-a@acme.test").room());
    let m = app.signed_in("m@acme.test").await;
    assert_eq!(m.get("/rooms").await.status, StatusCode::FORBIDDEN);
    let r = m
        .post("/rooms/delete/confirm", &[("room_ids", &room.to_string())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.load_user(room).is_some());
}
