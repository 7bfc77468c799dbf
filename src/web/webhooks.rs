//! The Webhooks page (B6): add an endpoint (its secret shown once, then
//! "Validate"), rotate the secret, send a test event, pause, delete, and the
//! delivery log with "Redeliver". Same rights as API tokens.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::db::models::{WebhookDelivery, WebhookEndpoint};
use crate::domain::webhooks::EventKind;
#[allow(unused_imports)]
use crate::i18n::Translate;
use crate::services::{self, webhooks as hooks};

use super::pages::Layout;
use super::session::{set_flash, Admin};
use super::{redirect, AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks", web::get().to(page))
        .route("/webhooks", web::post().to(add))
        .route(r"/webhooks/{id:\d+}", web::get().to(log))
        .route(r"/webhooks/{id:\d+}/{act}", web::post().to(act))
        .route(r"/webhooks/deliveries/{id:\d+}/redeliver", web::post().to(redeliver));
}

#[derive(Template, WebTemplate)]
#[template(path = "webhooks.html")]
pub struct WebhooksPage {
    pub layout: Layout,
    pub endpoints: Vec<WebhookEndpoint>,
    pub kinds: Vec<&'static str>,
    /// A secret just made: shown once, with the endpoint it belongs to.
    pub new_secret: Option<(i64, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "webhook_log.html")]
pub struct WebhookLogPage {
    pub layout: Layout,
    pub endpoint: WebhookEndpoint,
    pub deliveries: Vec<(WebhookDelivery, EventKind)>,
}

/// The signed-in admin, if they may manage webhooks.
async fn manager(state: &AppState, admin: &Admin) -> Result<(), WebError> {
    let (info, role) = (admin.info(), admin.user.custom_role_id);
    let allowed = state
        .db(move |conn| Ok(hooks::check_manager(conn, &info, role).is_ok()))
        .await?;
    if allowed {
        Ok(())
    } else {
        Err(WebError::Forbidden(crate::i18n::t("webhooks-not-allowed")))
    }
}

async fn render_page(
    state: &AppState,
    admin: &Admin,
    new_secret: Option<(i64, String)>,
) -> Result<HttpResponse, WebError> {
    let account_id = admin.user.account_id;
    let endpoints = state.db(move |conn| hooks::list_endpoints(conn, account_id)).await?;
    super::render::html(&WebhooksPage {
        layout: admin.layout("nav-webhooks"),
        endpoints,
        kinds: EventKind::ALL.iter().map(|k| k.as_str()).collect(),
        new_secret,
    })
}

async fn page(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, WebError> {
    manager(&state, &admin).await?;
    render_page(&state, &admin, None).await
}

/// `url=...&events=a&events=b`.
fn add_form(fields: &[(String, String)]) -> (String, String) {
    let url = fields
        .iter()
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.trim().to_string());
    let events: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "events")
        .map(|(_, v)| v.as_str())
        .collect();
    (url.unwrap_or_default(), events.join(","))
}

async fn add(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    manager(&state, &admin).await?;
    let (url, events) = add_form(&form);
    let allow_private = state.config.webhooks.allow_private;
    let check = url.clone();
    web::block(move || crate::webhooks::check_destination(&check, allow_private))
        .await
        .map_err(|_| WebError::Internal("the worker thread stopped".into()))?
        .map_err(|e| WebError::BadRequest(crate::i18n::t(e.key())))?;
    let kinds = EventKind::parse_list(&events)
        .map_err(|bad| WebError::BadRequest(crate::i18n::ta("webhook-bad-event", &[("value", bad)])))?;
    let info = admin.info();
    let endpoint = state
        .db(move |conn| hooks::add_endpoint(conn, &info, &url, &kinds, services::now()))
        .await?;
    render_page(&state, &admin, Some((endpoint.id, endpoint.secret))).await
}

async fn log(state: web::Data<AppState>, admin: Admin, path: web::Path<i64>) -> Result<HttpResponse, WebError> {
    manager(&state, &admin).await?;
    let (account_id, id) = (admin.user.account_id, path.into_inner());
    let (endpoint, deliveries) = state
        .db(move |conn| {
            let endpoint = hooks::find_endpoint(conn, account_id, id)?;
            Ok((endpoint, hooks::delivery_log(conn, account_id, id, 100)?))
        })
        .await?;
    super::render::html(&WebhookLogPage {
        layout: admin.layout("nav-webhooks"),
        endpoint,
        deliveries,
    })
}

#[derive(Deserialize)]
struct ActPath {
    id: i64,
    act: String,
}

/// Validate, rotate, test, pause, resume or delete one endpoint.
async fn act(
    state: web::Data<AppState>,
    admin: Admin,
    session: Session,
    path: web::Path<ActPath>,
) -> Result<HttpResponse, WebError> {
    manager(&state, &admin).await?;
    let ActPath { id, act } = path.into_inner();
    let info = admin.info();
    let allow_private = state.config.webhooks.allow_private;
    let now = services::now();
    let message = match act.as_str() {
        "rotate" => {
            let secret = state.db(move |conn| hooks::rotate_secret(conn, &info, id, now)).await?;
            return render_page(&state, &admin, Some((id, secret))).await;
        }
        "pause" | "resume" => {
            let paused = act == "pause";
            state
                .db(move |conn| hooks::set_paused(conn, &info, id, paused, now))
                .await?;
            crate::i18n::t(if paused { "webhook-paused" } else { "webhook-resumed" })
        }
        "delete" => {
            state
                .db(move |conn| hooks::delete_endpoint(conn, &info, id, now))
                .await?;
            crate::i18n::t("webhook-deleted")
        }
        "validate" => validate(&state, admin.user.account_id, id, allow_private).await?,
        "test" => send_test(&state, &admin, id, allow_private).await?,
        _ => return Err(WebError::NotFound),
    };
    set_flash(&session, &message);
    Ok(redirect("/webhooks"))
}

/// Sends the challenge (up to 3 s) and records the outcome.
async fn validate(state: &AppState, account_id: i64, id: i64, allow_private: bool) -> Result<String, WebError> {
    let e = state.db(move |conn| hooks::find_endpoint(conn, account_id, id)).await?;
    let (url, secret) = (e.url.clone(), e.secret.clone());
    let outcome = web::block(move || crate::webhooks::validate(&url, &secret, allow_private))
        .await
        .map_err(|_| WebError::Internal("the worker thread stopped".into()))?;
    let ok = outcome.is_ok();
    state
        .db(move |conn| hooks::set_validated(conn, id, ok, services::now()))
        .await?;
    Ok(match outcome {
        Ok(()) => crate::i18n::t("webhook-validated"),
        Err(why) => crate::i18n::ta("webhook-not-validated", &[("reason", why.chars().take(120).collect())]),
    })
}

/// A signed `endpoint.test` event, sent now; the answer is shown.
async fn send_test(state: &AppState, admin: &Admin, id: i64, allow_private: bool) -> Result<String, WebError> {
    let account_id = admin.user.account_id;
    let e = state.db(move |conn| hooks::find_endpoint(conn, account_id, id)).await?;
    let body = serde_json::json!({
        "event": "endpoint.test",
        "event_ts": chrono::Utc::now().timestamp_millis(),
        "payload": { "account_id": account_id.to_string(), "operator": admin.user.email },
    })
    .to_string();
    let outcome = web::block(move || {
        let agent = crate::webhooks::agent(allow_private, std::time::Duration::from_secs(5));
        crate::webhooks::post(&agent, &e.url, &body, &[&e.secret], None)
    })
    .await
    .map_err(|_| WebError::Internal("the worker thread stopped".into()))?;
    let answer = outcome
        .status
        .map(|s| s.to_string())
        .or(outcome.error)
        .unwrap_or_default();
    Ok(crate::i18n::ta("webhook-test-sent", &[("answer", answer)]))
}

async fn redeliver(
    state: web::Data<AppState>,
    admin: Admin,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    manager(&state, &admin).await?;
    let (info, id) = (admin.info(), path.into_inner());
    state
        .db(move |conn| hooks::redeliver(conn, &info, id, services::now()))
        .await?;
    set_flash(&session, &crate::i18n::t("webhook-redelivering"));
    Ok(redirect("/webhooks"))
}
