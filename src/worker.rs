//! The background worker inside `serve`: applies running CSV jobs a batch
//! at a time, and every few minutes runs the auto-delete sweeper and sends
//! the outbox. It keeps no state of its own: everything it needs is in the
//! database, so a restart (even kill -9) picks up where it stopped.

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::db::Pool;
use crate::domain::signin::SessionLimits;
use crate::mail::{self, Mailer, SmtpMailer};
use crate::services::auto_delete::{self, SweepReport};
use crate::services::{self, import, ServiceError};

/// How often the sweeper runs inside `serve` (`OFFBOARD_SWEEP_SECONDS`, default 300).
fn sweep_every() -> Duration {
    let secs = std::env::var("OFFBOARD_SWEEP_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(secs)
}

/// Starts the worker thread; it runs until the process ends.
pub fn spawn(
    pool: Pool,
    mailer: Option<SmtpMailer>,
    limits: SessionLimits,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("offboard-worker".into())
        .spawn(move || {
            let every = sweep_every();
            let mut last_sweep: Option<Instant> = None;
            loop {
                if last_sweep.is_none_or(|t| t.elapsed() >= every) {
                    last_sweep = Some(Instant::now());
                    if let Err(e) = sweep_once(&pool, mailer.as_ref().map(|m| m as &dyn Mailer), services::now()) {
                        tracing::error!(error = %e, "sweep");
                    }
                    if let Err(e) = forget_expired(&pool, limits, services::now()) {
                        tracing::error!(error = %e, "expired sessions");
                    }
                }
                match work_once(&pool) {
                    Ok(true) => {}
                    Ok(false) => std::thread::sleep(Duration::from_millis(250)),
                    Err(e) => {
                        tracing::error!(error = %e, "worker");
                        std::thread::sleep(Duration::from_secs(2));
                    }
                }
            }
        })
}

/// Removes sessions past their limits and sign-in counters that expired.
pub fn forget_expired(pool: &Pool, limits: SessionLimits, now: NaiveDateTime) -> Result<(), ServiceError> {
    let mut conn = pool.get().map_err(crate::db::DbError::from)?;
    services::sessions::purge_expired(&mut conn, limits, now)?;
    services::auth::purge_attempts(&mut conn, now)?;
    Ok(())
}

/// One batch of the oldest running job; false when there was nothing to do.
pub fn work_once(pool: &Pool) -> Result<bool, ServiceError> {
    let job_id = {
        let mut conn = pool.get().map_err(crate::db::DbError::from)?;
        import::next_running_job(&mut conn)?
    };
    match job_id {
        Some(job_id) => {
            let more = run_guarded(pool, job_id, |conn| import::apply_batch(conn, job_id, services::now()))?;
            if !more {
                crate::release_free_memory();
            }
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Runs one batch of a job so that a panic inside it cannot end the worker
/// silently with the job left "running": the panic is caught and logged, its
/// connection (with the batch's transaction open) is dropped, not pooled,
/// and the job is marked failed with a message its page shows.
pub fn run_guarded<F>(pool: &Pool, job_id: i64, batch: F) -> Result<bool, ServiceError>
where
    F: FnOnce(&mut crate::db::DbConn) -> Result<bool, ServiceError>,
{
    let mut conn = pool.get().map_err(crate::db::DbError::from)?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| batch(&mut conn)));
    // The pool checks the connection on return: an open transaction drops it.
    drop(conn);
    match outcome {
        Ok(result) => result,
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(job_id, %detail, "the import worker panicked; the job is marked failed");
            let mut conn = pool.get().map_err(crate::db::DbError::from)?;
            let lang = import::job_lang(&mut conn, job_id)?;
            let reason = crate::i18n::tr(lang, "reason-worker-failed");
            import::fail_job(&mut conn, job_id, &reason, services::now())?;
            Ok(false)
        }
    }
}

/// Deletes due users, queues warnings, removes expired import jobs
/// (`import::purge_jobs`), and sends due mail when a mailer is configured
/// (without one, mail waits in the outbox). Returns the sweep report and
/// (sent, failed).
pub fn sweep_once(
    pool: &Pool,
    mailer: Option<&dyn Mailer>,
    now: NaiveDateTime,
) -> Result<(SweepReport, (usize, usize)), ServiceError> {
    let mut conn = pool.get().map_err(crate::db::DbError::from)?;
    let report = auto_delete::sweep(&mut conn, now)?;
    let purged = import::purge_jobs(&mut conn, now, crate::config::job_retention_days())?;
    let token_warnings = crate::services::api_tokens::queue_expiry_warnings(&mut conn, now)?;
    if token_warnings > 0 {
        tracing::info!(mails = token_warnings, "API token expiry warnings queued");
    }
    if purged > 0 {
        tracing::info!(jobs = purged, "expired import jobs removed");
    }
    let delivered = match mailer {
        Some(m) => mail::deliver(&mut conn, m, now)?,
        None => (0, 0),
    };
    if report.deleted + report.warnings + delivered.0 + delivered.1 > 0 {
        tracing::info!(
            deleted = report.deleted,
            warnings = report.warnings,
            sent = delivered.0,
            failed = delivered.1,
            "sweep"
        );
    }
    Ok((report, delivered))
}
