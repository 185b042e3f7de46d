//! The classic CORS failures, each as a request a page makes and the broken server answer that
//! causes it. The fixed server is the same for every case: a correct CORS implementation.

use corsair_model::{FailureKind, RequestApi};

/// A response the demo servers send.
#[derive(Clone, Debug, Default)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The header lines, in order.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// A reply with `status` and no header.
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
        }
    }
    /// The reply with one more header line.
    pub fn h(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// What a demo server needs to know to answer.
pub struct Ask<'a> {
    /// The request's method (`OPTIONS` for a preflight).
    pub method: &'a str,
    /// The request's `Origin`, if it sent one.
    pub origin: Option<&'a str>,
    /// The page's origin (the one the fixed server allows).
    pub page: &'a str,
    /// The path asked for, for redirects.
    pub path: &'a str,
}

/// What the broken variant must produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// This CORS failure.
    Cors(FailureKind),
    /// A Local Network Access refusal (the server is never asked).
    Lna,
}

/// One classic failure: the request a page makes, and how the broken server answers it.
pub struct Case {
    /// The name `--case` takes.
    pub name: &'static str,
    /// One line saying what goes wrong.
    pub title: &'static str,
    /// The request's method.
    pub method: &'static str,
    /// The request's headers.
    pub headers: &'static [(&'static str, &'static str)],
    /// Whether the request sends credentials (`credentials: 'include'`).
    pub credentials: bool,
    /// The request body, if any.
    pub body: Option<&'static str>,
    /// What makes the request: fetch, or an element such as a font.
    pub api: RequestApi,
    /// The page counts as public (`--page-space public`): Local Network Access applies to the
    /// loopback API. The broken variant has a fresh profile's undecided permission, the fixed
    /// one the user's grant.
    pub public_page: bool,
    /// The failure the broken server must produce.
    pub expect: Expect,
    /// How the broken server answers.
    pub broken: fn(&Ask) -> Reply,
}

const JSON: &[(&str, &str)] = &[("Content-Type", "application/json")];
const AUTH_JSON: &[(&str, &str)] = &[
    ("Authorization", "Bearer demo-token"),
    ("Content-Type", "application/json"),
];
const AUTH: &[(&str, &str)] = &[("Authorization", "Bearer demo-token")];

fn ok() -> Reply {
    Reply::new(200).h("Content-Type", "application/json")
}

/// Swaps the port of `page` (`http://localhost:PORT`) for another.
fn other_port(page: &str) -> String {
    match page.rsplit_once(':') {
        Some((base, _)) => format!("{base}:3000"),
        None => format!("{page}:3000"),
    }
}

/// Every case, in the order `corsair demo` runs them.
pub const CASES: &[Case] = &[
    Case {
        name: "no-allow-origin",
        title: "the server sends no Access-Control-Allow-Origin at all",
        method: "GET",
        headers: &[],
        credentials: false,
        body: None,
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::MissingAllowOriginHeader),
        broken: |_| ok(),
    },
    Case {
        name: "wildcard-credentials",
        title: "'Access-Control-Allow-Origin: *' on a request with cookies",
        method: "GET",
        headers: &[],
        credentials: true,
        body: None,
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::WildcardOriginNotAllowed),
        broken: |_| {
            ok().h("Access-Control-Allow-Origin", "*")
                .h("Access-Control-Allow-Credentials", "true")
        },
    },
    Case {
        name: "mismatch-scheme",
        title: "the server allows https:// but the page is on http://",
        method: "GET",
        headers: &[],
        credentials: false,
        body: None,
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::AllowOriginMismatch),
        broken: |a| {
            ok().h(
                "Access-Control-Allow-Origin",
                a.page.replacen("http://", "https://", 1),
            )
        },
    },
    Case {
        name: "mismatch-trailing-slash",
        title: "the allowed origin is written with a trailing slash",
        method: "GET",
        headers: &[],
        credentials: false,
        body: None,
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::AllowOriginMismatch),
        broken: |a| ok().h("Access-Control-Allow-Origin", format!("{}/", a.page)),
    },
    Case {
        name: "mismatch-port",
        title: "the server allows the dev server's port, not the page's",
        method: "GET",
        headers: &[],
        credentials: false,
        body: None,
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::AllowOriginMismatch),
        broken: |a| ok().h("Access-Control-Allow-Origin", other_port(a.page)),
    },
    Case {
        name: "mismatch-www",
        title: "the server allows www. but the page has no www.",
        method: "GET",
        headers: &[],
        credentials: false,
        body: None,
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::AllowOriginMismatch),
        broken: |a| {
            ok().h(
                "Access-Control-Allow-Origin",
                a.page.replacen("://", "://www.", 1),
            )
        },
    },
    Case {
        name: "preflight-404",
        title: "the route does not handle OPTIONS, so the preflight gets a 404",
        method: "PUT",
        headers: JSON,
        credentials: false,
        body: Some("{\"name\":\"demo\"}"),
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::MissingAllowOriginHeader),
        broken: |a| {
            if a.method == "OPTIONS" {
                Reply::new(404)
            } else {
                ok().h("Access-Control-Allow-Origin", a.page)
            }
        },
    },
    Case {
        name: "preflight-405",
        title: "CORS headers are set, but the framework answers OPTIONS with 405",
        method: "PUT",
        headers: JSON,
        credentials: false,
        body: Some("{\"name\":\"demo\"}"),
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::PreflightInvalidStatus),
        broken: |a| {
            let r = if a.method == "OPTIONS" {
                Reply::new(405).h("Allow", "GET, PUT")
            } else {
                ok()
            };
            r.h("Access-Control-Allow-Origin", a.page)
        },
    },
    Case {
        name: "preflight-401-auth",
        title: "authentication runs before CORS and rejects the preflight (which never has \
            credentials)",
        method: "GET",
        headers: AUTH,
        credentials: false,
        body: None,
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::MissingAllowOriginHeader),
        broken: |a| {
            if a.method == "OPTIONS" {
                Reply::new(401).h("WWW-Authenticate", "Bearer")
            } else {
                ok().h("Access-Control-Allow-Origin", a.page)
            }
        },
    },
    Case {
        name: "authorization-not-allowed",
        title: "Authorization is missing from Access-Control-Allow-Headers",
        method: "POST",
        headers: AUTH_JSON,
        credentials: false,
        body: Some("{}"),
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::HeaderNotAllowed),
        broken: |a| {
            ok().h("Access-Control-Allow-Origin", a.page)
                .h("Access-Control-Allow-Methods", "GET, POST")
                .h("Access-Control-Allow-Headers", "Content-Type")
        },
    },
    Case {
        name: "put-not-allowed",
        title: "PUT is missing from Access-Control-Allow-Methods",
        method: "PUT",
        headers: JSON,
        credentials: false,
        body: Some("{}"),
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::MethodNotAllowed),
        broken: |a| {
            ok().h("Access-Control-Allow-Origin", a.page)
                .h("Access-Control-Allow-Methods", "GET, POST")
                .h("Access-Control-Allow-Headers", "Content-Type")
        },
    },
    Case {
        name: "credentials-without-allow-credentials",
        title:
            "cookies are sent but the server does not say Access-Control-Allow-Credentials: true",
        method: "GET",
        headers: &[],
        credentials: true,
        body: None,
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::InvalidAllowCredentials),
        broken: |a| {
            ok().h("Access-Control-Allow-Origin", a.page)
                .h("Vary", "Origin")
        },
    },
    Case {
        name: "preflight-redirect",
        title: "the preflight is redirected (a trailing-slash or http-to-https redirect)",
        method: "DELETE",
        headers: &[],
        credentials: false,
        body: None,
        api: RequestApi::Fetch,
        public_page: false,
        expect: Expect::Cors(FailureKind::PreflightDisallowedRedirect),
        broken: |a| {
            Reply::new(301)
                .h("Location", format!("{}/", a.path))
                .h("Access-Control-Allow-Origin", a.page)
        },
    },
    Case {
        name: "font-no-allow-origin",
        title: "a web font from another origin: fonts are always fetched with CORS",
        method: "GET",
        headers: &[],
        credentials: false,
        body: None,
        api: RequestApi::Font,
        public_page: false,
        expect: Expect::Cors(FailureKind::MissingAllowOriginHeader),
        broken: |_| Reply::new(200).h("Content-Type", "font/ttf"),
    },
    Case {
        name: "lna-public-to-loopback",
        title: "a public page calls an API on this machine: Local Network Access, not a header",
        method: "GET",
        headers: &[],
        credentials: false,
        body: None,
        api: RequestApi::Fetch,
        public_page: true,
        expect: Expect::Lna,
        // A correct CORS answer: the browser never asks for it.
        broken: |a| {
            ok().h("Access-Control-Allow-Origin", a.page)
                .h("Vary", "Origin")
        },
    },
];

/// A font for the font case's responses: DejaVu Sans cut down to the letters of "corsair"
/// (Bitstream Vera licence, kept in the font's name table).
pub const FONT: &[u8] = include_bytes!("corsair-demo.ttf");

/// The policy each case's fix needs: the one `corsair_model::fix` prints for the case's request
/// (the page's origin, and the method, headers and credentials the request uses).
pub fn policy_for(c: &Case, page: &str) -> Result<corsair_policy::PolicySpec, NoFix> {
    let req = c
        .request("http://127.0.0.1/".into(), page)
        .classify(corsair_model::Browser::Chromium)?;
    let need = corsair_diagnose::fix::Need::of(&req, page);
    Ok(corsair_diagnose::fix::policy_for(&need).map(|(spec, _)| spec)?)
}

/// Why a case has no fixed policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NoFix {
    /// The case's request is not one a browser would make from `page`.
    #[error(transparent)]
    Request(#[from] corsair_model::request::RequestError),
    /// No policy can let that request through (no origin, or `null`).
    #[error(transparent)]
    Policy(#[from] corsair_diagnose::fix::NoPolicy),
}

impl Case {
    /// The case's request to `url` from a page on `page`.
    pub fn request(&self, url: String, page: &str) -> corsair_model::RequestSpec {
        corsair_model::RequestSpec {
            url,
            origin: page.to_string(),
            method: self.method.into(),
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            credentials: if self.credentials {
                corsair_model::Credentials::Include
            } else {
                corsair_model::Credentials::SameOrigin
            },
            body: self.body.map(str::to_string),
            api: self.api,
            lna: corsair_model::request::LnaOptions {
                page_space: self
                    .public_page
                    .then_some(corsair_model::lna::AddressSpace::Public),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// The case named `name`.
pub fn find(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "http://localhost:5173";

    #[test]
    fn every_case_has_a_unique_name_and_is_found_by_it() {
        let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CASES.len(), "two cases share a name");
        for c in CASES {
            assert_eq!(find(c.name).map(|f| f.title), Some(c.title));
        }
        assert!(find("no-such-case").is_none());
    }

    #[test]
    fn every_fix_is_a_policy_that_validates_and_allows_the_page() {
        for c in CASES {
            let spec = policy_for(c, PAGE).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let (_, warnings) = spec.build().unwrap_or_else(|p| panic!("{}: {p:?}", c.name));
            assert!(
                warnings.is_empty(),
                "{}: a demo's fix should be clean: {warnings:?}",
                c.name
            );
        }
    }

    #[test]
    fn every_broken_answer_is_a_real_status() {
        for c in CASES {
            let ask = Ask {
                method: c.method,
                origin: Some(PAGE),
                page: PAGE,
                path: "/api/items",
            };
            let r = (c.broken)(&ask);
            assert!((100..600).contains(&r.status), "{}: {}", c.name, r.status);
        }
    }
}
