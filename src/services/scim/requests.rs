//! The last SCIM requests of each account with their outcome, for the
//! Provisioning page: an admin sees why a provider's push failed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::scim_requests;
use crate::db::DbConn;
use crate::services::ServiceResult;

/// How many requests an account keeps.
pub const KEEP: i64 = 50;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scim_requests)]
pub struct ScimRequest {
    pub id: i64,
    pub account_id: i64,
    pub at: NaiveDateTime,
    pub token_name: String,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub detail: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = scim_requests)]
pub struct NewScimRequest {
    pub account_id: i64,
    pub at: NaiveDateTime,
    pub token_name: String,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub detail: String,
}

/// Notes requests (a batch of the write-behind buffer) and drops each
/// account's older ones beyond [`KEEP`], in one transaction.
pub fn record(conn: &mut DbConn, entries: &[NewScimRequest]) -> ServiceResult<()> {
    let mut accounts: Vec<i64> = entries.iter().map(|e| e.account_id).collect();
    accounts.sort_unstable();
    accounts.dedup();
    crate::db::write_transaction(conn, |conn| {
        for entry in entries {
            diesel::insert_into(scim_requests::table).values(entry).execute(conn)?;
        }
        for &account_id in &accounts {
            trim(conn, account_id)?;
        }
        Ok(())
    })
}

fn trim(conn: &mut DbConn, account_id: i64) -> ServiceResult<()> {
    let cutoff: Option<i64> = scim_requests::table
        .filter(scim_requests::account_id.eq(account_id))
        .select(scim_requests::id)
        .order(scim_requests::id.desc())
        .offset(KEEP)
        .first(conn)
        .optional()?;
    if let Some(cutoff) = cutoff {
        diesel::delete(
            scim_requests::table
                .filter(scim_requests::account_id.eq(account_id))
                .filter(scim_requests::id.le(cutoff)),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// The account's last requests, newest first.
pub fn recent(conn: &mut DbConn, account_id: i64) -> ServiceResult<Vec<ScimRequest>> {
    Ok(scim_requests::table
        .filter(scim_requests::account_id.eq(account_id))
        .select(ScimRequest::as_select())
        .order(scim_requests::id.desc())
        .limit(KEEP)
        .load(conn)?)
}
