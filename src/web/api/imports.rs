//! `/v2/imports`: the Import -> Update users CSV jobs (R60-R67) through the
//! API, on the same services as the Import page.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::db::models::{ImportJob, ImportRow};
use crate::domain::api_tokens::Scope;
use crate::domain::Action;
use crate::i18n::tr;
use crate::services::{self, api_users, import, ServiceError};

use super::{json, query_params, run, timestamp, ApiError, Caller, ErrorBody, FieldError};
use crate::web::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Refused,
    Duplicate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobRow {
    /// The spreadsheet's row number.
    pub line: i64,
    pub email: String,
    pub outcome: Outcome,
    /// Why the row is refused or skipped, or what was done.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Validated,
    Running,
    Done,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    pub id: String,
    /// deactivate, disassociate or delete.
    pub action: String,
    pub state: JobState,
    pub total: i64,
    pub valid: i64,
    pub done: i64,
    pub created_at: String,
    /// Rows in line order, at most `page_size` of them.
    pub rows: Vec<JobRow>,
    /// Pass as `after_line` for the next rows; 0 when there are no more.
    pub next_after_line: i64,
}

fn job_view(job: &ImportJob, rows: Vec<ImportRow>, page_size: i64) -> Job {
    let next_after_line = if rows.len() as i64 == page_size {
        rows.last().map(|r| r.line).unwrap_or(0)
    } else {
        0
    };
    Job {
        id: job.id.to_string(),
        action: match Action::parse(&job.action) {
            Some(Action::Unlink) => "disassociate".into(),
            _ => job.action.clone(),
        },
        state: match job.state.as_str() {
            "validated" => JobState::Validated,
            "running" => JobState::Running,
            _ => JobState::Done,
        },
        total: job.total.into(),
        valid: job.valid.into(),
        done: job.done.into(),
        created_at: timestamp(job.created_at),
        rows: rows
            .into_iter()
            .map(|r| JobRow {
                line: r.line,
                outcome: match r.state.as_str() {
                    "pending" | "done" => Outcome::Ok,
                    "skipped" => Outcome::Duplicate,
                    _ => Outcome::Refused,
                },
                email: r.email,
                reason: r.reason,
            })
            .collect(),
        next_after_line,
    }
}

const FIRST_ROWS: i64 = 100;

/// The multipart upload (documentation only; the handler reads it by hand).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportUpload {
    /// deactivate, disassociate or delete.
    #[schema(value_type = String, pattern = "^(deactivate|disassociate|delete)$")]
    action: String,
    /// The CSV file, as the Import page's sample lays it out.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn bad_field(lang: crate::i18n::Lang, field: &str, key: &str) -> ApiError {
    ApiError::validation(
        lang,
        vec![FieldError {
            field: field.into(),
            message: tr(lang, key),
        }],
    )
}

/// Upload a CSV file
///
/// Checks every row against every rule (R65) and answers the report; nothing
/// changes until the job is applied. Scope `import`; the token's creator
/// needs the bulk privilege (R60).
#[utoipa::path(
    post,
    path = "/v2/imports",
    tag = "Imports",
    operation_id = "createImport",
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The validation report (the first rows)", body = Job),
        (status = 400, description = "Code 300: no action, no file, or the file cannot be read", body = ErrorBody),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `import`; code 4711: the creator lacks the bulk privilege", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn create(state: web::Data<AppState>, caller: Caller, mut form: Multipart) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Import)?;
    let lang = caller.lang();
    let limits = state.config.csv_limits;
    let mut action = String::new();
    let mut filename = String::from("upload.csv");
    let mut bytes: Vec<u8> = Vec::new();
    let mut has_file = false;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| bad_field(lang, "file", "bad-upload"))?;
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            has_file = true;
            if let Some(f) = field.content_disposition().and_then(|cd| cd.get_filename()) {
                filename = f.chars().take(200).collect();
            }
        }
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| bad_field(lang, "file", "bad-upload"))?;
            match name.as_str() {
                "action" if action.len() < 32 => action.push_str(&String::from_utf8_lossy(&chunk)),
                "file" => {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > limits.max_bytes {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            super::errors::code::VALIDATION,
                            limits.too_large().text(lang),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    let action = match action.trim() {
        "deactivate" => Action::Deactivate,
        "disassociate" | "unlink" => Action::Unlink,
        "delete" => Action::Delete,
        _ => return Err(bad_field(lang, "action", "bad-import-action")),
    };
    if !has_file {
        return Err(bad_field(lang, "file", "api-field-required"));
    }
    let by = caller.0.by.clone();
    let (job, rows) = run(&state, move |conn| {
        let id = import::validate(conn, &by, action, &filename, &bytes, &limits, services::now())?;
        drop(bytes);
        crate::release_free_memory();
        let job = import::find_job(conn, by.account_id, id)?;
        let rows = api_users::import_rows_after(conn, &job, 0, FIRST_ROWS)?;
        Ok((job, rows))
    })
    .await
    .map_err(|e| ApiError::service(lang, e, Some(action)))?;
    Ok(json(StatusCode::CREATED, &job_view(&job, rows, FIRST_ROWS)))
}

fn job_not_found(lang: crate::i18n::Lang, e: ServiceError) -> ApiError {
    match e {
        ServiceError::NotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            super::errors::code::NOT_FOUND,
            tr(lang, "api-not-found"),
        ),
        other => ApiError::service(lang, other, None),
    }
}

fn job_id(lang: crate::i18n::Lang, raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            super::errors::code::NOT_FOUND,
            tr(lang, "api-not-found"),
        )
    })
}

/// Apply a validated job
///
/// Starts applying the valid rows in the background (R66, R67). Scope `import`.
#[utoipa::path(
    post,
    path = "/v2/imports/{importId}/apply",
    tag = "Imports",
    operation_id = "applyImport",
    params(("importId" = String, Path, description = "The job's id")),
    responses(
        (status = 202, description = "The job runs", body = Job),
        (status = 400, description = "Code 300: the job has no valid rows", body = ErrorBody),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `import`; code 4711: the creator lacks the bulk privilege", body = ErrorBody),
        (status = 404, description = "Code 404: no such job in this account", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn apply(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Import)?;
    let lang = caller.lang();
    let id = job_id(lang, &path.into_inner())?;
    let by = caller.0.by.clone();
    let (job, rows) = run(&state, move |conn| {
        import::find_job(conn, by.account_id, id)?;
        import::start(conn, &by, id, services::now())?;
        let job = import::find_job(conn, by.account_id, id)?;
        let rows = api_users::import_rows_after(conn, &job, 0, FIRST_ROWS)?;
        Ok((job, rows))
    })
    .await
    .map_err(|e| job_not_found(lang, e))?;
    crate::worker::wake();
    Ok(json(StatusCode::ACCEPTED, &job_view(&job, rows, FIRST_ROWS)))
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct JobParams {
    /// Rows after this line (from `next_after_line`), default 0.
    #[param(minimum = 0)]
    after_line: Option<i64>,
    /// 1 to 1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    page_size: Option<i64>,
}

/// Get a job
///
/// Its state, progress and per-row outcomes, paged by line. Scope `import`.
#[utoipa::path(
    get,
    path = "/v2/imports/{importId}",
    tag = "Imports",
    operation_id = "getImport",
    params(("importId" = String, Path, description = "The job's id"), JobParams),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 400, description = "Code 300: a field is not valid", body = ErrorBody),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `import`", body = ErrorBody),
        (status = 404, description = "Code 404: no such job in this account", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Import)?;
    let lang = caller.lang();
    let params = query_params(&req, lang)?;
    let mut errors = Vec::new();
    let mut number = |name: &str, default: i64, range: std::ops::RangeInclusive<i64>| match params.get(name) {
        None => default,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                errors.push(FieldError {
                    field: name.into(),
                    message: crate::i18n::tr_args(
                        lang,
                        "api-field-invalid",
                        &[("value", v.chars().take(100).collect())],
                    ),
                });
                default
            }
        },
    };
    let after = number("after_line", 0, 0..=i64::MAX);
    let page_size = number("page_size", FIRST_ROWS, 1..=1000);
    if !errors.is_empty() {
        return Err(ApiError::validation(lang, errors));
    }
    let id = job_id(lang, &path.into_inner())?;
    let account_id = caller.0.by.account_id;
    let (job, rows) = run(&state, move |conn| {
        let job = import::find_job(conn, account_id, id)?;
        let rows = api_users::import_rows_after(conn, &job, after, page_size)?;
        Ok((job, rows))
    })
    .await
    .map_err(|e| job_not_found(lang, e))?;
    Ok(json(StatusCode::OK, &job_view(&job, rows, page_size)))
}

/// Download a job's result
///
/// The result report as CSV, as on the Import page. Scope `import`.
#[utoipa::path(
    get,
    path = "/v2/imports/{importId}/result.csv",
    tag = "Imports",
    operation_id = "getImportResult",
    params(("importId" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The result report", content_type = "text/csv", body = String),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `import`", body = ErrorBody),
        (status = 404, description = "Code 404: no such job in this account", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn result_csv(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Import)?;
    let lang = caller.lang();
    let id = job_id(lang, &path.into_inner())?;
    let account_id = caller.0.by.account_id;
    let bytes = run(&state, move |conn| {
        let job = import::find_job(conn, account_id, id)?;
        import::result_csv(conn, &job)
    })
    .await
    .map_err(|e| job_not_found(lang, e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"import-{id}-result.csv\""),
        ))
        .body(bytes))
}
