//! Scheduled offboarding (B7): a deactivation, unlink or delete planned for
//! a moment, with its transfer choices. The scheduler carries each one out
//! when it is due, under the rules that hold then, through the same
//! `perform` as the portal; a refusal then is recorded, shown and mailed to
//! whoever scheduled it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{NewAuditEntry, ScheduledAct, User};
use crate::db::schema::{accounts, mail_outbox, scheduled_acts as sa, users};
use crate::db::{write_transaction, DbConn};
use crate::domain::schedule::{parse_zone, Tz};
use crate::domain::{check_action, check_transfer, Action, Mode, Refusal, ScheduleState, TransferChoice};
use crate::i18n::{tr, tr_args, Lang};

use super::user_actions::{perform, Transfer};
use super::users::{find_in_account, managed_domains, target_of};
use super::{audit, ActorInfo, Origin, ServiceError, ServiceResult};

/// What the Users page and the API show beside a user with a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub action: Action,
    pub due_at: NaiveDateTime,
}

/// A plan as asked for: the act, its transfer choices and when (UTC).
#[derive(Debug, Clone)]
pub struct Plan {
    pub action: Action,
    pub transfer: Transfer,
    pub due_at: NaiveDateTime,
}

/// The account's time zone (UTC when the stored name is not one).
pub fn time_zone(conn: &mut DbConn, account_id: i64) -> ServiceResult<Tz> {
    let name: String = accounts::table
        .find(account_id)
        .select(accounts::time_zone)
        .first(conn)?;
    Ok(parse_zone(&name).unwrap_or(Tz::UTC))
}

/// Sets the account's time zone; who may change the Advanced settings may (R20, R22).
pub fn set_time_zone(conn: &mut DbConn, by: &ActorInfo, user: &User, tz: Tz, now: NaiveDateTime) -> ServiceResult<()> {
    if !super::auto_delete::may_change(conn, user, &by.actor)? {
        return Err(Refusal::NoAccessToSetting.into());
    }
    write_transaction(conn, |conn| {
        let old = time_zone(conn, by.account_id)?;
        if old == tz {
            return Ok(());
        }
        diesel::update(accounts::table.find(by.account_id))
            .set(accounts::time_zone.eq(tz.name()))
            .execute(conn)?;
        let detail = format!("time zone {} -> {}", old.name(), tz.name());
        audit::record(
            conn,
            &NewAuditEntry {
                detail,
                ..audit::by(by, "time_zone", now)
            },
        )?;
        Ok(())
    })
}

/// Plans an act for one user (the row's Schedule dialog and the API); a
/// plan the user already had is replaced. Refused now if the rules refuse
/// it now; checked again when it is due.
pub fn schedule(
    conn: &mut DbConn,
    by: &ActorInfo,
    user_id: i64,
    plan: &Plan,
    now: NaiveDateTime,
) -> ServiceResult<User> {
    check_plan(by, plan, now)?;
    write_transaction(conn, |conn| {
        let user = find_in_account(conn, by.account_id, user_id)?;
        let domains = managed_domains(conn, by.account_id)?;
        schedule_in(
            conn,
            by,
            &user,
            plan,
            &Context {
                origin: Origin::SINGLE,
                batch: &[],
                domains: &domains,
            },
            now,
        )?;
        Ok(user)
    })
}

/// Plans the same act for many users (the bulk bar's Schedule, after its
/// preview): each user in a savepoint of its own, so one refusal skips
/// that user only. Returns each user's outcome.
pub fn schedule_many(
    conn: &mut DbConn,
    by: &ActorInfo,
    ids: &[i64],
    plan: &Plan,
    now: NaiveDateTime,
) -> ServiceResult<Vec<(i64, ServiceResult<String>)>> {
    check_plan(by, plan, now)?;
    let domains = managed_domains(conn, by.account_id)?;
    let mut batch = ids.to_vec();
    batch.sort_unstable();
    let ctx = Context {
        origin: Origin {
            mode: Mode::Bulk,
            job_id: None,
        },
        batch: &batch,
        domains: &domains,
    };
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        write_transaction(conn, |conn| {
            for id in chunk {
                let one = conn.transaction(|conn| {
                    let user = find_in_account(conn, by.account_id, *id)?;
                    schedule_in(conn, by, &user, plan, &ctx, now)?;
                    Ok::<_, ServiceError>(user.email)
                });
                out.push((*id, one));
            }
            Ok::<_, ServiceError>(())
        })?;
    }
    Ok(out)
}

fn check_plan(by: &ActorInfo, plan: &Plan, now: NaiveDateTime) -> ServiceResult<()> {
    if !matches!(plan.action, Action::Deactivate | Action::Unlink | Action::Delete) {
        return Err(ServiceError::Invalid(tr(by.lang, "bad-schedule-action")));
    }
    if plan.due_at <= now {
        return Err(ServiceError::Invalid(tr(by.lang, "schedule-in-past")));
    }
    Ok(())
}

/// Where a plan comes from: the mode its rules are checked in, and the
/// users planned together (a target among them is refused, R51).
pub struct Context<'a> {
    pub origin: Origin,
    pub batch: &'a [i64],
    pub domains: &'a [String],
}

/// Checks and stores one plan in the caller's transaction, audited.
pub fn schedule_in(
    conn: &mut DbConn,
    by: &ActorInfo,
    user: &User,
    plan: &Plan,
    ctx: &Context<'_>,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    check_action(&by.actor, &target_of(user, ctx.domains), plan.action, ctx.origin.mode)?;
    let transfer = &plan.transfer;
    if plan.action.removes() && transfer.choice.any() {
        let target = super::bulk::transfer_target(conn, by.account_id, transfer)?;
        let in_batch: Vec<i64> = target
            .iter()
            .map(|t| t.id)
            .filter(|id| *id != user.id && ctx.batch.binary_search(id).is_ok())
            .collect();
        check_transfer(user.id, &transfer.choice, target.as_ref(), &in_batch)?;
    }
    cancel_in(conn, user.id, ScheduleState::Cancelled, "replaced", now)?;
    diesel::insert_into(sa::table)
        .values((
            sa::account_id.eq(by.account_id),
            sa::user_id.eq(user.id),
            sa::user_email.eq(&user.email),
            sa::action.eq(plan.action.as_str()),
            sa::transfer_to.eq(transfer.to_email.as_deref().filter(|_| transfer.choice.any())),
            sa::transfer_meetings.eq(transfer.choice.meetings),
            sa::transfer_webinars.eq(transfer.choice.webinars),
            sa::transfer_events.eq(transfer.choice.events),
            sa::transfer_recordings.eq(transfer.choice.recordings),
            sa::due_at.eq(plan.due_at),
            sa::scheduled_by_id.eq(by.actor.id),
            sa::scheduled_by_email.eq(&by.email),
            sa::state.eq(ScheduleState::Scheduled),
            sa::created_at.eq(now),
        ))
        .execute(conn)?;
    let detail = format!(
        "{} at {} UTC",
        plan.action.as_str(),
        plan.due_at.format("%Y-%m-%d %H:%M")
    );
    audit::record(
        conn,
        &NewAuditEntry {
            target_id: Some(user.id),
            target_email: user.email.clone(),
            source: by.source(&ctx.origin).into(),
            job_id: ctx.origin.job_id,
            transfer_to_email: transfer.to_email.clone().filter(|_| transfer.choice.any()),
            detail,
            ..audit::by(by, "schedule", now)
        },
    )?;
    Ok(())
}

fn record(
    conn: &mut DbConn,
    by: &ActorInfo,
    act: &str,
    user: &User,
    detail: String,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    audit::record(
        conn,
        &NewAuditEntry {
            target_id: Some(user.id),
            target_email: user.email.clone(),
            detail,
            ..audit::by(by, act, now)
        },
    )?;
    Ok(())
}

/// Ends the user's waiting plan, if any, in the caller's transaction.
fn cancel_in(
    conn: &mut DbConn,
    user_id: i64,
    state: ScheduleState,
    outcome: &str,
    now: NaiveDateTime,
) -> ServiceResult<usize> {
    Ok(diesel::update(
        sa::table
            .filter(sa::user_id.eq(user_id))
            .filter(sa::state.eq(ScheduleState::Scheduled)),
    )
    .set((
        sa::state.eq(state),
        sa::outcome.eq(outcome),
        sa::finished_at.eq(Some(now)),
    ))
    .execute(conn)?)
}

/// Cancels the user's plan (audited); NotFound when there was none.
pub fn cancel(conn: &mut DbConn, by: &ActorInfo, user_id: i64, now: NaiveDateTime) -> ServiceResult<User> {
    write_transaction(conn, |conn| {
        let user = find_in_account(conn, by.account_id, user_id)?;
        if cancel_in(conn, user.id, ScheduleState::Cancelled, "cancelled", now)? == 0 {
            return Err(ServiceError::NotFound);
        }
        record(conn, by, "cancel_schedule", &user, String::new(), now)?;
        Ok(user)
    })
}

/// The waiting plans of these users (the Users page's badges).
pub fn planned(conn: &mut DbConn, account_id: i64, user_ids: &[i64]) -> ServiceResult<HashMap<i64, Planned>> {
    // Most accounts wait on no plan: one cached index probe then answers for
    // the page (a list of ids is compiled anew at every call).
    let waiting = sa::table
        .filter(sa::account_id.eq(account_id))
        .filter(sa::state.eq(ScheduleState::Scheduled));
    if user_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let any: bool = crate::direct!(conn, diesel::select(diesel::dsl::exists(waiting)), get_result)?;
    if !any {
        return Ok(HashMap::new());
    }
    planned_among(conn, account_id, user_ids)
}

/// [`planned`] for a caller that already knows some plan is waiting (the
/// Users page counts them for its tab).
pub fn planned_among(conn: &mut DbConn, account_id: i64, user_ids: &[i64]) -> ServiceResult<HashMap<i64, Planned>> {
    let rows: Vec<(i64, String, NaiveDateTime)> = sa::table
        .filter(sa::account_id.eq(account_id))
        .filter(sa::user_id.eq_any(user_ids))
        .filter(sa::state.eq(ScheduleState::Scheduled))
        .select((sa::user_id, sa::action, sa::due_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, action, due_at)| Action::parse(&action).map(|action| (id, Planned { action, due_at })))
        .collect())
}

/// The account's plans, newest first (waiting, done, refused).
pub fn list(conn: &mut DbConn, account_id: i64, limit: i64) -> ServiceResult<Vec<ScheduledAct>> {
    Ok(sa::table
        .filter(sa::account_id.eq(account_id))
        .order(sa::id.desc())
        .limit(limit)
        .select(ScheduledAct::as_select())
        .load(conn)?)
}

/// Carries out every plan due at `now`; returns (done, refused).
pub fn run_due(conn: &mut DbConn, now: NaiveDateTime) -> ServiceResult<(usize, usize)> {
    let due: Vec<ScheduledAct> = sa::table
        .filter(sa::state.eq(ScheduleState::Scheduled))
        .filter(sa::due_at.le(now))
        .order(sa::due_at)
        .limit(500)
        .select(ScheduledAct::as_select())
        .load(conn)?;
    let (mut done, mut refused) = (0, 0);
    for plan in &due {
        match run_one(conn, plan, now)? {
            Some(ScheduleState::Done) => done += 1,
            Some(_) => refused += 1,
            None => {}
        }
    }
    Ok((done, refused))
}

/// One plan, in one transaction with its outcome: the act (a savepoint of
/// its own), then the plan's state, and on a refusal the mail.
fn run_one(conn: &mut DbConn, plan: &ScheduledAct, now: NaiveDateTime) -> ServiceResult<Option<ScheduleState>> {
    write_transaction(conn, |conn| {
        // Claimed first: another runner that got here before has changed the state.
        let claimed = diesel::update(
            sa::table
                .filter(sa::id.eq(plan.id))
                .filter(sa::state.eq(ScheduleState::Scheduled)),
        )
        .set(sa::state.eq(ScheduleState::Scheduled))
        .execute(conn)?;
        if claimed == 0 {
            return Ok(None);
        }
        let outcome = match super::users::actor_by_id(conn, plan.account_id, plan.scheduled_by_id)? {
            None => Err(tr(Lang::En, "schedule-scheduler-gone")),
            Some(by) => act_now(conn, &by, plan, now),
        };
        let (state, text) = match &outcome {
            Ok(()) => (ScheduleState::Done, String::new()),
            Err(reason) => (ScheduleState::Refused, reason.clone()),
        };
        diesel::update(sa::table.find(plan.id))
            .set((
                sa::state.eq(state),
                sa::outcome.eq(&text),
                sa::finished_at.eq(Some(now)),
            ))
            .execute(conn)?;
        if state == ScheduleState::Refused {
            mail_refusal(conn, plan, &text, now)?;
        }
        Ok(Some(state))
    })
}

/// The act as planned, by its scheduler as they are now; the refusal in
/// their language.
fn act_now(conn: &mut DbConn, by: &ActorInfo, plan: &ScheduledAct, now: NaiveDateTime) -> Result<(), String> {
    let action = Action::parse(&plan.action).unwrap_or(Action::Deactivate);
    let transfer = Transfer {
        choice: TransferChoice {
            meetings: plan.transfer_meetings,
            webinars: plan.transfer_webinars,
            events: plan.transfer_events,
            recordings: plan.transfer_recordings,
        },
        to_email: plan.transfer_to.clone(),
    };
    match perform(conn, by, plan.user_id, action, &transfer, Origin::SINGLE, now) {
        Ok(_) => Ok(()),
        Err(ServiceError::Refused(r)) => Err(r.text(by.lang)),
        Err(ServiceError::NotFound) => Err(tr(by.lang, "reason-gone")),
        Err(e) => {
            tracing::warn!(plan = plan.id, error = %e, "scheduled act failed");
            Err(tr(by.lang, "reason-failed"))
        }
    }
}

fn mail_refusal(conn: &mut DbConn, plan: &ScheduledAct, reason: &str, now: NaiveDateTime) -> ServiceResult<()> {
    let lang: Lang = users::table
        .find(plan.scheduled_by_id)
        .select(users::language)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten()
        .and_then(|l| Lang::parse(&l))
        .unwrap_or_default();
    let args = [
        ("email", plan.user_email.clone()),
        ("action", tr(lang, &plan.action)),
        ("reason", reason.to_string()),
    ];
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::account_id.eq(plan.account_id),
            mail_outbox::dedupe_key.eq(format!("schedule-refused:{}", plan.id)),
            mail_outbox::to_email.eq(&plan.scheduled_by_email),
            mail_outbox::subject.eq(tr_args(lang, "schedule-refused-subject", &args)),
            mail_outbox::body.eq(tr_args(lang, "schedule-refused-body", &args)),
            mail_outbox::created_at.eq(now),
            mail_outbox::next_attempt_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
