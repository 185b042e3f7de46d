//! Request methods: normalisation, the safelist and the forbidden list
//! (<https://fetch.spec.whatwg.org/#methods>).

use std::borrow::Cow;

/// Whether `s` is an HTTP token (<https://httpwg.org/specs/rfc9110.html#tokens>): the grammar of
/// method and header names.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// Whether `b` may appear in an HTTP token.
pub fn is_token_byte(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`'
        | b'|' | b'~' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z')
}

/// Normalises a method as `fetch()` and XHR do (<https://fetch.spec.whatwg.org/#concept-method-normalize>):
/// only DELETE, GET, HEAD, OPTIONS, POST and PUT are upper-cased, so `put` is sent as `PUT` but
/// `patch` stays `patch` (and is then matched case-sensitively against `Access-Control-Allow-Methods`).
pub fn normalize(method: &str) -> Cow<'_, str> {
    const NORMALISED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    for m in NORMALISED {
        if method.eq_ignore_ascii_case(m) && method != m {
            return Cow::Borrowed(m);
        }
    }
    Cow::Borrowed(method)
}

/// `GET`, `HEAD` or `POST` (<https://fetch.spec.whatwg.org/#cors-safelisted-method>), compared
/// after normalisation, so byte-exact.
pub fn is_safelisted(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

/// `CONNECT`, `TRACE` or `TRACK`, in any case (<https://fetch.spec.whatwg.org/#forbidden-method>):
/// `fetch()` throws a TypeError for these.
pub fn is_forbidden(method: &str) -> bool {
    ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|m| method.eq_ignore_ascii_case(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_only_the_six() {
        assert_eq!(normalize("put"), "PUT");
        assert_eq!(normalize("Delete"), "DELETE");
        assert_eq!(normalize("options"), "OPTIONS");
        assert_eq!(normalize("patch"), "patch");
        assert_eq!(normalize("PATCH"), "PATCH");
        assert_eq!(normalize("get"), "GET");
    }

    #[test]
    fn safelist_is_byte_exact_after_normalisation() {
        assert!(is_safelisted("GET") && is_safelisted("HEAD") && is_safelisted("POST"));
        assert!(!is_safelisted("PUT") && !is_safelisted("get") && !is_safelisted("PATCH"));
        assert!(is_safelisted(&normalize("post")));
    }

    #[test]
    fn forbidden_in_any_case() {
        assert!(is_forbidden("CONNECT") && is_forbidden("trace") && is_forbidden("Track"));
        assert!(!is_forbidden("PATCH"));
    }

    #[test]
    fn tokens() {
        assert!(is_token("PATCH") && is_token("x-custom") && is_token("M-SEARCH"));
        assert!(!is_token("") && !is_token("PU T") && !is_token("a,b") && !is_token("é"));
    }
}
