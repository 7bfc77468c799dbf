//! `GET /v2/openapi.json`: the OpenAPI 3.1 document, generated from the
//! handlers' annotations (utoipa) so it cannot drift from the code.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

use super::errors::{refusal_table, ErrorBody, FieldError};
use super::imports::{ImportUpload, Job, JobRow, JobState, Outcome};
use super::roles::{ApiRole, Member, MembersAdded, MembersBody, RoleList};
use super::schedule::ScheduleBody;
use super::users::{ApiUser, DeleteAction, ScheduleAction, StatusAction, StatusBody, UserList, UserStatus};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Offboard REST API",
        version = "2.0.0",
        description = "Deactivate, disassociate (unlink) and delete users of an organisation account under the same rules and audit as the portal. Authenticate with `Authorization: Bearer TOKEN` (a token from the API page or `offboard api-token create`)."
    ),
    paths(
        super::users::list_users,
        super::users::get_user,
        super::users::set_status,
        super::users::delete_user,
        super::schedule::put_schedule,
        super::schedule::delete_schedule,
        super::roles::list_roles,
        super::roles::add_members,
        super::imports::create,
        super::imports::apply,
        super::imports::get,
        super::imports::result_csv,
    ),
    components(schemas(
        ErrorBody,
        FieldError,
        ApiUser,
        UserList,
        UserStatus,
        StatusBody,
        StatusAction,
        DeleteAction,
        ScheduleAction,
        ScheduleBody,
        ApiRole,
        RoleList,
        Member,
        MembersBody,
        MembersAdded,
        Job,
        JobRow,
        JobState,
        Outcome,
        ImportUpload
    )),
    modifiers(&Document),
    tags((name = "Users"), (name = "Roles"), (name = "Imports"))
)]
pub struct ApiDoc;

/// Adds the bearer scheme and the table of refusal codes.
struct Document;

impl utoipa::Modify for Document {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        let intro = openapi.info.description.clone().unwrap_or_default();
        openapi.info.description = Some(format!(
            "{intro}\n\nErrors are `{{\"code\":N,\"message\":\"...\"}}` in the token creator's language, plus `errors: [{{field, message}}]` for invalid fields. Other codes: 124 invalid token (401), 4700 missing scope (403), 1001 no such user (404), 1034 no such role (400), 300 invalid field or page token (400), 409 conflict, 429 rate limit (with Retry-After), 503 busy (with Retry-After).\n\nEvery refusal of a rule has one code:\n\n{}",
            refusal_table()
        ));
    }
}

/// The document as JSON, built once.
pub fn json() -> &'static str {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default())
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(json())
}
