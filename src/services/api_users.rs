//! The queries and acts of the REST API (B4) that the portal pages do not
//! already have: users paged by size and role, lookup by id or email, role
//! ids as the meeting platform numbers them, and role membership changes
//! made of the portal's own role services.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{CustomRole, User};
use crate::db::schema::{custom_roles, users};
use crate::db::DbConn;
use crate::domain::{Refusal, Role, Status};

use super::{ActorInfo, ServiceError, ServiceResult};

/// A role as the platform's API names it: "0" owner, "1" admin, "2" member,
/// `c` and a custom role's id (custom roles are admins', so an admin with
/// one carries its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleRef {
    Owner,
    Admin,
    Member,
    Custom(i64),
}

impl RoleRef {
    pub fn parse(s: &str) -> Option<RoleRef> {
        match s.trim() {
            "0" => Some(RoleRef::Owner),
            "1" => Some(RoleRef::Admin),
            "2" => Some(RoleRef::Member),
            other => other
                .strip_prefix('c')
                .and_then(|id| id.parse::<i64>().ok())
                .map(RoleRef::Custom),
        }
    }

    pub fn of(u: &User) -> RoleRef {
        match (Some(u.role), u.custom_role_id) {
            (Some(Role::Owner), _) => RoleRef::Owner,
            (Some(Role::Admin), Some(id)) => RoleRef::Custom(id),
            (Some(Role::Admin), None) => RoleRef::Admin,
            _ => RoleRef::Member,
        }
    }

    pub fn id(self) -> String {
        match self {
            RoleRef::Owner => "0".into(),
            RoleRef::Admin => "1".into(),
            RoleRef::Member => "2".into(),
            RoleRef::Custom(id) => format!("c{id}"),
        }
    }
}

/// The account's custom roles by id.
pub fn custom_role_names(conn: &mut DbConn, account_id: i64) -> ServiceResult<HashMap<i64, String>> {
    let roles: Vec<CustomRole> = custom_roles::table
        .filter(custom_roles::account_id.eq(account_id))
        .select(CustomRole::as_select())
        .load(conn)?;
    Ok(roles.into_iter().map(|r| (r.id, r.name)).collect())
}

#[derive(Debug, Clone)]
pub struct Query {
    pub status: Status,
    pub role: Option<RoleRef>,
    /// Keyset cursor: the last email of the previous page.
    pub after: Option<String>,
    pub page_size: i64,
    /// How long a counted total is reused (0: count every time).
    pub total_fresh: std::time::Duration,
}

pub struct Page {
    pub users: Vec<User>,
    pub next_after: Option<String>,
    pub total: i64,
}

type Backend = <DbConn as diesel::Connection>::Backend;

fn filtered(account_id: i64, q: &Query) -> users::BoxedQuery<'static, Backend> {
    let mut b = users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::status.eq(q.status.as_str()))
        .into_boxed();
    b = match q.role {
        None => b,
        Some(RoleRef::Owner) => b.filter(users::role.eq(Role::Owner.as_str())),
        Some(RoleRef::Admin) => b
            .filter(users::role.eq(Role::Admin.as_str()))
            .filter(users::custom_role_id.is_null()),
        Some(RoleRef::Member) => b.filter(users::role.eq(Role::Member.as_str())),
        Some(RoleRef::Custom(id)) => b.filter(users::custom_role_id.eq(id)),
    };
    b
}

type Totals = std::sync::Mutex<HashMap<(i64, &'static str, i64), (i64, std::time::Instant)>>;

/// The number of users a list query matches. Counting a million rows takes
/// a few hundred milliseconds, so each instance keeps a count for
/// `OFFBOARD_API_TOTAL_SECONDS` (30): `total_records` may lag by that much,
/// the pages never do.
fn total_of(conn: &mut DbConn, account_id: i64, q: &Query) -> ServiceResult<i64> {
    static TOTALS: std::sync::OnceLock<Totals> = std::sync::OnceLock::new();
    let totals = TOTALS.get_or_init(Default::default);
    let role = match q.role {
        None => -1,
        Some(RoleRef::Owner) => -2,
        Some(RoleRef::Admin) => -3,
        Some(RoleRef::Member) => -4,
        Some(RoleRef::Custom(id)) => id,
    };
    if q.role.is_none() {
        // Kept exact by triggers (issue 18): no count, no cache.
        return Ok(crate::db::schema::user_counts::table
            .find((account_id, q.status.as_str()))
            .select(crate::db::schema::user_counts::n)
            .first(conn)
            .optional()?
            .unwrap_or(0));
    }
    let key = (account_id, q.status.as_str(), role);
    if let Some((n, at)) = totals.lock().ok().and_then(|t| t.get(&key).copied()) {
        if at.elapsed() < q.total_fresh {
            return Ok(n);
        }
    }
    // One count at a time: requests that missed together wait for it
    // instead of each counting the same rows.
    static COUNTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = COUNTING.lock();
    if let Some((n, at)) = totals.lock().ok().and_then(|t| t.get(&key).copied()) {
        if at.elapsed() < q.total_fresh {
            return Ok(n);
        }
    }
    let n: i64 = filtered(account_id, q).count().get_result(conn)?;
    if let Ok(mut t) = totals.lock() {
        t.insert(key, (n, std::time::Instant::now()));
    }
    Ok(n)
}

/// One page ordered by email (the `(account_id, status, email)` index): no OFFSET.
pub fn list(conn: &mut DbConn, account_id: i64, q: &Query) -> ServiceResult<Page> {
    let mut page = filtered(account_id, q)
        .select(User::as_select())
        .order(users::email.asc())
        .limit(q.page_size + 1);
    if let Some(after) = &q.after {
        page = page.filter(users::email.gt(after.clone()));
    }
    let mut found: Vec<User> = page.load(conn)?;
    let total = total_of(conn, account_id, q)?;
    let next_after = if found.len() as i64 > q.page_size {
        found.truncate(q.page_size as usize);
        found.last().map(|u| u.email.clone())
    } else {
        None
    };
    Ok(Page {
        users: found,
        next_after,
        total,
    })
}

/// A user of the account by id or email; any other user is not found.
pub fn find(conn: &mut DbConn, account_id: i64, id_or_email: &str) -> ServiceResult<User> {
    let key = id_or_email.trim();
    let found = if key.contains('@') {
        super::users::find_by_email(conn, account_id, key)?
    } else {
        match key.parse::<i64>() {
            Ok(id) => super::users::find_in_account(conn, account_id, id)
                .map(Some)
                .or_else(|e| match e {
                    ServiceError::NotFound => Ok(None),
                    other => Err(other),
                })?,
            Err(_) => None,
        }
    };
    found.ok_or(ServiceError::NotFound)
}

/// Whether the role exists in this account.
pub fn role_exists(conn: &mut DbConn, account_id: i64, role: RoleRef) -> ServiceResult<bool> {
    match role {
        RoleRef::Custom(id) => Ok(custom_role_names(conn, account_id)?.contains_key(&id)),
        _ => Ok(true),
    }
}

/// Users per role: built-in roles by base role (admins without a custom role), custom ones by id.
pub fn member_counts(conn: &mut DbConn, account_id: i64) -> ServiceResult<HashMap<String, i64>> {
    let rows: Vec<(String, Option<i64>)> = users::table
        .filter(users::account_id.eq(account_id))
        .select((users::role, users::custom_role_id))
        .load(conn)?;
    let mut counts = HashMap::new();
    for (role, custom) in rows {
        let r = match (Role::parse(&role), custom) {
            (Some(Role::Owner), _) => RoleRef::Owner,
            (Some(Role::Admin), Some(id)) => RoleRef::Custom(id),
            (Some(Role::Admin), None) => RoleRef::Admin,
            _ => RoleRef::Member,
        };
        *counts.entry(r.id()).or_insert(0) += 1;
    }
    Ok(counts)
}

/// `POST /roles/{roleId}/members`: gives each user the role, all or none,
/// through the portal's Edit-user services (R3: only the owner changes
/// admins; custom roles are admins'). A user who already has the role is
/// left alone. Returns the ids changed; the error names the user refused.
pub fn set_role(
    conn: &mut DbConn,
    by: &ActorInfo,
    role: RoleRef,
    user_ids: &[i64],
    now: NaiveDateTime,
) -> Result<(), MemberError> {
    crate::db::write_transaction(conn, |conn| {
        for &user_id in user_ids {
            give(conn, by, role, user_id, now).map_err(|error| MemberError {
                user_id: Some(user_id),
                error,
            })?;
        }
        Ok(())
    })
}

/// Why a role change stopped, and for which user.
#[derive(Debug)]
pub struct MemberError {
    pub user_id: Option<i64>,
    pub error: ServiceError,
}

fn give(conn: &mut DbConn, by: &ActorInfo, role: RoleRef, user_id: i64, now: NaiveDateTime) -> ServiceResult<()> {
    let user = super::users::find_in_account(conn, by.account_id, user_id)?;
    if RoleRef::of(&user) == role {
        return Ok(());
    }
    match role {
        RoleRef::Owner => Err(Refusal::Owner.into()),
        RoleRef::Member => super::user_actions::change_role(conn, by, user_id, Role::Member, now).map(|_| ()),
        RoleRef::Admin => {
            super::user_actions::change_role(conn, by, user_id, Role::Admin, now)?;
            if user.custom_role_id.is_some() {
                super::roles::assign_role(conn, by, user_id, None, now)?;
            }
            Ok(())
        }
        RoleRef::Custom(id) => {
            super::user_actions::change_role(conn, by, user_id, Role::Admin, now)?;
            super::roles::assign_role(conn, by, user_id, Some(id), now)
        }
    }
}

impl crate::db::Retryable for MemberError {
    fn retryable(&self) -> bool {
        crate::db::Retryable::retryable(&self.error)
    }
}

impl From<diesel::result::Error> for MemberError {
    fn from(e: diesel::result::Error) -> Self {
        MemberError {
            user_id: None,
            error: e.into(),
        }
    }
}

/// A job's rows in line order after `after_line` (the API pages them), as
/// they read at the job's cursor.
pub fn import_rows_after(
    conn: &mut DbConn,
    job: &crate::db::models::ImportJob,
    after_line: i64,
    limit: i64,
) -> ServiceResult<Vec<crate::db::models::ImportRow>> {
    use crate::db::schema::import_rows;
    let rows: Vec<crate::db::models::ImportRow> = import_rows::table
        .filter(import_rows::job_id.eq(job.id))
        .filter(import_rows::line.gt(after_line))
        .order(import_rows::line)
        .limit(limit)
        .select(crate::db::models::ImportRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| super::import::as_applied(row, job.applied_through))
        .collect())
}
