//! Scheduled offboarding (B7) on a user's row: plan a deactivation, unlink
//! or delete with its transfer choices for a date and time (UTC), or cancel
//! the plan.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::domain::schedule::{parse_moment, show, Tz};
use crate::domain::Action;
#[allow(unused_imports)]
use crate::i18n::Translate;
use crate::services::schedule::Plan;
use crate::services::{self, users as user_queries, ServiceError};

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
    /// The account's time zone, in which the moment is typed.
    pub zone: String,
}

async fn dialog(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let (account_id, id) = (admin.user.account_id, path.into_inner());
    let (user, tz) = state
        .db(move |conn| {
            let user = user_queries::find_in_account(conn, account_id, id)?;
            Ok::<_, ServiceError>((user, services::schedule::time_zone(conn, account_id)?))
        })
        .await?;
    let dialog = ScheduleDialog {
        csrf: admin.csrf.clone(),
        user_id: id,
        email: user.email,
        zone: tz.name().to_string(),
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
    let transfer = form.transfer.transfer(action)?;
    let (info, id, at) = (admin.info(), path.into_inner(), form.at.clone());
    let (user, shown) = state
        .db(move |conn| {
            let tz = services::schedule::time_zone(conn, info.account_id)?;
            let due_at = moment(&at, tz)?;
            let plan = Plan {
                action,
                transfer,
                due_at,
            };
            let user = services::schedule::schedule(conn, &info, id, &plan, services::now())?;
            Ok::<_, ServiceError>((user, show(due_at, tz)))
        })
        .await?;
    let message = crate::i18n::ta(
        "flash-scheduled",
        &[
            ("email", user.email),
            ("action", crate::i18n::t(action.as_str())),
            ("at", shown),
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

/// The moment typed in the dialog, in the account's zone, or a clear refusal.
pub fn moment(text: &str, tz: Tz) -> Result<NaiveDateTime, ServiceError> {
    parse_moment(text, tz).ok_or_else(|| ServiceError::Invalid(crate::i18n::t("bad-schedule-moment")))
}
