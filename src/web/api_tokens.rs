//! The API page (issue 14): the account's tokens; create (shown once),
//! revoke, and for the owner re-issue a token whose creator can no longer use it.

use actix_session::Session;
use actix_web::{web, HttpResponse};

use crate::domain::api_tokens::Scope;
use crate::domain::{Refusal, Role};
use crate::i18n::{current, ta};
use crate::services::{self, api_tokens};

use super::pages::{ApiTokenRow, ApiTokensPage};
use super::session::{set_flash, Admin};
use super::{redirect, AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/api-tokens", web::get().to(page))
        .route("/api-tokens", web::post().to(create))
        .route("/api-tokens/{id}/revoke", web::post().to(revoke))
        .route("/api-tokens/{id}/reissue", web::post().to(reissue));
}

fn allowed(admin: &Admin) -> Result<(), WebError> {
    if admin.api_tokens {
        Ok(())
    } else {
        Err(WebError::Forbidden(Refusal::NoApiTokenAccess.text(current())))
    }
}

async fn render(state: &AppState, admin: &Admin, created: Option<String>) -> Result<HttpResponse, WebError> {
    let account_id = admin.user.account_id;
    let views = state
        .db(move |conn| api_tokens::list(conn, account_id, services::now()))
        .await?;
    let day = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d").to_string();
    let tokens = views
        .iter()
        .map(|v| ApiTokenRow {
            id: v.row.id,
            name: v.row.name.clone(),
            scopes: v.row.scopes.replace(',', ", "),
            last4: v.row.last4.clone(),
            created_by: v.row.created_by_email.clone(),
            created: day(v.row.created_at),
            expires: day(v.row.expires_at),
            last_used: v.row.last_used_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
            state: api_tokens::state_text(v, current()),
            live: v.row.revoked_at.is_none(),
            reissue: v.unusable == Some(crate::domain::api_tokens::Unusable::CreatorCannotUse),
        })
        .collect();
    super::render::html(&ApiTokensPage {
        layout: admin.layout("api-tokens-title"),
        is_owner: admin.actor.role == Role::Owner,
        tokens,
        created,
        scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
    })
}

async fn page(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, WebError> {
    allowed(&admin)?;
    render(&state, &admin, None).await
}

/// `name=...&scope=a&scope=b&days=N`; answers with the page showing the token once.
async fn create(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    allowed(&admin)?;
    let fields = form.into_inner();
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string());
    let name = field("name").unwrap_or_default();
    // A number that does not parse is out of range, and refused as such.
    let days = field("days")
        .filter(|d| !d.is_empty())
        .map(|d| d.parse::<i64>().unwrap_or(0));
    let scopes = fields
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let info = admin.info();
    let created = state
        .db(move |conn| api_tokens::create(conn, &info, &name, &scopes, days, services::now()))
        .await?;
    render(&state, &admin, Some(created.token)).await
}

async fn revoke(
    session: Session,
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    allowed(&admin)?;
    let info = admin.info();
    let id = path.into_inner();
    let name = state
        .db(move |conn| api_tokens::revoke(conn, &info, id, services::now()))
        .await?;
    set_flash(&session, &ta("api-token-revoked-flash", &[("name", name)]));
    Ok(redirect("/api-tokens"))
}

async fn reissue(state: web::Data<AppState>, admin: Admin, path: web::Path<i64>) -> Result<HttpResponse, WebError> {
    allowed(&admin)?;
    let info = admin.info();
    let id = path.into_inner();
    let created = state
        .db(move |conn| api_tokens::reissue(conn, &info, id, services::now()))
        .await?;
    render(&state, &admin, Some(created.token)).await
}
