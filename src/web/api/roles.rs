//! `/v2/roles`: the roles with their ids, and changing users' role through
//! the portal's Edit-user services (R3, R5).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::api_tokens::Scope;
use crate::i18n::{tr, tr_args};
use crate::services::api_users::{self, MemberError, RoleRef};
use crate::services::{self, ServiceError};

use super::{json, run, timestamp, ApiError, Caller, ErrorBody, FieldError};
use crate::web::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiRole {
    /// "0" owner, "1" admin, "2" member, or `c` and a custom role's id.
    pub id: String,
    pub name: String,
    pub description: String,
    pub total_members: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleList {
    pub total_records: i64,
    pub roles: Vec<ApiRole>,
}

/// List roles
///
/// The built-in roles and the account's custom roles. Scope `user:read`.
#[utoipa::path(
    get,
    path = "/v2/roles",
    tag = "Roles",
    operation_id = "listRoles",
    responses(
        (status = 200, description = "The roles", body = RoleList),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `user:read`", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn list_roles(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::UserRead)?;
    let lang = caller.lang();
    let account_id = caller.0.by.account_id;
    let (custom, counts) = run(&state, move |conn| {
        Ok((
            services::roles::list_roles(conn, account_id)?,
            api_users::member_counts(conn, account_id)?,
        ))
    })
    .await
    .map_err(|e| ApiError::service(lang, e, None))?;
    let count = |r: RoleRef| counts.get(&r.id()).copied().unwrap_or(0);
    let mut roles = vec![
        ApiRole {
            id: RoleRef::Owner.id(),
            name: "Owner".into(),
            description: tr(lang, "owner-privileges"),
            total_members: count(RoleRef::Owner),
        },
        ApiRole {
            id: RoleRef::Admin.id(),
            name: "Admin".into(),
            description: tr(lang, "admin-privileges"),
            total_members: count(RoleRef::Admin),
        },
        ApiRole {
            id: RoleRef::Member.id(),
            name: "Member".into(),
            description: tr(lang, "member-privileges"),
            total_members: count(RoleRef::Member),
        },
    ];
    for r in custom {
        roles.push(ApiRole {
            id: RoleRef::Custom(r.id).id(),
            description: r
                .privileges
                .iter()
                .map(|p| crate::i18n::tr(lang, p))
                .collect::<Vec<_>>()
                .join("; "),
            name: r.name,
            total_members: count(RoleRef::Custom(r.id)),
        });
    }
    Ok(json(
        StatusCode::OK,
        &RoleList {
            total_records: roles.len() as i64,
            roles,
        },
    ))
}

/// A member by id or by email.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Member {
    pub id: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MembersBody {
    /// 1 to 30 users.
    #[schema(min_items = 1, max_items = 30)]
    pub members: Vec<Member>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembersAdded {
    /// The users' ids, comma-separated.
    pub ids: String,
    pub add_at: String,
}

/// Assign a role
///
/// Gives each user the role, all or none, as Edit user -> User role does:
/// only the owner turns admins into members and back (R3) and gives custom
/// roles (R5). Scope `user:write`.
#[utoipa::path(
    post,
    path = "/v2/roles/{roleId}/members",
    tag = "Roles",
    operation_id = "addRoleMembers",
    params(("roleId" = String, Path, description = "\"0\" owner, \"1\" admin, \"2\" member, or `c` and a custom role's id")),
    request_body = MembersBody,
    responses(
        (status = 201, description = "Every user has the role", body = MembersAdded),
        (status = 400, description = "Code 300: the body is not valid; code 1034: no such role; code 200: the owner, your own user, or a custom role for a member", body = ErrorBody),
        (status = 401, description = "Code 124: missing, unknown, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Code 4700: the token lacks `user:write`; code 4711: only the owner changes admins and custom roles", body = ErrorBody),
        (status = 404, description = "Code 1001: a member is not a user of this account", body = ErrorBody),
        (status = 409, description = "Code 409: a user changed meanwhile", body = ErrorBody),
        (status = 429, description = "Code 429: over the token's rate", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
        (status = 503, description = "Code 503: the database is busy; nothing changed", body = ErrorBody, headers(("Retry-After" = i64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn add_members(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::UserWrite)?;
    let lang = caller.lang();
    let role_key = path.into_inner();
    let body = super::json_object(&body, lang)?;
    let keys = member_keys(&body, lang)?;
    let role = RoleRef::parse(&role_key).ok_or_else(|| ApiError::role_not_found(lang, &role_key))?;
    let by = caller.0.by.clone();
    let result = run(&state, move |conn| assign(conn, &by, role, &keys))
        .await
        .map_err(|e| ApiError::service(lang, e, None))?;
    match result {
        Ok(ids) => Ok(json(
            StatusCode::CREATED,
            &MembersAdded {
                ids: ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
                add_at: timestamp(services::now()),
            },
        )),
        Err(Step::NoRole) => Err(ApiError::role_not_found(lang, &role_key)),
        Err(Step::NoUser(key)) => Err(ApiError::user_not_found(lang, &key)),
        Err(Step::Refused(email, error)) => {
            let mut e = ApiError::service(lang, error, None);
            if let Some(email) = email {
                e.body.message = tr_args(
                    lang,
                    "api-member-refused",
                    &[("email", email), ("reason", e.body.message.clone())],
                );
            }
            Err(e)
        }
    }
}

/// The `members` of the body, each `{"id"}` or `{"email"}`, 1 to 30.
fn member_keys(
    body: &serde_json::Map<String, serde_json::Value>,
    lang: crate::i18n::Lang,
) -> Result<Vec<String>, ApiError> {
    let field = |field: String, key: &str| {
        ApiError::validation(
            lang,
            vec![FieldError {
                field,
                message: tr(lang, key),
            }],
        )
    };
    let members = match body.get("members") {
        Some(serde_json::Value::Array(m)) if (1..=30).contains(&m.len()) => m,
        _ => return Err(field("members".into(), "api-too-many-members")),
    };
    members
        .iter()
        .enumerate()
        .map(|(i, m)| match (m.get("id"), m.get("email")) {
            (Some(serde_json::Value::String(id)), _) => Ok(id.clone()),
            (None, Some(serde_json::Value::String(email))) => Ok(email.clone()),
            _ => Err(field(format!("members[{i}]"), "api-field-required")),
        })
        .collect()
}

/// The role change of the members, or the step that stopped it.
fn assign(
    conn: &mut crate::db::DbConn,
    by: &crate::services::ActorInfo,
    role: RoleRef,
    keys: &[String],
) -> Result<Result<Vec<i64>, Step>, ServiceError> {
    if !api_users::role_exists(conn, by.account_id, role)? {
        return Ok(Err(Step::NoRole));
    }
    let mut users = Vec::new();
    for key in keys {
        match api_users::find(conn, by.account_id, key) {
            Ok(u) => users.push(u),
            Err(ServiceError::NotFound) => return Ok(Err(Step::NoUser(key.clone()))),
            Err(e) => return Err(e),
        }
    }
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    match api_users::set_role(conn, by, role, &ids, services::now()) {
        Ok(()) => Ok(Ok(ids)),
        Err(MemberError { user_id, error }) => {
            let email = users.iter().find(|u| Some(u.id) == user_id).map(|u| u.email.clone());
            Ok(Err(Step::Refused(email, error)))
        }
    }
}

enum Step {
    NoRole,
    NoUser(String),
    Refused(Option<String>, ServiceError),
}
