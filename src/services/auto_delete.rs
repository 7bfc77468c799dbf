//! The Advanced tab's auto-delete (R20-R23): the setting, the sweeper that
//! deletes due users, and the warning mail 7 days before.

use crate::domain::Status;
use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::{Account, NewAuditEntry, User};
use crate::db::schema::{accounts, mail_outbox, users};
use crate::db::DbConn;
use crate::domain::auto_delete::{
    check_days, deletion_time, due_cutoff, in_warning_window, may_change_setting, WARN_DAYS,
};
use crate::domain::{Action, Actor, Mode, Refusal, Role, ADVANCED_PRIVILEGE};

use super::user_actions::{perform_in, Run, Transfer};
use super::users::managed_domains;
use super::{audit, ServiceError, ServiceResult};
use super::{ActorInfo, Origin};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub enabled: bool,
    pub days: i32,
    pub warn: bool,
}

pub fn setting(conn: &mut DbConn, account_id: i64) -> ServiceResult<Setting> {
    let a: Account = accounts::table
        .find(account_id)
        .select(Account::as_select())
        .first(conn)?;
    Ok(Setting {
        enabled: a.auto_delete_enabled,
        days: a.auto_delete_days,
        warn: a.auto_delete_warn,
    })
}

/// May this signed-in user change the setting (R20)?
pub fn may_change(conn: &mut DbConn, user: &User, actor: &Actor) -> ServiceResult<bool> {
    let advanced = super::roles::has_privilege(conn, user.custom_role_id, ADVANCED_PRIVILEGE)?;
    Ok(may_change_setting(actor, user.custom_role_id.is_some(), advanced))
}

/// Saves the setting; every change is audited.
pub fn save(conn: &mut DbConn, by: &ActorInfo, user: &User, new: Setting, now: NaiveDateTime) -> ServiceResult<()> {
    if !may_change(conn, user, &by.actor)? {
        return Err(Refusal::NoAccessToSetting.into());
    }
    let days = check_days(new.days).map_err(|_| ServiceError::Invalid(crate::i18n::tr(by.lang, "bad-days")))?;
    crate::db::write_transaction(conn, |conn| {
        let old = setting(conn, by.account_id)?;
        // Saving the setting unchanged is no change: no audit row.
        if old.enabled == new.enabled && old.days == days && old.warn == new.warn {
            return Ok(());
        }
        diesel::update(accounts::table.find(by.account_id))
            .set((
                accounts::auto_delete_enabled.eq(new.enabled),
                accounts::auto_delete_days.eq(days),
                accounts::auto_delete_warn.eq(new.warn),
            ))
            .execute(conn)?;
        let show = |s: Setting| {
            format!(
                "{} after {} days, warning {}",
                if s.enabled { "on" } else { "off" },
                s.days,
                if s.warn { "on" } else { "off" }
            )
        };
        let detail = format!("{} -> {}", show(old), show(Setting { days, ..new }));
        audit::record(
            conn,
            &NewAuditEntry {
                detail,
                ..audit::by(by, "auto_delete_setting", now)
            },
        )?;
        Ok(())
    })
}

/// What the Advanced tab shows: users due now, and the next deletion day.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    pub due_now: i64,
    pub next_day: Option<NaiveDate>,
    pub next_count: i64,
    /// Users due on each of the next 30 days (today first), for the chart.
    pub next_days: Vec<(NaiveDate, i64)>,
}

/// A deactivated user as the sweeper sees them: id, email, deactivated at, language.
type Deactivated = (i64, String, NaiveDateTime, Option<String>);

fn deactivated(conn: &mut DbConn, account_id: i64) -> ServiceResult<Vec<Deactivated>> {
    let rows: Vec<(i64, String, Option<NaiveDateTime>, Option<String>)> = users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::status.eq(Status::Deactivated))
        .filter(users::is_room.eq(false))
        .select((users::id, users::email, users::deactivated_at, users::language))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, e, at, l)| at.map(|at| (id, e, at, l)))
        .collect())
}

pub fn overview(conn: &mut DbConn, account_id: i64, now: NaiveDateTime) -> ServiceResult<Overview> {
    let s = setting(conn, account_id)?;
    let mut o = Overview::default();
    let mut days: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for (_, _, at, _) in deactivated(conn, account_id)? {
        let when = deletion_time(at, s.days);
        if when <= now {
            o.due_now += 1;
        } else {
            *days.entry(when.date()).or_default() += 1;
        }
    }
    if let Some((day, n)) = days.iter().next() {
        o.next_day = Some(*day);
        o.next_count = *n;
    }
    o.next_days = (0..30)
        .map(|i| now.date() + chrono::Duration::days(i))
        .map(|d| (d, days.get(&d).copied().unwrap_or(0)))
        .collect();
    Ok(o)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub deleted: usize,
    pub skipped: usize,
    pub warnings: usize,
}

/// One pass over every account with the setting on: delete the due users
/// (R23: a full delete without transfer, audited as "automatic"), then queue
/// the warnings (R22). Safe to run in several processes at once: each user
/// is locked before it is deleted, each warning has a unique key.
pub fn sweep(conn: &mut DbConn, now: NaiveDateTime) -> ServiceResult<SweepReport> {
    let mut report = SweepReport::default();
    let enabled: Vec<Account> = accounts::table
        .filter(accounts::auto_delete_enabled.eq(true))
        .select(Account::as_select())
        .load(conn)?;
    for account in enabled {
        delete_due(conn, &account, now, &mut report)?;
        if account.auto_delete_warn {
            report.warnings += queue_warnings(conn, &account, now)?;
        }
    }
    Ok(report)
}

/// The sweeper as the audit log names it: no user, acting for the account.
fn sweeper(account_id: i64) -> ActorInfo {
    ActorInfo {
        actor: Actor {
            id: 0,
            role: Role::Owner,
            custom_bulk_privilege: false,
        },
        account_id,
        email: "automatic".into(),
        lang: crate::i18n::Lang::En,
        via_api: false,
        via_scim: false,
    }
}

/// Deletes the account's users due by its setting (R23), 200 per transaction.
fn delete_due(conn: &mut DbConn, account: &Account, now: NaiveDateTime, report: &mut SweepReport) -> ServiceResult<()> {
    let cutoff = due_cutoff(account.auto_delete_days, now);
    let due: Vec<i64> = users::table
        .filter(users::account_id.eq(account.id))
        // A literal, so that SQLite may use the partial index on
        // `status = 'deactivated'` (with QPSG it never matches a bound value).
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "users.status = 'deactivated'",
        ))
        .filter(users::deactivated_at.le(cutoff))
        .select(users::id)
        .load(conn)?;
    let by = sweeper(account.id);
    let domains = managed_domains(conn, account.id)?;
    let transfer = Transfer::default();
    let run = Run {
        by: &by,
        action: Action::Delete,
        transfer: &transfer,
        origin: Origin {
            mode: Mode::Automatic,
            job_id: None,
        },
        batch: &[],
        domains: &domains,
        now,
    };
    for chunk in due.chunks(200) {
        // Counted per try: a retried transaction counts afresh.
        let (deleted, skipped) = crate::db::write_transaction(conn, |conn| {
            let (mut deleted, mut skipped) = (0, 0);
            for id in chunk {
                match delete_if_still_due(conn, &run, *id, cutoff) {
                    Ok(_) => deleted += 1,
                    Err(ServiceError::NotFound) | Err(ServiceError::Refused(_)) => skipped += 1,
                    Err(e) => return Err(e),
                }
            }
            Ok((deleted, skipped))
        })?;
        report.deleted += deleted;
        report.skipped += skipped;
    }
    Ok(())
}

/// Locked and re-checked in one statement: a user reactivated meanwhile is
/// never deleted, one deleted by another sweeper is not found.
fn delete_if_still_due(
    conn: &mut DbConn,
    run: &Run<'_>,
    id: i64,
    cutoff: NaiveDateTime,
) -> ServiceResult<super::user_actions::Outcome> {
    crate::db::write_transaction(conn, |conn| {
        let still_due = diesel::update(
            users::table
                .filter(users::id.eq(id))
                .filter(users::status.eq(Status::Deactivated))
                .filter(users::deactivated_at.le(cutoff)),
        )
        .set(users::session_epoch.eq(users::session_epoch))
        .execute(conn)?;
        if still_due == 0 {
            return Err(ServiceError::NotFound);
        }
        perform_in(conn, run, id)
    })
}

/// Admins who have access to the setting (R22), with their language.
fn admins_with_access(conn: &mut DbConn, account_id: i64) -> ServiceResult<Vec<User>> {
    let admins: Vec<User> = users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::status.eq(Status::Active))
        .filter(users::role.eq(Role::Owner).or(users::role.eq(Role::Admin)))
        .select(User::as_select())
        .load(conn)?;
    let mut out = Vec::new();
    for u in admins {
        let actor = Actor {
            id: u.id,
            role: u.role,
            custom_bulk_privilege: false,
        };
        if may_change(conn, &u, &actor)? {
            out.push(u);
        }
    }
    Ok(out)
}

/// One warning per admin per deletion day, from 7 days before it.
fn queue_warnings(conn: &mut DbConn, account: &Account, now: NaiveDateTime) -> ServiceResult<usize> {
    let mut by_day: BTreeMap<NaiveDate, Vec<(String, NaiveDateTime)>> = BTreeMap::new();
    for (_, email, at, _) in deactivated(conn, account.id)? {
        let when = deletion_time(at, account.auto_delete_days);
        if when > now && in_warning_window(when.date(), now.date()) {
            by_day.entry(when.date()).or_default().push((email, when));
        }
    }
    if by_day.is_empty() {
        return Ok(0);
    }
    let admins = admins_with_access(conn, account.id)?;
    let mut queued = 0;
    for (day, list) in by_day {
        for admin in &admins {
            let key = format!("auto-delete-warning:{}:{}:{}", account.id, admin.id, day);
            let (subject, body) = warning_text(admin.language.as_deref(), day, &list);
            let inserted = crate::db::write_transaction(conn, |conn| {
                diesel::insert_into(mail_outbox::table)
                    .values((
                        mail_outbox::account_id.eq(account.id),
                        mail_outbox::dedupe_key.eq(&key),
                        mail_outbox::to_email.eq(&admin.email),
                        mail_outbox::subject.eq(&subject),
                        mail_outbox::body.eq(&body),
                        mail_outbox::created_at.eq(now),
                        mail_outbox::next_attempt_at.eq(now),
                    ))
                    .execute(conn)
            });
            match inserted {
                Ok(_) => queued += 1,
                // Already queued for this admin and day, by this or another sweeper.
                Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(queued)
}

/// The warning in the admin's language.
fn warning_text(lang: Option<&str>, day: NaiveDate, users: &[(String, NaiveDateTime)]) -> (String, String) {
    let list: String = users
        .iter()
        .map(|(e, when)| format!("  - {e} ({})\n", when.format("%Y-%m-%d %H:%M UTC")))
        .collect();
    let n = users.len();
    match lang.unwrap_or("en") {
        "nl" => (
            format!("Offboard: {n} gedeactiveerde gebruikers worden op {day} permanent verwijderd"),
            format!("Deze gedeactiveerde gebruikers worden over hoogstens {WARN_DAYS} dagen, op {day}, permanent verwijderd:\n\n{list}\nActiveer een gebruiker om dit te voorkomen, of wijzig de instelling op het tabblad Geavanceerd.\n"),
        ),
        "id" => (
            format!("Offboard: {n} pengguna yang dinonaktifkan akan dihapus secara permanen pada {day}"),
            format!("Pengguna yang dinonaktifkan berikut akan dihapus secara permanen dalam {WARN_DAYS} hari, pada {day}:\n\n{list}\nAktifkan kembali pengguna untuk mencegahnya, atau ubah pengaturan di tab Lanjutan.\n"),
        ),
        _ => (
            format!("Offboard: {n} deactivated users will be permanently deleted on {day}"),
            format!("These deactivated users will be permanently deleted within {WARN_DAYS} days, on {day}:\n\n{list}\nActivate a user to keep them, or change the setting on the Advanced tab.\n"),
        ),
    }
}
