//! API tokens (B4, issue 14): who manages them, what a scope allows, and
//! when a token still works. Plain rules; the services load the facts.

use chrono::{Duration, NaiveDateTime};

use super::{Role, Status};

/// The custom-role privilege that lets an admin manage the account's tokens.
pub const API_TOKENS_PRIVILEGE: &str = "api:tokens";

/// A token lives 90 days unless its creator chooses otherwise, at most a year.
pub const DEFAULT_DAYS: i64 = 90;
pub const MAX_DAYS: i64 = 365;

/// `last_used_at` is written at most this often per token.
pub const TOUCH_EVERY_SECONDS: i64 = 60;

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read users and roles.
    UserRead,
    /// Change a user's status and role.
    UserWrite,
    /// Delete and disassociate (unlink) users.
    UserDelete,
    /// CSV jobs.
    Import,
    /// SCIM (a later issue).
    Scim,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::UserRead,
        Scope::UserWrite,
        Scope::UserDelete,
        Scope::Import,
        Scope::Scim,
    ];

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::UserRead => "user:read",
            Scope::UserWrite => "user:write",
            Scope::UserDelete => "user:delete",
            Scope::Import => "import",
            Scope::Scim => "scim",
        }
    }
}

/// `user:read,user:write` (commas or spaces) into sorted, distinct scopes;
/// the first unknown word is the error. An empty list is refused too.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, String> {
    let mut scopes = Vec::new();
    for word in text.split([',', ' ']).map(str::trim).filter(|w| !w.is_empty()) {
        scopes.push(Scope::parse(&word.to_ascii_lowercase()).ok_or_else(|| word.to_string())?);
    }
    if scopes.is_empty() {
        return Err(String::new());
    }
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

/// The stored form: `user:read,user:write`.
pub fn scopes_text(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

/// Who may create, list and revoke tokens: the owner, admins without a
/// custom role, and admins whose custom role holds [`API_TOKENS_PRIVILEGE`]
/// (the same shape as the Advanced setting, R20).
pub fn may_manage_tokens(role: Role, has_custom_role: bool, custom_has_privilege: bool) -> bool {
    match role {
        Role::Owner => true,
        Role::Admin => !has_custom_role || custom_has_privilege,
        Role::Member => false,
    }
}

/// The number of days a new token lives: the default when none is asked,
/// `None` outside 1..=365.
pub fn lifetime_days(asked: Option<i64>) -> Option<i64> {
    let days = asked.unwrap_or(DEFAULT_DAYS);
    (1..=MAX_DAYS).contains(&days).then_some(days)
}

/// The facts about a token and its creator that decide whether it works.
#[derive(Debug, Clone, Copy)]
pub struct TokenFacts {
    pub expires_at: NaiveDateTime,
    pub revoked: bool,
    /// `None`: the creator's user is gone (deleted, or unlinked to another account).
    pub creator: Option<CreatorFacts>,
}

#[derive(Debug, Clone, Copy)]
pub struct CreatorFacts {
    pub role: Role,
    pub status: Status,
    pub same_account: bool,
    pub has_custom_role: bool,
    pub custom_has_privilege: bool,
}

/// Why a token does not work (each answers 401 through the API; the page
/// shows the reason beside the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Revoked,
    Expired,
    /// The creator was deactivated, unlinked or deleted, or lost the right
    /// to manage tokens: the owner may re-issue it.
    CreatorCannotUse,
}

impl Unusable {
    pub fn key(self) -> &'static str {
        match self {
            Unusable::Revoked => "api-token-revoked",
            Unusable::Expired => "api-token-expired",
            Unusable::CreatorCannotUse => "api-token-creator-cannot-use",
        }
    }
}

pub fn check_usable(token: &TokenFacts, now: NaiveDateTime) -> Result<(), Unusable> {
    if token.revoked {
        return Err(Unusable::Revoked);
    }
    if token.expires_at <= now {
        return Err(Unusable::Expired);
    }
    match token.creator {
        Some(c)
            if c.same_account
                && c.status == Status::Active
                && may_manage_tokens(c.role, c.has_custom_role, c.custom_has_privilege) =>
        {
            Ok(())
        }
        _ => Err(Unusable::CreatorCannotUse),
    }
}

/// Whether `last_used_at` is old enough to be written again.
pub fn touch_due(last_used: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    last_used.is_none_or(|t| now - t >= Duration::seconds(TOUCH_EVERY_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    const ADMIN: CreatorFacts = CreatorFacts {
        role: Role::Admin,
        status: Status::Active,
        same_account: true,
        has_custom_role: false,
        custom_has_privilege: false,
    };

    #[test]
    fn scopes_parse_sorted_and_distinct() {
        assert_eq!(
            parse_scopes("user:write, user:read,user:write"),
            Ok(vec![Scope::UserRead, Scope::UserWrite])
        );
        assert_eq!(parse_scopes("USER:DELETE"), Ok(vec![Scope::UserDelete]));
        assert_eq!(parse_scopes("user:read,admin"), Err("admin".into()));
        assert_eq!(parse_scopes(" , "), Err(String::new()));
        assert_eq!(scopes_text(&parse_scopes("scim import").unwrap()), "import,scim");
    }

    #[test]
    fn owner_admins_and_privileged_custom_roles_manage_tokens() {
        assert!(may_manage_tokens(Role::Owner, false, false));
        assert!(may_manage_tokens(Role::Admin, false, false));
        assert!(may_manage_tokens(Role::Admin, true, true));
        assert!(!may_manage_tokens(Role::Admin, true, false));
        assert!(!may_manage_tokens(Role::Member, false, true));
    }

    #[test]
    fn lifetime_defaults_to_90_days_and_is_at_most_a_year() {
        assert_eq!(lifetime_days(None), Some(90));
        assert_eq!(lifetime_days(Some(365)), Some(365));
        assert_eq!(lifetime_days(Some(366)), None);
        assert_eq!(lifetime_days(Some(0)), None);
    }

    #[test]
    fn a_token_works_while_live_and_its_creator_may_manage_tokens() {
        let now = at("2026-12-01 10:00:00");
        let live = TokenFacts {
            expires_at: at("2026-12-02 00:00:00"),
            revoked: false,
            creator: Some(ADMIN),
        };
        assert_eq!(check_usable(&live, now), Ok(()));
        let revoked = TokenFacts { revoked: true, ..live };
        assert_eq!(check_usable(&revoked, now), Err(Unusable::Revoked));
        let expired = TokenFacts {
            expires_at: now,
            ..live
        };
        assert_eq!(check_usable(&expired, now), Err(Unusable::Expired));
        for creator in [
            None,
            Some(CreatorFacts {
                status: Status::Deactivated,
                ..ADMIN
            }),
            Some(CreatorFacts {
                same_account: false,
                ..ADMIN
            }),
            Some(CreatorFacts {
                role: Role::Member,
                ..ADMIN
            }),
            Some(CreatorFacts {
                has_custom_role: true,
                ..ADMIN
            }),
        ] {
            let t = TokenFacts { creator, ..live };
            assert_eq!(check_usable(&t, now), Err(Unusable::CreatorCannotUse), "{creator:?}");
        }
    }

    #[test]
    fn last_use_is_written_at_most_once_a_minute() {
        let now = at("2026-12-01 10:00:00");
        assert!(touch_due(None, now));
        assert!(!touch_due(Some(at("2026-12-01 09:59:30")), now));
        assert!(touch_due(Some(at("2026-12-01 09:59:00")), now));
    }
}
