//! Request-header classification: which headers a page may set, which are CORS-safelisted, and
//! which names go into `Access-Control-Request-Headers`
//! (<https://fetch.spec.whatwg.org/#cors-safelisted-request-header>,
//! <https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names>,
//! <https://fetch.spec.whatwg.org/#forbidden-request-header>).

use crate::browser::Browser;
use crate::method::is_token;
use crate::mime;

/// A safelisted value longer than this makes the header unsafe.
pub const MAX_SAFELISTED_VALUE: usize = 128;
/// When safelisted values add up to more than this, every one of them becomes unsafe.
pub const MAX_SAFELISTED_TOTAL: usize = 1024;

/// <https://fetch.spec.whatwg.org/#cors-unsafe-request-header-byte>
pub fn is_unsafe_byte(b: u8) -> bool {
    (b < 0x20 && b != 0x09)
        || matches!(
            b,
            b'"' | b'('
                | b')'
                | b':'
                | b'<'
                | b'>'
                | b'?'
                | b'@'
                | b'['
                | b'\\'
                | b']'
                | b'{'
                | b'}'
                | 0x7f
        )
}

/// Client hints Chromium safelists and recomputes per origin, so it drops the page's values on a
/// redirect ([`Browser::headers_dropped_on_redirect`]).
pub(crate) const CHROMIUM_RECOMPUTED_HINTS: &[&str] = &[
    "device-memory",
    "dpr",
    "width",
    "viewport-width",
    "rtt",
    "downlink",
    "ect",
];

/// Whether Chromium safelists `name` on top of the standard's five: its recomputed client hints,
/// plus `Save-Data` and `Intervention`.
fn is_chromium_extra(name: &str) -> bool {
    CHROMIUM_RECOMPUTED_HINTS.contains(&name) || matches!(name, "save-data" | "intervention")
}

const FORBIDDEN: &[&str] = &[
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "access-control-request-private-network",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

/// Why a header the caller asked for would not be sent by a browser.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum NotSent {
    /// A forbidden request-header name: the browser silently drops it (it sets these itself).
    Forbidden,
    /// `X-HTTP-Method(-Override)` / `X-Method-Override` naming a forbidden method.
    ForbiddenMethodOverride,
    /// Chromium still refuses to let a page set `User-Agent`.
    UserAgentChromium,
}

impl NotSent {
    /// Why the header is not sent, in words.
    pub fn describe(&self) -> &'static str {
        match self {
            NotSent::Forbidden => {
                "a forbidden request header, which the browser sets or omits itself"
            }
            NotSent::ForbiddenMethodOverride => "a method override naming CONNECT, TRACE or TRACK",
            NotSent::UserAgentChromium => {
                "User-Agent, which Chromium still does not let a page set"
            }
        }
    }
}

/// The CORS response headers a server sends
/// (<https://fetch.spec.whatwg.org/#http-responses>), lowercase: the one list that gateways
/// strip from an upstream's answer, generated configs hide, and the policy refuses as request or
/// exposed headers.
pub const CORS_RESPONSE_HEADERS: [&str; 6] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
];

/// A header name as configurations and documentation usually write it: each `-`-separated
/// word capitalised (`access-control-allow-origin` is `Access-Control-Allow-Origin`), and
/// `WWW-Authenticate` as the standard spells it.
pub fn written(name: &str) -> String {
    let w = name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-");
    w.replace("Www-", "WWW-")
}

/// Whether a page may not set this header (<https://fetch.spec.whatwg.org/#forbidden-request-header>),
/// and why. `fetch()` drops such headers silently; XHR logs "Refused to set unsafe header".
pub fn forbidden(name: &str, value: &str, browser: Browser) -> Option<NotSent> {
    let lower = name.to_ascii_lowercase();
    if FORBIDDEN.contains(&lower.as_str())
        || lower.starts_with("proxy-")
        || lower.starts_with("sec-")
    {
        return Some(NotSent::Forbidden);
    }
    if browser == Browser::Chromium && lower == "user-agent" {
        return Some(NotSent::UserAgentChromium);
    }
    if matches!(
        lower.as_str(),
        "x-http-method" | "x-http-method-override" | "x-method-override"
    ) && value
        .split(',')
        .any(|m| crate::method::is_forbidden(m.trim_matches([' ', '\t'])))
    {
        return Some(NotSent::ForbiddenMethodOverride);
    }
    None
}

/// Whether (`name`, `value`) is a CORS-safelisted request-header for `browser`
/// (<https://fetch.spec.whatwg.org/#cors-safelisted-request-header>).
pub fn is_safelisted(name: &str, value: &str, browser: Browser) -> bool {
    if value.len() > MAX_SAFELISTED_VALUE {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "accept" => !value.bytes().any(is_unsafe_byte),
        "accept-language" | "content-language" => value.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b' ' | b'*' | b',' | b'-' | b'.' | b';' | b'=')
        }),
        "content-type" => {
            if value.bytes().any(is_unsafe_byte) {
                return false;
            }
            // Chromium 156 parses as the standard does: `text / plain` is not safelisted.
            matches!(
                mime::essence(value).as_deref(),
                Some("application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain")
            )
        }
        "range" => is_simple_range(value),
        other if browser == Browser::Chromium && is_chromium_extra(other) => {
            chromium_client_hint_ok(other, value)
        }
        _ => false,
    }
}

/// <https://fetch.spec.whatwg.org/#simple-range-header-value>: `bytes=` then a start, `-` and an
/// optional end no smaller than the start; no whitespace, no suffix range, one range only.
pub fn is_simple_range(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("bytes=") else {
        return false;
    };
    let Some((start, end)) = rest.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(start) {
        return false;
    }
    if end.is_empty() {
        return true;
    }
    if !digits(end) {
        return false;
    }
    match (start.parse::<u128>(), end.parse::<u128>()) {
        (Ok(s), Ok(e)) => s <= e,
        _ => false,
    }
}

fn chromium_client_hint_ok(name: &str, value: &str) -> bool {
    let int = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    let double = |v: &str| match v.split_once('.') {
        Some((a, b)) => int(a) && int(b),
        None => int(v),
    };
    match name {
        "device-memory" | "dpr" | "downlink" => double(value),
        "width" | "viewport-width" | "rtt" => int(value),
        "ect" => matches!(value, "slow-2g" | "2g" | "3g" | "4g"),
        "save-data" => value.eq_ignore_ascii_case("on"),
        _ => true,
    }
}

/// The CORS-unsafe request-header names of a header list: lowercase, sorted, deduplicated,
/// forbidden names left out (the browser does not send them), and every safelisted name added
/// when the safelisted values exceed 1024 bytes in total
/// (<https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names>).
pub fn unsafe_names<'a, I>(headers: I, browser: Browser) -> Vec<String>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut unsafe_ = Vec::new();
    let mut safe = Vec::new();
    let mut safe_total = 0usize;
    for (name, value) in headers {
        if forbidden(name, value, browser).is_some() {
            continue;
        }
        if is_safelisted(name, value, browser) {
            safe.push(name.to_ascii_lowercase());
            safe_total += value.len();
        } else {
            unsafe_.push(name.to_ascii_lowercase());
        }
    }
    if safe_total > MAX_SAFELISTED_TOTAL {
        unsafe_.extend(safe);
    }
    unsafe_.sort();
    unsafe_.dedup();
    unsafe_
}

/// The header names WebKit knows by name (`HTTPHeaderNames.in`), in their canonical spelling.
/// Its header map keeps these apart from the others and walks them first; only these can be
/// CORS-safelisted. (WebKitGTK also knows GStreamer's `Icy-*` names; Safari does not.)
pub const WEBKIT_COMMON_HEADERS: &[&str] = &[
    "Accept",
    "Accept-Charset",
    "Accept-Language",
    "Accept-Encoding",
    "Accept-Ranges",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Request-Headers",
    "Access-Control-Request-Method",
    "Age",
    "Alternate-Protocol",
    "Authorization",
    "Cache-Control",
    "Connection",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Security-Policy",
    "Content-Security-Policy-Report-Only",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Range",
    "Cookie",
    "Cookie2",
    "Date",
    "DNT",
    "Default-Style",
    "ETag",
    "Expect",
    "Expires",
    "Host",
    "If-Match",
    "If-Modified-Since",
    "If-None-Match",
    "If-Range",
    "If-Unmodified-Since",
    "Keep-Alive",
    "Last-Event-ID",
    "Last-Modified",
    "Location",
    "Origin",
    "Ping-From",
    "Ping-To",
    "Purpose",
    "Pragma",
    "Range",
    "Referer",
    "Refresh",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Version",
    "Server",
    "Set-Cookie",
    "Set-Cookie2",
    "TE",
    "Timing-Allow-Origin",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "User-Agent",
    "Vary",
    "Via",
    "X-Check-Cacheable",
    "X-Content-Type-Options",
    "X-DNS-Prefetch-Control",
    "X-Frame-Options",
    "X-Powered-By",
    "X-WebKit-CSP",
    "X-WebKit-CSP-Report-Only",
    "X-XSS-Protection",
];

/// The CORS-unsafe request-header names in the order `browser` checks them against
/// `Access-Control-Allow-Headers`, spelled as its "not allowed" message prints them, which
/// decides the header that message names when several are missing.
/// - Chromium walks its request-header map (see [`crate::chromium_order`]): first the headers
///   that are not safelisted, then, past the 1024-byte total, the safelisted ones; lowercase.
/// - WebKit walks its `HTTPHeaderMap`: the names it knows ([`WEBKIT_COMMON_HEADERS`]) in the
///   order the page set them, spelled canonically, then the others in the page's order and
///   spelling (observed by the WebKit differential: `If-Match` before `X-Token`).
/// - Firefox is modelled in sorted order, lowercase.
///
/// `secure_context` says whether the page is a secure context (https or loopback), where
/// Chromium adds its `sec-ch-ua*` hints to the map. Compare the names case-insensitively.
pub fn check_order<'a, I>(headers: I, browser: Browser, secure_context: bool) -> Vec<String>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    match browser {
        Browser::Firefox => return unsafe_names(headers, browser),
        Browser::Safari => return webkit_order(headers),
        Browser::Chromium => {}
    }
    let sent: Vec<(&str, &str)> = headers
        .into_iter()
        .filter(|(n, v)| forbidden(n, v, browser).is_none())
        .collect();
    let names: Vec<&str> = sent.iter().map(|(n, _)| *n).collect();
    let implicit: &[&str] = if secure_context {
        &crate::chromium_order::DEFAULT_IMPLICIT_HEADERS
    } else {
        &["user-agent"]
    };
    let order = crate::chromium_order::chromium_cors_header_order_with(&names, implicit);
    let mut unsafe_ = Vec::new();
    let mut safe = Vec::new();
    let mut safe_total = 0;
    for i in order {
        let (name, value) = sent[i];
        let lower = name.to_ascii_lowercase();
        if is_safelisted(name, value, browser) {
            safe_total += value.len();
            safe.push(lower);
        } else {
            unsafe_.push(lower);
        }
    }
    if safe_total > MAX_SAFELISTED_TOTAL {
        unsafe_.extend(safe);
    }
    let mut seen = std::collections::HashSet::new();
    unsafe_.retain(|n| seen.insert(n.clone()));
    unsafe_
}

fn webkit_order<'a, I>(headers: I) -> Vec<String>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let browser = Browser::Safari;
    let mut common = Vec::new();
    let mut uncommon = Vec::new();
    let mut safe = Vec::new();
    let mut safe_total = 0;
    let mut seen = std::collections::HashSet::new();
    for (name, value) in headers {
        if forbidden(name, value, browser).is_some() || !seen.insert(name.to_ascii_lowercase()) {
            continue;
        }
        let known = WEBKIT_COMMON_HEADERS
            .iter()
            .find(|c| c.eq_ignore_ascii_case(name));
        let spelled = known.map_or(name, |c| c).to_string();
        if is_safelisted(name, value, browser) {
            safe_total += value.len();
            safe.push(spelled);
        } else if known.is_some() {
            common.push(spelled);
        } else {
            uncommon.push(spelled);
        }
    }
    common.extend(uncommon);
    if safe_total > MAX_SAFELISTED_TOTAL {
        common.extend(safe);
    }
    common
}

/// Whether `name` is a valid header name and `value` a valid header value
/// (<https://fetch.spec.whatwg.org/#header-name>, <https://fetch.spec.whatwg.org/#header-value>):
/// `fetch()` throws a TypeError otherwise.
pub fn validate(name: &str, value: &str) -> Result<(), InvalidHeader> {
    if !is_token(name) {
        return Err(InvalidHeader::Name(name.to_string()));
    }
    if value.bytes().any(|b| b == 0 || b == b'\r' || b == b'\n') {
        return Err(InvalidHeader::Value(name.to_string()));
    }
    Ok(())
}

/// Why [`validate`] refuses a header: what `fetch()` would throw a TypeError for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidHeader {
    /// The name is not a token.
    #[error("'{0}' is not a valid header name: use letters, digits and !#$%&'*+-.^_`|~ only")]
    Name(String),
    /// The value (of the header named) holds NUL, CR or LF.
    #[error("the value of header '{0}' contains NUL, CR or LF, which fetch() refuses")]
    Value(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use Browser::*;

    #[test]
    fn value_length_boundary_is_128() {
        let v128 = "a".repeat(128);
        let v129 = "a".repeat(129);
        for b in Browser::ALL {
            assert!(is_safelisted("Accept", &v128, b));
            assert!(!is_safelisted("Accept", &v129, b));
        }
    }

    #[test]
    fn accept_refuses_unsafe_bytes() {
        assert!(is_safelisted("accept", "text/html, */*;q=0.8", Chromium));
        for bad in [
            "a\"b", "a(b", "a:b", "a<b", "a?b", "a@b", "a[b", "a{b", "a\x7fb", "a\x01b",
        ] {
            assert!(!is_safelisted("accept", bad, Chromium), "{bad:?}");
        }
        assert!(is_safelisted("accept", "a\tb", Chromium));
    }

    #[test]
    fn language_headers_have_a_small_alphabet() {
        assert!(is_safelisted("Accept-Language", "en-US,en;q=0.9", Firefox));
        assert!(is_safelisted("content-language", "de, *", Firefox));
        assert!(!is_safelisted("content-language", "de_DE", Firefox));
        assert!(!is_safelisted("accept-language", "en/US", Firefox));
    }

    #[test]
    fn content_type_by_essence() {
        for ok in [
            "text/plain",
            "text/plain;charset=UTF-8",
            "Application/X-WWW-Form-Urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            assert!(is_safelisted("Content-Type", ok, Safari), "{ok}");
        }
        for bad in [
            "application/json",
            "text/html",
            "text/plain; x=\"q\"",
            "text/plain/x",
            "",
        ] {
            assert!(!is_safelisted("Content-Type", bad, Safari), "{bad}");
        }
        assert!(!is_safelisted("content-type", "text / plain", Chromium));
    }

    #[test]
    fn range_rule() {
        for ok in ["bytes=0-", "bytes=0-0", "bytes=5-10"] {
            assert!(is_simple_range(ok), "{ok}");
        }
        for bad in [
            "bytes=-5",
            "bytes=10-5",
            "bytes= 0-1",
            "bytes=0-1,2-3",
            "items=0-1",
            "bytes=a-1",
            "bytes=0",
        ] {
            assert!(!is_simple_range(bad), "{bad}");
        }
    }

    #[test]
    fn chromium_client_hints() {
        assert!(is_safelisted("DPR", "2.5", Chromium));
        assert!(!is_safelisted("DPR", "2.", Chromium));
        assert!(!is_safelisted("DPR", "2", Firefox));
        assert!(is_safelisted("Width", "100", Chromium));
        assert!(!is_safelisted("Width", "1e2", Chromium));
        assert!(is_safelisted("save-data", "on", Chromium));
        assert!(!is_safelisted("save-data", "off", Chromium));
    }

    #[test]
    fn forbidden_headers() {
        for name in [
            "Cookie",
            "Host",
            "Origin",
            "Sec-Fetch-Mode",
            "Proxy-Authorization",
            "Content-Length",
            "DNT",
        ] {
            assert_eq!(
                forbidden(name, "x", Firefox),
                Some(NotSent::Forbidden),
                "{name}"
            );
        }
        assert_eq!(
            forbidden("User-Agent", "x", Chromium),
            Some(NotSent::UserAgentChromium)
        );
        assert_eq!(forbidden("User-Agent", "x", Firefox), None);
        assert_eq!(
            forbidden("X-HTTP-Method-Override", "get, TRACE", Firefox),
            Some(NotSent::ForbiddenMethodOverride)
        );
        assert_eq!(forbidden("X-HTTP-Method-Override", "PATCH", Firefox), None);
        assert_eq!(forbidden("Authorization", "x", Firefox), None);
    }

    #[test]
    fn unsafe_names_are_lowercased_sorted_deduplicated_without_forbidden() {
        let headers = [
            ("X-B", "1"),
            ("x-a", "1"),
            ("X-A", "2"),
            ("Content-Type", "application/json"),
            ("Accept", "*/*"),
            ("Cookie", "a=b"),
        ];
        assert_eq!(
            unsafe_names(headers, Chromium),
            vec!["content-type", "x-a", "x-b"]
        );
    }

    #[test]
    fn total_of_safelisted_values_boundary_is_1024() {
        // 8 safelisted values of 128 bytes = 1024: still safe; one more byte tips them all.
        let v = "a".repeat(128);
        let mut headers: Vec<(&str, &str)> = (0..8).map(|_| ("accept", v.as_str())).collect();
        assert!(unsafe_names(headers.clone(), Firefox).is_empty());
        headers.push(("content-language", "x"));
        assert_eq!(
            unsafe_names(headers, Firefox),
            vec!["accept", "content-language"]
        );
    }

    #[test]
    fn header_validation() {
        assert!(validate("X-Ok", "v a l u e").is_ok());
        assert!(validate("Bad Name", "v").is_err());
        assert!(validate("X", "a\r\nb").is_err());
        assert!(validate("", "v").is_err());
    }

    /// WebKit checks the names it knows first, spelled canonically, then the others as the page
    /// wrote them, each group in the page's order (observed by the WebKit differential).
    #[test]
    fn webkit_check_order_is_known_names_first_in_their_spelling() {
        let headers = [
            ("X-Token", "1"),
            ("x-request-id", "2"),
            ("authorization", "Bearer t"),
            ("if-match", "\"e\""),
            ("Content-Type", "application/json"),
            ("Accept", "text/plain"),
            ("Cookie", "a=b"),
            ("X-TOKEN", "3"),
        ];
        assert_eq!(
            check_order(headers, Browser::Safari, true),
            [
                "Authorization",
                "If-Match",
                "Content-Type",
                "X-Token",
                "x-request-id"
            ]
        );
        // Client hints are names WebKit does not know, so never safelisted.
        assert_eq!(check_order([("DPR", "2")], Browser::Safari, true), ["DPR"]);
        assert_eq!(
            check_order([("dpr", "2")], Browser::Chromium, true),
            Vec::<String>::new()
        );
    }
}
