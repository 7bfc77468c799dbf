//! The background worker inside `serve`: applies running CSV jobs a batch
//! at a time. It keeps no state of its own: everything it needs is in the
//! database, so a restart (even kill -9) picks up at the first pending row.

use std::time::Duration;

use crate::db::Pool;
use crate::services::{self, import};

/// Starts the worker thread; it runs until the process ends.
pub fn spawn(pool: Pool) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("offboard-worker".into()).spawn(move || loop {
        match work_once(&pool) {
            Ok(true) => {}
            Ok(false) => std::thread::sleep(Duration::from_millis(250)),
            Err(e) => {
                tracing::error!(error = %e, "worker");
                std::thread::sleep(Duration::from_secs(2));
            }
        }
    })
}

/// One batch of the oldest running job; false when there was nothing to do.
pub fn work_once(pool: &Pool) -> Result<bool, services::ServiceError> {
    let mut conn = pool.get().map_err(crate::db::DbError::from)?;
    match import::next_running_job(&mut conn)? {
        Some(job_id) => {
            import::apply_batch(&mut conn, job_id, services::now())?;
            Ok(true)
        }
        None => Ok(false),
    }
}
