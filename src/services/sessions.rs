//! Server-side sessions (R11): the cookie carries a random session id and
//! the user's session epoch; the row in `sessions` is what makes it valid.
//! Sign-out deletes the row, so a copy of the cookie taken before is dead on
//! every instance; the idle timeout and the absolute lifetime are checked
//! against the row, not against the cookie's own expiry.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{NewAuditEntry, SessionRow, User};
use crate::db::schema::{sessions, users};
use crate::db::{write_transaction, DbConn};
use crate::domain::signin::{needs_touch, SessionLimits};
use crate::domain::{Refusal, Role, Status};

use super::ActorInfo;
use super::{audit, ServiceResult};

/// A new session for a user who just proved their password; returns its id.
pub fn start(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> ServiceResult<String> {
    let bytes: [u8; 32] = rand::random();
    let row = SessionRow {
        id: crate::config::encode_hex(&bytes),
        user_id,
        created_at: now,
        last_seen_at: now,
    };
    diesel::insert_into(sessions::table).values(&row).execute(conn)?;
    Ok(row.id)
}

/// Sign-out: the session is gone for every copy of its cookie.
pub fn end(conn: &mut DbConn, id: &str) -> ServiceResult<()> {
    diesel::delete(sessions::table.find(id)).execute(conn)?;
    Ok(())
}

/// The user behind a session, if it is still good: the row exists and is
/// within its limits, the user is active, and nothing ended their sessions
/// since (deactivation, unlink, role change: the epoch). One indexed join
/// per request, and a write at most once a minute.
pub fn resume(
    conn: &mut DbConn,
    id: &str,
    epoch: i32,
    limits: SessionLimits,
    now: NaiveDateTime,
) -> ServiceResult<Option<User>> {
    let found: Option<(SessionRow, User)> = crate::direct!(
        conn,
        sessions::table
            .inner_join(users::table)
            .filter(sessions::id.eq(id))
            .select((SessionRow::as_select(), User::as_select())),
        first
    )
    .optional()?;
    let Some((session, user)) = found else {
        return Ok(None);
    };
    let good = limits.alive(session.created_at, session.last_seen_at, now)
        && user.session_epoch == epoch
        && Some(user.status) == Some(Status::Active);
    if !good {
        end(conn, id)?;
        return Ok(None);
    }
    if needs_touch(session.last_seen_at, now) {
        // Skipped while a job holds the write lock; a later request touches it.
        crate::db::unless_locked(conn, |conn| {
            diesel::update(sessions::table.find(id))
                .set(sessions::last_seen_at.eq(now))
                .execute(conn)
        })?;
    }
    Ok(Some(user))
}

/// Ends every session of a user at once, inside the caller's transaction:
/// the epoch makes any cookie of theirs stale, and the rows go.
pub fn end_all_in(conn: &mut DbConn, user_id: i64) -> ServiceResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::session_epoch.eq(users::session_epoch + 1))
        .execute(conn)?;
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}

/// "Sign out everywhere": the owner ends all sessions of a user of the
/// account (themselves included), audited.
pub fn sign_out_everywhere(conn: &mut DbConn, by: &ActorInfo, user_id: i64, now: NaiveDateTime) -> ServiceResult<User> {
    if by.actor.role != Role::Owner {
        return Err(Refusal::OnlyOwnerEndsSessions.into());
    }
    write_transaction(conn, |conn| {
        let user = super::users::find_in_account(conn, by.account_id, user_id)?;
        end_all_in(conn, user.id)?;
        audit::record(
            conn,
            &NewAuditEntry {
                target_id: Some(user.id),
                target_email: user.email.clone(),
                ..audit::by(by, "sign_out_everywhere", now)
            },
        )?;
        Ok(user)
    })
}

/// Removes sessions past their limits (the sweeper); returns how many.
pub fn purge_expired(conn: &mut DbConn, limits: SessionLimits, now: NaiveDateTime) -> ServiceResult<usize> {
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::last_seen_at
                .le(now - limits.idle)
                .or(sessions::created_at.le(now - limits.lifetime)),
        ),
    )
    .execute(conn)?)
}
