//! The closed loop, over generated policies and requests: for every policy that validates and
//! every request a page can make, corsair-core's browser model (Chromium, Firefox, Safari) must
//! allow exactly what the policy's decisions allow, and by the Fetch standard, not by an engine's
//! leniency (see `corsair_policy::proof`).

use corsair_model::{Credentials, RequestSpec};
use corsair_policy::{proof, PolicySpec};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

const ORIGINS: &[&str] = &[
    "*",
    "https://app.example",
    "https://*.example.com",
    "https://*.example.com:*",
    "http://localhost:*",
    "http://127.0.0.1:5173",
    "https://other.example:8443",
    "http://*.localhost:*",
];
const REGEXES: &[&str] = &[
    r"https://([a-z0-9-]+\.)*corp\.example",
    r"https://(a|b)\.example\.org(:[0-9]+)?",
];
const METHODS: &[&str] = &["*", "GET", "PUT", "DELETE", "PATCH", "patch", "X-CUSTOM"];
const HEADERS: &[&str] = &["*", "Authorization", "Content-Type", "X-Token", "x-a"];
const EXPOSE: &[&str] = &["*", "X-Total-Count", "ETag"];

const PAGES: &[&str] = &[
    "https://app.example",
    "https://a.example.com",
    "https://a.b.example.com:8443",
    "https://example.com",
    "http://localhost:3000",
    "http://127.0.0.1:5173",
    "https://evil.example",
    "http://app.localhost:8080",
    "https://x.corp.example",
    "https://a.example.org:444",
    "https://other.example:8443",
    "null",
];
const REQUEST_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "patch", "X-CUSTOM",
];
const REQUEST_HEADERS: &[(&str, &str)] = &[
    ("Content-Type", "application/json"),
    ("Content-Type", "text/plain"),
    ("Authorization", "Bearer x"),
    ("X-Token", "1"),
    ("X-A", "2"),
    ("Accept", "*/*"),
];

fn owned(v: Vec<&str>) -> Vec<String> {
    v.into_iter().map(String::from).collect()
}

fn policy() -> impl Strategy<Value = PolicySpec> {
    (
        subsequence(ORIGINS, 0..=3),
        subsequence(REGEXES, 0..=1),
        subsequence(METHODS, 0..=3),
        subsequence(HEADERS, 0..=3),
        subsequence(EXPOSE, 0..=2),
        any::<bool>(),
        prop_oneof![Just(None), Just(Some(0i64)), Just(Some(600))],
    )
        .prop_map(|(o, r, m, h, e, credentials, max_age)| PolicySpec {
            origins: owned(o),
            origin_regex: owned(r),
            methods: owned(m),
            request_headers: owned(h),
            expose_headers: owned(e),
            credentials,
            max_age,
            ..Default::default()
        })
}

fn request() -> impl Strategy<Value = RequestSpec> {
    (
        select(PAGES),
        select(REQUEST_METHODS),
        subsequence(REQUEST_HEADERS, 0..=3),
        select(
            &[
                Credentials::Omit,
                Credentials::SameOrigin,
                Credentials::Include,
            ][..],
        ),
    )
        .prop_map(|(origin, method, headers, credentials)| {
            let mut seen = Vec::new();
            let headers = headers
                .into_iter()
                .filter(|(n, _)| {
                    let fresh = !seen.contains(n);
                    seen.push(*n);
                    fresh
                })
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            RequestSpec {
                url: "https://api.example.test/items".into(),
                origin: origin.into(),
                method: method.into(),
                headers,
                credentials,
                ..Default::default()
            }
        })
}

proptest! {
    // No regression file is written: a failure prints the shrunk case, to become a unit test.
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_browser_model_allows_exactly_what_the_policy_allows(
        spec in policy(),
        requests in proptest::collection::vec(request(), 1..=8),
    ) {
        let Ok((policy, _warnings)) = spec.build() else {
            return Ok(());
        };
        for req in &requests {
            if let Err(d) = proof::run_all(&policy, req) {
                return Err(TestCaseError::fail(format!("{spec:?}\n{req:?}\n{d}")));
            }
        }
    }
}

/// The loop also covers the policies people write most, request by request, so a failure
/// names the case without shrinking.
#[test]
fn common_policies_agree_on_every_request_in_the_grid() {
    let policies = [
        PolicySpec {
            origins: owned(vec!["*"]),
            methods: owned(vec!["*"]),
            request_headers: owned(vec!["*"]),
            ..Default::default()
        },
        PolicySpec {
            origins: owned(vec!["*"]),
            request_headers: owned(vec!["Authorization", "*"]),
            ..Default::default()
        },
        PolicySpec {
            origins: owned(vec!["https://app.example", "http://localhost:*"]),
            methods: owned(vec!["GET", "POST", "PUT", "DELETE"]),
            request_headers: owned(vec!["Content-Type", "Authorization"]),
            credentials: true,
            max_age: Some(600),
            ..Default::default()
        },
    ];
    let mut checked = 0;
    for spec in &policies {
        let policy = spec.build().unwrap().0;
        for page in PAGES {
            for method in REQUEST_METHODS {
                for header in REQUEST_HEADERS {
                    for credentials in [Credentials::Omit, Credentials::Include] {
                        let req = RequestSpec {
                            url: "https://api.example.test/items".into(),
                            origin: page.to_string(),
                            method: method.to_string(),
                            headers: vec![(header.0.into(), header.1.into())],
                            credentials,
                            ..Default::default()
                        };
                        if let Err(d) = proof::run_all(&policy, &req) {
                            panic!("{spec:?}\n{req:?}\n{d}");
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}
