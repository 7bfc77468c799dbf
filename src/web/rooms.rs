//! The Rooms page (R43): the account's rooms; deleting one or several after
//! a confirmation that names them.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

#[allow(unused_imports)]
use crate::i18n::Translate;
use crate::services::{self, rooms::RoomView};

use super::pages::Layout;
use super::session::{set_flash, Admin};
use super::{redirect, AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/rooms", web::get().to(page))
        .route("/rooms/delete", web::post().to(confirm))
        .route("/rooms/delete/confirm", web::post().to(delete));
}

#[derive(Template, WebTemplate)]
#[template(path = "rooms.html")]
pub struct RoomsPage {
    pub layout: Layout,
    pub rooms: Vec<RoomView>,
    /// Set on the confirmation: the rooms about to be deleted.
    pub confirming: bool,
}

/// The room ids of a form (`room_ids=1&room_ids=2`).
fn chosen(form: &[(String, String)]) -> Vec<i64> {
    form.iter()
        .filter(|(k, _)| k == "room_ids")
        .filter_map(|(_, v)| v.parse().ok())
        .collect()
}

async fn page(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, WebError> {
    let account_id = admin.user.account_id;
    let rooms = state
        .db(move |conn| services::rooms::list_rooms(conn, account_id))
        .await?;
    super::render::html(&RoomsPage {
        layout: admin.layout("nav-rooms"),
        rooms,
        confirming: false,
    })
}

/// The confirmation: which rooms will go, and that their users go with them.
async fn confirm(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let (account_id, ids) = (admin.user.account_id, chosen(&form));
    let rooms = state
        .db(move |conn| services::rooms::chosen_rooms(conn, account_id, &ids))
        .await?;
    if rooms.is_empty() {
        return Err(WebError::BadRequest(crate::i18n::t("rooms-choose")));
    }
    super::render::html(&RoomsPage {
        layout: admin.layout("nav-rooms"),
        rooms,
        confirming: true,
    })
}

async fn delete(
    state: web::Data<AppState>,
    admin: Admin,
    session: Session,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let (info, ids) = (admin.info(), chosen(&form));
    let n = state
        .db(move |conn| services::rooms::delete_rooms(conn, &info, &ids, services::now()))
        .await?;
    set_flash(&session, &crate::i18n::ta("rooms-deleted", &[("count", n.to_string())]));
    Ok(redirect("/rooms"))
}
