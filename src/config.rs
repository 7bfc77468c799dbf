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
        expected: String,
        value: String,
    },
    #[error("cannot read or write the session key file {path}: {source}")]
    KeyFile { path: PathBuf, source: std::io::Error },
}

/// `serve`'s database connections (`OFFBOARD_DB_POOL`).
pub const DEFAULT_DB_POOL: u32 = 16;

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
    /// Webhook delivery: private destinations, back-off.
    pub webhooks: crate::webhooks::WebhookSettings,
    /// Password checks that may run at once (`OFFBOARD_PASSWORD_CHECKS`, default: the number of cores).
    pub password_checks: usize,
    /// Where mail goes (`SMTP_URL`, `OFFBOARD_MAIL_FROM`); without it mail waits in the outbox.
    pub mail: Option<MailSettings>,
    /// How often `serve` runs the auto-delete sweeper (`OFFBOARD_SWEEP_SECONDS`, 300).
    pub sweep_every: std::time::Duration,
    /// Days a finished import job and its result report are kept
    /// (`OFFBOARD_JOB_RETENTION_DAYS`, 30). Jobs never applied go after 24
    /// hours whatever this says.
    pub job_retention_days: i64,
    /// CSV rows applied per transaction (`OFFBOARD_IMPORT_BATCH`, 2,000; the restart test uses small batches).
    pub import_batch: i64,
    /// The demo and benchmark accounts' password (`OFFBOARD_DEMO_PASSWORD`; else one is generated).
    pub demo_password: Option<String>,
    /// Requests per second per API token (`OFFBOARD_API_RATE`, default 100).
    pub api_rate: u32,
    /// How long `GET /v2/users` reuses a counted `total_records`
    /// (`OFFBOARD_API_TOTAL_SECONDS`, 30; 0 counts on every request).
    pub api_total_fresh: std::time::Duration,
    /// The largest CSV file and row count one upload may have
    /// (`OFFBOARD_CSV_MAX_MB`, 200; `OFFBOARD_CSV_MAX_ROWS`, 1,000,000).
    pub csv_limits: crate::csv_import::Limits,
    /// Database connections `serve` keeps open (`OFFBOARD_DB_POOL`, 16): with
    /// N instances on one PostgreSQL, N times this must fit its `max_connections`.
    pub db_pool: u32,
}

/// The SMTP server and the sender, checked at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// e.g. `smtp://127.0.0.1:2525` or `smtps://user:pass@host`.
    pub url: String,
    pub from: String,
}

pub const DEFAULT_DATABASE: &str = "offboard.db";
pub const DEFAULT_API_RATE: u32 = 100;

impl Config {
    /// Every setting (this module is the one place that reads the
    /// environment), the session key included: `OFFBOARD_SECRET_KEY`, or
    /// without it a key generated and kept in a file beside a SQLite
    /// database (or in the working directory), so sessions survive restarts.
    pub fn from_env(bind: &str) -> Result<Config, ConfigError> {
        let mut config = Config::settings_from_env(bind)?;
        config.session_key = match var("OFFBOARD_SECRET_KEY") {
            Some(hex) => Key::from(
                &decode_hex(&hex)
                    .filter(|b| b.len() == 64)
                    .ok_or(ConfigError::BadSecret)?,
            ),
            None => load_or_create_key(&key_path(&config.database))?,
        };
        Ok(config)
    }

    /// Every setting but the session key, which stays a throwaway one: for
    /// the commands that sign no cookie (migrate, sweep, create-owner) and
    /// so must not create a key file.
    pub fn settings_from_env(bind: &str) -> Result<Config, ConfigError> {
        let database = DbUrl::parse(&var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE.to_string()));
        let public_url = var("OFFBOARD_PUBLIC_URL").unwrap_or_else(|| format!("http://{bind}"));
        let mut config = Config::new(database, Key::generate(), public_url);
        config.session_idle = chrono::Duration::minutes(setting("OFFBOARD_SESSION_IDLE_MINUTES", 30, 1..=525_600)?);
        config.session_lifetime = chrono::Duration::hours(setting("OFFBOARD_SESSION_MAX_HOURS", 12, 1..=8_760)?);
        config.password_checks = setting("OFFBOARD_PASSWORD_CHECKS", default_password_checks(), 1..=1_024)?;
        config.api_rate = setting("OFFBOARD_API_RATE", DEFAULT_API_RATE, 1..=1_000_000)?;
        config.api_total_fresh = std::time::Duration::from_secs(setting("OFFBOARD_API_TOTAL_SECONDS", 30, 0..=3_600)?);
        if let Some(list) = var("OFFBOARD_TRUSTED_PROXIES") {
            config.trusted_proxies = IpNet::parse_list(&list).ok_or(ConfigError::BadSetting {
                name: "OFFBOARD_TRUSTED_PROXIES",
                expected: "a comma-separated list of IP addresses or CIDR ranges".into(),
                value: list,
            })?;
        }
        config.webhooks = webhook_settings()?;
        config.mail = var("SMTP_URL")
            .map(|url| MailSettings::new(url, var("OFFBOARD_MAIL_FROM")))
            .transpose()?;
        config.sweep_every = std::time::Duration::from_secs(setting(
            "OFFBOARD_SWEEP_SECONDS",
            DEFAULT_SWEEP_SECONDS,
            1..=31_536_000,
        )?);
        config.job_retention_days = setting("OFFBOARD_JOB_RETENTION_DAYS", DEFAULT_JOB_RETENTION_DAYS, 1..=3_650)?;
        config.import_batch = setting("OFFBOARD_IMPORT_BATCH", DEFAULT_IMPORT_BATCH, 1..=100_000)?;
        config.demo_password = var("OFFBOARD_DEMO_PASSWORD");
        config.csv_limits = crate::csv_import::Limits {
            max_bytes: setting("OFFBOARD_CSV_MAX_MB", 200usize, 1..=2_048)? * 1024 * 1024,
            max_rows: setting("OFFBOARD_CSV_MAX_ROWS", 1_000_000usize, 1..=10_000_000)?,
        };
        config.db_pool = setting("OFFBOARD_DB_POOL", DEFAULT_DB_POOL, 4..=1_000)?;
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
            webhooks: Default::default(),
            mail: None,
            sweep_every: std::time::Duration::from_secs(DEFAULT_SWEEP_SECONDS),
            job_retention_days: DEFAULT_JOB_RETENTION_DAYS,
            import_batch: DEFAULT_IMPORT_BATCH,
            demo_password: None,
            api_rate: DEFAULT_API_RATE,
            // Tests count every time; `settings_from_env` sets the default.
            api_total_fresh: std::time::Duration::ZERO,
            csv_limits: Default::default(),
            db_pool: DEFAULT_DB_POOL,
        }
    }
}

/// `OFFBOARD_WEBHOOK_ALLOW_PRIVATE=true` lets webhooks reach private and
/// loopback addresses (tests, an intranet receiver); `OFFBOARD_WEBHOOK_RETRY_SECONDS`
/// is the back-off after each failure (default `300,1200,3600`).
pub fn webhook_settings() -> Result<crate::webhooks::WebhookSettings, ConfigError> {
    let mut w = crate::webhooks::WebhookSettings::default();
    if let Some(v) = var("OFFBOARD_WEBHOOK_ALLOW_PRIVATE") {
        w.allow_private = match v.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" | "" => false,
            _ => {
                return Err(ConfigError::BadSetting {
                    name: "OFFBOARD_WEBHOOK_ALLOW_PRIVATE",
                    expected: "true or false".into(),
                    value: v,
                })
            }
        };
    }
    if let Some(v) = var("OFFBOARD_WEBHOOK_RETRY_SECONDS") {
        let steps: Option<Vec<chrono::Duration>> = v
            .split(',')
            .map(|p| p.trim().parse::<i64>().ok().filter(|s| (0..=86_400 * 7).contains(s)))
            .map(|s| s.map(chrono::Duration::seconds))
            .collect();
        w.backoff = steps.ok_or(ConfigError::BadSetting {
            name: "OFFBOARD_WEBHOOK_RETRY_SECONDS",
            expected: "comma-separated seconds, e.g. 300,1200,3600".into(),
            value: v,
        })?;
    }
    Ok(w)
}

impl MailSettings {
    pub const DEFAULT_FROM: &'static str = "Offboard <offboard@localhost>";

    /// Checks the URL's form and the sender's address; nothing is sent.
    pub fn new(url: String, from: Option<String>) -> Result<MailSettings, ConfigError> {
        let from = from.unwrap_or_else(|| MailSettings::DEFAULT_FROM.to_string());
        if let Err(e) = lettre::SmtpTransport::from_url(&url) {
            return Err(ConfigError::BadSetting {
                name: "SMTP_URL",
                expected: "an smtp:// or smtps:// URL".into(),
                value: format!("{url} ({e})"),
            });
        }
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::BadSetting {
                name: "OFFBOARD_MAIL_FROM",
                expected: "an address such as Offboard <offboard@example.com>".into(),
                value: from,
            });
        }
        Ok(MailSettings { url, from })
    }
}

pub const DEFAULT_SWEEP_SECONDS: u64 = 300;
pub const DEFAULT_JOB_RETENTION_DAYS: i64 = 30;
/// 2,000 rows (~25 ms of a deactivate job on SQLite) hold the write lock
/// briefly enough for a sign-in beside them, and spend 10% less than 500
/// rewriting the same audit and index pages at every commit (issue 20).
pub const DEFAULT_IMPORT_BATCH: i64 = 2_000;

/// A variable of the environment; unset and empty are the same.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn default_password_checks() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

/// A whole number from the environment within `range`; unset is the
/// default, anything else a startup error that names the variable.
fn setting<T>(name: &'static str, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .ok()
            .filter(|v| range.contains(v))
            .ok_or_else(|| ConfigError::BadSetting {
                name,
                expected: format!("a whole number from {} to {}", range.start(), range.end()),
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
    fn a_setting_is_unset_in_range_or_a_startup_error() {
        // A name no other test or process uses: the environment is shared.
        const NAME: &str = "OFFBOARD_CONFIG_UNIT_TEST_SETTING";
        std::env::remove_var(NAME);
        assert_eq!(setting(NAME, 30, 1..=3650).ok(), Some(30));
        std::env::set_var(NAME, " ");
        assert_eq!(setting(NAME, 30, 1..=3650).ok(), Some(30), "empty is unset");
        std::env::set_var(NAME, " 90 ");
        assert_eq!(setting(NAME, 30, 1..=3650).ok(), Some(90));
        for bad in ["0", "-1", "x", "99999"] {
            std::env::set_var(NAME, bad);
            let err = setting(NAME, 30, 1..=3650).expect_err(bad).to_string();
            assert!(err.contains(NAME) && err.contains(bad), "{err}");
        }
        std::env::remove_var(NAME);
    }

    #[test]
    fn mail_settings_are_checked_at_start() {
        let ok = MailSettings::new("smtp://127.0.0.1:2525".into(), None).expect("valid");
        assert_eq!(ok.from, MailSettings::DEFAULT_FROM);
        assert!(MailSettings::new("smtp://127.0.0.1:2525".into(), Some("not an address".into())).is_err());
        assert!(MailSettings::new("http://mail.example".into(), None).is_err());
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
