//! Which headers cross the proxy, in each direction.

/// Headers that never cross the relay in either direction: the hop-by-hop ones every corsair
/// server strips ([`corsair_http1::HOP_BY_HOP`], RFC 9110 §7.6.1), and `Proxy-Authorization`,
/// which carries credentials for a proxy and so stays with the relay (RFC 9110 §11.7.2).
pub fn is_hop_by_hop(name: &str) -> bool {
    corsair_http1::is_hop_by_hop(name.as_bytes())
        || name.eq_ignore_ascii_case("proxy-authorization")
}

/// Whether a page's request header goes upstream: not hop-by-hop, not `Host`, and none of the
/// headers that belong to the page's own origin (`Cookie`, `Origin`, `Referer`) or to CORS.
pub fn forwards_request_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    !(is_hop_by_hop(&n)
        || matches!(
            n.as_str(),
            "host"
                | "cookie"
                | "cookie2"
                | "origin"
                | "referer"
                | "content-length"
                | "forwarded"
                | "x-forwarded-for"
                | "x-forwarded-host"
                | "x-forwarded-proto"
                // Client-address headers an upstream may trust as much as X-Forwarded-For.
                | "x-real-ip"
                | "true-client-ip"
                | "x-client-ip"
                | "cf-connecting-ip"
        )
        || n.starts_with("access-control-request-")
        || n.starts_with("sec-"))
}

/// Whether an upstream response header goes back to the page: not hop-by-hop, no cookies, none
/// of the upstream's own CORS headers (the proxy's policy sets those), and none that act on the
/// proxy's whole origin rather than on this response (`Clear-Site-Data` could log the page's
/// users out of a site the proxy shares, `Strict-Transport-Security`, reporting endpoints,
/// `Alt-Svc`, a service worker's scope).
pub fn forwards_response_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    !(is_hop_by_hop(&n)
        || matches!(
            n.as_str(),
            "set-cookie"
                | "set-cookie2"
                | "content-length"
                | "x-content-type-options"
                | "content-security-policy"
                | "clear-site-data"
                | "strict-transport-security"
                | "nel"
                | "report-to"
                | "reporting-endpoints"
                | "alt-svc"
                | "refresh"
                | "service-worker-allowed"
        )
        || n.starts_with("access-control-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_one_hop_by_hop_list_and_proxy_credentials_never_cross() {
        for name in corsair_http1::HOP_BY_HOP
            .iter()
            .copied()
            .chain(["Proxy-Authorization", "TRANSFER-ENCODING"])
        {
            assert!(is_hop_by_hop(name), "{name}");
            assert!(!forwards_request_header(name), "{name} went upstream");
            assert!(!forwards_response_header(name), "{name} came back");
        }
        assert!(!is_hop_by_hop("content-type") && forwards_request_header("content-type"));
    }
}
