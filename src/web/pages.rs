//! Template data: one struct per page or partial, typed, never a JSON blob.

use crate::domain::Status;
use askama::Template;
use askama_web::WebTemplate;

use crate::db::models::{User, UserFacts, UserListing};
use crate::domain::{check_action, Action, Actor, Mode, Role};
#[allow(unused_imports)]
use crate::i18n::Translate;
use crate::services::users::target_of;

/// What every page's frame needs.
pub struct Layout {
    pub lang: &'static str,
    pub title: String,
    pub csrf: String,
    pub me_email: String,
    pub is_admin: bool,
    /// Shows the API link: the owner and admins without a custom role here;
    /// [`super::session::Admin::layout`] knows custom roles' privileges too.
    pub api_tokens: bool,
    pub flash: Option<String>,
}

impl Layout {
    pub fn new(title_key: &str, user: &User, csrf: &str, flash: Option<String>) -> Layout {
        Layout {
            flash,
            lang: crate::i18n::current().code(),
            title: crate::i18n::t(title_key),
            csrf: csrf.to_string(),
            me_email: user.email.clone(),
            is_admin: matches!(Some(user.role), Some(Role::Owner | Role::Admin)),
            api_tokens: crate::domain::api_tokens::may_manage_tokens(user.role, user.custom_role_id.is_some(), false),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub lang: &'static str,
    pub csrf: String,
    pub email: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub layout: Layout,
    pub name: String,
    pub email: String,
    pub role: String,
    pub user_type: String,
    pub licenses: String,
}

/// One row of the Users table, with the actions the rules allow on it.
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub user_type: &'static str,
    pub licenses: String,
    pub status: &'static str,
    pub external: bool,
    pub room: bool,
    pub can_deactivate: bool,
    pub can_activate: bool,
    pub can_unlink: bool,
    pub can_delete: bool,
    pub can_edit: bool,
    /// The owner may end anyone's sessions (R11); only active users have any.
    pub can_end_sessions: bool,
    /// A waiting plan (B7): "deactivate, 2027-01-05 09:00 UTC", already translated.
    pub scheduled: Option<String>,
    /// May any act be planned for this user now (the same rules as acting now).
    pub can_schedule: bool,
}

/// The add-on licenses of a user, in the request's language.
pub fn licenses_of(u: &impl UserFacts) -> String {
    let l: Vec<String> = u
        .licenses()
        .into_iter()
        .zip(["license-large-meetings", "license-webinar", "license-phone"])
        .filter(|(has, _)| *has)
        .map(|(_, key)| crate::i18n::t(key))
        .collect();
    if l.is_empty() {
        "-".to_string()
    } else {
        l.join(", ")
    }
}

impl UserRow {
    pub fn new(u: &UserListing, actor: &Actor, managed_domains: &[String]) -> UserRow {
        let target = target_of(u, managed_domains);
        let may = |a| check_action(actor, &target, a, Mode::Single).is_ok();
        UserRow {
            id: u.id,
            email: u.email.clone(),
            name: u.full_name(),
            role: u.role.as_str(),
            user_type: u.user_type.as_str(),
            licenses: licenses_of(u),
            status: u.status.as_str(),
            external: u.is_external,
            room: u.is_room,
            can_deactivate: may(Action::Deactivate),
            can_activate: may(Action::Activate),
            can_unlink: may(Action::Unlink),
            can_delete: may(Action::Delete),
            can_edit: target.role != Role::Owner && target.id != actor.id,
            can_end_sessions: actor.role == Role::Owner && u.status == Status::Active,
            scheduled: None,
            can_schedule: may(Action::Deactivate) || may(Action::Unlink) || may(Action::Delete),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "_users_table.html")]
/// The template takes the words of its rows from [`RowWords`], made once
/// per page, not once per row: 50 rows made hundreds of lookups.
pub struct UsersTable {
    pub rows: Vec<UserRow>,
    /// The status tabs' counts and "Showing 1-50 of N".
    pub counts: crate::services::users::StatusCounts,
    pub showing: String,
    pub q: String,
    pub status: String,
    pub next_url: Option<String>,
    pub first_url: Option<String>,
    pub bulk_allowed: bool,
    pub csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub layout: Layout,
    pub table: UsersTable,
}

/// A dialog shown as a page of its own when typed in or opened without JavaScript.
#[derive(Template, WebTemplate)]
#[template(path = "dialog_page.html")]
pub struct DialogPage {
    pub layout: Layout,
    pub dialog: String,
}

/// The confirm dialog of deactivate and activate, and the transfer dialog of
/// unlink and delete (R42, R45, R50-R53).
#[derive(Template, WebTemplate)]
#[template(path = "_action_dialog.html")]
pub struct ActionDialog {
    pub csrf: String,
    pub user_id: i64,
    pub email: String,
    pub action: String,
    pub title: String,
    pub explanation: String,
    pub refusal: Option<String>,
    pub removes: bool,
    pub summary: crate::services::user_actions::DataSummary,
    pub transferable_meetings: i64,
    /// Translation keys of the two buttons.
    pub transfer_button: String,
    pub now_button: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "_edit_dialog.html")]
pub struct EditDialog {
    pub csrf: String,
    pub user_id: i64,
    pub email: String,
    pub role: String,
    pub refusal: Option<String>,
    /// The owner picks a custom role for admins: (id, name, selected).
    pub custom_roles: Option<Vec<(i64, String, bool)>>,
    pub custom_role_id: Option<i64>,
}

/// What htmx swaps into the flash area after an action, with the dialog closed.
#[derive(Template, WebTemplate)]
#[template(path = "_flash.html")]
pub struct Flash {
    pub message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "directory.html")]
pub struct DirectoryPage {
    pub layout: Layout,
    pub q: String,
    pub people: Vec<(String, String)>,
}

pub struct PreviewRowView {
    pub email: String,
    pub name: String,
    pub allowed: bool,
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "_bulk_preview.html")]
pub struct BulkPreviewDialog {
    pub csrf: String,
    pub token: String,
    pub action: String,
    pub transfer_button: String,
    pub now_button: String,
    /// The moment as typed when the bulk action is scheduled (sent again on confirm).
    pub at: String,
    pub removes: bool,
    pub total: usize,
    pub allowed: usize,
    pub skipped_total: usize,
    pub skipped: Vec<(String, usize)>,
    pub rows: Vec<PreviewRowView>,
    pub more: usize,
    pub transfer_to: String,
    /// The transfer checkboxes to show checked again.
    pub checked: Vec<String>,
}

/// One status tab of the Users table.
pub struct StatusTab {
    pub key: &'static str,
    pub label: &'static str,
    pub n: i64,
    pub shown: String,
    pub url: String,
    pub current: bool,
}

impl UsersTable {
    /// All · Active · Deactivated · Pending · Scheduled, with their counts.
    /// A tab lists its whole status (the search is left), so its number is
    /// what it lists.
    pub fn tabs(&self) -> Vec<StatusTab> {
        let c = &self.counts;
        let lang = crate::i18n::current();
        [
            ("all", "status-all", c.all),
            ("active", "active", c.active),
            ("deactivated", "deactivated", c.deactivated),
            ("pending", "pending", c.pending),
            ("scheduled", "status-scheduled", c.scheduled),
        ]
        .into_iter()
        .map(|(key, label, n)| StatusTab {
            key,
            label,
            n,
            shown: crate::i18n::number(lang, n),
            url: self.tab_url(if key == "all" { "" } else { key }),
            current: self.status == key || (key == "all" && self.status.is_empty()),
        })
        .collect()
    }

    fn tab_url(&self, status: &str) -> String {
        match status {
            "" => "/users".into(),
            s => format!("/users?status={s}"),
        }
    }

    /// The words of the rows, made once for the page.
    pub fn words(&self) -> RowWords {
        RowWords::new()
    }
}

/// The words that are the same on every row of the Users table, translated
/// and HTML-escaped once per page: the template writes them as they are
/// (`|safe`). On 50 rows, looking up and escaping them per row was a few
/// percent of the page's CPU (issue 20).
pub struct RowWords {
    pub label_name: String,
    pub label_email: String,
    pub label_role: String,
    pub label_type: String,
    pub label_licenses: String,
    pub label_status: String,
    pub tag_external: String,
    pub tag_room: String,
    pub deactivate: String,
    pub activate: String,
    pub unlink: String,
    pub delete: String,
    pub edit: String,
    pub schedule: String,
    pub sign_out: String,
    pub cancel_schedule: String,
    /// "Select {email}": each row's checkbox label.
    pub select_user: Around,
    /// "More actions for {email}": each row's menu button.
    pub more_actions: Around,
}

impl RowWords {
    fn new() -> RowWords {
        let w = |key: &str| escaped(&crate::i18n::tr_kept(crate::i18n::current(), key));
        RowWords {
            label_name: w("col-name"),
            label_email: w("email"),
            label_role: w("col-role"),
            label_type: w("col-user-type"),
            label_licenses: w("col-licenses"),
            label_status: w("col-status"),
            tag_external: w("tag-external"),
            tag_room: w("tag-room"),
            deactivate: w("deactivate"),
            activate: w("activate"),
            unlink: w("unlink-from-account"),
            delete: w("delete"),
            edit: w("edit"),
            schedule: w("schedule"),
            sign_out: w("sign-out-everywhere"),
            cancel_schedule: w("cancel-schedule"),
            select_user: Around::new("select-user", "email"),
            more_actions: Around::new("more-actions", "email"),
        }
    }
}

/// `text` as HTML text or attribute value.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = askama::filters::Escaper::write_escaped_str(&askama::filters::Html, &mut out, text);
    out
}

/// A message with one argument, translated and escaped once: the parts of
/// its text between which each row's value goes, escaped as it is written.
pub struct Around(Vec<String>);

impl Around {
    pub fn new(key: &str, arg: &str) -> Around {
        let parts = crate::i18n::parts(crate::i18n::current(), key, arg);
        Around(parts.iter().map(|p| escaped(p)).collect())
    }

    /// The message with `value` in its place (or places).
    pub fn with<'a>(&'a self, value: &'a str) -> AroundValue<'a> {
        AroundValue(self, value)
    }
}

pub struct AroundValue<'a>(&'a Around, &'a str);

impl std::fmt::Display for AroundValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, part) in self.0 .0.iter().enumerate() {
            if i > 0 {
                askama::filters::Escaper::write_escaped_str(&askama::filters::Html, &mut *f, self.1)?;
            }
            f.write_str(part)?;
        }
        Ok(())
    }
}

impl BulkPreviewDialog {
    pub fn is_checked(&self, name: &str) -> bool {
        self.checked.iter().any(|c| c == name)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "_bulk_result.html")]
pub struct BulkResultDialog {
    pub action: String,
    pub replayed: bool,
    pub done: usize,
    pub skipped: usize,
    pub failed: usize,
    /// (email, done|skipped|failed, reason)
    pub rows: Vec<(String, String, String)>,
    pub more: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "roles.html")]
pub struct RolesPage {
    pub layout: Layout,
    pub is_owner: bool,
    pub roles: Vec<crate::services::roles::RoleView>,
    /// Every privilege a custom role can hold; each is its own translation key.
    pub privileges: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub layout: Layout,
    /// R60: only the owner or a custom role with the bulk privilege uploads.
    pub allowed: bool,
    pub jobs: Vec<crate::db::models::ImportJob>,
    /// Days finished jobs and their reports are kept (`Config::job_retention_days`).
    pub retention_days: i64,
    /// "at most 200 MB and 1,000,000 rows", as configured.
    pub limits_text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "import_job.html")]
pub struct JobPage {
    pub layout: Layout,
    pub job: crate::db::models::ImportJob,
    pub rows: Vec<crate::db::models::ImportRow>,
    pub more: usize,
    pub progress: JobProgress,
}

impl JobPage {
    /// A row's effective date (UTC, ISO 8601) for `data-due-at`.
    pub fn due_at(&self, row: &crate::db::models::ImportRow) -> Option<String> {
        row.due_at.map(crate::web::api::timestamp)
    }

    pub fn outcome(&self, row: &crate::db::models::ImportRow) -> &'static str {
        crate::services::import::outcome_word(row.state, self.job.state, row.due_at.is_some())
    }
}

/// The progress bar, polled by htmx while the job runs.
#[derive(Template, WebTemplate)]
#[template(path = "_job_progress.html")]
pub struct JobProgress {
    pub job_id: i64,
    pub state: String,
    pub processed: i32,
    pub valid: i32,
    pub done: i32,
    pub skipped: i32,
    pub failed: i32,
    pub percent: i32,
    pub rate: i64,
    /// The worker's failure, in the uploader's words (already translated).
    pub error: Option<String>,
}

impl JobProgress {
    pub fn of(job: &crate::db::models::ImportJob, now: chrono::NaiveDateTime) -> JobProgress {
        let processed = job.done + job.skipped + job.failed;
        let percent = if job.valid > 0 {
            processed * 100 / job.valid
        } else {
            100
        };
        let end = job.finished_at.unwrap_or(now);
        let rate = match job.started_at {
            Some(start) => {
                let secs = (end - start).num_seconds().max(1);
                i64::from(processed) / secs
            }
            None => 0,
        };
        JobProgress {
            job_id: job.id,
            state: job.state.to_string(),
            processed,
            valid: job.valid,
            done: job.done,
            skipped: job.skipped,
            failed: job.failed,
            percent,
            rate,
            error: job.error.clone(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "advanced.html")]
pub struct AdvancedPage {
    pub layout: Layout,
    pub enabled: bool,
    pub days: i32,
    pub warn: bool,
    pub may_change: bool,
    pub due_now: i64,
    pub next_day: Option<String>,
    pub next_count: i64,
    pub smtp_configured: bool,
    pub outbox: Vec<crate::db::models::OutboxMail>,
    /// The account's time zone (scheduled offboarding) and every choice.
    pub time_zone: String,
    pub zones: Vec<&'static str>,
    /// Users due for automatic deletion on each of the next 30 days: the SVG and the table.
    pub due_chart: String,
    pub due_days: Vec<(String, i64)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub layout: Layout,
    pub actor: String,
    pub target: String,
    pub action: String,
    pub from: String,
    pub until: String,
    pub entries: Vec<crate::db::models::AuditEntry>,
    pub next_url: Option<String>,
    pub export_url: String,
    /// Acts per day of the last 30 days: the SVG, the kinds, and the same figures as a table.
    pub chart: String,
    pub kinds: Vec<String>,
    pub per_day: Vec<(String, Vec<i64>)>,
}

impl AuditPage {
    /// The entry's detail in the reader's language (`audit_detail`).
    pub fn detail(&self, e: &crate::db::models::AuditEntry) -> String {
        super::audit_detail::show(crate::i18n::current(), &e.action, &e.detail)
    }
}

/// The API page: the account's tokens, and a new token shown once.
#[derive(Template, WebTemplate)]
#[template(path = "api_tokens.html")]
pub struct ApiTokensPage {
    pub layout: Layout,
    pub is_owner: bool,
    pub tokens: Vec<ApiTokenRow>,
    /// The token just created, shown this once.
    pub created: Option<String>,
    pub scopes: Vec<&'static str>,
}

pub struct ApiTokenRow {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub last4: String,
    pub created_by: String,
    pub created: String,
    pub expires: String,
    pub last_used: Option<String>,
    pub state: String,
    pub live: bool,
    /// The creator can no longer use it: the owner may re-issue it.
    pub reissue: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rows_value_is_escaped_between_the_words_escaped_once() {
        let select = Around::new("select-user", "email");
        assert_eq!(
            select.with("o'brien@x.example").to_string(),
            "Select o&#39;brien@x.example"
        );
        assert_eq!(select.with("<b>&\"").to_string(), "Select &#60;b&#62;&#38;&#34;");
        assert_eq!(
            Around(vec!["a<".into(), "".into(), "z".into()]).with("&").to_string(),
            "a<&#38;&#38;z"
        );
        assert_eq!(escaped("Tom & \"Jerry\""), "Tom &#38; &#34;Jerry&#34;");
    }
}
