//! The portal in English, Dutch and Indonesian (B3): every key in every
//! language, no template text outside the translation files, the language
//! chosen by the switch, else Accept-Language, else English.

use std::collections::BTreeSet;
use std::path::Path;

use actix_web::http::{Method, StatusCode};

use crate::support::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The keys of every `.ftl` file of the language (main.ftl, labels.ftl).
fn keys(lang: &str) -> BTreeSet<String> {
    let mut files: Vec<_> = std::fs::read_dir(root().join(format!("locales/{lang}")))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ftl"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{lang}: {files:?}");
    let text: String = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    text.lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_string()))
        .collect()
}

fn templates() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(root().join("templates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_key_exists_in_every_language() {
    let en = keys("en");
    assert!(en.len() > 200);
    for lang in ["nl", "id"] {
        let other = keys(lang);
        let missing: Vec<_> = en.difference(&other).collect();
        let extra: Vec<_> = other.difference(&en).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{lang}: missing {missing:?}, extra {extra:?}"
        );
    }
    // Every key a template names literally is translated.
    for (name, text) in templates() {
        for call in ["t(\"", "ta(\""] {
            for (i, _) in text.match_indices(call) {
                let rest = &text[i + call.len()..];
                let key = &rest[..rest.find('"').unwrap()];
                assert!(en.contains(key), "{name} uses the unknown key {key}");
            }
        }
    }
}

/// Dutch speaks to the admin with "je/jouw", as the source article does (issue 18):
/// no formal "u"/"uw" in any Dutch message.
#[test]
fn dutch_addresses_the_admin_with_je() {
    let dir = root().join("locales/nl");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((key, value)) = line.split_once(" = ") else {
                continue;
            };
            let formal = value
                .split(|c: char| !c.is_alphanumeric())
                .find(|w| matches!(*w, "u" | "U" | "uw" | "Uw" | "uzelf"));
            assert!(formal.is_none(), "{}: {key} says {formal:?}: {value}", path.display());
        }
    }
}

/// Removes `{{ ... }}`, `{% ... %}` and tags; returns the text a reader would see.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while !rest.is_empty() {
        let next = [rest.find("{{"), rest.find("{%"), rest.find("{#"), rest.find('<')]
            .into_iter()
            .flatten()
            .min();
        let Some(i) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..i]);
        out.push(' ');
        let (close, skip) = if rest[i..].starts_with("{{") {
            ("}}", 2)
        } else if rest[i..].starts_with("{%") {
            ("%}", 2)
        } else if rest[i..].starts_with("{#") {
            // A template comment: never shown.
            ("#}", 2)
        } else {
            (">", 1)
        };
        // Attribute values a reader sees must be translations too.
        let end = rest[i + skip..]
            .find(close)
            .map(|e| i + skip + e + close.len())
            .unwrap_or(rest.len());
        let tag = &rest[i..end];
        if tag.starts_with('<') {
            for attr in ["aria-label=\"", "placeholder=\"", "title=\"", "alt=\""] {
                if let Some(a) = tag.find(attr) {
                    let value = &tag[a + attr.len()..];
                    let value = &value[..value.find('"').unwrap_or(value.len())];
                    assert!(
                        value.trim().is_empty() || value.trim_start().starts_with("{{"),
                        "untranslated {attr}{value}\" in {tag}"
                    );
                }
            }
        }
        rest = &rest[end..];
    }
    out
}

#[test]
fn templates_show_no_text_outside_the_translation_files() {
    // Names, not words: the brand and each language's own name in the switch.
    let allowed = [
        "Offboard",
        "English",
        "Nederlands",
        "Bahasa Indonesia",
        "...",
        "&lt;",
        "&gt;",
        "-",
        "%",
        "/",
    ];
    for (name, text) in templates() {
        // A tag's attribute list may hold `{{ }}`; the scanner strips tags first.
        let mut seen = visible_text(&text);
        for a in allowed {
            seen = seen.replace(a, " ");
        }
        let words: Vec<&str> = seen
            .split_whitespace()
            .filter(|w| w.chars().any(|c| c.is_alphabetic()))
            .collect();
        assert!(words.is_empty(), "{name} shows untranslated text: {words:?}");
    }
}

#[actix_web::test]
async fn accept_language_picks_dutch_or_indonesian_and_english_is_the_default() {
    let app = TestApp::new();
    let c = app.client();
    let r = c
        .send(
            Method::GET,
            "/login",
            None,
            &[("Accept-Language", "nl-NL,nl;q=0.9,en;q=0.5")],
        )
        .await;
    assert!(r.body.contains("Aanmelden bij Offboard"), "{}", r.body);
    assert!(r.body.contains("<html lang=\"nl\">"));
    let r = c.send(Method::GET, "/login", None, &[("Accept-Language", "id")]).await;
    assert!(r.body.contains("Masuk ke Offboard"));
    let r = c
        .send(Method::GET, "/login", None, &[("Accept-Language", "fr-FR")])
        .await;
    assert!(r.body.contains("Sign in to Offboard"));
}

#[actix_web::test]
async fn the_switch_is_remembered_for_the_user_and_translates_pages_refusals_and_flash() {
    let app = TestApp::new();
    let m = app.user(UserSpec::member("m@gmail.test"));
    let c = app.signed_in("owner@acme.test").await;
    let page = c.get("/users").await;
    assert!(page.body.contains(">Deactivate<"));
    let r = c.post("/language", &[("lang", "nl")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get("/users").await;
    assert!(page.alert().unwrap_or_default().contains("Nederlands"));
    assert!(
        page.body.contains(">Deactiveren<")
            && page.body.contains(">Ontkoppelen<")
            && page.body.contains(">Verwijderen<"),
        "{}",
        page.body
    );
    let r = c.post(&format!("/users/{}/deactivate", app.owner_id), &[]).await;
    assert_eq!(
        r.alert().as_deref(),
        Some("de accounteigenaar kan niet worden gedeactiveerd, ontkoppeld of verwijderd")
    );
    c.post(&format!("/users/{m}/deactivate"), &[]).await;
    assert!(c
        .get("/users")
        .await
        .alert()
        .unwrap_or_default()
        .contains("is gedeactiveerd"));
    assert_eq!(app.load_user(app.owner_id).unwrap().language.as_deref(), Some("nl"));
    assert!(app.audit().iter().any(|e| e.action == "set_language"));
    // Indonesian, and remembered at the next sign-in.
    c.post("/language", &[("lang", "id")]).await;
    let again = app.signed_in("owner@acme.test").await;
    let page = again.get("/users/advanced").await;
    assert!(page.body.contains("Hapus pengguna yang dinonaktifkan"), "{}", page.body);
    assert_eq!(
        c.post("/language", &[("lang", "fr")]).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[actix_web::test]
async fn the_csv_report_speaks_the_uploaders_language() {
    let app = TestApp::new();
    app.user(UserSpec::member("m@gmail.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.get("/users").await;
    c.post("/language", &[("lang", "nl")]).await;
    c.get("/import").await;
    let r = c
        .upload("deactivate", "f.csv", b"Email\nm@gmail.test\nnobody@gmail.test\n")
        .await;
    let job = r.header("location").unwrap();
    let page = c.get(&job).await;
    assert!(
        page.body.contains("geen gebruiker met dit e-mailadres in dit account"),
        "{}",
        page.body
    );
    let csv = c.get(&format!("{job}/result.csv")).await;
    // Dutch Excel's list separator, a BOM so Excel reads UTF-8, CRLF.
    assert!(
        csv.body.starts_with("\u{FEFF}Email;Regel;Uitkomst;Reden\r\n"),
        "{}",
        csv.body
    );
    let r = c.upload("deactivate", "f.csv", b"").await;
    assert_eq!(r.alert().as_deref(), Some("Het bestand is leeg."));
}
