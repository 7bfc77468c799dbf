//! HTTP: routes per area, the extractors that authorise, and the one place
//! where errors become responses.

pub mod advanced;
pub mod api;
pub mod api_tokens;
pub mod assets;
pub mod audit;
pub mod audit_detail;
pub mod auth;
pub mod bulk;
pub mod charts;
pub mod client;
pub mod errors;
pub mod health;
pub mod import;
pub mod pages;
pub mod render;
pub mod request_id;
pub mod return_path;
pub mod roles;
pub mod rooms;
pub mod schedule;
pub mod scim;
pub mod session;
pub mod suggest;
pub mod user_actions;
pub mod users;
pub mod webhooks;

use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::body::MessageBody;
use actix_web::cookie::SameSite;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpResponse};

use crate::config::Config;
use crate::db::{DbConn, Pool};

pub use errors::WebError;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub config: Config,
    /// Bounds the argon2 checks running at once (each takes ~19 MB and a core).
    pub password_checks: std::sync::Arc<tokio::sync::Semaphore>,
    /// Per-token request counts of the REST API (this instance's share).
    pub api_rate: std::sync::Arc<api::RateLimiter>,
    /// SCIM requests not yet written to their log (`scim::log`).
    pub scim_log: std::sync::Arc<scim::log::RequestLog>,
    /// One permit per pooled connection: see [`AppState::blocking`].
    pub connections: std::sync::Arc<tokio::sync::Semaphore>,
}

/// The blocking thread of [`AppState::blocking`] stopped, or no connection
/// came free within the pool's wait.
#[derive(Debug)]
pub struct NoConnection;

impl AppState {
    pub fn new(pool: Pool, config: Config) -> AppState {
        AppState {
            connections: std::sync::Arc::new(tokio::sync::Semaphore::new(pool.max_size() as usize)),
            pool,
            password_checks: std::sync::Arc::new(tokio::sync::Semaphore::new(config.password_checks)),
            api_rate: std::sync::Arc::new(api::RateLimiter::new(config.api_rate)),
            scim_log: Default::default(),
            config,
        }
    }

    /// Runs blocking database work off the async threads.
    pub async fn db<T, F>(&self, f: F) -> Result<T, WebError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, crate::services::ServiceError> + Send + 'static,
        T: Send + 'static,
    {
        self.blocking(f)
            .await
            .map_err(|NoConnection| WebError::Busy)?
            .map_err(WebError::from)
    }

    /// Runs `f` on a blocking thread with a pooled connection, for the
    /// portal, the API and SCIM alike. Requests wait for a connection here,
    /// in the order they came (the semaphore is fair) and holding no
    /// thread, instead of each parking a blocking thread on the pool's
    /// condition variable, woken in no set order.
    pub async fn blocking<T, E, F>(&self, f: F) -> Result<Result<T, E>, NoConnection>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        E: From<crate::db::DbError> + Send + 'static,
        T: Send + 'static,
    {
        let wait = actix_web::rt::time::timeout(crate::db::POOL_WAIT, self.connections.clone().acquire_owned());
        let permit = wait.await.map_err(|_| NoConnection)?.map_err(|_| NoConnection)?;
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(crate::db::DbError::from)?;
            let done = f(&mut conn);
            // Given back here, not when the async thread next gets to this
            // request: the next in line starts as the connection comes free.
            drop(conn);
            drop(permit);
            done
        })
        .await
        .map_err(|_| NoConnection)
    }

    /// A short read (the session check, one page of a table) runs on the
    /// request's own thread when the database is a local SQLite file and a
    /// connection is free: such a read takes a fraction of a millisecond,
    /// less than handing it to a blocking thread and back, and requests
    /// then finish in the order they came instead of being time-sliced
    /// among dozens of blocking threads on a few cores (the Users page's
    /// p99 at concurrency 16). PostgreSQL waits on the network: off the
    /// async threads, like every write and every long read.
    pub async fn read<T, F>(&self, f: F) -> Result<T, WebError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, crate::services::ServiceError> + Send + 'static,
        T: Send + 'static,
    {
        match self.idle_sqlite() {
            Some(mut conn) => f(&mut conn).map_err(WebError::from),
            None => self.db(f).await,
        }
    }

    /// An idle connection, if the database is SQLite and one is free now
    /// (taken without waiting, and without asking PostgreSQL anything).
    pub fn idle_sqlite(&self) -> Option<crate::db::PooledConn> {
        self.config.database.is_sqlite().then(|| self.pool.try_get()).flatten()
    }
}

/// The largest urlencoded form a page sends (the bulk forms list user ids).
pub const FORM_LIMIT: usize = 64 * 1024;

/// The whole application, shared by `serve`, the tests and the benchmark.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let session = SessionMiddleware::builder(CookieSessionStore::default(), state.config.session_key.clone())
        .cookie_name("offboard_session".into())
        .cookie_secure(state.config.secure_cookies)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .build();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(
            web::FormConfig::default()
                .limit(FORM_LIMIT)
                .error_handler(errors::form_error),
        )
        .app_data(web::QueryConfig::default().error_handler(errors::query_error))
        .app_data(web::PathConfig::default().error_handler(errors::path_error))
        .configure(auth::config)
        .configure(suggest::config)
        .configure(users::config)
        .configure(advanced::config)
        .configure(audit::config)
        .configure(bulk::config)
        .configure(roles::config)
        .configure(import::config)
        .configure(user_actions::config)
        .configure(api_tokens::config)
        .configure(api::config)
        .configure(webhooks::config)
        .configure(rooms::config)
        .configure(assets::config)
        .configure(scim::config)
        .configure(health::config)
        .default_service(web::to(no_route))
        .wrap(from_fn(session::csrf_guard))
        // Inside the language middleware: error pages speak the admin's language.
        .wrap(from_fn(errors::error_pages))
        .wrap(from_fn(session::language))
        .wrap(session)
        .wrap(
            SECURITY_HEADERS
                .iter()
                .fold(DefaultHeaders::new(), |headers, &header| headers.add(header)),
        )
        .wrap(from_fn(no_store))
        // Outermost: the access log and the request id cover every answer.
        .wrap(from_fn(request_id::access_log))
}

/// Pages, partials and downloads may show people's data: no browser or proxy
/// keeps a copy (the back button after sign-out shows nothing). Only the
/// static files are cacheable.
async fn no_store<B: MessageBody>(
    req: ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let cacheable = req.path().starts_with("/static/");
    let mut resp = next.call(req).await?;
    if !cacheable {
        resp.headers_mut().insert(
            actix_web::http::header::CACHE_CONTROL,
            actix_web::http::header::HeaderValue::from_static("no-store"),
        );
    }
    Ok(resp)
}

/// On every response (error pages rendered outside the middleware chain add them themselves).
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    ),
];

/// No route took the request: 405 when the path is one of ours for another
/// method (each route carries its method as a guard, so actix itself never
/// says 405 here), else 404.
async fn no_route(req: actix_web::HttpRequest) -> Result<HttpResponse, WebError> {
    if req.resource_map().has_resource(req.path()) {
        Err(WebError::MethodNotAllowed)
    } else {
        Err(WebError::NotFound)
    }
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", to)).finish()
}
