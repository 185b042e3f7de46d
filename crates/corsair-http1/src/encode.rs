//! Writing heads (RFC 9112 §4-5): status lines and header lines, appended to a buffer that goes
//! to the socket in one write.

use crate::name_is;

/// Appends `name: value\r\n`.
#[inline]
pub fn line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Appends `HTTP/1.1 STATUS REASON\r\n`.
#[inline]
pub fn status_line(out: &mut Vec<u8>, status: u16, reason: &[u8]) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason);
    out.extend_from_slice(b"\r\n");
}

/// Appends `content-length: LEN\r\n`.
#[inline]
pub fn content_length(out: &mut Vec<u8>, len: u64) {
    line(
        out,
        b"content-length",
        itoa::Buffer::new().format(len).as_bytes(),
    );
}

/// The reason phrase RFC 9110 gives a status (empty for codes it does not name).
#[inline]
pub fn canonical_reason(status: u16) -> &'static [u8] {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
        .as_bytes()
}

/// Hop-by-hop headers, never forwarded in either direction (RFC 9110 §7.6.1; the framing headers
/// are written anew by the proxy), in lower case. The one list every corsair server strips:
/// `serve`'s two paths, `dev`, and `proxy` (which also keeps `Proxy-Authorization` to itself).
pub const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
    "proxy-connection",
    "proxy-authenticate",
];

/// The `X-Forwarded-*` headers a proxy sets itself, for the one client it serves: a client's own
/// values are dropped, never passed on (they would let it claim another host or scheme).
/// `X-Forwarded-For` is not among them: it is [`FORWARDED_CHAIN`], appended to.
pub const FORWARDED_BY_PROXY: [&str; 2] = ["x-forwarded-host", "x-forwarded-proto"];

/// The header every proxy on the way appends its client's address to: the chain a client sent
/// is kept (what the upstream trusts of it is the upstream's choice), and this hop's peer added.
pub const FORWARDED_CHAIN: &str = "x-forwarded-for";

/// Whether `n` is one of [`FORWARDED_BY_PROXY`], in any case.
#[inline]
pub fn is_forwarded_by_proxy(n: &[u8]) -> bool {
    FORWARDED_BY_PROXY.iter().any(|h| name_is(n, h))
}

/// Whether `n` is one of [`HOP_BY_HOP`], in any case.
#[inline]
pub fn is_hop_by_hop(n: &[u8]) -> bool {
    HOP_BY_HOP.iter().any(|h| name_is(n, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_written_as_rfc_9112_spells_them() {
        let mut out = Vec::new();
        status_line(&mut out, 204, canonical_reason(204));
        line(&mut out, b"vary", b"Origin");
        content_length(&mut out, 1234);
        status_line(&mut out, 599, canonical_reason(599));
        assert_eq!(
            out,
            b"HTTP/1.1 204 No Content\r\nvary: Origin\r\ncontent-length: 1234\r\nHTTP/1.1 599 \r\n"
        );
    }

    #[test]
    fn hop_by_hop_names_in_any_case() {
        for n in [
            "Connection",
            "KEEP-ALIVE",
            "te",
            "Transfer-Encoding",
            "Proxy-Connection",
        ] {
            assert!(is_hop_by_hop(n.as_bytes()), "{n}");
        }
        for n in ["Content-Length", "Vary", "Origin", "tea", "connections"] {
            assert!(!is_hop_by_hop(n.as_bytes()), "{n}");
        }
    }
}
