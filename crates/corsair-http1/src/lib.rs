//! HTTP/1.1 message framing for `corsair serve`'s own proxy path, sans IO: no socket, no clock,
//! no async. It decides which request heads that path takes ([`request`]), parses request and
//! response heads once ([`head`]), tells how an upstream response's body is delimited
//! ([`response`]), decodes and re-encodes chunked bodies strictly ([`chunked`]) and writes heads
//! ([`encode`]). Nothing here knows about CORS: the gateway puts its policy's headers in through
//! [`encode`]'s primitives.
//!
//! The authority is RFC 9112 (HTTP/1.1) and RFC 9110 §7.6.1 (hop-by-hop fields). Headers come
//! in as (name, value) byte pairs as httparse found them: names are tokens, values have no CR
//! or LF.
#![forbid(unsafe_code)]

pub mod chunked;
pub mod encode;
pub mod head;
pub mod request;
pub mod response;

pub use chunked::{chunk, Chunked, MAX_CHUNK_EXTRA};
pub use encode::{
    is_forwarded_by_proxy, is_hop_by_hop, FORWARDED_BY_PROXY, FORWARDED_CHAIN, HOP_BY_HOP,
};
pub use head::{parse_request, parse_response, Head, RequestParse, ResponseParse, MAX_HEADERS};
pub use request::{path_refusal, refusal, route_request, Refusal, RequestFacts, RequestRoute};
pub use response::{inspect_response, Framing, ResponseFacts};

/// Whether header name `a` is `b` (given in lowercase).
#[inline(always)]
pub fn name_is(a: &[u8], b: &str) -> bool {
    a.len() == b.len() && a.eq_ignore_ascii_case(b.as_bytes())
}

/// The comma-separated elements of a field value, trimmed, empty ones dropped (RFC 9110 §5.6.1).
#[inline]
fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
}
