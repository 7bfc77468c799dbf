//! Webhooks (B6) as plain rules: which events exist, how a body is signed,
//! when a failed delivery is tried again, and which destinations are refused.

use std::net::IpAddr;

use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::states::text_enum;
use super::Action;
use std::fmt;

text_enum!(
    /// A change of a user's state, named as the meeting platform names it.
    EventKind {
        Deactivated = "user.deactivated",
        Activated = "user.activated",
        Disassociated = "user.disassociated",
        Deleted = "user.deleted",
        Updated = "user.updated",
        Created = "user.created",
    }
);

text_enum!(
    /// An endpoint gets events only once it answered the validation challenge.
    EndpointState { Unvalidated = "unvalidated", Active = "active", Paused = "paused" }
);

impl EventKind {
    /// The event an act on a user fires.
    pub fn of(action: Action) -> EventKind {
        match action {
            Action::Deactivate => EventKind::Deactivated,
            Action::Activate => EventKind::Activated,
            Action::Unlink => EventKind::Disassociated,
            Action::Delete => EventKind::Deleted,
        }
    }

    /// A comma-separated list as typed on the page or the CLI; None names the bad one.
    pub fn parse_list(text: &str) -> Result<Vec<EventKind>, String> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let kind = EventKind::parse(part).ok_or_else(|| part.to_string())?;
            if !out.contains(&kind) {
                out.push(kind);
            }
        }
        Ok(out)
    }
}

/// `hex(HMAC-SHA256(secret, message))`.
pub fn hmac_hex(secret: &str, message: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `x-zm-signature` value for a body sent at `timestamp` (Unix seconds):
/// `v0=hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body))`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    format!("v0={}", hmac_hex(secret, &format!("v0:{timestamp}:{body}")))
}

/// Default back-off after the first, second and third failure.
pub const RETRY_MINUTES: [i64; 3] = [5, 20, 60];

/// When to try again after failed attempt number `attempts` (1-based), with
/// the configured back-off; None when the event is given up.
pub fn next_try(attempts: i32, backoff: &[Duration]) -> Option<Duration> {
    usize::try_from(attempts - 1).ok().and_then(|i| backoff.get(i)).copied()
}

/// Whether an answer is worth retrying: network errors and 5xx are; a 4xx
/// is the receiver refusing the event, except 408 (timeout) and 429 (busy).
pub fn retryable(status: Option<u16>) -> bool {
    match status {
        None => true,
        Some(408 | 429) => true,
        Some(s) => !(400..500).contains(&s),
    }
}

/// Destinations a webhook may not reach unless private ones are allowed:
/// loopback, private ranges, link-local, and addresses that are no host.
pub fn is_forbidden(ip: IpAddr) -> bool {
    let ip = crate::config::canonical(ip);
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                // 100.64.0.0/10, carrier-grade NAT: inside someone's network too.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_the_platforms() {
        // HMAC-SHA256("secret", "v0:1700000000:{}"), computed independently.
        let sig = signature("secret", 1_700_000_000, "{}");
        assert!(sig.starts_with("v0="));
        assert_eq!(sig.len(), 3 + 64);
        assert_eq!(sig, signature("secret", 1_700_000_000, "{}"), "deterministic");
        assert_ne!(sig, signature("other", 1_700_000_000, "{}"));
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retries_follow_the_backoff_and_stop_on_refusals() {
        let backoff: Vec<Duration> = RETRY_MINUTES.iter().map(|m| Duration::minutes(*m)).collect();
        assert_eq!(next_try(1, &backoff), Some(Duration::minutes(5)));
        assert_eq!(next_try(3, &backoff), Some(Duration::minutes(60)));
        assert_eq!(next_try(4, &backoff), None);
        assert!(retryable(None) && retryable(Some(500)) && retryable(Some(503)));
        assert!(retryable(Some(408)) && retryable(Some(429)));
        assert!(!retryable(Some(400)) && !retryable(Some(404)) && !retryable(Some(410)));
    }

    #[test]
    fn private_loopback_and_link_local_destinations_are_refused() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_forbidden(bad.parse().expect("ip")), "{bad}");
        }
        for ok in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert!(!is_forbidden(ok.parse().expect("ip")), "{ok}");
        }
    }

    #[test]
    fn event_lists_parse_and_name_the_bad_one() {
        assert_eq!(
            EventKind::parse_list("user.deactivated, user.deleted,user.deactivated"),
            Ok(vec![EventKind::Deactivated, EventKind::Deleted])
        );
        assert_eq!(EventKind::parse_list("user.gone"), Err("user.gone".into()));
        assert_eq!(EventKind::of(Action::Unlink), EventKind::Disassociated);
    }
}
