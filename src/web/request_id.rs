//! One access-log line per request, under a request id that the response
//! carries in `X-Request-Id` and the error pages show, so a user can quote
//! it and an operator can find the request (and everything logged during
//! it: the id is a field of the request's span) in the log.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being served (none outside one).
pub fn current() -> Option<String> {
    CURRENT.try_with(String::clone).ok()
}

/// 16 hex digits: unique enough to find one request in a log.
fn new_id() -> String {
    use rand::Rng;
    format!("{:016x}", rand::rng().random::<u64>())
}

/// The outermost middleware: names the request, runs it inside a span that
/// carries the id, and logs method, path (never the query: it can hold
/// search terms), status and duration. An error no inner middleware turned
/// into a response carries the header itself (`errors::RenderedError`).
pub async fn access_log<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let id = new_id();
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_string();
    let span = tracing::info_span!("request", id = %id);
    let result = CURRENT.scope(id.clone(), next.call(req)).instrument(span.clone()).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    span.in_scope(|| {
        tracing::info!(
            target: "offboard::access",
            %method,
            %path,
            status = status.as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "served"
        )
    });
    let mut res = result?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(HEADER), value);
    }
    Ok(res)
}
