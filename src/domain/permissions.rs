//! Who may do what to whom (R1-R5, R31, R43, R44).

use super::{Refusal, Role, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Deactivate,
    Activate,
    Unlink,
    Delete,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "deactivate" => Some(Action::Deactivate),
            "activate" => Some(Action::Activate),
            "unlink" => Some(Action::Unlink),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deactivate => "deactivate",
            Action::Activate => "activate",
            Action::Unlink => "unlink",
            Action::Delete => "delete",
        }
    }
    /// Unlink and delete take the user out and may transfer data first.
    pub fn removes(self) -> bool {
        matches!(self, Action::Unlink | Action::Delete)
    }
}

/// How the action was asked for: it decides R5 and R44.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Single,
    Bulk,
    Csv,
}

#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub id: i64,
    pub role: Role,
    /// An admin whose custom role carries the bulk privilege.
    pub custom_bulk_privilege: bool,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        matches!(self.role, Role::Owner | Role::Admin)
    }
    /// R5: the owner always has it; an admin only through a custom role.
    pub fn has_bulk_privilege(&self) -> bool {
        self.role == Role::Owner || (self.role == Role::Admin && self.custom_bulk_privilege)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub id: i64,
    pub role: Role,
    pub status: Status,
    pub is_room: bool,
    pub is_external: bool,
    pub in_managed_domain: bool,
}

/// May `actor` do `action` to `target`, asked for in this `mode`?
/// The order of checks decides which reason an admin reads first: who acts,
/// then who is acted on, then the state of the target.
pub fn check_action(actor: &Actor, target: &Target, action: Action, mode: Mode) -> Result<(), Refusal> {
    if !actor.is_admin() {
        return Err(Refusal::NotAdmin);
    }
    if mode != Mode::Single && !actor.has_bulk_privilege() {
        return Err(Refusal::NoBulkPrivilege);
    }
    if target.role == Role::Owner {
        return Err(Refusal::Owner);
    }
    if target.id == actor.id {
        return Err(Refusal::OwnUser);
    }
    if target.role == Role::Admin {
        return Err(Refusal::AdminMustBeMember);
    }
    if target.status == Status::Pending {
        return Err(Refusal::Pending);
    }
    match action {
        Action::Deactivate => {
            if target.status == Status::Deactivated {
                return Err(Refusal::AlreadyDeactivated);
            }
        }
        Action::Activate => {
            if target.status != Status::Deactivated {
                return Err(Refusal::NotDeactivated);
            }
        }
        Action::Unlink => {
            // External users are not ours to keep: their own account is elsewhere (R32).
            if target.in_managed_domain && !target.is_external {
                return Err(Refusal::ManagedDomain);
            }
        }
        Action::Delete => {
            if target.is_room {
                return Err(Refusal::Room);
            }
            if target.status == Status::Deactivated && mode == Mode::Bulk {
                return Err(Refusal::DeactivatedInBulk);
            }
        }
    }
    Ok(())
}

/// R3: Edit -> User role. Only the owner turns admins into members and back;
/// nobody changes the owner or themselves.
pub fn check_role_change(actor: &Actor, target: &Target, new_role: Role) -> Result<(), Refusal> {
    if !actor.is_admin() {
        return Err(Refusal::NotAdmin);
    }
    if target.role == Role::Owner || new_role == Role::Owner {
        return Err(Refusal::Owner);
    }
    if target.id == actor.id {
        return Err(Refusal::OwnUser);
    }
    let touches_admin = target.role == Role::Admin || new_role == Role::Admin;
    if touches_admin && actor.role != Role::Owner {
        return Err(Refusal::OnlyOwnerChangesAdmins);
    }
    Ok(())
}
