//! The bulk bar of the Users table: preview, then apply (R5, R44, B2).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::{Action, Status, TransferChoice};
#[allow(unused_imports)]
use crate::i18n::Translate;
use crate::services::bulk::{self, Preview, RowResult};
use crate::services::user_actions::Transfer;
use crate::services::users::UserQuery;
use crate::services::{self, ServiceError};

use super::pages::{BulkPreviewDialog, BulkResultDialog, DialogPage, PreviewRowView};
use super::render::page_or_partial;
use super::session::Admin;
use super::{AppState, WebError};

/// Rows listed one by one in a dialog; the counts cover all of them.
const ROWS_SHOWN: usize = 500;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/users/bulk/preview", web::post().to(preview))
        .route("/users/bulk/{token}/preview", web::post().to(repreview))
        .route("/users/bulk/{token}/apply", web::post().to(apply));
}

/// A urlencoded form with repeated keys (`user_ids=1&user_ids=2`).
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    /// The checked rows' ids; anything else is refused.
    pub fn user_ids(&self) -> Result<Vec<i64>, WebError> {
        self.all("user_ids")
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| WebError::BadRequest(crate::i18n::ta("bad-user-id", &[("value", v.to_string())])))
            })
            .collect()
    }

    fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    pub fn action(&self) -> Result<Action, WebError> {
        match self.get("action").and_then(Action::parse) {
            Some(a @ (Action::Deactivate | Action::Unlink | Action::Delete)) => Ok(a),
            _ => Err(WebError::BadRequest(crate::i18n::t("bad-bulk-action"))),
        }
    }
    /// The transfer of the dialog: `mode=transfer` with the chosen kinds, or none.
    pub fn transfer(&self) -> Result<Transfer, WebError> {
        let choice = TransferChoice {
            meetings: self.get("transfer_meetings").is_some(),
            webinars: self.get("transfer_webinars").is_some(),
            events: self.get("transfer_events").is_some(),
            recordings: self.get("transfer_recordings").is_some(),
        };
        match self.get("mode").unwrap_or("") {
            "now" => Ok(Transfer::default()),
            "transfer" | "check" | "" => Ok(Transfer {
                choice,
                to_email: self
                    .get("transfer_to")
                    .map(super::user_actions::transfer_email)
                    .transpose()?,
            }),
            other => Err(WebError::BadRequest(crate::i18n::ta(
                "bad-choice",
                &[("value", other.to_string())],
            ))),
        }
    }
}

/// What every bulk request carries: the privilege (R5), the action and the transfer.
fn parse(admin: &Admin, form: web::Form<Vec<(String, String)>>) -> Result<(Fields, Action, Transfer), WebError> {
    require_privilege(admin)?;
    let fields = Fields(form.into_inner());
    let action = fields.action()?;
    let transfer = fields.transfer()?;
    Ok((fields, action, transfer))
}

fn require_privilege(admin: &Admin) -> Result<(), WebError> {
    if admin.actor.has_bulk_privilege() {
        Ok(())
    } else {
        Err(WebError::Forbidden(crate::i18n::t("bulk-needs-privilege")))
    }
}

fn respond(
    req: &HttpRequest,
    admin: &Admin,
    title: &str,
    dialog: impl Template,
    changed: bool,
) -> Result<HttpResponse, WebError> {
    let mut resp = page_or_partial(req, dialog, |dialog| {
        Ok(DialogPage {
            layout: admin.layout(title),
            dialog: dialog.render()?,
        })
    })?;
    if changed {
        resp.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("hx-trigger"),
            actix_web::http::header::HeaderValue::from_static("users-changed"),
        );
    }
    Ok(resp)
}

/// The moment of a scheduled bulk action (`at`, in the account's time zone)
/// and how it reads; None without one.
fn due(conn: &mut crate::db::DbConn, account_id: i64, at: Option<&str>) -> Result<Option<Due>, ServiceError> {
    let Some(at) = at.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    let tz = services::schedule::time_zone(conn, account_id)?;
    let due_at = super::schedule::moment(at, tz)?;
    if due_at <= services::now() {
        return Err(ServiceError::Invalid(crate::i18n::t("schedule-in-past")));
    }
    Ok(Some(Due {
        at: at.to_string(),
        due_at,
        shown: crate::domain::schedule::show(due_at, tz),
    }))
}

/// A bulk action planned for a moment: as typed, in UTC, as shown.
#[derive(Debug, Clone)]
pub struct Due {
    pub at: String,
    pub due_at: chrono::NaiveDateTime,
    pub shown: String,
}

async fn preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    if form.iter().any(|(k, v)| k == "action" && v == "schedule") {
        return schedule_dialog(&req, &state, &admin, Fields(form.into_inner())).await;
    }
    let (fields, action, transfer) = parse(&admin, form)?;
    let info = admin.info();
    let at = fields.get("at").map(str::to_string);
    let preview = if fields.get("all_matching") == Some("1") {
        let status = match fields.get("status").unwrap_or("") {
            "" | "scheduled" => None,
            s => Some(
                Status::parse(s)
                    .ok_or_else(|| WebError::BadRequest(crate::i18n::ta("bad-status", &[("value", s.to_string())])))?,
            ),
        };
        let query = UserQuery {
            scheduled: fields.get("status") == Some("scheduled"),
            search: fields.get("q").map(str::to_string),
            status,
            after: None,
            rows: None,
        };
        state
            .db(move |conn| {
                let due = due(conn, info.account_id, at.as_deref())?;
                let ids = bulk::all_matching(conn, info.account_id, &query, info.lang)?;
                Ok::<_, ServiceError>((
                    bulk::preview(conn, &info, action, &ids, &transfer, services::now())?,
                    due,
                ))
            })
            .await?
    } else {
        let ids = fields.user_ids()?;
        state
            .db(move |conn| {
                let due = due(conn, info.account_id, at.as_deref())?;
                Ok::<_, ServiceError>((
                    bulk::preview(conn, &info, action, &ids, &transfer, services::now())?,
                    due,
                ))
            })
            .await?
    };
    respond(&req, &admin, "result", preview_dialog(&admin, preview, &fields), false)
}

/// The same users again with the transfer now filled in, so target problems show.
async fn repreview(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let (fields, action, transfer) = parse(&admin, form)?;
    let info = admin.info();
    let token = path.into_inner();
    let at = fields.get("at").map(str::to_string);
    let preview = state
        .db(move |conn| {
            let due = due(conn, info.account_id, at.as_deref())?;
            let ids = bulk::previewed_ids(conn, &info, &token)?;
            Ok::<_, ServiceError>((
                bulk::preview(conn, &info, action, &ids, &transfer, services::now())?,
                due,
            ))
        })
        .await?;
    respond(&req, &admin, "result", preview_dialog(&admin, preview, &fields), false)
}

fn preview_dialog(admin: &Admin, (p, due): (Preview, Option<Due>), fields: &Fields) -> BulkPreviewDialog {
    let total = p.rows.len();
    let will = match &due {
        None => crate::i18n::t(&format!("will-be-{}", past(p.action))),
        Some(d) => crate::i18n::ta(
            "will-be-scheduled",
            &[("action", crate::i18n::t(p.action.as_str())), ("at", d.shown.clone())],
        ),
    };
    let (transfer_button, now_button) = match due {
        None => (
            format!("bulk-transfer-then-{}", p.action.as_str()),
            format!("bulk-{}-now", p.action.as_str()),
        ),
        Some(_) => ("bulk-schedule-transfer".to_string(), "bulk-schedule-now".to_string()),
    };
    let rows = p
        .rows
        .iter()
        .take(ROWS_SHOWN)
        .map(|r| PreviewRowView {
            email: r.email.clone(),
            name: r.name.clone(),
            allowed: r.verdict.is_ok(),
            text: match r.verdict {
                Ok(()) => will.clone(),
                Err(refusal) => format!(
                    "{}: {}",
                    crate::i18n::t("skipped"),
                    refusal.text(crate::i18n::current())
                ),
            },
        })
        .collect();
    BulkPreviewDialog {
        csrf: admin.csrf.clone(),
        token: p.token,
        action: p.action.as_str().into(),
        transfer_button,
        now_button,
        at: due.map(|d| d.at).unwrap_or_default(),
        removes: p.action.removes(),
        total,
        allowed: p.allowed,
        skipped_total: total - p.allowed,
        skipped: p
            .skipped
            .iter()
            .map(|(r, n)| (r.text(crate::i18n::current()), *n))
            .collect(),
        more: total.saturating_sub(ROWS_SHOWN),
        rows,
        transfer_to: fields.get("transfer_to").unwrap_or("").to_string(),
        checked: [
            "transfer_meetings",
            "transfer_webinars",
            "transfer_events",
            "transfer_recordings",
        ]
        .iter()
        .filter(|k| fields.get(k).is_some())
        .map(|k| k.to_string())
        .collect(),
    }
}

async fn apply(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let (fields, action, transfer) = parse(&admin, form)?;
    if fields.get("mode") == Some("transfer") && !transfer.choice.any() {
        return Err(WebError::BadRequest(crate::i18n::t("bad-choose-transfer")));
    }
    let info = admin.info();
    let token = path.into_inner();
    let at = fields.get("at").map(str::to_string);
    let result = state
        .db(move |conn| {
            let due = due(conn, info.account_id, at.as_deref())?.map(|d| d.due_at);
            bulk::apply(conn, &info, &token, action, &transfer, due, services::now())
        })
        .await
        .map_err(|e| match e {
            WebError::NotFound => WebError::BadRequest(crate::i18n::t("bad-preview")),
            other => other,
        })?;
    let dialog = BulkResultDialog {
        action: result.action.as_str().into(),
        replayed: result.replayed,
        done: result.done,
        skipped: result.skipped,
        failed: result.failed,
        more: result.rows.len().saturating_sub(ROWS_SHOWN),
        rows: result
            .rows
            .iter()
            .take(ROWS_SHOWN)
            .map(|(email, r)| match r {
                RowResult::Done => (email.clone(), "done".to_string(), String::new()),
                RowResult::Skipped(why) => (email.clone(), "skipped".to_string(), why.clone()),
                RowResult::Failed(why) => (email.clone(), "failed".to_string(), why.clone()),
            })
            .collect(),
    };
    respond(&req, &admin, "result", dialog, !result.replayed)
}

fn past(a: Action) -> &'static str {
    match a {
        Action::Deactivate => "deactivated",
        Action::Activate => "activated",
        Action::Unlink => "unlinked",
        Action::Delete => "deleted",
    }
}

/// The bulk bar's Schedule: what to plan for the selection, and when.
#[derive(Template)]
#[template(path = "_bulk_schedule.html")]
pub struct BulkScheduleDialog {
    pub csrf: String,
    /// The selection as the bulk bar sent it (checked ids, or all matching).
    pub selection: Vec<(String, String)>,
    pub count: String,
    pub zone: String,
}

async fn schedule_dialog(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    admin: &Admin,
    fields: Fields,
) -> Result<HttpResponse, WebError> {
    require_privilege(admin)?;
    let all = fields.get("all_matching") == Some("1");
    let ids = fields.user_ids()?;
    if !all && ids.is_empty() {
        return Err(WebError::BadRequest(crate::i18n::t("bad-select-one")));
    }
    let account_id = admin.user.account_id;
    let tz = state
        .db(move |conn| services::schedule::time_zone(conn, account_id))
        .await?;
    let keep = ["user_ids", "all_matching", "q", "status"];
    let dialog = BulkScheduleDialog {
        csrf: admin.csrf.clone(),
        selection: fields
            .0
            .into_iter()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .collect(),
        count: if all {
            crate::i18n::t("bulk-all-matching")
        } else {
            ids.len().to_string()
        },
        zone: tz.name().to_string(),
    };
    respond(req, admin, "schedule", dialog, false)
}
