//! Import -> Update users (R60-R67): choose the action, download its sample,
//! upload the file, read the report, apply as a job, follow its progress,
//! download the result.

use crate::domain::JobState;
use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::csv_import::{self, Lang};
use crate::domain::Action;
use crate::services::{self, import, ServiceError};

use super::pages::{ImportPage, JobPage, JobProgress};
use super::session::{check_multipart_csrf, is_htmx, Admin};
use super::{redirect, AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/import", web::get().to(import_page))
        .route("/import", web::post().to(upload))
        .route("/import/sample", web::get().to(sample))
        .route("/import/sample", web::post().to(sample_post))
        .route(r"/import/jobs/{id:\d+}", web::get().to(job_page))
        .route(r"/import/jobs/{id:\d+}/progress", web::get().to(progress))
        .route(r"/import/jobs/{id:\d+}/apply", web::post().to(apply))
        .route(r"/import/jobs/{id:\d+}/result.csv", web::get().to(result_csv));
}

fn render(t: impl Template) -> Result<HttpResponse, WebError> {
    super::render::html(&t)
}

/// R60: the owner, or an admin whose custom role holds the bulk privilege.
fn require_privilege(admin: &Admin) -> Result<(), WebError> {
    if admin.actor.has_bulk_privilege() {
        Ok(())
    } else {
        Err(WebError::Forbidden(crate::i18n::t("import-needs-privilege")))
    }
}

fn parse_action(s: &str) -> Result<Action, WebError> {
    match Action::parse(s) {
        Some(a @ (Action::Deactivate | Action::Unlink | Action::Delete)) => Ok(a),
        _ => Err(WebError::BadRequest(crate::i18n::t("bad-import-action"))),
    }
}

async fn import_page(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, WebError> {
    let account_id = admin.user.account_id;
    let jobs = state.db(move |conn| import::recent_jobs(conn, account_id)).await?;
    render(ImportPage {
        layout: admin.layout("nav-import"),
        allowed: admin.actor.has_bulk_privilege(),
        jobs,
        retention_days: state.config.job_retention_days,
        limits_text: {
            let (l, lang) = (state.config.csv_limits, crate::i18n::current());
            crate::i18n::ta(
                "import-upload-label",
                &[
                    ("mb", crate::i18n::number(lang, (l.max_bytes / (1024 * 1024)) as i64)),
                    ("rows", crate::i18n::number(lang, l.max_rows as i64)),
                ],
            )
        },
    })
}

#[derive(Deserialize)]
struct SampleQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    lang: String,
}

/// The Import form's "Download sample" button posts the form (so its CSRF
/// field never lands in a URL); a typed-in link uses GET.
async fn sample_post(admin: Admin, q: web::Form<SampleQuery>) -> Result<HttpResponse, WebError> {
    sample_for(&admin, &q)
}

async fn sample(admin: Admin, q: web::Query<SampleQuery>) -> Result<HttpResponse, WebError> {
    sample_for(&admin, &q)
}

fn sample_for(admin: &Admin, q: &SampleQuery) -> Result<HttpResponse, WebError> {
    require_privilege(admin)?;
    let action = parse_action(&q.action)?;
    // The form's language, else the request's (session, then Accept-Language).
    let lang = Lang::parse(&q.lang).unwrap_or_else(crate::i18n::current);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{}-users-sample.csv\"", action.as_str()),
        ))
        .body(csv_import::sample(action, lang)))
}

/// The multipart upload: the `csrf` field first (checked before anything
/// else is read), then the `action` field and the `file`, read up to the
/// size limit and no further.
async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    form: Multipart,
) -> Result<HttpResponse, WebError> {
    require_privilege(&admin)?;
    let limits = state.config.csv_limits;
    let Upload {
        action,
        filename,
        bytes,
        too_large,
    } = read_upload(&req, form, limits.max_bytes).await?;
    let action = parse_action(action.trim())?;
    if too_large {
        return Err(WebError::TooLarge(limits.too_large().text(crate::i18n::current())));
    }
    let info = admin.info();
    let job_id = state
        .db(move |conn| {
            let job = import::validate(conn, &info, action, &filename, &bytes, &limits, services::now());
            drop(bytes);
            crate::release_free_memory();
            job
        })
        .await?;
    Ok(redirect(&format!("/import/jobs/{job_id}")))
}

/// The Import form's fields as read.
struct Upload {
    action: String,
    filename: String,
    bytes: Vec<u8>,
    too_large: bool,
}

/// Reads the multipart body: the `csrf` field first (checked before anything
/// else is read), then `action` and `file`, the file up to the size limit.
async fn read_upload(req: &HttpRequest, mut form: Multipart, max_bytes: usize) -> Result<Upload, WebError> {
    // Sized once from the request's length: growing by doubling would hold
    // up to 1.5 times the file while copying.
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut up = Upload {
        action: String::new(),
        filename: String::from("upload.csv"),
        bytes: Vec::with_capacity(announced.min(max_bytes + 1)),
        too_large: false,
    };
    let mut csrf_checked = req.headers().contains_key(super::session::CSRF_HEADER);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_upload)?;
        let name = field.name().unwrap_or("").to_string();
        if name == "csrf" {
            check_multipart_csrf(req, read_token(&mut field).await?.as_deref())?;
            csrf_checked = true;
            continue;
        }
        if !csrf_checked {
            return Err(WebError::Csrf);
        }
        if let Some(f) = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .filter(|_| name == "file")
        {
            up.filename = f.to_string();
        }
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad_upload)?;
            match name.as_str() {
                "action" if up.action.len() < 32 => up.action.push_str(&String::from_utf8_lossy(&chunk)),
                "file" if !up.too_large => {
                    up.bytes.extend_from_slice(&chunk);
                    if up.bytes.len() > max_bytes {
                        up.too_large = true;
                        up.bytes = Vec::new();
                    }
                }
                _ => {}
            }
        }
    }
    Ok(up)
}

/// The `csrf` field's value, at most 128 bytes of it.
async fn read_token(field: &mut actix_multipart::Field) -> Result<Option<String>, WebError> {
    let mut token = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|_| WebError::Csrf)?;
        token.extend_from_slice(&chunk[..chunk.len().min(128usize.saturating_sub(token.len()))]);
    }
    Ok(String::from_utf8(token).ok())
}

/// A malformed multipart body: the parser's words go to the log, not the page.
fn bad_upload(e: actix_multipart::MultipartError) -> WebError {
    tracing::info!(detail = %e, "upload refused");
    WebError::BadRequest(crate::i18n::t("bad-upload"))
}

/// Rows listed on the report page; the full report is the CSV download.
const REPORT_ROWS: i64 = 1_000;

async fn job_page(state: web::Data<AppState>, admin: Admin, path: web::Path<i64>) -> Result<HttpResponse, WebError> {
    let account_id = admin.user.account_id;
    let id = path.into_inner();
    let (job, rows) = state
        .db(move |conn| {
            let job = import::find_job(conn, account_id, id)?;
            let rows = import::report_rows(conn, &job, REPORT_ROWS)?;
            Ok::<_, ServiceError>((job, rows))
        })
        .await?;
    let progress = JobProgress::of(&job, services::now());
    render(JobPage {
        layout: admin.layout("nav-import"),
        more: (job.total as usize).saturating_sub(rows.len()),
        progress,
        rows,
        job,
    })
}

async fn progress(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let account_id = admin.user.account_id;
    let id = path.into_inner();
    let job = state.db(move |conn| import::find_job(conn, account_id, id)).await?;
    if !is_htmx(&req) {
        return Ok(redirect(&format!("/import/jobs/{}", job.id)));
    }
    let mut resp = render(JobProgress::of(&job, services::now()))?;
    if job.state == JobState::Done {
        // Once: the page reloads with the final report and stops polling.
        resp.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("hx-refresh"),
            actix_web::http::header::HeaderValue::from_static("true"),
        );
    }
    Ok(resp)
}

async fn apply(state: web::Data<AppState>, admin: Admin, path: web::Path<i64>) -> Result<HttpResponse, WebError> {
    require_privilege(&admin)?;
    let info = admin.info();
    let id = path.into_inner();
    state
        .db(move |conn| import::start(conn, &info, id, services::now()))
        .await?;
    crate::worker::wake();
    Ok(redirect(&format!("/import/jobs/{id}")))
}

async fn result_csv(state: web::Data<AppState>, admin: Admin, path: web::Path<i64>) -> Result<HttpResponse, WebError> {
    let account_id = admin.user.account_id;
    let id = path.into_inner();
    let bytes = state
        .db(move |conn| {
            let job = import::find_job(conn, account_id, id)?;
            import::result_csv(conn, &job)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"import-{id}-result.csv\""),
        ))
        .body(bytes))
}
