//! The portal in English, Dutch and Indonesian (B3), with Project Fluent
//! files under `locales/<lang>/`. The language of a request is set once by
//! a middleware (the session's choice, else Accept-Language, else English)
//! and read by templates, flash messages and error pages through
//! [`current`]; work off the request (jobs, mail) passes a [`Lang`] itself.

use std::future::Future;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Fluent wraps arguments in direction marks; our languages are left-to-right.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Nl,
    Id,
}

pub const ALL: [Lang; 3] = [Lang::En, Lang::Nl, Lang::Id];

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
            Lang::Id => "id",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("en") => Some(Lang::En),
            Some("nl") => Some(Lang::Nl),
            Some("id") => Some(Lang::Id),
            _ => None,
        }
    }

    /// The first language of an Accept-Language header we speak (ignoring q-weights' order is fine: browsers list by preference).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header
            .split(',')
            .find_map(|part| Lang::parse(part.split(';').next().unwrap_or("")))
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::En => fluent_templates::langid!("en"),
            Lang::Nl => fluent_templates::langid!("nl"),
            Lang::Id => fluent_templates::langid!("id"),
        }
    }
}

tokio::task_local! {
    static CURRENT: Lang;
}

/// The language of the request being served (English outside one).
pub fn current() -> Lang {
    CURRENT.try_with(|l| *l).unwrap_or_default()
}

/// Runs `f` with `lang` as the request's language.
pub async fn with_lang<F: Future>(lang: Lang, f: F) -> F::Output {
    CURRENT.scope(lang, f).await
}

/// Keys may come from data (`users:bulk_remove`); Fluent ids take no colon.
fn key_of(key: &str) -> String {
    key.replace(':', "-")
}

/// The message `key` in `lang`, falling back to English, then to the key.
/// Messages without arguments are formatted once and kept: a Users page
/// asks for a few hundred of them.
pub fn tr(lang: Lang, key: &str) -> String {
    type Cache = std::sync::RwLock<std::collections::HashMap<(Lang, String), String>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.read().ok().and_then(|c| c.get(&(lang, key.to_string())).cloned()) {
        return hit;
    }
    let id = key_of(key);
    let text = LOCALES
        .try_lookup(&lang.id(), &id)
        .or_else(|| LOCALES.try_lookup(&Lang::En.id(), &id))
        .unwrap_or(id);
    if let Ok(mut c) = cache.write() {
        // Keys come from templates and data, so the set is small; the bound is a guard.
        if c.len() < 10_000 {
            c.insert((lang, key.to_string()), text.clone());
        }
    }
    text
}

pub fn tr_args(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let key = key_of(key);
    let map: std::collections::HashMap<std::borrow::Cow<'static, str>, FluentValue<'_>> = args
        .iter()
        .map(|(k, v)| (std::borrow::Cow::Owned(k.to_string()), FluentValue::from(v.clone())))
        .collect();
    LOCALES
        .try_lookup_with_args(&lang.id(), &key, &map)
        .or_else(|| LOCALES.try_lookup_with_args(&Lang::En.id(), &key, &map))
        .unwrap_or(key)
}

/// In the current request's language.
/// A count as the language writes it: 12,345 in English, 12.345 in Dutch
/// and Indonesian.
pub fn number(lang: Lang, n: i64) -> String {
    let sep = if lang == Lang::En { ',' } else { '.' };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

pub fn t(key: &str) -> String {
    tr(current(), key)
}

pub fn ta(key: &str, args: &[(&str, String)]) -> String {
    tr_args(current(), key, args)
}

/// `t("key")` and `ta("key", "name", value)` inside every template.
pub trait Translate {
    fn t(&self, key: impl AsRef<str>) -> String {
        t(key.as_ref())
    }
    fn ta(&self, key: impl AsRef<str>, name: &str, value: impl std::fmt::Display) -> String {
        ta(key.as_ref(), &[(name, value.to_string())])
    }
}

impl<T: askama::Template> Translate for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_as_each_language_writes_them() {
        assert_eq!(number(Lang::En, 999_874), "999,874");
        assert_eq!(number(Lang::Nl, 1_000_000), "1.000.000");
        assert_eq!(number(Lang::Id, 12), "12");
        assert_eq!(number(Lang::En, -1234), "-1,234");
    }

    #[test]
    fn the_three_languages_and_their_fallbacks() {
        assert_eq!(tr(Lang::En, "deactivate"), "Deactivate");
        assert_eq!(tr(Lang::Nl, "deactivate"), "Deactiveren");
        assert_eq!(tr(Lang::Id, "deactivate"), "Nonaktifkan");
        assert_eq!(tr(Lang::Nl, "unlink"), "Ontkoppelen");
        assert_eq!(tr(Lang::Id, "unlink"), "Batalkan tautan");
        assert_eq!(tr(Lang::Nl, "no-such-key"), "no-such-key");
        assert_eq!(
            tr_args(Lang::Nl, "select-user", &[("email", "a@b".into())]),
            "a@b selecteren"
        );
        assert_eq!(
            tr(Lang::En, "users:bulk_remove"),
            "Delete, unlink and deactivate users in bulk"
        );
    }

    #[test]
    fn accept_language_picks_the_first_we_speak() {
        assert_eq!(Lang::from_accept_language("fr-FR,nl;q=0.8,en;q=0.5"), Some(Lang::Nl));
        assert_eq!(Lang::from_accept_language("id-ID"), Some(Lang::Id));
        assert_eq!(Lang::from_accept_language("fr"), None);
    }
}
