//! Deactivate, activate, unlink and delete one user, with the data transfer
//! (R10-R14, R30-R32, R40-R46, R50-R53). Each call is one transaction: the
//! rules are checked on rows read inside it, so a change made by another
//! admin between dialog and confirm is seen, and a refusal changes nothing.

use crate::domain::UserType;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::lists::in_list;
use crate::db::models::{NewAccount, NewAuditEntry, User, UserFacts};
use crate::db::schema::*;
use crate::db::DbConn;
use crate::domain::{check_action, check_role_change, check_transfer, Action, Role, Status, TransferChoice};

use crate::domain::webhooks::EventKind;

use super::{audit, users as user_queries, ActorInfo, Origin, ServiceError, ServiceResult};

#[derive(Debug, Clone, Default)]
pub struct Transfer {
    pub choice: TransferChoice,
    pub to_email: Option<String>,
}

/// What a user owns, shown in the dialog before the admin confirms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataSummary {
    pub meetings: i64,
    pub pmi_meetings: i64,
    pub webinars: i64,
    pub events: i64,
    pub recordings: i64,
    pub phone_records: i64,
}

pub fn data_summary(conn: &mut DbConn, user_id: i64) -> ServiceResult<DataSummary> {
    let count = |n: QueryResult<i64>| n.map_err(ServiceError::from);
    Ok(DataSummary {
        meetings: count(
            meetings::table
                .filter(meetings::owner_id.eq(user_id))
                .count()
                .get_result(conn),
        )?,
        pmi_meetings: count(
            meetings::table
                .filter(meetings::owner_id.eq(user_id))
                .filter(meetings::uses_pmi.eq(true))
                .count()
                .get_result(conn),
        )?,
        webinars: count(
            webinars::table
                .filter(webinars::owner_id.eq(user_id))
                .count()
                .get_result(conn),
        )?,
        events: count(
            events::table
                .filter(events::owner_id.eq(user_id))
                .count()
                .get_result(conn),
        )?,
        recordings: count(
            cloud_recordings::table
                .filter(cloud_recordings::owner_id.eq(user_id))
                .count()
                .get_result(conn),
        )?,
        phone_records: count(
            phone_records::table
                .filter(phone_records::user_id.eq(user_id))
                .count()
                .get_result(conn),
        )?,
    })
}

/// The chosen heir of a leaver's data: what they own now and would own
/// after the transfer (PMI meetings never move, R42).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heir {
    pub email: String,
    pub now: DataSummary,
    pub after: DataSummary,
}

/// The transfer's target as it stands, for the dialogs: what it will own
/// afterwards, or why it cannot take the chosen data (R50-R53).
pub fn heir(conn: &mut DbConn, account_id: i64, leaver_id: i64, transfer: &Transfer) -> ServiceResult<Heir> {
    let leaver = user_queries::find_in_account(conn, account_id, leaver_id)?;
    let email = transfer.to_email.as_deref().map(str::trim).unwrap_or("");
    let found = match email {
        "" => None,
        e => user_queries::find_any_by_email(conn, e)?,
    };
    let facts = found.as_ref().map(|t| user_queries::transfer_target(t, account_id));
    let any = TransferChoice {
        meetings: true,
        ..transfer.choice
    };
    check_transfer(leaver.id, &any, facts.as_ref(), &[])?;
    let target = found.ok_or(ServiceError::Refused(crate::domain::Refusal::TargetMissing))?;
    let (from, now) = (data_summary(conn, leaver.id)?, data_summary(conn, target.id)?);
    let c = &transfer.choice;
    let plus = |on: bool, n: i64| if on { n } else { 0 };
    let after = DataSummary {
        meetings: now.meetings + plus(c.meetings, from.meetings - from.pmi_meetings),
        webinars: now.webinars + plus(c.webinars, from.webinars),
        events: now.events + plus(c.events, from.events),
        recordings: now.recordings + plus(c.recordings, from.recordings),
        ..now
    };
    Ok(Heir {
        email: target.email,
        now,
        after,
    })
}

/// What an action did, for the flash message and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub action: Action,
    pub email: String,
    pub moved: Moved,
    pub transfer_to: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    pub meetings: i64,
    pub webinars: i64,
    pub events: i64,
    pub recordings: i64,
}

/// The user as the rules see them.
pub fn target_facts(conn: &mut DbConn, user: &User) -> ServiceResult<crate::domain::Target> {
    let domains = user_queries::managed_domains(conn, user.account_id)?;
    Ok(user_queries::target_of(user, &domains))
}

/// [`lock_user`] and load in one statement, limited to the account.
fn lock_in_account(conn: &mut DbConn, account_id: i64, user_id: i64) -> ServiceResult<User> {
    Ok(diesel::update(
        users::table
            .filter(users::id.eq(user_id))
            .filter(users::account_id.eq(account_id)),
    )
    .set(users::session_epoch.eq(users::session_epoch))
    .returning(users::all_columns)
    .get_result(conn)?)
}

/// Takes the write lock first: on PostgreSQL a row lock on the user, on
/// SQLite the database's write lock before any read, so the checks below
/// see the latest committed state and cannot be overtaken.
fn lock_user(conn: &mut DbConn, user_id: i64) -> ServiceResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::session_epoch.eq(users::session_epoch))
        .execute(conn)?;
    Ok(())
}

/// One action as asked for: by whom, how, with which transfer. A bulk job
/// builds it once for all its users.
#[derive(Clone, Copy)]
pub struct Run<'a> {
    pub by: &'a ActorInfo,
    pub action: Action,
    pub transfer: &'a Transfer,
    pub origin: Origin,
    /// Ids removed together with each user, sorted (R51).
    pub batch: &'a [i64],
    /// The account's managed domains (R31), loaded once per run.
    pub domains: &'a [String],
    pub now: NaiveDateTime,
}

/// Runs one action on one user in its own transaction.
pub fn perform(
    conn: &mut DbConn,
    by: &ActorInfo,
    user_id: i64,
    action: Action,
    transfer: &Transfer,
    origin: Origin,
    now: NaiveDateTime,
) -> ServiceResult<Outcome> {
    crate::db::write_transaction(conn, |conn| {
        let domains = user_queries::managed_domains(conn, by.account_id)?;
        let run = Run {
            by,
            action,
            transfer,
            origin,
            batch: &[],
            domains: &domains,
            now,
        };
        perform_in(conn, &run, user_id)
    })
}

/// The body of [`perform`] for a caller that already holds a transaction
/// (a savepoint per user in bulk actions and CSV jobs).
pub fn perform_in(conn: &mut DbConn, run: &Run<'_>, user_id: i64) -> ServiceResult<Outcome> {
    let (by, action, transfer, origin, now) = (run.by, run.action, run.transfer, run.origin, run.now);
    // Locks and loads in one statement; another account's user is "not found", never "refused".
    let user = lock_in_account(conn, by.account_id, user_id)?;
    let target = user_queries::target_of(&user, run.domains);
    check_action(&by.actor, &target, action, origin.mode)?;

    let mut moved = Moved::default();
    let mut transfer_to = None;
    if action.removes() && transfer.choice.any() {
        let to = resolve_transfer_target(conn, by.account_id, &user, transfer, run.batch)?;
        moved = move_data(conn, &[user.id], to.id, &transfer.choice)?;
        transfer_to = Some(to.email);
    }

    let detail = match action {
        Action::Deactivate => deactivate(conn, &user, now)?,
        Action::Activate => activate(conn, &user)?,
        Action::Unlink => {
            let left = data_summary(conn, user.id)?;
            unlink(conn, &user, &left, now)?
        }
        Action::Delete => {
            let left = data_summary(conn, user.id)?;
            delete(conn, &user, &left)?
        }
    };
    audit::record(
        conn,
        &NewAuditEntry {
            target_id: Some(user.id),
            target_email: user.email.clone(),
            source: by.source(&origin).into(),
            job_id: origin.job_id,
            transfer_to_email: transfer_to.clone(),
            meetings_transferred: moved.meetings as i32,
            webinars_transferred: moved.webinars as i32,
            events_transferred: moved.events as i32,
            recordings_transferred: moved.recordings as i32,
            detail,
            ..audit::by(by, action.as_str(), now)
        },
    )?;
    // The webhook event, in the same transaction as the act and its audit row.
    super::webhooks::emit(conn, by, EventKind::of(action), &[&user], now)?;
    Ok(Outcome {
        action,
        email: user.email,
        moved,
        transfer_to,
    })
}

fn resolve_transfer_target(
    conn: &mut DbConn,
    account_id: i64,
    user: &User,
    transfer: &Transfer,
    batch: &[i64],
) -> ServiceResult<User> {
    let email = transfer.to_email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let found = match email {
        Some(e) => user_queries::find_any_by_email(conn, e)?,
        None => None,
    };
    if let Some(t) = &found {
        lock_user(conn, t.id)?;
    }
    let facts = found.as_ref().map(|t| user_queries::transfer_target(t, account_id));
    let in_batch: &[i64] = match &found {
        Some(t) if t.id != user.id && batch.binary_search(&t.id).is_ok() => std::slice::from_ref(&t.id),
        _ => &[],
    };
    check_transfer(user.id, &transfer.choice, facts.as_ref(), in_batch)?;
    // check_transfer refused a missing target, so there is one here.
    found.ok_or(ServiceError::Refused(crate::domain::Refusal::TargetMissing))
}

/// Hands the chosen kinds of data to `to`. Meetings on the Personal Meeting
/// ID stay behind: they cannot be transferred (R42).
/// Returns how many of each kind moved, all `from` users together.
pub(super) fn move_data(conn: &mut DbConn, from: &[i64], to: i64, choice: &TransferChoice) -> ServiceResult<Moved> {
    let mut moved = Moved::default();
    if choice.meetings {
        moved.meetings = diesel::update(
            meetings::table
                .filter(in_list(meetings::owner_id, from))
                .filter(meetings::uses_pmi.eq(false)),
        )
        .set(meetings::owner_id.eq(to))
        .execute(conn)? as i64;
    }
    if choice.webinars {
        moved.webinars = diesel::update(webinars::table.filter(in_list(webinars::owner_id, from)))
            .set(webinars::owner_id.eq(to))
            .execute(conn)? as i64;
    }
    if choice.events {
        moved.events = diesel::update(events::table.filter(in_list(events::owner_id, from)))
            .set(events::owner_id.eq(to))
            .execute(conn)? as i64;
    }
    if choice.recordings {
        moved.recordings = diesel::update(cloud_recordings::table.filter(in_list(cloud_recordings::owner_id, from)))
            .set(cloud_recordings::owner_id.eq(to))
            .execute(conn)? as i64;
    }
    Ok(moved)
}

/// R10, R13: every license goes, settings stay, sessions end (R11).
/// An external user also loses the custom role they held here.
fn deactivate(conn: &mut DbConn, user: &User, now: NaiveDateTime) -> ServiceResult<String> {
    diesel::update(users::table.find(user.id))
        .set((
            users::status.eq(Status::Deactivated),
            users::user_type.eq(UserType::Basic),
            users::webinar_license.eq(false),
            users::phone_license.eq(false),
            users::large_meeting_license.eq(false),
            users::deactivated_at.eq(Some(now)),
            users::session_epoch.eq(users::session_epoch + 1),
        ))
        .execute(conn)?;
    if user.is_external {
        diesel::update(users::table.find(user.id))
            .set(users::custom_role_id.eq(None::<i64>))
            .execute(conn)?;
    }
    Ok(format!("licenses removed: {}", removed_licenses(user)))
}

pub(super) fn removed_licenses(user: &impl UserFacts) -> String {
    let mut l = vec![user.user_type().as_str()];
    for (has, name) in [
        (user.webinar_license(), "webinar"),
        (user.phone_license(), "phone"),
        (user.large_meeting_license(), "large meetings"),
    ] {
        if has {
            l.push(name);
        }
    }
    l.join(", ")
}

/// R14: back to active as Basic; licenses are not restored.
fn activate(conn: &mut DbConn, user: &User) -> ServiceResult<String> {
    diesel::update(users::table.find(user.id))
        .set((
            users::status.eq(Status::Active),
            users::deactivated_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok("reactivated as Basic; licenses not restored".into())
}

/// R30, R32, R53: the user becomes owner of a new free basic account and
/// takes along what was not transferred. Phone records stay in this
/// account's log (R45). An external user's access here simply ends: the
/// new free account stands for the account of their own.
fn unlink(conn: &mut DbConn, user: &User, left: &DataSummary, now: NaiveDateTime) -> ServiceResult<String> {
    let name = format!("{}'s account", user.email);
    let new_account: i64 = diesel::insert_into(accounts::table)
        .values(&NewAccount {
            name: &name,
            is_free: true,
            created_at: now,
        })
        .returning(accounts::id)
        .get_result(conn)?;
    diesel::update(phone_records::table.filter(phone_records::user_id.eq(user.id)))
        .set(phone_records::user_id.eq(None::<i64>))
        .execute(conn)?;
    diesel::update(users::table.find(user.id))
        .set((
            users::account_id.eq(new_account),
            users::role.eq(Role::Owner),
            users::custom_role_id.eq(None::<i64>),
            users::user_type.eq(UserType::Basic),
            users::webinar_license.eq(false),
            users::phone_license.eq(false),
            users::large_meeting_license.eq(false),
            users::is_external.eq(false),
            users::session_epoch.eq(users::session_epoch + 1),
        ))
        .execute(conn)?;
    Ok(format!(
        "moved to a new free account with {} meetings, {} webinars, {} events, {} recordings",
        left.meetings, left.webinars, left.events, left.recordings
    ))
}

/// R40-R46: the user and what was not transferred are gone (foreign keys
/// cascade), the email is free again (R41); phone records stay in the
/// account's log with the email kept (R45).
fn delete(conn: &mut DbConn, user: &User, left: &DataSummary) -> ServiceResult<String> {
    diesel::update(phone_records::table.filter(phone_records::user_id.eq(user.id)))
        .set(phone_records::user_id.eq(None::<i64>))
        .execute(conn)?;
    // Children first: SQLite enforces the cascade only with foreign_keys on,
    // and being explicit costs nothing.
    diesel::delete(meetings::table.filter(meetings::owner_id.eq(user.id))).execute(conn)?;
    diesel::delete(webinars::table.filter(webinars::owner_id.eq(user.id))).execute(conn)?;
    diesel::delete(events::table.filter(events::owner_id.eq(user.id))).execute(conn)?;
    diesel::delete(cloud_recordings::table.filter(cloud_recordings::owner_id.eq(user.id))).execute(conn)?;
    diesel::delete(users::table.find(user.id)).execute(conn)?;
    Ok(delete_detail(left))
}

pub(super) fn delete_detail(left: &DataSummary) -> String {
    format!(
        "deleted {} meetings ({} on the PMI), {} webinars, {} events, {} recordings; kept {} phone records",
        left.meetings, left.pmi_meetings, left.webinars, left.events, left.recordings, left.phone_records
    )
}

/// Edit -> User role (R3): admin to member and back. The user's sessions end
/// so the new role applies at once.
pub fn change_role(
    conn: &mut DbConn,
    by: &ActorInfo,
    user_id: i64,
    new_role: Role,
    now: NaiveDateTime,
) -> ServiceResult<String> {
    crate::db::write_transaction(conn, |conn| {
        lock_user(conn, user_id)?;
        let user = user_queries::find_in_account(conn, by.account_id, user_id)?;
        let target = target_facts(conn, &user)?;
        check_role_change(&by.actor, &target, new_role)?;
        if target.role == new_role {
            return Ok(user.email);
        }
        diesel::update(users::table.find(user.id))
            .set((
                users::role.eq(new_role.as_str()),
                users::session_epoch.eq(users::session_epoch + 1),
            ))
            .execute(conn)?;
        // Custom roles are an admin's: a member keeps none (and none of its privileges).
        if new_role == Role::Member {
            diesel::update(users::table.find(user.id))
                .set(users::custom_role_id.eq(None::<i64>))
                .execute(conn)?;
        }
        let entry = NewAuditEntry {
            target_id: Some(user.id),
            target_email: user.email.clone(),
            detail: format!("{} -> {}", target.role.as_str(), new_role.as_str()),
            ..audit::by(by, "change_role", now)
        };
        audit::record(conn, &entry)?;
        super::webhooks::emit(conn, by, EventKind::Updated, &[&user], now)?;
        Ok(user.email)
    })
}

/// The Edit dialog's Save: the user role, and for the owner the custom role
/// (`Some(None)` takes it away), in one transaction.
pub fn edit_user(
    conn: &mut DbConn,
    by: &ActorInfo,
    user_id: i64,
    new_role: Role,
    custom_role: Option<Option<i64>>,
    now: NaiveDateTime,
) -> ServiceResult<String> {
    crate::db::write_transaction(conn, |conn| {
        let email = change_role(conn, by, user_id, new_role, now)?;
        if let Some(role_id) = custom_role {
            super::roles::assign_role(conn, by, user_id, role_id.filter(|_| new_role == Role::Admin), now)?;
        }
        Ok(email)
    })
}
