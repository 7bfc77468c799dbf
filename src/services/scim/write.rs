//! The SCIM acts. Each runs in one write transaction: profile changes
//! (userName, names, displayName, externalId, manager) are written with
//! their audit row and a `user.updated` event; status changes go through
//! `user_actions::perform_in`, so SPEC R1-R14 and R30-R53 apply, sessions
//! and tokens end, and the act's own audit row and webhook are written.
//! A request that changes nothing writes nothing (providers resend).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{NewAuditEntry, NewUser, User};
use crate::db::schema::{scim_users, users};
use crate::db::DbConn;
use crate::domain::scim::resource::{self, UserFields};
use crate::domain::scim::{patch as scim_patch, ScimError};
use crate::domain::webhooks::EventKind;
use crate::domain::{Action, Refusal, Status, TransferChoice};
use crate::services::user_actions::{self, Run, Transfer};
use crate::services::{audit, users as user_queries, webhooks, ActorInfo, Origin, ServiceError};

use super::{get, settings, ScimResult, ScimRow, ScimUser};

/// POST /Users: a new active member (no invitation), or the account's user
/// SCIM deleted before, linked again. Any other holder of the userName: 409.
pub fn create(conn: &mut DbConn, by: &ActorInfo, fields: &UserFields, now: NaiveDateTime) -> ScimResult<ScimUser> {
    crate::db::write_transaction(conn, |conn| {
        let Some(existing) = user_queries::find_any_by_email(conn, &fields.user_name)? else {
            return insert(conn, by, fields, now);
        };
        let extra = row_of(conn, existing.id)?;
        let deprovisioned = extra.as_ref().is_some_and(|e| e.deprovisioned_at.is_some());
        if existing.account_id != by.account_id || !deprovisioned {
            return Err(taken(&fields.user_name));
        }
        change(conn, by, ScimUser { user: existing, extra }, fields, now)
    })
}

/// PUT /Users/{id}: every attribute as sent; `active` left out keeps the status.
pub fn replace(
    conn: &mut DbConn,
    by: &ActorInfo,
    user_id: i64,
    body: &serde_json::Value,
    now: NaiveDateTime,
) -> ScimResult<ScimUser> {
    crate::db::write_transaction(conn, |conn| {
        let current = locked(conn, by.account_id, user_id)?;
        let fields = resource::from_resource(body, current.fields().active)?;
        change(conn, by, current, &fields, now)
    })
}

/// PATCH /Users/{id}: the operations applied to the current fields.
pub fn patch(
    conn: &mut DbConn,
    by: &ActorInfo,
    user_id: i64,
    body: &serde_json::Value,
    now: NaiveDateTime,
) -> ScimResult<ScimUser> {
    crate::db::write_transaction(conn, |conn| {
        let current = locked(conn, by.account_id, user_id)?;
        let mut fields = current.fields();
        scim_patch::apply(&mut fields, body)?;
        change(conn, by, current, &fields, now)
    })
}

/// DELETE /Users/{id}: the account's chosen act (deactivate, unlink, or
/// delete with every kind of data transferred); the resource then answers
/// 404 through SCIM. Rooms are refused (R43).
pub fn delete(conn: &mut DbConn, by: &ActorInfo, user_id: i64, now: NaiveDateTime) -> ScimResult<()> {
    crate::db::write_transaction(conn, |conn| {
        let current = locked(conn, by.account_id, user_id)?;
        if current.user.is_room {
            return Err(ServiceError::Refused(Refusal::Room).into());
        }
        let chosen = settings::load(conn, by.account_id)?;
        let transfer = match chosen.action {
            Action::Delete => Transfer {
                choice: TransferChoice {
                    meetings: true,
                    webinars: true,
                    events: true,
                    recordings: true,
                },
                to_email: chosen.transfer_to.clone(),
            },
            _ => Transfer::default(),
        };
        let already = chosen.action == Action::Deactivate && current.user.status == Status::Deactivated;
        if !already {
            act(conn, by, current.user.id, chosen.action, &transfer, now)?;
        }
        if chosen.action != Action::Delete {
            let mut row = current.extra.clone().unwrap_or_else(|| blank_row(&current.user, now));
            row.deprovisioned_at = Some(now);
            row.updated_at = now;
            save_row(conn, &row)?;
        }
        let detail = format!("deprovisioned: {}", chosen.action.as_str());
        record(conn, by, "scim_delete", &current.user, detail, now)?;
        Ok(())
    })
}

fn taken(user_name: &str) -> super::ScimFailure {
    ScimError::Uniqueness(format!("a user with userName {user_name} already exists")).into()
}

/// The user, write-locked first (see `user_actions::lock_user`), unless SCIM deleted them.
fn locked(conn: &mut DbConn, account_id: i64, user_id: i64) -> ScimResult<ScimUser> {
    diesel::update(
        users::table
            .filter(users::id.eq(user_id))
            .filter(users::account_id.eq(account_id)),
    )
    .set(users::session_epoch.eq(users::session_epoch))
    .execute(conn)?;
    Ok(get(conn, account_id, user_id)?)
}

fn row_of(conn: &mut DbConn, user_id: i64) -> ScimResult<Option<ScimRow>> {
    Ok(scim_users::table
        .find(user_id)
        .select(ScimRow::as_select())
        .first(conn)
        .optional()?)
}

fn blank_row(user: &User, now: NaiveDateTime) -> ScimRow {
    ScimRow {
        user_id: user.id,
        account_id: user.account_id,
        external_id: None,
        display_name: None,
        manager_email: None,
        deprovisioned_at: None,
        updated_at: now,
    }
}

fn save_row(conn: &mut DbConn, row: &ScimRow) -> ScimResult<()> {
    let updated = diesel::update(scim_users::table.find(row.user_id))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(scim_users::table).values(row).execute(conn)?;
    }
    Ok(())
}

fn insert(conn: &mut DbConn, by: &ActorInfo, fields: &UserFields, now: NaiveDateTime) -> ScimResult<ScimUser> {
    let fields = &with_manager_email(conn, by.account_id, fields)?;
    let new = NewUser::member(
        by.account_id,
        &fields.user_name,
        &fields.given_name,
        &fields.family_name,
        now,
    );
    let id: i64 = diesel::insert_into(users::table)
        .values(&new)
        .returning(users::id)
        .get_result(conn)?;
    let user = user_queries::find_in_account(conn, by.account_id, id)?;
    let row = ScimRow {
        external_id: fields.external_id.clone(),
        display_name: fields.display_name.clone(),
        manager_email: fields.manager.clone(),
        ..blank_row(&user, now)
    };
    save_row(conn, &row)?;
    record(
        conn,
        by,
        "scim_create",
        &user,
        "created as an active member".into(),
        now,
    )?;
    webhooks::emit(conn, by, EventKind::Created, &[&user], now)?;
    if !fields.active {
        act(conn, by, user.id, Action::Deactivate, &Transfer::default(), now)?;
    }
    Ok(get(conn, by.account_id, user.id)?)
}

/// Writes what differs between `current` and `new`: the profile, then the status.
fn change(
    conn: &mut DbConn,
    by: &ActorInfo,
    current: ScimUser,
    new: &UserFields,
    now: NaiveDateTime,
) -> ScimResult<ScimUser> {
    let old = current.fields();
    let new = &with_manager_email(conn, by.account_id, new)?;
    let relinked = current.extra.as_ref().is_some_and(|e| e.deprovisioned_at.is_some());
    let changed = changed_attributes(&old, new);
    if !changed.is_empty() || relinked {
        if new.user_name != old.user_name && user_queries::find_any_by_email(conn, &new.user_name)?.is_some() {
            return Err(taken(&new.user_name));
        }
        write_profile(conn, &current, new, now)?;
        let mut parts = Vec::new();
        if relinked {
            parts.push("linked again".to_string());
        }
        if !changed.is_empty() {
            parts.push(format!("changed: {}", changed.join(", ")));
        }
        let detail = parts.join("; ");
        let user = user_queries::find_in_account(conn, by.account_id, current.user.id)?;
        record(conn, by, "scim_update", &user, detail, now)?;
        webhooks::emit(conn, by, EventKind::Updated, &[&user], now)?;
    }
    if new.active != old.active {
        let action = if new.active {
            Action::Activate
        } else {
            Action::Deactivate
        };
        act(conn, by, current.user.id, action, &Transfer::default(), now)?;
    }
    Ok(get(conn, by.account_id, current.user.id)?)
}

/// The manager as an email: a manager named by id (Entra ID) must be a user of the account.
fn with_manager_email(conn: &mut DbConn, account_id: i64, fields: &UserFields) -> ScimResult<UserFields> {
    let mut fields = fields.clone();
    if let Some(id) = fields.manager.as_deref().filter(|m| resource::is_user_id(m)) {
        let id: i64 = id.parse().unwrap_or(-1);
        let manager = user_queries::find_in_account(conn, account_id, id)
            .map_err(|_| ScimError::InvalidValue(format!("manager.value {id} names no user of this account")))?;
        fields.manager = Some(manager.email);
    }
    Ok(fields)
}

/// The names of the attributes that differ, status aside.
fn changed_attributes(old: &UserFields, new: &UserFields) -> Vec<&'static str> {
    let pairs = [
        ("userName", old.user_name != new.user_name),
        ("name.givenName", old.given_name != new.given_name),
        ("name.familyName", old.family_name != new.family_name),
        ("displayName", old.display_name != new.display_name),
        ("externalId", old.external_id != new.external_id),
        ("manager", old.manager != new.manager),
    ];
    pairs.into_iter().filter(|(_, c)| *c).map(|(n, _)| n).collect()
}

fn write_profile(conn: &mut DbConn, current: &ScimUser, new: &UserFields, now: NaiveDateTime) -> ScimResult<()> {
    diesel::update(users::table.find(current.user.id))
        .set((
            users::email.eq(&new.user_name),
            users::first_name.eq(&new.given_name),
            users::last_name.eq(&new.family_name),
            users::first_lc.eq(new.given_name.to_lowercase()),
            users::last_lc.eq(new.family_name.to_lowercase()),
        ))
        .execute(conn)?;
    let row = ScimRow {
        external_id: new.external_id.clone(),
        display_name: new.display_name.clone(),
        manager_email: new.manager.clone(),
        deprovisioned_at: None,
        updated_at: now,
        ..blank_row(&current.user, now)
    };
    save_row(conn, &row)
}

/// A status act through the portal's own service function.
fn act(
    conn: &mut DbConn,
    by: &ActorInfo,
    user_id: i64,
    action: Action,
    transfer: &Transfer,
    now: NaiveDateTime,
) -> ScimResult<()> {
    let domains = user_queries::managed_domains(conn, by.account_id)?;
    let run = Run {
        by,
        action,
        transfer,
        origin: Origin::SINGLE,
        batch: &[],
        domains: &domains,
        now,
    };
    user_actions::perform_in(conn, &run, user_id)?;
    Ok(())
}

fn record(
    conn: &mut DbConn,
    by: &ActorInfo,
    action: &str,
    user: &User,
    detail: String,
    now: NaiveDateTime,
) -> ScimResult<()> {
    audit::record(
        conn,
        &NewAuditEntry {
            target_id: Some(user.id),
            target_email: user.email.clone(),
            detail,
            ..audit::by(by, action, now)
        },
    )?;
    Ok(())
}
