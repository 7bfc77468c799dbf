//! The Users page (owner and admins) and the member's profile page.

use actix_web::{web, HttpRequest, HttpResponse, Responder};
use serde::Deserialize;

use crate::domain::Status;
use crate::services::users::{self as user_service, UserQuery};
use crate::services::{self, ServiceError};

use super::auth::home_for;
use super::pages::{licenses_of, DirectoryPage, Layout, ProfilePage, UserRow, UsersPage, UsersTable};
use super::render::page_or_partial;
use super::session::{Admin, SignedIn};
use super::{redirect, AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/users", web::get().to(users_page))
        .route("/profile", web::get().to(profile))
        .route("/directory", web::get().to(directory))
        .route("/language", web::post().to(language));
}

async fn home(me: SignedIn) -> HttpResponse {
    redirect(home_for(me.user.role))
}

#[derive(Deserialize, Default)]
pub struct UsersParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    pub after: Option<String>,
    /// The position of the page's first row, for "Showing 51-100 of N" (display only).
    pub start: Option<String>,
}

impl UsersParams {
    fn start(&self) -> i64 {
        self.start
            .as_deref()
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|n| (1..=1_000_000_000).contains(n))
            .unwrap_or(1)
    }

    fn query(&self) -> Result<UserQuery, WebError> {
        let status = match self.status.as_str() {
            "" | "all" | "scheduled" => None,
            s => Some(
                Status::parse(s)
                    .ok_or_else(|| WebError::BadRequest(crate::i18n::ta("bad-status", &[("value", s.to_string())])))?,
            ),
        };
        Ok(UserQuery {
            scheduled: self.status == "scheduled",
            search: Some(self.q.clone()).filter(|q| !q.trim().is_empty()),
            status,
            after: self.after.clone().filter(|a| !a.is_empty()),
            rows: None,
        })
    }

    /// The URL of this listing with another cursor, so paging also works typed in.
    fn url_after(&self, after: Option<(&str, i64)>) -> String {
        let mut pairs = Vec::new();
        let start = after.map(|(_, n)| n.to_string());
        if !self.q.is_empty() {
            pairs.push(("q", self.q.as_str()));
        }
        if !self.status.is_empty() {
            pairs.push(("status", self.status.as_str()));
        }
        if let (Some((a, _)), Some(n)) = (after, start.as_deref()) {
            pairs.push(("after", a));
            pairs.push(("start", n));
        }
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if qs.is_empty() {
            "/users".into()
        } else {
            format!("/users?{qs}")
        }
    }
}

async fn users_page(req: HttpRequest, params: web::Query<UsersParams>) -> Result<HttpResponse, WebError> {
    let query = match params.query() {
        Ok(query) => query,
        Err(e) => return Err(Admin::refusal_or(&req, e).await),
    };
    let counted = query.clone();
    let (admin, (page, domains, (plans, tz), (counts, found))) = Admin::read(&req, move |conn, me| {
        let account_id = me.account_id;
        crate::db::read_snapshot(conn, |conn| {
            let page = user_service::list_rows(conn, account_id, &query)?;
            let user_service::ListingFacts { counts, domains } = user_service::listing_facts(conn, account_id)?;
            let found = user_service::search_count(conn, account_id, &query)?;
            let ids: Vec<i64> = page.users.iter().map(|u| u.id).collect();
            let plans = match counts.scheduled {
                0 => Default::default(),
                _ => services::schedule::planned_among(conn, account_id, &ids)?,
            };
            // The zone is read only when a plan is shown.
            let tz = match plans.is_empty() {
                true => crate::domain::schedule::Tz::UTC,
                false => services::schedule::time_zone(conn, account_id)?,
            };
            Ok::<_, ServiceError>((page, domains, (plans, tz), (counts, found)))
        })
    })
    .await?;
    let table = UsersTable {
        rows: page
            .users
            .iter()
            .map(|u| {
                let mut row = UserRow::new(u, &admin.actor, &domains);
                row.scheduled = plans.get(&u.id).map(|p| {
                    let at = crate::domain::schedule::show(p.due_at, tz);
                    crate::i18n::ta(
                        "scheduled-badge",
                        &[("action", crate::i18n::t(p.action.as_str())), ("at", at)],
                    )
                });
                row
            })
            .collect(),
        q: params.q.clone(),
        status: params.status.clone(),
        showing: showing(
            params.start(),
            page.users.len() as i64,
            found.unwrap_or(counts.of(&counted)),
        ),
        counts,
        next_url: page
            .next_after
            .as_deref()
            .map(|a| params.url_after(Some((a, params.start() + user_service::PAGE_SIZE)))),
        first_url: params.after.as_ref().map(|_| params.url_after(None)),
        bulk_allowed: admin.actor.has_bulk_privilege(),
        csrf: admin.csrf.clone(),
    };
    // htmx asks for the table only; the address bar gets the whole page.
    page_or_partial(&req, table, |table| {
        Ok(UsersPage {
            layout: admin.layout("users-title"),
            table,
        })
    })
}

/// "Showing 1-50 of 12,345", in the reader's words and digits.
fn showing(start: i64, rows: i64, total: i64) -> String {
    let lang = crate::i18n::current();
    if rows == 0 {
        return crate::i18n::ta("showing-none", &[("total", crate::i18n::number(lang, total))]);
    }
    crate::i18n::ta(
        "showing",
        &[
            ("from", crate::i18n::number(lang, start)),
            ("to", crate::i18n::number(lang, start + rows - 1)),
            ("total", crate::i18n::number(lang, total.max(start + rows - 1))),
        ],
    )
}

async fn profile(me: SignedIn) -> impl Responder {
    let u = &me.user;
    ProfilePage {
        layout: Layout::new("profile-title", u, &me.csrf, me.flash.clone()),
        name: u.full_name(),
        email: u.email.clone(),
        role: u.role.to_string(),
        user_type: u.user_type.to_string(),
        licenses: licenses_of(u),
    }
}

#[derive(Deserialize)]
struct DirectoryParams {
    #[serde(default)]
    q: String,
}

/// The account's contact directory, for every signed-in user. Deactivated
/// and pending users are not found here (R12).
async fn directory(
    state: web::Data<AppState>,
    me: SignedIn,
    params: web::Query<DirectoryParams>,
) -> Result<impl Responder, WebError> {
    let account_id = me.user.account_id;
    let q = params.q.clone();
    let people = state
        .db(move |conn| user_service::directory_search(conn, account_id, &q))
        .await?;
    Ok(DirectoryPage {
        layout: Layout::new("directory-title", &me.user, &me.csrf, me.flash.clone()),
        q: params.q.clone(),
        people: people.iter().map(|u| (u.full_name(), u.email.clone())).collect(),
    })
}

#[derive(Deserialize)]
struct LanguageForm {
    lang: String,
}

/// The header's language switch: remembered for the user and this session.
async fn language(
    req: HttpRequest,
    session: actix_session::Session,
    state: web::Data<AppState>,
    me: SignedIn,
    form: web::Form<LanguageForm>,
) -> Result<HttpResponse, WebError> {
    let lang = crate::i18n::Lang::parse(&form.lang)
        .ok_or_else(|| WebError::BadRequest(crate::i18n::ta("bad-language", &[("value", form.lang.clone())])))?;
    let user = me.user.clone();
    state
        .db(move |conn| user_service::set_language(conn, &user, lang, services::now()))
        .await?;
    super::session::set_lang(&session, lang);
    super::session::set_flash(&session, &crate::i18n::tr(lang, "flash-language"));
    // Back to the page the switch was on, when it is one of ours.
    let referer = req.headers().get("referer").and_then(|v| v.to_str().ok());
    let back = super::return_path::safe_return_path(referer, req.connection_info().host());
    Ok(redirect(&back))
}
