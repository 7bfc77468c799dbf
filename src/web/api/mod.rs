//! The REST API under `/v2` (B4, issue 14), shaped like the meeting
//! platform's: bearer tokens with scopes, JSON in and out, errors as
//! `{"code":N,"message":"..."}`. Handlers read the request, call the same
//! service functions as the portal, and write the answer; every refusal of
//! a rule becomes one code through [`refusal_answer`].

pub mod errors;
pub mod imports;
pub mod openapi;
pub mod roles;
pub mod schedule;
pub mod users;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};

use crate::db::DbConn;
use crate::domain::api_tokens::Scope;
use crate::services::{self, api_tokens, ServiceError, ServiceResult};
use crate::web::NoConnection;

use super::AppState;
pub use errors::{refusal_answer, Answer, ApiError, ErrorBody, FieldError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/v2")
            .service(resource("/openapi.json", "GET").route(web::get().to(openapi::document)))
            .service(resource("/users", "GET").route(web::get().to(users::list_users)))
            .service(
                resource("/users/{userId}", "GET, DELETE")
                    .route(web::get().to(users::get_user))
                    .route(web::delete().to(users::delete_user)),
            )
            .service(resource("/users/{userId}/status", "PUT").route(web::put().to(users::set_status)))
            .service(
                resource("/users/{userId}/schedule", "PUT, DELETE")
                    .route(web::put().to(schedule::put_schedule))
                    .route(web::delete().to(schedule::delete_schedule)),
            )
            .service(resource("/roles", "GET").route(web::get().to(roles::list_roles)))
            .service(resource("/roles/{roleId}/members", "POST").route(web::post().to(roles::add_members)))
            .service(resource("/imports", "POST").route(web::post().to(imports::create)))
            .service(resource("/imports/{importId}", "GET").route(web::get().to(imports::get)))
            .service(resource("/imports/{importId}/apply", "POST").route(web::post().to(imports::apply)))
            .service(resource("/imports/{importId}/result.csv", "GET").route(web::get().to(imports::result_csv)))
            .default_service(web::to(not_found)),
    );
}

/// A route whose other methods answer 405 in JSON with `Allow`.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        let lang = crate::i18n::current();
        let mut resp = actix_web::ResponseError::error_response(&ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            errors::code::METHOD,
            crate::i18n::tr(lang, "api-method"),
        ));
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(allow) {
            resp.headers_mut().insert(actix_web::http::header::ALLOW, v);
        }
        resp
    }))
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        errors::code::NOT_FOUND,
        crate::i18n::t("api-not-found"),
    )
}

/// Blocking database work off the async threads, keeping the service's
/// error (the API maps refusals to codes, which `AppState::db` would flatten).
pub async fn run<T, F>(state: &AppState, f: F) -> Result<T, ServiceError>
where
    F: FnOnce(&mut DbConn) -> ServiceResult<T> + Send + 'static,
    T: Send + 'static,
{
    state.blocking(f).await.map_err(|NoConnection| ServiceError::Busy)?
}

/// The caller behind `Authorization: Bearer TOKEN`, within its rate.
pub struct Caller(pub api_tokens::Caller);

impl Caller {
    pub fn lang(&self) -> crate::i18n::Lang {
        self.0.by.lang
    }

    /// 403 code 4700 naming the scope the token lacks.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.has(scope) {
            Ok(())
        } else {
            Err(ApiError::missing_scope(self.lang(), scope))
        }
    }
}

/// The token of `Authorization: Bearer TOKEN` (the REST API and SCIM).
pub(crate) fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let lang = crate::i18n::current();
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let invalid = || ApiError::invalid_token(lang);
            let token = token.ok_or_else(invalid)?;
            let state = state.ok_or_else(|| ApiError::service(lang, ServiceError::Busy, None))?;
            let caller = run(&state, move |conn| {
                api_tokens::authenticate(conn, &token, services::now())
            })
            .await
            .map_err(|e| ApiError::service(lang, e, None))?
            .ok_or_else(invalid)?;
            if let Err(wait) = state.api_rate.check(caller.token_id) {
                return Err(ApiError::rate_limited(caller.by.lang, wait));
            }
            Ok(Caller(caller))
        })
    }
}

/// Requests per second per token, counted in one-second windows on this
/// instance (several instances each allow the rate).
pub struct RateLimiter {
    per_second: u32,
    windows: Mutex<HashMap<i64, (u64, u32)>>,
}

impl RateLimiter {
    pub fn new(per_second: u32) -> RateLimiter {
        RateLimiter {
            per_second: per_second.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `token_id`; `Err(seconds to wait)` over the rate.
    pub fn check(&self, token_id: i64) -> Result<(), u64> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if windows.len() > 10_000 {
            windows.retain(|_, (second, _)| *second == now);
        }
        let entry = windows.entry(token_id).or_insert((now, 0));
        if entry.0 != now {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_second {
            return Err(1);
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The query string as name -> value (a name given twice: the last wins).
pub fn query_params(req: &HttpRequest, lang: crate::i18n::Lang) -> Result<HashMap<String, String>, ApiError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .map(|pairs| pairs.into_iter().collect())
        .map_err(|_| ApiError::validation(lang, Vec::new()))
}

/// A JSON object body, or 400.
pub fn json_object(
    body: &[u8],
    lang: crate::i18n::Lang,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            errors::code::VALIDATION,
            crate::i18n::tr(lang, "api-bad-body"),
        )),
    }
}

/// `2026-12-01T10:00:00Z`.
pub fn timestamp(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status).json(body)
}
