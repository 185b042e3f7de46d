//! What the audit finds in the answers: each class, its severity and its evidence.

use super::*;

#[test]
fn a_contains_check_is_one_substring_finding_that_implies_the_rest() {
    let s = subject();
    let f = allowing(&s, |o| o.contains("api.fleet.test"));
    assert_eq!(classes(&f), ["substring-bypass"], "{f:#?}");
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(
        f[0].probe.origin,
        "https://xapi.fleet.testx.corsair-attacker.example"
    );
    for implied in [
        Class::PrefixBypass,
        Class::SpecialCharBypass,
        Class::AnySubdomain,
        Class::PortIgnored,
        Class::HttpOriginTrusted,
    ] {
        assert!(
            f[0].implied.contains(&implied),
            "{implied:?}: {:?}",
            f[0].implied
        );
    }
    assert!(f[0]
        .also_allowed
        .contains(&"https://api.fleet.test.corsair-attacker.example".to_string()));
    // The site inside an attacker's host: the suffix probe is explained too.
    let f = allowing(&s, |o| o.contains("fleet.test"));
    assert_eq!(classes(&f), ["substring-bypass"], "{f:#?}");
    assert!(f[0].implied.contains(&Class::SuffixBypass));
    // A prefix check is not a substring one: its own root, implying special characters.
    let f = allowing(&s, |o| o.starts_with("https://api.fleet.test"));
    assert_eq!(classes(&f), ["prefix-bypass"], "{f:#?}");
    assert!(f[0].implied.contains(&Class::SpecialCharBypass));
    assert!(f[0].implied.contains(&Class::PortIgnored));
    // Corsy's pre-domain wildcard: a suffix check on the host, not the site, lets in only
    // names under the site (corsairattackerapi.fleet.test): a subdomain is needed.
    let f = allowing(&s, |o| o.ends_with("api.fleet.test"));
    assert_eq!(classes(&f), ["any-subdomain"], "{f:#?}");
    assert!(accepted(&f[0]).any(|o| o == "https://corsairattackerapi.fleet.test"));
    // A suffix check implies the subdomain and loose-dot probes it also accepts.
    let f = allowing(&s, |o| o.ends_with("fleet.test"));
    assert_eq!(classes(&f), ["suffix-bypass"], "{f:#?}");
    assert!(f[0].implied.contains(&Class::AnySubdomain));
    assert!(f[0].implied.contains(&Class::UnescapedDot));
}

#[test]
fn secrets_behind_a_wildcard_are_medium_with_field_names_only() {
    let s = subject();
    let body = r#"{"user":{"email":"alice@fleet.test","api_key":"k-123456abc"},"items":[]}"#;
    let f = answer_full(&s, |_| {
        (
            200,
            vec![("Access-Control-Allow-Origin", "*".into())],
            body.into(),
        )
    });
    assert_eq!(classes(&f), ["wildcard-sensitive"]);
    assert_eq!(f[0].severity, Severity::Medium);
    let fields: Vec<&str> = f[0].exposed.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["user.api_key", "user.email"]);
    let json = serde_json::to_string(&f[0]).unwrap();
    assert!(!json.contains("alice") && !json.contains("k-123"), "{json}");
    // The same wildcard on public data stays informational.
    let f = answer_full(&s, |_| {
        (
            200,
            vec![("Access-Control-Allow-Origin", "*".into())],
            r#"{"items":[1,2]}"#.into(),
        )
    });
    assert_eq!(classes(&f), ["wildcard-public"]);
}

#[test]
fn a_preflight_refused_by_authentication_is_low() {
    let s = subject();
    let with = |status: u16, www: bool| {
        answer_full(&s, move |p| {
            let mut h = vec![("Vary", "Origin".into())];
            if matches!(p.kind, ProbeKind::Preflight | ProbeKind::PreflightGet) {
                if www {
                    h.push(("WWW-Authenticate", "Bearer".into()));
                }
                return (status, h, String::new());
            }
            if p.origin == "https://api.fleet.test" {
                h.push(("Access-Control-Allow-Origin", p.origin.clone()));
            }
            (200, h, String::new())
        })
    };
    for (status, www) in [(401, false), (403, true), (403, false), (407, false)] {
        let f = with(status, www);
        assert_eq!(classes(&f), ["preflight-auth"], "{status} {www}");
        assert_eq!(f[0].severity, Severity::Low);
    }
    // Spring, S3 and others refuse a method they do not allow with 403 and no CORS headers:
    // the GET preflight is answered, so the 403 is the method's, not authentication's.
    let f = answer_full(&s, |p| {
        let mut h = vec![("Vary", "Origin".into())];
        if p.kind == ProbeKind::Preflight {
            return (403, h, String::new());
        }
        if p.origin == "https://api.fleet.test" {
            h.push(("Access-Control-Allow-Origin", p.origin.clone()));
        }
        (200, h, String::new())
    });
    assert_eq!(classes(&f), Vec::<&str>::new(), "{f:#?}");
    // A 403 to an origin the GET does not allow either is a CORS refusal, not auth.
    let f = answer_full(&s, |p| {
        let status = if p.kind == ProbeKind::Preflight {
            403
        } else {
            200
        };
        (status, vec![("Vary", "Origin".into())], String::new())
    });
    assert_eq!(classes(&f), Vec::<&str>::new());
}

#[test]
fn allow_origin_values_no_browser_accepts() {
    let s = subject();
    for (value, lines, why) in [
        (
            "https://api.fleet.test, https://app.fleet.test",
            1,
            "a list",
        ),
        ("https://api.fleet.test/", 1, "not an origin"),
        ("api.fleet.test", 1, "not an origin"),
        (
            "https://api.fleet.test",
            2,
            "2 Access-Control-Allow-Origin lines",
        ),
    ] {
        let f = answer(&s, |_| {
            let mut h = vec![("Vary", "Origin".into())];
            for _ in 0..lines {
                h.push(("Access-Control-Allow-Origin", value.to_string()));
            }
            h
        });
        let invalid: Vec<&Finding> = f
            .iter()
            .filter(|f| f.class == Class::InvalidAllowOrigin)
            .collect();
        assert_eq!(invalid.len(), 1, "{value}: {f:#?}");
        assert!(invalid[0].detail.contains(why), "{}", invalid[0].detail);
        assert_eq!(invalid[0].severity, Severity::Low);
    }
}

#[test]
fn a_fixed_allow_origin_on_shared_hosting_is_a_third_party_origin() {
    let s = subject();
    let f = answer(&s, |_| {
        vec![
            (
                "Access-Control-Allow-Origin",
                "https://fleet-docs.github.io".into(),
            ),
            ("Access-Control-Allow-Credentials", "true".into()),
            ("Vary", "Origin".into()),
        ]
    });
    assert_eq!(classes(&f), ["third-party-origin"], "{f:#?}");
    // One fixed name: only its holder reads; the finding asks to check it is yours.
    assert_eq!(f[0].severity, Severity::Low);
    assert!(
        f[0].fix.contains("https://fleet-docs.github.io"),
        "{}",
        f[0].fix
    );
    // The trusted origin itself on shared hosting is not a finding.
    let heroku = Subject::new("https://myapp.herokuapp.com/api", None, vec![]).unwrap();
    let f = answer(&heroku, |_| {
        vec![
            (
                "Access-Control-Allow-Origin",
                "https://myapp.herokuapp.com".into(),
            ),
            ("Access-Control-Allow-Credentials", "true".into()),
            ("Vary", "Origin".into()),
        ]
    });
    assert_eq!(classes(&f), Vec::<&str>::new(), "{f:#?}");
    // A fixed origin of the site's own is not.
    let f = answer(&s, |_| {
        vec![
            (
                "Access-Control-Allow-Origin",
                "https://app.fleet.test".into(),
            ),
            ("Vary", "Origin".into()),
        ]
    });
    assert_eq!(classes(&f), Vec::<&str>::new());
}

#[test]
fn the_private_network_opt_in_is_reported_as_dead_configuration() {
    let s = subject();
    let f = answer(&s, |p| {
        let mut h = vec![("Vary", "Origin".into())];
        if p.origin == "https://api.fleet.test" {
            h.push(("Access-Control-Allow-Origin", p.origin.clone()));
        }
        h.push(("Access-Control-Allow-Private-Network", "true".into()));
        h
    });
    assert_eq!(classes(&f), ["private-network-header"]);
    assert_eq!(f[0].severity, Severity::Info);
    assert!(
        f[0].detail.contains("no header grants it"),
        "{}",
        f[0].detail
    );
}

#[test]
fn an_exact_allowlist_gives_nothing() {
    let s = subject();
    let f = answer(&s, |p| {
        if p.origin == "https://api.fleet.test" {
            vec![
                ("Access-Control-Allow-Origin", p.origin.clone()),
                ("Access-Control-Allow-Credentials", "true".into()),
                ("Vary", "Origin".into()),
            ]
        } else {
            vec![("Vary", "Origin".into())]
        }
    });
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn reflection_is_one_high_finding_covering_the_mutations() {
    let s = subject();
    let f = answer(&s, |p| {
        vec![
            ("Access-Control-Allow-Origin", p.origin.clone()),
            ("Access-Control-Allow-Credentials", "true".into()),
            ("Vary", "Origin".into()),
        ]
    });
    assert_eq!(classes(&f), ["reflect-origin"]);
    assert_eq!(f[0].severity, Severity::High);
    assert!(f[0].also_allowed.contains(&"null".to_string()));
}

#[test]
fn a_suffix_check_is_found_once_and_a_regex_with_a_loose_dot_separately() {
    let s = subject();
    let suffix = answer(&s, |p| {
        if p.origin.ends_with("fleet.test") {
            vec![
                ("Access-Control-Allow-Origin", p.origin.clone()),
                ("Vary", "Origin".into()),
            ]
        } else {
            vec![]
        }
    });
    assert_eq!(classes(&suffix), ["suffix-bypass"]);
    assert_eq!(suffix[0].severity, Severity::Low, "no credentials");
    let re = regex::Regex::new(r"^https?://api.fleet.test$").unwrap();
    let dot = answer(&s, |p| {
        if re.is_match(&p.origin) {
            vec![
                ("Access-Control-Allow-Origin", p.origin.clone()),
                ("Access-Control-Allow-Credentials", "true".into()),
                ("Vary", "Origin".into()),
            ]
        } else {
            vec![]
        }
    });
    // `https?` is a second flaw of the same regex: the http twin is trusted too.
    assert_eq!(classes(&dot), ["unescaped-dot", "http-origin-trusted"]);
    assert_eq!(dot[0].severity, Severity::High);
}

#[test]
fn an_origin_no_browser_can_send_is_informational_and_the_worst_probe_is_shown() {
    let s = subject();
    let only = |accepted: &'static [&'static str]| {
        answer(&s, move |p| {
            if p.origin == "https://api.fleet.test"
                || accepted.iter().any(|c| {
                    p.origin == format!("https://api.fleet.test{c}.corsair-attacker.example")
                })
            {
                vec![
                    ("Access-Control-Allow-Origin", p.origin.clone()),
                    ("Access-Control-Allow-Credentials", "true".into()),
                    ("Vary", "Origin".into()),
                ]
            } else {
                vec![("Vary", "Origin".into())]
            }
        })
    };
    // '^' and '|' are forbidden in hosts: browsers cannot send these origins.
    let f = only(&["^", "|"]);
    assert_eq!(classes(&f), ["special-char-bypass"]);
    assert_eq!(f[0].severity, Severity::Info, "{:?}", f[0].detail);
    // With '~' too (probed after '^'), the finding is high and shows the '~' probe.
    let f = only(&["^", "~"]);
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(
        f[0].probe.origin,
        "https://api.fleet.test~.corsair-attacker.example"
    );
    assert!(f[0]
        .also_allowed
        .contains(&"https://api.fleet.test^.corsair-attacker.example".to_string()));
}

#[test]
fn wildcards_credentials_and_sensitivity() {
    let s = subject();
    let public = answer(&s, |_| vec![("Access-Control-Allow-Origin", "*".into())]);
    assert_eq!(classes(&public), ["wildcard-public"]);
    assert_eq!(public[0].severity, Severity::Info);
    let creds = answer(&s, |_| {
        vec![
            ("Access-Control-Allow-Origin", "*".into()),
            ("Access-Control-Allow-Credentials", "true".into()),
        ]
    });
    assert_eq!(classes(&creds), ["wildcard-credentials"]);
    // With the user's headers the answer is longer: user data behind *.
    let s = Subject::new(
        "http://api.fleet.test/me",
        None,
        vec![("Authorization".into(), "Bearer t".into())],
    )
    .unwrap();
    let sensitive = answer(&s, |p| {
        let len = if p.kind == ProbeKind::Anonymous {
            "2"
        } else {
            "40"
        };
        vec![
            ("Access-Control-Allow-Origin", "*".into()),
            ("Content-Length", len.into()),
        ]
    });
    assert_eq!(classes(&sensitive), ["wildcard-sensitive"]);
}

#[test]
fn preflights_and_vary() {
    let s = subject();
    let f = answer(&s, |p| {
        let mut h = vec![];
        if p.origin == "https://api.fleet.test" {
            h.push(("Access-Control-Allow-Origin", p.origin.clone()));
        }
        if p.kind == ProbeKind::PreflightReflect {
            h.push(("Access-Control-Allow-Methods", PROBE_METHOD.into()));
            h.push(("Access-Control-Allow-Headers", PROBE_HEADER.into()));
        }
        h
    });
    assert_eq!(classes(&f), ["preflight-reflect", "missing-vary"]);
}

#[test]
fn an_origin_echoed_on_two_lines_is_read_as_browsers_read_it_one_list_never_a_grant() {
    // Browsers join the lines ("o, o") and refuse the value: no page reads this response, so
    // it is no reflection, only a value no browser accepts. The first line alone said
    // reflect-origin.
    let s = subject();
    let f = answer(&s, |p| {
        vec![
            ("Access-Control-Allow-Origin", p.origin.clone()),
            ("Access-Control-Allow-Origin", p.origin.clone()),
            ("Access-Control-Allow-Credentials", "true".into()),
            ("Vary", "Origin".into()),
        ]
    });
    assert_eq!(classes(&f), ["invalid-allow-origin"], "{f:#?}");
}

#[test]
fn errors_without_cors_headers_are_found_on_the_error_path_only() {
    let s = subject();
    assert_eq!(
        s.error_url().as_str(),
        "http://api.fleet.test:8080/me/corsair-audit-no-such-path"
    );
    let error_probe = probes(&s)
        .into_iter()
        .find(|p| p.kind == ProbeKind::ErrorPath)
        .unwrap();
    let out = error_probe.request(&s);
    assert_eq!(
        (out.method.as_str(), out.url.clone()),
        ("GET", s.error_url())
    );
    let grant = |p: &Probe| {
        if p.origin == s.trusted {
            vec![
                ("Access-Control-Allow-Origin", p.origin.clone()),
                ("Vary", "Origin".into()),
            ]
        } else {
            vec![("Vary", "Origin".into())]
        }
    };
    // CORS on success only: the 404 has no header.
    let f = answer_full(&s, |p| match p.kind {
        ProbeKind::ErrorPath => (404, vec![], "Not Found".into()),
        _ => (200, grant(p), String::new()),
    });
    assert_eq!(classes(&f), ["errors-without-cors"], "{f:#?}");
    assert_eq!(f[0].severity, Severity::Low);
    assert!(f[0].detail.contains("answers 404"), "{}", f[0].detail);
    // The same 404 with the headers, or an endpoint that grants nothing: nothing to report.
    let f = answer_full(&s, |p| match p.kind {
        ProbeKind::ErrorPath => (404, grant(p), String::new()),
        _ => (200, grant(p), String::new()),
    });
    assert!(classes(&f).is_empty(), "{f:#?}");
    let f = answer_full(&s, |p| match p.kind {
        ProbeKind::ErrorPath => (404, vec![], String::new()),
        _ => (200, vec![], String::new()),
    });
    assert!(classes(&f).is_empty(), "{f:#?}");
}
