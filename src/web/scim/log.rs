//! The request log is written behind the answers: a request is pushed into
//! this process's buffer, which is written in one transaction a second
//! after its first entry (or at once when it holds [`FLUSH_AT`]). A SCIM
//! request so costs no write of its own: providers' lookups stay reads and
//! a deprovisioning PATCH writes only its act. The Provisioning page writes
//! the buffer before it reads the log. Entries of the last second are lost
//! if the process dies; the log is a diagnosis aid, the audit log is the record.

use std::sync::Mutex;
use std::time::Duration;

use crate::services::scim::requests::{self, NewScimRequest};
use crate::web::AppState;

const FLUSH_AFTER: Duration = Duration::from_secs(1);
const FLUSH_AT: usize = 200;

#[derive(Debug, Default)]
pub struct RequestLog {
    pending: Mutex<Vec<NewScimRequest>>,
}

impl RequestLog {
    /// Adds an entry; says whether it is the first of a batch and whether the batch is full.
    fn push(&self, entry: NewScimRequest) -> (bool, bool) {
        let Ok(mut pending) = self.pending.lock() else {
            return (false, false);
        };
        pending.push(entry);
        (pending.len() == 1, pending.len() >= FLUSH_AT)
    }

    fn take(&self) -> Vec<NewScimRequest> {
        self.pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}

/// Notes a request; it is written within a second.
pub fn note(state: &AppState, entry: NewScimRequest) {
    let (first, full) = state.scim_log.push(entry);
    if first || full {
        let state = state.clone();
        actix_web::rt::spawn(async move {
            if !full {
                actix_web::rt::time::sleep(FLUSH_AFTER).await;
            }
            flush(&state).await;
        });
    }
}

/// Writes what the buffer holds now.
pub async fn flush(state: &AppState) {
    let batch = state.scim_log.take();
    if batch.is_empty() {
        return;
    }
    if let Err(e) = super::db(state, move |conn| Ok(requests::record(conn, &batch)?)).await {
        tracing::warn!(error = %e, "could not write the SCIM request log");
    }
}
