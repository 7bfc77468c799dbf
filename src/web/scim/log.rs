//! The request log is written behind the answers: a request is pushed into
//! this process's buffer, which is written in one transaction a second
//! after its first entry. The page shows an account's last
//! [`requests::KEEP`] requests, so the buffer keeps no more than that per
//! account: a push of thousands of requests a second costs one small write
//! a second. A SCIM request so costs no write of its own: providers'
//! lookups stay reads and a deprovisioning PATCH writes only its act. The
//! Provisioning page writes the buffer before it reads the log. Entries of
//! the last second are lost if the process dies; the log is a diagnosis
//! aid, the audit log is the record.

use std::sync::Mutex;
use std::time::Duration;

use crate::services::scim::requests::{self, NewScimRequest};
use crate::web::AppState;

const FLUSH_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct RequestLog {
    pending: Mutex<Vec<NewScimRequest>>,
}

impl RequestLog {
    /// Adds an entry, dropping the account's oldest beyond what the page
    /// keeps; says whether it is the first of a batch.
    fn push(&self, entry: NewScimRequest) -> bool {
        let Ok(mut pending) = self.pending.lock() else {
            return false;
        };
        let account = entry.account_id;
        pending.push(entry);
        if pending.iter().filter(|e| e.account_id == account).count() > requests::KEEP as usize {
            if let Some(oldest) = pending.iter().position(|e| e.account_id == account) {
                pending.remove(oldest);
            }
        }
        pending.len() == 1
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
    if state.scim_log.push(entry) {
        let state = state.clone();
        actix_web::rt::spawn(async move {
            actix_web::rt::time::sleep(FLUSH_AFTER).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(account_id: i64, n: usize) -> NewScimRequest {
        NewScimRequest {
            account_id,
            at: chrono::NaiveDate::from_ymd_opt(2026, 12, 4)
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .unwrap_or_default(),
            token_name: "Okta".into(),
            method: "GET".into(),
            path: format!("/scim/v2/Users/{n}"),
            status: 200,
            detail: String::new(),
        }
    }

    #[test]
    fn the_buffer_keeps_each_accounts_newest_requests_only() {
        let log = RequestLog::default();
        assert!(log.push(entry(1, 0)), "the first entry starts a batch");
        for n in 1..500 {
            assert!(!log.push(entry(1, n)));
        }
        log.push(entry(2, 0));
        let batch = log.take();
        let first: Vec<&str> = batch
            .iter()
            .filter(|e| e.account_id == 1)
            .map(|e| e.path.as_str())
            .collect();
        assert_eq!(first.len(), requests::KEEP as usize);
        assert_eq!(first[0], "/scim/v2/Users/450");
        assert_eq!(first.last().copied(), Some("/scim/v2/Users/499"));
        assert_eq!(batch.iter().filter(|e| e.account_id == 2).count(), 1);
        assert!(log.take().is_empty());
    }
}
