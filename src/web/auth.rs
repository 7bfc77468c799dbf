//! Sign-in and sign-out for every user of an account (R11).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use serde::Deserialize;

use crate::domain::signin::{retry_after_secs, Attempt};
use crate::domain::Role;
use crate::services;
use crate::services::auth::{self, SignIn};

use super::client::client_address;
use super::pages::LoginPage;
use super::session::{self, csrf_token};
use super::{redirect, AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout));
}

#[derive(Deserialize)]
struct LoginQuery {
    signed_out: Option<String>,
}

async fn login_page(session: Session, query: web::Query<LoginQuery>) -> impl Responder {
    LoginPage {
        lang: crate::i18n::current().code(),
        csrf: csrf_token(&session),
        email: String::new(),
        error: None,
        notice: query.signed_out.as_ref().map(|_| crate::i18n::t("signed-out")),
    }
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let LoginForm { email, password } = form.into_inner();
    let address = client_address(&req, &state.config.trusted_proxies);
    let (e, a) = (email.clone(), address.clone());
    let counted = state
        .db(move |conn| auth::count_attempt(conn, &e, &a, services::now()))
        .await?;
    if let Attempt::Wait(wait) = counted {
        let seconds = retry_after_secs(wait);
        let message = crate::i18n::ta("signin-throttled", &[("seconds", seconds.to_string())]);
        return render_error(&session, email, message, StatusCode::TOO_MANY_REQUESTS, Some(seconds));
    }
    let Some(_permit) = password_check_permit(&state).await else {
        let message = crate::i18n::t("signin-busy");
        return render_error(&session, email, message, StatusCode::TOO_MANY_REQUESTS, Some(2));
    };
    let lookup = email.clone();
    let outcome = state
        .db(move |conn| {
            let outcome = auth::sign_in(conn, &lookup, &password)?;
            if let SignIn::Ok { user_id, .. } = outcome {
                auth::forget_attempts(conn, &lookup, &address)?;
                let id = services::sessions::start(conn, user_id, services::now())?;
                return Ok((outcome, Some(id)));
            }
            Ok((outcome, None))
        })
        .await?;
    let error = match outcome {
        (SignIn::Ok { epoch, lang, .. }, Some(id)) => {
            session::sign_in(&session, &id, epoch, lang.as_deref().and_then(crate::i18n::Lang::parse))?;
            return Ok(redirect("/"));
        }
        (SignIn::Ok { .. } | SignIn::BadCredentials, _) => "signin-bad",
        (SignIn::Deactivated, _) => "signin-deactivated",
        (SignIn::Pending, _) => "signin-pending",
    };
    render_error(&session, email, crate::i18n::t(error), StatusCode::UNAUTHORIZED, None)
}

/// Waits briefly for one of the password checks allowed at once; a flood of
/// sign-ins queues here instead of running hundreds of argon2 hashes (each
/// ~19 MB) side by side.
async fn password_check_permit(state: &AppState) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let wait = std::time::Duration::from_secs(2);
    actix_web::rt::time::timeout(wait, state.password_checks.clone().acquire_owned())
        .await
        .ok()?
        .ok()
}

/// The sign-in page again, with the message and status (and `Retry-After`).
fn render_error(
    session: &Session,
    email: String,
    message: String,
    status: StatusCode,
    retry_after: Option<i64>,
) -> Result<HttpResponse, WebError> {
    let page = LoginPage {
        lang: crate::i18n::current().code(),
        csrf: csrf_token(session),
        email,
        error: Some(message),
        notice: None,
    };
    let mut resp = render_status(status, &page)?;
    if let Some(secs) = retry_after {
        resp.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(secs),
        );
    }
    Ok(resp)
}

fn render_status(status: StatusCode, page: &LoginPage) -> Result<HttpResponse, WebError> {
    let body = askama::Template::render(page)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

async fn logout(state: web::Data<AppState>, session: Session) -> Result<HttpResponse, WebError> {
    if let Some(id) = session::sign_out(&session) {
        state.db(move |conn| services::sessions::end(conn, &id)).await?;
    }
    Ok(redirect("/login?signed_out=1"))
}

/// Where `/` sends a user: admins to the Users page, members to their profile.
pub fn home_for(role: Role) -> &'static str {
    match role {
        Role::Owner | Role::Admin => "/users",
        _ => "/profile",
    }
}
