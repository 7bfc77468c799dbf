//! Template data: one struct per page or partial, typed, never a JSON blob.

use askama::Template;
use askama_web::WebTemplate;

use crate::db::models::User;
use crate::domain::{check_action, Action, Actor, Mode, Role, Status, Target};

/// What every page's frame needs.
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub me_email: String,
    pub is_admin: bool,
}

impl Layout {
    pub fn new(title: &str, user: &User, csrf: &str) -> Layout {
        Layout {
            title: title.to_string(),
            csrf: csrf.to_string(),
            me_email: user.email.clone(),
            is_admin: matches!(Role::parse(&user.role), Some(Role::Owner | Role::Admin)),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
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
    pub role: String,
    pub user_type: String,
    pub licenses: String,
    pub status: String,
    pub external: bool,
    pub room: bool,
    pub can_deactivate: bool,
    pub can_activate: bool,
    pub can_unlink: bool,
    pub can_delete: bool,
    pub can_edit: bool,
}

pub fn licenses_of(u: &User) -> String {
    let mut l = Vec::new();
    if u.large_meeting_license {
        l.push("Large meetings");
    }
    if u.webinar_license {
        l.push("Webinar");
    }
    if u.phone_license {
        l.push("Phone");
    }
    if l.is_empty() {
        "-".to_string()
    } else {
        l.join(", ")
    }
}

pub fn target_of(u: &User, managed_domains: &[String]) -> Target {
    let domain = u.email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    Target {
        id: u.id,
        role: Role::parse(&u.role).unwrap_or(Role::Member),
        status: Status::parse(&u.status).unwrap_or(Status::Pending),
        is_room: u.is_room,
        is_external: u.is_external,
        in_managed_domain: managed_domains.iter().any(|d| d == domain),
    }
}

impl UserRow {
    pub fn new(u: &User, actor: &Actor, managed_domains: &[String]) -> UserRow {
        let target = target_of(u, managed_domains);
        let may = |a| check_action(actor, &target, a, Mode::Single).is_ok();
        UserRow {
            id: u.id,
            email: u.email.clone(),
            name: u.full_name(),
            role: u.role.clone(),
            user_type: u.user_type.clone(),
            licenses: licenses_of(u),
            status: u.status.clone(),
            external: u.is_external,
            room: u.is_room,
            can_deactivate: may(Action::Deactivate),
            can_activate: may(Action::Activate),
            can_unlink: may(Action::Unlink),
            can_delete: may(Action::Delete),
            can_edit: target.role != Role::Owner && target.id != actor.id,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "_users_table.html")]
pub struct UsersTable {
    pub rows: Vec<UserRow>,
    pub q: String,
    pub status: String,
    pub next_url: Option<String>,
    pub first_url: Option<String>,
    pub bulk_allowed: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub layout: Layout,
    pub table: UsersTable,
}
