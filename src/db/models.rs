//! One struct per table row, plus the insert forms the services use.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::*;
use crate::domain::{JobState, Role, RowState, Status, UserType};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub is_free: bool,
    pub auto_delete_enabled: bool,
    pub auto_delete_days: i32,
    pub auto_delete_warn: bool,
    pub created_at: NaiveDateTime,
    pub time_zone: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    pub name: &'a str,
    pub is_free: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub first_lc: String,
    pub last_lc: String,
    pub role: Role,
    pub custom_role_id: Option<i64>,
    pub status: Status,
    pub user_type: UserType,
    pub webinar_license: bool,
    pub phone_license: bool,
    pub large_meeting_license: bool,
    pub is_external: bool,
    pub is_room: bool,
    pub deactivated_at: Option<NaiveDateTime>,
    pub password_hash: Option<String>,
    pub settings: String,
    pub language: Option<String>,
    pub session_epoch: i32,
    pub created_at: NaiveDateTime,
}

/// The columns a listing shows and the rules read (the Users page, the
/// type-ahead): twelve of a user's twenty-two. Decoding whole `User` rows
/// (two timestamps parsed from text, the password hash, the settings) was a
/// quarter of a Users page's time (issue 20's profile).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserListing {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub status: Status,
    pub user_type: UserType,
    pub webinar_license: bool,
    pub phone_license: bool,
    pub large_meeting_license: bool,
    pub is_external: bool,
    pub is_room: bool,
}

/// What the rules and the tables read of a user, from a whole row or a
/// listing: the same field names, so one implementation serves both.
pub trait UserFacts {
    fn id(&self) -> i64;
    fn account_id(&self) -> i64;
    fn email(&self) -> &str;
    fn role(&self) -> Role;
    fn status(&self) -> Status;
    fn user_type(&self) -> UserType;
    fn is_external(&self) -> bool;
    fn is_room(&self) -> bool;
    fn webinar_license(&self) -> bool;
    fn large_meeting_license(&self) -> bool;
    fn phone_license(&self) -> bool;
    /// Large meetings, webinar, phone.
    fn licenses(&self) -> [bool; 3] {
        [
            self.large_meeting_license(),
            self.webinar_license(),
            self.phone_license(),
        ]
    }
    fn first_name(&self) -> &str;
    fn last_name(&self) -> &str;
    /// "First Last", trimmed. Written without `format!`: 50 of them a page.
    fn full_name(&self) -> String {
        let (first, last) = (self.first_name(), self.last_name());
        let mut name = String::with_capacity(first.len() + last.len() + 1);
        name.push_str(first);
        name.push(' ');
        name.push_str(last);
        match name.trim() {
            trimmed if trimmed.len() == name.len() => name,
            trimmed => trimmed.to_string(),
        }
    }
}

macro_rules! user_facts {
    ($t:ty) => {
        impl UserFacts for $t {
            fn id(&self) -> i64 {
                self.id
            }
            fn account_id(&self) -> i64 {
                self.account_id
            }
            fn email(&self) -> &str {
                &self.email
            }
            fn role(&self) -> Role {
                self.role
            }
            fn status(&self) -> Status {
                self.status
            }
            fn user_type(&self) -> UserType {
                self.user_type
            }
            fn is_external(&self) -> bool {
                self.is_external
            }
            fn is_room(&self) -> bool {
                self.is_room
            }
            fn webinar_license(&self) -> bool {
                self.webinar_license
            }
            fn large_meeting_license(&self) -> bool {
                self.large_meeting_license
            }
            fn phone_license(&self) -> bool {
                self.phone_license
            }
            fn first_name(&self) -> &str {
                &self.first_name
            }
            fn last_name(&self) -> &str {
                &self.last_name
            }
        }
    };
}
user_facts!(User);
user_facts!(UserListing);

impl User {
    pub fn full_name(&self) -> String {
        UserFacts::full_name(self)
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct NewUser {
    pub account_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub first_lc: String,
    pub last_lc: String,
    pub role: Role,
    pub custom_role_id: Option<i64>,
    pub status: Status,
    pub user_type: UserType,
    pub webinar_license: bool,
    pub phone_license: bool,
    pub large_meeting_license: bool,
    pub is_external: bool,
    pub is_room: bool,
    pub deactivated_at: Option<NaiveDateTime>,
    pub password_hash: Option<String>,
    pub settings: String,
    pub created_at: NaiveDateTime,
}

impl NewUser {
    /// An active, basic member with the search columns filled in; callers
    /// change what differs.
    pub fn member(account_id: i64, email: &str, first: &str, last: &str, now: NaiveDateTime) -> NewUser {
        NewUser {
            account_id,
            email: email.trim().to_lowercase(),
            first_name: first.to_string(),
            last_name: last.to_string(),
            first_lc: first.to_lowercase(),
            last_lc: last.to_lowercase(),
            role: Role::Member,
            custom_role_id: None,
            status: Status::Active,
            user_type: UserType::Basic,
            webinar_license: false,
            phone_license: false,
            large_meeting_license: false,
            is_external: false,
            is_room: false,
            deactivated_at: None,
            password_hash: None,
            settings: "{}".into(),
            created_at: now,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = custom_roles)]
pub struct CustomRole {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meetings)]
pub struct Meeting {
    pub id: i64,
    pub owner_id: i64,
    pub topic: String,
    pub uses_pmi: bool,
    pub start_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = meetings, treat_none_as_default_value = false)]
pub struct NewMeeting {
    pub owner_id: i64,
    pub topic: String,
    pub uses_pmi: bool,
    pub start_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webinars, treat_none_as_default_value = false)]
pub struct NewWebinar {
    pub owner_id: i64,
    pub topic: String,
    pub start_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
pub struct NewEvent {
    pub owner_id: i64,
    pub title: String,
    pub start_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = cloud_recordings, treat_none_as_default_value = false)]
pub struct NewRecording {
    pub owner_id: i64,
    pub topic: String,
    pub size_bytes: i64,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = phone_records, treat_none_as_default_value = false)]
pub struct NewPhoneRecord {
    pub account_id: i64,
    pub user_id: Option<i64>,
    pub user_email: String,
    pub kind: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub account_id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_email: String,
    pub action: String,
    pub target_id: Option<i64>,
    pub target_email: String,
    pub source: String,
    pub job_id: Option<i64>,
    pub transfer_to_email: Option<String>,
    pub meetings_transferred: i32,
    pub webinars_transferred: i32,
    pub events_transferred: i32,
    pub recordings_transferred: i32,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct NewAuditEntry {
    pub account_id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_email: String,
    pub action: String,
    pub target_id: Option<i64>,
    pub target_email: String,
    pub source: String,
    pub job_id: Option<i64>,
    pub transfer_to_email: Option<String>,
    pub meetings_transferred: i32,
    pub webinars_transferred: i32,
    pub events_transferred: i32,
    pub recordings_transferred: i32,
    pub detail: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = import_jobs)]
pub struct ImportJob {
    pub id: i64,
    pub account_id: i64,
    pub actor_id: i64,
    pub actor_email: String,
    pub action: String,
    pub filename: String,
    pub headers: String,
    pub state: JobState,
    pub total: i32,
    pub valid: i32,
    pub done: i32,
    pub skipped: i32,
    pub failed: i32,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub lang: String,
    /// Why the job stopped early, when it did.
    pub error: Option<String>,
    /// The last line a committed batch reached: the next batch reads after it.
    pub applied_through: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_rows, treat_none_as_default_value = false)]
pub struct ImportRow {
    pub job_id: i64,
    pub line: i64,
    pub email: String,
    pub cells: String,
    pub user_id: Option<i64>,
    pub transfer_to: Option<String>,
    pub transfer_meetings: bool,
    pub transfer_webinars: bool,
    pub transfer_events: bool,
    pub transfer_recordings: bool,
    pub state: RowState,
    pub reason: String,
    /// The effective date of the row: scheduled for then instead of applied now.
    pub due_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct OutboxMail {
    pub id: i64,
    pub account_id: i64,
    pub dedupe_key: String,
    pub to_email: String,
    pub subject: String,
    pub body: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    /// Refused for good by the mail server: not retried.
    pub failed_at: Option<NaiveDateTime>,
}

/// A signed-in session as the server knows it; the cookie carries only its id.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

/// Sign-in attempts of one (email, source address) pair.
#[derive(Debug, Clone, Copy, Queryable, Selectable)]
#[diesel(table_name = signin_throttle)]
pub struct ThrottleRow {
    pub attempts: i32,
    pub window_start: NaiveDateTime,
    pub lockouts: i32,
    pub blocked_until: Option<NaiveDateTime>,
}

impl From<ThrottleRow> for crate::domain::signin::ThrottleRow {
    fn from(r: ThrottleRow) -> Self {
        crate::domain::signin::ThrottleRow {
            attempts: r.attempts,
            window_start: r.window_start,
            lockouts: r.lockouts,
            blocked_until: r.blocked_until,
        }
    }
}

/// A webhook endpoint of an account (B6).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub account_id: i64,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub old_secret: Option<String>,
    pub old_secret_until: Option<NaiveDateTime>,
    pub state: crate::domain::webhooks::EndpointState,
    pub created_by_email: String,
    pub created_at: NaiveDateTime,
    pub validated_at: Option<NaiveDateTime>,
}

/// One delivery of an event to an endpoint, as the log shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct WebhookDelivery {
    pub id: i64,
    pub event_id: i64,
    pub endpoint_id: i64,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
    pub given_up: bool,
    pub last_status: Option<i32>,
    pub last_ms: Option<i32>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhook_events)]
pub struct NewWebhookEvent {
    pub account_id: i64,
    pub event: crate::domain::webhooks::EventKind,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// An act planned for a moment (B7), and what became of it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scheduled_acts)]
pub struct ScheduledAct {
    pub id: i64,
    pub account_id: i64,
    pub user_id: i64,
    pub user_email: String,
    pub action: String,
    pub transfer_to: Option<String>,
    pub transfer_meetings: bool,
    pub transfer_webinars: bool,
    pub transfer_events: bool,
    pub transfer_recordings: bool,
    pub due_at: NaiveDateTime,
    pub scheduled_by_id: i64,
    pub scheduled_by_email: String,
    pub state: crate::domain::ScheduleState,
    pub outcome: String,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// An API token of the account (B4): stored as its SHA-256 only.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub scopes: String,
    pub token_hash: String,
    pub last4: String,
    pub created_by: Option<i64>,
    pub created_by_email: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct NewApiToken {
    pub account_id: i64,
    pub name: String,
    pub scopes: String,
    pub token_hash: String,
    pub last4: String,
    pub created_by: Option<i64>,
    pub created_by_email: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_name_is_first_and_last_trimmed() {
        let named = |first: &str, last: &str| {
            UserListing {
                id: 1,
                account_id: 1,
                email: "a@b.example".into(),
                first_name: first.into(),
                last_name: last.into(),
                role: Role::Member,
                status: Status::Active,
                user_type: UserType::Basic,
                webinar_license: false,
                phone_license: false,
                large_meeting_license: false,
                is_external: false,
                is_room: false,
            }
            .full_name()
        };
        assert_eq!(named("Ann", "Lee"), "Ann Lee");
        assert_eq!(named("", "Lee"), "Lee");
        assert_eq!(named("Ann", ""), "Ann");
        assert_eq!(named(" Ann", "Lee "), "Ann Lee");
        assert_eq!(named("", ""), "");
    }
}
