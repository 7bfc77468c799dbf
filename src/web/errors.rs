//! Which error type each layer uses:
//! - `domain::Refusal`: a rule of SPEC.md said no (which rule, in its message);
//! - `services::ServiceError`: a refusal, a missing or malformed thing, or the database;
//! - `web::WebError` (here): the above plus what only HTTP knows (signed out,
//!   CSRF, role), mapped to a status and a message in one `ResponseError` impl.
//!
//! Responses never carry SQL or a backtrace: database errors are logged and
//! shown as a plain "something went wrong".

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
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
    #[error("This address does not take this kind of request.")]
    MethodNotAllowed,
    #[error("{0}")]
    TooLarge(String),
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
    /// Any other 4xx that only HTTP knows about (raised by actix itself).
    #[error("The request could not be understood.")]
    Http(StatusCode),
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
            ServiceError::Busy | ServiceError::ChangedUnderUs => WebError::Busy,
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
    /// For the user to quote (`request_id`).
    request_id: Option<&'a str>,
}

/// What htmx swaps into the page's flash area.
#[derive(Template)]
#[template(path = "_error.html")]
struct ErrorPartial<'a> {
    message: &'a str,
    request_id: Option<&'a str>,
}

/// Carried by every error response rendered here, so [`error_pages`] can tell
/// the portal's own answers from actix's plain-text ones. `None`: the
/// response has no message body to swap (a redirect to sign-in).
#[derive(Clone)]
struct Rendered(Option<String>);

impl WebError {
    /// What the user reads, in the request's language.
    pub fn message(&self) -> String {
        use crate::i18n::t;
        match self {
            WebError::SignedOut { .. } => t("error-signed-out"),
            WebError::Csrf => t("error-csrf"),
            WebError::NotFound => t("error-not-found"),
            WebError::MethodNotAllowed => t("error-method"),
            WebError::Http(_) => t("error-request"),
            WebError::Internal(_) => t("error-internal"),
            WebError::Busy => t("error-busy"),
            WebError::TooMany { message, .. } => message.clone(),
            WebError::Forbidden(m) | WebError::BadRequest(m) | WebError::Conflict(m) | WebError::TooLarge(m) => {
                m.clone()
            }
        }
    }

    /// The portal's error for a status actix answered with on its own.
    pub fn from_status(status: StatusCode) -> WebError {
        match status {
            StatusCode::NOT_FOUND => WebError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => WebError::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => WebError::TooLarge(crate::i18n::t("error-too-large")),
            StatusCode::BAD_REQUEST => WebError::BadRequest(crate::i18n::t("error-request")),
            s if s.is_client_error() => WebError::Http(s),
            s => WebError::Internal(format!("status {s}")),
        }
    }

    /// The full error page, or for htmx only the alert.
    fn render(&self, htmx: bool) -> HttpResponse {
        RenderedError::of(self, htmx).error_response()
    }
}

/// An error page rendered while the request's language is known. It is also
/// the error the middleware hands back when no request is left to answer
/// with: actix then turns it into the response, outside the middleware that
/// adds the security headers, so it adds them itself.
#[derive(Debug)]
struct RenderedError {
    status: StatusCode,
    message: String,
    body: String,
    /// Seconds for `Retry-After` (429 and 503).
    retry_after: Option<i64>,
    /// The request's id, shown on the page and sent as `X-Request-Id`.
    request_id: Option<String>,
}

impl RenderedError {
    fn of(err: &WebError, htmx: bool) -> RenderedError {
        let message = err.message();
        let request_id = super::request_id::current();
        let body = if htmx {
            ErrorPartial {
                message: &message,
                request_id: request_id.as_deref(),
            }
            .render()
        } else {
            ErrorPage {
                lang: crate::i18n::current().code(),
                status: err.status_code().as_u16(),
                message: &message,
                request_id: request_id.as_deref(),
            }
            .render()
        };
        let retry_after = match err {
            WebError::TooMany { retry_after, .. } => Some(*retry_after),
            WebError::Busy => Some(1),
            _ => None,
        };
        RenderedError {
            retry_after,
            status: err.status_code(),
            body: body.unwrap_or_else(|_| message.clone()),
            message,
            request_id,
        }
    }
}

impl std::fmt::Display for RenderedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl ResponseError for RenderedError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        // htmx swaps error responses (see layout.html): the alert goes into the flash area.
        let mut builder = HttpResponse::build(self.status);
        builder
            .content_type("text/html; charset=utf-8")
            .insert_header(("HX-Retarget", "#flash"))
            .insert_header(("HX-Reswap", "innerHTML"))
            .insert_header(("HX-Reselect", "#error-message"));
        for header in super::SECURITY_HEADERS {
            builder.insert_header(header);
        }
        builder.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(secs) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(id) = &self.request_id {
            builder.insert_header((super::request_id::HEADER, id.as_str()));
        }
        let mut resp = builder.body(self.body.clone());
        resp.extensions_mut().insert(Rendered(Some(self.message.clone())));
        resp
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::SignedOut { .. } => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Http(s) => *s,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::SignedOut { htmx } = self {
            // htmx follows redirects silently; it needs its own header to leave the page.
            let mut resp = if *htmx {
                HttpResponse::Unauthorized()
                    .insert_header(("HX-Redirect", "/login"))
                    .finish()
            } else {
                HttpResponse::SeeOther().insert_header(("Location", "/login")).finish()
            };
            resp.extensions_mut().insert(Rendered(None));
            return resp;
        }
        if let WebError::Internal(detail) = self {
            tracing::error!(%detail, "request failed");
        }
        // The page here; [`error_pages`] swaps in the partial for htmx.
        self.render(false)
    }
}

/// Requests of the machine interfaces (B4 JSON API, B5 SCIM) get their
/// errors as JSON from their own handlers, never the HTML error page.
pub fn is_machine_interface(path: &str) -> bool {
    path.starts_with("/v2/") || path == "/v2" || path.starts_with("/scim/v2/") || path == "/scim/v2"
        // The load balancer's checks read their plain-text reason.
        || path == "/healthz"
        || path == "/readyz"
}

/// Every 4xx and 5xx of the portal's pages as the portal's own page in the
/// request's language (it runs inside the language middleware): actix's own
/// answers (no route, wrong method, payload limits, malformed bodies: plain
/// text or no body) are replaced, and htmx requests get only the alert. An
/// HTML page a handler answers with on purpose (sign-in refused, 401) stays.
pub async fn error_pages<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if is_machine_interface(req.path()) {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let htmx = super::session::is_htmx(req.request());
    // No clone of the request may live across the call (routing needs it unshared).
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            let err = match e.as_error::<WebError>() {
                Some(WebError::SignedOut { .. }) => return Err(e),
                Some(err) => RenderedError::of(err, htmx),
                None => {
                    let status = e.as_response_error().status_code();
                    tracing::info!(detail = %e, %status, "request refused");
                    RenderedError::of(&WebError::from_status(status), htmx)
                }
            };
            return Err(err.into());
        }
    };
    if res.status().as_u16() < 400 {
        return Ok(res);
    }
    let rendered = res.response().extensions().get::<Rendered>().cloned();
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    Ok(match rendered {
        Some(Rendered(Some(message))) if htmx => {
            let request_id = super::request_id::current();
            let partial = ErrorPartial {
                message: &message,
                request_id: request_id.as_deref(),
            }
            .render()
            .unwrap_or(message);
            res.map_body(|_, _| BoxBody::new(partial))
        }
        // Marked, or a page a handler rendered with its error status (the sign-in page's 401).
        Some(_) => res,
        None if is_html => res,
        None => {
            if let Some(e) = res.response().error() {
                tracing::info!(detail = %e, status = %res.status(), "request refused");
            }
            let status = res.status();
            let allow = res.headers().get(header::ALLOW).cloned();
            let (req, _) = res.into_parts();
            let mut page = WebError::from_status(status).render(htmx);
            if let Some(allow) = allow {
                page.headers_mut().insert(header::ALLOW, allow);
            }
            ServiceResponse::new(req, page)
        }
    })
}

/// `web::FormConfig`: a form over the limit is 413, any other unreadable
/// form 400; actix's own text is logged, never shown.
pub fn form_error(e: actix_web::error::UrlencodedError, _: &actix_web::HttpRequest) -> actix_web::Error {
    tracing::info!(detail = %e, "form refused");
    match e {
        actix_web::error::UrlencodedError::Overflow { .. } => {
            WebError::TooLarge(crate::i18n::t("error-too-large")).into()
        }
        _ => WebError::BadRequest(crate::i18n::t("bad-form")).into(),
    }
}

/// `web::QueryConfig`: a query string the page cannot read.
pub fn query_error(e: actix_web::error::QueryPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    tracing::info!(detail = %e, "query refused");
    WebError::BadRequest(crate::i18n::t("bad-address")).into()
}

/// `web::PathConfig`: an id no number type holds (`/import/jobs/99999999999999999999`)
/// names no job: 404, as an unknown id does (`/import/jobs/abc` matches no route).
pub fn path_error(e: actix_web::error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    tracing::info!(detail = %e, "path refused");
    WebError::NotFound.into()
}
