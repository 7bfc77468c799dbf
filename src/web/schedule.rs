//! Scheduled offboarding (B7) on a user's row: plan a deactivation, unlink
//! or delete with its transfer choices for a date and time (UTC), or cancel
//! the plan.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use crate::domain::Action;
#[allow(unused_imports)]
use crate::i18n::Translate;
use crate::services::{self, users as user_queries};

use super::render::page_or_partial;
use super::session::Admin;
use super::user_actions::{done, ActionForm};
use super::{AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route(r"/users/{id:\d+}/schedule", web::get().to(dialog))
        .route(r"/users/{id:\d+}/schedule", web::post().to(schedule))
        .route(r"/users/{id:\d+}/schedule/cancel", web::post().to(cancel));
}

#[derive(Template)]
#[template(path = "_schedule_dialog.html")]
pub struct ScheduleDialog {
    pub csrf: String,
    pub user_id: i64,
    pub email: String,
}

async fn dialog(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let (account_id, id) = (admin.user.account_id, path.into_inner());
    let user = state
        .db(move |conn| user_queries::find_in_account(conn, account_id, id))
        .await?;
    let dialog = ScheduleDialog {
        csrf: admin.csrf.clone(),
        user_id: id,
        email: user.email,
    };
    page_or_partial(&req, dialog, |d| {
        Ok(super::pages::DialogPage {
            layout: admin.layout("schedule"),
            dialog: d.render()?,
        })
    })
}

#[derive(Deserialize)]
struct ScheduleForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    at: String,
    #[serde(flatten)]
    transfer: ActionForm,
}

/// `2027-01-05T09:30` (the browser's date-time field) or `2027-01-05` (the
/// start of that day), in UTC.
pub fn parse_moment(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

async fn schedule(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<ScheduleForm>,
) -> Result<HttpResponse, WebError> {
    let action = match Action::parse(&form.action) {
        Some(a @ (Action::Deactivate | Action::Unlink | Action::Delete)) => a,
        _ => return Err(WebError::BadRequest(crate::i18n::t("bad-schedule-action"))),
    };
    let due = parse_moment(&form.at).ok_or_else(|| WebError::BadRequest(crate::i18n::t("bad-schedule-moment")))?;
    let transfer = form.transfer.transfer(action)?;
    let (info, id) = (admin.info(), path.into_inner());
    let user = state
        .db(move |conn| services::schedule::schedule(conn, &info, id, action, &transfer, due, services::now()))
        .await?;
    let at = due.format("%Y-%m-%d %H:%M").to_string();
    let message = crate::i18n::ta(
        "flash-scheduled",
        &[
            ("email", user.email),
            ("action", crate::i18n::t(action.as_str())),
            ("at", at),
        ],
    );
    done(&req, &session, message)
}

async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let (info, id) = (admin.info(), path.into_inner());
    let user = state
        .db(move |conn| services::schedule::cancel(conn, &info, id, services::now()))
        .await?;
    done(
        &req,
        &session,
        crate::i18n::ta("flash-schedule-cancelled", &[("email", user.email)]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_as_browsers_and_people_type_them() {
        let at = |s: &str| parse_moment(s).map(|d| d.format("%Y-%m-%d %H:%M").to_string());
        assert_eq!(at("2027-01-05T09:30").as_deref(), Some("2027-01-05 09:30"));
        assert_eq!(
            at("2027-01-05").as_deref(),
            Some("2027-01-05 00:00"),
            "a date alone: the day's start"
        );
        assert_eq!(at(" 2027-01-05 17:00 ").as_deref(), Some("2027-01-05 17:00"));
        assert_eq!(at("5-1-2027"), None);
        assert_eq!(at(""), None);
    }
}
