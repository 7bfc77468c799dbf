//! Templates to responses, in one place: a page, or for htmx only the
//! partial it swaps (kanidm's page/partial helper), so every URL also works
//! typed into the address bar.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::session::is_htmx;
use super::WebError;

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("template: {e}"))
    }
}

/// A rendered template as a 200 HTML response.
pub fn html(template: &impl Template) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(template.render()?))
}

/// The partial alone for an htmx request; otherwise the full page that
/// `page` builds around it.
pub fn page_or_partial<T, P>(
    req: &HttpRequest,
    partial: T,
    page: impl FnOnce(T) -> Result<P, WebError>,
) -> Result<HttpResponse, WebError>
where
    T: Template,
    P: Template,
{
    if is_htmx(req) {
        html(&partial)
    } else {
        html(&page(partial)?)
    }
}
