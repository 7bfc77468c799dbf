//! The rules of SPEC.md as plain functions over plain data. No I/O here:
//! services load the facts, ask these functions, and act on the answer.

pub mod api_tokens;
pub mod auto_delete;
pub mod permissions;
pub mod schedule;
pub mod scim;
pub mod signin;
pub mod states;
pub mod transfer;
pub mod webhooks;

pub use permissions::{check_action, check_role_change, Action, Actor, Mode, Target};
pub use states::{JobState, Role, RowState, RunState, ScheduleState, Status, UserType};
pub use transfer::{check_transfer, TransferChoice, TransferTarget};

use std::fmt;

/// The privilege a custom role needs for bulk and CSV removal (R5, R60).
pub const BULK_PRIVILEGE: &str = "users:bulk_remove";
/// The privilege to change the Advanced tab's settings (R20, R22).
pub const ADVANCED_PRIVILEGE: &str = "account:advanced";

/// Every privilege a custom role can hold, with its label in Role management.
pub const PRIVILEGES: &[(&str, &str)] = &[
    (BULK_PRIVILEGE, "Delete, unlink and deactivate users in bulk"),
    (ADVANCED_PRIVILEGE, "Change the Advanced settings of the Users page"),
    (api_tokens::API_TOKENS_PRIVILEGE, "API tokens"),
];

/// Why a rule said no. Each variant names the rule of SPEC.md it enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("R1: only the account owner and admins can do this")]
    NotAdmin,
    #[error("R2: the user has not activated their account yet")]
    Pending,
    #[error("R3: an admin must first be changed into a member")]
    AdminMustBeMember,
    #[error("R3: only the account owner can change an admin's role")]
    OnlyOwnerChangesAdmins,
    #[error("R4: the account owner cannot be deactivated, unlinked or deleted")]
    Owner,
    #[error("R4: you cannot do this to your own user")]
    OwnUser,
    #[error("R5: acting on several users at once needs the bulk privilege")]
    NoBulkPrivilege,
    #[error("R5: only the account owner manages roles")]
    OnlyOwnerManagesRoles,
    #[error("R5: custom roles are given to admins; make the user an admin first")]
    CustomRoleNeedsAdmin,
    #[error("R31: the email is in a managed domain and cannot be unlinked")]
    ManagedDomain,
    #[error("R20: only the owner and admins with access change this setting")]
    NoAccessToSetting,
    #[error("R43: rooms are deleted on the Rooms page")]
    Room,
    #[error("R44: deactivated users can be deleted one at a time or by CSV only")]
    DeactivatedInBulk,
    #[error("the user is already deactivated")]
    AlreadyDeactivated,
    #[error("the user is not deactivated")]
    NotDeactivated,
    #[error("R51: the transfer target must be an active user of this account")]
    TargetNotActive,
    #[error("R51: the transfer target is the user being removed")]
    TargetIsRemoved,
    #[error("R51: the transfer target is also being removed")]
    TargetInBatch,
    #[error("R51: choose a user to transfer the data to")]
    TargetMissing,
    #[error("R52: cloud recordings need a licensed target")]
    RecordingsNeedLicense,
    #[error("R52: webinars need a target with a webinar license")]
    WebinarsNeedLicense,
    #[error("R11: only the account owner ends another user's sessions")]
    OnlyOwnerEndsSessions,
    #[error("B4: only the owner and admins allowed to manage API tokens do this")]
    NoApiTokenAccess,
}

impl Refusal {
    /// The rule of SPEC.md that refused, for audit detail and tests.
    pub fn rule(self) -> &'static str {
        use Refusal::*;
        match self {
            NotAdmin => "R1",
            OnlyOwnerEndsSessions => "R11",
            Pending => "R2",
            AdminMustBeMember | OnlyOwnerChangesAdmins => "R3",
            Owner | OwnUser => "R4",
            NoBulkPrivilege | OnlyOwnerManagesRoles | CustomRoleNeedsAdmin => "R5",
            ManagedDomain => "R31",
            Room => "R43",
            NoAccessToSetting => "R20",
            DeactivatedInBulk => "R44",
            TargetNotActive | TargetIsRemoved | TargetInBatch | TargetMissing => "R51",
            RecordingsNeedLicense | WebinarsNeedLicense => "R52",
            NoApiTokenAccess => "B4",
            AlreadyDeactivated | NotDeactivated => "",
        }
    }

    /// The translation key of the message (locales/*/main.ftl).
    pub fn key(self) -> &'static str {
        use Refusal::*;
        match self {
            NotAdmin => "refusal-not-admin",
            OnlyOwnerEndsSessions => "refusal-only-owner-ends-sessions",
            Pending => "refusal-pending",
            AdminMustBeMember => "refusal-admin-must-be-member",
            OnlyOwnerChangesAdmins => "refusal-only-owner-changes-admins",
            Owner => "refusal-owner",
            OwnUser => "refusal-own-user",
            NoBulkPrivilege => "refusal-no-bulk-privilege",
            OnlyOwnerManagesRoles => "refusal-only-owner-manages-roles",
            CustomRoleNeedsAdmin => "refusal-custom-role-needs-admin",
            ManagedDomain => "refusal-managed-domain",
            NoAccessToSetting => "refusal-no-access-to-setting",
            Room => "refusal-room",
            DeactivatedInBulk => "refusal-deactivated-in-bulk",
            AlreadyDeactivated => "refusal-already-deactivated",
            NotDeactivated => "refusal-not-deactivated",
            TargetNotActive => "refusal-target-not-active",
            TargetIsRemoved => "refusal-target-is-removed",
            TargetInBatch => "refusal-target-in-batch",
            TargetMissing => "refusal-target-missing",
            RecordingsNeedLicense => "refusal-recordings-need-license",
            WebinarsNeedLicense => "refusal-webinars-need-license",
            NoApiTokenAccess => "refusal-no-api-token-access",
        }
    }

    /// The message in the admin's language.
    pub fn text(self, lang: crate::i18n::Lang) -> String {
        crate::i18n::tr(lang, self.key())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
