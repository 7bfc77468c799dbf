//! Sign-in and sign-out for every user of an account (R11).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, Responder};
use serde::Deserialize;

use crate::domain::Role;
use crate::services::auth::{self, SignIn};

use super::pages::LoginPage;
use super::session::{self, csrf_token};
use super::{redirect, AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(login_page).service(login).service(logout);
}

#[derive(Deserialize)]
struct LoginQuery {
    signed_out: Option<String>,
}

#[get("/login")]
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

#[post("/login")]
async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let LoginForm { email, password } = form.into_inner();
    let address = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    if let Some(wait) = state.throttle.wait(&email, &address) {
        let page = LoginPage {
            lang: crate::i18n::current().code(),
            csrf: csrf_token(&session),
            email,
            error: Some(crate::i18n::ta(
                "signin-throttled",
                &[("seconds", wait.as_secs().max(1).to_string())],
            )),
            notice: None,
        };
        return render_status(StatusCode::TOO_MANY_REQUESTS, &page);
    }
    let lookup = email.clone();
    let outcome = state.db(move |conn| auth::sign_in(conn, &lookup, &password)).await?;
    let error = match outcome {
        SignIn::Ok { user_id, epoch, lang } => {
            state.throttle.succeeded(&email);
            session::sign_in(
                &session,
                user_id,
                epoch,
                lang.as_deref().and_then(crate::i18n::Lang::parse),
            )?;
            return Ok(redirect("/"));
        }
        SignIn::BadCredentials => {
            state.throttle.failed(&email, &address);
            "signin-bad"
        }
        SignIn::Deactivated => "signin-deactivated",
        SignIn::Pending => "signin-pending",
    };
    let page = LoginPage {
        lang: crate::i18n::current().code(),
        csrf: csrf_token(&session),
        email,
        error: Some(crate::i18n::t(error)),
        notice: None,
    };
    render_status(StatusCode::UNAUTHORIZED, &page)
}

fn render_status(status: StatusCode, page: &LoginPage) -> Result<HttpResponse, WebError> {
    let body = askama::Template::render(page).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

#[post("/logout")]
async fn logout(session: Session) -> HttpResponse {
    session::sign_out(&session);
    redirect("/login?signed_out=1")
}

/// Where `/` sends a user: admins to the Users page, members to their profile.
pub fn home_for(role: &str) -> &'static str {
    match Role::parse(role) {
        Some(Role::Owner | Role::Admin) => "/users",
        _ => "/profile",
    }
}
