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
pub fn html<T: Template>(template: &T) -> Result<HttpResponse, WebError> {
    let name = std::any::type_name::<T>();
    let hint = size_hint(name);
    let mut body = String::with_capacity(hint.max(T::SIZE_HINT));
    template.render_into(&mut body)?;
    if body.len() > hint {
        SIZES.with(|s| s.borrow_mut().insert(name, body.len().min(MAX_HINT)));
    }
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body))
}

thread_local! {
    /// The largest body each template rendered on this thread. A Users
    /// page is ~90 KB against askama's hint of a few: growing the string
    /// there copied it over and over (issue 20, 4% of the page's CPU).
    static SIZES: std::cell::RefCell<std::collections::HashMap<&'static str, usize>> = Default::default();
}

/// Room kept for one body at most: past it the string grows as it must.
const MAX_HINT: usize = 1 << 20;

fn size_hint(name: &'static str) -> usize {
    SIZES.with(|s| s.borrow().get(name).copied().unwrap_or(0))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::pages::Flash;

    /// The body is the template's output whatever room was kept for it,
    /// and the room kept follows the largest body seen.
    #[test]
    fn a_body_is_rendered_whole_in_the_room_kept_for_it() {
        let long = Flash {
            message: "x".repeat(5_000),
        };
        let short = Flash { message: "y".into() };
        let name = std::any::type_name::<Flash>();
        for template in [&long, &short, &long] {
            let response = html(template).unwrap();
            let body = actix_web::body::to_bytes(response.into_body());
            let body = block_on(body).unwrap();
            assert_eq!(body, template.render().unwrap().as_bytes());
        }
        assert_eq!(size_hint(name), long.render().unwrap().len());
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        actix_web::rt::System::new().block_on(f)
    }
}
