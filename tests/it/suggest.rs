//! The transfer target type-ahead (issue 17).

use actix_web::http::StatusCode;

use crate::support::*;

#[actix_web::test]
async fn suggestions_put_eligible_users_first_and_say_why_not() {
    let app = TestApp::new();
    let leaver = app.user(UserSpec::member("leaver@acme.test"));
    app.user(UserSpec::member("sam.licensed@acme.test").licensed().webinar());
    app.user(UserSpec::member("sam.basic@acme.test"));
    app.user(UserSpec::member("sam.gone@acme.test").status("deactivated"));
    let (_, _) = app.other_account("sam.other@other.test");
    let c = app.signed_in("owner@acme.test").await;
    let r = c
        .htmx_get(&format!("/users/suggest?for={leaver}&transfer_to=sam"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let emails = attr_values(&r.body, "data-email");
    assert_eq!(emails[0], "sam.licensed@acme.test", "eligible first: {emails:?}");
    assert_eq!(emails.len(), 3, "another account's users never show: {emails:?}");
    assert!(!r.body.contains("sam.other@other.test"));
    assert_eq!(emails[1], "sam.basic@acme.test", "then those with a limit");
    assert_eq!(
        r.body.matches("aria-disabled=\"true\"").count(),
        1,
        "only the deactivated one: {}",
        r.body
    );
    assert!(r.body.contains("data-why") && r.body.contains("data-limit"));
    // One letter: nothing yet. The leaver cannot take their own data.
    let one = c.htmx_get(&format!("/users/suggest?for={leaver}&transfer_to=s")).await;
    assert!(attr_values(&one.body, "data-email").is_empty());
    let own = c
        .htmx_get(&format!("/users/suggest?for={leaver}&transfer_to=leaver"))
        .await;
    assert!(own.body.contains("aria-disabled=\"true\""));
    // The dialog's field is a combobox that asks for them.
    let dialog = c.htmx_get(&format!("/users/{leaver}/delete")).await;
    assert!(dialog.body.contains("role=\"combobox\"") && dialog.body.contains("/users/suggest"));
}
