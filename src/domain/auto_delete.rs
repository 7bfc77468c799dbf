//! "Delete deactivated users after a specific number of days" (R20-R23).

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::{Actor, Role};

pub const MIN_DAYS: i32 = 1;
pub const MAX_DAYS: i32 = 365;
/// The warning goes out this many days before the deletion (R22).
pub const WARN_DAYS: i64 = 7;

/// The day count runs from each user's deactivation, also for users
/// deactivated before the setting was turned on (R21).
pub fn deletion_time(deactivated_at: NaiveDateTime, days: i32) -> NaiveDateTime {
    deactivated_at + Duration::days(i64::from(days))
}

/// Due from the very moment the days have passed.
pub fn is_due(deactivated_at: NaiveDateTime, days: i32, now: NaiveDateTime) -> bool {
    now >= deletion_time(deactivated_at, days)
}

/// The latest deactivation time that is due now: `deactivated_at <= cutoff`.
pub fn due_cutoff(days: i32, now: NaiveDateTime) -> NaiveDateTime {
    now - Duration::days(i64::from(days))
}

/// Warned about from seven days before the deletion day until it happens.
pub fn in_warning_window(deletion_day: NaiveDate, today: NaiveDate) -> bool {
    today >= deletion_day - Duration::days(WARN_DAYS) && today <= deletion_day
}

pub fn check_days(days: i32) -> Result<i32, String> {
    if (MIN_DAYS..=MAX_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(format!("The number of days must be between {MIN_DAYS} and {MAX_DAYS}."))
    }
}

/// Who has access to the setting: the owner, admins without a custom role,
/// and admins whose custom role holds the Advanced privilege.
pub fn may_change_setting(actor: &Actor, has_custom_role: bool, custom_has_advanced: bool) -> bool {
    match actor.role {
        Role::Owner => true,
        Role::Admin => !has_custom_role || custom_has_advanced,
        Role::Member => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("time")
    }

    #[test]
    fn due_exactly_when_the_days_have_passed() {
        let off = at("2026-01-01 10:00:00");
        assert!(!is_due(off, 30, at("2026-01-31 09:59:59")));
        assert!(is_due(off, 30, at("2026-01-31 10:00:00")));
        assert_eq!(due_cutoff(30, at("2026-01-31 10:00:00")), off);
    }

    #[test]
    fn warning_window_is_the_seven_days_before() {
        let day = NaiveDate::from_ymd_opt(2026, 2, 10).expect("date");
        assert!(!in_warning_window(
            day,
            NaiveDate::from_ymd_opt(2026, 2, 2).expect("date")
        ));
        assert!(in_warning_window(
            day,
            NaiveDate::from_ymd_opt(2026, 2, 3).expect("date")
        ));
        assert!(in_warning_window(day, day));
    }

    #[test]
    fn days_between_one_and_a_year() {
        assert!(check_days(0).is_err());
        assert!(check_days(366).is_err());
        assert_eq!(check_days(1), Ok(1));
        assert_eq!(check_days(365), Ok(365));
    }

    #[test]
    fn access_to_the_setting() {
        let owner = Actor {
            id: 1,
            role: Role::Owner,
            custom_bulk_privilege: false,
        };
        let admin = Actor {
            id: 2,
            role: Role::Admin,
            custom_bulk_privilege: false,
        };
        let member = Actor {
            id: 3,
            role: Role::Member,
            custom_bulk_privilege: false,
        };
        assert!(may_change_setting(&owner, false, false));
        assert!(may_change_setting(&admin, false, false));
        assert!(!may_change_setting(&admin, true, false));
        assert!(may_change_setting(&admin, true, true));
        assert!(!may_change_setting(&member, false, false));
    }
}
