//! Transfer target type-ahead (issue 17): as the admin types two or more
//! letters in a transfer field, the account's matching users, eligible
//! ones first; an ineligible match is shown disabled with the reason. The
//! field stays a plain email field without JavaScript.

use crate::db::models::{UserFacts, UserListing};
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::domain::{check_transfer, TransferChoice};
#[allow(unused_imports)]
use crate::i18n::Translate;
use crate::services::users::{self as user_queries, transfer_target, UserQuery};

use super::session::Admin;
use super::{AppState, WebError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/users/suggest", web::get().to(suggest));
}

/// One suggestion: the address, the name, why it cannot take data at all
/// (shown disabled), or what it cannot take (a license missing).
pub struct Suggestion {
    pub email: String,
    pub name: String,
    pub refusal: Option<String>,
    pub limit: Option<String>,
}

#[derive(Template)]
#[template(path = "_suggestions.html")]
pub struct Suggestions {
    pub items: Vec<Suggestion>,
}

/// `transfer_to` as typed, and `for`: the users being removed (repeated).
struct SuggestQuery {
    transfer_to: String,
    removed: Vec<i64>,
}

/// Suggestions shown at most.
const SHOWN: usize = 8;

/// One user as a suggestion: refused when they can take nothing (not
/// active, being removed), limited when a license is missing.
fn suggestion(u: &UserListing, account_id: i64, leaver: i64, removed: &[i64]) -> Suggestion {
    // Meetings and events need no license: failing them is failing all.
    let unlicensed = TransferChoice {
        meetings: true,
        events: true,
        ..Default::default()
    };
    let every_kind = TransferChoice {
        webinars: true,
        recordings: true,
        ..unlicensed
    };
    let lang = crate::i18n::current();
    let target = transfer_target(u, account_id);
    let check = |choice: &TransferChoice| {
        check_transfer(leaver, choice, Some(&target), removed)
            .err()
            .map(|r| r.text(lang))
    };
    let refusal = check(&unlicensed);
    Suggestion {
        email: u.email.clone(),
        name: u.full_name(),
        limit: refusal.is_none().then(|| check(&every_kind)).flatten(),
        refusal,
    }
}

async fn suggest(
    state: web::Data<AppState>,
    admin: Admin,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let q = SuggestQuery {
        transfer_to: query
            .iter()
            .find(|(k, _)| k == "transfer_to")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        removed: query
            .iter()
            .filter(|(k, _)| k == "for")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
    };
    let term = q.transfer_to.trim().to_lowercase();
    if term.chars().count() < 2 {
        return super::render::html(&Suggestions { items: Vec::new() });
    }
    let account_id = admin.user.account_id;
    let found = state
        .read(move |conn| {
            let query = UserQuery {
                search: Some(term),
                status: None,
                after: None,
                scheduled: false,
                // Enough to rank eligible users first among the nearest addresses.
                rows: Some(SHOWN as i64 * 3),
            };
            crate::db::read_snapshot(
                conn,
                |conn| Ok(user_queries::list_rows(conn, account_id, &query)?.users),
            )
        })
        .await?;
    let leaver = q.removed.first().copied().unwrap_or(0);
    let mut items: Vec<Suggestion> = found
        .iter()
        .filter(|u| !u.is_room)
        .map(|u| suggestion(u, account_id, leaver, &q.removed))
        .collect();
    // Eligible for everything first, then with a limit, then refused; by email within.
    items.sort_by_key(|s| (s.refusal.is_some(), s.limit.is_some()));
    items.truncate(SHOWN);
    super::render::html(&Suggestions { items })
}

/// What the chosen heir will own after the transfer, or why they cannot
/// take the data: shown in the delete and unlink dialogs as the admin
/// picks a target and the kinds.
#[derive(Template)]
#[template(path = "_heir.html")]
pub struct HeirView {
    pub heir: Option<crate::services::user_actions::Heir>,
    pub refusal: Option<String>,
}

pub async fn heir(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<i64>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string());
    let transfer = crate::services::user_actions::Transfer {
        choice: TransferChoice {
            meetings: get("transfer_meetings").is_some(),
            webinars: get("transfer_webinars").is_some(),
            events: get("transfer_events").is_some(),
            recordings: get("transfer_recordings").is_some(),
        },
        to_email: get("transfer_to").filter(|e| !e.is_empty()),
    };
    let (account_id, leaver) = (admin.user.account_id, path.into_inner());
    let view = match transfer.to_email {
        None => HeirView {
            heir: None,
            refusal: None,
        },
        Some(_) => {
            let found = state
                .db(move |conn| Ok(crate::services::user_actions::heir(conn, account_id, leaver, &transfer)))
                .await?;
            match found {
                Ok(h) => HeirView {
                    heir: Some(h),
                    refusal: None,
                },
                Err(crate::services::ServiceError::Refused(r)) => HeirView {
                    heir: None,
                    refusal: Some(r.text(crate::i18n::current())),
                },
                Err(e) => return Err(e.into()),
            }
        }
    };
    super::render::html(&view)
}
