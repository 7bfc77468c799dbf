//! `TestApp`: the real app on a fresh, migrated database per test (a temp
//! SQLite file, or a new PostgreSQL database when `OFFBOARD_TEST_DB=postgres`),
//! with helpers to seed what a test names and to sign in as anyone.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::BoxBody;
use actix_web::cookie::Key;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::test;
use diesel::prelude::*;
use offboard::config::Config;
use offboard::db::models::*;
use offboard::db::schema::*;
use offboard::db::{self, DbUrl, Pool};
use offboard::services;
use offboard::AppState;

pub const PASSWORD: &str = "correct horse 1";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Which database the suite runs on.
pub fn backend() -> &'static str {
    match std::env::var("OFFBOARD_TEST_DB").as_deref() {
        Ok("postgres") => "postgres",
        _ => "sqlite",
    }
}

fn pg_server() -> String {
    std::env::var("OFFBOARD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// Removes the test's database when the test ends, passed or failed.
pub struct TestDb {
    pub url: DbUrl,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn new() -> TestDb {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("offboard_test_{}_{}_{}", std::process::id(), n, rand_suffix());
        if backend() == "postgres" {
            let mut admin = diesel::PgConnection::establish(&format!("{}/postgres", pg_server()))
                .expect("PostgreSQL is not reachable; start it or run scripts/test.sh");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .expect("create database");
            TestDb {
                url: DbUrl::Postgres(format!("{}/{name}", pg_server())),
                pg_name: Some(name),
            }
        } else {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            TestDb {
                url: DbUrl::Sqlite(path.to_string_lossy().into_owned()),
                pg_name: None,
            }
        }
    }
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match (&self.url, &self.pg_name) {
            (DbUrl::Postgres(_), Some(name)) => {
                if let Ok(mut admin) = diesel::PgConnection::establish(&format!("{}/postgres", pg_server())) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
                }
            }
            (DbUrl::Sqlite(path), _) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            _ => {}
        }
    }
}

#[derive(Clone, Copy, Default)]
pub struct Owned {
    pub meetings: i64,
    pub pmi: i64,
    pub webinars: i64,
    pub events: i64,
    pub recordings: i64,
    pub phone: i64,
}

/// What a test says about a user it wants.
#[derive(Clone)]
pub struct UserSpec {
    pub email: String,
    pub role: &'static str,
    pub status: &'static str,
    pub licensed: bool,
    pub webinar: bool,
    pub phone: bool,
    pub external: bool,
    pub room: bool,
    pub custom_role_id: Option<i64>,
}

impl UserSpec {
    pub fn member(email: &str) -> UserSpec {
        UserSpec {
            email: email.into(),
            role: "member",
            status: "active",
            licensed: false,
            webinar: false,
            phone: false,
            external: false,
            room: false,
            custom_role_id: None,
        }
    }
    pub fn admin(email: &str) -> UserSpec {
        UserSpec {
            role: "admin",
            ..UserSpec::member(email)
        }
    }
    pub fn status(mut self, s: &'static str) -> Self {
        self.status = s;
        self
    }
    pub fn licensed(mut self) -> Self {
        self.licensed = true;
        self
    }
    pub fn webinar(mut self) -> Self {
        self.licensed = true;
        self.webinar = true;
        self
    }
    pub fn phone(mut self) -> Self {
        self.phone = true;
        self
    }
    pub fn external(mut self) -> Self {
        self.external = true;
        self
    }
    pub fn room(mut self) -> Self {
        self.room = true;
        self
    }
    pub fn custom_role(mut self, id: i64) -> Self {
        self.custom_role_id = Some(id);
        self
    }
}

pub struct TestApp {
    pub state: AppState,
    pub account_id: i64,
    pub owner_id: i64,
    hash: String,
    _db: TestDb,
}

impl TestApp {
    /// A fresh database with one account ("Acme", managed domain acme.test)
    /// and its owner owner@acme.test.
    pub fn new() -> TestApp {
        let db = TestDb::new();
        let pool: Pool = db::connect(&db.url, 4).expect("database");
        let config = Config::new(db.url.clone(), Key::generate(), "http://127.0.0.1".into());
        let hash = services::auth::hash_password(PASSWORD, true).expect("hash");
        let now = services::now();
        let mut conn = pool.get().expect("conn");
        let account_id: i64 = diesel::insert_into(accounts::table)
            .values(&NewAccount {
                name: "Acme",
                is_free: false,
                created_at: now,
            })
            .returning(accounts::id)
            .get_result(&mut *conn)
            .expect("account");
        diesel::insert_into(managed_domains::table)
            .values((
                managed_domains::account_id.eq(account_id),
                managed_domains::domain.eq("acme.test"),
            ))
            .execute(&mut *conn)
            .expect("domain");
        drop(conn);
        let mut app = TestApp {
            state: AppState::new(pool, config),
            account_id,
            owner_id: 0,
            hash,
            _db: db,
        };
        app.owner_id = app.user(UserSpec {
            role: "owner",
            ..UserSpec::member("owner@acme.test").licensed()
        });
        app
    }

    /// The account owner as the services see them (English, not through the API).
    pub fn owner_info(&self) -> offboard::services::ActorInfo {
        offboard::services::ActorInfo {
            actor: offboard::domain::Actor {
                id: self.owner_id,
                role: offboard::domain::Role::Owner,
                custom_bulk_privilege: false,
            },
            account_id: self.account_id,
            email: "owner@acme.test".into(),
            lang: offboard::i18n::Lang::En,
            via_api: false,
            via_scim: false,
        }
    }

    pub fn conn(&self) -> db::PooledConn {
        self.state.pool.get().expect("conn")
    }

    /// Adds a user to the test account; returns its id.
    pub fn user(&self, spec: UserSpec) -> i64 {
        self.user_in(self.account_id, spec)
    }

    pub fn user_in(&self, account_id: i64, spec: UserSpec) -> i64 {
        let now = services::now();
        let local = spec.email.split('@').next().unwrap_or("x");
        let mut u = NewUser::member(account_id, &spec.email, &capitalise(local), "Tester", now);
        u.role = offboard::domain::Role::parse(spec.role).expect("role");
        u.status = offboard::domain::Status::parse(spec.status).expect("status");
        u.user_type = if spec.licensed {
            offboard::domain::UserType::Licensed
        } else {
            offboard::domain::UserType::Basic
        };
        u.webinar_license = spec.webinar;
        u.phone_license = spec.phone;
        u.is_external = spec.external;
        u.is_room = spec.room;
        u.custom_role_id = spec.custom_role_id;
        u.password_hash = Some(self.hash.clone());
        if spec.status == "deactivated" {
            u.deactivated_at = Some(now);
        }
        diesel::insert_into(users::table)
            .values(&u)
            .returning(users::id)
            .get_result(&mut *self.conn())
            .expect("insert user")
    }

    /// A user with a given first and last name.
    pub fn named(&self, email: &str, first: &str, last: &str) -> i64 {
        let id = self.user(UserSpec::member(email));
        diesel::update(users::table.find(id))
            .set((
                users::first_name.eq(first),
                users::last_name.eq(last),
                users::first_lc.eq(first.to_lowercase()),
                users::last_lc.eq(last.to_lowercase()),
            ))
            .execute(&mut *self.conn())
            .expect("rename");
        id
    }

    /// Another account, with its own owner; returns (account id, owner id).
    pub fn other_account(&self, owner_email: &str) -> (i64, i64) {
        let account_id: i64 = diesel::insert_into(accounts::table)
            .values(&NewAccount {
                name: "Other",
                is_free: false,
                created_at: services::now(),
            })
            .returning(accounts::id)
            .get_result(&mut *self.conn())
            .expect("account");
        let owner = self.user_in(
            account_id,
            UserSpec {
                role: "owner",
                ..UserSpec::member(owner_email)
            },
        );
        (account_id, owner)
    }

    pub fn load_user(&self, id: i64) -> Option<User> {
        users::table
            .find(id)
            .select(User::as_select())
            .first(&mut *self.conn())
            .optional()
            .expect("load user")
    }

    /// Gives a user data: meetings (of which `pmi` on the Personal Meeting
    /// ID), webinars, events, cloud recordings and phone records.
    pub fn give(&self, user_id: i64, owned: Owned) {
        let now = services::now();
        let mut conn = self.conn();
        let email = self.load_user(user_id).expect("user").email;
        for k in 0..owned.meetings {
            diesel::insert_into(meetings::table)
                .values(&NewMeeting {
                    owner_id: user_id,
                    topic: format!("m{k}"),
                    uses_pmi: k < owned.pmi,
                    start_at: now,
                })
                .execute(&mut *conn)
                .expect("meeting");
        }
        for k in 0..owned.webinars {
            diesel::insert_into(webinars::table)
                .values(&NewWebinar {
                    owner_id: user_id,
                    topic: format!("w{k}"),
                    start_at: now,
                })
                .execute(&mut *conn)
                .expect("webinar");
        }
        for k in 0..owned.events {
            diesel::insert_into(events::table)
                .values(&NewEvent {
                    owner_id: user_id,
                    title: format!("e{k}"),
                    start_at: now,
                })
                .execute(&mut *conn)
                .expect("event");
        }
        for k in 0..owned.recordings {
            diesel::insert_into(cloud_recordings::table)
                .values(&NewRecording {
                    owner_id: user_id,
                    topic: format!("r{k}"),
                    size_bytes: 1,
                    recorded_at: now,
                })
                .execute(&mut *conn)
                .expect("recording");
        }
        for k in 0..owned.phone {
            diesel::insert_into(phone_records::table)
                .values(&NewPhoneRecord {
                    account_id: self.account_id,
                    user_id: Some(user_id),
                    user_email: email.clone(),
                    kind: if k % 2 == 0 { "call_recording" } else { "voicemail" }.into(),
                    created_at: now,
                })
                .execute(&mut *conn)
                .expect("phone");
        }
    }

    /// What a user owns now: (meetings, webinars, events, recordings).
    pub fn owned(&self, user_id: i64) -> (i64, i64, i64, i64) {
        let mut c = self.conn();
        (
            meetings::table
                .filter(meetings::owner_id.eq(user_id))
                .count()
                .get_result(&mut *c)
                .expect("count"),
            webinars::table
                .filter(webinars::owner_id.eq(user_id))
                .count()
                .get_result(&mut *c)
                .expect("count"),
            events::table
                .filter(events::owner_id.eq(user_id))
                .count()
                .get_result(&mut *c)
                .expect("count"),
            cloud_recordings::table
                .filter(cloud_recordings::owner_id.eq(user_id))
                .count()
                .get_result(&mut *c)
                .expect("count"),
        )
    }

    /// A custom role of the test account with these privileges.
    pub fn custom_role(&self, name: &str, privileges: &[&str]) -> i64 {
        let mut conn = self.conn();
        let id: i64 = diesel::insert_into(custom_roles::table)
            .values((
                custom_roles::account_id.eq(self.account_id),
                custom_roles::name.eq(name),
            ))
            .returning(custom_roles::id)
            .get_result(&mut *conn)
            .expect("role");
        for p in privileges {
            diesel::insert_into(role_privileges::table)
                .values((role_privileges::role_id.eq(id), role_privileges::privilege.eq(*p)))
                .execute(&mut *conn)
                .expect("privilege");
        }
        id
    }

    pub fn audit(&self) -> Vec<AuditEntry> {
        audit_log::table
            .order(audit_log::id)
            .select(AuditEntry::as_select())
            .load(&mut *self.conn())
            .expect("audit")
    }

    pub fn client(&self) -> Client<'_> {
        Client {
            app: self,
            service: RefCell::new(None),
            cookies: RefCell::new(HashMap::new()),
            csrf: RefCell::new(String::new()),
            peer: None,
        }
    }

    /// A client signed in as `email` (password [`PASSWORD`]).
    pub async fn signed_in(&self, email: &str) -> Client<'_> {
        let c = self.client();
        let r = c.sign_in(email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "sign-in of {email} failed: {}", r.body);
        // A page of the new session, so the client holds its CSRF token.
        let r = c.get("/profile").await;
        assert_eq!(r.status, StatusCode::OK, "profile of {email}");
        c
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
    /// The emails of the user rows shown, in order.
    pub fn emails(&self) -> Vec<String> {
        attr_values(&self.body, "data-user-email")
    }
    /// The text of the first `role="alert"` element.
    pub fn alert(&self) -> Option<String> {
        let start = self.body.find("role=\"alert\"")?;
        let rest = &self.body[start..];
        let open = rest.find('>')? + 1;
        let close = rest[open..].find('<')?;
        Some(unescape(rest[open..open + close].trim()))
    }
}

pub fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let start = i + needle.len();
            html[start..].find('"').map(|end| unescape(&html[start..start + end]))
        })
        .collect()
}

/// Undoes the HTML escaping of attribute values (askama writes `&#38;` and friends).
pub fn unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// The app as a service, its body type erased so a client can keep it.
type Answer = Pin<Box<dyn Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>>>>;
type AppService = Rc<dyn Fn(test::TestRequest) -> Answer>;

/// A browser-like client: keeps cookies and the CSRF token of the last page.
pub struct Client<'a> {
    pub app: &'a TestApp,
    /// Built at the first request and kept, as a server keeps its app.
    service: RefCell<Option<AppService>>,
    cookies: RefCell<HashMap<String, String>>,
    csrf: RefCell<String>,
    /// The socket address requests come from (none: an in-process request).
    peer: Option<std::net::SocketAddr>,
}

impl Client<'_> {
    /// Requests from this client address (loopback ports, or any address as
    /// far as the in-process app can tell: nothing is sent on a network).
    pub fn at_address(mut self, addr: &str) -> Self {
        self.peer = Some(addr.parse().expect("socket address"));
        self
    }

    /// A copy of the cookie jar, as an attacker who stole it would hold it.
    pub fn cookie_jar(&self) -> HashMap<String, String> {
        self.cookies.borrow().clone()
    }

    pub fn set_cookie_jar(&self, jar: HashMap<String, String>) {
        *self.cookies.borrow_mut() = jar;
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let body = form.map(|fields| {
            (
                "application/x-www-form-urlencoded".to_string(),
                serde_urlencoded::to_string(fields).expect("form").into_bytes(),
            )
        });
        self.send_body(method, path, body, extra).await
    }

    /// The CSRF token of the last page, for requests built by hand.
    pub fn csrf(&self) -> String {
        self.csrf.borrow().clone()
    }

    /// The app, built once per client.
    async fn service(&self) -> AppService {
        if let Some(service) = self.service.borrow().as_ref() {
            return service.clone();
        }
        let srv = Rc::new(test::init_service(offboard::app(self.app.state.clone())).await);
        let service: AppService = Rc::new(move |req: test::TestRequest| {
            let srv = srv.clone();
            Box::pin(async move {
                srv.call(req.to_request())
                    .await
                    .map(ServiceResponse::map_into_boxed_body)
            })
        });
        *self.service.borrow_mut() = Some(service.clone());
        service
    }

    /// Any body with its content type, as a browser (or something else) might send it.
    pub async fn send_body(
        &self,
        method: Method,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut req = test::TestRequest::default().method(method).uri(path);
        if let Some(peer) = self.peer {
            req = req.peer_addr(peer);
        }
        let cookie = self
            .cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        if !cookie.is_empty() {
            req = req.insert_header((header::COOKIE, cookie));
        }
        for (k, v) in extra {
            req = req.insert_header((*k, *v));
        }
        if let Some((content_type, bytes)) = body {
            req = req
                .insert_header((header::CONTENT_TYPE, content_type))
                .set_payload(bytes);
        }
        let resp = match (self.service().await)(req).await {
            Ok(resp) => resp,
            // An error no middleware answered: the server sends its error_response().
            Err(e) => {
                let resp = e.error_response();
                let (status, headers) = (resp.status(), resp.headers().clone());
                let bytes = actix_web::body::to_bytes(resp.into_body()).await.unwrap_or_default();
                let body = String::from_utf8_lossy(&bytes).into_owned();
                return Resp { status, headers, body };
            }
        };
        for c in resp.response().cookies() {
            if c.max_age().is_some_and(|a| a.is_zero()) || c.value().is_empty() {
                self.cookies.borrow_mut().remove(c.name());
            } else {
                self.cookies
                    .borrow_mut()
                    .insert(c.name().to_string(), c.value().to_string());
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
        if let Some(token) = csrf_in(&body) {
            *self.csrf.borrow_mut() = token;
        }
        Resp { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn htmx_get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[("HX-Request", "true")]).await
    }

    /// A form post carrying the CSRF token, as the page's form would.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self.csrf.borrow().clone();
        let mut all: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.send(Method::POST, path, Some(&all), &[]).await
    }

    /// A post without the CSRF token: what a forged cross-site form sends.
    pub async fn post_without_csrf(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.send(Method::POST, path, Some(fields), &[]).await
    }

    /// An htmx post: the token travels in the header.
    pub async fn htmx_post(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self.csrf.borrow().clone();
        self.send(
            Method::POST,
            path,
            Some(fields),
            &[("HX-Request", "true"), ("X-CSRF-Token", token.as_str())],
        )
        .await
    }

    /// The Import form: a multipart upload whose first field is the CSRF token.
    pub async fn upload(&self, action: &str, filename: &str, bytes: &[u8]) -> Resp {
        let token = self.csrf.borrow().clone();
        self.upload_raw(&[("csrf", token.as_str()), ("action", action)], filename, bytes)
            .await
    }

    /// A multipart upload of these text fields, in order, then the file.
    pub async fn upload_raw(&self, fields: &[(&str, &str)], filename: &str, bytes: &[u8]) -> Resp {
        let boundary = "----offboard-test-boundary";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let cookie = self
            .cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let req = test::TestRequest::post()
            .uri("/import")
            .insert_header((header::COOKIE, cookie))
            .insert_header((
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            ))
            .set_payload(body);
        let resp = (self.service().await)(req).await.expect("the upload is answered");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
        Resp { status, headers, body }
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Resp {
        self.get("/login").await;
        self.post("/login", &[("email", email), ("password", password)]).await
    }
}

/// The token from a hidden `csrf` field or the htmx header attribute.
fn csrf_in(body: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    if let Some(i) = body.find(marker) {
        let start = i + marker.len();
        return body[start..].find('"').map(|e| body[start..start + e].to_string());
    }
    let marker = "\"X-CSRF-Token\": \"";
    let i = body.find(marker)?;
    let start = i + marker.len();
    body[start..].find('"').map(|e| body[start..start + e].to_string())
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

/// PostgreSQL's plan of `sql`, one line per node.
pub fn explain(conn: &mut db::DbConn, sql: &str) -> String {
    diesel::sql_query(format!("EXPLAIN {sql}"))
        .load::<PlanLine>(conn)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A connection of its own to the test's database when it is PostgreSQL
/// (for checks of PostgreSQL's plans), `None` on SQLite.
pub fn pg_connection(app: &TestApp) -> Option<db::DbConn> {
    let conn = db::establish(&app.state.config.database).unwrap();
    matches!(conn, db::DbConn::Pg(_)).then_some(conn)
}
