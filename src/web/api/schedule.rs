//! `/v2/users/{userId}/schedule`: plan a deactivation, disassociation or
//! delete for a moment (B7), or cancel the plan. The portal's Schedule
//! dialog and this endpoint call the same `services::schedule`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::api_tokens::Scope;
use crate::domain::{Action, TransferChoice};
use crate::i18n::{tr, Lang};
use crate::services::schedule::Plan;
use crate::services::user_actions::Transfer;
use crate::services::{self, api_users, ServiceError};

use super::users::{api_users_of, field, first_of, invalid, not_found_or, ApiUser, ScheduleAction};
use super::{json, run, ApiError, Caller, ErrorBody, FieldError};
use crate::web::AppState;

/// `PUT /v2/users/{userId}/schedule`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ScheduleBody {
    pub action: ScheduleAction,
    /// ISO 8601 with an offset (`2027-01-05T09:00:00Z`), or a local date and
    /// time in the account's time zone (`2027-01-05T09:00`, `2027-01-05`: the
    /// start of that day). Must be in the future.
    #[schema(example = "2027-01-05T09:00:00Z")]
    pub at: String,
    /// The user of this account who receives the data chosen below.
    pub transfer_email: Option<String>,
    pub transfer_meeting: Option<bool>,
    pub transfer_webinar: Option<bool>,
    pub transfer_recording: Option<bool>,
    pub transfer_events: Option<bool>,
}

/// The body read by hand, so every bad field is named.
fn plan_fields(body: &Map<String, Value>, lang: Lang) -> Result<(ScheduleAction, String, Transfer), ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let action = match body.get("action").and_then(Value::as_str) {
        Some("deactivate") => Some(ScheduleAction::Deactivate),
        Some("disassociate") | Some("unlink") => Some(ScheduleAction::Disassociate),
        Some("delete") => Some(ScheduleAction::Delete),
        None if body.get("action").is_none() => {
            errors.push(field("action", tr(lang, "api-field-required")));
            None
        }
        _ => {
            errors.push(invalid(lang, "action", &body["action"].to_string()));
            None
        }
    };
    let at = match body.get("at") {
        Some(Value::String(at)) => at.clone(),
        None => {
            errors.push(field("at", tr(lang, "api-field-required")));
            String::new()
        }
        Some(other) => {
            errors.push(invalid(lang, "at", &other.to_string()));
            String::new()
        }
    };
    let mut flag = |name: &str| match body.get(name) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            errors.push(invalid(lang, name, &other.to_string()));
            false
        }
    };
    let choice = TransferChoice {
        meetings: flag("transfer_meeting"),
        webinars: flag("transfer_webinar"),
        recordings: flag("transfer_recording"),
        events: flag("transfer_events"),
    };
    let to_email = match body.get("transfer_email") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) => Some(e.trim().to_string()).filter(|e| !e.is_empty()),
        Some(other) => {
            errors.push(invalid(lang, "transfer_email", &other.to_string()));
            None
        }
    };
    match action {
        Some(action) if errors.is_empty() => Ok((action, at, Transfer { choice, to_email })),
        _ => Err(ApiError::validation(lang, errors)),
    }
}

/// Schedule a user's removal
///
/// Plans a deactivation, disassociation (unlink) or delete, with the
/// optional data transfer, for a moment; a plan the user had is replaced.
/// The rules are checked now and again when it is due; a refusal then is
/// mailed to the token's creator. Scope `user:write` to deactivate,
/// `user:delete` to disassociate or delete.
#[utoipa::path(
    put,
    path = "/v2/users/{userId}/schedule",
    tag = "Users",
    operation_id = "scheduleUser",
    params(("userId" = String, Path, description = "The user's id or email")),
    request_body = ScheduleBody,
    responses(
        (status = 200, description = "The user, with `scheduled_at` and `scheduled_action`", body = ApiUser),
        (status = 400, description = "Code 300: a field is not valid, the moment has passed or the transfer target cannot take the data; code 200: the owner, your own user, an admin or a room; code 1117, 1107, 1120 as for the act itself", body = ErrorBody),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks the scope; code 4711: the token's creator may not", body = ErrorBody),
        (status = 404, description = "Code 1001: no such user in this account", body = ErrorBody),
        (status = 409, description = "Code 409: the user changed meanwhile", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy; nothing changed", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn put_schedule(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let lang = caller.lang();
    let body = super::json_object(&body, lang)?;
    let (action, at, transfer) = plan_fields(&body, lang)?;
    let action = action.action();
    caller.require(if action == Action::Deactivate {
        Scope::UserWrite
    } else {
        Scope::UserDelete
    })?;
    let (key, by) = (path.into_inner(), caller.0.by.clone());
    let k = key.clone();
    let user = run(&state, move |conn| {
        let tz = services::schedule::time_zone(conn, by.account_id)?;
        let due_at = crate::domain::schedule::parse_moment(&at, tz)
            .ok_or_else(|| ServiceError::Invalid(tr(by.lang, "bad-schedule-moment")))?;
        let user = api_users::find(conn, by.account_id, &k)?;
        let plan = Plan {
            action,
            transfer,
            due_at,
        };
        let user = services::schedule::schedule(conn, &by, user.id, &plan, services::now())?;
        first_of(api_users_of(conn, by.account_id, &[user])?)
    })
    .await
    .map_err(|e| not_found_or(lang, &key, e, Some(action)))?;
    Ok(json(StatusCode::OK, &user))
}

/// Cancel a user's scheduled removal
///
/// Ends the user's waiting plan (audited). 404 when the user has none.
/// Scope `user:write`.
#[utoipa::path(
    delete,
    path = "/v2/users/{userId}/schedule",
    tag = "Users",
    operation_id = "cancelUserSchedule",
    params(("userId" = String, Path, description = "The user's id or email")),
    responses(
        (status = 204, description = "The plan is cancelled"),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `user:write`", body = ErrorBody),
        (status = 404, description = "Code 1001: no such user in this account, or the user has no plan", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy; nothing changed", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn delete_schedule(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::UserWrite)?;
    let lang = caller.lang();
    let (key, by) = (path.into_inner(), caller.0.by.clone());
    let k = key.clone();
    run(&state, move |conn| {
        let user = api_users::find(conn, by.account_id, &k)?;
        services::schedule::cancel(conn, &by, user.id, services::now())
    })
    .await
    .map_err(|e| not_found_or(lang, &key, e, None))?;
    Ok(HttpResponse::NoContent().finish())
}
