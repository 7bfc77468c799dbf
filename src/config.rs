//! Settings from the environment and flags, validated once at start.

use std::path::{Path, PathBuf};

use actix_web::cookie::Key;

use crate::db::DbUrl;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("OFFBOARD_SECRET_KEY must be 128 hex characters (64 bytes)")]
    BadSecret,
    #[error("cannot read or write the session key file {path}: {source}")]
    KeyFile { path: PathBuf, source: std::io::Error },
}

#[derive(Clone)]
pub struct Config {
    pub database: DbUrl,
    /// Signs and encrypts the session cookie.
    pub session_key: Key,
    /// Marks cookies `Secure`; true when the public URL is https.
    pub secure_cookies: bool,
    pub public_url: String,
}

pub const DEFAULT_DATABASE: &str = "offboard.db";

impl Config {
    /// Reads `DATABASE_URL`, `OFFBOARD_PUBLIC_URL` and `OFFBOARD_SECRET_KEY`.
    /// Without a secret, one is generated and kept in a file beside a SQLite
    /// database (or in the working directory), so sessions survive restarts.
    pub fn from_env(bind: &str) -> Result<Config, ConfigError> {
        let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE.to_string());
        let database = DbUrl::parse(&url);
        let public_url = std::env::var("OFFBOARD_PUBLIC_URL").unwrap_or_else(|_| format!("http://{bind}"));
        let session_key = match std::env::var("OFFBOARD_SECRET_KEY") {
            Ok(hex) => Key::from(
                &decode_hex(&hex)
                    .filter(|b| b.len() == 64)
                    .ok_or(ConfigError::BadSecret)?,
            ),
            Err(_) => load_or_create_key(&key_path(&database))?,
        };
        Ok(Config {
            database,
            secure_cookies: public_url.starts_with("https://"),
            public_url,
            session_key,
        })
    }
}

/// Days a finished import job and its result report are kept
/// (`OFFBOARD_JOB_RETENTION_DAYS`, default 30). Jobs never applied go after
/// 24 hours whatever this says.
pub fn job_retention_days() -> i64 {
    retention_days_from(std::env::var("OFFBOARD_JOB_RETENTION_DAYS").ok().as_deref())
}

pub const DEFAULT_JOB_RETENTION_DAYS: i64 = 30;

/// A whole number of days from 1 to 3650; anything else is the default.
pub fn retention_days_from(value: Option<&str>) -> i64 {
    value
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|d| (1..=3650).contains(d))
        .unwrap_or(DEFAULT_JOB_RETENTION_DAYS)
}

fn key_path(db: &DbUrl) -> PathBuf {
    match db {
        DbUrl::Sqlite(path) => {
            let p = Path::new(path);
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            dir.join("offboard.key")
        }
        DbUrl::Postgres(_) => PathBuf::from("offboard.key"),
    }
}

fn load_or_create_key(path: &Path) -> Result<Key, ConfigError> {
    let io = |source| ConfigError::KeyFile {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(text) = std::fs::read_to_string(path) {
        let bytes = decode_hex(text.trim())
            .filter(|b| b.len() == 64)
            .ok_or(ConfigError::BadSecret)?;
        return Ok(Key::from(&bytes));
    }
    let key = Key::generate();
    std::fs::write(path, encode_hex(key.master())).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(key)
}

pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(decode_hex(&encode_hex(&bytes)).as_deref(), Some(&bytes[..]));
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("abc"), None);
    }

    #[test]
    fn job_retention_is_whole_days_or_the_default() {
        assert_eq!(retention_days_from(None), 30);
        assert_eq!(retention_days_from(Some("7")), 7);
        assert_eq!(retention_days_from(Some(" 90 ")), 90);
        for bad in ["0", "-1", "x", "", "99999"] {
            assert_eq!(retention_days_from(Some(bad)), 30, "{bad}");
        }
    }

    #[test]
    fn database_url_picks_backend() {
        assert_eq!(
            DbUrl::parse("postgres://h/db"),
            DbUrl::Postgres("postgres://h/db".into())
        );
        assert_eq!(DbUrl::parse("sqlite://x.db"), DbUrl::Sqlite("x.db".into()));
        assert_eq!(DbUrl::parse("data/x.db"), DbUrl::Sqlite("data/x.db".into()));
    }
}
