//! The Advanced tab of the Users page: delete deactivated users after N days (R20-R23).

use actix_session::Session;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::services::auto_delete::{self, Setting};
use crate::services::{self, ServiceError};

use super::pages::AdvancedPage;
use super::session::{set_flash, Admin};
use super::{redirect, AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/users/advanced", web::get().to(page))
        .route("/users/advanced", web::post().to(save))
        .route("/users/advanced/time-zone", web::post().to(save_time_zone));
}

async fn page(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, WebError> {
    let account_id = admin.user.account_id;
    let (user, actor) = (admin.user.clone(), admin.actor);
    let (setting, overview, may_change, outbox, tz) = state
        .db(move |conn| {
            let setting = auto_delete::setting(conn, account_id)?;
            let overview = auto_delete::overview(conn, account_id, services::now())?;
            let may = auto_delete::may_change(conn, &user, &actor)?;
            let outbox = crate::mail::outbox(conn, account_id, 20)?;
            let tz = services::schedule::time_zone(conn, account_id)?;
            Ok::<_, ServiceError>((setting, overview, may, outbox, tz))
        })
        .await?;
    let page = AdvancedPage {
        layout: admin.layout("advanced-tab"),
        enabled: setting.enabled,
        days: setting.days,
        warn: setting.warn,
        may_change,
        due_now: overview.due_now,
        next_day: overview.next_day.map(|d| d.to_string()),
        next_count: overview.next_count,
        smtp_configured: state.config.mail.is_some(),
        outbox,
        time_zone: tz.name().to_string(),
        zones: crate::domain::schedule::zone_names().collect(),
        due_chart: due_chart(&overview.next_days),
        due_days: overview
            .next_days
            .iter()
            .map(|(d, n)| (d.format("%Y-%m-%d").to_string(), *n))
            .collect(),
    };
    super::render::html(&page)
}

/// Users due for automatic deletion on each of the next 30 days.
fn due_chart(days: &[(chrono::NaiveDate, i64)]) -> String {
    super::charts::Chart {
        title: crate::i18n::t("chart-due-title"),
        series: vec![crate::i18n::t("chart-due-series")],
        bars: days
            .iter()
            .map(|(d, n)| super::charts::Bar {
                label: d.format("%Y-%m-%d").to_string(),
                values: vec![*n],
            })
            .collect(),
    }
    .svg()
}

#[derive(Deserialize)]
struct SettingForm {
    enabled: Option<String>,
    #[serde(default)]
    days: String,
    warn: Option<String>,
}

async fn save(
    session: Session,
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<SettingForm>,
) -> Result<HttpResponse, WebError> {
    let days: i32 = form
        .days
        .trim()
        .parse()
        .map_err(|_| WebError::BadRequest(crate::i18n::t("bad-days")))?;
    let new = Setting {
        enabled: form.enabled.is_some(),
        days,
        warn: form.warn.is_some(),
    };
    let info = admin.info();
    let user = admin.user.clone();
    state
        .db(move |conn| auto_delete::save(conn, &info, &user, new, services::now()))
        .await?;
    set_flash(
        &session,
        &crate::i18n::t(if new.enabled {
            "flash-setting-on"
        } else {
            "flash-setting-off"
        }),
    );
    Ok(redirect("/users/advanced"))
}

#[derive(Deserialize)]
struct TimeZoneForm {
    #[serde(default)]
    time_zone: String,
}

/// The account's time zone, in which scheduled moments are typed and shown.
async fn save_time_zone(
    session: Session,
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<TimeZoneForm>,
) -> Result<HttpResponse, WebError> {
    let tz = crate::domain::schedule::parse_zone(&form.time_zone).ok_or_else(|| {
        WebError::BadRequest(crate::i18n::ta(
            "bad-time-zone",
            &[("value", crate::csv_import::echo(&form.time_zone))],
        ))
    })?;
    let (info, user) = (admin.info(), admin.user.clone());
    state
        .db(move |conn| services::schedule::set_time_zone(conn, &info, &user, tz, services::now()))
        .await?;
    set_flash(
        &session,
        &crate::i18n::ta("flash-time-zone", &[("zone", tz.name().to_string())]),
    );
    Ok(redirect("/users/advanced"))
}
