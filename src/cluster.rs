//! Several `serve` instances on one PostgreSQL (SPEC B9): who this instance
//! is, the lease under which it applies a CSV job, and the advisory locks
//! that make the sweeper and the scheduled-offboarding runner one per run.
//! On SQLite (one process) all of this is a no-op: today's path.

use std::sync::OnceLock;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use crate::db::{DbConn, DbError, Pool};
use crate::services::ServiceError;

/// How long a running CSV job stays with the instance applying it without
/// a renewal. Each batch renews it, so a live instance keeps its job; a dead
/// one's job is taken over once it runs out (well within the 30 s of B9).
pub const JOB_LEASE_SECONDS: i64 = 20;

/// Advisory lock keys: "offboa" in ASCII then the job's number.
pub const SWEEPER_LOCK: i64 = 0x6f66_6662_6f61_0002;
pub const PLANS_LOCK: i64 = 0x6f66_6662_6f61_0003;

/// Who holds a job and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    pub length: chrono::Duration,
}

static INSTANCE: OnceLock<String> = OnceLock::new();

/// Names this process once (`serve` does, from its host and bind address):
/// an instance restarted on the same address takes its own job back at once
/// instead of waiting for its old lease to run out.
pub fn set_instance(name: String) {
    let _ = INSTANCE.set(name);
}

/// This process's name: the one set, else host and process id.
pub fn instance() -> &'static str {
    INSTANCE.get_or_init(|| format!("{}:{}", host_name(), std::process::id()))
}

pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

impl Lease {
    /// This instance's lease on a job.
    pub fn this_instance() -> Lease {
        Lease::new(instance(), JOB_LEASE_SECONDS)
    }

    pub fn new(holder: &str, seconds: i64) -> Lease {
        Lease {
            holder: holder.to_string(),
            length: chrono::Duration::seconds(seconds),
        }
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Runs `f` unless another instance is running the same job (`key`) right
/// now; None when it was skipped. On PostgreSQL a guard connection holds
/// `pg_try_advisory_xact_lock(key)` in an open transaction while `f` works
/// on a connection of its own (with its own short transactions): the lock
/// ends with the guard's transaction, or with its connection if the process
/// dies. On SQLite `f` just runs.
pub fn singleton<T, F>(pool: &Pool, key: i64, f: F) -> Result<Option<T>, ServiceError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ServiceError>,
{
    let mut guard = pool.get().map_err(DbError::from)?;
    let DbConn::Pg(pg) = &mut *guard else {
        return f(&mut guard).map(Some);
    };
    pg.transaction(|pg| {
        let got = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
            .bind::<BigInt, _>(key)
            .get_result::<Locked>(pg)?
            .locked;
        if !got {
            return Ok(None);
        }
        let mut conn = pool.get().map_err(DbError::from)?;
        f(&mut conn).map(Some)
    })
}
