//! Unit tests of lna.

use super::*;

#[test]
fn firefox_lines_are_read_back() {
    let r = refusal(
        "Local Network Access permission required: top-level site \
        “http://127.0.0.1:8000/”, initiator “http://127.0.0.1:8000/”, attempting to access target \
        “http://127.0.0.1:9000/f/r” (127.0.0.1:9000) via fetch. Secure context: True",
    )
    .unwrap();
    assert_eq!(
        (r.browser, r.kind, r.space),
        (
            Browser::Firefox,
            RefusalKind::PermissionPending,
            AddressSpace::Loopback
        )
    );
    assert_eq!(r.origin.as_deref(), Some("http://127.0.0.1:8000"));
    assert_eq!(r.url.as_deref(), Some("http://127.0.0.1:9000/f/r"));
    let r = refusal(
        "Local Network Access detected: top-level site “https://app.example/”, \
        initiator “https://app.example/”, accessing target “http://192.168.1.4/x” (192.168.1.4:80) \
        via xhr. Secure context: True, prompt action: auto_deny",
    )
    .unwrap();
    assert_eq!(
        (r.kind, r.space),
        (RefusalKind::PermissionDenied, AddressSpace::Local)
    );
    assert!(refusal(
        "Local Network Access detected: top-level site “https://app.example/”, \
        initiator “https://app.example/”, accessing target “http://192.168.1.4/x” (192.168.1.4:80) \
        via xhr. Secure context: True, prompt action: auto_allow"
    )
    .is_none());
}

#[test]
fn addresses_fall_in_chromiums_spaces() {
    let space = |s: &str| AddressSpace::of_ip(s.parse().unwrap());
    for (ip, want) in [
        ("127.0.0.1", AddressSpace::Loopback),
        ("127.255.0.9", AddressSpace::Loopback),
        ("::1", AddressSpace::Loopback),
        ("::ffff:127.0.0.1", AddressSpace::Loopback),
        ("10.1.2.3", AddressSpace::Local),
        ("172.16.0.1", AddressSpace::Local),
        ("172.31.255.255", AddressSpace::Local),
        ("192.168.1.10", AddressSpace::Local),
        ("169.254.169.254", AddressSpace::Local),
        ("100.92.215.42", AddressSpace::Local),
        ("::ffff:192.168.0.1", AddressSpace::Local),
        ("fd12:3456::1", AddressSpace::Local),
        ("fe80::1", AddressSpace::Local),
        ("172.32.0.1", AddressSpace::Public),
        ("100.128.0.1", AddressSpace::Public),
        ("8.8.8.8", AddressSpace::Public),
        ("2001:4860:4860::8888", AddressSpace::Public),
    ] {
        assert_eq!(space(ip), want, "{ip}");
    }
    assert!(
        AddressSpace::Loopback < AddressSpace::Local && AddressSpace::Local < AddressSpace::Public
    );
}

#[test]
fn refusals_are_read_with_their_space_destination_url_and_origin() {
    let r = refusal(
        "Access to fetch at 'http://127.0.0.1:8080/x' from origin \
        'https://app.example.com' has been blocked by CORS policy: Permission was denied for this \
        request to access the `loopback` address space.",
    )
    .unwrap();
    assert_eq!(r.space, AddressSpace::Loopback);
    assert_eq!(r.destination.as_deref(), Some("fetch"));
    assert_eq!(r.url.as_deref(), Some("http://127.0.0.1:8080/x"));
    assert_eq!(r.origin.as_deref(), Some("https://app.example.com"));
    assert!(r.cause.contains("never reached the server"));
    assert!(r
        .fixes
        .iter()
        .all(|f| !f.contains("Access-Control-Allow-Origin")));
    let r = refusal(
        "Access to script at 'https://analytics.example/sdk.js' from origin \
        'https://site.example' has been blocked by CORS policy: Permission was denied for this \
        request to access the `local` address space.",
    )
    .unwrap();
    assert_eq!(
        (r.space, r.destination.as_deref()),
        (AddressSpace::Local, Some("script"))
    );
    // Quotes eaten by a shell, the bare reason, an unknown space.
    let r = refusal(
        "Access to fetch at http://localhost:8000/api from origin https://sora.example \
        has been blocked by CORS policy: Permission was denied for this request to access the \
        unknown address space.",
    )
    .unwrap();
    assert_eq!(r.space, AddressSpace::Unknown);
    assert!(r.fixes[0].contains("proxy"));
    let r =
        refusal("Permission was denied for this request to access the 'loopback' address space")
            .unwrap();
    assert_eq!((r.url, r.origin), (None, None));
    assert_eq!(
        refusal("No 'Access-Control-Allow-Origin' header is present"),
        None
    );
}

fn ctx(page: AddressSpace, secure: bool, p: Permission, tas: Option<AddressSpace>) -> Context {
    Context {
        page_space: page,
        secure_context: secure,
        permissions: Permissions::both(p),
        target_address_space: tas,
    }
}

#[test]
fn the_decision_follows_chromium_156s_order() {
    use AddressSpace::*;
    use Permission::*;
    // Public to more private: the permission decides, in a secure context.
    assert_eq!(check(&ctx(Public, true, Granted, None), Loopback), Ok(true));
    assert_eq!(
        check(&ctx(Public, true, Prompt, None), Local),
        Err(Blocked::PermissionDenied {
            space: Local,
            undecided: true
        })
    );
    assert_eq!(
        check(&ctx(Public, true, Denied, None), Loopback),
        Err(Blocked::PermissionDenied {
            space: Loopback,
            undecided: false
        })
    );
    // Not a secure context: refused whatever the permission.
    assert_eq!(
        check(&ctx(Public, false, Granted, None), Local),
        Err(Blocked::InsecureContext { space: Local })
    );
    // No more private: no check. A local page reaches loopback unasked in Chromium 156.
    for (page, target) in [
        (Public, Public),
        (Local, Local),
        (Local, Loopback),
        (Loopback, Public),
        (Local, Public),
    ] {
        assert_eq!(
            check(&ctx(page, false, Denied, None), target),
            Ok(false),
            "{page:?} {target:?}"
        );
    }
    // targetAddressSpace is checked first, for every page.
    assert_eq!(
        check(&ctx(Loopback, true, Granted, Some(Local)), Public),
        Err(Blocked::TargetSpaceMismatch {
            declared: Local,
            actual: Public
        })
    );
    assert_eq!(
        check(&ctx(Public, false, Prompt, Some(Local)), Loopback),
        Err(Blocked::TargetSpaceMismatch {
            declared: Local,
            actual: Loopback
        })
    );
    assert_eq!(
        check(&ctx(Public, true, Granted, Some(Local)), Local),
        Ok(true)
    );
    // Per-space permissions.
    let mut c = ctx(Public, true, Denied, None);
    c.permissions.loopback = Granted;
    assert_eq!(check(&c, Loopback), Ok(true));
    assert!(check(&c, Local).is_err());
}

#[test]
fn page_spaces_come_from_parsed_hosts() {
    let of = |o: &str| AddressSpace::of_origin(&crate::Origin::parse_lenient(o).unwrap());
    assert_eq!(of("http://127.0.0.1:3000"), AddressSpace::Loopback);
    assert_eq!(of("http://localhost:3000"), AddressSpace::Loopback);
    assert_eq!(of("http://app.localhost"), AddressSpace::Loopback);
    assert_eq!(of("http://192.168.1.4"), AddressSpace::Local);
    assert_eq!(of("http://[::1]:8080"), AddressSpace::Loopback);
    assert_eq!(of("https://app.example.com"), AddressSpace::Public);
    // A name that starts like an address is a name.
    assert_eq!(of("http://127.attacker.example"), AddressSpace::Public);
    assert!("private"
        .parse::<AddressSpace>()
        .unwrap_err()
        .contains("local"));
}

#[test]
fn every_wording_is_read_with_its_era() {
    let r = refusal(
        "Access to fetch at 'http://127.0.0.1:7717/health' from origin \
        'https://app.fullsite.mx' has been blocked by CORS policy: Request had a target IP address \
        space of `local` yet the resource is in address space `loopback`.",
    )
    .unwrap();
    assert_eq!(
        (r.kind, r.declared, r.space, r.legacy),
        (
            RefusalKind::TargetSpaceMismatch,
            Some(AddressSpace::Local),
            AddressSpace::Loopback,
            false
        )
    );
    assert!(r.fixes[0].contains("\"loopback\""));
    let r = refusal(
        "Access to fetch at 'http://10.0.0.2/x' from origin 'http://app.test' has been \
        blocked by CORS policy: The request client is not a secure context and the resource is in \
        more-private address space `private`.",
    )
    .unwrap();
    assert_eq!(
        (r.kind, r.space, r.legacy),
        (RefusalKind::InsecureContext, AddressSpace::Local, true)
    );
    assert!(r.fixes[0].contains("https"));
    let r = refusal(
        "The request client is not a secure context and the resource is in \
        more-private address space `local`.",
    )
    .unwrap();
    assert!(r.cause.contains("depends on the version"));
    let r = refusal(
        "Access to fetch at 'http://localhost:3000/' from origin 'https://x.example' \
        has been blocked by CORS policy: Response to preflight request doesn't pass access control \
        check: No 'Access-Control-Allow-Private-Network' header was present in the preflight \
        response for this private network request targeting the `local` address space.",
    )
    .unwrap();
    assert_eq!(
        (r.kind, r.space, r.legacy),
        (
            RefusalKind::PreflightMissingAllowPrivateNetwork,
            AddressSpace::Loopback,
            true
        )
    );
    assert!(r.fixes[0].contains("Access-Control-Allow-Private-Network: true"));
    assert!(r.fixes[1].contains("142"));
    let r = refusal(
        "The 'Access-Control-Allow-Private-Network' header in the preflight response \
        for this private network request targeting the `private` address space had a value of \
        'yes',  not 'true'.",
    )
    .unwrap();
    assert_eq!(
        (r.kind, r.space),
        (
            RefusalKind::PreflightInvalidAllowPrivateNetwork,
            AddressSpace::Local
        )
    );
    let r = refusal(
        "Request had no target IP address space, yet the resource is in address space `local`.",
    )
    .unwrap();
    assert_eq!(
        (r.kind, r.space),
        (RefusalKind::NoTargetSpace, AddressSpace::Loopback)
    );
    let r = refusal(
        "No 'Private-Network-Access-Name' header was present in the preflight response \
        for this private network request targeting the `private` address space.",
    )
    .unwrap();
    assert_eq!(r.kind, RefusalKind::PreflightMissingDeviceHeader);
    let r =
        refusal("Unable to ask for permission to access the `local` IP address space.").unwrap();
    assert_eq!(r.kind, RefusalKind::PermissionUnavailable);
    let r = refusal(
        "Access to CSS stylesheet at 'http://192.168.0.2/a.css' from origin \
        'https://s.example' has been blocked by CORS policy: Permission was denied for this \
        request to access the `local` address space.",
    )
    .unwrap();
    assert_eq!(r.destination.as_deref(), Some("CSS stylesheet"));
    assert_eq!(r.url.as_deref(), Some("http://192.168.0.2/a.css"));
}

#[test]
fn blocked_reasons_are_chromiums_words() {
    let b = Blocked::PermissionDenied {
        space: AddressSpace::Loopback,
        undecided: true,
    };
    assert_eq!(
        b.reason(),
        "Permission was denied for this request to access the `loopback` address space."
    );
    // What the model prints, explain reads back.
    for b in [
        b,
        Blocked::InsecureContext {
            space: AddressSpace::Local,
        },
        Blocked::TargetSpaceMismatch {
            declared: AddressSpace::Public,
            actual: AddressSpace::Loopback,
        },
    ] {
        let r = refusal(&b.reason()).unwrap();
        assert!(!r.legacy, "{}", b.reason());
        assert!(b
            .fixes("p")
            .iter()
            .all(|f| !f.contains("Access-Control-Allow")));
    }
}

/// Firefox's rules (observed in ESR 153): any page may ask, `targetAddressSpace` is
/// ignored, and an undecided permission holds the request rather than failing it.
#[test]
fn firefox_asks_from_any_page_and_ignores_the_declared_space() {
    let rules = crate::Browser::Firefox.local_network_access().unwrap();
    let ctx = |secure, tas, p| Context {
        page_space: AddressSpace::Public,
        secure_context: secure,
        permissions: Permissions::both(p),
        target_address_space: tas,
    };
    let loopback = AddressSpace::Loopback;
    assert_eq!(
        check_with(&ctx(false, None, Permission::Granted), loopback, &rules),
        Ok(true)
    );
    assert_eq!(
        check(&ctx(false, None, Permission::Granted), loopback),
        Err(Blocked::InsecureContext { space: loopback })
    );
    assert_eq!(
        check_with(
            &ctx(true, Some(AddressSpace::Public), Permission::Granted),
            loopback,
            &rules
        ),
        Ok(true)
    );
    assert!(rules.undecided_waits);
    assert!(crate::Browser::Safari.local_network_access().is_none());
}
