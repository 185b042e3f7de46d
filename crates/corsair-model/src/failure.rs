//! The ways a cross-origin request fails, one enum for all browsers
//! (<https://fetch.spec.whatwg.org/#cors-check>, <https://fetch.spec.whatwg.org/#cors-preflight-fetch>,
//! <https://fetch.spec.whatwg.org/#http-redirect-fetch>). Variant names follow Chromium's
//! `network::mojom::CorsError`, whose console texts are the ones users paste into search engines.

use serde::Serialize;

/// What went wrong, without the details. `FailureKind::ALL` lists every kind, so the catalogue
/// can be checked for completeness and `explain` can match messages back to kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
// Not `#[non_exhaustive]`: corsair-diagnose matches every kind, so a new kind cannot land
// without its fix.
pub enum FailureKind {
    /// `Access-Control-Allow-Origin: *` on a request with credentials.
    WildcardOriginNotAllowed,
    /// No `Access-Control-Allow-Origin` header.
    MissingAllowOriginHeader,
    /// `Access-Control-Allow-Origin` holds a list (a comma or space, or several header lines).
    MultipleAllowOriginValues,
    /// `Access-Control-Allow-Origin` is not a URL at all.
    InvalidAllowOriginValue,
    /// `Access-Control-Allow-Origin` is an origin, but not the requesting one.
    AllowOriginMismatch,
    /// Credentials were sent and `Access-Control-Allow-Credentials` is not exactly `true`.
    InvalidAllowCredentials,
    /// The preflight answered with a status outside 200-299.
    PreflightInvalidStatus,
    /// The preflight answered with a redirect.
    PreflightDisallowedRedirect,
    /// `Access-Control-Allow-Methods` is not a comma-separated list of tokens.
    InvalidAllowMethods,
    /// `Access-Control-Allow-Headers` is not a comma-separated list of tokens.
    InvalidAllowHeaders,
    /// The request's method is not in `Access-Control-Allow-Methods`.
    MethodNotAllowed,
    /// A request header is not in `Access-Control-Allow-Headers`.
    HeaderNotAllowed,
    /// A redirect's `Location` has a user name or password.
    RedirectContainsCredentials,
}

impl FailureKind {
    /// Every kind, in catalogue order.
    pub const ALL: [FailureKind; 13] = [
        FailureKind::WildcardOriginNotAllowed,
        FailureKind::MissingAllowOriginHeader,
        FailureKind::MultipleAllowOriginValues,
        FailureKind::InvalidAllowOriginValue,
        FailureKind::AllowOriginMismatch,
        FailureKind::InvalidAllowCredentials,
        FailureKind::PreflightInvalidStatus,
        FailureKind::PreflightDisallowedRedirect,
        FailureKind::InvalidAllowMethods,
        FailureKind::InvalidAllowHeaders,
        FailureKind::MethodNotAllowed,
        FailureKind::HeaderNotAllowed,
        FailureKind::RedirectContainsCredentials,
    ];

    /// The stable id used in JSON and by `explain`.
    pub fn id(self) -> &'static str {
        match self {
            FailureKind::WildcardOriginNotAllowed => "wildcard-origin-not-allowed",
            FailureKind::MissingAllowOriginHeader => "missing-allow-origin-header",
            FailureKind::MultipleAllowOriginValues => "multiple-allow-origin-values",
            FailureKind::InvalidAllowOriginValue => "invalid-allow-origin-value",
            FailureKind::AllowOriginMismatch => "allow-origin-mismatch",
            FailureKind::InvalidAllowCredentials => "invalid-allow-credentials",
            FailureKind::PreflightInvalidStatus => "preflight-invalid-status",
            FailureKind::PreflightDisallowedRedirect => "preflight-disallowed-redirect",
            FailureKind::InvalidAllowMethods => "invalid-allow-methods",
            FailureKind::InvalidAllowHeaders => "invalid-allow-headers",
            FailureKind::MethodNotAllowed => "method-not-allowed",
            FailureKind::HeaderNotAllowed => "header-not-allowed",
            FailureKind::RedirectContainsCredentials => "redirect-contains-credentials",
        }
    }

    /// Whether this kind comes from the CORS check proper (the origin/credentials headers), which
    /// runs on both preflight and actual responses.
    pub fn is_access_check(self) -> bool {
        matches!(
            self,
            FailureKind::WildcardOriginNotAllowed
                | FailureKind::MissingAllowOriginHeader
                | FailureKind::MultipleAllowOriginValues
                | FailureKind::InvalidAllowOriginValue
                | FailureKind::AllowOriginMismatch
                | FailureKind::InvalidAllowCredentials
        )
    }
}

/// Which response failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The `OPTIONS` preflight.
    Preflight,
    /// The request itself (or one of its redirects).
    Actual,
}

/// A failure with everything needed to word it: the kind, the offending value, and the URLs and
/// origin the console message names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What went wrong.
    pub kind: FailureKind,
    /// Which response failed.
    pub stage: Stage,
    /// The offending value (an origin, a method, a header name, a `Location`), as the response
    /// had it; `None` when the kind has none.
    pub hint: Option<String>,
    /// The status of the failing response.
    pub status: Option<u16>,
    /// How many `Access-Control-Allow-Origin` lines the failing response had.
    pub allow_origin_lines: usize,
    /// The URL whose response failed.
    pub url: String,
    /// The URL the page asked for, when redirects led elsewhere.
    pub initial_url: Option<String>,
    /// Where the failing response redirected to (credentials removed), when it was a redirect
    /// the browser refused to follow: WebKit names it ("Cross-origin redirection to URL denied").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
    /// The page's origin, as the console message prints it.
    pub page_origin: String,
    /// The origin the failing request carried (`null` after a tainting redirect).
    pub sent_origin: String,
}
