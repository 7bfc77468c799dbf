//! The audit log's detail column in the reader's language.
//!
//! The log is append-only and its rows are evidence, so the services keep
//! writing the detail in English, the same words whatever the actor's
//! language was; the page and the export translate the known patterns when
//! they show a row. A detail that matches no pattern (an older wording, or
//! one a later change adds before this file learns it) is shown as stored.
//! `tests/it/audit.rs` runs the acts in Dutch so a changed wording in a
//! service shows up there.

use crate::domain::PRIVILEGES;
use crate::i18n::{tr, tr_args, Lang};

/// The stored `detail` of an entry of `action`, for a reader of `lang`.
pub fn show(lang: Lang, action: &str, detail: &str) -> String {
    if lang == Lang::En || detail.is_empty() {
        return detail.to_string();
    }
    translate(lang, action, detail).unwrap_or_else(|| detail.to_string())
}

fn translate(lang: Lang, action: &str, detail: &str) -> Option<String> {
    let arg = |name: &'static str, value: &str| (name, value.to_string());
    match action {
        "deactivate" => {
            let list = detail.strip_prefix("licenses removed: ")?;
            let names: Option<Vec<String>> = list.split(", ").map(|l| license(lang, l)).collect();
            Some(tr_args(
                lang,
                "detail-licenses-removed",
                &[arg("list", &names?.join(", "))],
            ))
        }
        "activate" => (detail == "reactivated as Basic; licenses not restored").then(|| tr(lang, "detail-reactivated")),
        "unlink" | "delete" => counts(lang, action, detail),
        "change_role" => {
            let (from, to) = detail.split_once(" -> ")?;
            Some(format!("{} -> {}", role(lang, from)?, role(lang, to)?))
        }
        "assign_role" => {
            let name = detail.strip_prefix("custom role: ")?;
            let name = if name == "none" {
                tr(lang, "detail-no-custom-role")
            } else {
                name.to_string()
            };
            Some(tr_args(lang, "detail-custom-role", &[arg("name", &name)]))
        }
        "create_role" | "update_role" => {
            // The role's name may hold ": "; the privilege keys never do.
            let (name, list) = detail.rsplit_once(": ")?;
            let names: Option<Vec<String>> = list
                .split(", ")
                .map(|p| PRIVILEGES.iter().any(|(key, _)| *key == p).then(|| tr(lang, p)))
                .collect();
            Some(format!("{name}: {}", names?.join(", ")))
        }
        "schedule" => {
            let (act, at) = detail.split_once(" at ")?;
            let act = matches!(act, "deactivate" | "unlink" | "delete").then(|| tr(lang, act))?;
            Some(tr_args(lang, "detail-scheduled", &[arg("action", &act), arg("at", at)]))
        }
        "time_zone" => {
            let change = detail.strip_prefix("time zone ")?;
            Some(tr_args(lang, "detail-time-zone", &[arg("change", change)]))
        }
        "auto_delete_setting" => {
            let (old, new) = detail.split_once(" -> ")?;
            Some(format!("{} -> {}", auto_delete(lang, old)?, auto_delete(lang, new)?))
        }
        scim if scim.starts_with("scim_") => super::scim::detail::show(lang, action, detail),
        _ => None,
    }
}

/// The counts of an unlink or a delete, in the reader's words.
fn counts(lang: Lang, action: &str, detail: &str) -> Option<String> {
    let arg = |name: &'static str, value: &str| (name, value.to_string());
    if action == "unlink" {
        let n = fields(
            detail,
            "moved to a new free account with {} meetings, {} webinars, {} events, {} recordings",
        )?;
        let names = ["meetings", "webinars", "events", "recordings"];
        let args: Vec<_> = names.iter().zip(&n).map(|(k, v)| arg(k, v)).collect();
        return Some(tr_args(lang, "detail-unlinked", &args));
    }
    let n = fields(
        detail,
        "deleted {} meetings ({} on the PMI), {} webinars, {} events, {} recordings; kept {} phone records",
    )?;
    let names = ["meetings", "pmi", "webinars", "events", "recordings", "phone"];
    let args: Vec<_> = names.iter().zip(&n).map(|(k, v)| arg(k, v)).collect();
    Some(tr_args(lang, "detail-deleted", &args))
}

/// "on after 30 days, warning off" as the reader's words.
fn auto_delete(lang: Lang, setting: &str) -> Option<String> {
    let n = fields(setting, "{} after {} days, warning {}")?;
    Some(tr_args(
        lang,
        "detail-auto-delete",
        &[
            ("state", on_off(lang, n[0])?),
            ("days", n[1].to_string()),
            ("warning", on_off(lang, n[2])?),
        ],
    ))
}

fn on_off(lang: Lang, word: &str) -> Option<String> {
    match word {
        "on" => Some(tr(lang, "detail-on")),
        "off" => Some(tr(lang, "detail-off")),
        _ => None,
    }
}

fn role(lang: Lang, role: &str) -> Option<String> {
    matches!(role, "owner" | "admin" | "member").then(|| tr(lang, role))
}

/// A license or user type as the services name it in a detail.
fn license(lang: Lang, name: &str) -> Option<String> {
    let key = match name {
        "basic" => "basic",
        "licensed" => "licensed",
        "webinar" => "license-webinar",
        "phone" => "license-phone",
        "large meetings" => "license-large-meetings",
        _ => return None,
    };
    Some(tr(lang, key).to_lowercase())
}

/// The parts of `text` standing where `pattern` has `{}`; None when the
/// literal parts differ. Each part is a number or a word without the text
/// that follows it.
fn fields<'a>(text: &'a str, pattern: &str) -> Option<Vec<&'a str>> {
    let mut pieces = pattern.split("{}");
    let mut rest = text.strip_prefix(pieces.next()?)?;
    let mut out = Vec::new();
    for literal in pieces {
        let end = if literal.is_empty() {
            rest.len()
        } else {
            rest.find(literal)?
        };
        out.push(&rest[..end]);
        rest = &rest[end + literal.len()..];
    }
    rest.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_details_in_dutch_and_the_rest_as_stored() {
        let nl = |action, detail| show(Lang::Nl, action, detail);
        assert_eq!(
            nl(
                "auto_delete_setting",
                "off after 30 days, warning off -> on after 45 days, warning on"
            ),
            "uit na 30 dagen, waarschuwing uit -> aan na 45 dagen, waarschuwing aan"
        );
        assert_eq!(nl("change_role", "admin -> member"), "Beheerder -> Lid");
        assert_eq!(
            nl("deactivate", "licenses removed: licensed, webinar, phone"),
            "licenties verwijderd: met licentie, webinar, telefoon"
        );
        assert_eq!(
            nl(
                "delete",
                "deleted 3 meetings (1 on the PMI), 0 webinars, 2 events, 1 recordings; kept 4 phone records"
            ),
            "3 vergaderingen (1 met de persoonlijke vergadering-ID), 0 webinars, 2 evenementen en 1 opnames verwijderd; 4 gespreksopnames bewaard"
        );
        assert_eq!(
            nl("create_role", "Help: desk: users:bulk_remove"),
            "Help: desk: Gebruikers in bulk verwijderen, ontkoppelen en deactiveren"
        );
        assert_eq!(nl("assign_role", "custom role: none"), "aangepaste rol: geen");
        // Unknown wording, a role name alone, English readers: as stored.
        assert_eq!(nl("delete", "something else"), "something else");
        assert_eq!(nl("delete_role", "Helpdesk"), "Helpdesk");
        assert_eq!(show(Lang::En, "change_role", "admin -> member"), "admin -> member");
        assert_eq!(fields("a 1 b 2", "a {} b {}"), Some(vec!["1", "2"]));
        assert_eq!(fields("a 1 c 2", "a {} b {}"), None);
    }
}
