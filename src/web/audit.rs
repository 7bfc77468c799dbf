//! The Audit log page (B1): who did what to whom, when, and what was
//! transferred to whom; filtered, paged newest first, exported as CSV.

use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use crate::services::audit::{self, AuditFilter};

use super::pages::AuditPage;
use super::session::Admin;
use super::{AppState, WebError};

const PAGE: i64 = 50;

/// The export's header row: translation keys of `audit::csv_cells`' columns.
pub const EXPORT_COLUMNS: [&str; 13] = [
    "audit-col-id",
    "audit-col-at",
    "audit-col-actor",
    "audit-col-action",
    "audit-col-target",
    "audit-col-source",
    "audit-col-job",
    "audit-col-transfer-to",
    "audit-col-meetings",
    "audit-col-webinars",
    "audit-col-events",
    "audit-col-recordings",
    "audit-col-detail",
];
const EXPORT_CHUNK: i64 = 2_000;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(page))
        .route("/audit/export.csv", web::get().to(export));
}

#[derive(Deserialize, Default, Clone)]
pub struct AuditParams {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    before: Option<i64>,
}

fn day(s: &str, name: &str) -> Result<Option<NaiveDateTime>, WebError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0))
        .map_err(|_| {
            WebError::BadRequest(format!(
                "{}: {}",
                crate::i18n::t(if name == "from" { "audit-from" } else { "audit-until" }),
                crate::i18n::t("bad-date")
            ))
        })
}

impl AuditParams {
    fn filter(&self) -> Result<AuditFilter, WebError> {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(AuditFilter {
            actor: some(&self.actor),
            target: some(&self.target),
            action: some(&self.action),
            from: day(&self.from, "from")?,
            // "until" is inclusive: entries before the next day.
            until: day(&self.until, "until")?.map(|d| d + chrono::Duration::days(1)),
            before: self.before,
        })
    }

    fn query_string(&self, before: Option<i64>) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("actor", &self.actor),
            ("target", &self.target),
            ("action", &self.action),
            ("from", &self.from),
            ("until", &self.until),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect();
        if let Some(b) = before {
            pairs.push(("before", b.to_string()));
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }
}

async fn page(req: HttpRequest, params: web::Query<AuditParams>) -> Result<HttpResponse, WebError> {
    let filter = match params.filter() {
        Ok(filter) => filter,
        Err(e) => return Err(Admin::refusal_or(&req, e).await),
    };
    let seek = filter.is_index_seek();
    let today = crate::services::now().date();
    let read = move |conn: &mut crate::db::DbConn, me: &crate::db::models::User| {
        let account_id = me.account_id;
        crate::db::read_snapshot(conn, |conn| {
            let entries = audit::list(conn, account_id, &filter, PAGE + 1)?;
            Ok((entries, audit::per_day(conn, account_id, today, 30)?))
        })
    };
    // A page that may walk much of the log goes off the request's thread.
    let (admin, (entries, per_day)) = if seek {
        Admin::read(&req, read).await?
    } else {
        Admin::read_long(&req, read).await?
    };
    let more = entries.len() as i64 > PAGE;
    let entries: Vec<_> = entries.into_iter().take(PAGE as usize).collect();
    let next = if more {
        entries
            .last()
            .map(|e| format!("/audit?{}", params.query_string(Some(e.id))))
    } else {
        None
    };
    let page = AuditPage {
        layout: admin.layout("nav-audit"),
        actor: params.actor.clone(),
        target: params.target.clone(),
        action: params.action.clone(),
        from: params.from.clone(),
        until: params.until.clone(),
        export_url: format!("/audit/export.csv?{}", params.query_string(None)),
        next_url: next,
        entries,
        chart: acts_chart(&per_day),
        kinds: audit::CHART_KINDS
            .iter()
            .map(|k| crate::i18n::t(&format!("chart-kind-{k}")))
            .collect(),
        per_day: per_day
            .iter()
            .map(|(d, n)| (d.format("%Y-%m-%d").to_string(), n.to_vec()))
            .collect(),
    };
    super::render::html(&page)
}

/// Acts per day for the last 30 days, stacked by kind.
fn acts_chart(per_day: &[(chrono::NaiveDate, [i64; 5])]) -> String {
    super::charts::Chart {
        title: crate::i18n::t("chart-acts-title"),
        series: audit::CHART_KINDS
            .iter()
            .map(|k| crate::i18n::t(&format!("chart-kind-{k}")))
            .collect(),
        bars: per_day
            .iter()
            .map(|(d, n)| super::charts::Bar {
                label: d.format("%Y-%m-%d").to_string(),
                values: n.to_vec(),
            })
            .collect(),
    }
    .svg()
}

/// Streamed a chunk at a time: the export never holds the log in memory.
/// Written in the admin's language's CSV style (`csv_import::CsvStyle`).
async fn export(
    state: web::Data<AppState>,
    admin: Admin,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, WebError> {
    let filter = params.filter()?;
    let account_id = admin.user.account_id;
    // The body streams after the handler returned, outside the request's language scope.
    let lang = crate::i18n::current();
    let style = crate::csv_import::CsvStyle::of(lang.code());
    let start = (state.into_inner(), filter, true);
    let stream = futures_util::stream::unfold(Some(start), move |cursor| async move {
        let (state, mut filter, first) = cursor?;
        let page_filter = filter.clone();
        let rows = match state
            .db(move |conn| audit::list(conn, account_id, &page_filter, EXPORT_CHUNK))
            .await
        {
            Ok(rows) => rows,
            Err(e) => return Some((Err(actix_web::Error::from(e)), None)),
        };
        let mut text = String::new();
        if first {
            text.push_str(crate::csv_import::BOM);
            let header: Vec<String> = EXPORT_COLUMNS.iter().map(|key| crate::i18n::tr(lang, key)).collect();
            text.push_str(&style.line(&header));
        }
        for e in &rows {
            let mut cells = audit::csv_cells(e);
            if let Some(detail) = cells.last_mut() {
                *detail = super::audit_detail::show(lang, &e.action, &e.detail);
            }
            text.push_str(&style.line(&cells));
        }
        let bytes = Bytes::from(text);
        let next = match rows.last() {
            Some(last) if rows.len() as i64 == EXPORT_CHUNK => {
                filter.before = Some(last.id);
                Some((state, filter, false))
            }
            _ => None,
        };
        Some((Ok::<_, actix_web::Error>(bytes), next))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"audit-log.csv\""))
        .streaming(stream))
}
