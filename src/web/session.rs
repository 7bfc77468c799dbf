//! Who is asking: the signed-in user from the session cookie, the admin
//! extractor that refuses members, and the CSRF guard.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest};
use rand::Rng;

use crate::db::models::User;
use crate::domain::api_tokens::{may_manage_tokens, API_TOKENS_PRIVILEGE};
use crate::domain::signin::SessionLimits;
use crate::domain::{Actor, Role, BULK_PRIVILEGE};
use crate::services;

use super::{AppState, WebError};

const SESSION_ID: &str = "sid";
const EPOCH: &str = "epoch";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
const LANG: &str = "lang";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// Starts a signed-in session for the server-side session `session_id`. A
/// fresh cookie (and CSRF token) at sign-in stops a fixed session from being
/// carried over.
pub fn sign_in(
    session: &Session,
    session_id: &str,
    epoch: i32,
    lang: Option<crate::i18n::Lang>,
) -> Result<(), WebError> {
    session.renew();
    session.clear();
    let ok = session.insert(SESSION_ID, session_id).is_ok() && session.insert(EPOCH, epoch).is_ok();
    if let Some(lang) = lang {
        set_lang(session, lang);
    }
    if !ok {
        return Err(WebError::Internal("cannot write the session".into()));
    }
    csrf_token(session);
    Ok(())
}

/// Clears the cookie; returns the server-side session to end, if any.
pub fn sign_out(session: &Session) -> Option<String> {
    let id = session.get::<String>(SESSION_ID).ok().flatten();
    session.purge();
    id
}

/// The session's CSRF token, made on first use.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(CSRF) {
        return token;
    }
    let bytes: [u8; 24] = rand::rng().random();
    let token = crate::config::encode_hex(&bytes);
    let _ = session.insert(CSRF, &token);
    token
}

/// The language this session chose (the header's switch, or the user's setting at sign-in).
pub fn set_lang(session: &Session, lang: crate::i18n::Lang) {
    let _ = session.insert(LANG, lang.code());
}

/// The request's language: the session's choice, else Accept-Language, else English.
pub async fn language<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    use crate::i18n::Lang;
    let chosen = req
        .get_session()
        .get::<String>(LANG)
        .ok()
        .flatten()
        .and_then(|c| Lang::parse(&c));
    let lang = chosen
        .or_else(|| {
            req.headers()
                .get("accept-language")
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default();
    crate::i18n::with_lang(lang, next.call(req)).await
}

/// A message for the next full page this session opens (after a redirect).
pub fn set_flash(session: &Session, message: &str) {
    let _ = session.insert(FLASH, message);
}

/// htmx partials leave the flash for the next full page.
fn take_flash(req: &HttpRequest, session: &Session) -> Option<String> {
    if is_htmx(req) {
        return None;
    }
    session.remove_as::<String>(FLASH).and_then(Result::ok)
}

pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("HX-Request")
}

/// Any signed-in, active user of an account.
pub struct SignedIn {
    pub user: User,
    pub csrf: String,
    pub flash: Option<String>,
}

impl FromRequest for SignedIn {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (claim, state) = Claim::of(&req)?;
            let key = claim.key.clone();
            let user = state.read(move |conn| key.resume(conn)).await?;
            match user {
                Some(user) => Ok(SignedIn {
                    user,
                    csrf: csrf_token(&claim.session),
                    flash: take_flash(&req, &claim.session),
                }),
                None => Err(claim.over(&req)),
            }
        })
    }
}

/// Who the session cookie says is signed in, not yet checked against the
/// database.
struct Claim {
    session: Session,
    key: SessionKey,
}

/// What the database check of a claim needs (sent to the database's thread).
#[derive(Clone)]
struct SessionKey {
    id: String,
    epoch: i32,
    limits: SessionLimits,
}

impl SessionKey {
    fn resume(&self, conn: &mut crate::db::DbConn) -> services::ServiceResult<Option<User>> {
        services::sessions::resume(conn, &self.id, self.epoch, self.limits, services::now())
    }
}

impl Claim {
    fn of(req: &HttpRequest) -> Result<(Claim, web::Data<AppState>), WebError> {
        let session = req.get_session();
        let (Ok(Some(id)), Ok(Some(epoch))) = (session.get::<String>(SESSION_ID), session.get::<i32>(EPOCH)) else {
            return Err(WebError::SignedOut { htmx: is_htmx(req) });
        };
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or(WebError::Internal("no state".into()))?;
        let limits = SessionLimits {
            idle: state.config.session_idle,
            lifetime: state.config.session_lifetime,
        };
        Ok((
            Claim {
                session,
                key: SessionKey { id, epoch, limits },
            },
            state,
        ))
    }

    /// Deactivated, deleted, or sessions ended since: this session is over (R11).
    fn over(&self, req: &HttpRequest) -> WebError {
        self.session.purge();
        WebError::SignedOut { htmx: is_htmx(req) }
    }
}

/// Why a session may not open an admin page.
enum Refusal {
    Over,
    NotAdmin,
}

/// A custom role's privileges beyond an admin's own: (bulk actions, API tokens).
type Privileges = (bool, bool);

/// The session check of an admin page, on the request's connection.
fn check_admin(
    conn: &mut crate::db::DbConn,
    key: &SessionKey,
) -> services::ServiceResult<Result<(User, Privileges), Refusal>> {
    let Some(user) = key.resume(conn)? else {
        return Ok(Err(Refusal::Over));
    };
    if !matches!(user.role, Role::Owner | Role::Admin) {
        return Ok(Err(Refusal::NotAdmin));
    }
    let privileges = match user.custom_role_id {
        Some(_) if user.role == Role::Admin => (
            services::roles::has_privilege(conn, user.custom_role_id, BULK_PRIVILEGE)?,
            services::roles::has_privilege(conn, user.custom_role_id, API_TOKENS_PRIVILEGE)?,
        ),
        _ => (false, false),
    };
    Ok(Ok((user, privileges)))
}

/// The account owner or an admin (R1); members get 403.
pub struct Admin {
    pub user: User,
    pub actor: Actor,
    /// May manage API tokens (owner, admins without a custom role, or one holding `api:tokens`).
    pub api_tokens: bool,
    pub csrf: String,
    pub flash: Option<String>,
}

impl Admin {
    /// The actor as the services and the audit log name them.
    pub fn info(&self) -> crate::services::ActorInfo {
        crate::services::ActorInfo {
            actor: self.actor,
            account_id: self.user.account_id,
            email: self.user.email.clone(),
            lang: crate::i18n::current(),
            via_api: false,
            via_scim: false,
        }
    }

    /// The page frame, its title translated from `title_key`.
    pub fn layout(&self, title_key: &str) -> super::pages::Layout {
        let mut layout = super::pages::Layout::new(title_key, &self.user, &self.csrf, self.flash.clone());
        layout.api_tokens = self.api_tokens;
        layout
    }
}

impl Admin {
    /// The admin check and a page's reads in one hand-off to the database:
    /// on PostgreSQL each hand-off is a trip to a blocking thread and a
    /// connection checked out (issue 20). `read` runs only for a signed-in
    /// owner or admin (R1, R11), after the session check's writes. A short
    /// read ([`AppState::read`]); a long one goes through [`Admin::read_long`].
    pub async fn read<T, F>(req: &HttpRequest, read: F) -> Result<(Admin, T), WebError>
    where
        F: FnOnce(&mut crate::db::DbConn, &User) -> services::ServiceResult<T> + Send + 'static,
        T: Send + 'static,
    {
        Admin::checked(req, true, read).await
    }

    /// [`Admin::read`] for a read that may take long: always off the
    /// request's thread ([`AppState::db`]).
    pub async fn read_long<T, F>(req: &HttpRequest, read: F) -> Result<(Admin, T), WebError>
    where
        F: FnOnce(&mut crate::db::DbConn, &User) -> services::ServiceResult<T> + Send + 'static,
        T: Send + 'static,
    {
        Admin::checked(req, false, read).await
    }

    /// The error for a request whose input is bad, unless who asks is
    /// refused first (the sign-in page for a stale session, 403 for a
    /// member), as when the check ran before the input was read.
    pub async fn refusal_or(req: &HttpRequest, bad_input: WebError) -> WebError {
        Admin::read(req, |_, _| Ok(())).await.err().unwrap_or(bad_input)
    }

    async fn checked<T, F>(req: &HttpRequest, short: bool, read: F) -> Result<(Admin, T), WebError>
    where
        F: FnOnce(&mut crate::db::DbConn, &User) -> services::ServiceResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (claim, state) = Claim::of(req)?;
        let key = claim.key.clone();
        let work = move |conn: &mut crate::db::DbConn| {
            Ok(match check_admin(conn, &key)? {
                Ok((user, privileges)) => Ok((read(conn, &user)?, user, privileges)),
                Err(refusal) => Err(refusal),
            })
        };
        let checked = match short {
            true => state.read(work).await?,
            false => state.db(work).await?,
        };
        let (data, user, (custom_bulk_privilege, custom_api_tokens)) = match checked {
            Ok(found) => found,
            Err(Refusal::Over) => return Err(claim.over(req)),
            Err(Refusal::NotAdmin) => return Err(WebError::Forbidden(crate::i18n::t("error-admins-only"))),
        };
        let role = user.role;
        let admin = Admin {
            api_tokens: may_manage_tokens(role, user.custom_role_id.is_some(), custom_api_tokens),
            actor: Actor {
                id: user.id,
                role,
                custom_bulk_privilege,
            },
            csrf: csrf_token(&claim.session),
            flash: take_flash(req, &claim.session),
            user,
        };
        Ok((admin, data))
    }
}

impl FromRequest for Admin {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(Admin::read(&req, |_, _| Ok(())).await?.0) })
    }
}

/// Refuses every state-changing request whose token does not match the
/// session's: from the `X-CSRF-Token` header (htmx), else the `csrf` field of
/// a urlencoded form (plain HTML forms). The token never rides in a URL,
/// where logs and the Referer header would carry it. Multipart uploads carry
/// it as their first field, which the upload handler checks before reading
/// the file ([`check_multipart_csrf`]); only the paths in
/// [`MULTIPART_PATHS`] accept multipart at all.
pub async fn csrf_guard<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    // The REST API authenticates each request with a bearer token, which a
    // browser never sends on its own: no cross-site request can forge it.
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || super::errors::is_machine_interface(req.path())
    {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let expected = req.get_session().get::<String>(CSRF).ok().flatten();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut sent = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if sent.is_none() && content_type.starts_with("multipart/form-data") && MULTIPART_PATHS.contains(&req.path()) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    if sent.is_none() && content_type.starts_with("application/x-www-form-urlencoded") {
        let body = req.extract::<web::Bytes>().await?;
        sent = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .ok()
            .and_then(|fields| fields.into_iter().find(|(k, _)| k == CSRF).map(|(_, v)| v));
        req.set_payload(Payload::from(body));
    }
    match (expected, sent) {
        (Some(e), Some(s)) if constant_time_eq(e.as_bytes(), s.as_bytes()) => {
            next.call(req).await.map(ServiceResponse::map_into_left_body)
        }
        _ => Ok(req.error_response(WebError::Csrf).map_into_right_body()),
    }
}

/// Paths whose handlers read a multipart body and check its `csrf` field first.
pub const MULTIPART_PATHS: [&str; 1] = ["/import"];

/// The check for a multipart upload's `csrf` field (or the htmx header,
/// already checked by the guard when present).
pub fn check_multipart_csrf(req: &HttpRequest, sent: Option<&str>) -> Result<(), WebError> {
    if req.headers().contains_key(CSRF_HEADER) {
        return Ok(());
    }
    let expected = req.get_session().get::<String>(CSRF).ok().flatten();
    match (expected, sent) {
        (Some(e), Some(s)) if constant_time_eq(e.as_bytes(), s.as_bytes()) => Ok(()),
        _ => Err(WebError::Csrf),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
