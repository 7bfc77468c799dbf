//! Many audit entries of one act (same account, time, actor, action, source
//! and job) in one statement whose text never changes, so it is prepared once
//! per connection. diesel's multi-row insert writes a `VALUES` list as long
//! as the batch, compiled again for every batch: with 8,000 binds per 500
//! rows it was a quarter of a CSV job's time (issue 20). What differs per
//! entry travels as one JSON array (SQLite `json_each`, PostgreSQL
//! `jsonb_array_elements`), in order, so ids follow the entries.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, RunQueryDsl};

use super::models::NewAuditEntry;

const COLUMNS: &str = "INSERT INTO audit_log (account_id, at, actor_id, actor_email, action, source, job_id, \
     target_id, target_email, transfer_to_email, meetings_transferred, webinars_transferred, \
     events_transferred, recordings_transferred, detail) ";

/// The insert of `rows`, all sharing `head`'s account, time, actor,
/// action, source and job (the caller groups them).
pub struct AuditRows<'a> {
    head: &'a NewAuditEntry,
    json: String,
}

type Row<'a> = (Option<i64>, &'a str, Option<&'a str>, i32, i32, i32, i32, &'a str);

impl<'a> AuditRows<'a> {
    pub fn new(head: &'a NewAuditEntry, rows: &[NewAuditEntry]) -> AuditRows<'a> {
        let rows: Vec<Row<'_>> = rows
            .iter()
            .map(|e| {
                (
                    e.target_id,
                    e.target_email.as_str(),
                    e.transfer_to_email.as_deref(),
                    e.meetings_transferred,
                    e.webinars_transferred,
                    e.events_transferred,
                    e.recordings_transferred,
                    e.detail.as_str(),
                )
            })
            .collect();
        // Integers and strings always serialise.
        let json = serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into());
        AuditRows { head, json }
    }

    /// The shared columns, bound in `COLUMNS`' order.
    fn push_head<'b, DB>(&'b self, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: diesel::backend::Backend,
        i64: diesel::serialize::ToSql<BigInt, DB>,
        chrono::NaiveDateTime: diesel::serialize::ToSql<Timestamp, DB>,
        Option<i64>: diesel::serialize::ToSql<Nullable<BigInt>, DB>,
        String: diesel::serialize::ToSql<Text, DB>,
        DB: diesel::sql_types::HasSqlType<BigInt>
            + diesel::sql_types::HasSqlType<Timestamp>
            + diesel::sql_types::HasSqlType<Text>,
    {
        let h = self.head;
        out.push_sql(COLUMNS);
        out.push_sql("SELECT ");
        out.push_bind_param::<BigInt, _>(&h.account_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&h.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&h.actor_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&h.actor_email)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&h.action)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&h.source)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&h.job_id)?;
        Ok(())
    }
}

/// The SQL text never changes: cached by type.
impl QueryId for AuditRows<'_> {
    type QueryId = AuditRows<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Sqlite> for AuditRows<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.push_head(&mut out)?;
        out.push_sql(
            ", value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
             value ->> 6, value ->> 7 FROM jsonb_each(",
        );
        out.push_bind_param::<Text, _>(&self.json)?;
        out.push_sql(") ORDER BY key");
        Ok(())
    }
}

impl QueryFragment<Pg> for AuditRows<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.push_head(&mut out)?;
        out.push_sql(
            ", (e ->> 0)::bigint, e ->> 1, e ->> 2, (e ->> 3)::integer, (e ->> 4)::integer, \
             (e ->> 5)::integer, (e ->> 6)::integer, e ->> 7 \
             FROM jsonb_array_elements(CAST(",
        );
        out.push_bind_param::<Text, _>(&self.json)?;
        out.push_sql(" AS jsonb)) WITH ORDINALITY AS t(e, n) ORDER BY n");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for AuditRows<'_> {}
