//! Operations: one function per act. Each owns its transaction and writes
//! the audit row inside it, and takes a `&mut DbConn` so the same function
//! serves a web request, a bulk job row and the CLI.

pub mod audit;
pub mod auth;
pub mod auto_delete;
pub mod bulk;
pub mod import;
pub mod roles;
pub mod seed;
pub mod user_actions;
pub mod users;

use chrono::NaiveDateTime;

use crate::db::DbError;
use crate::domain::Refusal;

/// Errors of the service layer: a rule said no, something is missing or
/// malformed, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    /// The whole uploaded file was refused.
    #[error(transparent)]
    File(#[from] crate::csv_import::FileError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => ServiceError::NotFound,
            other => ServiceError::Db(DbError::Query(other)),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Wall-clock time, second precision, no time zone (stored as UTC).
pub fn now() -> NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    t - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&t)))
}
