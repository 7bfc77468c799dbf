//! Which error type each layer uses:
//! - `domain::Refusal`: a rule of SPEC.md said no (which rule, in its message);
//! - `services::ServiceError`: a refusal, a missing or malformed thing, or the database;
//! - `web::WebError` (here): the above plus what only HTTP knows (signed out,
//!   CSRF, role), mapped to a status and a message in one `ResponseError` impl.
//!
//! Responses never carry SQL or a backtrace: database errors are logged and
//! shown as a plain "something went wrong".

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

#[allow(unused_imports)]
use crate::i18n::Translate;
use crate::services::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("Please sign in.")]
    SignedOut { htmx: bool },
    #[error("{0}")]
    Forbidden(String),
    #[error("The form has expired or did not come from this portal. Reload the page and try again.")]
    Csrf,
    #[error("This page does not exist.")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts (sign-in) or too many at once (password checks).
    #[error("{message}")]
    TooMany { message: String, retry_after: i64 },
    /// The database stayed busy; nothing was changed.
    #[error("The portal is busy. Nothing was changed; try again in a moment.")]
    Busy,
    #[error("Something went wrong on our side. Nothing was changed.")]
    Internal(String),
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Refused(r) => WebError::Conflict(r.text(crate::i18n::current())),
            ServiceError::File(e) => WebError::BadRequest(e.text(crate::i18n::current())),
            ServiceError::NotFound => WebError::NotFound,
            ServiceError::Conflict => WebError::Conflict(crate::i18n::t("error-input-conflict")),
            ServiceError::Busy => WebError::Busy,
            ServiceError::Invalid(msg) => WebError::BadRequest(msg),
            ServiceError::Db(db) => WebError::Internal(db.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    lang: &'static str,
    status: u16,
    message: &'a str,
}

impl WebError {
    /// What the user reads, in the request's language.
    pub fn message(&self) -> String {
        use crate::i18n::t;
        match self {
            WebError::SignedOut { .. } => t("error-signed-out"),
            WebError::Csrf => t("error-csrf"),
            WebError::NotFound => t("error-not-found"),
            WebError::Internal(_) => t("error-internal"),
            WebError::Busy => t("error-busy"),
            WebError::TooMany { message, .. } => message.clone(),
            WebError::Forbidden(m) | WebError::BadRequest(m) | WebError::Conflict(m) => m.clone(),
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::SignedOut { .. } => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::SignedOut { htmx } = self {
            // htmx follows redirects silently; it needs its own header to leave the page.
            return if *htmx {
                HttpResponse::Unauthorized()
                    .insert_header(("HX-Redirect", "/login"))
                    .finish()
            } else {
                HttpResponse::SeeOther().insert_header(("Location", "/login")).finish()
            };
        }
        if let WebError::Internal(detail) = self {
            tracing::error!(%detail, "request failed");
        }
        let message = self.message();
        let body = ErrorPage {
            lang: crate::i18n::current().code(),
            status: self.status_code().as_u16(),
            message: &message,
        }
        .render()
        .unwrap_or(message);
        // A full page for the address bar; for htmx, only the alert goes into
        // the page's flash area (htmx is configured to swap error responses).
        let mut builder = HttpResponse::build(self.status_code());
        match self {
            WebError::TooMany { retry_after, .. } => {
                builder.insert_header(("Retry-After", retry_after.to_string()));
            }
            WebError::Busy => {
                builder.insert_header(("Retry-After", "1"));
            }
            _ => {}
        }
        builder
            .content_type("text/html; charset=utf-8")
            .insert_header(("HX-Retarget", "#flash"))
            .insert_header(("HX-Reswap", "innerHTML"))
            .insert_header(("HX-Reselect", "#error-message"))
            .body(body)
    }
}
