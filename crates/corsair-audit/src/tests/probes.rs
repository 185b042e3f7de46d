//! The probes: their origins, relations and requests, the trusted origin, refused targets.

use super::*;

/// Each probe's relation, set where it is built, is what its host says when read back as
/// text (the oracle here; the audit itself never reads it back).
#[test]
fn each_probes_relation_matches_its_host() {
    use crate::host::Host;
    // A host as the labels a server's check on the Origin text sees: a name's labels, an
    // IPv4 address's four numbers.
    fn labels(h: &Host) -> Vec<String> {
        match h {
            Host::Domain(d) => d.labels().map(str::to_string).collect(),
            Host::Ipv4(a) => a.octets().iter().map(u8::to_string).collect(),
            Host::Ipv6(_) => vec![h.to_string()],
        }
    }
    // Whether the labels `h` stand at label `i` of `p`, the first fused with characters on
    // its left and the last with characters on its right (`xapi.fleet.testx` holds
    // `api.fleet.test` at 0): how a name appears inside another's text.
    fn at(p: &[String], i: usize, h: &[String]) -> bool {
        let n = h.len();
        if i + n > p.len() {
            return false;
        }
        if n == 1 {
            return p[i].contains(h[0].as_str());
        }
        p[i].ends_with(h[0].as_str())
            && p[i + 1..i + n - 1] == h[1..n - 1]
            && p[i + n - 1].starts_with(h[n - 1].as_str())
    }
    let holds = |p: &[String], h: &[String]| (0..p.len()).any(|i| at(p, i, h));
    // `h` at the very start of `p`: its first label whole, unless it is the only one.
    let starts = |p: &[String], h: &[String]| {
        at(p, 0, h) && (h.len() == 1 && p[0].starts_with(h[0].as_str()) || p[0] == h[0])
    };
    // `h` at the very end of `p`: its last label whole, unless it is the only one.
    let ends = |p: &[String], h: &[String]| {
        let (n, m) = (h.len(), p.len());
        m >= n
            && at(p, m - n, h)
            && (n == 1 && p[m - 1].ends_with(h[0].as_str()) || p[m - 1] == h[n - 1])
    };
    // The oracle itself, on hosts spelled out label by label.
    let v = |l: &[&str]| l.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let (h, st) = (v(&["api", "fleet", "test"]), v(&["fleet", "test"]));
    assert!(starts(
        &v(&["api", "fleet", "testcorsair-attacker", "example"]),
        &h
    ));
    assert!(!starts(&v(&["xapi", "fleet", "testx", "attacker"]), &h));
    assert!(holds(&v(&["xapi", "fleet", "testx", "attacker"]), &h));
    assert!(!holds(&v(&["api", "fleetx", "test"]), &h));
    assert!(ends(&v(&["attackerfleet", "test"]), &st));
    assert!(!ends(&v(&["fleet", "test", "attacker"]), &st));
    assert!(holds(&h, &v(&["pi", "fleet", "tes"])));
    for url in [
        "https://api.fleet.test/me",
        "https://fleet.test/me",
        "https://a.b.fleet.co.uk/",
        "http://127.0.0.1:8080/",
    ] {
        let s = Subject::new(url, None, vec![]).unwrap();
        let trusted = Host::parse(&s.host).unwrap();
        let site = match &s.site {
            Some(site) => Host::parse(site).unwrap(),
            None => trusted.clone(),
        };
        let (h, st) = (labels(&trusted), labels(&site));
        for p in probes(&s).iter().filter(|p| p.kind == ProbeKind::Origin) {
            let o = &p.origin;
            let host = corsair_model::origin::Origin::parse_lenient(o)
                .ok()
                .and_then(|parsed| parsed.tuple().map(|t| t.host.clone()))
                .map(|h| Host::parse(&h).unwrap_or_else(|e| panic!("{o}: {e}")));
            let ph = match &host {
                Some(host) => labels(host),
                // No URL parser takes the host (`api.fleet.test^.attacker`: a character
                // no browser sends, only a scanner): its labels are what a server's check
                // on the header text splits at the dots.
                None => match o.split_once("://") {
                    Some((_, authority)) => authority
                        .rsplit_once(':')
                        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
                        .map_or(authority, |(name, _)| name)
                        .split('.')
                        .map(str::to_string)
                        .collect(),
                    // `null` and the like: no host to stand in any relation.
                    None => {
                        assert_eq!(p.relation, Relation::NONE, "{o}");
                        continue;
                    }
                },
            };
            let r = p.relation;
            assert_eq!(r.is_host, host.as_ref() == Some(&trusted), "{o}");
            assert_eq!(r.contains_host, holds(&ph, &h), "{o}");
            assert_eq!(r.contains_site, holds(&ph, &st), "{o}");
            assert_eq!(r.starts_with_host, starts(&ph, &h), "{o}");
            assert_eq!(r.ends_with_site, ends(&ph, &st), "{o}");
            assert_eq!(r.part_of_host, holds(&h, &ph), "{o}");
            let within = match &host {
                Some(host) => {
                    host == &site
                        || matches!((host.domain(), site.domain()), (Some(a), Some(b)) if a.is_within(b))
                }
                None => false,
            };
            assert_eq!(r.within_site, within, "{o}");
        }
    }
}

#[test]
fn the_http_twin_of_the_front_end_is_probed_whatever_the_targets_scheme() {
    for url in ["http://api.fleet.test/me", "https://api.fleet.test/me"] {
        let s = Subject::new(url, None, vec![]).unwrap();
        let f = allowing(&s, |o| o == "http://api.fleet.test");
        assert_eq!(classes(&f), ["http-origin-trusted"], "{url}");
        assert_eq!(f[0].severity, Severity::Medium);
    }
    // A front end that is itself http has no https twin to protect.
    let s = Subject::new(
        "http://api.fleet.test/me",
        Some("http://app.fleet.test"),
        vec![],
    )
    .unwrap();
    assert!(!probes(&s)
        .iter()
        .any(|p| p.class == Some(Class::HttpOriginTrusted)));
}

#[test]
fn peers_probes_localhost_backtick_and_label_characters() {
    let s = subject();
    let f = allowing(&s, |o| {
        o.starts_with("https://localhost") || o.starts_with("http://localhost")
    });
    assert_eq!(classes(&f), ["localhost-bypass"]);
    assert_eq!(f[0].severity, Severity::High);
    // Corsy's broken parser: %60 decoded and echoed as a backtick.
    let f = answer(&s, |p| {
        let mut h = vec![("Vary", "Origin".into())];
        if p.origin == s.trusted {
            h.push(("Access-Control-Allow-Origin", p.origin.clone()));
        } else if p.origin.contains("%60") {
            h.push(("Access-Control-Allow-Origin", p.origin.replace("%60", "`")));
        }
        h
    });
    assert_eq!(classes(&f), ["special-char-bypass"]);
    assert!(f[0].detail.contains("decoded %60"), "{}", f[0].detail);
    // nuclei's label characters.
    let f = allowing(&s, |o| {
        o == "https://api.fleet.test.$.corsair-attacker.example"
    });
    assert_eq!(classes(&f), ["special-char-bypass"]);
    assert!(probes(&s)
        .iter()
        .any(|p| p.origin == "https://apixfleetxtest"));
}

#[test]
fn the_trusted_origin_is_inferred_and_the_probes_are_fixed() {
    let s = subject();
    assert_eq!(s.trusted, "https://api.fleet.test");
    assert_eq!(s.site.as_deref(), Some("fleet.test"));
    let p = probes(&s);
    assert_eq!(p[0].origin, "https://api.fleet.test");
    assert_eq!(p, probes(&s), "deterministic");
    let origins: Vec<&str> = p.iter().map(|p| p.origin.as_str()).collect();
    for o in [
        "https://corsair-attacker.example",
        "null",
        "https://api.fleet.test.corsair-attacker.example",
        "https://corsairattackerfleet.test",
        "https://leet.test",
        "https://apixfleet.test",
        "https://api.fleetxtest",
        "https://api.fleet.test_.corsair-attacker.example",
        "https://corsair-attacker.api.fleet.test",
        "https://api.fleet.test:8443",
    ] {
        assert!(origins.contains(&o), "{o} missing from {origins:?}");
    }
    // http-origin-trusted follows the trusted origin (https), not the target's scheme.
    assert!(origins.contains(&"http://api.fleet.test"));
}

#[test]
fn bad_targets_are_refused_with_the_reason() {
    let err = Subject::new("api.example.com", None, vec![]).unwrap_err();
    assert!(matches!(err, SubjectError::NotUrl { .. }), "{err:?}");
    assert!(err.to_string().contains("not a URL"), "{err}");
    assert_eq!(
        Subject::new("ftp://x.example", None, vec![]).unwrap_err(),
        SubjectError::NotHttp("ftp://x.example/".into())
    );
    assert_eq!(
        Subject::new("https://x.example", Some("null"), vec![]).unwrap_err(),
        SubjectError::NullOrigin
    );
    let ip = Subject::new("http://127.0.0.1:8080/", None, vec![]).unwrap();
    assert!(ip.site.is_none());
    assert!(probes(&ip).len() > 20);
}

/// Local Network Access makes Chromium differ from the other engines on a local target.
#[test]
fn engines_differ_on_local_targets_only() {
    let reach = |t, same| {
        engine_reach(t, same)
            .into_iter()
            .map(|e| (e.browser.name(), e.direct))
            .collect::<Vec<_>>()
    };
    let all = vec![("chromium", true), ("firefox", true), ("safari", true)];
    assert_eq!(reach(Some(AddressSpace::Public), false), all);
    assert_eq!(reach(None, false), all);
    assert_eq!(
        reach(Some(AddressSpace::Local), false),
        [("chromium", false), ("firefox", false), ("safari", true)]
    );
    // Another service on the same loopback host is in the target's space: no gate.
    assert_eq!(reach(Some(AddressSpace::Loopback), true), all);
    let s = subject();
    let mut local = s.clone();
    local.target_space = Some(AddressSpace::Local);
    let reflect = |sub: &Subject| {
        answer(sub, |p| {
            vec![("Access-Control-Allow-Origin", p.origin.clone())]
        })
    };
    assert!(reflect(&local)[0].engines_differ());
    assert!(!reflect(&s)[0].engines_differ());
    assert!(reflect(&local)
        .iter()
        .filter(|f| f.class == Class::MissingVary)
        .all(|f| f.engines.is_empty()));
}
