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

/// A per-language cache of formatted messages. Each message is kept once
/// for the life of the process (leaked: the set of keys comes from
/// templates and data and is small; the bound is a guard), so a hit is a
/// lookup and a pointer, with no allocation or copy: a Users page asks for
/// a few hundred (issue 20: a tenth of the page's CPU went to copies).
type Cache = std::sync::RwLock<[Kept; 3]>;

/// Messages by key, hashed with Fx: the keys are ours, not an attacker's
/// choice (a data key is one of a few enum words), and SipHash was 2% of
/// a Users page.
type Kept = rustc_hash::FxHashMap<Box<str>, &'static str>;

/// Each thread's copy of what it found in a [`Cache`]: a hit takes no lock.
/// A page looks up a few hundred messages, and every read lock of the
/// shared cache wrote to one cache line that both workers' cores passed
/// back and forth. It only mirrors kept messages, so it has the same bound.
type Local = std::cell::RefCell<[Kept; 3]>;

/// A message as kept: borrowed from the cache, or owned past its bound.
pub type Text = std::borrow::Cow<'static, str>;

const CACHE_BOUND: usize = 10_000;

fn cached(
    (shared, local): (
        &'static std::sync::OnceLock<Cache>,
        &'static std::thread::LocalKey<Local>,
    ),
    lang: Lang,
    key: &str,
    make: impl FnOnce() -> String,
) -> Text {
    // `try_with`: a thread being torn down has no copy left, only the shared one.
    if let Ok(Some(hit)) = local.try_with(|l| l.borrow()[lang as usize].get(key).copied()) {
        return Text::Borrowed(hit);
    }
    let text = cached_shared(shared, lang, key, make);
    if let Text::Borrowed(hit) = text {
        let _ = local.try_with(|l| l.borrow_mut()[lang as usize].insert(key.into(), hit));
    }
    text
}

fn cached_shared(
    cache: &'static std::sync::OnceLock<Cache>,
    lang: Lang,
    key: &str,
    make: impl FnOnce() -> String,
) -> Text {
    let cache = cache.get_or_init(Default::default);
    if let Some(hit) = cache.read().ok().and_then(|c| c[lang as usize].get(key).copied()) {
        return Text::Borrowed(hit);
    }
    let text = make();
    let Ok(mut c) = cache.write() else {
        return Text::Owned(text);
    };
    let kept = &mut c[lang as usize];
    if let Some(hit) = kept.get(key) {
        return Text::Borrowed(hit);
    }
    if kept.len() >= CACHE_BOUND {
        return Text::Owned(text);
    }
    let leaked: &'static str = Box::leak(text.into_boxed_str());
    kept.insert(key.into(), leaked);
    Text::Borrowed(leaked)
}

/// The message `key` in `lang`, falling back to English, then to the key.
/// Messages without arguments are formatted once and kept.
pub fn tr(lang: Lang, key: &str) -> String {
    tr_kept(lang, key).into_owned()
}

/// [`tr`] without a copy: what templates show.
pub fn tr_kept(lang: Lang, key: &str) -> Text {
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    thread_local!(static LOCAL: Local = Default::default());
    cached((&CACHE, &LOCAL), lang, key, || {
        let id = key_of(key);
        LOCALES
            .try_lookup(&lang.id(), &id)
            .or_else(|| LOCALES.try_lookup(&Lang::En.id(), &id))
            .unwrap_or(id)
    })
}

/// Stands for argument `i` in a message's kept shape (a private-use character).
fn slot(i: usize) -> char {
    char::from_u32(0xF8F0 + i as u32).unwrap_or('\u{F8F0}')
}

/// The message with arguments. Our messages only put arguments in place
/// (no selectors or functions: a unit test holds the `.ftl` files to that),
/// so each message is formatted by Fluent once per language and set of
/// argument names, with placeholders, and the values are then put in their
/// places: a Users page formats two such messages per row.
pub fn tr_args(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    thread_local!(static LOCAL: Local = Default::default());
    if args.len() > 8 {
        return fluent_args(lang, key, args);
    }
    let mut shape_key = String::with_capacity(key.len() + 16);
    shape_key.push_str(key);
    for (name, _) in args {
        shape_key.push('\0');
        shape_key.push_str(name);
    }
    let shape = cached((&CACHE, &LOCAL), lang, &shape_key, || {
        let slots: Vec<(&str, String)> = args
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (*n, slot(i).to_string()))
            .collect();
        fluent_args(lang, key, &slots)
    });
    let mut out = String::with_capacity(shape.len() + args.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest: &str = &shape;
    while let Some((at, c)) = rest.char_indices().find(|(_, c)| is_slot(*c)) {
        out.push_str(&rest[..at]);
        if let Some((_, value)) = args.get((c as u32 - slot(0) as u32) as usize) {
            out.push_str(value);
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// The text of a message with one argument, cut where the argument goes:
/// a page that shows the message on every row formats it once and puts
/// each row's value between the parts.
pub fn parts(lang: Lang, key: &str, arg: &str) -> Vec<String> {
    let mark = slot(0);
    tr_args(lang, key, &[(arg, mark.to_string())])
        .split(mark)
        .map(str::to_string)
        .collect()
}

fn is_slot(c: char) -> bool {
    (slot(0)..=slot(7)).contains(&c)
}

fn fluent_args(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
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
    fn t(&self, key: impl AsRef<str>) -> Text {
        tr_kept(current(), key.as_ref())
    }
    fn ta(&self, key: impl AsRef<str>, name: &str, value: impl std::fmt::Display) -> String {
        ta(key.as_ref(), &[(name, value.to_string())])
    }
}

impl<T: askama::Template> Translate for T {}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tr_args` keeps each message's shape with placeholders: that is exact
    /// only while messages put arguments in place and never choose by them.
    #[test]
    fn messages_only_put_arguments_in_place() {
        for lang in ["en", "nl", "id"] {
            for file in std::fs::read_dir(format!("locales/{lang}")).unwrap() {
                let path = file.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                for bad in ["->", "NUMBER(", "DATETIME(", "{ -"] {
                    assert!(
                        !text.contains(bad),
                        "{} uses {bad}: tr_args would format it wrongly",
                        path.display()
                    );
                }
            }
        }
    }

    #[test]
    fn arguments_land_in_their_places_as_fluent_puts_them() {
        for lang in ALL {
            for (key, args) in [
                ("select-user", vec![("email", "a@example.com".to_string())]),
                ("showing-none", vec![("total", "12.345".to_string())]),
                (
                    "scheduled-badge",
                    vec![
                        ("action", "x\u{F8F1}y".to_string()),
                        ("at", "2027-01-05 09:00 UTC".to_string()),
                    ],
                ),
            ] {
                let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
                assert_eq!(
                    tr_args(lang, key, &args),
                    fluent_args(lang, key, &args),
                    "{key} in {lang:?}"
                );
                // A second call reads the kept shape.
                assert_eq!(tr_args(lang, key, &args), fluent_args(lang, key, &args));
            }
        }
        assert_eq!(tr_args(Lang::En, "no-such-key", &[("a", "b".into())]), "no-such-key");
    }

    #[test]
    fn a_message_is_cut_where_its_argument_goes() {
        for lang in ALL {
            for key in ["select-user", "more-actions"] {
                let whole = tr_args(lang, key, &[("email", "a@b.example".into())]);
                assert_eq!(
                    parts(lang, key, "email").join("a@b.example"),
                    whole,
                    "{key} in {lang:?}"
                );
            }
        }
        assert_eq!(parts(Lang::Nl, "select-user", "email"), ["", " selecteren"]);
        assert_eq!(parts(Lang::En, "deactivate", "email"), ["Deactivate"]);
    }

    /// A message is formatted once per language and then lent out, not copied.
    #[test]
    fn a_kept_message_is_lent_not_copied() {
        let first = tr_kept(Lang::Nl, "deactivate");
        let again = tr_kept(Lang::Nl, "deactivate");
        assert_eq!(first, "Deactiveren");
        assert!(matches!(again, Text::Borrowed(_)));
        assert!(std::ptr::eq(first.as_ptr(), again.as_ptr()));
        assert_eq!(tr_kept(Lang::En, "deactivate"), "Deactivate");
        assert_eq!(tr(Lang::Id, "deactivate"), "Nonaktifkan");
    }

    #[test]
    fn every_thread_is_lent_the_one_kept_copy() {
        // Each thread's own cache mirrors the shared one: a message looked
        // up on two threads is the one kept copy, and one with values reads
        // the same on both.
        let here = tr_kept(Lang::Id, "activate");
        let there = std::thread::spawn(|| tr_kept(Lang::Id, "activate").as_ptr() as usize)
            .join()
            .unwrap();
        assert!(std::ptr::eq(here.as_ptr(), there as *const u8));
        let args = || tr_args(Lang::Nl, "select-user", &[("email", "a@b.example".into())]);
        let on_another = std::thread::spawn(args).join().unwrap();
        assert_eq!(args(), on_another);
        assert!(on_another.contains("a@b.example"));
    }

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
