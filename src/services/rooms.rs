//! The Rooms page (R43): meeting-room devices appear as users but are
//! deleted only here, which deletes their user too.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{NewAuditEntry, User};
use crate::db::schema::{cloud_recordings, events, meetings, phone_records, users, webinars};
use crate::db::{write_transaction, DbConn};
use crate::domain::webhooks::EventKind;
use crate::domain::{Refusal, Role};

use super::{audit, ActorInfo, ServiceError, ServiceResult};

/// A room as the page lists it.
#[derive(Debug, Clone)]
pub struct RoomView {
    pub id: i64,
    pub name: String,
    pub location: String,
    pub email: String,
    pub status: crate::domain::Status,
}

/// The room's location, kept in the user's settings (`{"location": "..."}`).
fn location(settings: &str) -> String {
    serde_json::from_str::<serde_json::Value>(settings)
        .ok()
        .and_then(|v| v.get("location").and_then(|l| l.as_str()).map(str::to_string))
        .unwrap_or_default()
}

fn view(u: &User) -> RoomView {
    RoomView {
        id: u.id,
        name: u.full_name(),
        location: location(&u.settings),
        email: u.email.clone(),
        status: u.status,
    }
}

pub fn list_rooms(conn: &mut DbConn, account_id: i64) -> ServiceResult<Vec<RoomView>> {
    let rooms: Vec<User> = users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::is_room.eq(true))
        .order(users::email)
        .select(User::as_select())
        .load(conn)?;
    Ok(rooms.iter().map(view).collect())
}

/// The chosen rooms of this account (ids of other accounts or of people are
/// not rooms here), for the confirmation.
pub fn chosen_rooms(conn: &mut DbConn, account_id: i64, ids: &[i64]) -> ServiceResult<Vec<RoomView>> {
    let rooms: Vec<User> = users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::is_room.eq(true))
        .filter(users::id.eq_any(ids))
        .order(users::email)
        .select(User::as_select())
        .load(conn)?;
    Ok(rooms.iter().map(view).collect())
}

/// Deletes the chosen rooms and their users, each audited and announced
/// (`user.deleted`), in one transaction. The owner and admins only (R1).
pub fn delete_rooms(conn: &mut DbConn, by: &ActorInfo, ids: &[i64], now: NaiveDateTime) -> ServiceResult<usize> {
    if !matches!(by.actor.role, Role::Owner | Role::Admin) {
        return Err(Refusal::NotAdmin.into());
    }
    write_transaction(conn, |conn| {
        let rooms: Vec<User> = users::table
            .filter(users::account_id.eq(by.account_id))
            .filter(users::is_room.eq(true))
            .filter(users::id.eq_any(ids))
            .select(User::as_select())
            .load(conn)?;
        if rooms.is_empty() {
            return Err(ServiceError::Invalid(crate::i18n::tr(by.lang, "rooms-choose")));
        }
        let gone: Vec<i64> = rooms.iter().map(|r| r.id).collect();
        diesel::update(phone_records::table.filter(phone_records::user_id.eq_any(&gone)))
            .set(phone_records::user_id.eq(None::<i64>))
            .execute(conn)?;
        diesel::delete(meetings::table.filter(meetings::owner_id.eq_any(&gone))).execute(conn)?;
        diesel::delete(webinars::table.filter(webinars::owner_id.eq_any(&gone))).execute(conn)?;
        diesel::delete(events::table.filter(events::owner_id.eq_any(&gone))).execute(conn)?;
        diesel::delete(cloud_recordings::table.filter(cloud_recordings::owner_id.eq_any(&gone))).execute(conn)?;
        diesel::delete(users::table.filter(users::id.eq_any(&gone))).execute(conn)?;
        for r in &rooms {
            audit::record(
                conn,
                &NewAuditEntry {
                    target_id: Some(r.id),
                    target_email: r.email.clone(),
                    detail: format!("room: {}", r.full_name()),
                    ..audit::by(by, "delete_room", now)
                },
            )?;
        }
        let refs: Vec<&User> = rooms.iter().collect();
        super::webhooks::emit(conn, by, EventKind::Deleted, &refs, now)?;
        Ok(rooms.len())
    })
}
