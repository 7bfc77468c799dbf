//! Bulk actions on checked rows (R5, R44, R51, B2): a preview that says per
//! user what will happen or why not, then an apply that re-checks every
//! user and runs each in its own savepoint. The preview's allowed users are
//! stored under a token, so the confirm applies exactly those, once.

use crate::domain::RunState;
use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;

use crate::db::models::User;
use crate::db::schema::{bulk_runs, users};
use crate::db::DbConn;
use crate::domain::{check_action, check_transfer, Action, Mode, Refusal, TransferTarget};

use super::batch::apply_many;
use super::user_actions::{Run, Transfer};
use super::users::{managed_domains, target_of, UserQuery};
use super::{users as user_queries, ServiceError, ServiceResult};
use super::{ActorInfo, Origin};

/// "Select all matching" stops here: a bigger removal goes through a CSV job.
pub const MAX_SELECTION: usize = 100_000;
/// Users per transaction when applying; each user has its own savepoint.
const APPLY_BATCH: usize = 500;

/// One user of a preview.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub verdict: Result<(), Refusal>,
}

#[derive(Debug, Clone)]
pub struct Preview {
    pub token: String,
    pub action: Action,
    pub rows: Vec<PreviewRow>,
    pub allowed: usize,
    /// How many are skipped for each reason, most frequent first.
    pub skipped: Vec<(Refusal, usize)>,
}

/// The ids of every user matching the Users page's search and filter.
pub fn all_matching(
    conn: &mut DbConn,
    account_id: i64,
    query: &UserQuery,
    lang: crate::i18n::Lang,
) -> ServiceResult<Vec<i64>> {
    let mut ids = Vec::new();
    let mut q = UserQuery {
        after: None,
        ..query.clone()
    };
    loop {
        let page = user_queries::list_rows(conn, account_id, &q)?;
        ids.extend(page.users.iter().map(|u| u.id));
        if ids.len() > MAX_SELECTION {
            return Err(ServiceError::Invalid(crate::i18n::tr_args(
                lang,
                "bad-too-many",
                &[("count", MAX_SELECTION.to_string())],
            )));
        }
        match page.next_after {
            Some(after) => q.after = Some(after),
            None => return Ok(ids),
        }
    }
}

fn load_users(conn: &mut DbConn, account_id: i64, ids: &[i64]) -> ServiceResult<Vec<User>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        out.extend(
            users::table
                .filter(users::account_id.eq(account_id))
                .filter(users::id.eq_any(chunk))
                .select(User::as_select())
                .load::<User>(conn)?,
        );
    }
    out.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(out)
}

/// Checks every selected user (ids of other accounts are simply not found)
/// and, when a transfer is chosen, its target against the whole batch.
/// Stores the allowed users under a new token.
pub fn preview(
    conn: &mut DbConn,
    by: &ActorInfo,
    action: Action,
    ids: &[i64],
    transfer: &Transfer,
    now: NaiveDateTime,
) -> ServiceResult<Preview> {
    if !by.actor.has_bulk_privilege() {
        return Err(Refusal::NoBulkPrivilege.into());
    }
    if ids.is_empty() {
        return Err(ServiceError::Invalid(crate::i18n::tr(by.lang, "bad-select-one")));
    }
    let users = load_users(conn, by.account_id, ids)?;
    let domains = managed_domains(conn, by.account_id)?;
    let selected: HashSet<i64> = users.iter().map(|u| u.id).collect();
    let target = transfer_target(conn, by.account_id, transfer)?;
    let rows: Vec<PreviewRow> = users
        .iter()
        .map(|u| PreviewRow {
            user_id: u.id,
            email: u.email.clone(),
            name: u.full_name(),
            verdict: verdict(by, action, u, &domains, transfer, target.as_ref(), &selected),
        })
        .collect();
    let allowed: Vec<i64> = rows.iter().filter(|r| r.verdict.is_ok()).map(|r| r.user_id).collect();
    let token = store_run(conn, by, action, &allowed, now)?;
    Ok(Preview {
        token,
        action,
        allowed: allowed.len(),
        skipped: skip_reasons(&rows),
        rows,
    })
}

/// The rules for one selected user, the transfer target checked against the
/// whole selection (R51).
fn verdict(
    by: &ActorInfo,
    action: Action,
    u: &User,
    domains: &[String],
    transfer: &Transfer,
    target: Option<&TransferTarget>,
    selected: &HashSet<i64>,
) -> Result<(), Refusal> {
    check_action(&by.actor, &target_of(u, domains), action, Mode::Bulk)?;
    if !action.removes() {
        return Ok(());
    }
    let in_batch: &[i64] = match target {
        Some(t) if selected.contains(&t.id) => std::slice::from_ref(&t.id),
        _ => &[],
    };
    check_transfer(u.id, &transfer.choice, target, in_batch)
}

/// How many are skipped for each reason, most frequent first.
fn skip_reasons(rows: &[PreviewRow]) -> Vec<(Refusal, usize)> {
    let mut reasons: Vec<(Refusal, usize)> = Vec::new();
    for r in rows.iter().filter_map(|r| r.verdict.err()) {
        match reasons.iter_mut().find(|(m, _)| *m == r) {
            Some((_, n)) => *n += 1,
            None => reasons.push((r, 1)),
        }
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    reasons
}

/// Keeps the allowed users under a new token, so the confirm applies exactly them.
fn store_run(
    conn: &mut DbConn,
    by: &ActorInfo,
    action: Action,
    allowed: &[i64],
    now: NaiveDateTime,
) -> ServiceResult<String> {
    let token = new_token();
    diesel::insert_into(bulk_runs::table)
        .values((
            bulk_runs::token.eq(&token),
            bulk_runs::account_id.eq(by.account_id),
            bulk_runs::actor_id.eq(by.actor.id),
            bulk_runs::action.eq(action.as_str()),
            bulk_runs::user_ids.eq(allowed.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
            bulk_runs::state.eq(RunState::Previewed),
            bulk_runs::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The users a preview allowed, for a second look with the transfer filled in.
pub fn previewed_ids(conn: &mut DbConn, by: &ActorInfo, token: &str) -> ServiceResult<Vec<i64>> {
    let ids: String = bulk_runs::table
        .filter(bulk_runs::token.eq(token))
        .filter(bulk_runs::account_id.eq(by.account_id))
        .filter(bulk_runs::actor_id.eq(by.actor.id))
        .filter(bulk_runs::state.eq(RunState::Previewed))
        .select(bulk_runs::user_ids)
        .first(conn)?;
    Ok(ids.split(',').filter_map(|s| s.parse().ok()).collect())
}

/// The facts of the transfer's target, when a transfer is chosen and the address is known.
pub(super) fn transfer_target(
    conn: &mut DbConn,
    account_id: i64,
    transfer: &Transfer,
) -> ServiceResult<Option<TransferTarget>> {
    if !transfer.choice.any() {
        return Ok(None);
    }
    let Some(email) = transfer.to_email.as_deref().filter(|e| !e.trim().is_empty()) else {
        return Ok(None);
    };
    Ok(user_queries::find_any_by_email(conn, email)?.map(|t| user_queries::transfer_target(&t, account_id)))
}

fn new_token() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    crate::config::encode_hex(&bytes)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowResult {
    Done,
    Skipped(String),
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct BulkResult {
    pub action: Action,
    pub rows: Vec<(String, RowResult)>,
    pub done: usize,
    pub skipped: usize,
    pub failed: usize,
    /// True when this token had been applied before: nothing ran this time.
    pub replayed: bool,
}

/// A previewed run as stored: its action, users and recorded counts.
struct StoredRun {
    action: String,
    user_ids: String,
    counts: (i32, i32, i32),
}

/// Applies a previewed bulk action once. The first call flips the run from
/// `previewed` to `applying`; any later call (a second click, a replayed
/// request) finds it taken and returns the recorded counts.
/// With `due_at`, the users are scheduled for that moment instead (B7).
pub fn apply(
    conn: &mut DbConn,
    by: &ActorInfo,
    token: &str,
    action: Action,
    transfer: &Transfer,
    due_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> ServiceResult<BulkResult> {
    if !by.actor.has_bulk_privilege() {
        return Err(Refusal::NoBulkPrivilege.into());
    }
    let stored = find_run(conn, by, token)?;
    if stored.action != action.as_str() {
        return Err(ServiceError::Invalid(crate::i18n::tr(by.lang, "bad-confirmation")));
    }
    if !claim(conn, token)? {
        let (done, skipped, failed) = stored.counts;
        return Ok(BulkResult {
            action,
            rows: Vec::new(),
            done: done as usize,
            skipped: skipped as usize,
            failed: failed as usize,
            replayed: true,
        });
    }
    let ids: Vec<i64> = stored.user_ids.split(',').filter_map(|s| s.parse().ok()).collect();
    if let Some(due_at) = due_at {
        let plan = super::schedule::Plan {
            action,
            transfer: transfer.clone(),
            due_at,
        };
        let rows = super::schedule::schedule_many(conn, by, &ids, &plan, now)?
            .into_iter()
            .map(|(id, r)| row_result(conn, by.lang, id, r))
            .collect();
        return record(conn, token, action, rows);
    }
    let mut batch = ids.clone();
    batch.sort_unstable();
    let domains = managed_domains(conn, by.account_id)?;
    let run = Run {
        by,
        action,
        transfer,
        origin: Origin {
            mode: Mode::Bulk,
            job_id: None,
        },
        batch: &batch,
        domains: &domains,
        now,
    };
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(APPLY_BATCH) {
        let items: Vec<(i64, Transfer)> = chunk.iter().map(|id| (*id, transfer.clone())).collect();
        let results = crate::db::write_transaction(conn, |conn| apply_many(conn, &run, &items))?;
        rows.extend(
            results
                .into_iter()
                .map(|(id, r)| row_result(conn, by.lang, id, r.map(|o| o.email))),
        );
    }
    record(conn, token, action, rows)
}

fn find_run(conn: &mut DbConn, by: &ActorInfo, token: &str) -> ServiceResult<StoredRun> {
    let (action, user_ids, done, skipped, failed) = bulk_runs::table
        .filter(bulk_runs::token.eq(token))
        .filter(bulk_runs::account_id.eq(by.account_id))
        .filter(bulk_runs::actor_id.eq(by.actor.id))
        .select((
            bulk_runs::action,
            bulk_runs::user_ids,
            bulk_runs::done,
            bulk_runs::skipped,
            bulk_runs::failed,
        ))
        .first::<(String, String, i32, i32, i32)>(conn)
        .optional()?
        .ok_or(ServiceError::NotFound)?;
    Ok(StoredRun {
        action,
        user_ids,
        counts: (done, skipped, failed),
    })
}

/// Takes the run for this call; false when another call already did.
fn claim(conn: &mut DbConn, token: &str) -> ServiceResult<bool> {
    let claimed = diesel::update(
        bulk_runs::table
            .filter(bulk_runs::token.eq(token))
            .filter(bulk_runs::state.eq(RunState::Previewed)),
    )
    .set(bulk_runs::state.eq(RunState::Applying))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Stores the counts of an applied run and returns its result.
fn record(conn: &mut DbConn, token: &str, action: Action, rows: Vec<(String, RowResult)>) -> ServiceResult<BulkResult> {
    let count = |f: fn(&RowResult) -> bool| rows.iter().filter(|(_, r)| f(r)).count();
    let done = count(|r| *r == RowResult::Done);
    let skipped = count(|r| matches!(r, RowResult::Skipped(_)));
    let failed = count(|r| matches!(r, RowResult::Failed(_)));
    diesel::update(bulk_runs::table.filter(bulk_runs::token.eq(token)))
        .set((
            bulk_runs::state.eq(RunState::Applied),
            bulk_runs::done.eq(done as i32),
            bulk_runs::skipped.eq(skipped as i32),
            bulk_runs::failed.eq(failed as i32),
        ))
        .execute(conn)?;
    Ok(BulkResult {
        action,
        rows,
        done,
        skipped,
        failed,
        replayed: false,
    })
}

/// A user's outcome as the result dialog lists it: refusals in the rule's
/// words, internal failures only as "could not be applied" (the detail is
/// logged), as the CSV report does.
fn row_result(
    conn: &mut DbConn,
    lang: crate::i18n::Lang,
    id: i64,
    result: ServiceResult<String>,
) -> (String, RowResult) {
    match result {
        Ok(email) => (email, RowResult::Done),
        Err(ServiceError::Refused(r)) => (email_of(conn, id), RowResult::Skipped(r.text(lang))),
        Err(ServiceError::NotFound) => (
            format!("user {id}"),
            RowResult::Skipped(crate::i18n::tr(lang, "reason-gone")),
        ),
        Err(e) => {
            tracing::warn!(user_id = id, error = %e, "bulk row failed");
            (
                email_of(conn, id),
                RowResult::Failed(crate::i18n::tr(lang, "reason-failed")),
            )
        }
    }
}

fn email_of(conn: &mut DbConn, id: i64) -> String {
    users::table
        .find(id)
        .select(users::email)
        .first(conn)
        .unwrap_or_else(|_| format!("user {id}"))
}
