//! The API's errors: `{"code":N,"message":"..."}` (plus `errors` for invalid
//! fields), in the token creator's language. [`refusal_answer`] is the one
//! table from a rule's refusal to a status and code; the OpenAPI document
//! and the README list it.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::api_tokens::Scope;
use crate::domain::{Action, Refusal};
use crate::i18n::{tr, tr_args, Lang};
use crate::services::ServiceError;

/// The codes, as the meeting platform numbers them where it has one.
pub mod code {
    /// A rule refused (the platform's "cannot ... this user").
    pub const RULE: u32 = 200;
    /// Invalid input, a bad transfer target or a bad page token.
    pub const VALIDATION: u32 = 300;
    pub const INVALID_TOKEN: u32 = 124;
    pub const USER_NOT_FOUND: u32 = 1001;
    pub const ROLE_NOT_FOUND: u32 = 1034;
    pub const MANAGED_DOMAIN: u32 = 1107;
    pub const UNLINK_ADMIN: u32 = 1117;
    pub const PENDING: u32 = 1120;
    pub const MISSING_SCOPE: u32 = 4700;
    /// The token's creator may not do this (only the owner changes admins, ...).
    pub const NO_PERMISSION: u32 = 4711;
    pub const NOT_FOUND: u32 = 404;
    pub const METHOD: u32 = 405;
    pub const CONFLICT: u32 = 409;
    pub const RATE_LIMITED: u32 = 429;
    pub const INTERNAL: u32 = 500;
    pub const BUSY: u32 = 503;
}

/// What a refusal answers through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Error(StatusCode, u32),
    /// The user is already in the state asked for: 200, nothing written.
    AlreadySo,
}

/// The one table from a rule's refusal to the API's answer. Only R3
/// depends on the act: unlinking an admin is the platform's 1117.
pub fn refusal_answer(refusal: Refusal, action: Option<Action>) -> Answer {
    use Refusal::*;
    let bad = |code| Answer::Error(StatusCode::BAD_REQUEST, code);
    match refusal {
        AdminMustBeMember if action == Some(Action::Unlink) => bad(code::UNLINK_ADMIN),
        AdminMustBeMember | Owner | OwnUser | Room | DeactivatedInBulk | CustomRoleNeedsAdmin => bad(code::RULE),
        Pending => bad(code::PENDING),
        ManagedDomain => bad(code::MANAGED_DOMAIN),
        TargetNotActive
        | TargetIsRemoved
        | TargetInBatch
        | TargetMissing
        | RecordingsNeedLicense
        | WebinarsNeedLicense => bad(code::VALIDATION),
        NotAdmin
        | NoBulkPrivilege
        | OnlyOwnerChangesAdmins
        | OnlyOwnerManagesRoles
        | NoAccessToSetting
        | OnlyOwnerEndsSessions
        | NoApiTokenAccess => Answer::Error(StatusCode::FORBIDDEN, code::NO_PERMISSION),
        AlreadyDeactivated | NotDeactivated => Answer::AlreadySo,
    }
}

/// Every refusal, for the table in the OpenAPI document.
pub const ALL_REFUSALS: [Refusal; 23] = [
    Refusal::NotAdmin,
    Refusal::Pending,
    Refusal::AdminMustBeMember,
    Refusal::OnlyOwnerChangesAdmins,
    Refusal::Owner,
    Refusal::OwnUser,
    Refusal::NoBulkPrivilege,
    Refusal::OnlyOwnerManagesRoles,
    Refusal::CustomRoleNeedsAdmin,
    Refusal::ManagedDomain,
    Refusal::NoAccessToSetting,
    Refusal::Room,
    Refusal::DeactivatedInBulk,
    Refusal::AlreadyDeactivated,
    Refusal::NotDeactivated,
    Refusal::TargetNotActive,
    Refusal::TargetIsRemoved,
    Refusal::TargetInBatch,
    Refusal::TargetMissing,
    Refusal::RecordingsNeedLicense,
    Refusal::WebinarsNeedLicense,
    Refusal::OnlyOwnerEndsSessions,
    Refusal::NoApiTokenAccess,
];

/// The refusal table as Markdown (OpenAPI description, README).
pub fn refusal_table() -> String {
    let mut out = String::from("| HTTP | code | rule | refusal |\n|---|---|---|---|\n");
    for r in ALL_REFUSALS {
        let rule = if r.rule().is_empty() { "-" } else { r.rule() };
        let text = tr(Lang::En, r.key());
        let mut answers = vec![refusal_answer(r, None)];
        if r == Refusal::AdminMustBeMember {
            answers.insert(0, refusal_answer(r, Some(Action::Unlink)));
        }
        for (i, a) in answers.into_iter().enumerate() {
            let note = if r == Refusal::AdminMustBeMember && i == 0 {
                " (disassociate)"
            } else if r == Refusal::AdminMustBeMember {
                " (status, delete)"
            } else {
                ""
            };
            let line = match a {
                Answer::Error(status, code) => format!("| {} | {code} | {rule} | {text}{note} |\n", status.as_u16()),
                Answer::AlreadySo => format!("| 200 | - | {rule} | {text}: already so, nothing changes |\n"),
            };
            out.push_str(&line);
        }
    }
    out
}

/// The error body of every API error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error code (see the table in the description).
    pub code: u32,
    /// What went wrong, in the token creator's language.
    pub message: String,
    /// The fields that were not valid, when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.body.code, self.body.message)
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: u32, message: String) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                code,
                message,
                errors: Vec::new(),
            },
            retry_after: None,
        }
    }

    pub fn invalid_token(lang: Lang) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            code::INVALID_TOKEN,
            tr(lang, "api-invalid-token"),
        )
    }

    pub fn missing_scope(lang: Lang, scope: Scope) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            code::MISSING_SCOPE,
            tr_args(lang, "api-missing-scope", &[("scope", scope.as_str().to_string())]),
        )
    }

    pub fn rate_limited(lang: Lang, seconds: u64) -> ApiError {
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                code::RATE_LIMITED,
                tr(lang, "api-rate-limited"),
            )
        }
    }

    pub fn user_not_found(lang: Lang, key: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            code::USER_NOT_FOUND,
            tr_args(
                lang,
                "api-user-not-found",
                &[("value", key.chars().take(100).collect())],
            ),
        )
    }

    pub fn role_not_found(lang: Lang, key: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            code::ROLE_NOT_FOUND,
            tr_args(
                lang,
                "api-role-not-found",
                &[("value", key.chars().take(100).collect())],
            ),
        )
    }

    /// 400 code 300 with the fields at fault.
    pub fn validation(lang: Lang, errors: Vec<FieldError>) -> ApiError {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, code::VALIDATION, tr(lang, "api-validation"));
        e.body.errors = errors;
        e
    }

    /// A service's error; `action` picks the code where R3 depends on it.
    pub fn service(lang: Lang, e: ServiceError, action: Option<Action>) -> ApiError {
        match e {
            ServiceError::Refused(r) => match refusal_answer(r, action) {
                Answer::Error(status, code) => ApiError::new(status, code, r.text(lang)),
                // Callers treat these as success before they get here.
                Answer::AlreadySo => ApiError::new(StatusCode::BAD_REQUEST, code::RULE, r.text(lang)),
            },
            ServiceError::NotFound => ApiError::user_not_found(lang, ""),
            ServiceError::Conflict => {
                ApiError::new(StatusCode::CONFLICT, code::CONFLICT, tr(lang, "error-input-conflict"))
            }
            ServiceError::Invalid(message) => ApiError::new(StatusCode::BAD_REQUEST, code::VALIDATION, message),
            ServiceError::File(f) => ApiError::new(StatusCode::BAD_REQUEST, code::VALIDATION, f.text(lang)),
            ServiceError::Busy | ServiceError::ChangedUnderUs => ApiError {
                retry_after: Some(1),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code::BUSY, tr(lang, "error-busy"))
            },
            ServiceError::Db(db) => {
                tracing::error!(error = %db, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    code::INTERNAL,
                    tr(lang, "api-internal"),
                )
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        resp.json(&self.body)
    }
}

impl actix_web::Responder for ApiError {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &actix_web::HttpRequest) -> HttpResponse {
        self.error_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_one_answer_and_the_platform_codes_hold() {
        let code = |r, a| match refusal_answer(r, a) {
            Answer::Error(_, c) => c,
            Answer::AlreadySo => 0,
        };
        assert_eq!(code(Refusal::AdminMustBeMember, Some(Action::Unlink)), 1117);
        assert_eq!(code(Refusal::AdminMustBeMember, Some(Action::Deactivate)), 200);
        assert_eq!(code(Refusal::ManagedDomain, Some(Action::Unlink)), 1107);
        assert_eq!(code(Refusal::Pending, Some(Action::Delete)), 1120);
        assert_eq!(code(Refusal::Room, Some(Action::Delete)), 200);
        assert_eq!(code(Refusal::TargetIsRemoved, Some(Action::Delete)), 300);
        assert_eq!(code(Refusal::AlreadyDeactivated, Some(Action::Deactivate)), 0);
        let table = refusal_table();
        for r in ALL_REFUSALS {
            assert!(table.contains(&tr(Lang::En, r.key())), "{r:?}");
        }
    }
}
