//! Where a redirect "back to the page you came from" may go: only to a path
//! of this site. The `Referer` is the sender's to write, so anything a
//! browser could read as another host (`//evil`, `/\evil`, a scheme, user
//! info, encoded or hidden slashes) falls back to the start page.

/// The path (and query) of `referer` when it is a page of `own_host`
/// (`host[:port]` as the request named it), else `/`.
pub fn safe_return_path(referer: Option<&str>, own_host: &str) -> String {
    referer
        .and_then(|r| local_path(r, own_host))
        .unwrap_or_else(|| "/".to_string())
}

fn local_path(referer: &str, own_host: &str) -> Option<String> {
    // Browsers drop tabs and newlines inside a URL and read `\` as `/`:
    // such input is refused, never cleaned up into something else.
    if !referer.bytes().all(|b| b.is_ascii_graphic()) || referer.contains('\\') {
        return None;
    }
    let path = if referer.starts_with('/') {
        referer
    } else {
        let (scheme, rest) = referer.split_once("://")?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return None;
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.contains('@') || !authority.eq_ignore_ascii_case(own_host) {
            return None;
        }
        path
    };
    let path = path.split('#').next().unwrap_or_default();
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    if leaves_the_site(&path) {
        return None;
    }
    Some(path)
}

/// `//host` or `/\host`, also once percent-decoded (repeatedly) and with
/// whitespace and control characters dropped.
fn leaves_the_site(path: &str) -> bool {
    let mut text = path.to_string();
    for _ in 0..4 {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .map(|c| if c == '\\' { '/' } else { c })
            .collect();
        if cleaned.starts_with("//") || !cleaned.starts_with('/') {
            return true;
        }
        let decoded = percent_decode(&text);
        if decoded == text {
            return false;
        }
        text = decoded;
    }
    // Encoded more than four times over: not a link of ours.
    true
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    const HOST: &str = "portal.example:8080";

    fn back(referer: &str) -> String {
        safe_return_path(Some(referer), HOST)
    }

    #[test]
    fn pages_of_this_site_keep_their_path_and_query() {
        assert_eq!(
            back("http://portal.example:8080/users?q=anna&status=active"),
            "/users?q=anna&status=active"
        );
        assert_eq!(
            back("https://PORTAL.example:8080/users/advanced#top"),
            "/users/advanced"
        );
        assert_eq!(back("http://portal.example:8080"), "/");
        assert_eq!(back("http://portal.example:8080?q=a"), "/?q=a");
        assert_eq!(back("/import/jobs/7"), "/import/jobs/7");
        assert_eq!(back("http://portal.example:8080/users?q=a%20b"), "/users?q=a%20b");
        assert_eq!(safe_return_path(None, HOST), "/");
    }

    #[test]
    fn nothing_a_browser_reads_as_another_host_gets_through() {
        for evil in [
            "/\\evil.example",
            "//evil.example",
            "///evil.example",
            "https://evil.example/x",
            "http://evil.example/users",
            "http://portal.example:8080.evil.example/",
            "http://portal.example/users",
            "javascript:alert(1)",
            "JavaScript://portal.example:8080/%0Aalert(1)",
            "data:text/html,hi",
            "http://evil.example@portal.example:8080/",
            "http://portal.example:8080@evil.example/",
            "http://portal.example:8080\\@evil.example/",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%252F%252Fevil.example",
            "http://portal.example:8080//evil.example/",
            "http://portal.example:8080/%2F%2Fevil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/%09/evil.example",
            "/ /evil.example",
            "http://portal.example:8080/\r\n/evil.example",
            "/users\u{0}",
            "",
            "evil.example",
        ] {
            assert_eq!(back(evil), "/", "{evil:?}");
        }
    }
}
