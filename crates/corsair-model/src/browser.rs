//! The browsers corsair models, and where each departs from the Fetch standard.
//!
//! Fetch leaves a few numbers to the user agent (the preflight cache cap) and the engines differ
//! on a few rules; each difference is one method here, so callers never compare browser names.

use serde::{Deserialize, Serialize};

/// A browser engine whose CORS behaviour corsair models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Browser {
    /// Chromium, Chrome, Edge, Opera, Brave (Blink and the network service).
    #[default]
    Chromium,
    /// Firefox (Gecko, `nsCORSListenerProxy`).
    Firefox,
    /// Safari (WebKit).
    Safari,
}

impl Browser {
    /// Every modelled browser, in a stable order.
    pub const ALL: [Browser; 3] = [Browser::Chromium, Browser::Firefox, Browser::Safari];

    /// The lowercase name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
            Browser::Safari => "safari",
        }
    }

    /// The other names the engine goes by, accepted wherever a browser is named (the command
    /// line, the ui): its browsers and its engine.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Browser::Chromium => &["chrome", "edge"],
            Browser::Firefox => &["gecko"],
            Browser::Safari => &["webkit"],
        }
    }

    /// Seconds a preflight result is cached when the response has no usable
    /// `Access-Control-Max-Age` (<https://fetch.spec.whatwg.org/#http-access-control-max-age>: 5).
    /// Firefox 153 does not cache a preflight without the header (observed by the Firefox
    /// differential: two requests 0.3 s apart, two preflights; with `Access-Control-Max-Age: 10`,
    /// one).
    pub fn default_max_age(self) -> u64 {
        match self {
            Browser::Firefox => 0,
            _ => 5,
        }
    }

    /// The longest a preflight result is cached, whatever `Access-Control-Max-Age` asks for:
    /// Chromium 2 hours, Firefox 24 hours, Safari 10 minutes.
    pub fn max_age_cap(self) -> u64 {
        match self {
            Browser::Chromium => 7200,
            Browser::Firefox => 86400,
            Browser::Safari => 600,
        }
    }

    /// Whether `*` in `Access-Control-Allow-Headers` (without credentials) also allows
    /// `Authorization`. The standard says no
    /// (<https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name>); Chromium 156 still
    /// lets it through (Chrome's `CORSNonWildcardRequestHeadersSupport` setting is not in force in
    /// Debian's Chromium; the browser differential test checks this), Firefox allows it with a
    /// warning (`network.cors_preflight.authorization_covered_by_wildcard`), WebKit silently.
    pub fn wildcard_covers_authorization(self) -> bool {
        true
    }

    /// Request headers this browser drops when it follows a redirect. Chromium removes the
    /// client-hint headers a page set (they are recomputed per origin; `Save-Data` is kept),
    /// even on a same-origin redirect, which can turn a preflighted request into a simple one on
    /// the next hop (observed in Chromium 156 by the browser differential test).
    pub fn headers_dropped_on_redirect(self) -> &'static [&'static str] {
        match self {
            Browser::Chromium => crate::header::CHROMIUM_RECOMPUTED_HINTS,
            _ => &[],
        }
    }

    /// Whether a preflight sent after a redirect to another origin (the request's origin now
    /// `null`) carries, and is checked against, the page's origin. Firefox 153 does, while the
    /// request itself is then checked against `null` as the standard says (observed by the
    /// Firefox differential: `Access-Control-Allow-Origin: null` fails that preflight, the page's
    /// origin passes it and fails the request).
    pub fn preflights_after_taint_with_page_origin(self) -> bool {
        matches!(self, Browser::Firefox)
    }

    /// When a redirected hop that is simple by itself (a POST turned GET, an `Authorization`
    /// dropped) is preflighted all the same. The standard preflights a hop only for its own
    /// method and headers (Chromium); Firefox 153 preflights every cross-origin hop of a request
    /// that needed a preflight at the start; WebKit every hop after one it preflighted
    /// (`NetworkLoadChecker` keeps `m_isSimpleRequest` false). Both observed by the differentials.
    pub fn preflights_redirects(self) -> RedirectPreflight {
        match self {
            Browser::Chromium => RedirectPreflight::AsNeeded,
            Browser::Firefox => RedirectPreflight::IfFirstNeededOne,
            Browser::Safari => RedirectPreflight::AfterAPreflight,
        }
    }

    /// Whether an empty field line of a header repeated with non-empty lines is skipped when
    /// the lines are merged (Firefox), rather than joined as an empty member.
    pub fn skips_empty_repeated_lines(self) -> bool {
        self == Browser::Firefox
    }

    /// Whether the engine quotes a whole invalid Access-Control-Allow-Methods or -Headers
    /// value in its message (WebKit), rather than the token that is not one.
    pub fn quotes_whole_allow_list(self) -> bool {
        self == Browser::Safari
    }

    /// Whether a 407 answer on a connection that goes through no proxy is a network error
    /// (Chromium's `ERR_UNEXPECTED_PROXY_AUTH`, for a preflight and a request alike, with no CORS
    /// message; observed in Chromium 156). Firefox and WebKit read it as any other answer.
    pub fn refuses_unexpected_proxy_auth(self) -> bool {
        self == Browser::Chromium
    }

    /// How the engine applies Local Network Access to a page that calls a more private address
    /// space, or `None` when it does not. Chromium 142 and later refuse a non-secure page, honour
    /// `targetAddressSpace`, and (headless) deny an undecided permission at once. Firefox ESR 153
    /// asks from any page, ignores `targetAddressSpace`, and holds the request until the user
    /// answers (observed by the Firefox LNA differential). WebKit is not known to enforce it
    /// (it cannot be observed on loopback: WebKitGTK has no address-space override).
    pub fn local_network_access(self) -> Option<crate::lna::Rules> {
        match self {
            Browser::Chromium => Some(crate::lna::CHROMIUM),
            Browser::Firefox => Some(crate::lna::FIREFOX),
            Browser::Safari => None,
        }
    }

    /// Whether web fonts are fetched in CORS mode, as the CSS Fonts standard asks. WebKit loads a
    /// cross-origin font without CORS (observed by the WebKit destinations differential: a font
    /// with no `Access-Control-Allow-Origin` loads through `FontFace`).
    pub fn fonts_use_cors(self) -> bool {
        !matches!(self, Browser::Safari)
    }

    /// Whether every hop of a redirected request carries, is preflighted with, and is checked
    /// against the first request's headers. WebKit's `NetworkLoadChecker` does: `Authorization`
    /// survives a change of origin and `Content-Type` a POST turned GET, so that hop is
    /// preflighted for them (observed by the WebKit differential). The standard drops both.
    pub fn keeps_first_request_headers_on_redirect(self) -> bool {
        matches!(self, Browser::Safari)
    }

    /// Whether an `Access-Control-Allow-Origin` value whose status is not 2xx is reported as a
    /// status failure before the origin is looked at. WebKit checks the status first; Chromium
    /// and Firefox check the origin first, so a 404 without CORS headers reports the missing header.
    pub fn preflight_status_first(self) -> bool {
        matches!(self, Browser::Safari)
    }
}

/// When a browser preflights a redirected hop that needs no preflight by itself
/// ([`Browser::preflights_redirects`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectPreflight {
    /// Never: each hop is judged on its own method and headers (the standard).
    AsNeeded,
    /// When the first request needed a preflight (Firefox).
    IfFirstNeededOne,
    /// When an earlier hop was preflighted (WebKit).
    AfterAPreflight,
}

impl std::fmt::Display for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is none of the modelled browsers' (nor their aliases).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown browser '{0}': use chromium, firefox or safari")]
pub struct UnknownBrowser(pub String);

/// The one reading of a browser's name: its [`name`](Browser::name) or one of its
/// [`aliases`](Browser::aliases), in any case.
impl std::str::FromStr for Browser {
    type Err = UnknownBrowser;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Browser::ALL
            .into_iter()
            .find(|b| b.name() == lower || b.aliases().contains(&lower.as_str()))
            .ok_or(UnknownBrowser(lower))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_is_read_by_its_name_or_an_alias_in_any_case() {
        for b in Browser::ALL {
            assert_eq!(b.name().parse(), Ok(b));
            assert_eq!(b.name().to_uppercase().parse(), Ok(b));
            for alias in b.aliases() {
                assert_eq!(alias.parse(), Ok(b));
            }
        }
        assert_eq!(
            "Opera".parse::<Browser>(),
            Err(UnknownBrowser("opera".into()))
        );
        assert_eq!(
            UnknownBrowser("opera".into()).to_string(),
            "unknown browser 'opera': use chromium, firefox or safari"
        );
    }
}
