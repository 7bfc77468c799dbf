//! The background worker inside `serve`: applies running CSV jobs a batch
//! at a time, and every few minutes runs the auto-delete sweeper and sends
//! the outbox. It keeps no state of its own: everything it needs is in the
//! database, so a restart (even kill -9) picks up where it stopped.

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::cluster;
use crate::db::{DbConn, Pool};
use crate::domain::signin::SessionLimits;
use crate::mail::{self, Mailer, SmtpMailer};
use crate::services::auto_delete::{self, SweepReport};
use crate::services::{self, import, ServiceError};

/// What the worker needs of the settings (`Config`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub sweep_every: Duration,
    pub import_batch: i64,
    pub job_retention_days: i64,
    pub session_limits: SessionLimits,
}

impl Settings {
    pub fn of(config: &crate::Config) -> Settings {
        Settings {
            sweep_every: config.sweep_every,
            import_batch: config.import_batch,
            job_retention_days: config.job_retention_days,
            session_limits: SessionLimits {
                idle: config.session_idle,
                lifetime: config.session_lifetime,
            },
        }
    }
}

impl Default for Settings {
    /// The defaults of `Config` (tests).
    fn default() -> Settings {
        Settings {
            sweep_every: Duration::from_secs(crate::config::DEFAULT_SWEEP_SECONDS),
            import_batch: crate::config::DEFAULT_IMPORT_BATCH,
            job_retention_days: crate::config::DEFAULT_JOB_RETENTION_DAYS,
            session_limits: SessionLimits {
                idle: chrono::Duration::minutes(30),
                lifetime: chrono::Duration::hours(12),
            },
        }
    }
}

/// Starts the worker thread; it runs until the process ends.
pub fn spawn(
    pool: Pool,
    mailer: Option<SmtpMailer>,
    settings: Settings,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("offboard-worker".into())
        .spawn(move || {
            let mut last_sweep: Option<Instant> = None;
            let mut last_plans: Option<Instant> = None;
            loop {
                // Scheduled acts are carried out within 60 s of their time (B7).
                if last_plans.is_none_or(|t| t.elapsed() >= PLANS_EVERY) {
                    last_plans = Some(Instant::now());
                    if let Err(e) = run_plans(&pool, services::now()) {
                        tracing::error!(error = %e, "scheduled acts");
                    }
                }
                if last_sweep.is_none_or(|t| t.elapsed() >= settings.sweep_every) {
                    last_sweep = Some(Instant::now());
                    let mailer = mailer.as_ref().map(|m| m as &dyn Mailer);
                    if let Err(e) = sweep_once(&pool, mailer, settings.job_retention_days, services::now()) {
                        tracing::error!(error = %e, "sweep");
                    }
                    if let Err(e) = forget_expired(&pool, settings.session_limits, services::now()) {
                        tracing::error!(error = %e, "expired sessions");
                    }
                }
                match work_once(&pool, settings.import_batch) {
                    Ok(true) => {}
                    Ok(false) => nap(Duration::from_millis(250)),
                    Err(e) => {
                        tracing::error!(error = %e, "worker");
                        std::thread::sleep(Duration::from_secs(2));
                    }
                }
            }
        })
}

/// Set when a job was started in this process; the worker naps until then.
static STARTED: (std::sync::Mutex<bool>, std::sync::Condvar) =
    (std::sync::Mutex::new(false), std::sync::Condvar::new());

/// Tells the worker a job was started, so it begins now rather than at its
/// next look (another instance's worker finds it at its own next look).
pub fn wake() {
    let (started, signal) = &STARTED;
    if let Ok(mut s) = started.lock() {
        *s = true;
        signal.notify_all();
    }
}

/// Sleeps for `d` or until [`wake`].
fn nap(d: Duration) {
    let (started, signal) = &STARTED;
    if let Ok(s) = started.lock() {
        if let Ok((mut s, _)) = signal.wait_timeout_while(s, d, |s| !*s) {
            *s = false;
        }
    }
}

/// How often the worker looks for scheduled acts that are due.
const PLANS_EVERY: Duration = Duration::from_secs(30);

/// Carries out the scheduled acts due at `now`; returns (done, refused).
/// One runner at a time over all instances (`cluster::PLANS_LOCK`): another
/// instance's runner busy right now means (0, 0) here; its plans are claimed
/// one by one besides, so even overlapping runs never act twice.
pub fn run_plans(pool: &Pool, now: NaiveDateTime) -> Result<(usize, usize), ServiceError> {
    let outcome = cluster::singleton(pool, cluster::PLANS_LOCK, |conn| services::schedule::run_due(conn, now))?
        .unwrap_or_default();
    if outcome != (0, 0) {
        tracing::info!(done = outcome.0, refused = outcome.1, "scheduled acts");
    }
    Ok(outcome)
}

/// Removes sessions past their limits and sign-in counters that expired.
pub fn forget_expired(pool: &Pool, limits: SessionLimits, now: NaiveDateTime) -> Result<(), ServiceError> {
    let mut conn = pool.get().map_err(crate::db::DbError::from)?;
    services::sessions::purge_expired(&mut conn, limits, now)?;
    services::auth::purge_attempts(&mut conn, now)?;
    Ok(())
}

/// One batch (of `batch` rows) of the oldest running job this instance may
/// run (`import::next_job_for`: its own, or one whose lease ran out); false
/// when there was nothing to do.
pub fn work_once(pool: &Pool, batch: i64) -> Result<bool, ServiceError> {
    work_once_leased(pool, batch, &cluster::Lease::this_instance())
}

/// `work_once` under `lease` (tests run two "instances" in one process).
pub fn work_once_leased(pool: &Pool, batch: i64, lease: &cluster::Lease) -> Result<bool, ServiceError> {
    let job_id = {
        let mut conn = pool.get().map_err(crate::db::DbError::from)?;
        import::next_job_for(&mut conn, lease, services::now())?
    };
    match job_id {
        Some(job_id) => {
            let more = run_guarded(pool, job_id, |conn| {
                import::apply_batch_leased(conn, job_id, batch, services::now(), lease)
            })?;
            if !more {
                crate::release_free_memory();
            }
            Ok(more)
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

/// The sweeper's own work: due users, expired jobs and webhook events, token warnings.
fn sweep_locked(conn: &mut DbConn, now: NaiveDateTime, retention_days: i64) -> Result<SweepReport, ServiceError> {
    let report = auto_delete::sweep(conn, now)?;
    let purged = import::purge_jobs(conn, now, retention_days)?;
    let events = crate::services::webhooks::purge_delivered(conn, now, retention_days)?;
    if events > 0 {
        tracing::info!(events, "webhook events past their keeping time removed");
    }
    let token_warnings = crate::services::api_tokens::queue_expiry_warnings(conn, now)?;
    if token_warnings > 0 {
        tracing::info!(mails = token_warnings, "API token expiry warnings queued");
    }
    if purged > 0 {
        tracing::info!(jobs = purged, "expired import jobs removed");
    }
    Ok(report)
}

/// Deletes due users, queues warnings, removes expired import jobs
/// (`import::purge_jobs`; finished ones after `retention_days`), and sends
/// due mail when a mailer is configured (without one, mail waits in the
/// outbox). Returns the sweep report and (sent, failed).
pub fn sweep_once(
    pool: &Pool,
    mailer: Option<&dyn Mailer>,
    retention_days: i64,
    now: NaiveDateTime,
) -> Result<(SweepReport, (usize, usize)), ServiceError> {
    // One sweeper per run over all instances; the mail below is claimed per message.
    let swept = cluster::singleton(pool, cluster::SWEEPER_LOCK, |conn| {
        sweep_locked(conn, now, retention_days)
    })?;
    let report = swept.unwrap_or_default();
    let mut conn = pool.get().map_err(crate::db::DbError::from)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_job_ends_the_workers_nap() {
        wake();
        let napped = Instant::now();
        nap(Duration::from_secs(30));
        assert!(napped.elapsed() < Duration::from_secs(10), "the nap ran its course");
        // The wake-up is used up: the next nap sleeps.
        let napped = Instant::now();
        nap(Duration::from_millis(50));
        assert!(napped.elapsed() >= Duration::from_millis(50));
    }
}
