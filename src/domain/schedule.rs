//! Moments of scheduled offboarding (B7) as people write them: in the
//! account's time zone, a date alone meaning the start of that day, in the
//! ISO form browsers send and the day-first forms Dutch and Indonesian
//! spreadsheets write (`5-1-2027`, `5/1/2027`). Stored and compared in UTC.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
pub use chrono_tz::Tz;

/// The zone of an IANA name (`Europe/Amsterdam`), any case; None when unknown.
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.trim().parse::<Tz>().ok().or_else(|| {
        let lower = name.trim().to_lowercase();
        chrono_tz::TZ_VARIANTS
            .iter()
            .copied()
            .find(|tz| tz.name().to_lowercase() == lower)
    })
}

/// Every zone name, for the Advanced tab's choice.
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

const DATE_TIMES: [&str; 10] = [
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
];
const DATES: [&str; 4] = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"];

/// The local date and time written in `text`, without a zone.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    // Four-digit years only: `5-1-27` could be 1927 or 2027.
    let year_ok = |d: &NaiveDateTime| (1000..=9999).contains(&chrono::Datelike::year(d));
    DATE_TIMES
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| {
            DATES
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .filter(year_ok)
}

/// The UTC moment of `text`: an RFC 3339 time with its own offset
/// (`2027-01-05T09:30:00Z`, the API), else a local time in `tz`.
pub fn parse_moment(text: &str, tz: Tz) -> Option<NaiveDateTime> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text.trim()) {
        return Some(at.naive_utc());
    }
    parse_local(text).map(|local| to_utc(local, tz))
}

/// A local time in `tz` as UTC. A time that occurs twice (the hour the
/// clocks go back) is the first; one that does not occur (the hour they
/// go forward) is an hour later, when the clocks show it again.
pub fn to_utc(local: NaiveDateTime, tz: Tz) -> NaiveDateTime {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.naive_utc(),
        LocalResult::None => match tz.from_local_datetime(&(local + chrono::Duration::hours(1))) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.naive_utc(),
            LocalResult::None => local,
        },
    }
}

/// A UTC moment as the account reads it: `2027-01-05 09:30 CET`.
pub fn show(utc: NaiveDateTime, tz: Tz) -> String {
    tz.from_utc_datetime(&utc).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// The value of a browser's date-time field for a UTC moment, in `tz`.
pub fn field_value(utc: NaiveDateTime, tz: Tz) -> String {
    tz.from_utc_datetime(&utc).format("%Y-%m-%dT%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str, zone: &str) -> Option<String> {
        let tz = parse_zone(zone).expect("zone");
        parse_moment(text, tz).map(|d| d.format("%Y-%m-%d %H:%M").to_string())
    }

    #[test]
    fn moments_as_browsers_spreadsheets_and_people_write_them() {
        let cases = [
            ("2027-01-05T09:30", Some("2027-01-05 09:30")),
            ("2027-01-05", Some("2027-01-05 00:00")),
            (" 2027-01-05 17:00 ", Some("2027-01-05 17:00")),
            ("5-1-2027", Some("2027-01-05 00:00")),
            ("5/1/2027", Some("2027-01-05 00:00")),
            ("05/01/2027 08:15", Some("2027-01-05 08:15")),
            ("31-12-2027", Some("2027-12-31 00:00")),
            ("2027-01-05T09:30:00Z", Some("2027-01-05 09:30")),
            ("2027-01-05T09:30:00+01:00", Some("2027-01-05 08:30")),
            ("1/13/2027", None),
            ("5-1-27", None),
            ("2027-02-30", None),
            ("tomorrow", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(utc(text, "UTC").as_deref(), want, "{text}");
        }
    }

    #[test]
    fn local_times_follow_the_zone_and_its_daylight_saving() {
        assert_eq!(
            utc("2027-01-05", "Europe/Amsterdam").as_deref(),
            Some("2027-01-04 23:00")
        );
        assert_eq!(
            utc("2027-07-05 09:00", "Europe/Amsterdam").as_deref(),
            Some("2027-07-05 07:00")
        );
        assert_eq!(utc("5/1/2027", "Asia/Jakarta").as_deref(), Some("2027-01-04 17:00"));
        // 28 March 2027, 02:30 does not exist in Amsterdam: 03:30 CEST.
        assert_eq!(
            utc("2027-03-28 02:30", "Europe/Amsterdam").as_deref(),
            Some("2027-03-28 01:30")
        );
        // 31 October 2027, 02:30 happens twice: the first (CEST).
        assert_eq!(
            utc("2027-10-31 02:30", "Europe/Amsterdam").as_deref(),
            Some("2027-10-31 00:30")
        );
    }

    #[test]
    fn zones_by_name_in_any_case_and_shown_with_their_abbreviation() {
        assert_eq!(parse_zone("europe/amsterdam"), Some(Tz::Europe__Amsterdam));
        assert_eq!(parse_zone("Mars/Olympus"), None);
        let at = parse_moment("2027-01-05 09:30", Tz::Asia__Jakarta).expect("moment");
        assert_eq!(show(at, Tz::Asia__Jakarta), "2027-01-05 09:30 WIB");
        assert_eq!(field_value(at, Tz::Asia__Jakarta), "2027-01-05T09:30");
        assert_eq!(show(at, Tz::UTC), "2027-01-05 02:30 UTC");
    }
}
