//! SCIM provisioning (issue 16): who calls (a token with the `scim` scope),
//! reading users as SCIM resources, and the acts of `write` (create,
//! replace, patch, delete), which change status only through
//! `user_actions::perform_in`, the function the portal and the REST API use.
//! What SCIM keeps beyond the users row (externalId, displayName, manager,
//! the deprovisioned mark) is in `scim_users`.

pub mod requests;
pub mod settings;
mod write;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::User;
use crate::db::schema::{scim_users, users};
use crate::db::DbConn;
use crate::domain::api_tokens::Scope;
use crate::domain::scim::filter::{Condition, FilterAttr};
use crate::domain::scim::resource::{Meta, UserFields};
use crate::domain::scim::ScimError;
use crate::domain::Status;

use super::{api_tokens, ActorInfo, ServiceError, ServiceResult};

pub use write::{create, delete, patch, replace};

type Backend = <DbConn as diesel::Connection>::Backend;

/// A SCIM act fails by a SCIM rule (a bad value, a taken userName) or as
/// any service does (a refusal of SPEC.md, a busy database).
#[derive(Debug, thiserror::Error)]
pub enum ScimFailure {
    #[error(transparent)]
    Scim(#[from] ScimError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<diesel::result::Error> for ScimFailure {
    fn from(e: diesel::result::Error) -> Self {
        ScimFailure::Service(e.into())
    }
}

impl From<crate::db::DbError> for ScimFailure {
    fn from(e: crate::db::DbError) -> Self {
        ScimFailure::Service(e.into())
    }
}

impl crate::db::Retryable for ScimFailure {
    fn retryable(&self) -> bool {
        matches!(self, ScimFailure::Service(e) if e.retryable())
    }
}

pub type ScimResult<T> = Result<T, ScimFailure>;

/// The caller behind a `scim` token: the token's creator, named in the
/// audit log as "via SCIM: <token name>", audit source `scim`.
#[derive(Debug, Clone)]
pub struct ScimCaller {
    pub token_id: i64,
    pub token_name: String,
    pub by: ActorInfo,
}

/// The caller of a bearer token that works and holds the `scim` scope.
pub fn authenticate(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> ServiceResult<Option<ScimCaller>> {
    let Some(caller) = api_tokens::authenticate(conn, token, now)? else {
        return Ok(None);
    };
    if !caller.has(Scope::Scim) {
        return Ok(None);
    }
    let mut by = caller.by;
    by.email = format!("via SCIM: {}", caller.name);
    by.via_scim = true;
    Ok(Some(ScimCaller {
        token_id: caller.token_id,
        token_name: caller.name,
        by,
    }))
}

/// What `scim_users` holds for a user.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = scim_users, treat_none_as_null = true)]
pub struct ScimRow {
    pub user_id: i64,
    pub account_id: i64,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub manager_email: Option<String>,
    pub deprovisioned_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// A user as SCIM serves them.
#[derive(Debug, Clone)]
pub struct ScimUser {
    pub user: User,
    pub extra: Option<ScimRow>,
}

impl ScimUser {
    pub fn fields(&self) -> UserFields {
        let extra = self.extra.as_ref();
        UserFields {
            user_name: self.user.email.clone(),
            given_name: self.user.first_name.clone(),
            family_name: self.user.last_name.clone(),
            display_name: extra.and_then(|e| e.display_name.clone()),
            external_id: extra.and_then(|e| e.external_id.clone()),
            // Pending users have not activated their account: not active.
            active: self.user.status == Status::Active,
            manager: extra.and_then(|e| e.manager_email.clone()),
        }
    }

    pub fn meta(&self) -> Meta {
        let created = self.user.created_at;
        let changed = [self.extra.as_ref().map(|e| e.updated_at), self.user.deactivated_at];
        Meta {
            id: self.user.id,
            created,
            last_modified: changed.into_iter().flatten().fold(created, NaiveDateTime::max),
        }
    }
}

/// One page of a list, with the count of all matches.
#[derive(Debug, Clone)]
pub struct Page {
    pub total: i64,
    pub start_index: i64,
    pub users: Vec<ScimUser>,
}

/// The account's users SCIM has not deleted, matching every condition,
/// ordered by id; inactive and pending users included.
pub fn list(
    conn: &mut DbConn,
    account_id: i64,
    conditions: &[Condition],
    start_index: i64,
    count: i64,
) -> ServiceResult<Page> {
    let query = || {
        let mut q = users::table
            .left_join(scim_users::table)
            .filter(users::account_id.eq(account_id))
            .filter(scim_users::deprovisioned_at.is_null())
            .into_boxed::<Backend>();
        for c in conditions {
            q = match c.attr {
                FilterAttr::UserName | FilterAttr::Email => q.filter(users::email.eq(c.value.clone())),
                FilterAttr::ExternalId => q.filter(scim_users::external_id.eq(c.value.clone())),
                // An id that is no number matches no one.
                FilterAttr::Id => q.filter(users::id.eq(c.value.parse::<i64>().unwrap_or(-1))),
            };
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<(User, Option<ScimRow>)> = if count > 0 && start_index <= total {
        query()
            .select((User::as_select(), Option::<ScimRow>::as_select()))
            .order(users::id.asc())
            .offset(start_index - 1)
            .limit(count)
            .load(conn)?
    } else {
        Vec::new()
    };
    Ok(Page {
        total,
        start_index,
        users: rows.into_iter().map(|(user, extra)| ScimUser { user, extra }).collect(),
    })
}

/// One user of the account, unless SCIM deleted them: else `NotFound`.
pub fn get(conn: &mut DbConn, account_id: i64, user_id: i64) -> ServiceResult<ScimUser> {
    let (user, extra): (User, Option<ScimRow>) = users::table
        .left_join(scim_users::table)
        .filter(users::id.eq(user_id))
        .filter(users::account_id.eq(account_id))
        .select((User::as_select(), Option::<ScimRow>::as_select()))
        .first(conn)?;
    if extra.as_ref().is_some_and(|e| e.deprovisioned_at.is_some()) {
        return Err(ServiceError::NotFound);
    }
    Ok(ScimUser { user, extra })
}
