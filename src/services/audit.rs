//! The append-only audit log (B1): only inserts, always inside the caller's
//! transaction (the database refuses updates and deletes with triggers), and
//! the filtered, keyset-paged reads of the Audit log page and its export.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::audit_rows::AuditRows;
use crate::db::models::{AuditEntry, NewAuditEntry};
use crate::db::schema::audit_log;
use crate::db::DbConn;

use super::ServiceResult;

/// An entry for an act of `by`, as a single action; callers fill in the target and detail.
pub fn by(by: &super::ActorInfo, action: &str, now: NaiveDateTime) -> NewAuditEntry {
    NewAuditEntry {
        account_id: by.account_id,
        at: now,
        // The sweeper (id 0) is no user.
        actor_id: Some(by.actor.id).filter(|id| *id != 0),
        actor_email: by.email.clone(),
        action: action.into(),
        source: by.source(&super::Origin::SINGLE).into(),
        ..Default::default()
    }
}

pub fn record(conn: &mut DbConn, entry: &NewAuditEntry) -> QueryResult<()> {
    record_many(conn, std::slice::from_ref(entry))
}

/// Writes `entries` in order, as few statements as their acts allow: one
/// per 1,000 consecutive entries of the same act (account, time, actor,
/// action, source, job), the same cached statement each time.
pub fn record_many(conn: &mut DbConn, entries: &[NewAuditEntry]) -> QueryResult<()> {
    for run in entries.chunk_by(same_act) {
        for chunk in run.chunks(1_000) {
            let rows = AuditRows::new(&chunk[0], chunk);
            match conn {
                DbConn::Sqlite(c) => rows.execute(c)?,
                DbConn::Pg(c) => rows.execute(c)?,
            };
        }
    }
    Ok(())
}

fn same_act(a: &NewAuditEntry, b: &NewAuditEntry) -> bool {
    (
        a.account_id,
        a.at,
        a.actor_id,
        &a.actor_email,
        &a.action,
        &a.source,
        a.job_id,
    ) == (
        b.account_id,
        b.at,
        b.actor_id,
        &b.actor_email,
        &b.action,
        &b.source,
        b.job_id,
    )
}

/// The Audit log page's filters; every field comes from the URL.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub target: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Keyset cursor: entries older than this id.
    pub before: Option<i64>,
}

impl AuditFilter {
    /// One exact filter and no dates is one index seek: a page costs the same
    /// at any size of the log. Dates, or two filters together (one index
    /// serves, the other is checked row by row), may walk much of it.
    pub fn is_index_seek(&self) -> bool {
        let exact = [&self.actor, &self.target, &self.action]
            .iter()
            .filter(|f| f.is_some())
            .count();
        exact <= 1 && self.from.is_none() && self.until.is_none()
    }
}

/// Newest first. Exact actor, target and action use their (account, column,
/// id) indexes, so a filtered page costs the same at any size of the log.
pub fn list(conn: &mut DbConn, account_id: i64, f: &AuditFilter, limit: i64) -> ServiceResult<Vec<AuditEntry>> {
    let mut q = audit_log::table
        .filter(audit_log::account_id.eq(account_id))
        .order(audit_log::id.desc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .into_boxed();
    if let Some(a) = &f.actor {
        q = q.filter(audit_log::actor_email.eq(a.trim().to_lowercase()));
    }
    if let Some(t) = &f.target {
        q = q.filter(audit_log::target_email.eq(t.trim().to_lowercase()));
    }
    if let Some(a) = &f.action {
        q = q.filter(audit_log::action.eq(a.clone()));
    }
    if let Some(from) = f.from {
        q = q.filter(audit_log::at.ge(from));
    }
    if let Some(until) = f.until {
        q = q.filter(audit_log::at.lt(until));
    }
    if let Some(before) = f.before {
        q = q.filter(audit_log::id.lt(before));
    }
    // The log starts empty and grows: no plan made for its size at one
    // moment, and never a sort of the whole log for one page.
    Ok(crate::db::in_index_order(conn, |conn| match conn {
        DbConn::Pg(_) => crate::db::Uncached(q).load(conn),
        DbConn::Sqlite(_) => q.load(conn),
    })?)
}

/// One entry as export cells (the columns of `web::audit::EXPORT_COLUMNS`); the writer (`csv_import::CsvStyle`) escapes
/// them against spreadsheet formulas.
pub fn csv_cells(e: &AuditEntry) -> Vec<String> {
    [
        e.id.to_string(),
        e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
        e.actor_email.clone(),
        e.action.clone(),
        e.target_email.clone(),
        e.source.clone(),
        e.job_id.map(|j| j.to_string()).unwrap_or_default(),
        e.transfer_to_email.clone().unwrap_or_default(),
        e.meetings_transferred.to_string(),
        e.webinars_transferred.to_string(),
        e.events_transferred.to_string(),
        e.recordings_transferred.to_string(),
        e.detail.clone(),
    ]
    .into()
}

/// The kinds the audit chart stacks; other acts count as the last.
pub const CHART_KINDS: [&str; 5] = ["deactivate", "activate", "unlink", "delete", "other"];

/// Acts per day (UTC) of the last `days` days by kind, oldest first, from
/// the trigger-kept `audit_counts` (a few hundred rows at any size of the log).
pub fn per_day(
    conn: &mut DbConn,
    account_id: i64,
    today: chrono::NaiveDate,
    days: i64,
) -> ServiceResult<Vec<(chrono::NaiveDate, [i64; 5])>> {
    use crate::db::schema::audit_counts as ac;
    let first = today - chrono::Duration::days(days - 1);
    let rows: Vec<(String, String, i64)> = ac::table
        .filter(ac::account_id.eq(account_id))
        .filter(ac::day.ge(first.format("%Y-%m-%d").to_string()))
        .select((ac::day, ac::action, ac::n))
        .load(conn)?;
    let mut out: Vec<(chrono::NaiveDate, [i64; 5])> =
        (0..days).map(|i| (first + chrono::Duration::days(i), [0; 5])).collect();
    for (day, action, n) in rows {
        let Ok(d) = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
            continue;
        };
        let Some(slot) = out.get_mut((d - first).num_days() as usize) else {
            continue;
        };
        let kind = CHART_KINDS
            .iter()
            .position(|k| *k == action)
            .unwrap_or(CHART_KINDS.len() - 1);
        slot.1[kind] += n;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::AuditFilter;

    #[test]
    fn one_exact_filter_without_dates_is_a_seek() {
        let one = |f: AuditFilter| f.is_index_seek();
        assert!(one(AuditFilter::default()));
        assert!(one(AuditFilter {
            target: Some("a@x.test".into()),
            before: Some(9),
            ..Default::default()
        }));
        assert!(!one(AuditFilter {
            actor: Some("o@x.test".into()),
            action: Some("delete".into()),
            ..Default::default()
        }));
        assert!(!one(AuditFilter {
            until: Some(chrono::NaiveDate::MIN.and_hms_opt(0, 0, 0).unwrap()),
            ..Default::default()
        }));
    }
}
