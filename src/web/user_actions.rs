//! The More (...) menu of a row: Deactivate, Activate, Unlink, Delete (with
//! the transfer dialog) and Edit. GET shows the dialog, POST does the act.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::{check_action, check_role_change, Action, Mode, Role, TransferChoice};
use crate::i18n;
use crate::services::user_actions::{self as actions, Outcome, Transfer};
use crate::services::{self, users as user_queries, ServiceError};

use super::pages::{ActionDialog, DialogPage, EditDialog, Flash};
use super::render::page_or_partial;
use super::session::{is_htmx, set_flash, Admin};
use super::{redirect, AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.configure(super::schedule::config)
        .route(
            r"/users/{id:\d+}/sign-out-everywhere",
            web::post().to(sign_out_everywhere),
        )
        .route(r"/users/{id:\d+}/heir", web::get().to(super::suggest::heir))
        .route(r"/users/{id:\d+}/edit", web::get().to(edit_dialog))
        .route(r"/users/{id:\d+}/edit", web::post().to(edit))
        .route(r"/users/{id:\d+}/{action}", web::get().to(action_dialog))
        .route(r"/users/{id:\d+}/{action}", web::post().to(act));
}

fn parse_action(name: &str) -> Result<Action, WebError> {
    Action::parse(name).ok_or(WebError::NotFound)
}

/// The dialog alone for htmx, inside a page otherwise.
fn dialog_response(
    req: &HttpRequest,
    admin: &Admin,
    title_key: &str,
    dialog: impl Template,
) -> Result<HttpResponse, WebError> {
    page_or_partial(req, dialog, |dialog| {
        Ok(DialogPage {
            layout: admin.layout(title_key),
            dialog: dialog.render()?,
        })
    })
}

/// After an act: htmx gets the message, the dialog closed and the table told
/// to reload; a plain form gets a redirect to the Users page with the message.
pub(super) fn done(req: &HttpRequest, session: &Session, message: String) -> Result<HttpResponse, WebError> {
    if is_htmx(req) {
        let body = Flash { message }.render()?;
        Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header(("HX-Trigger", "users-changed"))
            .body(body))
    } else {
        set_flash(session, &message);
        Ok(redirect("/users"))
    }
}

async fn action_dialog(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, WebError> {
    let (user_id, action_name) = path.into_inner();
    let action = parse_action(&action_name)?;
    let info = admin.info();
    let (user, target, summary) = state
        .db(move |conn| {
            let user = user_queries::find_in_account(conn, info.account_id, user_id)?;
            let target = actions::target_facts(conn, &user)?;
            let summary = actions::data_summary(conn, user.id)?;
            Ok::<_, ServiceError>((user, target, summary))
        })
        .await?;
    let refusal = check_action(&admin.actor, &target, action, Mode::Single)
        .err()
        .map(|r| r.text(i18n::current()));
    let title_key = format!("dialog-{}-title", action.as_str());
    let dialog = ActionDialog {
        csrf: admin.csrf.clone(),
        user_id,
        email: user.email.clone(),
        action: action.as_str().into(),
        title: i18n::t(&title_key),
        explanation: i18n::t(&format!("dialog-{}-text", action.as_str())),
        refusal,
        removes: action.removes(),
        transferable_meetings: summary.meetings - summary.pmi_meetings,
        summary,
        transfer_button: format!("transfer-then-{}", action.as_str()),
        now_button: format!("{}-now", action.as_str()),
    };
    dialog_response(&req, &admin, &title_key, dialog)
}

#[derive(Deserialize)]
pub struct ActionForm {
    /// "transfer": transfer the chosen data first; "now": no transfer.
    #[serde(default)]
    pub(super) mode: String,
    transfer_meetings: Option<String>,
    transfer_webinars: Option<String>,
    transfer_events: Option<String>,
    transfer_recordings: Option<String>,
    #[serde(default)]
    transfer_to: String,
}

impl ActionForm {
    pub(super) fn transfer(&self, action: Action) -> Result<Transfer, WebError> {
        match self.mode.as_str() {
            "now" | "" => Ok(Transfer::default()),
            "transfer" if action.removes() => {
                let choice = TransferChoice {
                    meetings: self.transfer_meetings.is_some(),
                    webinars: self.transfer_webinars.is_some(),
                    events: self.transfer_events.is_some(),
                    recordings: self.transfer_recordings.is_some(),
                };
                if !choice.any() {
                    return Err(WebError::BadRequest(i18n::t("bad-choose-transfer")));
                }
                Ok(Transfer {
                    choice,
                    to_email: Some(transfer_email(&self.transfer_to)?),
                })
            }
            other => Err(WebError::BadRequest(i18n::ta(
                "bad-choice",
                &[("value", other.to_string())],
            ))),
        }
    }
}

/// The transfer field as typed: empty stays as it is (the service names
/// the missing target), anything else must be an address (`crate::email`),
/// trimmed and lowercased.
pub(super) fn transfer_email(raw: &str) -> Result<String, WebError> {
    if raw.trim().is_empty() {
        return Ok(raw.to_string());
    }
    crate::email::parse(raw)
        .ok_or_else(|| WebError::BadRequest(i18n::ta("reason-not-email", &[("cell", crate::csv_import::echo(raw))])))
}

async fn act(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(i64, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let (user_id, action_name) = path.into_inner();
    let action = parse_action(&action_name)?;
    let transfer = form.transfer(action)?;
    let info = admin.info();
    let outcome = state
        .db(move |conn| {
            actions::perform(
                conn,
                &info,
                user_id,
                action,
                &transfer,
                services::Origin::SINGLE,
                services::now(),
            )
        })
        .await?;
    done(&req, &session, outcome_message(&outcome))
}

/// "Sign out everywhere" (R11): every session of the user ends at once.
async fn sign_out_everywhere(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let user_id = path.into_inner();
    let info = admin.info();
    let user = state
        .db(move |conn| services::sessions::sign_out_everywhere(conn, &info, user_id, services::now()))
        .await?;
    done(&req, &session, i18n::ta("sessions-ended", &[("email", user.email)]))
}

pub fn outcome_message(o: &Outcome) -> String {
    let key = match o.action {
        Action::Deactivate => "flash-deactivated",
        Action::Activate => "flash-activated",
        Action::Unlink => "flash-unlinked",
        Action::Delete => "flash-deleted",
    };
    let done = i18n::ta(key, &[("email", o.email.clone())]);
    match &o.transfer_to {
        Some(to) => {
            let moved = i18n::ta(
                "flash-transferred",
                &[
                    ("to", to.clone()),
                    ("meetings", o.moved.meetings.to_string()),
                    ("webinars", o.moved.webinars.to_string()),
                    ("events", o.moved.events.to_string()),
                    ("recordings", o.moved.recordings.to_string()),
                ],
            );
            format!("{done} {moved}")
        }
        None => done,
    }
}

async fn edit_dialog(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let user_id = path.into_inner();
    let info = admin.info();
    let (user, target, custom_roles) = state
        .db(move |conn| {
            let user = user_queries::find_in_account(conn, info.account_id, user_id)?;
            let target = actions::target_facts(conn, &user)?;
            let roles = services::roles::list_roles(conn, info.account_id)?;
            Ok::<_, ServiceError>((user, target, roles))
        })
        .await?;
    let other = if target.role == Role::Admin {
        Role::Member
    } else {
        Role::Admin
    };
    let refusal = check_role_change(&admin.actor, &target, other)
        .err()
        .map(|r| r.text(i18n::current()));
    let dialog = EditDialog {
        csrf: admin.csrf.clone(),
        user_id,
        email: user.email,
        role: user.role.to_string(),
        refusal,
        custom_roles: (admin.actor.role == Role::Owner).then(|| {
            custom_roles
                .into_iter()
                .map(|r| (r.id, r.name, user.custom_role_id == Some(r.id)))
                .collect()
        }),
        custom_role_id: user.custom_role_id,
    };
    dialog_response(&req, &admin, "edit-user", dialog)
}

#[derive(Deserialize)]
pub struct EditForm {
    role: String,
    /// Absent: unchanged; "" : no custom role; else a custom role's id.
    custom_role: Option<String>,
}

async fn edit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<i64>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, WebError> {
    let user_id = path.into_inner();
    let role = match Role::parse(&form.role) {
        Some(r @ (Role::Admin | Role::Member)) => r,
        _ => {
            return Err(WebError::BadRequest(i18n::ta(
                "bad-role",
                &[("value", form.role.clone())],
            )))
        }
    };
    let custom_role = match form.custom_role.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(id) => Some(Some(id.parse::<i64>().map_err(|_| {
            WebError::BadRequest(i18n::ta("bad-role", &[("value", id.to_string())]))
        })?)),
    };
    let info = admin.info();
    let email = state
        .db(move |conn| actions::edit_user(conn, &info, user_id, role, custom_role, services::now()))
        .await?;
    let key = if role == Role::Admin {
        "flash-now-admin"
    } else {
        "flash-now-member"
    };
    done(&req, &session, i18n::ta(key, &[("email", email)]))
}
