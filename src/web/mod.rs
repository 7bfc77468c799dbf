//! HTTP: routes per area, the extractors that authorise, and the one place
//! where errors become responses.

pub mod advanced;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod errors;
pub mod import;
pub mod pages;
pub mod return_path;
pub mod roles;
pub mod session;
pub mod throttle;
pub mod user_actions;
pub mod users;

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
    pub throttle: std::sync::Arc<throttle::Throttle>,
}

impl AppState {
    pub fn new(pool: Pool, config: Config) -> AppState {
        AppState {
            pool,
            config,
            throttle: Default::default(),
        }
    }

    /// Runs blocking database work off the async threads.
    pub async fn db<T, F>(&self, f: F) -> Result<T, WebError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, crate::services::ServiceError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(crate::db::DbError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|_| WebError::Internal("the worker thread stopped".into()))?
        .map_err(WebError::from)
    }
}

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
        .app_data(web::FormConfig::default().limit(64 * 1024).error_handler(|e, _| WebError::BadRequest(format!("{} ({e})", crate::i18n::t("bad-form"))).into()))
        .app_data(web::QueryConfig::default().error_handler(|e, _| WebError::BadRequest(format!("{} ({e})", crate::i18n::t("bad-address"))).into()))
        .configure(auth::config)
        .configure(users::config)
        .configure(advanced::config)
        .configure(audit::config)
        .configure(bulk::config)
        .configure(roles::config)
        .configure(import::config)
        .configure(user_actions::config)
        .service(actix_files::Files::new("/static", static_dir()))
        .default_service(web::to(|| async { Err::<HttpResponse, _>(WebError::NotFound) }))
        .wrap(from_fn(session::csrf_guard))
        .wrap(from_fn(session::language))
        .wrap(session)
        .wrap(
            DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("Referrer-Policy", "same-origin"))
                .add(("X-Frame-Options", "DENY"))
                .add(("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")),
        )
}

/// `static/` is served from the crate folder in development and beside the
/// binary's working directory otherwise.
fn static_dir() -> String {
    let here = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
    if std::path::Path::new(here).exists() {
        here.to_string()
    } else {
        "static".to_string()
    }
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", to)).finish()
}
