//! The server side: a declarative CORS policy, validated when it is built so insecure or broken
//! configurations never run, and the decisions it makes for each request.
//!
//! [`PolicySpec`] is the plain description (what a `corsair.toml` `[policy]` table holds);
//! [`PolicySpec::build`] checks it and returns every problem at once, or a [`Policy`], which is
//! the only thing [`decide()`] accepts. There is no way to make a `Policy` that sends `*` with
//! credentials, reflects any origin, or trusts `null`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The browser model and the crates below this one, under the paths this code has always used.
use crate as policy;
use corsair_model::{browser, fetch, header, host, method, origin, request, response, Browser};

pub mod decide;
pub mod file;
pub mod keys;
pub mod merge;
pub mod pattern;
pub mod proof;
pub mod regex_scope;
pub mod route;
mod schema;
mod validate;

pub use decide::{
    decide, Decision, HeaderSet, Reason, RequestKind, RequestView, Rule, MAX_REQUEST_HEADERS_LEN,
    PREFLIGHT_VARY,
};
pub use file::{load, Diagnostic, PolicyFile, Route, UpstreamCors};
pub use merge::{Merge, Upstream, Writes};
pub use pattern::{OriginPattern, PortRule};
pub use route::Ambiguous;
pub use schema::{Key, PolicySpec};
pub use validate::{Field, Level, Problem};

/// A validated policy: the only input [`decide()`] takes.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) any_origin: bool,
    pub(crate) exact: std::collections::HashSet<String>,
    /// The same origins in a list, scanned instead of hashed while there are few of them.
    pub(crate) exact_list: Vec<String>,
    pub(crate) patterns: Vec<OriginPattern>,
    pub(crate) methods: Vec<String>,
    pub(crate) any_method: bool,
    pub(crate) headers: Vec<String>,
    pub(crate) any_header: bool,
    pub(crate) credentials: bool,
    pub(crate) preflight_status: u16,
    pub(crate) allow_methods: String,
    pub(crate) allow_headers: Option<String>,
    /// `allow_headers` without `*`: the answer to a preflight whose headers are refused.
    pub(crate) allow_headers_named: Option<String>,
    pub(crate) expose_headers: Option<String>,
    pub(crate) max_age: Option<String>,
    pub(crate) spec: PolicySpec,
}

/// Up to this many exact origins, a linear scan beats hashing the request's origin.
const SCAN_LIMIT: usize = 16;

impl PolicySpec {
    /// Validates the spec. Errors make it unusable; warnings are returned beside the policy.
    pub fn build(&self) -> Result<(Policy, Vec<Problem>), Vec<Problem>> {
        validate::build(self)
    }
}

impl Policy {
    /// The spec this policy was built from.
    pub fn spec(&self) -> &PolicySpec {
        &self.spec
    }

    /// The `Access-Control-Allow-Methods` value of a preflight answer.
    pub fn allow_methods(&self) -> &str {
        &self.allow_methods
    }

    /// The `Access-Control-Allow-Headers` value, if any headers are allowed.
    pub fn allow_headers(&self) -> Option<&str> {
        self.allow_headers.as_deref()
    }

    /// The `Access-Control-Allow-Headers` value of a preflight whose headers the policy refuses:
    /// the names without `*`, so no engine lets `*` cover `Authorization`.
    pub fn allow_headers_named(&self) -> Option<&str> {
        self.allow_headers_named.as_deref()
    }

    /// The `Access-Control-Expose-Headers` value, if any.
    pub fn expose_headers(&self) -> Option<&str> {
        self.expose_headers.as_deref()
    }

    /// The `Access-Control-Max-Age` value, if set.
    pub fn max_age(&self) -> Option<&str> {
        self.max_age.as_deref()
    }

    /// Whether any origin is allowed (`origins = ["*"]`).
    pub fn any_origin(&self) -> bool {
        self.any_origin
    }

    /// The exact origins allowed, in no particular order.
    pub fn exact_origins(&self) -> impl Iterator<Item = &str> {
        self.exact_list.iter().map(String::as_str)
    }

    /// The origin patterns allowed (subdomain and port wildcards, regular expressions), in the
    /// order they are tried.
    pub fn patterns(&self) -> &[OriginPattern] {
        &self.patterns
    }

    /// Whether credentials are allowed.
    pub fn credentials(&self) -> bool {
        self.credentials
    }

    /// Whether a serialised origin is allowed.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.match_origin(origin).is_some()
    }

    /// Which rule allows `origin`, if any.
    pub(crate) fn match_origin(&self, origin: &str) -> Option<decide::Rule> {
        if self.any_origin {
            return Some(decide::Rule::AnyOrigin);
        }
        let exact = if self.exact_list.len() <= SCAN_LIMIT {
            self.exact_list.iter().any(|o| o == origin)
        } else {
            self.exact.contains(origin)
        };
        if exact {
            return Some(decide::Rule::ExactOrigin);
        }
        self.patterns
            .iter()
            .position(|p| p.matches(origin))
            .map(|i| match self.patterns[i] {
                OriginPattern::Regex(_) => decide::Rule::OriginRegex(i),
                _ => decide::Rule::OriginPattern(i),
            })
    }
}
