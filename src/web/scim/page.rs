//! The Provisioning (SCIM) page: the base URL for the identity provider, a
//! `scim` token (shown once), what a SCIM DELETE does, a connection test
//! that runs the providers' own lookup (a filtered list) in-process through
//! the same service, and the last 50 SCIM requests with their outcome.
//! For those who manage API tokens (the owner, admins, `api:tokens`).

use actix_session::Session;
use actix_web::{web, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use crate::domain::api_tokens::Scope;
use crate::domain::scim::filter;
use crate::domain::{Action, Refusal};
#[allow(unused_imports)]
use crate::i18n::Translate;
use crate::i18n::{current, t, ta};
use crate::services::scim::requests::{self, NewScimRequest};
use crate::services::scim::{self as service, settings};
use crate::services::{self, api_tokens, ServiceError};
use crate::web::pages::Layout;
use crate::web::session::{set_flash, Admin};
use crate::web::{redirect, AppState, WebError};

/// The name test requests carry in the log.
pub const TEST_NAME: &str = "connection test";

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/provisioning", web::get().to(page))
        .route("/provisioning/token", web::post().to(create_token))
        .route("/provisioning/settings", web::post().to(save_settings))
        .route("/provisioning/test", web::post().to(test_connection));
}

#[derive(Template, WebTemplate)]
#[template(path = "scim.html")]
pub struct ScimPage {
    pub layout: Layout,
    pub base_url: String,
    /// The token just created, shown this once.
    pub created: Option<String>,
    pub tokens: Vec<ScimTokenRow>,
    pub delete_action: &'static str,
    pub transfer_to: String,
    pub requests: Vec<ScimRequestRow>,
}

pub struct ScimTokenRow {
    pub name: String,
    pub last4: String,
    pub state: String,
    pub last_used: Option<String>,
}

pub struct ScimRequestRow {
    pub at: String,
    pub token: String,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub ok: bool,
    pub detail: String,
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
    super::log::flush(state).await;
    let (views, chosen, log) = state
        .db(move |conn| {
            let now = services::now();
            Ok((
                api_tokens::list(conn, account_id, now)?,
                settings::load(conn, account_id)?,
                requests::recent(conn, account_id)?,
            ))
        })
        .await?;
    let tokens = views
        .iter()
        .filter(|v| v.row.scopes.split(',').any(|s| s == Scope::Scim.as_str()) && v.row.revoked_at.is_none())
        .map(|v| ScimTokenRow {
            name: v.row.name.clone(),
            last4: v.row.last4.clone(),
            state: api_tokens::state_text(v, current()),
            last_used: v.row.last_used_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
        })
        .collect();
    let requests = log
        .into_iter()
        .map(|r| ScimRequestRow {
            at: r.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            token: r.token_name,
            method: r.method,
            path: r.path,
            ok: r.status < 400,
            status: r.status,
            detail: r.detail,
        })
        .collect();
    crate::web::render::html(&ScimPage {
        layout: admin.layout("scim-title"),
        base_url: super::base_url(state),
        created,
        tokens,
        delete_action: chosen.action.as_str(),
        transfer_to: chosen.transfer_to.unwrap_or_default(),
        requests,
    })
}

async fn page(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, WebError> {
    allowed(&admin)?;
    render(&state, &admin, None).await
}

fn field(fields: &[(String, String)], name: &str) -> Option<String> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// `name=...&days=N`: a token with the `scim` scope only, shown once.
async fn create_token(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    allowed(&admin)?;
    let name = field(&form, "name").unwrap_or_default();
    let days = field(&form, "days")
        .filter(|d| !d.is_empty())
        .map(|d| d.parse::<i64>().unwrap_or(0));
    let info = admin.info();
    let created = state
        .db(move |conn| api_tokens::create(conn, &info, &name, Scope::Scim.as_str(), days, services::now()))
        .await?;
    render(&state, &admin, Some(created.token)).await
}

/// `action=deactivate|unlink|delete&transfer_to=EMAIL`.
async fn save_settings(
    session: Session,
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    allowed(&admin)?;
    let action = field(&form, "action")
        .and_then(|a| settings::parse_action(&a))
        .unwrap_or(Action::Deactivate);
    let chosen = settings::Settings {
        action,
        transfer_to: field(&form, "transfer_to").filter(|t| !t.is_empty()),
    };
    let info = admin.info();
    state
        .db(move |conn| settings::save(conn, &info, &chosen, services::now()))
        .await?;
    set_flash(&session, &t("scim-saved-flash"));
    Ok(redirect("/provisioning"))
}

/// What Okta and Entra do first: look a user up by userName (here the
/// admin's own address, upper-cased as Okta's check does), through the
/// same service as `GET /scim/v2/Users`. Noted in the request log.
async fn test_connection(session: Session, state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, WebError> {
    allowed(&admin)?;
    let account_id = admin.user.account_id;
    let text = format!("userName eq \"{}\"", admin.user.email.to_uppercase());
    let path = format!("/scim/v2/Users?filter={text}&startIndex=1&count=1");
    let found = state
        .db(move |conn| {
            let conditions = filter::parse(&text).map_err(|e| ServiceError::Invalid(e.to_string()))?;
            Ok(service::list(conn, account_id, &conditions, 1, 1)?.total)
        })
        .await?;
    super::log::note(
        &state,
        NewScimRequest {
            account_id,
            at: services::now(),
            token_name: TEST_NAME.into(),
            method: "GET".into(),
            path,
            status: 200,
            detail: format!("totalResults {found}"),
        },
    );
    let message = if found == 1 {
        ta("scim-test-ok", &[("email", admin.user.email.clone())])
    } else {
        ta("scim-test-failed", &[("email", admin.user.email.clone())])
    };
    set_flash(&session, &message);
    Ok(redirect("/provisioning"))
}
