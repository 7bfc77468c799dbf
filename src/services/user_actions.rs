//! Deactivate, activate, unlink and delete one user, with the data transfer
//! (R10-R14, R30-R32, R40-R46, R50-R53). Each call is one transaction: the
//! rules are checked on rows read inside it, so a change made by another
//! admin between dialog and confirm is seen, and a refusal changes nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{NewAccount, NewAuditEntry, User};
use crate::db::schema::*;
use crate::db::DbConn;
use crate::domain::{
    check_action, check_role_change, check_transfer, Action, Role, Status, TransferChoice, TransferTarget,
};

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
    let facts = found.as_ref().map(|t| TransferTarget {
        id: t.id,
        status: Status::parse(&t.status).unwrap_or(Status::Pending),
        same_account: t.account_id == account_id,
        licensed: t.user_type == "licensed",
        webinar_license: t.webinar_license,
    });
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
fn move_data(conn: &mut DbConn, from: &[i64], to: i64, choice: &TransferChoice) -> ServiceResult<Moved> {
    let mut moved = Moved::default();
    if choice.meetings {
        moved.meetings = diesel::update(
            meetings::table
                .filter(meetings::owner_id.eq_any(from))
                .filter(meetings::uses_pmi.eq(false)),
        )
        .set(meetings::owner_id.eq(to))
        .execute(conn)? as i64;
    }
    if choice.webinars {
        moved.webinars = diesel::update(webinars::table.filter(webinars::owner_id.eq_any(from)))
            .set(webinars::owner_id.eq(to))
            .execute(conn)? as i64;
    }
    if choice.events {
        moved.events = diesel::update(events::table.filter(events::owner_id.eq_any(from)))
            .set(events::owner_id.eq(to))
            .execute(conn)? as i64;
    }
    if choice.recordings {
        moved.recordings = diesel::update(cloud_recordings::table.filter(cloud_recordings::owner_id.eq_any(from)))
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
            users::status.eq(Status::Deactivated.as_str()),
            users::user_type.eq("basic"),
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

fn removed_licenses(user: &User) -> String {
    let mut l = vec![user.user_type.clone()];
    for (has, name) in [
        (user.webinar_license, "webinar"),
        (user.phone_license, "phone"),
        (user.large_meeting_license, "large meetings"),
    ] {
        if has {
            l.push(name.into());
        }
    }
    l.join(", ")
}

/// R14: back to active as Basic; licenses are not restored.
fn activate(conn: &mut DbConn, user: &User) -> ServiceResult<String> {
    diesel::update(users::table.find(user.id))
        .set((
            users::status.eq(Status::Active.as_str()),
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
            users::role.eq("owner"),
            users::custom_role_id.eq(None::<i64>),
            users::user_type.eq("basic"),
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

fn delete_detail(left: &DataSummary) -> String {
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

/// Why [`deactivate_many`] gave up on a batch: a row changed under it. The
/// caller rolls the batch's savepoint back and goes user by user.
pub const CHANGED_UNDER_US: &str = "a user changed during the batch";

/// Deactivates many users in a few statements: the rules are checked per
/// user in memory, then one compare-and-set UPDATE changes exactly the
/// allowed users (still active members), and one insert writes their audit
/// rows. Call it inside a savepoint: if the UPDATE does not match every
/// allowed user, it returns `Invalid(CHANGED_UNDER_US)` and the caller rolls
/// back and falls back to [`perform_in`]. Refusals come back per user.
pub fn deactivate_many(
    conn: &mut DbConn,
    run: &Run<'_>,
    user_ids: &[i64],
) -> ServiceResult<Vec<(i64, ServiceResult<Outcome>)>> {
    let by = run.by;
    let found: Vec<User> = users::table
        .filter(users::account_id.eq(by.account_id))
        .filter(users::id.eq_any(user_ids))
        .select(User::as_select())
        .load(conn)?;
    let mut results = Vec::with_capacity(user_ids.len());
    let mut allowed: Vec<&User> = Vec::new();
    for id in user_ids {
        match found.iter().find(|u| u.id == *id) {
            None => results.push((*id, Err(ServiceError::NotFound))),
            Some(u) => match check_action(
                &by.actor,
                &user_queries::target_of(u, run.domains),
                Action::Deactivate,
                run.origin.mode,
            ) {
                Ok(()) => allowed.push(u),
                Err(r) => results.push((*id, Err(ServiceError::Refused(r)))),
            },
        }
    }
    if allowed.is_empty() {
        return Ok(results);
    }
    let ids: Vec<i64> = allowed.iter().map(|u| u.id).collect();
    let changed = diesel::update(
        users::table
            .filter(users::id.eq_any(&ids))
            .filter(users::account_id.eq(by.account_id))
            .filter(users::status.eq(Status::Active.as_str()))
            .filter(users::role.eq(Role::Member.as_str())),
    )
    .set((
        users::status.eq(Status::Deactivated.as_str()),
        users::user_type.eq("basic"),
        users::webinar_license.eq(false),
        users::phone_license.eq(false),
        users::large_meeting_license.eq(false),
        users::deactivated_at.eq(Some(run.now)),
        users::session_epoch.eq(users::session_epoch + 1),
    ))
    .execute(conn)?;
    if changed != ids.len() {
        return Err(ServiceError::Invalid(CHANGED_UNDER_US.into()));
    }
    let external: Vec<i64> = allowed.iter().filter(|u| u.is_external).map(|u| u.id).collect();
    if !external.is_empty() {
        diesel::update(users::table.filter(users::id.eq_any(&external)))
            .set(users::custom_role_id.eq(None::<i64>))
            .execute(conn)?;
    }
    let entries: Vec<NewAuditEntry> = allowed
        .iter()
        .map(|u| NewAuditEntry {
            target_id: Some(u.id),
            target_email: u.email.clone(),
            source: run.origin.source().into(),
            job_id: run.origin.job_id,
            detail: format!("licenses removed: {}", removed_licenses(u)),
            ..audit::by(by, Action::Deactivate.as_str(), run.now)
        })
        .collect();
    for chunk in entries.chunks(1_000) {
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(audit_log::table).values(chunk).execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(audit_log::table).values(chunk).execute(c)?,
        };
    }
    for u in allowed {
        results.push((
            u.id,
            Ok(Outcome {
                action: Action::Deactivate,
                email: u.email.clone(),
                moved: Moved::default(),
                transfer_to: None,
            }),
        ));
    }
    // In the order asked for.
    let position: std::collections::HashMap<i64, usize> = user_ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    results.sort_by_key(|(id, _)| position.get(id).copied().unwrap_or(usize::MAX));
    Ok(results)
}

/// Counts per owner, for the rows of `table` whose owner is in `ids`.
macro_rules! counts_by_owner {
    ($conn:expr, $table:ident, $ids:expr $(, $filter:expr)?) => {{
        let rows: Vec<(i64, i64)> = $table::table
            .filter($table::owner_id.eq_any($ids))
            $(.filter($filter))?
            .group_by($table::owner_id)
            .select(($table::owner_id, diesel::dsl::count_star()))
            .load($conn)?;
        rows.into_iter().collect::<std::collections::HashMap<i64, i64>>()
    }};
}

/// Deletes many users in a few statements, each with its own transfer
/// (R40-R46, R50-R53). Like [`deactivate_many`]: rules and transfer targets
/// are checked per user in memory, the changes are set-based, and if a user
/// or a target changed under it, it returns `Invalid(CHANGED_UNDER_US)` for
/// the caller to roll back and go user by user.
pub fn delete_many(
    conn: &mut DbConn,
    run: &Run<'_>,
    items: &[(i64, Transfer)],
) -> ServiceResult<Vec<(i64, ServiceResult<Outcome>)>> {
    use std::collections::HashMap;
    let by = run.by;
    let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
    let found: HashMap<i64, User> = users::table
        .filter(users::account_id.eq(by.account_id))
        .filter(users::id.eq_any(&ids))
        .select(User::as_select())
        .load::<User>(conn)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut target_emails: Vec<String> = items
        .iter()
        .filter(|(_, t)| t.choice.any())
        .filter_map(|(_, t)| t.to_email.as_deref().map(|e| e.trim().to_lowercase()))
        .collect();
    target_emails.sort_unstable();
    target_emails.dedup();
    let targets: HashMap<String, User> = users::table
        .filter(users::email.eq_any(&target_emails))
        .select(User::as_select())
        .load::<User>(conn)?
        .into_iter()
        .map(|u| (u.email.clone(), u))
        .collect();
    let mut results: Vec<(i64, ServiceResult<Outcome>)> = Vec::with_capacity(items.len());
    // (user, target) of every user allowed.
    let mut allowed: Vec<(&User, Option<&User>, TransferChoice)> = Vec::new();
    for (id, transfer) in items {
        let Some(user) = found.get(id) else {
            results.push((*id, Err(ServiceError::NotFound)));
            continue;
        };
        let target = transfer
            .to_email
            .as_deref()
            .and_then(|e| targets.get(&e.trim().to_lowercase()));
        let facts = target.map(|t| TransferTarget {
            id: t.id,
            status: Status::parse(&t.status).unwrap_or(Status::Pending),
            same_account: t.account_id == by.account_id,
            licensed: t.user_type == "licensed",
            webinar_license: t.webinar_license,
        });
        // A target deleted in this same batch would take the data down with it.
        let in_batch: Vec<i64> = target
            .iter()
            .map(|t| t.id)
            .filter(|t| *t != user.id && (ids.contains(t) || run.batch.binary_search(t).is_ok()))
            .collect();
        let verdict = check_action(
            &by.actor,
            &user_queries::target_of(user, run.domains),
            Action::Delete,
            run.origin.mode,
        )
        .and_then(|()| check_transfer(user.id, &transfer.choice, facts.as_ref(), &in_batch));
        match verdict {
            Ok(()) => allowed.push((user, target.filter(|_| transfer.choice.any()), transfer.choice)),
            Err(r) => results.push((*id, Err(ServiceError::Refused(r)))),
        }
    }
    if allowed.is_empty() {
        return Ok(results);
    }
    let gone: Vec<i64> = allowed.iter().map(|(u, _, _)| u.id).collect();
    // Lock the targets, still active: else someone changed them meanwhile.
    let mut target_ids: Vec<i64> = allowed.iter().filter_map(|(_, t, _)| t.map(|t| t.id)).collect();
    target_ids.sort_unstable();
    target_ids.dedup();
    if !target_ids.is_empty() {
        let locked = diesel::update(
            users::table
                .filter(users::id.eq_any(&target_ids))
                .filter(users::status.eq(Status::Active.as_str())),
        )
        .set(users::session_epoch.eq(users::session_epoch))
        .execute(conn)?;
        if locked != target_ids.len() {
            return Err(ServiceError::Invalid(CHANGED_UNDER_US.into()));
        }
    }
    let meetings_all = counts_by_owner!(conn, meetings, &gone);
    let meetings_pmi = counts_by_owner!(conn, meetings, &gone, meetings::uses_pmi.eq(true));
    let webinars_n = counts_by_owner!(conn, webinars, &gone);
    let events_n = counts_by_owner!(conn, events, &gone);
    let recordings_n = counts_by_owner!(conn, cloud_recordings, &gone);
    let phones: HashMap<i64, i64> = phone_records::table
        .filter(phone_records::user_id.eq_any(&gone))
        .group_by(phone_records::user_id)
        .select((phone_records::user_id, diesel::dsl::count_star()))
        .load::<(Option<i64>, i64)>(conn)?
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, n)))
        .collect();
    let n = |m: &HashMap<i64, i64>, id: i64| m.get(&id).copied().unwrap_or(0);

    // Transfers, one statement per kind and target.
    let mut groups: HashMap<(i64, [bool; 4]), Vec<i64>> = HashMap::new();
    for (u, t, c) in &allowed {
        if let Some(t) = t {
            groups
                .entry((t.id, [c.meetings, c.webinars, c.events, c.recordings]))
                .or_default()
                .push(u.id);
        }
    }
    for ((to, [meetings, webinars, events, recordings]), from) in &groups {
        let choice = TransferChoice {
            meetings: *meetings,
            webinars: *webinars,
            events: *events,
            recordings: *recordings,
        };
        move_data(conn, from, *to, &choice)?;
    }
    // R45: phone records stay in the account's log; R40: the rest goes.
    diesel::update(phone_records::table.filter(phone_records::user_id.eq_any(&gone)))
        .set(phone_records::user_id.eq(None::<i64>))
        .execute(conn)?;
    diesel::delete(meetings::table.filter(meetings::owner_id.eq_any(&gone))).execute(conn)?;
    diesel::delete(webinars::table.filter(webinars::owner_id.eq_any(&gone))).execute(conn)?;
    diesel::delete(events::table.filter(events::owner_id.eq_any(&gone))).execute(conn)?;
    diesel::delete(cloud_recordings::table.filter(cloud_recordings::owner_id.eq_any(&gone))).execute(conn)?;
    let deleted = diesel::delete(
        users::table
            .filter(users::id.eq_any(&gone))
            .filter(users::account_id.eq(by.account_id))
            .filter(users::role.eq(Role::Member.as_str()))
            .filter(users::is_room.eq(false))
            .filter(users::status.ne(Status::Pending.as_str())),
    )
    .execute(conn)?;
    if deleted != gone.len() {
        return Err(ServiceError::Invalid(CHANGED_UNDER_US.into()));
    }
    let mut entries = Vec::with_capacity(allowed.len());
    for (u, t, c) in &allowed {
        let id = u.id;
        let moved = Moved {
            meetings: if c.meetings && t.is_some() {
                n(&meetings_all, id) - n(&meetings_pmi, id)
            } else {
                0
            },
            webinars: if c.webinars && t.is_some() {
                n(&webinars_n, id)
            } else {
                0
            },
            events: if c.events && t.is_some() { n(&events_n, id) } else { 0 },
            recordings: if c.recordings && t.is_some() {
                n(&recordings_n, id)
            } else {
                0
            },
        };
        let left = DataSummary {
            meetings: n(&meetings_all, id) - moved.meetings,
            pmi_meetings: n(&meetings_pmi, id),
            webinars: n(&webinars_n, id) - moved.webinars,
            events: n(&events_n, id) - moved.events,
            recordings: n(&recordings_n, id) - moved.recordings,
            phone_records: n(&phones, id),
        };
        let transfer_to = t.map(|t| t.email.clone());
        entries.push(NewAuditEntry {
            target_id: Some(id),
            target_email: u.email.clone(),
            source: run.origin.source().into(),
            job_id: run.origin.job_id,
            transfer_to_email: transfer_to.clone(),
            meetings_transferred: moved.meetings as i32,
            webinars_transferred: moved.webinars as i32,
            events_transferred: moved.events as i32,
            recordings_transferred: moved.recordings as i32,
            detail: delete_detail(&left),
            ..audit::by(by, Action::Delete.as_str(), run.now)
        });
        results.push((
            id,
            Ok(Outcome {
                action: Action::Delete,
                email: u.email.clone(),
                moved,
                transfer_to,
            }),
        ));
    }
    for chunk in entries.chunks(1_000) {
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(audit_log::table).values(chunk).execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(audit_log::table).values(chunk).execute(c)?,
        };
    }
    let position: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    results.sort_by_key(|(id, _)| position.get(id).copied().unwrap_or(usize::MAX));
    Ok(results)
}
