//! Unit tests of the LNA message reader.

use super::*;
use crate::lna::AddressSpace;

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
