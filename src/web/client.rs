//! Where a request comes from: the socket's address, or the client named in
//! `X-Forwarded-For` when the socket is a proxy listed in
//! `OFFBOARD_TRUSTED_PROXIES` (HAProxy in front of several instances).

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::config::{canonical, IpNet};

/// The client's address as sign-in throttling keys it.
pub fn client_address(req: &HttpRequest, trusted: &[IpNet]) -> String {
    let peer = req.peer_addr().map(|a| canonical(a.ip()));
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    match peer {
        Some(peer) => resolve(peer, &forwarded.join(","), trusted).to_string(),
        // Only in-process tests have no socket.
        None => "local".to_string(),
    }
}

/// Walks `X-Forwarded-For` from the right (the hop nearest to us) while the
/// hop is a trusted proxy; the first untrusted hop is the client. A header
/// from an untrusted peer is ignored: anyone can write one.
pub fn resolve(peer: IpAddr, forwarded_for: &str, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>().map(canonical) else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let trusted = IpNet::parse_list("127.0.0.1,10.0.0.0/8").expect("list");
        // An untrusted peer's header is a lie it may tell.
        assert_eq!(resolve(ip("203.0.113.9"), "198.51.100.1", &trusted), ip("203.0.113.9"));
        // Through the proxy: the client it saw.
        assert_eq!(resolve(ip("127.0.0.1"), "198.51.100.1", &trusted), ip("198.51.100.1"));
        // A client that sends its own header gets it prepended to, not believed.
        assert_eq!(
            resolve(ip("127.0.0.1"), "1.1.1.1, 198.51.100.1", &trusted),
            ip("198.51.100.1")
        );
        // Two proxies in a row.
        assert_eq!(
            resolve(ip("127.0.0.1"), "198.51.100.1, 10.0.0.5", &trusted),
            ip("198.51.100.1")
        );
        // No header or garbage: the proxy itself.
        assert_eq!(resolve(ip("127.0.0.1"), "", &trusted), ip("127.0.0.1"));
        assert_eq!(resolve(ip("127.0.0.1"), "not-an-ip", &trusted), ip("127.0.0.1"));
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), "198.51.100.7", &trusted),
            ip("198.51.100.7")
        );
        // Nothing trusted: the socket.
        assert_eq!(resolve(ip("127.0.0.1"), "198.51.100.1", &[]), ip("127.0.0.1"));
    }
}
