//! The audit details SCIM writes (in English, as every service does), in
//! the reader's language; `web::audit_detail` asks here for SCIM's actions.

use crate::i18n::{tr, tr_args, Lang};

/// `None` when the wording is not SCIM's: the page shows it as stored.
pub fn show(lang: Lang, action: &str, detail: &str) -> Option<String> {
    match action {
        "scim_create" => (detail == "created as an active member").then(|| tr(lang, "detail-scim-created")),
        "scim_update" => {
            let parts: Option<Vec<String>> = detail
                .split("; ")
                .map(|part| match part {
                    "linked again" => Some(tr(lang, "detail-scim-linked")),
                    _ => part
                        .strip_prefix("changed: ")
                        .map(|list| tr_args(lang, "detail-scim-changed", &[("list", list.to_string())])),
                })
                .collect();
            Some(parts?.join("; "))
        }
        "scim_delete" => {
            let act = detail.strip_prefix("deprovisioned: ")?;
            let act = action_word(lang, act)?;
            Some(tr_args(lang, "detail-scim-deprovisioned", &[("action", act)]))
        }
        "scim_settings" => {
            let (old, new) = detail.split_once(" -> ")?;
            Some(format!("{} -> {}", setting(lang, old)?, setting(lang, new)?))
        }
        _ => None,
    }
}

fn action_word(lang: Lang, act: &str) -> Option<String> {
    matches!(act, "deactivate" | "unlink" | "delete").then(|| tr(lang, act))
}

/// "delete (data to a@b.nl)" or "deactivate".
fn setting(lang: Lang, text: &str) -> Option<String> {
    match text.split_once(" (data to ") {
        Some((act, rest)) => {
            let email = rest.strip_suffix(')')?;
            let act = action_word(lang, act)?;
            Some(tr_args(
                lang,
                "detail-scim-data-to",
                &[("action", act), ("email", email.to_string())],
            ))
        }
        None => action_word(lang, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_details_in_dutch() {
        let nl = |action, detail| show(Lang::Nl, action, detail);
        assert_eq!(
            nl("scim_create", "created as an active member").as_deref(),
            Some("aangemaakt als actief lid")
        );
        assert_eq!(
            nl("scim_update", "linked again; changed: userName, name.givenName").as_deref(),
            Some("opnieuw gekoppeld; gewijzigd: userName, name.givenName")
        );
        assert!(nl("scim_delete", "deprovisioned: unlink").is_some());
        assert!(nl("scim_settings", "deactivate -> delete (data to a@b.nl)").is_some_and(|t| t.contains("a@b.nl")));
        assert_eq!(nl("scim_update", "something else"), None);
        assert_eq!(nl("scim_delete", "deprovisioned: explode"), None);
    }
}
