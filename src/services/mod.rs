//! Operations: one function per act. Each owns its transaction and writes
//! the audit row inside it, and takes a `&mut DbConn` so the same function
//! serves a web request, a bulk job row and the CLI.

pub mod api_tokens;
pub mod api_users;
pub mod audit;
pub mod auth;
pub mod auto_delete;
pub mod batch;
pub mod bulk;
pub mod import;
pub mod roles;
pub mod rooms;
pub mod schedule;
pub mod scim;
pub mod seed;
pub mod sessions;
pub mod user_actions;
pub mod users;
pub mod webhooks;

use chrono::NaiveDateTime;

use crate::db::DbError;
use crate::domain::{Actor, Mode, Refusal};

/// Who asked, as the audit log names them.
#[derive(Debug, Clone)]
pub struct ActorInfo {
    pub actor: Actor,
    pub account_id: i64,
    pub email: String,
    /// The language the actor reads results in.
    pub lang: crate::i18n::Lang,
    /// Acting through an API token: the audit log's source is `api`.
    pub via_api: bool,
    /// Acting through a SCIM token: the audit log's source is `scim`.
    pub via_scim: bool,
}

impl ActorInfo {
    /// The audit source of an act asked for in `origin`.
    pub fn source(&self, origin: &Origin) -> &'static str {
        if self.via_scim {
            "scim"
        } else if self.via_api {
            "api"
        } else {
            origin.source()
        }
    }
}

/// Where the request came from, for R5/R44 and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub mode: Mode,
    pub job_id: Option<i64>,
}

impl Origin {
    pub const SINGLE: Origin = Origin {
        mode: Mode::Single,
        job_id: None,
    };

    pub fn source(&self) -> &'static str {
        match self.mode {
            Mode::Single => "single",
            Mode::Bulk => "bulk",
            Mode::Csv => "csv",
            Mode::Automatic => "automatic",
        }
    }
}

/// Errors of the service layer: a rule said no, something is missing or
/// malformed, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("not found")]
    NotFound,
    /// The input conflicts with what is stored (a unique or foreign key).
    #[error("the input conflicts with stored data")]
    Conflict,
    #[error("{0}")]
    Invalid(String),
    /// The whole uploaded file was refused.
    #[error(transparent)]
    File(#[from] crate::csv_import::FileError),
    /// A user of a set-based batch changed under it: the batch's savepoint
    /// rolls back and its users go one by one ([`batch::apply_many`]). It
    /// never leaves the service layer.
    #[error("a user changed during the batch")]
    ChangedUnderUs,
    /// The database stayed busy (SQLite's write lock, PostgreSQL's retries
    /// ran out): nothing was changed and the request may be sent again.
    #[error("the database is busy")]
    Busy,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ServiceError::NotFound,
            // Input that breaks a constraint (a value sent twice, a row that
            // went away) is the client's to fix, not a server failure.
            Error::DatabaseError(
                DatabaseErrorKind::UniqueViolation
                | DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::CheckViolation
                | DatabaseErrorKind::NotNullViolation,
                ref info,
            ) => {
                tracing::info!(detail = info.message(), "constraint refused the input");
                ServiceError::Conflict
            }
            ref busy if crate::db::Retryable::retryable(busy) || is_locked(busy) => {
                tracing::warn!(error = %busy, "database busy");
                ServiceError::Busy
            }
            other => ServiceError::Db(DbError::Query(other)),
        }
    }
}

/// SQLite's "database is locked" once the busy timeout has passed.
fn is_locked(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(_, info) if info.message().contains("database is locked"))
}

impl crate::db::Retryable for ServiceError {
    fn retryable(&self) -> bool {
        match self {
            ServiceError::Db(DbError::Query(e)) => e.retryable(),
            ServiceError::Busy => true,
            _ => false,
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Wall-clock time, second precision, no time zone (stored as UTC).
pub fn now() -> NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    t - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error};

    struct Info(&'static str);

    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn db(kind: DatabaseErrorKind, message: &'static str) -> ServiceError {
        Error::DatabaseError(kind, Box::new(Info(message))).into()
    }

    #[test]
    fn input_that_breaks_a_constraint_is_a_conflict_not_a_failure() {
        for kind in [
            DatabaseErrorKind::UniqueViolation,
            DatabaseErrorKind::ForeignKeyViolation,
            DatabaseErrorKind::CheckViolation,
            DatabaseErrorKind::NotNullViolation,
        ] {
            assert!(matches!(db(kind, "UNIQUE constraint failed"), ServiceError::Conflict));
        }
    }

    #[test]
    fn a_busy_database_is_busy_not_a_failure() {
        assert!(matches!(
            db(DatabaseErrorKind::Unknown, "database is locked"),
            ServiceError::Busy
        ));
        assert!(matches!(
            db(DatabaseErrorKind::SerializationFailure, "could not serialize access"),
            ServiceError::Busy
        ));
        assert!(matches!(
            db(DatabaseErrorKind::Unknown, "deadlock detected"),
            ServiceError::Busy
        ));
        assert!(matches!(
            db(DatabaseErrorKind::Unknown, "syntax error"),
            ServiceError::Db(_)
        ));
    }
}
