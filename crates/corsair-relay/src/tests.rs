//! Unit tests of the relay rules.

use super::*;

fn relay(toml_text: &str) -> Result<(Relay, Vec<Lint>), Vec<Lint>> {
    let spec: RelaySpec = toml::from_str(toml_text).unwrap();
    build(&spec, &|k| {
        (k == "TOKEN").then(|| "s3cret-token".to_string())
    })
}

#[test]
fn the_guard_reads_addresses_not_text() {
    let no = |s: &str| forbidden_range(s.parse().unwrap());
    for ip in [
        "127.0.0.1",
        "127.9.9.9",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.255",
        "0.0.0.0",
        "0.1.2.3",
        "224.0.0.1",
        "239.255.255.250",
        "255.255.255.255",
        "240.0.0.1",
        "192.0.2.5",
        "198.51.100.7",
        "203.0.113.9",
        "198.18.0.1",
        "192.0.0.8",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::7f00:1",
        "64:ff9b:1::1",
        "2002:7f00:1::1",
        "2002:a9fe:a9fe::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "2001:0:4136:e378::1",
        "100::1",
        "::127.0.0.1",
    ] {
        assert!(no(ip).is_some(), "{ip} must be refused");
    }
    for ip in [
        "8.8.8.8",
        "1.1.1.1",
        "172.32.0.1",
        "100.128.0.1",
        "192.169.0.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        assert_eq!(no(ip), None, "{ip} is public");
    }
    assert_eq!(
        no("169.254.169.254"),
        Some("169.254.0.0/16 (link-local, cloud metadata)")
    );
}

#[test]
fn targets_match_by_parsed_host_scheme_and_port() {
    let t = AllowedTarget::parse("https://*.partner.example").unwrap();
    let u = |s: &str| Url::parse(s).unwrap();
    assert!(t.matches(&u("https://a.partner.example/x")));
    assert!(t.matches(&u("https://b.a.partner.example/")));
    assert!(
        !t.matches(&u("https://partner.example/")),
        "the domain itself is not under it"
    );
    assert!(!t.matches(&u("https://partner.example.evil.net/")));
    assert!(!t.matches(&u("https://evilpartner.example/")));
    assert!(!t.matches(&u("http://a.partner.example/")), "scheme");
    assert!(!t.matches(&u("https://a.partner.example:8443/")), "port");
    let t = AllowedTarget::parse("https://api.example.com").unwrap();
    assert!(t.matches(&u("https://api.example.com:443/v1?q=1")));
    assert!(!t.matches(&u("https://api.example.com.evil.net/")));
    assert!(!t.matches(&u("https://xapi.example.com/")));
    let e = AllowedTarget::parse("api.example.com").unwrap_err();
    assert!(matches!(e, TargetError::NoScheme(_)));
    assert!(e
        .to_string()
        .contains("did you mean 'https://api.example.com'"));
    let e = AllowedTarget::parse("https://api.example.com/v1").unwrap_err();
    assert_eq!(
        e,
        TargetError::Path(
            "https://api.example.com/v1".into(),
            "https://api.example.com".into()
        )
    );
    assert!(e.to_string().contains("has a path"));
    let e = AllowedTarget::parse("https://*.com").unwrap_err();
    assert!(matches!(e, TargetError::PublicSuffix(_)), "{e}");
    assert!(matches!(Rate::parse("0/minute"), Err(RateError::Zero(_))));
    assert!(AllowedTarget::parse("ftp://x.example").is_err());
}

#[test]
fn targets_are_read_from_the_path() {
    let t = target_of("/https://api.example.com/items?q=1").unwrap();
    assert_eq!(t.as_str(), "https://api.example.com/items?q=1");
    assert_eq!(
        target_of("/https:/api.example.com/x").unwrap().as_str(),
        "https://api.example.com/x"
    );
    assert!(matches!(target_of("/"), Err(Refusal::NoTarget { .. })));
    assert!(matches!(
        target_of("/api.example.com/x"),
        Err(Refusal::BadTarget { .. })
    ));
    assert!(matches!(
        target_of("/file:///etc/passwd"),
        Err(Refusal::BadTarget { .. })
    ));
    assert!(matches!(
        target_of("/https://u:p@api.example.com/"),
        Err(Refusal::BadTarget { .. })
    ));
    // Found by the relay fuzz target: a literal '*' host would read back as a wildcard.
    assert!(matches!(
        target_of("/https://*.api.example.com/"),
        Err(Refusal::BadTarget { .. })
    ));
}

#[test]
fn the_lint_refuses_open_relays_and_spendable_secrets() {
    let e = relay("origins = [\"https://app.example.com\"]\ntargets = [\"*\"]\n").unwrap_err();
    assert!(e[0].message.contains("open relay"), "{e:?}");
    assert!(relay(
        "origins = [\"https://app.example.com\"]\ntargets = \
        [\"*\"]\ndangerously_open_relay = true\n"
    )
    .is_ok());
    let e = relay(
        "origins = [\"*\"]\ntargets = [\"https://api.example.com\"]\n[[inject]]\ntarget \
        = \"https://api.example.com\"\nheader = \"Authorization\"\nvalue_env = \"TOKEN\"\n",
    )
    .unwrap_err();
    assert!(
        e.iter()
            .any(|l| l.message.contains("any web page can spend")),
        "{e:?}"
    );
    let e = relay(
        "origins = [\"https://app.example.com\"]\ntargets = \
        [\"https://api.example.com\"]\n[[inject]]\ntarget = \"https://api.example.com\"\nheader \
        = \"Authorization\"\nvalue_env = \"MISSING\"\n",
    )
    .unwrap_err();
    assert!(
        e.iter().any(|l| l.message.contains("$MISSING is not set")),
        "{e:?}"
    );
    let e = relay(
        "origins = [\"app.example.com\"]\ntargets = \
        [\"https://api.example.com\"]\nrate_limit = \"fast\"\n",
    )
    .unwrap_err();
    assert!(e.iter().any(|l| l.key.starts_with("origins")), "{e:?}");
    assert!(e.iter().any(|l| l.key == "rate_limit"), "{e:?}");
    // An exemption that no target names exempts nothing: an error with the fix.
    let e = relay("origins = [\"https://app.example.com\"]\ntargets = \
        [\"https://api.internal:8443\"]\nallow_private = [\"10.0.0.5:8443\", \"api.internal:443\"]\n").unwrap_err();
    let dead: Vec<&str> = e
        .iter()
        .filter(|l| l.message.contains("matches no target"))
        .map(|l| l.key.as_str())
        .collect();
    assert_eq!(dead, ["allow_private[0]", "allow_private[1]"], "{e:?}");
    assert!(e[0].fix.contains("https://api.internal:8443"), "{e:?}");
    assert!(relay("origins = [\"https://app.example.com\"]\ntargets = \
        [\"https://api.internal:8443\", \"http://[::1]:9000\", \"https://*.corp.test\"]\nallow_private \
        = [\"api.internal:8443\", \"[::1]:9000\", \"db.corp.test:443\"]\n").is_ok());
    let (r, _) = relay(
        "origins = [\"https://app.example.com\"]\ntargets = \
        [\"https://api.example.com\", \"http://localhost:8080\"]\nallow_private = \
        [\"localhost:8080\"]\n[[inject]]\ntarget = \"https://api.example.com\"\nheader \
        = \"X-RequestApi-Key\"\nvalue_env = \"TOKEN\"\n",
    )
    .unwrap();
    let u = Url::parse("https://api.example.com/x").unwrap();
    assert_eq!(
        r.injected(&u).collect::<Vec<_>>(),
        [("X-RequestApi-Key", "s3cret-token")]
    );
    assert!(r.echoes_secret(b"Bearer s3cret-token"));
    assert!(
        r.policy.allows_origin("https://app.example.com")
            && !r.policy.allows_origin("https://evil.example")
    );
    // allow_private lifts the guard for that host and port only.
    let local = Url::parse("http://localhost:8080/").unwrap();
    assert!(r
        .check_address(&local, "127.0.0.1".parse().unwrap())
        .is_ok());
    let other = Url::parse("http://localhost:8081/").unwrap();
    assert!(matches!(
        r.check_address(&other, "127.0.0.1".parse().unwrap()),
        Err(Refusal::PrivateAddress { .. })
    ));
}

#[test]
fn the_limiter_counts_per_key_and_window() {
    let mut l = Limiter::new(Rate::parse("2/second").unwrap());
    assert_eq!(l.hit("a", 0), Ok(1));
    assert_eq!(l.hit("a", 10), Ok(0));
    assert_eq!(l.hit("a", 400), Err(600));
    assert_eq!(l.hit("b", 400), Ok(1));
    assert_eq!(l.hit("a", 1000), Ok(1));
    l.sweep(2500);
    assert!(l.is_empty());
    assert_eq!(
        Rate::parse("120/minute").unwrap(),
        Rate {
            count: 120,
            per_ms: 60_000
        }
    );
    assert!(Rate::parse("0/minute").is_err() && Rate::parse("12 per minute").is_err());
}

#[test]
fn headers_cross_as_a_cors_proxy_needs() {
    for h in [
        "Cookie",
        "Origin",
        "Referer",
        "Host",
        "Connection",
        "Sec-Fetch-Mode",
        "Access-Control-Request-Method",
        "X-Forwarded-For",
        "X-Real-IP",
        "True-Client-IP",
    ] {
        assert!(!forwards_request_header(h), "{h}");
    }
    for h in [
        "Authorization",
        "Content-Type",
        "Accept",
        "X-RequestApi-Version",
    ] {
        assert!(forwards_request_header(h), "{h}");
    }
    for h in [
        "Set-Cookie",
        "Access-Control-Allow-Origin",
        "Transfer-Encoding",
        "Clear-Site-Data",
        "Strict-Transport-Security",
        "Report-To",
        "NEL",
        "Alt-Svc",
    ] {
        assert!(!forwards_response_header(h), "{h}");
    }
    assert!(forwards_response_header("Content-Type") && forwards_response_header("ETag"));
    // The upstream's Vary goes on (the proxy adds Origin to it): a cache must not reuse an
    // answer across the headers it depends on.
    assert!(forwards_response_header("Vary"));
}
