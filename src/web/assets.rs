//! The stylesheet and scripts, embedded in the binary (issue 20): the portal
//! runs from any directory. Each is served from memory under a name that
//! carries a hash of its content (`app.3f2a9c1d0b.css`), so browsers keep it
//! for a year (`immutable`) and a new release is a new URL; a gzip copy made
//! once at start is sent to clients that accept it. The plain names still
//! answer, briefly cached, for anything that links them directly.

use std::io::Write;
use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

pub struct Asset {
    pub name: &'static str,
    pub hashed: String,
    pub body: &'static [u8],
    pub gzip: Vec<u8>,
    pub content_type: &'static str,
}

const FILES: [(&str, &[u8], &str); 3] = [
    (
        "app.css",
        include_bytes!("../../static/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "app.js",
        include_bytes!("../../static/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "htmx.min.js",
        include_bytes!("../../static/htmx.min.js"),
        "text/javascript; charset=utf-8",
    ),
];

/// `app.css` with `hash` before its extension: `app.<hash>.css`.
fn hashed_name(name: &str, hash: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

fn all() -> &'static [Asset] {
    static ASSETS: OnceLock<Vec<Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        FILES
            .iter()
            .map(|(name, body, content_type)| {
                let digest = Sha256::digest(body);
                let hash = crate::config::encode_hex(&digest[..5]);
                Asset {
                    name,
                    hashed: hashed_name(name, &hash),
                    body,
                    gzip: gzip(body),
                    content_type,
                }
            })
            .collect()
    })
}

/// The URL a page links: the hashed name.
pub fn url(name: &str) -> String {
    match all().iter().find(|a| a.name == name) {
        Some(a) => format!("/static/{}", a.hashed),
        None => format!("/static/{name}"),
    }
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{file}", web::get().to(serve));
}

async fn serve(req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    let file = file.into_inner();
    let Some((asset, immutable)) = all().iter().find_map(|a| {
        (a.hashed == file)
            .then_some((a, true))
            .or_else(|| (a.name == file).then_some((a, false)))
    }) else {
        return HttpResponse::NotFound().finish();
    };
    let gzip_ok = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut resp = HttpResponse::Ok();
    resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)))
        .insert_header((header::VARY, HeaderValue::from_static("Accept-Encoding")))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(if immutable {
                "public, max-age=31536000, immutable"
            } else {
                "public, max-age=300"
            }),
        ));
    if gzip_ok {
        resp.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
        resp.body(asset.gzip.clone())
    } else {
        resp.body(asset.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_a_hash_of_the_content() {
        assert_eq!(hashed_name("htmx.min.js", "ab12"), "htmx.min.ab12.js");
        let css = url("app.css");
        assert!(
            css.starts_with("/static/app.") && css.ends_with(".css") && css.len() == "/static/app.0123456789.css".len()
        );
        assert_eq!(url("nope.css"), "/static/nope.css");
        let a = &all()[0];
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&a.gzip[..]), &mut back).unwrap();
        assert_eq!(back, a.body);
    }
}
