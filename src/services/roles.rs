//! Role management (R5): the owner's custom roles, each a set of privileges,
//! given to admins. Every change is audited in its transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{CustomRole, NewAuditEntry};
use crate::db::schema::{custom_roles, role_privileges, users};
use crate::db::DbConn;
use crate::domain::{Refusal, Role, PRIVILEGES};
use crate::i18n::tr_args;

use super::ActorInfo;
use super::{audit, users as user_queries, ServiceError, ServiceResult};

#[derive(Debug, Clone)]
pub struct RoleView {
    pub id: i64,
    pub name: String,
    pub privileges: Vec<String>,
    pub members: i64,
}

pub fn list_roles(conn: &mut DbConn, account_id: i64) -> ServiceResult<Vec<RoleView>> {
    let roles: Vec<CustomRole> = custom_roles::table
        .filter(custom_roles::account_id.eq(account_id))
        .order(custom_roles::name)
        .select(CustomRole::as_select())
        .load(conn)?;
    roles
        .into_iter()
        .map(|r| {
            let privileges = role_privileges::table
                .filter(role_privileges::role_id.eq(r.id))
                .select(role_privileges::privilege)
                .order(role_privileges::privilege)
                .load(conn)?;
            let members = users::table
                .filter(users::custom_role_id.eq(r.id))
                .count()
                .get_result(conn)?;
            Ok(RoleView {
                id: r.id,
                name: r.name,
                privileges,
                members,
            })
        })
        .collect()
}

fn owner_only(by: &ActorInfo) -> ServiceResult<()> {
    if by.actor.role == Role::Owner {
        Ok(())
    } else {
        Err(Refusal::OnlyOwnerManagesRoles.into())
    }
}

fn clean(by: &ActorInfo, name: &str, privileges: &[String]) -> ServiceResult<String> {
    let bad = |key: &str, value: &str| ServiceError::Invalid(tr_args(by.lang, key, &[("value", value.to_string())]));
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(bad("bad-role-name", name));
    }
    if let Some(p) = privileges.iter().find(|p| !PRIVILEGES.iter().any(|(k, _)| k == p)) {
        return Err(bad("bad-privilege", p));
    }
    if Role::parse(&name.to_lowercase()).is_some() {
        return Err(bad("bad-builtin-role", name));
    }
    Ok(name.to_string())
}

/// Whether the custom role `role_id` holds `privilege`; no role holds none.
/// The one lookup behind the Admin extractor, CSV jobs and the Advanced tab.
pub fn has_privilege(conn: &mut DbConn, role_id: Option<i64>, privilege: &str) -> ServiceResult<bool> {
    let Some(role_id) = role_id else {
        return Ok(false);
    };
    let found: Option<i64> = role_privileges::table
        .filter(role_privileges::role_id.eq(role_id))
        .filter(role_privileges::privilege.eq(privilege))
        .select(role_privileges::role_id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

fn set_privileges(conn: &mut DbConn, role_id: i64, privileges: &[String]) -> QueryResult<()> {
    diesel::delete(role_privileges::table.filter(role_privileges::role_id.eq(role_id))).execute(conn)?;
    // A privilege ticked twice (a replayed or hand-made form) is given once.
    let mut unique: Vec<&String> = privileges.iter().collect();
    unique.sort();
    unique.dedup();
    for p in unique {
        diesel::insert_into(role_privileges::table)
            .values((role_privileges::role_id.eq(role_id), role_privileges::privilege.eq(p)))
            .execute(conn)?;
    }
    Ok(())
}

fn record(conn: &mut DbConn, by: &ActorInfo, action: &str, detail: String, now: NaiveDateTime) -> QueryResult<()> {
    audit::record(
        conn,
        &NewAuditEntry {
            detail,
            ..audit::by(by, action, now)
        },
    )
}

fn name_taken(conn: &mut DbConn, account_id: i64, name: &str, except: Option<i64>) -> ServiceResult<bool> {
    let ids: Vec<i64> = custom_roles::table
        .filter(custom_roles::account_id.eq(account_id))
        .filter(custom_roles::name.eq(name))
        .select(custom_roles::id)
        .load(conn)?;
    Ok(ids.iter().any(|id| Some(*id) != except))
}

pub fn create_role(
    conn: &mut DbConn,
    by: &ActorInfo,
    name: &str,
    privileges: &[String],
    now: NaiveDateTime,
) -> ServiceResult<i64> {
    owner_only(by)?;
    let name = clean(by, name, privileges)?;
    crate::db::write_transaction(conn, |conn| {
        if name_taken(conn, by.account_id, &name, None)? {
            return Err(ServiceError::Invalid(tr_args(
                by.lang,
                "bad-role-exists",
                &[("value", name.clone())],
            )));
        }
        let id: i64 = diesel::insert_into(custom_roles::table)
            .values((custom_roles::account_id.eq(by.account_id), custom_roles::name.eq(&name)))
            .returning(custom_roles::id)
            .get_result(conn)?;
        set_privileges(conn, id, privileges)?;
        record(
            conn,
            by,
            "create_role",
            format!("{name}: {}", privileges.join(", ")),
            now,
        )?;
        Ok(id)
    })
}

fn find_role(conn: &mut DbConn, account_id: i64, role_id: i64) -> ServiceResult<CustomRole> {
    Ok(custom_roles::table
        .filter(custom_roles::id.eq(role_id))
        .filter(custom_roles::account_id.eq(account_id))
        .select(CustomRole::as_select())
        .first(conn)?)
}

pub fn update_role(
    conn: &mut DbConn,
    by: &ActorInfo,
    role_id: i64,
    name: &str,
    privileges: &[String],
    now: NaiveDateTime,
) -> ServiceResult<()> {
    owner_only(by)?;
    let name = clean(by, name, privileges)?;
    crate::db::write_transaction(conn, |conn| {
        find_role(conn, by.account_id, role_id)?;
        if name_taken(conn, by.account_id, &name, Some(role_id))? {
            return Err(ServiceError::Invalid(tr_args(
                by.lang,
                "bad-role-exists",
                &[("value", name.clone())],
            )));
        }
        diesel::update(custom_roles::table.find(role_id))
            .set(custom_roles::name.eq(&name))
            .execute(conn)?;
        set_privileges(conn, role_id, privileges)?;
        record(
            conn,
            by,
            "update_role",
            format!("{name}: {}", privileges.join(", ")),
            now,
        )?;
        Ok(())
    })
}

/// Users who held the role keep their base role (admin) without its privileges.
pub fn delete_role(conn: &mut DbConn, by: &ActorInfo, role_id: i64, now: NaiveDateTime) -> ServiceResult<String> {
    owner_only(by)?;
    crate::db::write_transaction(conn, |conn| {
        let role = find_role(conn, by.account_id, role_id)?;
        diesel::update(users::table.filter(users::custom_role_id.eq(role_id)))
            .set(users::custom_role_id.eq(None::<i64>))
            .execute(conn)?;
        diesel::delete(role_privileges::table.filter(role_privileges::role_id.eq(role_id))).execute(conn)?;
        diesel::delete(custom_roles::table.find(role_id)).execute(conn)?;
        record(conn, by, "delete_role", role.name.clone(), now)?;
        Ok(role.name)
    })
}

/// Edit user -> custom role: the owner gives an admin a custom role, or takes it away.
pub fn assign_role(
    conn: &mut DbConn,
    by: &ActorInfo,
    user_id: i64,
    role_id: Option<i64>,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    owner_only(by)?;
    crate::db::write_transaction(conn, |conn| {
        let user = user_queries::find_in_account(conn, by.account_id, user_id)?;
        if user.custom_role_id == role_id {
            return Ok(());
        }
        let name = match role_id {
            Some(id) => {
                if user.role != Role::Admin {
                    return Err(Refusal::CustomRoleNeedsAdmin.into());
                }
                find_role(conn, by.account_id, id)?.name
            }
            None => "none".into(),
        };
        diesel::update(users::table.find(user.id))
            .set((
                users::custom_role_id.eq(role_id),
                users::session_epoch.eq(users::session_epoch + 1),
            ))
            .execute(conn)?;
        let entry = NewAuditEntry {
            target_id: Some(user.id),
            target_email: user.email.clone(),
            detail: format!("custom role: {name}"),
            ..audit::by(by, "assign_role", now)
        };
        audit::record(conn, &entry)?;
        Ok(())
    })
}
