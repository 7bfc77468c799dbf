//! Many users in one go, for bulk actions and CSV jobs alike: deactivate
//! and delete run set-based (rules checked per user in memory, a few
//! statements for the whole batch); if any user changed under the batch,
//! its savepoint rolls back and every user goes through [`perform_in`] on
//! their own. One function, [`apply_many`], holds that fallback.

use crate::domain::UserType;
use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::lists::in_list;
use crate::db::models::{NewAuditEntry, UserListing};
use crate::db::schema::*;
use crate::db::{write_transaction, DbConn};
use crate::domain::webhooks::EventKind;
use crate::domain::{check_action, check_transfer, Action, Role, Status, TransferChoice};

use super::user_actions::{
    delete_detail, move_data, perform_in, removed_licenses, DataSummary, Moved, Outcome, Run, Transfer,
};
use super::users::{target_of, transfer_target};
use super::{audit, ServiceError, ServiceResult};

/// What one user of a batch came to, in the order asked for.
pub type Results = Vec<(i64, ServiceResult<Outcome>)>;

/// Applies `run.action` to each `(user, transfer)`: set-based where it can,
/// else (or when a user changed under the batch) user by user, each in its
/// own savepoint so one user's failure changes nothing of theirs.
pub fn apply_many(conn: &mut DbConn, run: &Run<'_>, items: &[(i64, Transfer)]) -> ServiceResult<Results> {
    if matches!(run.action, Action::Deactivate | Action::Delete) {
        let attempt = write_transaction(conn, |conn| match run.action {
            Action::Deactivate => deactivate_many(conn, run, items),
            _ => delete_many(conn, run, items),
        });
        match attempt {
            Err(ServiceError::ChangedUnderUs) => {}
            other => return other,
        }
    }
    let mut results = Vec::with_capacity(items.len());
    for (id, transfer) in items {
        let one = Run { transfer, ..*run };
        results.push((*id, write_transaction(conn, |conn| perform_in(conn, &one, *id))));
    }
    Ok(results)
}

/// Puts results back in the order of `ids`.
fn in_order(mut results: Results, ids: impl Iterator<Item = i64>) -> Results {
    let position: HashMap<i64, usize> = ids.enumerate().map(|(i, id)| (id, i)).collect();
    results.sort_by_key(|(id, _)| position.get(id).copied().unwrap_or(usize::MAX));
    results
}

/// What the rules, the audit and the events read of each user: the
/// listing's columns, found by a statement cached by type.
fn load_users(conn: &mut DbConn, account_id: i64, ids: &[i64]) -> ServiceResult<HashMap<i64, UserListing>> {
    let q = users::table
        .filter(users::account_id.eq(account_id))
        .filter(in_list(users::id, ids));
    let found: Vec<UserListing> = crate::direct!(conn, q.select(UserListing::as_select()), load)?;
    Ok(found.into_iter().map(|u| (u.id, u)).collect())
}

/// Deactivates the allowed users with one compare-and-set UPDATE (still
/// active members) and one audit insert. Refusals come back per user; a
/// user who changed meanwhile gives [`ServiceError::ChangedUnderUs`].
fn deactivate_many(conn: &mut DbConn, run: &Run<'_>, items: &[(i64, Transfer)]) -> ServiceResult<Results> {
    let by = run.by;
    let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
    let found = load_users(conn, by.account_id, &ids)?;
    let mut results = Results::with_capacity(ids.len());
    let mut allowed: Vec<&UserListing> = Vec::new();
    for id in &ids {
        let Some(u) = found.get(id) else {
            results.push((*id, Err(ServiceError::NotFound)));
            continue;
        };
        match check_action(
            &by.actor,
            &target_of(u, run.domains),
            Action::Deactivate,
            run.origin.mode,
        ) {
            Ok(()) => allowed.push(u),
            Err(r) => results.push((*id, Err(r.into()))),
        }
    }
    if allowed.is_empty() {
        return Ok(results);
    }
    mark_deactivated(conn, run, &allowed)?;
    let entries: Vec<NewAuditEntry> = allowed
        .iter()
        .map(|u| NewAuditEntry {
            target_id: Some(u.id),
            target_email: u.email.clone(),
            source: run.origin.source().into(),
            job_id: run.origin.job_id,
            detail: format!("licenses removed: {}", removed_licenses(*u)),
            ..audit::by(by, Action::Deactivate.as_str(), run.now)
        })
        .collect();
    audit::record_many(conn, &entries)?;
    super::webhooks::emit(conn, by, EventKind::Deactivated, &allowed, run.now)?;
    results.extend(allowed.iter().map(|u| {
        let outcome = Outcome {
            action: Action::Deactivate,
            email: u.email.clone(),
            moved: Moved::default(),
            transfer_to: None,
        };
        (u.id, Ok(outcome))
    }));
    Ok(in_order(results, ids.into_iter()))
}

/// The compare-and-set UPDATE of [`deactivate_many`] (R10-R14).
fn mark_deactivated(conn: &mut DbConn, run: &Run<'_>, allowed: &[&UserListing]) -> ServiceResult<()> {
    let ids: Vec<i64> = allowed.iter().map(|u| u.id).collect();
    let changed = diesel::update(
        users::table
            .filter(in_list(users::id, &ids))
            .filter(users::account_id.eq(run.by.account_id))
            .filter(users::status.eq(Status::Active))
            .filter(users::role.eq(Role::Member)),
    )
    .set((
        users::status.eq(Status::Deactivated),
        users::user_type.eq(UserType::Basic),
        users::webinar_license.eq(false),
        users::phone_license.eq(false),
        users::large_meeting_license.eq(false),
        users::deactivated_at.eq(Some(run.now)),
        users::session_epoch.eq(users::session_epoch + 1),
    ))
    .execute(conn)?;
    if changed != ids.len() {
        return Err(ServiceError::ChangedUnderUs);
    }
    let external: Vec<i64> = allowed.iter().filter(|u| u.is_external).map(|u| u.id).collect();
    if !external.is_empty() {
        diesel::update(users::table.filter(in_list(users::id, &external)))
            .set(users::custom_role_id.eq(None::<i64>))
            .execute(conn)?;
    }
    Ok(())
}

/// A user allowed to go, with the target their data moves to.
struct Leaver<'a> {
    user: &'a UserListing,
    target: Option<&'a UserListing>,
    choice: TransferChoice,
}

/// Deletes many users in a few statements, each with its own transfer
/// (R40-R46, R50-R53): load and check, lock the targets, move the data,
/// delete, audit. A user or target that changed meanwhile gives
/// [`ServiceError::ChangedUnderUs`].
fn delete_many(conn: &mut DbConn, run: &Run<'_>, items: &[(i64, Transfer)]) -> ServiceResult<Results> {
    let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
    let found = load_users(conn, run.by.account_id, &ids)?;
    let targets = load_targets(conn, items)?;
    let (allowed, mut results) = check_leavers(run, items, &found, &targets);
    if allowed.is_empty() {
        return Ok(results);
    }
    lock_targets(conn, &allowed)?;
    let gone: Vec<i64> = allowed.iter().map(|l| l.user.id).collect();
    let owned = Owned::load(conn, &gone)?;
    move_to_targets(conn, &allowed)?;
    remove_users(conn, run, &gone)?;
    let mut entries = Vec::with_capacity(allowed.len());
    for leaver in &allowed {
        let (entry, outcome) = deleted(run, leaver, &owned);
        entries.push(entry);
        results.push((leaver.user.id, Ok(outcome)));
    }
    audit::record_many(conn, &entries)?;
    let users: Vec<&UserListing> = allowed.iter().map(|l| l.user).collect();
    super::webhooks::emit(conn, run.by, EventKind::Deleted, &users, run.now)?;
    Ok(in_order(results, ids.into_iter()))
}

/// The transfer targets named in `items`, by email.
fn load_targets(conn: &mut DbConn, items: &[(i64, Transfer)]) -> ServiceResult<HashMap<String, UserListing>> {
    let mut emails: Vec<String> = items
        .iter()
        .filter(|(_, t)| t.choice.any())
        .filter_map(|(_, t)| t.to_email.as_deref().map(|e| e.trim().to_lowercase()))
        .collect();
    emails.sort_unstable();
    emails.dedup();
    let q = users::table.filter(in_list(users::email, &emails));
    let found: Vec<UserListing> = crate::direct!(conn, q.select(UserListing::as_select()), load)?;
    Ok(found.into_iter().map(|u| (u.email.clone(), u)).collect())
}

/// The rules per user, in memory: who may go, and the refusals.
fn check_leavers<'a>(
    run: &Run<'_>,
    items: &'a [(i64, Transfer)],
    found: &'a HashMap<i64, UserListing>,
    targets: &'a HashMap<String, UserListing>,
) -> (Vec<Leaver<'a>>, Results) {
    let mut allowed = Vec::new();
    let mut refused = Results::new();
    for (id, transfer) in items {
        let Some(user) = found.get(id) else {
            refused.push((*id, Err(ServiceError::NotFound)));
            continue;
        };
        let target = transfer
            .to_email
            .as_deref()
            .and_then(|e| targets.get(&e.trim().to_lowercase()));
        let facts = target.map(|t| transfer_target(t, run.by.account_id));
        // A target deleted in this same batch would take the data down with it.
        let in_batch: Vec<i64> = target
            .iter()
            .map(|t| t.id)
            .filter(|t| *t != user.id && (found.contains_key(t) || run.batch.binary_search(t).is_ok()))
            .collect();
        let verdict = check_action(
            &run.by.actor,
            &target_of(user, run.domains),
            Action::Delete,
            run.origin.mode,
        )
        .and_then(|()| check_transfer(user.id, &transfer.choice, facts.as_ref(), &in_batch));
        match verdict {
            Ok(()) => allowed.push(Leaver {
                user,
                target: target.filter(|_| transfer.choice.any()),
                choice: transfer.choice,
            }),
            Err(r) => refused.push((*id, Err(r.into()))),
        }
    }
    (allowed, refused)
}

/// Locks the targets, still active: else someone changed them meanwhile.
fn lock_targets(conn: &mut DbConn, allowed: &[Leaver<'_>]) -> ServiceResult<()> {
    let mut ids: Vec<i64> = allowed.iter().filter_map(|l| l.target.map(|t| t.id)).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let locked = diesel::update(
        users::table
            .filter(in_list(users::id, &ids))
            .filter(users::status.eq(Status::Active)),
    )
    .set(users::session_epoch.eq(users::session_epoch))
    .execute(conn)?;
    if locked != ids.len() {
        return Err(ServiceError::ChangedUnderUs);
    }
    Ok(())
}

/// Counts per owner, for the rows of `table` whose owner is in `ids`.
macro_rules! counts_by_owner {
    ($conn:expr, $table:ident, $ids:expr $(, $filter:expr)?) => {{
        let rows: Vec<(i64, i64)> = $table::table
            .filter(in_list($table::owner_id, $ids))
            $(.filter($filter))?
            .group_by($table::owner_id)
            .select(($table::owner_id, diesel::dsl::count_star()))
            .load($conn)?;
        rows.into_iter().collect::<HashMap<i64, i64>>()
    }};
}

/// What the leavers own, per user, counted before anything moves.
struct Owned {
    meetings: HashMap<i64, i64>,
    pmi_meetings: HashMap<i64, i64>,
    webinars: HashMap<i64, i64>,
    events: HashMap<i64, i64>,
    recordings: HashMap<i64, i64>,
    phone_records: HashMap<i64, i64>,
}

impl Owned {
    fn load(conn: &mut DbConn, gone: &[i64]) -> ServiceResult<Owned> {
        let phone_records = phone_records::table
            .filter(in_list(phone_records::user_id, gone))
            .group_by(phone_records::user_id)
            .select((phone_records::user_id, diesel::dsl::count_star()))
            .load::<(Option<i64>, i64)>(conn)?
            .into_iter()
            .filter_map(|(id, n)| id.map(|id| (id, n)))
            .collect();
        Ok(Owned {
            meetings: counts_by_owner!(conn, meetings, gone),
            pmi_meetings: counts_by_owner!(conn, meetings, gone, meetings::uses_pmi.eq(true)),
            webinars: counts_by_owner!(conn, webinars, gone),
            events: counts_by_owner!(conn, events, gone),
            recordings: counts_by_owner!(conn, cloud_recordings, gone),
            phone_records,
        })
    }

    fn summary(&self, id: i64) -> DataSummary {
        let n = |m: &HashMap<i64, i64>| m.get(&id).copied().unwrap_or(0);
        DataSummary {
            meetings: n(&self.meetings),
            pmi_meetings: n(&self.pmi_meetings),
            webinars: n(&self.webinars),
            events: n(&self.events),
            recordings: n(&self.recordings),
            phone_records: n(&self.phone_records),
        }
    }
}

/// Transfers, one statement per kind and (target, choice).
fn move_to_targets(conn: &mut DbConn, allowed: &[Leaver<'_>]) -> ServiceResult<()> {
    let mut groups: HashMap<(i64, [bool; 4]), Vec<i64>> = HashMap::new();
    for l in allowed {
        if let Some(t) = l.target {
            let c = l.choice;
            groups
                .entry((t.id, [c.meetings, c.webinars, c.events, c.recordings]))
                .or_default()
                .push(l.user.id);
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
    Ok(())
}

/// R45: phone records stay in the account's log; R40: the rest goes, and
/// the users with it (still members, not rooms, not pending).
fn remove_users(conn: &mut DbConn, run: &Run<'_>, gone: &[i64]) -> ServiceResult<()> {
    diesel::update(phone_records::table.filter(in_list(phone_records::user_id, gone)))
        .set(phone_records::user_id.eq(None::<i64>))
        .execute(conn)?;
    diesel::delete(meetings::table.filter(in_list(meetings::owner_id, gone))).execute(conn)?;
    diesel::delete(webinars::table.filter(in_list(webinars::owner_id, gone))).execute(conn)?;
    diesel::delete(events::table.filter(in_list(events::owner_id, gone))).execute(conn)?;
    diesel::delete(cloud_recordings::table.filter(in_list(cloud_recordings::owner_id, gone))).execute(conn)?;
    let deleted = diesel::delete(
        users::table
            .filter(in_list(users::id, gone))
            .filter(users::account_id.eq(run.by.account_id))
            .filter(users::role.eq(Role::Member))
            .filter(users::is_room.eq(false))
            .filter(users::status.ne(Status::Pending)),
    )
    .execute(conn)?;
    if deleted != gone.len() {
        return Err(ServiceError::ChangedUnderUs);
    }
    Ok(())
}

/// The audit row and the outcome of one deleted user.
fn deleted(run: &Run<'_>, leaver: &Leaver<'_>, owned: &Owned) -> (NewAuditEntry, Outcome) {
    let had = owned.summary(leaver.user.id);
    let (c, to) = (leaver.choice, leaver.target.is_some());
    let moved = Moved {
        meetings: if c.meetings && to {
            had.meetings - had.pmi_meetings
        } else {
            0
        },
        webinars: if c.webinars && to { had.webinars } else { 0 },
        events: if c.events && to { had.events } else { 0 },
        recordings: if c.recordings && to { had.recordings } else { 0 },
    };
    let left = DataSummary {
        meetings: had.meetings - moved.meetings,
        webinars: had.webinars - moved.webinars,
        events: had.events - moved.events,
        recordings: had.recordings - moved.recordings,
        ..had
    };
    let transfer_to = leaver.target.map(|t| t.email.clone());
    let entry = NewAuditEntry {
        target_id: Some(leaver.user.id),
        target_email: leaver.user.email.clone(),
        source: run.origin.source().into(),
        job_id: run.origin.job_id,
        transfer_to_email: transfer_to.clone(),
        meetings_transferred: moved.meetings as i32,
        webinars_transferred: moved.webinars as i32,
        events_transferred: moved.events as i32,
        recordings_transferred: moved.recordings as i32,
        detail: delete_detail(&left),
        ..audit::by(run.by, Action::Delete.as_str(), run.now)
    };
    let outcome = Outcome {
        action: Action::Delete,
        email: leaver.user.email.clone(),
        moved,
        transfer_to,
    };
    (entry, outcome)
}
