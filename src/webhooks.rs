//! Webhook delivery over HTTP (B6): the validation challenge, signed POSTs,
//! and the sender loop the worker runs. Destinations are checked after DNS
//! resolution, at every request, against private, loopback and link-local
//! addresses (unless `OFFBOARD_WEBHOOK_ALLOW_PRIVATE=true`).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::db::Pool;
use crate::domain::webhooks::{hmac_hex, is_forbidden, signature};
use crate::services::webhooks::{self as store, Attempted, Due};
use crate::services::ServiceError;

/// How the sender behaves; read from the environment by `config.rs`.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub allow_private: bool,
    /// Back-off after the 1st, 2nd, 3rd failure (default +5, +20, +60 min).
    pub backoff: Vec<chrono::Duration>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private: false,
            backoff: crate::domain::webhooks::RETRY_MINUTES
                .iter()
                .map(|m| chrono::Duration::minutes(*m))
                .collect(),
        }
    }
}

/// Why a destination is refused, in words for the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not an http or https address")]
    NotHttp,
    #[error("the host cannot be resolved")]
    Unresolvable,
    #[error("the host is on a private, loopback or link-local address")]
    Private,
}

impl UrlError {
    pub fn key(&self) -> &'static str {
        match self {
            UrlError::NotHttp => "webhook-url-not-http",
            UrlError::Unresolvable => "webhook-url-unresolvable",
            UrlError::Private => "webhook-url-private",
        }
    }
}

/// The addresses a URL's host resolves to, all allowed, or why not.
pub fn check_destination(url: &str, allow_private: bool) -> Result<Vec<SocketAddr>, UrlError> {
    let parsed = url::Url::parse(url).map_err(|_| UrlError::NotHttp)?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(UrlError::NotHttp);
    }
    let addrs: Vec<SocketAddr> = parsed
        .socket_addrs(|| None)
        .map_err(|_| UrlError::Unresolvable)?
        .into_iter()
        .collect();
    if addrs.is_empty() {
        return Err(UrlError::Unresolvable);
    }
    if !allow_private && addrs.iter().any(|a| is_forbidden(a.ip())) {
        return Err(UrlError::Private);
    }
    Ok(addrs)
}

/// An HTTP client whose resolver refuses forbidden addresses, so a DNS
/// answer that changed since the endpoint was added cannot reach inside.
pub fn agent(allow_private: bool, timeout: Duration) -> ureq::Agent {
    let mut builder = ureq::AgentBuilder::new().timeout(timeout).redirects(0).resolver(
        move |host_port: &str| -> std::io::Result<Vec<SocketAddr>> {
            let addrs: Vec<SocketAddr> = host_port.to_socket_addrs()?.collect();
            if !allow_private && addrs.iter().any(|a| is_forbidden(a.ip())) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "private, loopback or link-local address",
                ));
            }
            Ok(addrs)
        },
    );
    if let Ok(tls) = native_tls::TlsConnector::new() {
        builder = builder.tls_connector(Arc::new(tls));
    }
    builder.build()
}

/// POSTs a signed body; the answer's status and time, or the error.
pub fn post(agent: &ureq::Agent, url: &str, body: &str, secrets: &[&str], event_id: Option<i64>) -> Attempted {
    let ts = chrono::Utc::now().timestamp();
    // Several secrets during a rotation: `v0=new,v0=old`, so receivers on either verify.
    let sig = secrets
        .iter()
        .map(|s| signature(s, ts, body))
        .collect::<Vec<_>>()
        .join(",");
    let mut req = agent
        .post(url)
        .set("content-type", "application/json")
        .set("user-agent", "Offboard-Webhook/1")
        .set("x-zm-request-timestamp", &ts.to_string())
        .set("x-zm-signature", &sig);
    if let Some(id) = event_id {
        req = req.set("x-offboard-event-id", &format!("evt_{id}"));
    }
    let start = Instant::now();
    let result = req.send_string(body);
    let millis = start.elapsed().as_millis().min(i32::MAX as u128) as i32;
    match result {
        Ok(resp) => Attempted {
            status: Some(resp.status()),
            millis,
            error: None,
        },
        Err(ureq::Error::Status(code, _)) => Attempted {
            status: Some(code),
            millis,
            error: Some(format!("HTTP {code}")),
        },
        Err(e) => Attempted {
            status: None,
            millis,
            error: Some(e.kind().to_string()),
        },
    }
}

/// The platform's `endpoint.url_validation` challenge: the endpoint must
/// answer `{"plainToken":P,"encryptedToken":hex(HMAC-SHA256(secret,P))}`
/// within 3 seconds.
pub fn validate(url: &str, secret: &str, allow_private: bool) -> Result<(), String> {
    check_destination(url, allow_private).map_err(|e| e.to_string())?;
    let bytes: [u8; 16] = rand::random();
    let plain = crate::config::encode_hex(&bytes);
    let body = serde_json::json!({
        "event": "endpoint.url_validation",
        "event_ts": chrono::Utc::now().timestamp_millis(),
        "payload": { "plainToken": plain },
    })
    .to_string();
    let ts = chrono::Utc::now().timestamp();
    let answer = agent(allow_private, Duration::from_secs(3))
        .post(url)
        .set("content-type", "application/json")
        .set("x-zm-request-timestamp", &ts.to_string())
        .set("x-zm-signature", &signature(secret, ts, &body))
        .send_string(&body)
        .map_err(|e| e.to_string())?;
    let text = answer.into_string().map_err(|e| e.to_string())?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|_| "the answer is not JSON".to_string())?;
    let expected = hmac_hex(secret, &plain);
    if json["plainToken"] == plain.as_str() && json["encryptedToken"] == expected.as_str() {
        Ok(())
    } else {
        Err("the answer does not carry the expected encryptedToken".into())
    }
}

/// One round of the sender: new events fanned out to their endpoints, then
/// up to `limit` due deliveries sent and recorded. Returns how many were sent.
pub fn deliver_once(
    pool: &Pool,
    settings: &WebhookSettings,
    now: NaiveDateTime,
    limit: i64,
) -> Result<usize, ServiceError> {
    let mut conn = pool.get().map_err(crate::db::DbError::from)?;
    while store::fan_out(&mut conn, now, 5_000)? > 0 {}
    let due = store::claim_due(&mut conn, now, limit, chrono::Duration::seconds(60))?;
    drop(conn);
    if due.is_empty() {
        // An agent loads the system's root certificates: not twice a second for nothing.
        return Ok(0);
    }
    let agent = agent(settings.allow_private, Duration::from_secs(10));
    // A few senders side by side: one slow receiver does not hold up the rest.
    let per = due.len().div_ceil(SENDERS).max(1);
    let outcomes: Vec<Attempted> = std::thread::scope(|s| {
        let running: Vec<_> = due
            .chunks(per)
            .map(|chunk| s.spawn(|| chunk.iter().map(|d| send_due(&agent, d)).collect::<Vec<_>>()))
            .collect();
        running.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let records: Vec<store::AttemptRecord<'_>> = due
        .iter()
        .zip(&outcomes)
        .map(|(d, o)| (d.delivery_id, d.attempts, o))
        .collect();
    let mut conn = pool.get().map_err(crate::db::DbError::from)?;
    store::record_attempts(&mut conn, &records, &settings.backoff, crate::services::now())?;
    Ok(due.len())
}

/// Deliveries sent at once by one sender round.
const SENDERS: usize = 4;

fn send_due(agent: &ureq::Agent, d: &Due) -> Attempted {
    let mut secrets = vec![d.secret.as_str()];
    secrets.extend(d.old_secret.as_deref());
    post(agent, &d.url, &d.body, &secrets, Some(d.event_id))
}

/// The sender thread inside `serve`: runs until the process ends.
pub fn spawn(pool: Pool, settings: WebhookSettings) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("offboard-webhooks".into())
        .spawn(move || loop {
            match deliver_once(&pool, &settings, crate::services::now(), 200) {
                Ok(0) => std::thread::sleep(Duration::from_millis(500)),
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "webhook delivery");
                    std::thread::sleep(Duration::from_secs(2));
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_must_be_http_and_public() {
        assert_eq!(check_destination("ftp://x.example/", true), Err(UrlError::NotHttp));
        assert_eq!(check_destination("not a url", true), Err(UrlError::NotHttp));
        // Literal addresses: nothing is resolved or sent.
        assert_eq!(
            check_destination("http://127.0.0.1:9/hook", false),
            Err(UrlError::Private)
        );
        assert_eq!(check_destination("http://10.0.0.8/hook", false), Err(UrlError::Private));
        assert_eq!(check_destination("http://[::1]:9/hook", false), Err(UrlError::Private));
        assert_eq!(
            check_destination("http://169.254.169.254/", false),
            Err(UrlError::Private)
        );
        assert!(check_destination("http://127.0.0.1:9/hook", true).is_ok());
        assert!(check_destination("https://93.184.216.34/hook", false).is_ok());
    }
}
