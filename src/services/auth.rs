//! Passwords and sign-in (R11).

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use diesel::prelude::*;

use chrono::NaiveDateTime;
use diesel::sql_types::{Text, Timestamp};

use crate::db::models::{ThrottleRow, User};
use crate::db::schema::users;
use crate::db::DbConn;
use crate::domain::signin::{attempt, Attempt};
use crate::domain::Status;

use super::{ServiceError, ServiceResult};

/// Argon2id with the library's recommended cost, or a cheap one for tests.
pub fn hash_password(password: &str, fast: bool) -> ServiceResult<String> {
    let params = if fast {
        Params::new(256, 1, 1, None)
    } else {
        Ok(Params::default())
    }
    .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let hashed = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Invalid(e.to_string()));
    crate::release_free_memory();
    hashed
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    let good = Argon2::default().verify_password(password.as_bytes(), hash).is_ok();
    // Each check frees a 19 MB block: back to the system before the next.
    crate::release_free_memory();
    good
}

/// What a sign-in attempt came to. Unknown email and wrong password are the
/// same answer, so the form does not tell which addresses exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    Ok {
        user_id: i64,
        epoch: i32,
        lang: Option<String>,
    },
    BadCredentials,
    Deactivated,
    Pending,
}

/// Verified against when the email is unknown, so both answers take as long.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password", false).unwrap_or_default())
}

pub fn sign_in(conn: &mut DbConn, email: &str, password: &str) -> ServiceResult<SignIn> {
    let email = email.trim().to_lowercase();
    let user: Option<User> = users::table
        .filter(users::email.eq(&email))
        .select(User::as_select())
        .first(conn)
        .optional()?;
    let Some(user) = user else {
        let _ = verify_password(password, dummy_hash());
        return Ok(SignIn::BadCredentials);
    };
    let Some(hash) = user.password_hash.as_deref() else {
        let _ = verify_password(password, dummy_hash());
        return Ok(SignIn::BadCredentials);
    };
    if !verify_password(password, hash) {
        return Ok(SignIn::BadCredentials);
    }
    // The status is told only to someone who knows the password.
    Ok(match Some(user.status) {
        Some(Status::Active) => SignIn::Ok {
            user_id: user.id,
            epoch: user.session_epoch,
            lang: user.language.clone(),
        },
        Some(Status::Deactivated) => SignIn::Deactivated,
        _ => SignIn::Pending,
    })
}

/// The throttle's key: the address as typed (trimmed, lowercased, bounded)
/// and where the attempt came from.
fn throttle_key(email: &str, address: &str) -> String {
    let email: String = email.trim().to_lowercase().chars().take(320).collect();
    format!("{email}\n{address}")
}

/// Counts a sign-in attempt for (email, source address) before the password
/// is checked, in one write transaction, so parallel attempts are all counted
/// and the counters hold for every instance (they live in the database).
pub fn count_attempt(conn: &mut DbConn, email: &str, address: &str, now: NaiveDateTime) -> ServiceResult<Attempt> {
    use crate::db::schema::signin_throttle as st;
    let key = throttle_key(email, address);
    crate::db::write_transaction(conn, |conn| {
        let insert = match conn {
            DbConn::Sqlite(_) => {
                "INSERT INTO signin_throttle (key, attempts, window_start, lockouts, updated_at) \
                 VALUES (?, 0, ?, 0, ?) ON CONFLICT (key) DO NOTHING"
            }
            DbConn::Pg(_) => {
                "INSERT INTO signin_throttle (key, attempts, window_start, lockouts, updated_at) \
                 VALUES ($1, 0, $2, 0, $3) ON CONFLICT (key) DO NOTHING"
            }
        };
        diesel::sql_query(insert)
            .bind::<Text, _>(&key)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .execute(conn)?;
        // A no-op update takes the row lock on PostgreSQL before the read.
        diesel::update(st::table.find(&key))
            .set(st::updated_at.eq(st::updated_at))
            .execute(conn)?;
        let stored: ThrottleRow = st::table.find(&key).select(ThrottleRow::as_select()).first(conn)?;
        let row = stored.into();
        let (outcome, next) = attempt(Some(row), now);
        if next != row {
            diesel::update(st::table.find(&key))
                .set((
                    st::attempts.eq(next.attempts),
                    st::window_start.eq(next.window_start),
                    st::lockouts.eq(next.lockouts),
                    st::blocked_until.eq(next.blocked_until),
                    st::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(outcome)
    })
}

/// A successful sign-in resets its (email, address) pair.
pub fn forget_attempts(conn: &mut DbConn, email: &str, address: &str) -> ServiceResult<()> {
    use crate::db::schema::signin_throttle as st;
    diesel::delete(st::table.find(throttle_key(email, address))).execute(conn)?;
    Ok(())
}

/// Counters untouched for a day have expired (the sweeper).
pub fn purge_attempts(conn: &mut DbConn, now: NaiveDateTime) -> ServiceResult<usize> {
    use crate::db::schema::signin_throttle as st;
    Ok(diesel::delete(st::table.filter(st::updated_at.lt(now - chrono::Duration::days(1)))).execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_hash_verifies_and_rejects() {
        let h = hash_password("s3cret!", true).expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("s3cret!", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("s3cret!", dummy_hash()));
    }
}
