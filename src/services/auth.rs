//! Passwords and sign-in (R11).

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use diesel::prelude::*;

use crate::db::models::User;
use crate::db::schema::users;
use crate::db::DbConn;
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
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Invalid(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
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
    Ok(match Status::parse(&user.status) {
        Some(Status::Active) => SignIn::Ok {
            user_id: user.id,
            epoch: user.session_epoch,
            lang: user.language.clone(),
        },
        Some(Status::Deactivated) => SignIn::Deactivated,
        _ => SignIn::Pending,
    })
}

/// The user behind a session, if the session is still good: the user exists,
/// is active, and nothing ended their sessions since (deactivation, role change).
pub fn session_user(conn: &mut DbConn, user_id: i64, epoch: i32) -> ServiceResult<Option<User>> {
    let user: Option<User> = users::table
        .find(user_id)
        .select(User::as_select())
        .first(conn)
        .optional()?;
    Ok(user.filter(|u| u.session_epoch == epoch && u.status == Status::Active.as_str()))
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
