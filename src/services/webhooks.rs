//! Webhooks (B6): endpoints an account registers, and the outbox every act
//! on a user writes to in its own transaction. Delivery (HTTP) lives in
//! `crate::webhooks`; this module only reads and writes the database.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::{NewAuditEntry, NewWebhookEvent, UserFacts, WebhookDelivery, WebhookEndpoint};
use crate::db::schema::{webhook_deliveries as wd, webhook_endpoints as we, webhook_events as ev};
use crate::db::{write_transaction, DbConn};
use crate::domain::webhooks::{next_try, EndpointState, EventKind};
use crate::domain::{Refusal, Role};

use super::{audit, ActorInfo, ServiceError, ServiceResult};

/// The custom-role privilege that gives API tokens and webhooks (with the
/// owner and admins without a custom role).
pub const INTEGRATIONS_PRIVILEGE: &str = "api:tokens";

/// Who manages the account's webhooks: the owner, admins, and admins whose
/// custom role holds [`INTEGRATIONS_PRIVILEGE`].
pub fn may_manage(role: Role, has_custom_role: bool, holds_privilege: bool) -> bool {
    match role {
        Role::Owner => true,
        Role::Admin => !has_custom_role || holds_privilege,
        Role::Member => false,
    }
}

/// Refuses anyone [`may_manage`] does not allow.
pub fn check_manager(conn: &mut DbConn, by: &ActorInfo, custom_role_id: Option<i64>) -> ServiceResult<()> {
    let holds = super::roles::has_privilege(conn, custom_role_id, INTEGRATIONS_PRIVILEGE)?;
    if may_manage(by.actor.role, custom_role_id.is_some(), holds) {
        Ok(())
    } else {
        Err(Refusal::NotAdmin.into())
    }
}

fn new_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    crate::config::encode_hex(&bytes)
}

fn audited(conn: &mut DbConn, by: &ActorInfo, action: &str, url: &str, now: NaiveDateTime) -> ServiceResult<()> {
    audit::record(
        conn,
        &NewAuditEntry {
            detail: url.chars().take(200).collect(),
            ..audit::by(by, action, now)
        },
    )?;
    Ok(())
}

/// Registers an endpoint (unvalidated until it answers the challenge) and
/// returns it with its secret, shown once. `url` was checked by the caller.
pub fn add_endpoint(
    conn: &mut DbConn,
    by: &ActorInfo,
    url: &str,
    events: &[EventKind],
    now: NaiveDateTime,
) -> ServiceResult<WebhookEndpoint> {
    if events.is_empty() {
        return Err(ServiceError::Invalid(crate::i18n::tr(by.lang, "webhook-no-events")));
    }
    let list = events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",");
    write_transaction(conn, |conn| {
        let taken: i64 = we::table
            .filter(we::account_id.eq(by.account_id))
            .filter(we::url.eq(url))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(ServiceError::Invalid(crate::i18n::tr(by.lang, "webhook-exists")));
        }
        let id: i64 = diesel::insert_into(we::table)
            .values((
                we::account_id.eq(by.account_id),
                we::url.eq(url),
                we::events.eq(&list),
                we::secret.eq(new_secret()),
                we::state.eq(EndpointState::Unvalidated),
                we::created_by_email.eq(&by.email),
                we::created_at.eq(now),
            ))
            .returning(we::id)
            .get_result(conn)?;
        audited(conn, by, "webhook_add", url, now)?;
        find_in(conn, by.account_id, id)
    })
}

fn find_in(conn: &mut DbConn, account_id: i64, id: i64) -> ServiceResult<WebhookEndpoint> {
    Ok(we::table
        .filter(we::id.eq(id))
        .filter(we::account_id.eq(account_id))
        .select(WebhookEndpoint::as_select())
        .first(conn)?)
}

pub fn find_endpoint(conn: &mut DbConn, account_id: i64, id: i64) -> ServiceResult<WebhookEndpoint> {
    find_in(conn, account_id, id)
}

pub fn find_by_url(conn: &mut DbConn, account_id: i64, url: &str) -> ServiceResult<WebhookEndpoint> {
    Ok(we::table
        .filter(we::account_id.eq(account_id))
        .filter(we::url.eq(url))
        .select(WebhookEndpoint::as_select())
        .first(conn)?)
}

pub fn list_endpoints(conn: &mut DbConn, account_id: i64) -> ServiceResult<Vec<WebhookEndpoint>> {
    Ok(we::table
        .filter(we::account_id.eq(account_id))
        .order(we::id)
        .select(WebhookEndpoint::as_select())
        .load(conn)?)
}

/// The outcome of the validation challenge: active, or unvalidated (it gets
/// nothing until validated again).
pub fn set_validated(conn: &mut DbConn, id: i64, ok: bool, now: NaiveDateTime) -> ServiceResult<()> {
    let state = if ok {
        EndpointState::Active
    } else {
        EndpointState::Unvalidated
    };
    diesel::update(we::table.find(id))
        .set((we::state.eq(state), we::validated_at.eq(ok.then_some(now))))
        .execute(conn)?;
    Ok(())
}

/// A new secret; the old one keeps signing beside it for 24 hours.
pub fn rotate_secret(conn: &mut DbConn, by: &ActorInfo, id: i64, now: NaiveDateTime) -> ServiceResult<String> {
    write_transaction(conn, |conn| {
        let e = find_in(conn, by.account_id, id)?;
        let secret = new_secret();
        diesel::update(we::table.find(e.id))
            .set((
                we::secret.eq(&secret),
                we::old_secret.eq(Some(&e.secret)),
                we::old_secret_until.eq(Some(now + Duration::hours(24))),
            ))
            .execute(conn)?;
        audited(conn, by, "webhook_rotate", &e.url, now)?;
        Ok(secret)
    })
}

/// Pauses (nothing is queued for it) or resumes an endpoint.
pub fn set_paused(conn: &mut DbConn, by: &ActorInfo, id: i64, paused: bool, now: NaiveDateTime) -> ServiceResult<()> {
    write_transaction(conn, |conn| {
        let e = find_in(conn, by.account_id, id)?;
        let state = match (paused, e.validated_at) {
            (true, _) => EndpointState::Paused,
            (false, Some(_)) => EndpointState::Active,
            (false, None) => EndpointState::Unvalidated,
        };
        diesel::update(we::table.find(e.id))
            .set(we::state.eq(state))
            .execute(conn)?;
        let action = if paused { "webhook_pause" } else { "webhook_resume" };
        audited(conn, by, action, &e.url, now)
    })
}

pub fn delete_endpoint(conn: &mut DbConn, by: &ActorInfo, id: i64, now: NaiveDateTime) -> ServiceResult<()> {
    write_transaction(conn, |conn| {
        let e = find_in(conn, by.account_id, id)?;
        diesel::delete(wd::table.filter(wd::endpoint_id.eq(e.id))).execute(conn)?;
        diesel::delete(we::table.find(e.id)).execute(conn)?;
        audited(conn, by, "webhook_delete", &e.url, now)
    })
}

/// An event's body as the meeting platform sends it (ids as strings).
pub fn event_body(kind: EventKind, by: &ActorInfo, user: &impl UserFacts, now: NaiveDateTime) -> String {
    serde_json::json!({
        "event": kind.as_str(),
        "event_ts": now.and_utc().timestamp_millis(),
        "payload": {
            "account_id": user.account_id().to_string(),
            "operator": by.email,
            "operator_id": by.actor.id.to_string(),
            "object": {
                "id": user.id().to_string(),
                "email": user.email(),
                "first_name": user.first_name(),
                "last_name": user.last_name(),
            }
        }
    })
    .to_string()
}

/// Writes the events of an act into the outbox, inside the act's
/// transaction. Nothing is written when no endpoint of the account wants
/// the event (one indexed query per act or batch).
pub fn emit(
    conn: &mut DbConn,
    by: &ActorInfo,
    kind: EventKind,
    users: &[&impl UserFacts],
    now: NaiveDateTime,
) -> ServiceResult<()> {
    if users.is_empty() || !wanted(conn, by.account_id, kind)? {
        return Ok(());
    }
    let rows: Vec<NewWebhookEvent> = users
        .iter()
        .map(|u| NewWebhookEvent {
            account_id: by.account_id,
            event: kind,
            body: event_body(kind, by, *u, now),
            created_at: now,
        })
        .collect();
    for chunk in rows.chunks(1_000) {
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(ev::table).values(chunk).execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(ev::table).values(chunk).execute(c)?,
        };
    }
    Ok(())
}

/// Whether an active endpoint of the account subscribes to `kind`.
fn wanted(conn: &mut DbConn, account_id: i64, kind: EventKind) -> ServiceResult<bool> {
    let lists: Vec<String> = we::table
        .filter(we::account_id.eq(account_id))
        .filter(we::state.eq(EndpointState::Active))
        .select(we::events)
        .load(conn)?;
    Ok(lists.iter().any(|l| l.split(',').any(|e| e == kind.as_str())))
}

/// Turns new events into one delivery per active endpoint that wants them;
/// returns how many events were handled.
pub fn fan_out(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> ServiceResult<usize> {
    write_transaction(conn, |conn| {
        crate::db::plan_claim(conn)?;
        let pending = ev::table
            .filter(ev::fanned_out.eq(false))
            .order(ev::id)
            .limit(limit)
            .select((ev::id, ev::account_id, ev::event));
        // On PostgreSQL two instances fanning out at once take different
        // events (SKIP LOCKED): none gets two deliveries per endpoint.
        let events: Vec<(i64, i64, EventKind)> = match conn {
            DbConn::Pg(pg) => pending.for_update().skip_locked().load(pg)?,
            DbConn::Sqlite(_) => pending.load(conn)?,
        };
        let mut endpoints: std::collections::HashMap<i64, Vec<WebhookEndpoint>> = Default::default();
        let mut rows = Vec::new();
        for (id, account_id, kind) in &events {
            if !endpoints.contains_key(account_id) {
                let list = list_endpoints(conn, *account_id)?;
                endpoints.insert(*account_id, list);
            }
            for e in endpoints.get(account_id).into_iter().flatten() {
                if e.state == EndpointState::Active && e.events.split(',').any(|k| k == kind.as_str()) {
                    rows.push((
                        wd::event_id.eq(*id),
                        wd::endpoint_id.eq(e.id),
                        wd::next_attempt_at.eq(now),
                    ));
                }
            }
        }
        for chunk in rows.chunks(1_000) {
            match conn {
                DbConn::Sqlite(c) => diesel::insert_into(wd::table).values(chunk).execute(c)?,
                DbConn::Pg(c) => diesel::insert_into(wd::table).values(chunk).execute(c)?,
            };
        }
        let ids: Vec<i64> = events.iter().map(|(id, _, _)| *id).collect();
        diesel::update(ev::table.filter(ev::id.eq_any(&ids)))
            .set(ev::fanned_out.eq(true))
            .execute(conn)?;
        Ok(events.len())
    })
}

/// A delivery claimed for sending, with what signing it needs.
#[derive(Debug, Clone)]
pub struct Due {
    pub delivery_id: i64,
    pub event_id: i64,
    pub url: String,
    pub secret: String,
    /// The previous secret while it still signs (24 h after a rotation).
    pub old_secret: Option<String>,
    pub body: String,
    pub attempts: i32,
}

/// Claims up to `limit` due deliveries for `lease`: another instance (or
/// this one after a crash) takes them again only when the lease ran out,
/// so a delivery is repeated only if its sender died mid-send.
///
/// The deliveries are read alone, in id order on the pending index (a
/// join here locked the endpoint's and the events' rows too, and its plan
/// depended on statistics the outbox never has fresh); their events'
/// bodies and endpoints follow by id.
pub fn claim_due(conn: &mut DbConn, now: NaiveDateTime, limit: i64, lease: Duration) -> ServiceResult<Vec<Due>> {
    write_transaction(conn, |conn| {
        crate::db::plan_claim(conn)?;
        let endpoints: std::collections::HashMap<i64, WebhookEndpoint> = we::table
            .filter(we::state.eq(EndpointState::Active))
            .select(WebhookEndpoint::as_select())
            .load(conn)?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        if endpoints.is_empty() {
            return Ok(Vec::new());
        }
        let active: Vec<i64> = endpoints.keys().copied().collect();
        let due = wd::table
            // Literal conditions, as the partial index `webhook_deliveries_pending` states them.
            .filter(wd::delivered_at.is_null())
            .filter(diesel::dsl::not(wd::given_up))
            .filter(wd::next_attempt_at.le(now))
            .filter(wd::claimed_until.is_null().or(wd::claimed_until.lt(now)))
            // `+ 0` keeps the planners off the endpoint index (every delivery
            // the endpoint ever had, sorted by id at each claim).
            .filter((wd::endpoint_id + 0_i64).eq_any(active))
            .order(wd::id)
            .limit(limit)
            .select((wd::id, wd::event_id, wd::endpoint_id, wd::attempts));
        // On PostgreSQL instances claiming at once take different deliveries
        // (SKIP LOCKED) instead of reading the same ones and sending twice.
        let rows: Vec<(i64, i64, i64, i32)> = match conn {
            DbConn::Pg(pg) => due.for_update().skip_locked().load(pg)?,
            DbConn::Sqlite(_) => due.load(conn)?,
        };
        if rows.is_empty() {
            // The sender polls twice a second: an idle outbox costs two queries.
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let event_ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let mut bodies: std::collections::HashMap<i64, String> = ev::table
            .filter(ev::id.eq_any(&event_ids))
            .select((ev::id, ev::body))
            .load(conn)?
            .into_iter()
            .collect();
        diesel::update(wd::table.filter(wd::id.eq_any(&ids)))
            .set(wd::claimed_until.eq(Some(now + lease)))
            .execute(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(delivery_id, event_id, endpoint_id, attempts)| {
                let e = endpoints.get(&endpoint_id)?;
                Some(Due {
                    delivery_id,
                    event_id,
                    url: e.url.clone(),
                    secret: e.secret.clone(),
                    old_secret: e
                        .old_secret
                        .clone()
                        .filter(|_| e.old_secret_until.is_some_and(|u| u > now)),
                    body: bodies.remove(&event_id)?,
                    attempts,
                })
            })
            .collect())
    })
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    pub millis: i32,
    /// Why it failed, when it did (network error, status, refused address).
    pub error: Option<String>,
}

/// An attempt to record: the delivery, its attempts before, what came of it.
pub type AttemptRecord<'a> = (i64, i32, &'a Attempted);

/// Records a batch of attempts in one transaction: delivered on a 2xx, else
/// retried after the back-off (or given up after its last step, or at once
/// on a refusing 4xx).
pub fn record_attempts(
    conn: &mut DbConn,
    records: &[AttemptRecord<'_>],
    backoff: &[Duration],
    now: NaiveDateTime,
) -> ServiceResult<()> {
    write_transaction(conn, |conn| {
        for (delivery_id, attempts_before, outcome) in records {
            record_attempt(conn, *delivery_id, *attempts_before, outcome, backoff, now)?;
        }
        Ok(())
    })
}

fn record_attempt(
    conn: &mut DbConn,
    delivery_id: i64,
    attempts_before: i32,
    outcome: &Attempted,
    backoff: &[Duration],
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let attempts = attempts_before + 1;
    let ok = outcome.status.is_some_and(|s| (200..300).contains(&s));
    let retry = (!ok && crate::domain::webhooks::retryable(outcome.status))
        .then(|| next_try(attempts, backoff))
        .flatten();
    diesel::update(wd::table.find(delivery_id))
        .set((
            wd::attempts.eq(attempts),
            wd::claimed_until.eq(None::<NaiveDateTime>),
            wd::delivered_at.eq(ok.then_some(now)),
            wd::given_up.eq(!ok && retry.is_none()),
            wd::next_attempt_at.eq(now + retry.unwrap_or_default()),
            wd::last_status.eq(outcome.status.map(i32::from)),
            wd::last_ms.eq(Some(outcome.millis)),
            wd::last_error.eq(outcome
                .error
                .as_deref()
                .map(|e| e.chars().take(300).collect::<String>())),
            wd::last_attempt_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest deliveries of an endpoint, with their event's name.
pub fn delivery_log(
    conn: &mut DbConn,
    account_id: i64,
    endpoint_id: i64,
    limit: i64,
) -> ServiceResult<Vec<(WebhookDelivery, EventKind)>> {
    find_in(conn, account_id, endpoint_id)?;
    Ok(wd::table
        .inner_join(ev::table)
        .filter(wd::endpoint_id.eq(endpoint_id))
        .order(wd::id.desc())
        .limit(limit)
        .select((WebhookDelivery::as_select(), ev::event))
        .load(conn)?)
}

/// Sends a delivery again now (same event id), whatever became of it.
pub fn redeliver(conn: &mut DbConn, by: &ActorInfo, delivery_id: i64, now: NaiveDateTime) -> ServiceResult<()> {
    write_transaction(conn, |conn| {
        let endpoint_id: i64 = wd::table.find(delivery_id).select(wd::endpoint_id).first(conn)?;
        let e = find_in(conn, by.account_id, endpoint_id)?;
        diesel::update(wd::table.find(delivery_id))
            .set((
                wd::attempts.eq(0),
                wd::delivered_at.eq(None::<NaiveDateTime>),
                wd::given_up.eq(false),
                wd::claimed_until.eq(None::<NaiveDateTime>),
                wd::next_attempt_at.eq(now),
            ))
            .execute(conn)?;
        audited(conn, by, "webhook_redeliver", &e.url, now)
    })
}

/// Events a purge removes per transaction, and transactions per sweep: a
/// backlog goes over a few sweeps without holding the write lock long.
const PURGE_CHUNK: i64 = 1_000;
const PURGE_CHUNKS_PER_SWEEP: usize = 50;

/// Removes the events older than `retention_days` whose deliveries are all
/// made or given up, with those deliveries (the delivery log's rows); an
/// event with a delivery still waiting stays whatever its age. Without it
/// the outbox grows by a row per change of state forever, and the sender's
/// claim walks its index (issue 20). Returns how many events went.
pub fn purge_delivered(conn: &mut DbConn, now: NaiveDateTime, retention_days: i64) -> ServiceResult<usize> {
    let before = now - Duration::days(retention_days);
    let mut purged = 0;
    for _ in 0..PURGE_CHUNKS_PER_SWEEP {
        let (seen, gone) = write_transaction(conn, |conn| purge_chunk(conn, before))?;
        purged += gone;
        if (seen as i64) < PURGE_CHUNK {
            break;
        }
    }
    Ok(purged)
}

/// One chunk: (events looked at, events removed).
fn purge_chunk(conn: &mut DbConn, before: NaiveDateTime) -> ServiceResult<(usize, usize)> {
    use diesel::dsl::{exists, not};
    let waiting = wd::table
        .filter(wd::event_id.eq(ev::id))
        .filter(wd::delivered_at.is_null())
        .filter(wd::given_up.eq(false));
    let ids: Vec<i64> = ev::table
        .filter(ev::fanned_out.eq(true))
        .filter(ev::created_at.lt(before))
        .filter(not(exists(waiting)))
        .order(ev::id)
        .limit(PURGE_CHUNK)
        .select(ev::id)
        .load(conn)?;
    // Only finished deliveries go, and only events left with none: a
    // redelivery asked for meanwhile keeps its event.
    diesel::delete(
        wd::table
            .filter(wd::event_id.eq_any(&ids))
            .filter(wd::delivered_at.is_not_null().or(wd::given_up.eq(true))),
    )
    .execute(conn)?;
    let any = wd::table.filter(wd::event_id.eq(ev::id));
    let gone = diesel::delete(ev::table.filter(ev::id.eq_any(&ids)).filter(not(exists(any)))).execute(conn)?;
    Ok((ids.len(), gone))
}
