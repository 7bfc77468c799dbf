//! Demo and benchmark data, and the first owner of an account.

use crate::domain::{Role, Status, UserType};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::*;
use crate::db::schema::*;
use crate::db::DbConn;
use crate::domain::BULK_PRIVILEGE;

use super::{ServiceError, ServiceResult};

const FIRST_NAMES: &[&str] = &[
    "Anna", "Bram", "Citra", "Daan", "Eva", "Fajar", "Gita", "Hendrik", "Indah", "Joost", "Kartika", "Lars", "Maria",
    "Noor", "Oscar", "Putri", "Quinten", "Rina", "Sanne", "Teguh", "Umar", "Vera", "Wulan", "Xander", "Yusuf", "Zoe",
    "Agus", "Bas", "Dewi", "Emma", "Fenna", "Gilang", "Hana", "Ivo", "Jasmijn", "Kevin",
];
const LAST_NAMES: &[&str] = &[
    "de Vries",
    "Jansen",
    "Santoso",
    "Bakker",
    "Wijaya",
    "Visser",
    "Smit",
    "Hidayat",
    "Meijer",
    "Kusuma",
    "de Boer",
    "Mulder",
    "Pratama",
    "Bos",
    "Vos",
    "Saputra",
    "Peters",
    "Hendriks",
    "Lestari",
    "van Dijk",
    "Setiawan",
    "Dekker",
    "Nugroho",
    "Brouwer",
    "Wibowo",
    "de Graaf",
    "Gunawan",
    "van Leeuwen",
    "Halim",
    "Kok",
];

pub struct Seeded {
    pub account_id: i64,
    pub owner_email: String,
    pub users: i64,
}

fn new_account(conn: &mut DbConn, name: &str, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(accounts::table)
        .values(&NewAccount {
            name,
            is_free: false,
            created_at: now,
        })
        .returning(accounts::id)
        .get_result(conn)
}

fn insert_user(conn: &mut DbConn, user: &NewUser) -> QueryResult<i64> {
    diesel::insert_into(users::table)
        .values(user)
        .returning(users::id)
        .get_result(conn)
}

/// Multi-row inserts do not compile through `MultiConnection`: one arm each.
macro_rules! insert_many {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
            DbConn::Pg(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}

/// `create-owner`: a new account whose owner signs in with this password.
pub fn create_owner(
    conn: &mut DbConn,
    email: &str,
    password_hash: String,
    now: NaiveDateTime,
) -> ServiceResult<Seeded> {
    let Some(email) = crate::email::parse(email) else {
        return Err(ServiceError::Invalid(format!(
            "'{}' is not an email address",
            email.trim()
        )));
    };
    conn.transaction(|conn| {
        if super::users::find_any_by_email(conn, &email)?.is_some() {
            return Err(ServiceError::Invalid(format!("{email} already has a user")));
        }
        let account_id = new_account(conn, "My account", now)?;
        let mut owner = NewUser::member(account_id, &email, "Account", "Owner", now);
        owner.role = Role::Owner;
        owner.user_type = UserType::Licensed;
        owner.password_hash = Some(password_hash);
        insert_user(conn, &owner)?;
        Ok(Seeded {
            account_id,
            owner_email: email,
            users: 1,
        })
    })
}

pub fn has_accounts(conn: &mut DbConn) -> ServiceResult<bool> {
    Ok(accounts::table
        .select(accounts::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// The demo account of the README: every kind of user the rules talk about,
/// all signing in with one password.
pub fn seed_demo(conn: &mut DbConn, password_hash: &str, now: NaiveDateTime) -> ServiceResult<Seeded> {
    conn.transaction(|conn| {
        let account_id = new_account(conn, "Acme Demo", now)?;
        let role_id = demo_settings(conn, account_id)?;
        let with_password = |mut u: NewUser| {
            u.password_hash = Some(password_hash.to_string());
            u
        };
        for u in demo_staff(account_id, role_id, now) {
            let signs_in = !u.is_room;
            insert_user(conn, &if signs_in { with_password(u) } else { u })?;
        }
        for (email, name, place) in [
            ("room-focus@acme.example", "Focus", "Amsterdam, floor 2"),
            ("room-jakarta@acme.example", "Jakarta", "Jakarta, floor 12"),
        ] {
            let mut room = NewUser::member(account_id, email, name, "Room", now);
            room.is_room = true;
            room.settings = serde_json::json!({ "location": place }).to_string();
            insert_user(conn, &room)?;
        }
        let mut count = 6;
        for i in 0..200usize {
            let u = demo_member(account_id, i, now);
            let phone = u.phone_license;
            let email = u.email.clone();
            let id = insert_user(conn, &with_password(u))?;
            add_content(conn, account_id, id, &email, i, phone, now)?;
            count += 1;
        }
        demo_history(conn, account_id, now)?;
        Ok(Seeded {
            account_id,
            owner_email: "owner@acme.example".into(),
            users: count,
        })
    })
}

/// A demo with a past: automatic deletion on after 75 days (some
/// deactivated users fall due within the month, none today), four weeks of
/// audit entries (the deactivations as they happened, a few unlinks,
/// deletes and reactivations), and a leaver scheduled for next week.
fn demo_history(conn: &mut DbConn, account_id: i64, now: NaiveDateTime) -> ServiceResult<()> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::auto_delete_enabled.eq(true),
            accounts::auto_delete_days.eq(75),
        ))
        .execute(conn)?;
    let admin: (i64, String) = users::table
        .filter(users::email.eq("admin@acme.example"))
        .select((users::id, users::email))
        .first(conn)?;
    let gone: Vec<(i64, String, Option<NaiveDateTime>)> = users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::status.eq(Status::Deactivated))
        .select((users::id, users::email, users::deactivated_at))
        .load(conn)?;
    let entry = |action: &str, email: String, target: Option<i64>, at: NaiveDateTime, source: &str| NewAuditEntry {
        account_id,
        at,
        actor_id: Some(admin.0),
        actor_email: admin.1.clone(),
        action: action.into(),
        target_id: target,
        target_email: email,
        source: source.into(),
        ..Default::default()
    };
    let mut entries: Vec<NewAuditEntry> = gone
        .iter()
        .filter_map(|(id, email, at)| Some(entry("deactivate", email.clone(), Some(*id), (*at)?, "single")))
        .filter(|e| e.at > now - Duration::days(28))
        .collect();
    for d in 0..28i64 {
        let at = now - Duration::days(d) - Duration::hours(3);
        let who = |kind: &str| format!("{kind}.leaver{d}@acme.example");
        match d % 4 {
            0 => entries.push(entry("delete", who("deleted"), None, at, "bulk")),
            1 => entries.push(entry("unlink", who("unlinked"), None, at, "csv")),
            2 => entries.push(entry("activate", who("back"), None, at, "single")),
            _ => {}
        }
    }
    entries.sort_by_key(|e| e.at);
    for e in &entries {
        crate::services::audit::record(conn, e)?;
    }
    let leaver: (i64, String) = users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::status.eq(Status::Active))
        .filter(users::role.eq(Role::Member.as_str()))
        .filter(users::is_room.eq(false))
        .order(users::email.desc())
        .offset(3)
        .select((users::id, users::email))
        .first(conn)?;
    diesel::insert_into(scheduled_acts::table)
        .values((
            scheduled_acts::account_id.eq(account_id),
            scheduled_acts::user_id.eq(leaver.0),
            scheduled_acts::user_email.eq(&leaver.1),
            scheduled_acts::action.eq("deactivate"),
            scheduled_acts::due_at.eq(now + Duration::days(7)),
            scheduled_acts::scheduled_by_id.eq(admin.0),
            scheduled_acts::scheduled_by_email.eq(&admin.1),
            scheduled_acts::state.eq(crate::domain::ScheduleState::Scheduled),
            scheduled_acts::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The demo's managed domain and its custom role "Helpdesk" (bulk privilege).
fn demo_settings(conn: &mut DbConn, account_id: i64) -> ServiceResult<i64> {
    diesel::insert_into(managed_domains::table)
        .values((
            managed_domains::account_id.eq(account_id),
            managed_domains::domain.eq("acme.example"),
        ))
        .execute(conn)?;
    let role_id: i64 = diesel::insert_into(custom_roles::table)
        .values((
            custom_roles::account_id.eq(account_id),
            custom_roles::name.eq("Helpdesk"),
        ))
        .returning(custom_roles::id)
        .get_result(conn)?;
    diesel::insert_into(role_privileges::table)
        .values((
            role_privileges::role_id.eq(role_id),
            role_privileges::privilege.eq(BULK_PRIVILEGE),
        ))
        .execute(conn)?;
    Ok(role_id)
}

/// The owner, an admin, a Helpdesk admin and a room.
fn demo_staff(account_id: i64, helpdesk_role: i64, now: NaiveDateTime) -> [NewUser; 4] {
    let mut owner = NewUser::member(account_id, "owner@acme.example", "Olivia", "Owner", now);
    owner.role = Role::Owner;
    owner.user_type = UserType::Licensed;
    owner.webinar_license = true;
    let mut admin = NewUser::member(account_id, "admin@acme.example", "Anna", "Admin", now);
    admin.role = Role::Admin;
    admin.user_type = UserType::Licensed;
    let mut helpdesk = NewUser::member(account_id, "helpdesk@acme.example", "Bram", "Beheerder", now);
    helpdesk.role = Role::Admin;
    helpdesk.custom_role_id = Some(helpdesk_role);
    let mut room = NewUser::member(account_id, "room-boardroom@acme.example", "Boardroom", "Room", now);
    room.is_room = true;
    room.settings = r#"{"location":"Amsterdam, floor 3"}"#.into();
    [owner, admin, helpdesk, room]
}

/// Member `i` of the demo: names, domains, licenses and statuses spread so
/// every kind the rules talk about shows up.
fn demo_member(account_id: i64, i: usize, now: NaiveDateTime) -> NewUser {
    let first = FIRST_NAMES[i % FIRST_NAMES.len()];
    let last = LAST_NAMES[(i * 7) % LAST_NAMES.len()];
    let slug = format!("{}.{}{}", first, last.replace(' ', ""), i).to_lowercase();
    let domain = match i % 25 {
        0..=2 => "partner.example",
        3 => "external.example",
        _ => "acme.example",
    };
    let mut u = NewUser::member(account_id, &format!("{slug}@{domain}"), first, last, now);
    u.is_external = domain == "external.example";
    if i.is_multiple_of(2) {
        u.user_type = UserType::Licensed;
        u.webinar_license = i.is_multiple_of(10);
        u.phone_license = i.is_multiple_of(6);
    }
    if i % 11 == 5 {
        u.status = Status::Pending;
    } else if i % 9 == 4 {
        u.status = Status::Deactivated;
        u.user_type = UserType::Basic;
        u.webinar_license = false;
        u.phone_license = false;
        u.deactivated_at = Some(now - Duration::days((i % 60) as i64 + 1));
    }
    u
}

/// Meetings (one in three on the PMI), webinars, events, recordings and
/// phone records, spread by the user's index so every kind shows up.
fn add_content(
    conn: &mut DbConn,
    account_id: i64,
    owner_id: i64,
    email: &str,
    i: usize,
    phone: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let when = now + Duration::days((i % 30) as i64 + 1);
    let meetings: Vec<NewMeeting> = (0..i % 4)
        .map(|k| NewMeeting {
            owner_id,
            topic: format!("Meeting {}", k + 1),
            uses_pmi: k == 2,
            start_at: when,
        })
        .collect();
    insert_many!(conn, meetings::table, &meetings)?;
    if i.is_multiple_of(5) {
        insert_many!(
            conn,
            webinars::table,
            &vec![NewWebinar {
                owner_id,
                topic: "Quarterly webinar".into(),
                start_at: when
            }]
        )?;
    }
    if i.is_multiple_of(3) {
        insert_many!(
            conn,
            events::table,
            &vec![NewEvent {
                owner_id,
                title: "Team event".into(),
                start_at: when
            }]
        )?;
    }
    if i.is_multiple_of(2) {
        let recs: Vec<NewRecording> = (0..(i % 3) + 1)
            .map(|k| NewRecording {
                owner_id,
                topic: format!("Recording {}", k + 1),
                size_bytes: 1_000_000 * (k as i64 + 1),
                recorded_at: now,
            })
            .collect();
        insert_many!(conn, cloud_recordings::table, &recs)?;
    }
    if phone {
        add_phone_records(conn, account_id, owner_id, email, now)?;
    }
    Ok(())
}

/// A call recording and a voicemail (R45: they stay in the account's log).
fn add_phone_records(
    conn: &mut DbConn,
    account_id: i64,
    owner_id: i64,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let recs: Vec<NewPhoneRecord> = ["call_recording", "voicemail"]
        .iter()
        .map(|kind| NewPhoneRecord {
            account_id,
            user_id: Some(owner_id),
            user_email: email.to_string(),
            kind: kind.to_string(),
            created_at: now,
        })
        .collect();
    insert_many!(conn, phone_records::table, &recs)?;
    Ok(())
}

/// A large account for benchmarks: `n` users (the owner included), emails
/// `u0000001@bench.example`..., inserted in multi-row batches in one transaction.
pub fn seed_big(conn: &mut DbConn, n: i64, owner_hash: String, now: NaiveDateTime) -> ServiceResult<Seeded> {
    const BATCH: i64 = 1000;
    conn.transaction(|conn| {
        let account_id = new_account(conn, "Bench Corp", now)?;
        let mut owner = NewUser::member(account_id, "owner@bench.example", "Bench", "Owner", now);
        owner.role = Role::Owner;
        owner.user_type = UserType::Licensed;
        owner.webinar_license = true;
        owner.password_hash = Some(owner_hash.clone());
        insert_user(conn, &owner)?;
        let mut start = 1;
        while start < n {
            let end = (start + BATCH).min(n);
            let batch: Vec<NewUser> = (start..end).map(|i| bench_user(account_id, i, now)).collect();
            insert_many!(conn, users::table, &batch)?;
            let ids: Vec<i64> = users::table
                .filter(users::account_id.eq(account_id))
                .filter(users::email.ge(&batch[0].email))
                .filter(users::email.le(&batch[batch.len() - 1].email))
                .select(users::id)
                .order(users::email)
                .load(conn)?;
            add_bench_content(conn, start, &ids, now)?;
            start = end;
        }
        Ok(Seeded {
            account_id,
            owner_email: "owner@bench.example".into(),
            users: n,
        })
    })
}

/// Meetings, recordings, webinars and events for a batch of bench users
/// (`ids` in email order, the first being user number `start`).
fn add_bench_content(conn: &mut DbConn, start: i64, ids: &[i64], now: NaiveDateTime) -> QueryResult<()> {
    let (mut meetings, mut webinars, mut events, mut recordings) = (vec![], vec![], vec![], vec![]);
    for (k, id) in ids.iter().copied().enumerate() {
        let i = start + k as i64;
        if i % 4 == 0 {
            let topic = "Weekly".into();
            meetings.push(NewMeeting {
                owner_id: id,
                topic,
                uses_pmi: i % 12 == 0,
                start_at: now,
            });
        }
        if i % 8 == 0 {
            let topic = "Recording".into();
            recordings.push(NewRecording {
                owner_id: id,
                topic,
                size_bytes: 1 << 20,
                recorded_at: now,
            });
        }
        if i % 20 == 0 {
            let topic = "Webinar".into();
            webinars.push(NewWebinar {
                owner_id: id,
                topic,
                start_at: now,
            });
            let title = "Event".into();
            events.push(NewEvent {
                owner_id: id,
                title,
                start_at: now,
            });
        }
    }
    insert_many!(conn, meetings::table, &meetings)?;
    insert_many!(conn, webinars::table, &webinars)?;
    insert_many!(conn, events::table, &events)?;
    insert_many!(conn, cloud_recordings::table, &recordings)?;
    Ok(())
}

pub fn bench_email(i: i64) -> String {
    format!("u{i:07}@bench.example")
}

fn bench_user(account_id: i64, i: i64, now: NaiveDateTime) -> NewUser {
    let first = FIRST_NAMES[(i as usize) % FIRST_NAMES.len()];
    let last = LAST_NAMES[(i as usize / FIRST_NAMES.len()) % LAST_NAMES.len()];
    let mut u = NewUser::member(account_id, &bench_email(i), first, last, now);
    match i % 20 {
        0 => u.status = Status::Pending,
        1 => {
            u.status = Status::Deactivated;
            u.deactivated_at = Some(now - Duration::days(i % 90));
        }
        _ => {
            if i % 2 == 0 {
                u.user_type = UserType::Licensed;
                u.webinar_license = i % 10 == 0;
            }
        }
    }
    u
}
