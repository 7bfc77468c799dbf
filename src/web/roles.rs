//! Role management (R5): the built-in roles and the owner's custom roles.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::{Role, PRIVILEGES};
use crate::services::{self, roles};

use super::pages::RolesPage;
use super::session::{is_htmx, set_flash, Admin};
use super::{redirect, AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/roles", web::get().to(roles_page))
        .route("/roles", web::post().to(create))
        .route(r"/roles/{id:\d+}", web::post().to(update))
        .route(r"/roles/{id:\d+}/delete", web::post().to(delete));
}

async fn roles_page(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, WebError> {
    let account_id = admin.user.account_id;
    let roles = state.db(move |conn| roles::list_roles(conn, account_id)).await?;
    let page = RolesPage {
        layout: admin.layout("roles-title"),
        is_owner: admin.actor.role == Role::Owner,
        privileges: PRIVILEGES.iter().map(|(k, _)| k.to_string()).collect(),
        roles,
    };
    super::render::html(&page)
}

/// `name=...&privilege=a&privilege=b` from the role form.
fn role_form(fields: Vec<(String, String)>) -> (String, Vec<String>) {
    let name = fields
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let privileges = fields
        .into_iter()
        .filter(|(k, _)| k == "privilege")
        .map(|(_, v)| v)
        .collect();
    (name, privileges)
}

fn back(req: &HttpRequest, session: &Session, message: String) -> HttpResponse {
    set_flash(session, &message);
    if is_htmx(req) {
        HttpResponse::Ok().insert_header(("HX-Redirect", "/roles")).finish()
    } else {
        redirect("/roles")
    }
}

async fn create(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let (name, privileges) = role_form(form.into_inner());
    let info = admin.info();
    let shown = name.trim().to_string();
    state
        .db(move |conn| roles::create_role(conn, &info, &name, &privileges, services::now()))
        .await?;
    Ok(back(
        &req,
        &session,
        crate::i18n::ta("flash-role-created", &[("name", shown)]),
    ))
}

async fn update(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<i64>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let (name, privileges) = role_form(form.into_inner());
    let info = admin.info();
    let id = path.into_inner();
    let shown = name.trim().to_string();
    state
        .db(move |conn| roles::update_role(conn, &info, id, &name, &privileges, services::now()))
        .await?;
    Ok(back(
        &req,
        &session,
        crate::i18n::ta("flash-role-saved", &[("name", shown)]),
    ))
}

async fn delete(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let info = admin.info();
    let id = path.into_inner();
    let name = state
        .db(move |conn| roles::delete_role(conn, &info, id, services::now()))
        .await?;
    Ok(back(
        &req,
        &session,
        crate::i18n::ta("flash-role-deleted", &[("name", name)]),
    ))
}
