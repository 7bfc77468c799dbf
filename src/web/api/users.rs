//! `/v2/users`: list, get, status, delete or disassociate. Each act is the
//! portal's `user_actions::perform`; only reading and writing differ.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};

use crate::db::models::User;
use crate::domain::api_tokens::Scope;
use crate::domain::{Action, Status, TransferChoice};
use crate::i18n::{tr, tr_args, Lang};
use crate::services::api_users::{self, RoleRef};
use crate::services::user_actions::{self, Transfer};
use crate::services::{self, Origin, ServiceError};

use super::{json, query_params, run, timestamp, Answer, ApiError, Caller, ErrorBody, FieldError};
use crate::web::AppState;

/// A user's status as the platform names it (`inactive`: deactivated).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Inactive,
    Pending,
}

impl UserStatus {
    fn of(s: Status) -> UserStatus {
        match s {
            Status::Active => UserStatus::Active,
            Status::Deactivated => UserStatus::Inactive,
            Status::Pending => UserStatus::Pending,
        }
    }
    fn status(self) -> Status {
        match self {
            UserStatus::Active => Status::Active,
            UserStatus::Inactive => Status::Deactivated,
            UserStatus::Pending => Status::Pending,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiUser {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// 1 Basic, 2 Licensed.
    #[serde(rename = "type")]
    #[schema(minimum = 1, maximum = 2)]
    pub user_type: i32,
    /// "0" owner, "1" admin, "2" member, or `c` and a custom role's id.
    pub role_id: String,
    pub role_name: String,
    pub status: UserStatus,
    /// ISO 8601, UTC.
    pub created_at: String,
    /// Not recorded by Offboard: always null.
    pub last_login_time: Option<String>,
    /// When a planned removal is due (ISO 8601, UTC); null without one.
    pub scheduled_at: Option<String>,
    /// What is planned for `scheduled_at`; null without a plan.
    pub scheduled_action: Option<ScheduleAction>,
}

/// What a plan does, in the API's words (`disassociate`: unlink).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleAction {
    Deactivate,
    Disassociate,
    Delete,
}

impl ScheduleAction {
    pub fn of(a: Action) -> Option<ScheduleAction> {
        match a {
            Action::Deactivate => Some(ScheduleAction::Deactivate),
            Action::Unlink => Some(ScheduleAction::Disassociate),
            Action::Delete => Some(ScheduleAction::Delete),
            Action::Activate => None,
        }
    }
    pub fn action(self) -> Action {
        match self {
            ScheduleAction::Deactivate => Action::Deactivate,
            ScheduleAction::Disassociate => Action::Unlink,
            ScheduleAction::Delete => Action::Delete,
        }
    }
}

/// The users as the API shows them, with their custom roles' names and plans.
pub fn api_users_of(
    conn: &mut crate::db::DbConn,
    account_id: i64,
    users: &[User],
) -> Result<Vec<ApiUser>, ServiceError> {
    let names = api_users::custom_role_names(conn, account_id)?;
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let plans = services::schedule::planned(conn, account_id, &ids)?;
    Ok(users
        .iter()
        .map(|u| {
            let mut out = api_user(u, &names);
            if let Some(p) = plans.get(&u.id) {
                out.scheduled_at = Some(timestamp(p.due_at));
                out.scheduled_action = ScheduleAction::of(p.action);
            }
            out
        })
        .collect())
}

pub fn api_user(u: &User, custom_roles: &HashMap<i64, String>) -> ApiUser {
    let role = RoleRef::of(u);
    let role_name = match role {
        RoleRef::Owner => "Owner".to_string(),
        RoleRef::Admin => "Admin".to_string(),
        RoleRef::Member => "Member".to_string(),
        RoleRef::Custom(id) => custom_roles.get(&id).cloned().unwrap_or_default(),
    };
    ApiUser {
        id: u.id.to_string(),
        email: u.email.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        user_type: if u.user_type == crate::domain::UserType::Licensed {
            2
        } else {
            1
        },
        role_id: role.id(),
        role_name,
        status: UserStatus::of(u.status),
        created_at: timestamp(u.created_at),
        last_login_time: None,
        scheduled_at: None,
        scheduled_action: None,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub page_size: i64,
    /// Empty on the last page; valid for 30 minutes, for this query only.
    pub next_page_token: String,
    pub total_records: i64,
    pub users: Vec<ApiUser>,
}

/// The query of `GET /v2/users` (read by hand so every bad field is named).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Default `active`.
    #[param(value_type = Option<UserStatus>)]
    status: Option<String>,
    /// 1 to 2000, default 30.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 2000)]
    page_size: Option<String>,
    /// From the previous page's answer, with the same status and role_id.
    next_page_token: Option<String>,
    /// "0" owner, "1" admin, "2" member, or `c` and a custom role's id.
    #[param(pattern = "^([012]|c[0-9]{1,18})$")]
    role_id: Option<String>,
}

const CURSOR_SECONDS: i64 = 30 * 60;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], payload: &str) -> Option<HmacSha256> {
    let mut m = HmacSha256::new_from_slice(key).ok()?;
    m.update(payload.as_bytes());
    Some(m)
}

/// An opaque keyset cursor bound to the account and the query, signed with
/// the server key so it cannot be forged or carried to another account.
fn encode_cursor(key: &[u8], scope: &str, email: &str, now: i64) -> String {
    let payload = format!("{scope}|{now}|{email}");
    let sig = mac(key, &payload)
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default();
    format!(
        "{}.{}",
        crate::config::encode_hex(payload.as_bytes()),
        crate::config::encode_hex(&sig)
    )
}

fn decode_cursor(key: &[u8], scope: &str, token: &str, now: i64) -> Option<String> {
    let (payload, sig) = token.split_once('.')?;
    let payload = String::from_utf8(crate::config::decode_hex(payload)?).ok()?;
    mac(key, &payload)?
        .verify_slice(&crate::config::decode_hex(sig)?)
        .ok()?;
    let rest = payload.strip_prefix(scope)?.strip_prefix('|')?;
    let (issued, email) = rest.split_once('|')?;
    let issued: i64 = issued.parse().ok()?;
    (now - issued <= CURSOR_SECONDS && issued <= now + 60).then(|| email.to_string())
}

pub fn field(name: &str, message: String) -> FieldError {
    FieldError {
        field: name.into(),
        message,
    }
}

pub fn invalid(lang: Lang, name: &str, value: &str) -> FieldError {
    field(
        name,
        tr_args(
            lang,
            "api-field-invalid",
            &[("value", value.chars().take(100).collect())],
        ),
    )
}

/// `status`, `page_size` and `role_id` of `GET /v2/users`, every bad one named.
fn list_params(
    params: &std::collections::HashMap<String, String>,
    lang: crate::i18n::Lang,
) -> Result<(UserStatus, i64, Option<RoleRef>), ApiError> {
    let mut errors = Vec::new();
    let status = match params.get("status").map(String::as_str) {
        None | Some("active") => UserStatus::Active,
        Some("inactive") => UserStatus::Inactive,
        Some("pending") => UserStatus::Pending,
        Some(other) => {
            errors.push(invalid(lang, "status", other));
            UserStatus::Active
        }
    };
    let page_size = match params.get("page_size").map(|v| (v, v.parse::<i64>())) {
        None => 30,
        Some((_, Ok(n))) if (1..=2000).contains(&n) => n,
        Some((v, _)) => {
            errors.push(invalid(lang, "page_size", v));
            30
        }
    };
    let role = match params.get("role_id") {
        None => None,
        Some(v) => RoleRef::parse(v).or_else(|| {
            errors.push(invalid(lang, "role_id", v));
            None
        }),
    };
    if errors.is_empty() {
        Ok((status, page_size, role))
    } else {
        Err(ApiError::validation(lang, errors))
    }
}

/// List users
///
/// One page of the account's users by status, ordered by email; keyset
/// paging with `next_page_token`. Scope `user:read`.
#[utoipa::path(
    get,
    path = "/v2/users",
    tag = "Users",
    operation_id = "listUsers",
    params(ListParams),
    responses(
        (status = 200, description = "One page of users", body = UserList),
        (status = 400, description = "Code 300: a field is not valid (`errors` names it), or the next_page_token was not issued for this account and query or has expired", body = ErrorBody),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `user:read`", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy; nothing changed", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::UserRead)?;
    let lang = caller.lang();
    let params = query_params(&req, lang)?;
    let (status, page_size, role) = list_params(&params, lang)?;
    let account_id = caller.0.by.account_id;
    let scope = format!(
        "{account_id}|{}|{}",
        status.status().as_str(),
        role.map(RoleRef::id).unwrap_or_default()
    );
    let key = state.config.session_key.signing().to_vec();
    let now = chrono::Utc::now().timestamp();
    let after = match params.get("next_page_token").filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(decode_cursor(&key, &scope, t, now).ok_or_else(|| {
            ApiError::validation(lang, vec![field("next_page_token", tr(lang, "api-bad-page-token"))])
        })?),
    };
    let query = api_users::Query {
        status: status.status(),
        role,
        after,
        page_size,
        total_fresh: state.config.api_total_fresh,
    };
    let (page, users) = run(&state, move |conn| {
        let page = api_users::list(conn, account_id, &query)?;
        let users = api_users_of(conn, account_id, &page.users)?;
        Ok((page, users))
    })
    .await
    .map_err(|e| ApiError::service(lang, e, None))?;
    Ok(json(
        StatusCode::OK,
        &UserList {
            page_size,
            next_page_token: page
                .next_after
                .map(|email| encode_cursor(&key, &scope, &email, now))
                .unwrap_or_default(),
            total_records: page.total,
            users,
        },
    ))
}

/// Get a user
///
/// By id or email. A user of another account does not exist here. Scope `user:read`.
#[utoipa::path(
    get,
    path = "/v2/users/{userId}",
    tag = "Users",
    operation_id = "getUser",
    params(("userId" = String, Path, description = "The user's id or email")),
    responses(
        (status = 200, description = "The user", body = ApiUser),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `user:read`", body = ErrorBody),
        (status = 404, description = "Code 1001: no such user in this account", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::UserRead)?;
    let lang = caller.lang();
    let key = path.into_inner();
    let account_id = caller.0.by.account_id;
    let k = key.clone();
    let user = run(&state, move |conn| {
        let u = api_users::find(conn, account_id, &k)?;
        first_of(api_users_of(conn, account_id, &[u])?)
    })
    .await
    .map_err(|e| not_found_or(lang, &key, e, None))?;
    Ok(json(StatusCode::OK, &user))
}

pub fn first_of(users: Vec<ApiUser>) -> Result<ApiUser, ServiceError> {
    users.into_iter().next().ok_or(ServiceError::NotFound)
}

pub fn not_found_or(lang: Lang, key: &str, e: ServiceError, action: Option<Action>) -> ApiError {
    match e {
        ServiceError::NotFound => ApiError::user_not_found(lang, key),
        other => ApiError::service(lang, other, action),
    }
}

/// `PUT /v2/users/{userId}/status`'s body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusBody {
    pub action: StatusAction,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusAction {
    Activate,
    Deactivate,
}

/// Activate or deactivate a user
///
/// The portal's Deactivate and Activate (R10-R14). Asking for the status
/// the user already has answers 200 and changes nothing. Scope `user:write`.
#[utoipa::path(
    put,
    path = "/v2/users/{userId}/status",
    tag = "Users",
    operation_id = "updateUserStatus",
    params(("userId" = String, Path, description = "The user's id or email")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The user, now in the status asked for", body = ApiUser),
        (status = 400, description = "Code 300: the body is not valid; code 200: the owner, an admin or your own user; code 1120: a pending user", body = ErrorBody),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `user:write`; code 4711: the token's creator may not", body = ErrorBody),
        (status = 404, description = "Code 1001: no such user in this account", body = ErrorBody),
        (status = 409, description = "Code 409: the user changed meanwhile", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy; nothing changed", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn set_status(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::UserWrite)?;
    let lang = caller.lang();
    let body = super::json_object(&body, lang)?;
    let action = match body.get("action") {
        Some(serde_json::Value::String(a)) if a == "activate" => Action::Activate,
        Some(serde_json::Value::String(a)) if a == "deactivate" => Action::Deactivate,
        None => {
            return Err(ApiError::validation(
                lang,
                vec![field("action", tr(lang, "api-field-required"))],
            ))
        }
        Some(other) => {
            return Err(ApiError::validation(
                lang,
                vec![invalid(lang, "action", &other.to_string())],
            ))
        }
    };
    let key = path.into_inner();
    let by = caller.0.by.clone();
    let k = key.clone();
    let user = run(&state, move |conn| {
        let user = api_users::find(conn, by.account_id, &k)?;
        let done = user_actions::perform(
            conn,
            &by,
            user.id,
            action,
            &Transfer::default(),
            Origin::SINGLE,
            services::now(),
        );
        match done {
            Ok(_) => {}
            Err(ServiceError::Refused(r)) if super::refusal_answer(r, Some(action)) == Answer::AlreadySo => {}
            Err(e) => return Err(e),
        }
        let user = services::users::find_in_account(conn, by.account_id, user.id)?;
        first_of(api_users_of(conn, by.account_id, &[user])?)
    })
    .await
    .map_err(|e| not_found_or(lang, &key, e, Some(action)))?;
    Ok(json(StatusCode::OK, &user))
}

/// The query of `DELETE /v2/users/{userId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DeleteParams {
    /// `disassociate` (default: unlink, the user keeps a free account) or `delete`.
    #[param(value_type = Option<DeleteAction>)]
    action: Option<String>,
    /// The user of this account who receives the data chosen below.
    transfer_email: Option<String>,
    #[param(value_type = Option<bool>)]
    transfer_meeting: Option<String>,
    #[param(value_type = Option<bool>)]
    transfer_webinar: Option<String>,
    #[param(value_type = Option<bool>)]
    transfer_recording: Option<String>,
    #[param(value_type = Option<bool>)]
    transfer_events: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeleteAction {
    Disassociate,
    Delete,
}

/// Delete or disassociate a user
///
/// The portal's Unlink (`disassociate`, R30-R32) or Delete (R40-R46), with
/// the optional data transfer (R50-R53). Scope `user:delete`.
#[utoipa::path(
    delete,
    path = "/v2/users/{userId}",
    tag = "Users",
    operation_id = "deleteUser",
    params(("userId" = String, Path, description = "The user's id or email"), DeleteParams),
    responses(
        (status = 204, description = "Done"),
        (status = 400, description = "Code 300: a field is not valid or the transfer target cannot take the data; code 200: the owner, your own user, an admin (delete) or a room; code 1117: disassociating an admin; code 1107: a managed-domain user; code 1120: a pending user", body = ErrorBody),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `user:delete`; code 4711: the token's creator may not", body = ErrorBody),
        (status = 404, description = "Code 1001: no such user in this account", body = ErrorBody),
        (status = 409, description = "Code 409: the user changed meanwhile", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy; nothing changed", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn delete_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::UserDelete)?;
    let lang = caller.lang();
    let params = query_params(&req, lang)?;
    let mut errors = Vec::new();
    let action = match params.get("action").map(String::as_str) {
        None | Some("disassociate") => Action::Unlink,
        Some("delete") => Action::Delete,
        Some(other) => {
            errors.push(invalid(lang, "action", other));
            Action::Unlink
        }
    };
    let mut flag = |name: &str| match params.get(name).map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            errors.push(invalid(lang, name, other));
            false
        }
    };
    let choice = TransferChoice {
        meetings: flag("transfer_meeting"),
        webinars: flag("transfer_webinar"),
        recordings: flag("transfer_recording"),
        events: flag("transfer_events"),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(lang, errors));
    }
    let transfer = Transfer {
        choice,
        to_email: params.get("transfer_email").cloned().filter(|e| !e.trim().is_empty()),
    };
    let key = path.into_inner();
    let by = caller.0.by.clone();
    let k = key.clone();
    run(&state, move |conn| {
        let user = api_users::find(conn, by.account_id, &k)?;
        user_actions::perform(conn, &by, user.id, action, &transfer, Origin::SINGLE, services::now())
    })
    .await
    .map_err(|e| not_found_or(lang, &key, e, Some(action)))?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_holds_only_for_its_account_and_query_and_not_forever() {
        let key = [7u8; 32];
        let t = encode_cursor(&key, "1|active|", "a@b.test", 1000);
        assert_eq!(decode_cursor(&key, "1|active|", &t, 1000).as_deref(), Some("a@b.test"));
        assert_eq!(decode_cursor(&key, "2|active|", &t, 1000), None, "another account");
        assert_eq!(decode_cursor(&key, "1|pending|", &t, 1000), None, "another query");
        assert_eq!(decode_cursor(&[8u8; 32], "1|active|", &t, 1000), None, "another key");
        assert_eq!(decode_cursor(&key, "1|active|", &t, 1000 + 31 * 60), None, "expired");
        let forged = t.replacen('6', "7", 1);
        assert_eq!(decode_cursor(&key, "1|active|", &forged, 1000), None);
        assert_eq!(decode_cursor(&key, "1|active|", "zz.zz", 1000), None);
    }
}
