//! The main flows in a real headless Chromium, driven over WebDriver
//! (chromium and chromium-driver from Debian; scripts/test.sh installs
//! them) against `offboard serve` on a loopback port, on SQLite. Each flow
//! checks what the page shows and what the database holds afterwards. On a
//! failure the screenshot and the page HTML are saved under
//! target/browser-artifacts/.

mod world;

use std::time::Duration;

use diesel::prelude::*;
use offboard::db::schema::{accounts, meetings, users};
use thirtyfour::prelude::*;
use thirtyfour::Key;

use world::{Step, World, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_flows_in_a_real_browser() {
    let Some(w) = World::start().await else { return };
    w.run("sign in", sign_in(&w)).await;
    w.run("search and page", search_and_page(&w)).await;
    w.run("keyboard: More menu and dialog", keyboard(&w)).await;
    w.run("bulk deactivate three checked rows", bulk_deactivate(&w)).await;
    w.run("delete with transfer of meetings", delete_with_transfer(&w))
        .await;
    w.run("import, apply, progress, result", import_flow(&w)).await;
    w.run("advanced tab", advanced(&w)).await;
    w.run("no script from user data runs", inert_names(&w)).await;
    w.run("language switch", language_switch(&w)).await;
    w.run("deactivated user is refused", deactivated_sign_in(&w)).await;
    w.stop().await;
}

async fn sign_in(w: &World) -> Step {
    w.sign_in("owner@acme.example").await?;
    let d = &w.driver;
    let url = d.current_url().await?;
    w.ensure(url.path() == "/users", format!("landed on {url}"))?;
    let rows = d.find_all(By::Css("tr[data-user-email]")).await?;
    w.ensure(rows.len() == 50, format!("{} rows on the first page", rows.len()))
}

async fn search_and_page(w: &World) -> Step {
    let d = &w.driver;
    d.goto(w.url("/users")).await?;
    let first_before = w.first_email().await?;
    d.find(By::Css("a[rel=next]")).await?.click().await?;
    w.wait_for("the next page", || async { Ok(w.first_email().await? != first_before) })
        .await?;
    w.ensure(
        d.current_url().await?.query().unwrap_or("").contains("after="),
        "the URL carries the cursor",
    )?;
    let search = d.find(By::Id("q")).await?;
    search.clear().await?;
    search.send_keys("anna").await?;
    w.wait_for("search results", || async {
        let emails = w.emails().await?;
        Ok(!emails.is_empty() && emails.iter().all(|e| e.contains("anna") || e.starts_with("admin@")))
    })
    .await?;
    w.ensure(
        d.current_url().await?.query().unwrap_or("").contains("q=anna"),
        "the search is in the URL",
    )?;
    // The URL works typed in: same rows on a fresh load.
    let shown = w.emails().await?;
    d.goto(w.url("/users?q=anna")).await?;
    w.ensure(w.emails().await? == shown, "typed-in URL shows the same rows")?;
    // Status filter.
    d.goto(w.url("/users")).await?;
    d.find(By::Css("#status option[value=deactivated]"))
        .await?
        .click()
        .await?;
    w.wait_for("the deactivated filter", || async {
        let rows = w
            .driver
            .find_all(By::Css("#users-table tr[data-user-email]"))
            .await?
            .len();
        let deactivated = w
            .driver
            .find_all(By::Css("#users-table .status-deactivated"))
            .await?
            .len();
        Ok(rows > 0 && rows == deactivated)
    })
    .await
}

async fn keyboard(w: &World) -> Step {
    let d = &w.driver;
    let email: String = users::table
        .filter(users::status.eq("active"))
        .filter(users::role.eq("member"))
        .filter(users::email.like("%@partner.example"))
        .select(users::email)
        .first(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    d.goto(w.url(&format!("/users?q={}", email.split('@').next().unwrap_or(""))))
        .await?;
    let summary = d
        .find(By::Css(&format!("tr[data-user-email='{email}'] details summary")))
        .await?;
    summary.focus().await?;
    summary.send_keys(Key::Enter + "").await?;
    let open = d
        .find(By::Css(&format!("tr[data-user-email='{email}'] details")))
        .await?
        .attr("open")
        .await?;
    w.ensure(open.is_some(), "Enter opens the More menu")?;
    // Tab to the first item, Enter opens its dialog, which takes the focus.
    d.action_chain().send_keys(Key::Tab + "").perform().await?;
    let item = d.active_element().await?;
    let action = item.attr("data-action").await?.ok_or("focus is not on a menu item")?;
    item.send_keys(Key::Enter + "").await?;
    let dialog = d
        .query(By::Css("#dialog [role=dialog]"))
        .wait(Duration::from_secs(5), Duration::from_millis(50))
        .first()
        .await?;
    w.ensure(
        dialog.attr("aria-labelledby").await?.is_some(),
        "the dialog is labelled",
    )?;
    w.ensure(
        dialog.attr("aria-modal").await?.as_deref() == Some("true"),
        "the dialog is modal",
    )?;
    let focused = d.active_element().await?;
    let inside: bool = d
        .execute(
            "return document.getElementById('dialog').contains(document.activeElement)",
            vec![],
        )
        .await?
        .convert()?;
    w.ensure(
        inside,
        format!("focus moved into the {action} dialog ({:?})", focused.tag_name().await?),
    )?;
    d.action_chain().send_keys(Key::Escape + "").perform().await?;
    w.wait_for("the dialog to close", || async {
        Ok(w.driver.find_all(By::Css("#dialog [role=dialog]")).await?.is_empty())
    })
    .await
}

async fn bulk_deactivate(w: &World) -> Step {
    let d = &w.driver;
    d.goto(w.url("/users?status=active")).await?;
    // The first three rows whose More menu offers Deactivate.
    let mut picks: Vec<(i64, String)> = Vec::new();
    for row in d.find_all(By::Css("tr[data-user-email]")).await? {
        if picks.len() < 3 && !row.find_all(By::Css("[data-action=deactivate]")).await?.is_empty() {
            let id = row
                .attr("data-user-id")
                .await?
                .unwrap_or_default()
                .parse::<i64>()
                .map_err(|e| e.to_string())?;
            picks.push((id, row.attr("data-user-email").await?.unwrap_or_default()));
        }
    }
    w.ensure(picks.len() == 3, "three rows that can be deactivated")?;
    for (id, _) in &picks {
        d.find(By::Css(&format!("input[name=user_ids][value='{id}']")))
            .await?
            .click()
            .await?;
    }
    d.find(By::Css("button[data-bulk-action=deactivate]"))
        .await?
        .click()
        .await?;
    d.query(By::Css("[data-dialog=bulk-preview]"))
        .wait(Duration::from_secs(5), Duration::from_millis(50))
        .first()
        .await?;
    let allowed = d
        .find(By::Css("[data-preview-allowed]"))
        .await?
        .attr("data-preview-allowed")
        .await?;
    w.ensure(allowed.as_deref() == Some("3"), format!("preview allows {allowed:?}"))?;
    d.find(By::Css("[data-dialog=bulk-preview] button[data-confirm=now]"))
        .await?
        .click()
        .await?;
    let done = d
        .query(By::Css("[data-result-done]"))
        .wait(Duration::from_secs(10), Duration::from_millis(50))
        .first()
        .await?;
    w.ensure(
        done.attr("data-result-done").await?.as_deref() == Some("3"),
        "three done",
    )?;
    for (id, email) in &picks {
        let status: String = users::table
            .find(id)
            .select(users::status)
            .first(&mut *w.conn())
            .map_err(|e| e.to_string())?;
        w.ensure(status == "deactivated", format!("{email} is {status}"))?;
    }
    // The table behind the dialog updated in place.
    w.wait_for("the table to refresh", || async {
        let html = w.driver.find(By::Id("users-table")).await?.inner_html().await?;
        Ok(!html.contains(&format!("value=\"{}\"", picks[0].0)))
    })
    .await
}

async fn delete_with_transfer(w: &World) -> Step {
    let d = &w.driver;
    // A member with meetings that are not on the PMI, and a colleague to take them.
    let (leaver, email): (i64, String) = users::table
        .inner_join(meetings::table)
        .filter(users::status.eq("active"))
        .filter(users::role.eq("member"))
        .filter(users::is_room.eq(false))
        .filter(meetings::uses_pmi.eq(false))
        .select((users::id, users::email))
        .first(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    let heir = "admin@acme.example";
    let heir_id: i64 = users::table
        .filter(users::email.eq(heir))
        .select(users::id)
        .first(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    let movable: i64 = meetings::table
        .filter(meetings::owner_id.eq(leaver))
        .filter(meetings::uses_pmi.eq(false))
        .count()
        .get_result(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    let before: i64 = meetings::table
        .filter(meetings::owner_id.eq(heir_id))
        .count()
        .get_result(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    d.goto(w.url(&format!("/users?q={}", email.split('@').next().unwrap_or(""))))
        .await?;
    d.find(By::Css(&format!("tr[data-user-email='{email}'] details summary")))
        .await?
        .click()
        .await?;
    d.find(By::Css(&format!("tr[data-user-email='{email}'] [data-action=delete]")))
        .await?
        .click()
        .await?;
    let dialog = d
        .query(By::Css("[data-dialog=delete]"))
        .wait(Duration::from_secs(5), Duration::from_millis(50))
        .first()
        .await?;
    let shown = dialog.find(By::Css("[data-count=meetings]")).await?.text().await?;
    w.ensure(
        shown == movable.to_string(),
        format!("the dialog counts {shown} meetings, {movable} movable"),
    )?;
    dialog
        .find(By::Css("input[name=transfer_meetings]"))
        .await?
        .click()
        .await?;
    dialog.find(By::Id("transfer_to")).await?.send_keys(heir).await?;
    dialog
        .find(By::Css("button[data-confirm=transfer]"))
        .await?
        .click()
        .await?;
    let alert = d
        .query(By::Css("#flash [role=alert]"))
        .wait(Duration::from_secs(5), Duration::from_millis(50))
        .first()
        .await?;
    let text = alert.text().await?;
    w.ensure(
        text.contains("was deleted") && text.contains(heir),
        format!("flash: {text}"),
    )?;
    let gone = users::table
        .find(leaver)
        .count()
        .get_result::<i64>(&mut *w.conn())
        .map_err(|e| e.to_string())?
        == 0;
    w.ensure(gone, "the user is deleted")?;
    let after: i64 = meetings::table
        .filter(meetings::owner_id.eq(heir_id))
        .count()
        .get_result(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    w.ensure(
        after == before + movable,
        format!("the heir owns {after} meetings, expected {}", before + movable),
    )
}

async fn import_flow(w: &World) -> Step {
    let d = &w.driver;
    d.goto(w.url("/users")).await?;
    d.find(By::Css("a[data-open=import]")).await?.click().await?;
    let sample = d.find(By::Css("button[data-sample]")).await?;
    let upload = d.find(By::Css("button[data-upload]")).await?;
    w.ensure(
        !sample.is_enabled().await? && !upload.is_enabled().await?,
        "sample and upload wait for the action",
    )?;
    d.find(By::Css("input[name=action][value=deactivate]"))
        .await?
        .click()
        .await?;
    w.ensure(
        sample.is_enabled().await? && upload.is_enabled().await?,
        "choosing the action enables them",
    )?;
    let text: String = d
        .execute(
            "return fetch('/import/sample?action=deactivate&lang=en').then(r => r.text())",
            vec![],
        )
        .await?
        .convert()?;
    w.ensure(text.starts_with("Email\r\n"), format!("sample: {text:?}"))?;
    let targets: Vec<String> = users::table
        .filter(users::status.eq("active"))
        .filter(users::role.eq("member"))
        .filter(users::email.like("%@acme.example"))
        .order(users::email.desc())
        .limit(4)
        .select(users::email)
        .load(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    let file = w.dir.join("leavers.csv");
    let csv = format!("\u{feff}Email\r\n{}\r\nnobody@acme.example\r\n", targets.join("\r\n"));
    std::fs::write(&file, csv).map_err(|e| e.to_string())?;
    d.find(By::Id("file"))
        .await?
        .send_keys(file.to_string_lossy().as_ref())
        .await?;
    upload.click().await?;
    let valid = d
        .query(By::Css("[data-rows-valid]"))
        .wait(Duration::from_secs(10), Duration::from_millis(50))
        .first()
        .await?;
    w.ensure(
        valid.attr("data-rows-valid").await?.as_deref() == Some("4"),
        "4 valid rows",
    )?;
    let bad = d.find(By::Css("tr[data-row-state=invalid]")).await?.text().await?;
    w.ensure(
        bad.contains("nobody@acme.example") && bad.contains("no user with this email"),
        format!("report: {bad}"),
    )?;
    d.find(By::Css("button[data-apply]")).await?.click().await?;
    w.wait_for("progress to reach 100%", || async {
        Ok(w.driver.find_all(By::Css("[data-progress-percent='100']")).await?.len() == 1)
    })
    .await?;
    for email in &targets {
        let status: String = users::table
            .filter(users::email.eq(email))
            .select(users::status)
            .first(&mut *w.conn())
            .map_err(|e| e.to_string())?;
        w.ensure(status == "deactivated", format!("{email} is {status}"))?;
    }
    let result: String = d
        .execute(
            "return fetch(document.querySelector('a[data-result-csv]').href).then(r => r.text())",
            vec![],
        )
        .await?
        .convert()?;
    w.ensure(
        result.starts_with("Email,Line,Outcome,Reason") && result.matches(",done,").count() == 4,
        format!("result: {result}"),
    )
}

async fn advanced(w: &World) -> Step {
    let d = &w.driver;
    d.goto(w.url("/users/advanced")).await?;
    let enabled = d.find(By::Css("input[data-setting=enabled]")).await?;
    if !enabled.is_selected().await? {
        enabled.click().await?;
    }
    let days = d.find(By::Id("days")).await?;
    days.clear().await?;
    days.send_keys("45").await?;
    d.find(By::Css(".advanced-form button[type=submit]"))
        .await?
        .click()
        .await?;
    let alert = d
        .query(By::Css("#flash [role=alert]"))
        .wait(Duration::from_secs(5), Duration::from_millis(50))
        .first()
        .await?;
    w.ensure(alert.text().await?.contains("Saved"), "saved")?;
    let (on, n): (bool, i32) = accounts::table
        .select((accounts::auto_delete_enabled, accounts::auto_delete_days))
        .first(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    w.ensure(on && n == 45, format!("stored: {on} {n}"))
}

async fn inert_names(w: &World) -> Step {
    diesel::update(users::table.filter(users::email.eq("admin@acme.example")))
        .set(users::first_name.eq("<script>alert('x')</script><img src=x onerror=alert(1)>"))
        .execute(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    let d = &w.driver;
    d.goto(w.url("/users?q=admin")).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.ensure(d.get_alert_text().await.is_err(), "no alert fired")?;
    let text = d
        .find(By::Css("tr[data-user-email='admin@acme.example']"))
        .await?
        .text()
        .await?;
    w.ensure(text.contains("<script>"), "the name is shown as text")
}

async fn deactivated_sign_in(w: &World) -> Step {
    let d = &w.driver;
    d.find(By::Css("form[action='/logout'] button")).await?.click().await?;
    let email: String = users::table
        .filter(users::status.eq("deactivated"))
        .select(users::email)
        .first(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    d.goto(w.url("/login")).await?;
    d.find(By::Id("email")).await?.send_keys(&email).await?;
    d.find(By::Id("password")).await?.send_keys(PASSWORD).await?;
    d.find(By::Css("button[type=submit]")).await?.click().await?;
    let alert = d
        .query(By::Css("[role=alert]"))
        .wait(Duration::from_secs(5), Duration::from_millis(50))
        .first()
        .await?;
    let text = alert.text().await?;
    w.ensure(text.contains("deactivated"), format!("alert: {text}"))?;
    w.ensure(d.current_url().await?.path() == "/login", "still on the sign-in page")
}

async fn language_switch(w: &World) -> Step {
    let d = &w.driver;
    for (code, title, deactivate) in [
        ("nl", "Gebruikers", "Deactiveren"),
        ("id", "Pengguna", "Nonaktifkan"),
        ("en", "Users", "Deactivate"),
    ] {
        d.goto(w.url("/users")).await?;
        d.find(By::Css(&format!("#lang-switch option[value={code}]")))
            .await?
            .click()
            .await?;
        d.find(By::Css("form.language button")).await?.click().await?;
        w.wait_for(&format!("the page in {code}"), || async {
            let h1 = w.driver.find(By::Css("main h1")).await?.text().await?;
            Ok(h1 == title)
        })
        .await?;
        let button = d
            .find(By::Css("button[data-bulk-action=deactivate]"))
            .await?
            .text()
            .await?;
        w.ensure(button == deactivate, format!("{code}: bulk button reads {button}"))?;
        let lang = d.find(By::Css("html")).await?.attr("lang").await?;
        w.ensure(lang.as_deref() == Some(code), format!("html lang {lang:?}"))?;
    }
    let stored: Option<String> = users::table
        .filter(users::email.eq("owner@acme.example"))
        .select(users::language)
        .first(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    w.ensure(stored.as_deref() == Some("en"), format!("stored language {stored:?}"))
}
