//! API tokens (B4, issue 14): create (shown once), revoke, re-issue, list,
//! and authenticate a request's bearer token. Creating, revoking and
//! re-issuing are audited in their transaction.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::db::models::{ApiToken, NewApiToken, NewAuditEntry, User};
use crate::db::schema::{api_tokens, users};
use crate::db::DbConn;
use crate::domain::api_tokens::{
    check_usable, lifetime_days, may_manage_tokens, parse_scopes, scopes_text, touch_due, CreatorFacts, Scope,
    TokenFacts, Unusable, API_TOKENS_PRIVILEGE, MAX_DAYS,
};
use crate::domain::{Actor, Refusal, Role, Status, BULK_PRIVILEGE};
use crate::i18n::{tr, tr_args, Lang};

use super::{audit, ActorInfo, ServiceError, ServiceResult};

/// Every token starts with this, so a leaked one is recognisable (secret scanners).
pub const PREFIX: &str = "obt_";

/// A new token: the text is shown once and never stored.
#[derive(Debug, Clone)]
pub struct Created {
    pub token: String,
    pub row: ApiToken,
}

/// A token as the API page lists it, with why it no longer works.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub row: ApiToken,
    pub unusable: Option<Unusable>,
}

/// Who is calling through a token: the creator, acting under their rights.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The creator as the services and the audit log see them (source `api`).
    pub by: ActorInfo,
}

impl Caller {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// The stored form of a token: hex SHA-256. A 256-bit random token needs no
/// slow hash: guessing one is hopeless either way.
pub fn hash_token(token: &str) -> String {
    crate::config::encode_hex(&Sha256::digest(token.as_bytes()))
}

fn generate() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("{PREFIX}{}", crate::config::encode_hex(&bytes))
}

/// The user's language, for messages of acts done through their tokens.
pub fn lang_of(user: &User) -> Lang {
    user.language.as_deref().and_then(Lang::parse).unwrap_or_default()
}

/// `user` as an actor of the services (the CLI and the API act for a user without a session).
pub fn actor_info(conn: &mut DbConn, user: &User, lang: Lang, via_api: bool) -> ServiceResult<ActorInfo> {
    let role = user.role;
    let custom_bulk_privilege =
        role == Role::Admin && super::roles::has_privilege(conn, user.custom_role_id, BULK_PRIVILEGE)?;
    Ok(ActorInfo {
        actor: Actor {
            id: user.id,
            role,
            custom_bulk_privilege,
        },
        account_id: user.account_id,
        email: user.email.clone(),
        lang,
        via_api,
        via_scim: false,
    })
}

/// May this user manage the account's tokens (and may their tokens act)?
pub fn may_manage(conn: &mut DbConn, user: &User) -> ServiceResult<bool> {
    Ok(creator_facts(conn, user, user.account_id)?.is_some_and(|c| {
        c.status == Status::Active && may_manage_tokens(c.role, c.has_custom_role, c.custom_has_privilege)
    }))
}

fn creator_facts(conn: &mut DbConn, user: &User, account_id: i64) -> ServiceResult<Option<CreatorFacts>> {
    Ok(Some(CreatorFacts {
        role: user.role,
        status: user.status,
        same_account: user.account_id == account_id,
        has_custom_role: user.custom_role_id.is_some(),
        custom_has_privilege: super::roles::has_privilege(conn, user.custom_role_id, API_TOKENS_PRIVILEGE)?,
    }))
}

/// The acting user, if they may manage tokens; else the refusal.
fn manager(conn: &mut DbConn, by: &ActorInfo) -> ServiceResult<User> {
    let user = super::users::find_in_account(conn, by.account_id, by.actor.id)
        .map_err(|_| ServiceError::Refused(Refusal::NoApiTokenAccess))?;
    if by.via_api || !may_manage(conn, &user)? {
        return Err(Refusal::NoApiTokenAccess.into());
    }
    Ok(user)
}

fn invalid(lang: Lang, key: &str, value: &str) -> ServiceError {
    ServiceError::Invalid(tr_args(lang, key, &[("value", value.to_string())]))
}

fn record(conn: &mut DbConn, by: &ActorInfo, action: &str, detail: String, now: NaiveDateTime) -> QueryResult<()> {
    audit::record(
        conn,
        &NewAuditEntry {
            detail,
            ..audit::by(by, action, now)
        },
    )
}

fn find(conn: &mut DbConn, account_id: i64, token_id: i64) -> ServiceResult<ApiToken> {
    Ok(api_tokens::table
        .filter(api_tokens::id.eq(token_id))
        .filter(api_tokens::account_id.eq(account_id))
        .select(ApiToken::as_select())
        .first(conn)?)
}

fn live_named(conn: &mut DbConn, account_id: i64, name: &str) -> ServiceResult<Option<ApiToken>> {
    Ok(api_tokens::table
        .filter(api_tokens::account_id.eq(account_id))
        .filter(api_tokens::name.eq(name))
        .filter(api_tokens::revoked_at.is_null())
        .select(ApiToken::as_select())
        .first(conn)
        .optional()?)
}

/// Creates a token for the acting user. `scopes` as typed (`user:read,user:write`),
/// `days` from 1 to 365 (default 90).
pub fn create(
    conn: &mut DbConn,
    by: &ActorInfo,
    name: &str,
    scopes: &str,
    days: Option<i64>,
    now: NaiveDateTime,
) -> ServiceResult<Created> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(invalid(by.lang, "api-token-bad-name", name));
    }
    let scopes = parse_scopes(scopes).map_err(|bad| invalid(by.lang, "api-token-bad-scope", &bad))?;
    let days = lifetime_days(days).ok_or_else(|| invalid(by.lang, "api-token-bad-days", &MAX_DAYS.to_string()))?;
    crate::db::write_transaction(conn, |conn| {
        let creator = manager(conn, by)?;
        insert(conn, by, &creator, name, &scopes, days, now, "create_api_token")
    })
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &mut DbConn,
    by: &ActorInfo,
    creator: &User,
    name: &str,
    scopes: &[Scope],
    days: i64,
    now: NaiveDateTime,
    action: &str,
) -> ServiceResult<Created> {
    if live_named(conn, by.account_id, name)?.is_some() {
        return Err(invalid(by.lang, "api-token-name-taken", name));
    }
    let token = generate();
    let new = NewApiToken {
        account_id: by.account_id,
        name: name.to_string(),
        scopes: scopes_text(scopes),
        token_hash: hash_token(&token),
        last4: token[token.len() - 4..].to_string(),
        created_by: Some(creator.id),
        created_by_email: creator.email.clone(),
        created_at: now,
        expires_at: now + Duration::days(days),
    };
    let row: ApiToken = diesel::insert_into(api_tokens::table)
        .values(&new)
        .returning(api_tokens::all_columns)
        .get_result(conn)?;
    record(
        conn,
        by,
        action,
        format!(
            "{name}: {} (…{}), expires {}",
            row.scopes,
            row.last4,
            row.expires_at.format("%Y-%m-%d")
        ),
        now,
    )?;
    Ok(Created { token, row })
}

/// Revokes a token of the account; revoking a revoked one changes nothing.
pub fn revoke(conn: &mut DbConn, by: &ActorInfo, token_id: i64, now: NaiveDateTime) -> ServiceResult<String> {
    crate::db::write_transaction(conn, |conn| {
        manager(conn, by)?;
        let token = find(conn, by.account_id, token_id)?;
        if token.revoked_at.is_none() {
            diesel::update(api_tokens::table.find(token.id))
                .set(api_tokens::revoked_at.eq(Some(now)))
                .execute(conn)?;
            record(
                conn,
                by,
                "revoke_api_token",
                format!("{} (…{})", token.name, token.last4),
                now,
            )?;
        }
        Ok(token.name)
    })
}

/// Revokes the live token called `name` (the CLI).
pub fn revoke_by_name(conn: &mut DbConn, by: &ActorInfo, name: &str, now: NaiveDateTime) -> ServiceResult<String> {
    let token = live_named(conn, by.account_id, name.trim())?.ok_or(ServiceError::NotFound)?;
    revoke(conn, by, token.id, now)
}

/// The owner replaces a token whose creator can no longer use it: the old
/// one is revoked and a new one with the same name and scopes is created
/// for the owner, living the default lifetime.
pub fn reissue(conn: &mut DbConn, by: &ActorInfo, token_id: i64, now: NaiveDateTime) -> ServiceResult<Created> {
    if by.actor.role != Role::Owner {
        return Err(Refusal::NoApiTokenAccess.into());
    }
    crate::db::write_transaction(conn, |conn| {
        let owner = manager(conn, by)?;
        let old = find(conn, by.account_id, token_id)?;
        if old.revoked_at.is_none() {
            diesel::update(api_tokens::table.find(old.id))
                .set(api_tokens::revoked_at.eq(Some(now)))
                .execute(conn)?;
        }
        let scopes = parse_scopes(&old.scopes).map_err(|_| invalid(by.lang, "api-token-bad-scope", &old.scopes))?;
        let days = lifetime_days(None).unwrap_or(1);
        insert(conn, by, &owner, &old.name, &scopes, days, now, "reissue_api_token")
    })
}

/// The account's tokens, newest first, each with why it stopped working.
pub fn list(conn: &mut DbConn, account_id: i64, now: NaiveDateTime) -> ServiceResult<Vec<TokenView>> {
    let rows: Vec<ApiToken> = api_tokens::table
        .filter(api_tokens::account_id.eq(account_id))
        .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
        .select(ApiToken::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let creator = creator_of(conn, &row)?;
            let facts = facts_of(conn, &row, creator.as_ref())?;
            Ok(TokenView {
                unusable: check_usable(&facts, now).err(),
                row,
            })
        })
        .collect()
}

fn creator_of(conn: &mut DbConn, token: &ApiToken) -> ServiceResult<Option<User>> {
    let Some(id) = token.created_by else {
        return Ok(None);
    };
    Ok(users::table.find(id).select(User::as_select()).first(conn).optional()?)
}

fn facts_of(conn: &mut DbConn, token: &ApiToken, creator: Option<&User>) -> ServiceResult<TokenFacts> {
    let creator = match creator {
        Some(u) => creator_facts(conn, u, token.account_id)?,
        None => None,
    };
    Ok(TokenFacts {
        expires_at: token.expires_at,
        revoked: token.revoked_at.is_some(),
        creator,
    })
}

/// The caller behind a bearer token, or `None` when it is unknown, expired,
/// revoked or its creator can no longer use it. Notes the use at most once a minute.
pub fn authenticate(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> ServiceResult<Option<Caller>> {
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let found: Option<ApiToken> = api_tokens::table
        .filter(api_tokens::token_hash.eq(hash_token(token)))
        .select(ApiToken::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = found else {
        return Ok(None);
    };
    let creator = creator_of(conn, &row)?;
    let facts = facts_of(conn, &row, creator.as_ref())?;
    if check_usable(&facts, now).is_err() {
        return Ok(None);
    }
    let Some(creator) = creator else {
        return Ok(None);
    };
    if touch_due(row.last_used_at, now) {
        // Only one of several racing requests writes; the others change nothing.
        diesel::update(
            api_tokens::table.filter(api_tokens::id.eq(row.id)).filter(
                api_tokens::last_used_at
                    .is_null()
                    .or(api_tokens::last_used_at.le(now - Duration::seconds(60))),
            ),
        )
        .set(api_tokens::last_used_at.eq(Some(now)))
        .execute(conn)?;
    }
    let mut by = actor_info(conn, &creator, lang_of(&creator), true)?;
    // The audit log names the token and who holds it.
    by.email = format!("API token {} (by {})", row.name, creator.email);
    Ok(Some(Caller {
        token_id: row.id,
        name: row.name,
        scopes: parse_scopes(&row.scopes).unwrap_or_default(),
        by,
    }))
}

/// The state of a token in words, for the page.
pub fn state_text(view: &TokenView, lang: Lang) -> String {
    match view.unusable {
        None => tr(lang, "api-token-active"),
        Some(u) => tr(lang, u.key()),
    }
}

/// How long before a token expires its account's owners get a mail.
pub const WARN_DAYS: i64 = 14;

/// Queues one mail per live token expiring within [`WARN_DAYS`] to each
/// owner of its account, in the owner's language; the outbox's dedupe key
/// keeps it to one mail per token and owner however often the sweeper runs.
pub fn queue_expiry_warnings(conn: &mut DbConn, now: NaiveDateTime) -> ServiceResult<usize> {
    use crate::db::schema::mail_outbox;
    let expiring: Vec<ApiToken> = api_tokens::table
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(now))
        .filter(api_tokens::expires_at.le(now + Duration::days(WARN_DAYS)))
        .select(ApiToken::as_select())
        .load(conn)?;
    let mut queued = 0;
    for token in expiring {
        let owners: Vec<User> = users::table
            .filter(users::account_id.eq(token.account_id))
            .filter(users::role.eq(Role::Owner.as_str()))
            .select(User::as_select())
            .load(conn)?;
        for owner in owners {
            let lang = lang_of(&owner);
            let args = [
                ("name", token.name.clone()),
                ("day", token.expires_at.format("%Y-%m-%d").to_string()),
            ];
            let inserted = crate::db::write_transaction(conn, |conn| {
                diesel::insert_into(mail_outbox::table)
                    .values((
                        mail_outbox::account_id.eq(token.account_id),
                        mail_outbox::dedupe_key.eq(format!("api-token-expiry:{}:{}", token.id, owner.id)),
                        mail_outbox::to_email.eq(&owner.email),
                        mail_outbox::subject.eq(tr_args(lang, "api-token-expiry-subject", &args)),
                        mail_outbox::body.eq(tr_args(lang, "api-token-expiry-body", &args)),
                        mail_outbox::created_at.eq(now),
                        mail_outbox::next_attempt_at.eq(now),
                    ))
                    .execute(conn)
            });
            match inserted {
                Ok(_) => queued += 1,
                Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(queued)
}
