//! How the portal looks and reads (issue 18): axe-core on every page and an
//! open dialog (no serious or critical violation), no horizontal scroll at
//! 360 px, and the README's screenshots, written to `OFFBOARD_SCREENSHOTS`
//! (default target/screenshots; `docs/screenshots` to refresh the committed ones).

use std::path::PathBuf;

use diesel::prelude::*;
use offboard::db::schema::{import_jobs, users};

use crate::world::{Fail, Step, World};

const AXE: &str = include_str!("vendor/axe.min.js");

/// The pages an admin reaches from the navigation.
const PAGES: [&str; 10] = [
    "/users",
    "/users/advanced",
    "/audit",
    "/import",
    "/roles",
    "/rooms",
    "/webhooks",
    "/api-tokens",
    "/directory",
    "/profile",
];

/// axe-core's serious and critical violations on the page as it is now.
async fn violations(w: &World) -> Result<Vec<String>, Fail> {
    w.driver.execute(AXE, vec![]).await?;
    let found = w
        .driver
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { resultTypes: ["violations"] }).then(function (r) {
                 done(r.violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; })
                   .map(function (v) { return v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3).map(function (n) { return n.target.join(" "); }).join(" | "); }));
               }).catch(function (e) { done(["axe failed: " + e]); });"#,
            vec![],
        )
        .await?;
    Ok(found.convert::<Vec<String>>()?)
}

pub async fn accessibility(w: &World) -> Step {
    let mut all = Vec::new();
    for page in PAGES {
        w.goto(page).await?;
        w.el("main h1").await?;
        all.extend(violations(w).await?.into_iter().map(|v| format!("{page}: {v}")));
    }
    // An open dialog: the delete dialog of an active member.
    open_delete_dialog(w).await?;
    all.extend(violations(w).await?.into_iter().map(|v| format!("delete dialog: {v}")));
    w.ensure(all.is_empty(), format!("axe-core: {}", all.join("; ")))
}

/// Opens the delete dialog of the first active member from its row; returns the email.
pub async fn open_delete_dialog(w: &World) -> Result<String, Fail> {
    let email: String = users::table
        .filter(users::status.eq("active"))
        .filter(users::role.eq("member"))
        .filter(users::is_room.eq(false))
        .select(users::email)
        .first(&mut *w.conn())
        .map_err(|e| e.to_string())?;
    w.goto(&format!("/users?q={}", email.split('@').next().unwrap_or("")))
        .await?;
    w.click(&format!("tr[data-user-email='{email}'] details summary"))
        .await?;
    w.click(&format!("tr[data-user-email='{email}'] [data-action=delete]"))
        .await?;
    w.el("[data-dialog=delete]").await?;
    Ok(email)
}

fn shots_dir() -> PathBuf {
    let dir = std::env::var("OFFBOARD_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("target/screenshots"));
    let dir = if dir.is_absolute() {
        dir
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir)
    };
    let _ = std::fs::create_dir_all(&dir);
    dir
}

async fn shot(w: &World, name: &str) -> Step {
    w.driver.screenshot(&shots_dir().join(format!("{name}.png"))).await?;
    Ok(())
}

/// The main screens at desktop width, then the Users page at phone width,
/// where nothing may scroll sideways.
pub async fn screenshots(w: &World) -> Step {
    w.driver.set_window_rect(0, 0, 1280, 900).await?;
    w.goto("/users").await?;
    w.el("[data-status-tab]").await?;
    shot(w, "users").await?;
    open_delete_dialog(w).await?;
    shot(w, "delete-dialog").await?;
    let job: Option<i64> = import_jobs::table
        .order(import_jobs::id.desc())
        .select(import_jobs::id)
        .first(&mut *w.conn())
        .optional()
        .map_err(|e| e.to_string())?;
    if let Some(job) = job {
        w.goto(&format!("/import/jobs/{job}")).await?;
        shot(w, "import-report").await?;
    }
    for (path, name) in [("/users/advanced", "advanced"), ("/audit", "audit")] {
        w.goto(path).await?;
        w.el("svg.chart").await?;
        shot(w, name).await?;
    }
    w.driver.set_window_rect(0, 0, 360, 780).await?;
    w.goto("/users").await?;
    w.el("[data-status-tab]").await?;
    let fits = w
        .driver
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await?
        .convert::<bool>()?;
    shot(w, "users-phone").await?;
    w.driver.set_window_rect(0, 0, 1280, 900).await?;
    w.ensure(fits, "the Users page scrolls sideways at 360 px")
}
