//! What a SCIM DELETE does in an account: deactivate (the default, the
//! safest), unlink, or delete transferring meetings, webinars, events and
//! recordings to a named user, who must pass the transfer rules (R50-R53).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::NewAuditEntry;
use crate::db::schema::scim_settings;
use crate::db::DbConn;
use crate::domain::{check_transfer, Action, Refusal, TransferChoice};
use crate::services::{audit, users as user_queries, ActorInfo, ServiceError, ServiceResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub action: Action,
    /// The heir of a delete's data.
    pub transfer_to: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            action: Action::Deactivate,
            transfer_to: None,
        }
    }
}

/// The acts a SCIM DELETE may be set to.
pub fn parse_action(s: &str) -> Option<Action> {
    Action::parse(s).filter(|a| *a != Action::Activate)
}

pub fn load(conn: &mut DbConn, account_id: i64) -> ServiceResult<Settings> {
    let row: Option<(String, Option<String>)> = scim_settings::table
        .find(account_id)
        .select((scim_settings::delete_action, scim_settings::transfer_to))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((action, transfer_to)) => Settings {
            action: parse_action(&action).unwrap_or(Action::Deactivate),
            transfer_to,
        },
        None => Settings::default(),
    })
}

/// Saves the choice, audited; a delete needs a target who may take all four kinds.
pub fn save(conn: &mut DbConn, by: &ActorInfo, new: &Settings, now: NaiveDateTime) -> ServiceResult<()> {
    if !by.actor.is_admin() {
        return Err(Refusal::NotAdmin.into());
    }
    crate::db::write_transaction(conn, |conn| {
        let transfer_to = match new.action {
            Action::Delete => Some(check_heir(conn, by.account_id, new.transfer_to.as_deref())?),
            _ => None,
        };
        let old = load(conn, by.account_id)?;
        let values = (
            scim_settings::account_id.eq(by.account_id),
            scim_settings::delete_action.eq(new.action.as_str()),
            scim_settings::transfer_to.eq(transfer_to.clone()),
            scim_settings::updated_at.eq(now),
        );
        let updated = diesel::update(scim_settings::table.find(by.account_id))
            .set(values.clone())
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(scim_settings::table).values(values).execute(conn)?;
        }
        let text = |s: &Settings, to: Option<&str>| match to {
            Some(to) => format!("{} (data to {to})", s.action.as_str()),
            None => s.action.as_str().to_string(),
        };
        let detail = format!(
            "{} -> {}",
            text(&old, old.transfer_to.as_deref()),
            text(new, transfer_to.as_deref())
        );
        audit::record(
            conn,
            &NewAuditEntry {
                detail,
                ..audit::by(by, "scim_settings", now)
            },
        )?;
        Ok(())
    })
}

/// The heir's email when they may take meetings, webinars, events and recordings.
fn check_heir(conn: &mut DbConn, account_id: i64, email: Option<&str>) -> ServiceResult<String> {
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    let found = match email {
        Some(e) => user_queries::find_any_by_email(conn, e)?,
        None => None,
    };
    let facts = found.as_ref().map(|u| user_queries::transfer_target(u, account_id));
    let all = TransferChoice {
        meetings: true,
        webinars: true,
        events: true,
        recordings: true,
    };
    // No user is being removed yet: 0 is nobody's id.
    check_transfer(0, &all, facts.as_ref(), &[])?;
    found
        .map(|u| u.email)
        .ok_or(ServiceError::Refused(Refusal::TargetMissing))
}
