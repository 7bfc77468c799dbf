//! CSV import, Update users (R60-R67): validate a file into a stored job
//! with a row per line, then apply it in batches that survive a restart.

use crate::domain::Status;
use crate::domain::{JobState, RowState};
use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::cluster::Lease;
use crate::csv_import::{self, cells_line, cells_of, echo, CsvRow, CsvStyle, Dup, DupKey};
use crate::db::lists::in_list;
use crate::db::models::{ImportJob, ImportRow, User};
use crate::db::schema::{import_jobs, import_rows, users};
use crate::db::DbConn;
use crate::domain::{check_action, check_transfer, Action, Actor, Mode, Refusal, Role, TransferChoice, BULK_PRIVILEGE};
use crate::i18n::{tr, tr_args, Lang};

use super::batch::apply_many;
use super::user_actions::{Outcome, Run, Transfer};
use super::users::{managed_domains, target_of};
use super::{ActorInfo, Origin};
use super::{ServiceError, ServiceResult};

const KINDS: [&str; 4] = ["meetings", "webinars", "events", "recordings"];

/// An address the file may name (`crate::email::parse`).
pub fn looks_like_email(s: &str) -> bool {
    crate::email::parse(s).is_some()
}

/// What the row checks read of a user named by the file: a million-row
/// file keeps a million of these (about 100 bytes each with the key), so
/// not the names, password hash or settings of a whole `User`.
#[derive(Debug, Clone, Copy, Queryable, Selectable)]
#[diesel(table_name = users)]
struct Named {
    id: i64,
    account_id: i64,
    role: crate::domain::Role,
    custom_role_id: Option<i64>,
    status: crate::domain::Status,
    user_type: crate::domain::UserType,
    webinar_license: bool,
    phone_license: bool,
    large_meeting_license: bool,
    is_external: bool,
    is_room: bool,
}

impl Named {
    /// A `User` for the rules (which take one), without what they don't read.
    fn user(&self, email: &str) -> User {
        User {
            id: self.id,
            account_id: self.account_id,
            email: email.to_string(),
            first_name: String::new(),
            last_name: String::new(),
            first_lc: String::new(),
            last_lc: String::new(),
            role: self.role,
            custom_role_id: self.custom_role_id,
            status: self.status,
            user_type: self.user_type,
            webinar_license: self.webinar_license,
            phone_license: self.phone_license,
            large_meeting_license: self.large_meeting_license,
            is_external: self.is_external,
            is_room: self.is_room,
            deactivated_at: None,
            password_hash: None,
            settings: String::new(),
            language: None,
            // Not loaded: no row check reads them (add them to `Named` first).
            session_epoch: 0,
            created_at: NaiveDateTime::default(),
        }
    }
}

/// Adds the users of these (lowercased) emails.
fn load_by_email(conn: &mut DbConn, emails: &mut Vec<String>, into: &mut Vec<(Box<str>, Named)>) -> ServiceResult<()> {
    emails.sort_unstable();
    emails.dedup();
    let rows: Vec<(String, Named)> = crate::direct!(
        conn,
        users::table
            .filter(in_list(users::email, emails))
            .select((users::email, Named::as_select())),
        load
    )?;
    into.extend(rows.into_iter().map(|(email, named)| (email.into_boxed_str(), named)));
    emails.clear();
    Ok(())
}

/// What a valid row will do, in the report.
fn plan(lang: Lang, action: Action, choice: &TransferChoice, to: &str) -> String {
    let verb = match action {
        Action::Deactivate => tr(lang, "will-be-deactivated"),
        Action::Activate => tr(lang, "activate"),
        Action::Unlink => tr(lang, "will-be-unlinked"),
        Action::Delete => tr(lang, "will-be-deleted"),
    };
    let kinds: Vec<String> = KINDS
        .iter()
        .zip([choice.meetings, choice.webinars, choice.events, choice.recordings])
        .filter(|(_, on)| *on)
        .map(|(k, _)| tr(lang, k).to_lowercase())
        .collect();
    if kinds.is_empty() {
        verb
    } else {
        tr_args(
            lang,
            "plan-transfer",
            &[("plan", verb), ("kinds", kinds.join(", ")), ("to", echo(to))],
        )
    }
}

/// Checks every row of the file against every rule (R65) before anything
/// changes, and stores the job with its per-row report. File-level problems
/// are one message and store nothing.
///
/// The rows are read from the file three times rather than held: the
/// addresses and duplicates first, then which users the file removes (R51
/// needs them all), then the full check of each row, stored a thousand at
/// a time.
pub fn validate(
    conn: &mut DbConn,
    by: &ActorInfo,
    action: Action,
    filename: &str,
    bytes: &[u8],
    limits: &csv_import::Limits,
    now: NaiveDateTime,
) -> ServiceResult<i64> {
    if !by.actor.has_bulk_privilege() {
        return Err(Refusal::NoBulkPrivilege.into());
    }
    if !matches!(action, Action::Deactivate | Action::Unlink | Action::Delete) {
        return Err(ServiceError::Invalid(tr(by.lang, "bad-import-action")));
    }
    let file = csv_import::read_with(bytes, action, limits)?;
    let (dups, found) = lookups(conn, &file)?;
    let domains = managed_domains(conn, by.account_id)?;
    let tz = super::schedule::time_zone(conn, by.account_id)?;
    let checks = RowChecks {
        by,
        action,
        found: &found,
        domains: &domains,
        tz,
        now,
    };
    let checked = |r, dup| check_row(&checks, r, dup);
    let removed: HashSet<i64> = if action.removes() {
        file.rows()
            .zip(dups.iter().copied())
            .filter_map(|(r, dup)| {
                Some(checked(r, dup).0)
                    .filter(|row| row.state == RowState::Pending)?
                    .user_id
            })
            .collect()
    } else {
        HashSet::new()
    };
    // Starts with an insert, so SQLite takes the write lock before any read.
    conn.transaction(|conn| {
        let job_id = insert_job(conn, by, action, filename, &file, now)?;
        // The rows are checked on a second thread while this one stores the
        // previous thousand: the checks are a quarter of the work, and the
        // inserts (the database's part) no longer wait for them.
        let valid = std::thread::scope(|s| {
            let (send, checked_rows) = std::sync::mpsc::sync_channel::<Vec<ImportRow>>(2);
            let (file, dups, checks, removed) = (&file, &dups, &checks, &removed);
            // Moves `send` in: its drop at the end closes the channel.
            s.spawn(move || {
                let mut batch: Vec<ImportRow> = Vec::with_capacity(1_000);
                for (r, dup) in file.rows().zip(dups.iter().copied()) {
                    let (mut row, choice) = checked(r, dup);
                    check_row_transfer(checks, &mut row, &choice, removed);
                    batch.push(ImportRow { job_id, ..row });
                    // A refused send: the inserts stopped on an error.
                    if batch.len() == 1_000 && send.send(std::mem::take(&mut batch)).is_err() {
                        return;
                    }
                }
                let _ = send.send(batch);
            });
            store_rows(conn, checked_rows)
        })?;
        diesel::update(import_jobs::table.find(job_id))
            .set(import_jobs::valid.eq(valid))
            .execute(conn)?;
        Ok(job_id)
    })
}

/// Inserts the checked rows as they come; returns how many are valid. An
/// error drops the receiver, which ends the checking thread.
fn store_rows(conn: &mut DbConn, checked_rows: std::sync::mpsc::Receiver<Vec<ImportRow>>) -> ServiceResult<i32> {
    let mut valid = 0;
    for batch in checked_rows {
        valid += batch.iter().filter(|r| r.state == RowState::Pending).count() as i32;
        insert_rows(conn, &batch)?;
    }
    Ok(valid)
}

/// Users by their (lowercased) email, sorted for a binary search: a
/// million of them take half the memory of a hash map, whose table is
/// sized to the next power of two.
struct UsersByEmail(Vec<(Box<str>, Named)>);

impl UsersByEmail {
    fn get(&self, email: &str) -> Option<&Named> {
        let i = self.0.binary_search_by(|(e, _)| (**e).cmp(email)).ok()?;
        Some(&self.0[i].1)
    }
}

/// The first readings of a file: which rows repeat or contradict another
/// (R65), then the users its addresses and transfer addresses name, looked
/// up 5,000 addresses at a time as the rows are read again.
fn lookups(conn: &mut DbConn, file: &csv_import::CsvFile<'_>) -> ServiceResult<(Vec<Option<Dup>>, UsersByEmail)> {
    let dups = {
        let keys: Vec<DupKey> = file.rows().map(|r| DupKey::of(&r)).collect();
        csv_import::find_duplicates(&keys)
    };
    // Sized once: growing by doubling would hold both copies for a moment.
    let mut found = Vec::with_capacity(file.len + 16);
    let mut wanted: Vec<String> = Vec::with_capacity(5_000);
    for r in file.rows() {
        for email in [&r.email, &r.transfer_to] {
            let email = email.trim().to_lowercase();
            if !email.is_empty() {
                wanted.push(email);
            }
        }
        if wanted.len() >= 5_000 {
            load_by_email(conn, &mut wanted, &mut found)?;
        }
    }
    load_by_email(conn, &mut wanted, &mut found)?;
    // A transfer address on every row was looked up once per 5,000.
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    found.dedup_by(|a, b| a.0 == b.0);
    Ok((dups, UsersByEmail(found)))
}

/// The job of a validated file; its count of valid rows is set once every
/// row is stored.
fn insert_job(
    conn: &mut DbConn,
    by: &ActorInfo,
    action: Action,
    filename: &str,
    file: &csv_import::CsvFile,
    now: NaiveDateTime,
) -> ServiceResult<i64> {
    Ok(diesel::insert_into(import_jobs::table)
        .values((
            import_jobs::account_id.eq(by.account_id),
            import_jobs::actor_id.eq(by.actor.id),
            import_jobs::actor_email.eq(&by.email),
            import_jobs::action.eq(action.as_str()),
            import_jobs::filename.eq(filename.chars().take(200).collect::<String>()),
            import_jobs::headers.eq(cells_line(file.headers.iter().map(String::as_str))),
            import_jobs::state.eq(JobState::Validated),
            import_jobs::total.eq(file.len as i32),
            import_jobs::valid.eq(0),
            import_jobs::created_at.eq(now),
            import_jobs::lang.eq(by.lang.code()),
        ))
        .returning(import_jobs::id)
        .get_result(conn)?)
}

/// Rows per insert statement. A fixed count is one statement, prepared once
/// per connection (diesel caches an array's insert by its type), where an
/// insert of any count was compiled again for every 1,000 rows: a quarter
/// of a file's validation went to writing and parsing that SQL (issue 20).
const ROWS_PER_INSERT: usize = 200;

fn insert_rows(conn: &mut DbConn, rows: &[ImportRow]) -> ServiceResult<()> {
    let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
    for chunk in &mut chunks {
        let chunk: &[ImportRow; ROWS_PER_INSERT] = chunk.try_into().expect("an exact chunk");
        crate::direct!(conn, diesel::insert_into(import_rows::table).values(chunk), execute)?;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        crate::direct!(conn, diesel::insert_into(import_rows::table).values(rest), execute)?;
    }
    Ok(())
}

/// The transfer of a row that passed its own checks, against every user the
/// file removes (R51).
fn check_row_transfer(
    checks: &RowChecks<'_>,
    row: &mut ImportRow,
    choice: &Result<TransferChoice, String>,
    removed: &HashSet<i64>,
) {
    let Ok(choice) = choice else { return };
    if row.state != RowState::Pending {
        return;
    }
    let by = checks.by;
    // `check_row` keeps no empty address: no address, no lookup.
    let to = row.transfer_to.as_deref();
    let target = to.and_then(|to| {
        let found = checks.found.get(to)?;
        Some(super::users::transfer_target(&found.user(to), by.account_id))
    });
    let in_batch: Vec<i64> = target.iter().map(|t| t.id).filter(|id| removed.contains(id)).collect();
    match check_transfer(row.user_id.unwrap_or(0), choice, target.as_ref(), &in_batch) {
        Ok(()) => {
            let plan = plan(by.lang, checks.action, choice, to.unwrap_or_default());
            row.reason = match row.due_at {
                None => plan,
                Some(at) => tr_args(
                    by.lang,
                    "plan-scheduled",
                    &[("plan", plan), ("at", crate::domain::schedule::show(at, checks.tz))],
                ),
            };
        }
        Err(refusal) => {
            row.state = RowState::Invalid;
            row.reason = refusal.text(by.lang);
        }
    }
}

/// The row's Yes/No cells, or the reason naming the first bad one.
fn transfer_choice(lang: Lang, r: &CsvRow) -> Result<TransferChoice, String> {
    let bad_yes_no = r.transfer.iter().zip(KINDS).find_map(|(v, k)| {
        v.as_ref().err().map(|cell| {
            tr_args(
                lang,
                "reason-bad-yes-no",
                &[("cell", echo(cell)), ("kind", tr(lang, k).to_lowercase())],
            )
        })
    });
    match bad_yes_no {
        Some(msg) => Err(msg),
        None => Ok(TransferChoice {
            meetings: r.transfer[0] == Ok(true),
            webinars: r.transfer[1] == Ok(true),
            events: r.transfer[2] == Ok(true),
            recordings: r.transfer[3] == Ok(true),
        }),
    }
}

fn check_row(checks: &RowChecks<'_>, mut r: CsvRow, dup: Option<Dup>) -> (ImportRow, Result<TransferChoice, String>) {
    let email = r.email.trim().to_lowercase();
    let to = r.transfer_to.trim().to_lowercase();
    let lang = checks.by.lang;
    let choice = transfer_choice(lang, &r);
    let mut row = ImportRow {
        job_id: 0,
        line: r.line as i64,
        email: email.clone(),
        cells: std::mem::take(&mut r.cells),
        user_id: None,
        transfer_to: Some(to.clone()).filter(|t| !t.is_empty()),
        transfer_meetings: choice.as_ref().is_ok_and(|c| c.meetings),
        transfer_webinars: choice.as_ref().is_ok_and(|c| c.webinars),
        transfer_events: choice.as_ref().is_ok_and(|c| c.events),
        transfer_recordings: choice.as_ref().is_ok_and(|c| c.recordings),
        state: RowState::Invalid,
        reason: String::new(),
        due_at: None,
    };
    if let Some(Dup::Repeat(first)) = dup {
        row.state = RowState::Skipped;
        row.reason = tr_args(lang, "reason-duplicate", &[("line", first.to_string())]);
        return (row, choice);
    }
    match checks
        .verdict(&r, &email, &to, dup, &choice)
        .and_then(|id| Ok((id, checks.due_at(&r)?)))
    {
        Ok((id, due_at)) => {
            row.user_id = Some(id);
            row.state = RowState::Pending;
            row.due_at = due_at;
        }
        Err(reason) => row.reason = reason,
    }
    (row, choice)
}

/// What a row is checked against: who uploads, the action, the users the
/// file names, the account's managed domains, and its time zone and the
/// time for effective dates.
struct RowChecks<'a> {
    by: &'a ActorInfo,
    action: Action,
    found: &'a UsersByEmail,
    domains: &'a [String],
    tz: crate::domain::schedule::Tz,
    now: NaiveDateTime,
}

impl RowChecks<'_> {
    /// The row's effective date in UTC (None: apply at once), or why it is
    /// refused. A moment that has passed is refused rather than applied now:
    /// a mistyped year must not remove anyone early.
    fn due_at(&self, r: &CsvRow) -> Result<Option<NaiveDateTime>, String> {
        let cell = r.effective.trim();
        if cell.is_empty() {
            return Ok(None);
        }
        let lang = self.by.lang;
        let at = crate::domain::schedule::parse_moment(cell, self.tz)
            .ok_or_else(|| tr_args(lang, "reason-bad-date", &[("cell", echo(cell))]))?;
        if at <= self.now {
            return Err(tr_args(lang, "reason-date-passed", &[("cell", echo(cell))]));
        }
        Ok(Some(at))
    }

    fn in_account(&self, email: &str) -> Option<User> {
        self.found
            .get(email)
            .filter(|u| u.account_id == self.by.account_id)
            .map(|u| u.user(email))
    }

    /// The row's user, or why it is refused, in the uploader's language.
    fn verdict(
        &self,
        r: &CsvRow,
        email: &str,
        to: &str,
        dup: Option<Dup>,
        choice: &Result<TransferChoice, String>,
    ) -> Result<i64, String> {
        let lang = self.by.lang;
        let not_email = |cell: &str| tr_args(lang, "reason-not-email", &[("cell", echo(cell))]);
        if email.is_empty() {
            return Err(tr(lang, "reason-empty-email"));
        }
        if !looks_like_email(email) {
            return Err(not_email(&r.email));
        }
        if let Some(Dup::Conflict(other)) = dup {
            return Err(tr_args(lang, "reason-conflict", &[("line", other.to_string())]));
        }
        let user = self.in_account(email).ok_or_else(|| tr(lang, "reason-no-user"))?;
        let wants_transfer = choice.clone()?.any();
        if !to.is_empty() && !looks_like_email(to) {
            return Err(not_email(&r.transfer_to));
        }
        // The same words whether the address is unknown or in another account.
        if wants_transfer && !to.is_empty() && self.in_account(to).is_none() {
            return Err(tr_args(lang, "reason-target-not-in-account", &[("email", echo(to))]));
        }
        check_action(&self.by.actor, &target_of(&user, self.domains), self.action, Mode::Csv)
            .map_err(|e| e.text(lang))?;
        Ok(user.id)
    }
}

pub fn find_job(conn: &mut DbConn, account_id: i64, job_id: i64) -> ServiceResult<ImportJob> {
    Ok(import_jobs::table
        .filter(import_jobs::id.eq(job_id))
        .filter(import_jobs::account_id.eq(account_id))
        .select(ImportJob::as_select())
        .first(conn)?)
}

pub fn recent_jobs(conn: &mut DbConn, account_id: i64) -> ServiceResult<Vec<ImportJob>> {
    Ok(import_jobs::table
        .filter(import_jobs::account_id.eq(account_id))
        .order(import_jobs::id.desc())
        .limit(20)
        .select(ImportJob::as_select())
        .load(conn)?)
}

/// A row as it reads once its job's cursor has passed it: a batch writes
/// only the rows that were not plainly done, so a row at or before the
/// cursor that is still `pending` was applied.
pub fn as_applied(mut row: ImportRow, applied_through: i64) -> ImportRow {
    if row.state == RowState::Pending && row.line <= applied_through {
        row.state = RowState::Done;
        row.reason = String::new();
    }
    row
}

/// The rows of a report page: invalid rows first, as the admin must see them.
pub fn report_rows(conn: &mut DbConn, job: &ImportJob, limit: i64) -> ServiceResult<Vec<ImportRow>> {
    let job_id = job.id;
    // Stated as SQL text so that the planner sees the `import_rows_problems`
    // partial index's own condition (a bound value would not prove it).
    let problems = diesel::dsl::sql::<diesel::sql_types::Bool>("state IN ('invalid', 'skipped', 'failed')");
    let mut rows: Vec<ImportRow> = import_rows::table
        .filter(import_rows::job_id.eq(job_id))
        .filter(problems)
        .order(import_rows::line)
        .limit(limit)
        .select(ImportRow::as_select())
        .load(conn)?;
    let left = limit - rows.len() as i64;
    if left > 0 {
        rows.extend(
            import_rows::table
                .filter(import_rows::job_id.eq(job_id))
                .filter(
                    import_rows::state
                        .eq(RowState::Pending)
                        .or(import_rows::state.eq(RowState::Done)),
                )
                .order(import_rows::line)
                .limit(left)
                .select(ImportRow::as_select())
                .load::<ImportRow>(conn)?
                .into_iter()
                .map(|row| as_applied(row, job.applied_through)),
        );
    }
    Ok(rows)
}

/// Confirm: the valid rows start to apply. Only a validated job with valid
/// rows starts, and only once.
pub fn start(conn: &mut DbConn, by: &ActorInfo, job_id: i64, now: NaiveDateTime) -> ServiceResult<()> {
    if !by.actor.has_bulk_privilege() {
        return Err(Refusal::NoBulkPrivilege.into());
    }
    let job = find_job(conn, by.account_id, job_id)?;
    if job.valid == 0 {
        return Err(ServiceError::Invalid(tr(by.lang, "no-valid-rows")));
    }
    diesel::update(
        import_jobs::table
            .filter(import_jobs::id.eq(job.id))
            .filter(import_jobs::state.eq(JobState::Validated)),
    )
    .set((
        import_jobs::state.eq(JobState::Running),
        import_jobs::started_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(())
}

/// The actor as they are now: a role or privilege lost since the upload
/// refuses the remaining rows (R5).
fn actor_now(conn: &mut DbConn, job: &ImportJob) -> ServiceResult<ActorInfo> {
    let user: Option<User> = users::table
        .filter(users::id.eq(job.actor_id))
        .filter(users::account_id.eq(job.account_id))
        .filter(users::status.eq(Status::Active))
        .select(User::as_select())
        .first(conn)
        .optional()?;
    let (role, custom) = match &user {
        Some(u) => {
            let role = u.role;
            let custom = match u.custom_role_id {
                Some(rid) => {
                    use crate::db::schema::role_privileges as rp;
                    rp::table
                        .filter(rp::role_id.eq(rid))
                        .filter(rp::privilege.eq(BULK_PRIVILEGE))
                        .count()
                        .get_result::<i64>(conn)?
                        > 0
                }
                None => false,
            };
            (role, custom)
        }
        None => (Role::Member, false),
    };
    Ok(ActorInfo {
        actor: Actor {
            id: job.actor_id,
            role,
            custom_bulk_privilege: custom,
        },
        account_id: job.account_id,
        email: job.actor_email.clone(),
        lang: Lang::parse(&job.lang).unwrap_or_default(),
        via_api: false,
        via_scim: false,
    })
}

/// A job `$lease`'s holder may run: never leased, leased to it, or its
/// lease ran out (a macro: the expression's type differs per backend).
macro_rules! claimable {
    ($lease:expr, $now:expr) => {
        import_jobs::claimed_until
            .is_null()
            .or(import_jobs::claimed_until.lt($now))
            .or(import_jobs::claimed_by.eq($lease.holder.as_str()))
    };
}

/// Applies the next batch of a running job. The batch's transaction holds
/// the users' changes, their audit rows and the rows' new states together:
/// a crash loses the whole batch, which then runs again from its first row.
/// `batch` rows at most (`Config::import_batch`). Returns whether rows are left.
/// Runs under this instance's lease (`cluster::Lease::this_instance`).
pub fn apply_batch(conn: &mut DbConn, job_id: i64, batch: i64, now: NaiveDateTime) -> ServiceResult<bool> {
    apply_batch_leased(conn, job_id, batch, now, &Lease::this_instance())
}

/// `apply_batch` under `lease`. Returns false also when the job is not this
/// holder's to run now (another instance holds its lease or is in a batch).
pub fn apply_batch_leased(
    conn: &mut DbConn,
    job_id: i64,
    batch: i64,
    now: NaiveDateTime,
    lease: &Lease,
) -> ServiceResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        let Some(job) = claim_job(conn, job_id, lease, now)? else {
            return Ok(false);
        };
        // The rows after the cursor, by the primary key: the invalid ones are
        // skipped over, the applied ones are all before it.
        let rows: Vec<ImportRow> = import_rows::table
            .filter(import_rows::job_id.eq(job_id))
            .filter(import_rows::line.gt(job.applied_through))
            .filter(import_rows::state.eq(RowState::Pending))
            .order(import_rows::line)
            .limit(batch)
            .select(ImportRow::as_select())
            .load(conn)?;
        let by = actor_now(conn, &job)?;
        let outcomes = run_rows(conn, &job, &by, &rows, now)?;
        let reached = rows.last().map_or(job.applied_through, |r| r.line);
        let counts = record_outcomes(conn, job_id, by.lang, &rows, outcomes)?;
        finish_batch(conn, job_id, counts, reached, rows.len() as i64 == batch, now)
    })
}

/// Takes the running job for this batch; None when it is no longer running
/// or not ours to run. On PostgreSQL the job row is locked `FOR UPDATE SKIP
/// LOCKED` for the batch's transaction, so two instances never run batches
/// of one job at once (the second skips instead of waiting, and after the
/// first commits reads the rows it left pending), and the lease is renewed;
/// a job leased to another instance is left alone until that lease runs out.
/// On SQLite (one process) a no-op update serialises the writers.
fn claim_job(conn: &mut DbConn, job_id: i64, lease: &Lease, now: NaiveDateTime) -> ServiceResult<Option<ImportJob>> {
    let DbConn::Pg(pg) = conn else {
        let claimed = diesel::update(
            import_jobs::table
                .filter(import_jobs::id.eq(job_id))
                .filter(import_jobs::state.eq(JobState::Running)),
        )
        .set(import_jobs::state.eq(JobState::Running))
        .execute(conn)?;
        if claimed == 0 {
            return Ok(None);
        }
        return Ok(Some(
            import_jobs::table
                .find(job_id)
                .select(ImportJob::as_select())
                .first(conn)?,
        ));
    };
    let job: Option<ImportJob> = import_jobs::table
        .filter(import_jobs::id.eq(job_id))
        .filter(import_jobs::state.eq(JobState::Running))
        .filter(claimable!(lease, now))
        .select(ImportJob::as_select())
        .for_update()
        .skip_locked()
        .first(pg)
        .optional()?;
    if job.is_some() {
        diesel::update(import_jobs::table.find(job_id))
            .set((
                import_jobs::claimed_by.eq(Some(&lease.holder)),
                import_jobs::claimed_until.eq(Some(now + lease.length)),
            ))
            .execute(pg)?;
    }
    Ok(job)
}

/// The rows' users through the same batch function as bulk actions.
fn run_rows(
    conn: &mut DbConn,
    job: &ImportJob,
    by: &ActorInfo,
    rows: &[ImportRow],
    now: NaiveDateTime,
) -> ServiceResult<Vec<ServiceResult<Outcome>>> {
    let action = Action::parse(&job.action).ok_or_else(|| ServiceError::Invalid("unknown action".into()))?;
    let domains = managed_domains(conn, job.account_id)?;
    let none = Transfer::default();
    let run = Run {
        by,
        action,
        transfer: &none,
        origin: Origin {
            mode: Mode::Csv,
            job_id: Some(job.id),
        },
        batch: &[],
        domains: &domains,
        now,
    };
    // Rows with an effective date are scheduled; the others act now.
    let (planned, now_rows): (Vec<&ImportRow>, Vec<&ImportRow>) = rows.iter().partition(|r| r.due_at.is_some());
    let items: Vec<(i64, Transfer)> = now_rows
        .iter()
        .map(|r| (r.user_id.unwrap_or(0), row_transfer(r)))
        .collect();
    let mut acted = apply_many(conn, &run, &items)?.into_iter().map(|(_, r)| r);
    let mut scheduled = schedule_rows(conn, &run, action, &planned)?.into_iter();
    Ok(rows
        .iter()
        .filter_map(|r| match r.due_at {
            Some(_) => scheduled.next(),
            None => acted.next(),
        })
        .collect())
}

/// The rows with an effective date, each planned in a savepoint of its own.
fn schedule_rows(
    conn: &mut DbConn,
    run: &Run<'_>,
    action: Action,
    rows: &[&ImportRow],
) -> ServiceResult<Vec<ServiceResult<Outcome>>> {
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.user_id).collect();
    ids.sort_unstable();
    let ctx = super::schedule::Context {
        origin: run.origin,
        batch: &ids,
        domains: run.domains,
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let plan = super::schedule::Plan {
            action,
            transfer: row_transfer(row),
            due_at: row.due_at.unwrap_or(run.now),
        };
        let one = conn.transaction(|conn| {
            let user = super::users::find_in_account(conn, run.by.account_id, row.user_id.unwrap_or(0))?;
            super::schedule::schedule_in(conn, run.by, &user, &plan, &ctx, run.now)?;
            Ok(Outcome {
                action,
                email: user.email,
                moved: Default::default(),
                transfer_to: None,
            })
        });
        out.push(one);
    }
    Ok(out)
}

/// Done, skipped and failed rows of one batch.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    done: i32,
    skipped: i32,
    failed: i32,
}

/// Writes the outcome of each row that is not plainly done: a refusal in
/// the rule's words, an internal failure only as "could not be applied"
/// (the detail logged), a scheduled row as done with its plan. The rows
/// plainly done stay as they are: once the cursor passes them they read as
/// done ([`as_applied`]), so a batch writes only its exceptions (rewriting
/// every row of a 100,000-row job was 15% of its apply, issue 20).
fn record_outcomes(
    conn: &mut DbConn,
    job_id: i64,
    lang: Lang,
    rows: &[ImportRow],
    outcomes: Vec<ServiceResult<Outcome>>,
) -> ServiceResult<Counts> {
    let mut counts = Counts::default();
    for (row, outcome) in rows.iter().zip(outcomes) {
        let (state, reason) = match outcome {
            // A scheduled row keeps its plan with the date as its reason.
            Ok(_) if row.due_at.is_none() => {
                counts.done += 1;
                continue;
            }
            Ok(_) => {
                counts.done += 1;
                (RowState::Done, row.reason.clone())
            }
            Err(ServiceError::Refused(r)) => (RowState::Skipped, r.text(lang)),
            Err(ServiceError::NotFound) => (RowState::Skipped, tr(lang, "reason-gone")),
            Err(e) => {
                tracing::warn!(job_id, line = row.line, error = %e, "import row failed");
                (RowState::Failed, tr(lang, "reason-failed"))
            }
        };
        match state {
            RowState::Skipped => counts.skipped += 1,
            RowState::Failed => counts.failed += 1,
            _ => {}
        }
        diesel::update(
            import_rows::table
                .filter(import_rows::job_id.eq(job_id))
                .filter(import_rows::line.eq(row.line)),
        )
        .set((import_rows::state.eq(state), import_rows::reason.eq(reason)))
        .execute(conn)?;
    }
    Ok(counts)
}

/// Adds the batch's counts to the job, moves its cursor to the line the
/// batch `reached`, and ends the job when no row is left.
fn finish_batch(
    conn: &mut DbConn,
    job_id: i64,
    c: Counts,
    reached: i64,
    full: bool,
    now: NaiveDateTime,
) -> ServiceResult<bool> {
    // "Any pending row left?" reads from the cursor on, where a count would
    // read every row left after every batch.
    let finished = !full
        || !diesel::select(diesel::dsl::exists(
            import_rows::table
                .filter(import_rows::job_id.eq(job_id))
                .filter(import_rows::line.gt(reached))
                .filter(import_rows::state.eq(RowState::Pending)),
        ))
        .get_result::<bool>(conn)?;
    diesel::update(import_jobs::table.find(job_id))
        .set((
            import_jobs::done.eq(import_jobs::done + c.done),
            import_jobs::skipped.eq(import_jobs::skipped + c.skipped),
            import_jobs::failed.eq(import_jobs::failed + c.failed),
            import_jobs::applied_through.eq(reached),
        ))
        .execute(conn)?;
    if finished {
        diesel::update(import_jobs::table.find(job_id))
            .set((
                import_jobs::state.eq(JobState::Done),
                import_jobs::finished_at.eq(Some(now)),
            ))
            .execute(conn)?;
    }
    Ok(!finished)
}

fn row_transfer(row: &ImportRow) -> Transfer {
    Transfer {
        choice: TransferChoice {
            meetings: row.transfer_meetings,
            webinars: row.transfer_webinars,
            events: row.transfer_events,
            recordings: row.transfer_recordings,
        },
        to_email: row.transfer_to.clone(),
    }
}

/// The oldest running job, for the worker.
pub fn next_running_job(conn: &mut DbConn) -> ServiceResult<Option<i64>> {
    Ok(import_jobs::table
        .filter(import_jobs::state.eq(JobState::Running))
        .order(import_jobs::id)
        .select(import_jobs::id)
        .first(conn)
        .optional()?)
}

/// The oldest running job `lease`'s holder may run (`claimable`): with
/// several instances each keeps to its own job, and takes over a job whose
/// instance stopped renewing its lease. On SQLite, the oldest running job.
pub fn next_job_for(conn: &mut DbConn, lease: &Lease, now: NaiveDateTime) -> ServiceResult<Option<i64>> {
    if let DbConn::Sqlite(_) = conn {
        return next_running_job(conn);
    }
    Ok(import_jobs::table
        .filter(import_jobs::state.eq(JobState::Running))
        .filter(claimable!(lease, now))
        .order(import_jobs::id)
        .select(import_jobs::id)
        .first(conn)
        .optional()?)
}

/// Runs a job to its end (the CLI and the tests; the server's worker does
/// the same a batch at a time).
pub fn run_to_end(conn: &mut DbConn, job_id: i64) -> ServiceResult<()> {
    while apply_batch(conn, job_id, crate::config::DEFAULT_IMPORT_BATCH, super::now())? {}
    Ok(())
}

/// The result report (R66): the original columns, then line, outcome and
/// reason, written as every CSV of the portal (`csv_import::CsvStyle`) in
/// the job's language. Rows shorter or longer than the header (Excel's
/// trailing separators) are fitted to it so the outcome columns line up.
pub fn result_csv(conn: &mut DbConn, job: &ImportJob) -> ServiceResult<Vec<u8>> {
    let lang = Lang::parse(&job.lang).unwrap_or_default();
    let style = CsvStyle::of(lang.code());
    let mut header: Vec<String> = cells_of(&job.headers);
    let width = header.len();
    header.extend([tr(lang, "line"), tr(lang, "outcome"), tr(lang, "reason")]);
    let mut out = String::from(csv_import::BOM);
    out.push_str(&style.line(&header));
    let mut after = 0i64;
    loop {
        let rows: Vec<ImportRow> = import_rows::table
            .filter(import_rows::job_id.eq(job.id))
            .filter(import_rows::line.gt(after))
            .order(import_rows::line)
            .limit(5_000)
            .select(ImportRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.line;
        for r in rows.into_iter().map(|row| as_applied(row, job.applied_through)) {
            let mut cells = fit_width(cells_of(&r.cells), width);
            cells.push(r.line.to_string());
            cells.push(tr(lang, outcome_word(r.state, job.state, r.due_at.is_some())));
            cells.push(r.reason);
            out.push_str(&style.line(&cells));
        }
    }
    Ok(out.into_bytes())
}

/// Pads a row to the header's width, and drops empty cells beyond it.
fn fit_width(mut cells: Vec<String>, width: usize) -> Vec<String> {
    while cells.len() > width && cells.last().is_some_and(|c| c.trim().is_empty()) {
        cells.pop();
    }
    if cells.len() < width {
        cells.resize(width, String::new());
    }
    cells
}

/// Jobs past their keeping time: never applied (still `validated`) after
/// 24 hours, finished after `retention_days`. Running jobs are kept.
pub fn purge_cutoffs(now: NaiveDateTime, retention_days: i64) -> (NaiveDateTime, NaiveDateTime) {
    (
        now - chrono::Duration::hours(24),
        now - chrono::Duration::days(retention_days),
    )
}

/// Removes expired jobs and their rows (the report is made from the rows,
/// so it goes with them); returns how many jobs went.
pub fn purge_jobs(conn: &mut DbConn, now: NaiveDateTime, retention_days: i64) -> ServiceResult<usize> {
    let (unapplied_before, finished_before) = purge_cutoffs(now, retention_days);
    crate::db::write_transaction(conn, |conn| {
        let ids: Vec<i64> = import_jobs::table
            .filter(
                import_jobs::state
                    .eq(JobState::Validated)
                    .and(import_jobs::created_at.lt(unapplied_before))
                    .or(import_jobs::state
                        .eq_any([JobState::Done, JobState::Cancelled])
                        .and(import_jobs::finished_at.lt(finished_before))),
            )
            .select(import_jobs::id)
            .load(conn)?;
        for chunk in ids.chunks(1_000) {
            diesel::delete(import_rows::table.filter(import_rows::job_id.eq_any(chunk))).execute(conn)?;
            diesel::delete(import_jobs::table.filter(import_jobs::id.eq_any(chunk))).execute(conn)?;
        }
        Ok(ids.len())
    })
}

/// The translation key of a row's outcome, as the report and page show it.
pub fn outcome_word(row_state: RowState, job_state: JobState, dated: bool) -> &'static str {
    match (row_state, job_state) {
        (RowState::Done, _) if dated => "outcome-scheduled",
        (RowState::Invalid, _) => "outcome-not-applied",
        (RowState::Pending, JobState::Validated) => "outcome-ready",
        (RowState::Pending, _) => "outcome-waiting",
        (RowState::Done, _) => "done",
        (RowState::Skipped, _) => "skipped",
        (RowState::Failed, _) => "failed",
    }
}

/// The language the job's uploader reads its results in.
pub fn job_lang(conn: &mut DbConn, job_id: i64) -> ServiceResult<Lang> {
    let code: String = import_jobs::table.find(job_id).select(import_jobs::lang).first(conn)?;
    Ok(Lang::parse(&code).unwrap_or_default())
}

/// A job whose worker failed in a way no row explains (a panic): its rows
/// not yet applied (after the cursor) are marked failed with `reason`, and
/// the job ends as done with `error` set, so the page stops waiting and
/// says why. Rows already applied stay applied (each batch committed with
/// its audit rows).
pub fn fail_job(conn: &mut DbConn, job_id: i64, reason: &str, now: NaiveDateTime) -> ServiceResult<()> {
    crate::db::write_transaction(conn, |conn| {
        let cursor: i64 = import_jobs::table
            .find(job_id)
            .select(import_jobs::applied_through)
            .first(conn)?;
        let left = diesel::update(
            import_rows::table
                .filter(import_rows::job_id.eq(job_id))
                .filter(import_rows::line.gt(cursor))
                .filter(import_rows::state.eq(RowState::Pending)),
        )
        .set((import_rows::state.eq(RowState::Failed), import_rows::reason.eq(reason)))
        .execute(conn)?;
        diesel::update(import_jobs::table.find(job_id))
            .set((
                import_jobs::state.eq(JobState::Done),
                import_jobs::error.eq(Some(reason)),
                import_jobs::failed.eq(import_jobs::failed + left as i32),
                import_jobs::finished_at.eq(Some(now)),
            ))
            .execute(conn)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unapplied_jobs_keep_a_day_finished_ones_the_retention() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("date");
        let (unapplied, finished) = purge_cutoffs(now, 30);
        assert_eq!(now - unapplied, chrono::Duration::hours(24));
        assert_eq!(now - finished, chrono::Duration::days(30));
    }

    #[test]
    fn a_pending_row_reads_as_done_once_the_cursor_passed_it() {
        let row = |line, state| ImportRow {
            job_id: 1,
            line,
            email: "a@x.nl".into(),
            cells: String::new(),
            user_id: Some(7),
            transfer_to: None,
            transfer_meetings: false,
            transfer_webinars: false,
            transfer_events: false,
            transfer_recordings: false,
            state,
            reason: "will be deactivated".into(),
            due_at: None,
        };
        let read = |line, state| {
            let r = as_applied(row(line, state), 5);
            (r.state, r.reason)
        };
        assert_eq!(read(5, RowState::Pending), (RowState::Done, String::new()));
        assert_eq!(read(2, RowState::Pending), (RowState::Done, String::new()));
        assert_eq!(
            read(6, RowState::Pending),
            (RowState::Pending, "will be deactivated".into())
        );
        for kept in [RowState::Skipped, RowState::Failed, RowState::Invalid, RowState::Done] {
            assert_eq!(read(3, kept), (kept, "will be deactivated".into()));
        }
    }

    #[test]
    fn report_rows_fit_the_header() {
        let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(fit_width(s(&["a"]), 3), s(&["a", "", ""]));
        assert_eq!(fit_width(s(&["a", "", "", ""]), 2), s(&["a", ""]));
        assert_eq!(fit_width(s(&["a", "b", "c"]), 2), s(&["a", "b", "c"]));
    }

    #[test]
    fn emails_that_are_not() {
        assert!(looks_like_email("a.b@x.nl"));
        for bad in [
            "a",
            "@x.nl",
            "a@",
            "a@x",
            "a b@x.nl",
            "=a@x.nl",
            "\"a\"@x.nl",
            "a@x.nl,b@y.nl",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
