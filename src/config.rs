//! Settings from the environment and flags, validated once at start.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use actix_web::cookie::Key;

use crate::db::DbUrl;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("OFFBOARD_SECRET_KEY must be 128 hex characters (64 bytes)")]
    BadSecret,
    #[error("{name} must be {expected}, not \"{value}\"")]
    BadSetting {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
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
    /// A session ends after this long without a request (`OFFBOARD_SESSION_IDLE_MINUTES`, 30).
    pub session_idle: chrono::Duration,
    /// A session ends this long after sign-in, however active (`OFFBOARD_SESSION_MAX_HOURS`, 12).
    pub session_lifetime: chrono::Duration,
    /// Proxies whose `X-Forwarded-For` is believed (`OFFBOARD_TRUSTED_PROXIES`: addresses or CIDRs).
    pub trusted_proxies: Vec<IpNet>,
    /// Password checks that may run at once (`OFFBOARD_PASSWORD_CHECKS`, default: the number of cores).
    pub password_checks: usize,
    /// Requests per second per API token (`OFFBOARD_API_RATE`, default 100).
    pub api_rate: u32,
}

pub const DEFAULT_DATABASE: &str = "offboard.db";
pub const DEFAULT_API_RATE: u32 = 100;

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
        let mut config = Config::new(database, session_key, public_url);
        config.session_idle = chrono::Duration::minutes(setting("OFFBOARD_SESSION_IDLE_MINUTES", 30, 1..=525_600)?);
        config.session_lifetime = chrono::Duration::hours(setting("OFFBOARD_SESSION_MAX_HOURS", 12, 1..=8_760)?);
        config.password_checks = setting("OFFBOARD_PASSWORD_CHECKS", default_password_checks(), 1..=1_024)?;
        config.api_rate = setting("OFFBOARD_API_RATE", DEFAULT_API_RATE, 1..=1_000_000)?;
        if let Ok(list) = std::env::var("OFFBOARD_TRUSTED_PROXIES") {
            config.trusted_proxies = IpNet::parse_list(&list).ok_or(ConfigError::BadSetting {
                name: "OFFBOARD_TRUSTED_PROXIES",
                expected: "a comma-separated list of IP addresses or CIDR ranges",
                value: list,
            })?;
        }
        Ok(config)
    }

    /// The settings with their defaults (tests change what they need).
    pub fn new(database: DbUrl, session_key: Key, public_url: String) -> Config {
        Config {
            database,
            session_key,
            secure_cookies: public_url.starts_with("https://"),
            public_url,
            session_idle: chrono::Duration::minutes(30),
            session_lifetime: chrono::Duration::hours(12),
            trusted_proxies: Vec::new(),
            password_checks: default_password_checks(),
            api_rate: DEFAULT_API_RATE,
        }
    }
}

fn default_password_checks() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

/// A whole number from the environment within `range`, else the default.
fn setting<T>(name: &'static str, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd,
{
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) => text
            .trim()
            .parse()
            .ok()
            .filter(|v| range.contains(v))
            .ok_or(ConfigError::BadSetting {
                name,
                expected: "a whole number in range",
                value: text,
            }),
    }
}

/// An address range: `10.0.0.0/8`, `::1/128`, or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(text: &str) -> Option<IpNet> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// Comma- or space-separated; None when any entry is not an address or range.
    pub fn parse_list(text: &str) -> Option<Vec<IpNet>> {
        text.split([',', ' '])
            .filter(|s| !s.trim().is_empty())
            .map(IpNet::parse)
            .collect()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix) == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix) == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:1.2.3.4`) is that IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits >> (width - prefix)
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
    fn trusted_proxy_ranges() {
        let nets = IpNet::parse_list("127.0.0.1, 10.0.0.0/8 ::1").expect("parses");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(nets.iter().any(|n| n.contains(ip("127.0.0.1"))));
        assert!(nets.iter().any(|n| n.contains(ip("10.200.3.4"))));
        assert!(nets.iter().any(|n| n.contains(ip("::ffff:10.1.1.1"))), "mapped IPv4");
        assert!(nets.iter().any(|n| n.contains(ip("::1"))));
        assert!(!nets.iter().any(|n| n.contains(ip("127.0.0.2"))));
        assert!(!nets.iter().any(|n| n.contains(ip("11.0.0.1"))));
        assert!(IpNet::parse_list("10.0.0.0/33").is_none());
        assert!(IpNet::parse_list("proxy.example").is_none());
        assert!(IpNet::parse("0.0.0.0/0").expect("all").contains(ip("8.8.8.8")));
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
