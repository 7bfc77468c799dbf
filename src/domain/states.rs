//! The states of users, jobs and rows as types. Each is stored as its text
//! (the columns keep their CHECK constraints); `db::types` maps them to and
//! from the column, so no string such as "pending" is compared in services.

use std::fmt;

/// An enum with its text form: `parse`, `as_str`, `Display`, and the diesel
/// derives that let it be bound to and loaded from a `Text` column.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

text_enum!(
    /// A user's role in the account (R1-R5).
    Role { Owner = "owner", Admin = "admin", Member = "member" }
);

text_enum!(
    /// A user's status (R2, R10-R14).
    Status { Pending = "pending", Active = "active", Deactivated = "deactivated" }
);

text_enum!(
    /// Basic or Licensed (R52: recordings need a licensed target).
    UserType { Basic = "basic", Licensed = "licensed" }
);

text_enum!(
    /// A CSV import job: validated, then running, then done.
    JobState { Validated = "validated", Running = "running", Done = "done", Cancelled = "cancelled" }
);

text_enum!(
    /// One row of a CSV job: invalid at validation, or pending until applied.
    RowState { Invalid = "invalid", Pending = "pending", Done = "done", Skipped = "skipped", Failed = "failed" }
);

text_enum!(
    /// A previewed bulk action: applied at most once.
    RunState { Previewed = "previewed", Applying = "applying", Applied = "applied" }
);

text_enum!(
    /// A scheduled act (B7): waiting, carried out, refused when its time came, or cancelled.
    ScheduleState { Scheduled = "scheduled", Done = "done", Refused = "refused", Cancelled = "cancelled" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_text() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(&format!("{s}")), Some(*s));
        }
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(*s));
        }
        for s in RowState::ALL {
            assert_eq!(RowState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(UserType::parse("licensed"), Some(UserType::Licensed));
        assert_eq!(Status::parse("Active"), None, "the stored text is exact");
    }
}
