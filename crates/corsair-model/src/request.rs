//! A cross-origin request as a page would make it, and what the browser makes of it before
//! anything is sent: the normalised method, the headers it really sends, and whether a preflight
//! is needed and why (<https://fetch.spec.whatwg.org/#main-fetch>, step "use-CORS-preflight").

use crate::browser::Browser;
use crate::header::{self, NotSent};
use crate::method;
use crate::origin::{Origin, OriginError};
use serde::{Deserialize, Serialize};
use url::Url;

/// Which API or element makes the request. Each has its destination, request mode, credentials
/// mode and console wording ("Access to font at ...").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RequestApi {
    /// `fetch()`.
    #[default]
    Fetch,
    /// `XMLHttpRequest`.
    Xhr,
    /// A web font (`@font-face`, `new FontFace`): always CORS, credentials same-origin.
    Font,
    /// `<img crossorigin>`: CORS only with the attribute.
    Image,
    /// A classic `<script crossorigin>`: CORS only with the attribute.
    Script,
    /// `<script type="module">`: always CORS.
    Module,
    /// `<link rel="stylesheet" crossorigin>`: CORS only with the attribute.
    Stylesheet,
}

impl RequestApi {
    /// Every API, in a stable order.
    pub const ALL: [RequestApi; 7] = [
        RequestApi::Fetch,
        RequestApi::Xhr,
        RequestApi::Font,
        RequestApi::Image,
        RequestApi::Script,
        RequestApi::Module,
        RequestApi::Stylesheet,
    ];

    /// The name on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            RequestApi::Fetch => "fetch",
            RequestApi::Xhr => "xhr",
            RequestApi::Font => "font",
            RequestApi::Image => "image",
            RequestApi::Script => "script",
            RequestApi::Module => "module",
            RequestApi::Stylesheet => "stylesheet",
        }
    }

    /// Whether it is an element's request (GET, no headers, no body, no page-set credentials).
    pub fn is_element(self) -> bool {
        !matches!(self, RequestApi::Fetch | RequestApi::Xhr)
    }

    /// What Chromium's console calls it: "Access to {this} at ...".
    pub fn chromium_resource(self) -> &'static str {
        match self {
            RequestApi::Fetch => "fetch",
            RequestApi::Xhr => "XMLHttpRequest",
            RequestApi::Font => "font",
            RequestApi::Image => "image",
            RequestApi::Script | RequestApi::Module => "script",
            RequestApi::Stylesheet => "CSS stylesheet",
        }
    }

    /// The request's destination (`Sec-Fetch-Dest`).
    pub fn destination(self) -> &'static str {
        match self {
            RequestApi::Fetch | RequestApi::Xhr => "empty",
            RequestApi::Font => "font",
            RequestApi::Image => "image",
            RequestApi::Script | RequestApi::Module => "script",
            RequestApi::Stylesheet => "style",
        }
    }

    /// What the page itself can change for this destination, when CORS fails (each proven by
    /// the destinations differential: without `crossorigin` the element loads in no-cors mode).
    pub fn page_note(self) -> Option<&'static str> {
        match self {
            RequestApi::Fetch | RequestApi::Xhr => None,
            RequestApi::Font => Some(
                "Fonts are always fetched with CORS (@font-face, FontFace), \
                so the font's server must grant the page's origin; or serve the font from the \
                page's own origin.",
            ),
            RequestApi::Image => Some(
                "If the page does not read the pixels (canvas getImageData \
                or toDataURL, WebGL textures), drop the crossorigin attribute: the image then \
                loads in no-cors mode and CORS does not apply.",
            ),
            RequestApi::Script => Some(
                "If the page needs neither the script's error details nor \
                integrity= (SRI), drop the crossorigin attribute: a classic script then loads in \
                no-cors mode.",
            ),
            RequestApi::Module => Some(
                "Module scripts are always fetched with CORS, so the server \
                must grant the page's origin; or serve the module from the page's own origin.",
            ),
            RequestApi::Stylesheet => Some(
                "If the page does not read the stylesheet's rules \
                (CSSOM cssRules), drop the crossorigin attribute: it then loads in no-cors mode.",
            ),
        }
    }

    /// The `Accept` header Chromium sends for this destination.
    pub fn accept(self) -> &'static str {
        match self {
            RequestApi::Image => "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
            RequestApi::Stylesheet => "text/css,*/*;q=0.1",
            _ => "*/*",
        }
    }
}

/// An element's `crossorigin` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrossOrigin {
    /// `crossorigin` or `crossorigin="anonymous"`: CORS, cookies only same-origin.
    Anonymous,
    /// `crossorigin="use-credentials"`: CORS with cookies.
    UseCredentials,
}

/// The request mode (<https://fetch.spec.whatwg.org/#concept-request-mode>).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// CORS applies: the response must grant the origin.
    Cors,
    /// No CORS: the resource loads, but the page cannot read it (an image taints a canvas, a
    /// script's errors are hidden).
    NoCors,
}

/// What the page and its browser bring to Local Network Access (Chromium).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LnaOptions {
    /// The page's address space; `None` derives it from the origin.
    pub page_space: Option<crate::lna::AddressSpace>,
    /// The page's permissions.
    pub permissions: crate::lna::Permissions,
    /// `fetch(url, { targetAddressSpace })`.
    pub target_address_space: Option<crate::lna::AddressSpace>,
}

/// The request's credentials mode (<https://fetch.spec.whatwg.org/#concept-request-credentials-mode>).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Credentials {
    /// `credentials: 'omit'`.
    Omit,
    /// `credentials: 'same-origin'`, fetch's default: no cookies cross-origin.
    #[default]
    SameOrigin,
    /// `credentials: 'include'` or `xhr.withCredentials = true`.
    Include,
}

/// What the page asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestSpec {
    /// The URL fetched.
    pub url: String,
    /// The page's origin.
    pub origin: String,
    /// The method as the page wrote it (`fetch` normalises it).
    pub method: String,
    /// Headers the page sets, in order.
    pub headers: Vec<(String, String)>,
    /// The credentials mode.
    pub credentials: Credentials,
    /// A request body, if any.
    pub body: Option<String>,
    /// The API or element making the request.
    pub api: RequestApi,
    /// An element's `crossorigin` attribute (ignored for fetch and XHR).
    #[serde(default)]
    pub crossorigin: Option<CrossOrigin>,
    /// Local Network Access settings.
    #[serde(default)]
    pub lna: LnaOptions,
}

/// Why a request cannot even be made: `fetch()` would throw before sending anything.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The URL does not parse.
    #[error("'{0}' is not a valid URL ({1}); give an absolute http:// or https:// URL")]
    BadUrl(String, String),
    /// The URL's scheme is not http or https.
    #[error("'{0}' uses the scheme '{1}'; corsair checks http:// and https:// URLs")]
    NotHttp(String, String),
    /// The URL has a user name or password, which `fetch()` refuses.
    #[error(
        "'{0}' includes credentials (user:password@); fetch() refuses such URLs: send an \
        Authorization header instead"
    )]
    UrlCredentials(String),
    /// The origin does not parse.
    #[error("bad --origin: {0}")]
    BadOrigin(#[from] OriginError),
    /// The method is not a token.
    #[error("'{0}' is not a valid HTTP method (letters, digits and !#$%&'*+-.^_`|~ only)")]
    BadMethod(String),
    /// CONNECT, TRACE and TRACK throw in `fetch()`.
    #[error(
        "'{0}' is a forbidden method: fetch() throws a TypeError for CONNECT, TRACE and TRACK"
    )]
    ForbiddenMethod(String),
    /// A header name or value is malformed.
    #[error(transparent)]
    BadHeader(#[from] header::InvalidHeader),
    /// An element asked for something only fetch and XHR can do.
    #[error("{0}")]
    Element(String),
    /// GET and HEAD cannot have a body.
    #[error(
        "a {0} request cannot have a body: fetch() throws a TypeError; drop --data or use POST/PUT"
    )]
    BodyNotAllowed(String),
}

/// Why a preflight is needed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum PreflightReason {
    /// The method is not GET, HEAD or POST.
    Method {
        /// The normalised method.
        method: String,
    },
    /// A header is not CORS-safelisted.
    Header {
        /// Lowercase header name.
        name: String,
        /// Why it is not safelisted.
        why: String,
    },
    /// The safelisted headers' values add up to more than 1024 bytes.
    SafelistTotal {
        /// Their total size.
        bytes: usize,
    },
}

impl PreflightReason {
    /// The reason in words.
    pub fn describe(&self) -> String {
        match self {
            PreflightReason::Method { method } => {
                format!("the method {method} is not one of GET, HEAD, POST")
            }
            PreflightReason::Header { name, why } => format!("the header {name} {why}"),
            PreflightReason::SafelistTotal { bytes } => format!(
                "the safelisted headers' values total {bytes} bytes, over the 1024-byte limit"
            ),
        }
    }
}

/// A header the page set but the browser would not send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// The header name as given.
    pub name: String,
    /// Why it is not sent.
    #[serde(flatten)]
    pub why: NotSent,
}

/// The request as the browser will make it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Classified {
    /// The parsed URL.
    #[serde(serialize_with = "ser_url")]
    pub url: Url,
    /// The page's origin.
    pub origin: Origin,
    /// The URL's origin.
    pub target_origin: Origin,
    /// The normalised method.
    pub method: String,
    /// Headers that will be sent (forbidden ones removed, `Content-Type` added for a text body).
    pub headers: Vec<(String, String)>,
    /// Headers removed because a page may not set them.
    pub dropped: Vec<Dropped>,
    /// Whether CORS applies (the page and the URL are not same-origin).
    pub cross_origin: bool,
    /// The CORS-unsafe request-header names (what `Access-Control-Request-Headers` will carry).
    pub unsafe_headers: Vec<String>,
    /// Why a preflight is needed; empty when none is.
    pub preflight_reasons: Vec<PreflightReason>,
    /// Whether credentials are included.
    pub credentials: bool,
    /// Whether the request has a body.
    pub body: bool,
    /// The API or element making the request.
    pub api: RequestApi,
    /// CORS or no-cors.
    pub mode: Mode,
}

fn ser_url<S: serde::Serializer>(u: &Url, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(u.as_str())
}

impl Classified {
    /// Whether the browser sends a preflight before the request (the first hop; redirects may
    /// need more).
    pub fn needs_preflight(&self) -> bool {
        self.cross_origin && !self.preflight_reasons.is_empty()
    }
}

impl RequestSpec {
    /// Works out what `browser` does with this request before sending it.
    pub fn classify(&self, browser: Browser) -> Result<Classified, RequestError> {
        let url = Url::parse(self.url.trim())
            .map_err(|e| RequestError::BadUrl(self.url.clone(), e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(RequestError::NotHttp(self.url.clone(), url.scheme().into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RequestError::UrlCredentials(self.url.clone()));
        }
        let origin = Origin::parse_serialized(&self.origin)?;
        let raw_method = if self.method.is_empty() {
            "GET"
        } else {
            &self.method
        };
        if !method::is_token(raw_method) {
            return Err(RequestError::BadMethod(raw_method.to_string()));
        }
        if method::is_forbidden(raw_method) {
            return Err(RequestError::ForbiddenMethod(raw_method.to_string()));
        }
        let method = method::normalize(raw_method).into_owned();
        let (mode, credentials) = self.element_modes(&method, browser)?;
        if self.lna.target_address_space.is_some() && self.api != RequestApi::Fetch {
            return Err(RequestError::Element(format!(
                "targetAddressSpace is an option of fetch() only; {} cannot set it: drop \
                    --target-address-space or use --api fetch",
                self.api.name()
            )));
        }
        // XHR's send() drops the body of a GET or HEAD (the XHR standard); fetch() throws.
        let bodiless = matches!(method.as_str(), "GET" | "HEAD");
        if self.body.is_some() && bodiless && self.api != RequestApi::Xhr {
            return Err(RequestError::BodyNotAllowed(method));
        }
        let has_body = self.body.is_some() && !bodiless;
        let mut headers = Vec::new();
        let mut dropped = Vec::new();
        for (name, value) in &self.headers {
            header::validate(name, value)?;
            let value = value.trim_matches([' ', '\t']).to_string();
            match header::forbidden(name, &value, browser) {
                Some(why) => dropped.push(Dropped {
                    name: name.clone(),
                    why,
                }),
                None => headers.push((name.clone(), value)),
            }
        }
        if has_body
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            // fetch() and XHR label a string body themselves.
            headers.push(("Content-Type".into(), "text/plain;charset=UTF-8".into()));
        }
        let target_origin = Origin::of_url(&url);
        let cross_origin = !origin.same_origin(&target_origin);
        let unsafe_headers = header::unsafe_names(
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            browser,
        );
        let mut preflight_reasons = Vec::new();
        if !method::is_safelisted(&method) {
            preflight_reasons.push(PreflightReason::Method {
                method: method.clone(),
            });
        }
        let mut safe_total = 0;
        for (name, value) in &headers {
            let lower = name.to_ascii_lowercase();
            if header::is_safelisted(name, value, browser) {
                safe_total += value.len();
            } else if !preflight_reasons
                .iter()
                .any(|r| matches!(r, PreflightReason::Header { name: n, .. } if *n == lower))
            {
                preflight_reasons.push(PreflightReason::Header {
                    why: why_unsafe(&lower, value),
                    name: lower,
                });
            }
        }
        if safe_total > header::MAX_SAFELISTED_TOTAL {
            preflight_reasons.push(PreflightReason::SafelistTotal { bytes: safe_total });
        }
        Ok(Classified {
            url,
            origin,
            target_origin,
            method,
            headers,
            dropped,
            cross_origin,
            unsafe_headers,
            preflight_reasons,
            credentials,
            body: has_body,
            api: self.api,
            mode,
        })
    }

    /// The request mode and whether credentials go cross-origin, from the API and its
    /// `crossorigin` attribute; refuses what an element cannot do.
    fn element_modes(&self, method: &str, browser: Browser) -> Result<(Mode, bool), RequestError> {
        let api = self.api;
        if !api.is_element() {
            return Ok((Mode::Cors, self.credentials == Credentials::Include));
        }
        let name = api.name();
        let refuse = |what: &str| {
            Err(RequestError::Element(format!(
                "--api {name} makes a plain GET: {what}"
            )))
        };
        if method != "GET" {
            return refuse(&format!(
                "the method {method} cannot be used; drop --method or use --api fetch"
            ));
        }
        if !self.headers.is_empty() {
            return refuse(
                "a page cannot set request headers on an element; drop --header or use --api fetch",
            );
        }
        if self.body.is_some() {
            return refuse("an element sends no body; drop --data or use --api fetch");
        }
        if self.credentials == Credentials::Include {
            return refuse(
                "credentials come from the crossorigin attribute; use --crossorigin \
                use-credentials instead of --credentials",
            );
        }
        match (api, self.crossorigin) {
            (RequestApi::Font, Some(CrossOrigin::UseCredentials)) => Err(RequestError::Element(
                "fonts are always fetched in CORS mode with credentials only same-origin (like \
                    crossorigin=anonymous); drop --crossorigin use-credentials"
                    .into(),
            )),
            (RequestApi::Font, _) if !browser.fonts_use_cors() => Ok((Mode::NoCors, false)),
            (RequestApi::Font | RequestApi::Module, None) => Ok((Mode::Cors, false)),
            (_, None) => Ok((Mode::NoCors, false)),
            (_, Some(CrossOrigin::Anonymous)) => Ok((Mode::Cors, false)),
            (_, Some(CrossOrigin::UseCredentials)) => Ok((Mode::Cors, true)),
        }
    }
}

/// Why a header is not CORS-safelisted, in words that complete "the header NAME ...".
pub fn why_unsafe(lower: &str, value: &str) -> String {
    if value.len() > header::MAX_SAFELISTED_VALUE {
        return format!(
            "has a {}-byte value, over the 128-byte limit for safelisted headers",
            value.len()
        );
    }
    match lower {
        "content-type" => format!(
            "is '{value}', and only application/x-www-form-urlencoded, multipart/form-data and \
                text/plain are safelisted"
        ),
        "accept" | "accept-language" | "content-language" => {
            format!("has the value '{value}' with characters the safelist does not allow")
        }
        "range" => format!("is '{value}', not a single 'bytes=start-[end]' range"),
        _ => "is not a CORS-safelisted header".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(method: &str, headers: &[(&str, &str)]) -> RequestSpec {
        RequestSpec {
            url: "https://api.example.com/items".into(),
            origin: "https://app.example.com".into(),
            method: method.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn simple_requests_need_no_preflight() {
        for m in ["GET", "get", "HEAD", "post"] {
            let c = spec(
                m,
                &[
                    ("Accept", "application/json"),
                    ("Content-Type", "text/plain"),
                ],
            )
            .classify(Browser::Chromium)
            .unwrap();
            assert!(c.cross_origin);
            assert!(!c.needs_preflight(), "{m}");
        }
    }

    #[test]
    fn method_and_headers_trigger_preflight_with_reasons() {
        let c = spec(
            "patch",
            &[("X-Token", "1"), ("Content-Type", "application/json")],
        )
        .classify(Browser::Chromium)
        .unwrap();
        assert_eq!(c.method, "patch");
        assert!(c.needs_preflight());
        assert_eq!(c.unsafe_headers, vec!["content-type", "x-token"]);
        assert_eq!(c.preflight_reasons.len(), 3);
        assert!(c.preflight_reasons[0].describe().contains("patch"));
    }

    #[test]
    fn forbidden_headers_are_dropped_not_sent() {
        let c = spec("GET", &[("Cookie", "a=b"), ("Origin", "https://evil")])
            .classify(Browser::Chromium)
            .unwrap();
        assert!(c.headers.is_empty());
        assert_eq!(c.dropped.len(), 2);
        assert!(!c.needs_preflight());
    }

    #[test]
    fn same_origin_needs_no_cors() {
        let mut s = spec("PUT", &[("X-A", "1")]);
        s.origin = "https://api.example.com".into();
        let c = s.classify(Browser::Chromium).unwrap();
        assert!(!c.cross_origin && !c.needs_preflight());
        // The page's origin is given as browsers send it: another spelling is an error naming
        // that form, not a silent normalisation.
        s.origin = "https://api.example.com:443".into();
        assert!(matches!(
            s.classify(Browser::Chromium),
            Err(RequestError::BadOrigin(OriginError::NotSerialized { .. }))
        ));
    }

    #[test]
    fn a_body_gets_the_default_content_type() {
        let mut s = spec("POST", &[]);
        s.body = Some("{}".into());
        let c = s.classify(Browser::Chromium).unwrap();
        assert_eq!(
            c.headers,
            vec![(
                "Content-Type".to_string(),
                "text/plain;charset=UTF-8".to_string()
            )]
        );
        assert!(!c.needs_preflight());
    }

    #[test]
    fn what_fetch_would_throw_for() {
        let bad = |s: RequestSpec| s.classify(Browser::Chromium).unwrap_err();
        assert!(matches!(
            bad(spec("TRACE", &[])),
            RequestError::ForbiddenMethod(_)
        ));
        assert!(matches!(bad(spec("GE T", &[])), RequestError::BadMethod(_)));
        assert!(matches!(
            bad(spec("GET", &[("Bad Name", "x")])),
            RequestError::BadHeader(_)
        ));
        let mut s = spec("GET", &[]);
        s.url = "ftp://x/".into();
        assert!(matches!(bad(s), RequestError::NotHttp(..)));
        let mut s = spec("GET", &[]);
        s.url = "https://u:p@x/".into();
        assert!(matches!(bad(s), RequestError::UrlCredentials(_)));
        let mut s = spec("GET", &[]);
        s.body = Some("x".into());
        assert!(matches!(bad(s), RequestError::BodyNotAllowed(_)));
    }

    /// From WPT's cors/simple-requests.htm: XHR's send(data) on a GET drops the body (no
    /// Content-Type added, so no preflight), where fetch() throws.
    #[test]
    fn xhr_drops_a_get_body() {
        let mut s = spec("GET", &[]);
        s.body = Some("data".into());
        s.api = RequestApi::Xhr;
        let c = s.classify(Browser::Chromium).unwrap();
        assert!(!c.body && c.preflight_reasons.is_empty(), "{c:?}");
        assert!(!c.headers.iter().any(|(n, _)| n == "Content-Type"));
    }
}
