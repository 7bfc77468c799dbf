//! `/scim/v2` (issue 16, RFC 7643/7644) for Okta and Microsoft Entra ID, and
//! the Provisioning (SCIM) page. Handlers read the request, call one
//! function of `services::scim` and render JSON; bearer tokens with the
//! `scim` scope only (no session, no CSRF: `is_machine_interface`).
//! Every request an account's token makes is noted for the page.

pub mod detail;
pub mod discovery;
pub mod errors;
pub mod log;
pub mod page;
pub mod users;

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;

use crate::db::DbConn;
use crate::domain::scim::ScimError;
use crate::services;
use crate::services::scim::requests::NewScimRequest;
use crate::services::scim::{self as service, ScimCaller, ScimResult};
use crate::web::NoConnection;

use super::AppState;

/// The largest request body read (a user is a few hundred bytes).
pub const MAX_BODY: usize = 256 * 1024;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2")
            .wrap(from_fn(note_request))
            .service(resource("/ServiceProviderConfig").route(web::get().to(discovery::service_provider_config)))
            .service(resource("/ResourceTypes").route(web::get().to(discovery::resource_types)))
            .service(resource("/ResourceTypes/{id}").route(web::get().to(discovery::resource_type)))
            .service(resource("/Schemas").route(web::get().to(discovery::schemas)))
            .service(resource("/Schemas/{id}").route(web::get().to(discovery::schema)))
            .service(resource("/Groups").route(web::get().to(discovery::groups)))
            .service(resource("/.search").route(web::post().to(users::search)))
            .service(resource("/Users/.search").route(web::post().to(users::search)))
            .service(
                resource("/Users")
                    .route(web::get().to(users::list))
                    .route(web::post().to(users::create)),
            )
            .service(
                resource("/Users/{id}")
                    .route(web::get().to(users::get))
                    .route(web::put().to(users::replace))
                    .route(web::patch().to(users::patch))
                    .route(web::delete().to(users::delete)),
            )
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ScimError::NotFound("no such SCIM endpoint".into()))
            })),
    );
    page::config(cfg);
}

/// A route whose other methods answer 405 in the Error schema.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|| async {
        Err::<actix_web::HttpResponse, _>(ScimError::MethodNotAllowed)
    }))
}

/// The `/scim/v2` URL of this server, for `meta.location`.
pub fn base_url(state: &AppState) -> String {
    format!("{}/scim/v2", state.config.public_url.trim_end_matches('/'))
}

/// Blocking database work off the async threads.
pub async fn db<T, F>(state: &AppState, f: F) -> Result<T, ScimError>
where
    F: FnOnce(&mut DbConn) -> ScimResult<T> + Send + 'static,
    T: Send + 'static,
{
    state
        .blocking(f)
        .await
        .map_err(|NoConnection| ScimError::Busy)?
        .map_err(ScimError::from)
}

/// A short read on the request's own thread when it can be (see `AppState::read`).
pub async fn read<T, F>(state: &AppState, f: F) -> Result<T, ScimError>
where
    F: FnOnce(&mut DbConn) -> ScimResult<T> + Send + 'static,
    T: Send + 'static,
{
    match state.idle_sqlite() {
        Some(mut conn) => f(&mut conn).map_err(ScimError::from),
        None => db(state, f).await,
    }
}

/// The caller behind `Authorization: Bearer TOKEN` with the `scim` scope; else 401.
pub struct Scim(pub ScimCaller);

impl FromRequest for Scim {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ScimError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = crate::web::api::bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let token = token.ok_or(ScimError::Unauthorized)?;
            let state = state.ok_or(ScimError::Internal)?;
            let caller = read(&state, move |conn| {
                Ok(service::authenticate(conn, &token, services::now())?)
            })
            .await?
            .ok_or(ScimError::Unauthorized)?;
            // For `note_request`, once the answer is known.
            req.extensions_mut().insert(caller.clone());
            Ok(Scim(caller))
        })
    }
}

/// A JSON body of at most [`MAX_BODY`] bytes, as `application/scim+json`
/// or `application/json` (or unlabelled) sends it.
pub async fn json_body(mut payload: web::Payload) -> Result<serde_json::Value, ScimError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ScimError::InvalidSyntax("the request body could not be read".into()))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ScimError::TooLarge(MAX_BODY));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| ScimError::InvalidSyntax(format!("the body is not valid JSON: {e}")))
}

/// Notes each authenticated request with its status and, for a failure,
/// the detail the provider got.
async fn note_request<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let method = req.method().to_string();
    let path = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{}", req.path(), q),
    };
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    let caller = res.request().extensions().get::<ScimCaller>().cloned();
    if let (Some(caller), Some(state)) = (caller, state) {
        let status = res.status().as_u16();
        let detail = res
            .response()
            .error()
            .and_then(|e| e.as_error::<ScimError>())
            .map(ToString::to_string)
            .unwrap_or_default();
        let entry = NewScimRequest {
            account_id: caller.by.account_id,
            at: services::now(),
            token_name: caller.token_name,
            method,
            path: path.chars().take(500).collect(),
            status: i32::from(status),
            detail: detail.chars().take(500).collect(),
        };
        log::note(&state, entry);
    }
    Ok(res)
}
