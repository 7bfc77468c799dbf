//! The append-only audit log: only inserts, always inside the caller's transaction.

use diesel::prelude::*;

use crate::db::models::NewAuditEntry;
use crate::db::schema::audit_log;
use crate::db::DbConn;

pub fn record(conn: &mut DbConn, entry: &NewAuditEntry) -> QueryResult<()> {
    diesel::insert_into(audit_log::table).values(entry).execute(conn).map(|_| ())
}
