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
    /// The auto-delete sweeper (R23), acting for the account.
    Automatic,
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

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: Actor = Actor {
        id: 1,
        role: Role::Owner,
        custom_bulk_privilege: false,
    };
    const ADMIN: Actor = Actor {
        id: 2,
        role: Role::Admin,
        custom_bulk_privilege: false,
    };
    const HELPDESK: Actor = Actor {
        id: 3,
        role: Role::Admin,
        custom_bulk_privilege: true,
    };
    const MEMBER: Actor = Actor {
        id: 4,
        role: Role::Member,
        custom_bulk_privilege: true,
    };
    const ACTIONS: [Action; 4] = [Action::Deactivate, Action::Activate, Action::Unlink, Action::Delete];
    const MODES: [Mode; 3] = [Mode::Single, Mode::Bulk, Mode::Csv];

    fn member(status: Status) -> Target {
        Target {
            id: 10,
            role: Role::Member,
            status,
            is_room: false,
            is_external: false,
            in_managed_domain: false,
        }
    }

    fn all_targets() -> Vec<Target> {
        let mut out = Vec::new();
        for role in [Role::Owner, Role::Admin, Role::Member] {
            for status in [Status::Pending, Status::Active, Status::Deactivated] {
                for flags in 0..8u8 {
                    out.push(Target {
                        id: 10,
                        role,
                        status,
                        is_room: flags & 1 != 0,
                        is_external: flags & 2 != 0,
                        in_managed_domain: flags & 4 != 0,
                    });
                }
            }
        }
        out
    }

    #[test]
    fn r1_members_never_act() {
        for t in all_targets() {
            for a in ACTIONS {
                for m in MODES {
                    assert_eq!(check_action(&MEMBER, &t, a, m), Err(Refusal::NotAdmin));
                }
            }
        }
    }

    #[test]
    fn r2_pending_users_are_untouchable() {
        for a in ACTIONS {
            assert_eq!(
                check_action(&OWNER, &member(Status::Pending), a, Mode::Single),
                Err(Refusal::Pending)
            );
        }
    }

    #[test]
    fn r3_admins_must_become_members_first() {
        let admin = Target {
            role: Role::Admin,
            ..member(Status::Active)
        };
        for a in ACTIONS {
            for actor in [OWNER, ADMIN] {
                assert_eq!(
                    check_action(&actor, &admin, a, Mode::Single),
                    Err(Refusal::AdminMustBeMember)
                );
            }
        }
    }

    #[test]
    fn r3_only_the_owner_changes_an_admins_role() {
        let admin = Target {
            role: Role::Admin,
            ..member(Status::Active)
        };
        assert_eq!(check_role_change(&OWNER, &admin, Role::Member), Ok(()));
        assert_eq!(
            check_role_change(&ADMIN, &admin, Role::Member),
            Err(Refusal::OnlyOwnerChangesAdmins)
        );
        assert_eq!(
            check_role_change(&ADMIN, &member(Status::Active), Role::Admin),
            Err(Refusal::OnlyOwnerChangesAdmins)
        );
        assert_eq!(check_role_change(&OWNER, &member(Status::Active), Role::Admin), Ok(()));
        assert_eq!(
            check_role_change(&OWNER, &member(Status::Active), Role::Owner),
            Err(Refusal::Owner)
        );
        assert_eq!(
            check_role_change(&MEMBER, &member(Status::Active), Role::Member),
            Err(Refusal::NotAdmin)
        );
    }

    #[test]
    fn r4_owner_and_self_are_untouchable_whatever_else() {
        for t in all_targets() {
            for a in ACTIONS {
                for m in MODES {
                    for actor in [OWNER, ADMIN, HELPDESK] {
                        let owner = Target { role: Role::Owner, ..t };
                        assert!(check_action(&actor, &owner, a, m).is_err());
                        let own = Target { id: actor.id, ..t };
                        assert!(check_action(&actor, &own, a, m).is_err());
                    }
                }
            }
        }
        assert_eq!(
            check_action(
                &ADMIN,
                &Target {
                    id: 2,
                    ..member(Status::Active)
                },
                Action::Deactivate,
                Mode::Single
            ),
            Err(Refusal::OwnUser)
        );
        assert_eq!(
            check_action(
                &ADMIN,
                &Target {
                    role: Role::Owner,
                    ..member(Status::Active)
                },
                Action::Delete,
                Mode::Single
            ),
            Err(Refusal::Owner)
        );
    }

    #[test]
    fn r5_bulk_needs_the_privilege() {
        let t = member(Status::Active);
        for m in [Mode::Bulk, Mode::Csv] {
            assert_eq!(
                check_action(&ADMIN, &t, Action::Deactivate, m),
                Err(Refusal::NoBulkPrivilege)
            );
            assert_eq!(check_action(&HELPDESK, &t, Action::Deactivate, m), Ok(()));
            assert_eq!(check_action(&OWNER, &t, Action::Deactivate, m), Ok(()));
        }
        assert_eq!(check_action(&ADMIN, &t, Action::Deactivate, Mode::Single), Ok(()));
    }

    #[test]
    fn r31_managed_domain_blocks_unlink_only() {
        let t = Target {
            in_managed_domain: true,
            ..member(Status::Active)
        };
        assert_eq!(
            check_action(&OWNER, &t, Action::Unlink, Mode::Single),
            Err(Refusal::ManagedDomain)
        );
        assert_eq!(check_action(&OWNER, &t, Action::Delete, Mode::Single), Ok(()));
        assert_eq!(check_action(&OWNER, &t, Action::Deactivate, Mode::Single), Ok(()));
        let external = Target { is_external: true, ..t };
        assert_eq!(check_action(&OWNER, &external, Action::Unlink, Mode::Single), Ok(()));
    }

    #[test]
    fn r43_rooms_are_not_deleted_here() {
        let room = Target {
            is_room: true,
            ..member(Status::Active)
        };
        for m in MODES {
            assert_eq!(check_action(&OWNER, &room, Action::Delete, m), Err(Refusal::Room));
        }
        assert_eq!(check_action(&OWNER, &room, Action::Deactivate, Mode::Single), Ok(()));
    }

    #[test]
    fn r44_deactivated_users_are_deleted_one_at_a_time_or_by_csv() {
        let t = member(Status::Deactivated);
        assert_eq!(check_action(&OWNER, &t, Action::Delete, Mode::Single), Ok(()));
        assert_eq!(check_action(&OWNER, &t, Action::Delete, Mode::Csv), Ok(()));
        assert_eq!(
            check_action(&OWNER, &t, Action::Delete, Mode::Bulk),
            Err(Refusal::DeactivatedInBulk)
        );
    }

    #[test]
    fn activate_and_deactivate_follow_the_status() {
        assert_eq!(
            check_action(&ADMIN, &member(Status::Active), Action::Activate, Mode::Single),
            Err(Refusal::NotDeactivated)
        );
        assert_eq!(
            check_action(&ADMIN, &member(Status::Deactivated), Action::Deactivate, Mode::Single),
            Err(Refusal::AlreadyDeactivated)
        );
        assert_eq!(
            check_action(&ADMIN, &member(Status::Deactivated), Action::Activate, Mode::Single),
            Ok(())
        );
    }

    #[test]
    fn every_refusal_names_its_rule() {
        for r in [
            Refusal::NotAdmin,
            Refusal::Pending,
            Refusal::AdminMustBeMember,
            Refusal::Owner,
            Refusal::NoBulkPrivilege,
            Refusal::ManagedDomain,
            Refusal::Room,
            Refusal::DeactivatedInBulk,
            Refusal::TargetInBatch,
            Refusal::RecordingsNeedLicense,
        ] {
            assert!(r.rule().starts_with('R'), "{r:?}");
            assert!(r.to_string().starts_with(r.rule()));
            assert!(!r.text(crate::i18n::Lang::En).starts_with('R'));
        }
    }
}
