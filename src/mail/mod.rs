//! Delivering the outbox over SMTP (lettre). Mail is written to the outbox
//! table by the services; this module only sends what is due, so a down
//! server delays mail (retried with backoff) but loses none and blocks nothing.
//! Mail the server refuses for good (a 5xx reply, an address that cannot be
//! written) is marked failed with the reason and not tried again.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::OutboxMail;
use crate::db::schema::mail_outbox;
use crate::db::DbConn;
use crate::services::ServiceResult;

/// Something that delivers one message; SMTP in production, a sink in tests.
pub trait Mailer: Send + Sync {
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), SendError>;

    /// `send` for the outbox message `id`: the same message sent twice (its
    /// sender died mid-send, the claim was taken over) carries the same
    /// Message-ID, so mail clients and archives can drop the repeat.
    fn send_message(&self, id: &str, to: &str, subject: &str, body: &str) -> Result<(), SendError> {
        let _ = id;
        self.send(to, subject, body)
    }
}

/// The outbox row's stable id, the local part of its Message-ID.
pub fn message_id(outbox_id: i64) -> String {
    format!("outbox-{outbox_id}")
}

/// Why a message did not go out, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// The server refused it for good (SMTP 5xx) or it cannot be written.
    pub permanent: bool,
    pub reason: String,
}

impl SendError {
    pub fn permanent(reason: impl Into<String>) -> SendError {
        SendError {
            permanent: true,
            reason: reason.into(),
        }
    }

    pub fn transient(reason: impl Into<String>) -> SendError {
        SendError {
            permanent: false,
            reason: reason.into(),
        }
    }
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        SendError {
            permanent: e.is_permanent(),
            reason: e.to_string(),
        }
    }
}

pub struct SmtpMailer {
    transport: lettre::SmtpTransport,
    from: lettre::message::Mailbox,
}

impl SmtpMailer {
    /// `SMTP_URL`, e.g. `smtp://127.0.0.1:2525` or `smtps://user:pass@host`.
    pub fn from_url(url: &str, from: &str) -> Result<SmtpMailer, String> {
        let transport = lettre::SmtpTransport::from_url(url)
            .map_err(|e| format!("SMTP_URL: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        let from = from.parse().map_err(|e| format!("OFFBOARD_MAIL_FROM: {e}"))?;
        Ok(SmtpMailer { transport, from })
    }

    /// The mailer the settings ask for, if any (`Config::mail`).
    pub fn from_config(config: &crate::Config) -> Option<Result<SmtpMailer, String>> {
        let mail = config.mail.as_ref()?;
        Some(SmtpMailer::from_url(&mail.url, &mail.from))
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), SendError> {
        self.send_with(None, to, subject, body)
    }

    fn send_message(&self, id: &str, to: &str, subject: &str, body: &str) -> Result<(), SendError> {
        // `<outbox-42@sender.domain>`: stable per message, unique per sender domain.
        let domain = self.from.email.domain();
        self.send_with(Some(format!("<{id}@{domain}>")), to, subject, body)
    }
}

impl SmtpMailer {
    fn send_with(&self, message_id: Option<String>, to: &str, subject: &str, body: &str) -> Result<(), SendError> {
        use lettre::Transport;
        let message = lettre::Message::builder()
            .message_id(message_id)
            .from(self.from.clone())
            .to(to.parse().map_err(|e| SendError::permanent(format!("{to}: {e}")))?)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| SendError::permanent(e.to_string()))?;
        self.transport.send(&message).map(|_| ()).map_err(SendError::from)
    }
}

/// Waits after failure `n`: 30 s, 1 min, 2 min ... up to an hour.
pub fn backoff(attempts: i32) -> Duration {
    Duration::seconds((30i64 << attempts.clamp(0, 7)).min(3600))
}

/// Sends every due message once. A message is claimed by an atomic update
/// before sending, so two sweepers never send the same one. Returns (sent,
/// not sent), refused-for-good included in the second.
pub fn deliver(conn: &mut DbConn, mailer: &dyn Mailer, now: NaiveDateTime) -> ServiceResult<(usize, usize)> {
    let due: Vec<OutboxMail> = mail_outbox::table
        .filter(mail_outbox::sent_at.is_null())
        .filter(mail_outbox::failed_at.is_null())
        .filter(mail_outbox::next_attempt_at.le(now))
        .order(mail_outbox::id)
        .limit(200)
        .select(OutboxMail::as_select())
        .load(conn)?;
    let (mut sent, mut failed) = (0, 0);
    for mail in due {
        if !claim(conn, mail.id, now)? {
            continue;
        }
        let id = message_id(mail.id);
        let outcome = mailer.send_message(&id, &mail.to_email, &mail.subject, &mail.body);
        if outcome.is_ok() {
            sent += 1;
        } else {
            failed += 1;
        }
        record(conn, &mail, outcome, now)?;
    }
    Ok((sent, failed))
}

/// On PostgreSQL a message another instance is claiming right now is
/// skipped (`FOR UPDATE SKIP LOCKED`) instead of waited for; the update then
/// claims it only if still unsent and unclaimed, as on SQLite.
fn claim(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> ServiceResult<bool> {
    if !matches!(conn, DbConn::Pg(_)) {
        return claim_update(conn, id, now);
    }
    conn.transaction(|conn| {
        if let DbConn::Pg(pg) = conn {
            let free = mail_outbox::table
                .filter(mail_outbox::id.eq(id))
                .select(mail_outbox::id)
                .for_update()
                .skip_locked()
                .first::<i64>(pg)
                .optional()?;
            if free.is_none() {
                return Ok(false);
            }
        }
        claim_update(conn, id, now)
    })
}

/// The claim itself: a two-minute lease on a message still to send.
fn claim_update(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> ServiceResult<bool> {
    let claimed = diesel::update(
        mail_outbox::table
            .filter(mail_outbox::id.eq(id))
            .filter(mail_outbox::sent_at.is_null())
            .filter(mail_outbox::failed_at.is_null())
            .filter(
                mail_outbox::claimed_until
                    .is_null()
                    .or(mail_outbox::claimed_until.lt(now)),
            ),
    )
    .set(mail_outbox::claimed_until.eq(Some(now + Duration::minutes(2))))
    .execute(conn)?;
    Ok(claimed > 0)
}

/// Sent; refused for good (failed, kept with the reason, never retried); or
/// not yet (retried after [`backoff`]).
fn record(
    conn: &mut DbConn,
    mail: &OutboxMail,
    outcome: Result<(), SendError>,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let row = mail_outbox::table.find(mail.id);
    let no_claim = mail_outbox::claimed_until.eq(None::<NaiveDateTime>);
    match outcome {
        Ok(()) => diesel::update(row)
            .set((
                mail_outbox::sent_at.eq(Some(now)),
                no_claim,
                mail_outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?,
        Err(SendError {
            permanent: true,
            reason,
        }) => {
            tracing::warn!(to = %mail.to_email, error = %reason, "mail refused for good; not retried");
            diesel::update(row)
                .set((
                    mail_outbox::attempts.eq(mail.attempts + 1),
                    mail_outbox::failed_at.eq(Some(now)),
                    no_claim,
                    mail_outbox::last_error.eq(Some(reason)),
                ))
                .execute(conn)?
        }
        Err(SendError { reason, .. }) => {
            tracing::warn!(to = %mail.to_email, error = %reason, "mail not sent; will retry");
            diesel::update(row)
                .set((
                    mail_outbox::attempts.eq(mail.attempts + 1),
                    mail_outbox::next_attempt_at.eq(now + backoff(mail.attempts)),
                    no_claim,
                    mail_outbox::last_error.eq(Some(reason)),
                ))
                .execute(conn)?
        }
    };
    Ok(())
}

pub fn outbox(conn: &mut DbConn, account_id: i64, limit: i64) -> ServiceResult<Vec<OutboxMail>> {
    Ok(mail_outbox::table
        .filter(mail_outbox::account_id.eq(account_id))
        .order(mail_outbox::id.desc())
        .limit(limit)
        .select(OutboxMail::as_select())
        .load(conn)?)
}
