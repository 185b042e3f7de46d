//! Unit tests of fetch.

use super::*;
use crate::request::Credentials;

const PAGE: &str = "http://app.test";

fn spec(method: &str, headers: &[(&str, &str)], credentials: bool) -> RequestSpec {
    RequestSpec {
        url: "http://api.test/r".into(),
        origin: PAGE.into(),
        method: method.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        credentials: if credentials {
            Credentials::Include
        } else {
            Credentials::SameOrigin
        },
        ..Default::default()
    }
}

/// Drives a fetch with canned responses, one per request sent.
fn drive(spec: &RequestSpec, responses: Vec<ResponseHead>) -> (Outcome, Vec<Outgoing>) {
    drive_as(spec, responses, Browser::Chromium)
}

fn drive_as(
    spec: &RequestSpec,
    mut responses: Vec<ResponseHead>,
    browser: Browser,
) -> (Outcome, Vec<Outgoing>) {
    let mut f = Fetch::new(spec, browser).unwrap();
    let mut sent = Vec::new();
    responses.reverse();
    while let Next::Send(out) = f.poll() {
        sent.push(out);
        f.receive(responses.pop().expect("more requests than responses"));
    }
    (f.finish(), sent)
}

fn resp(status: u16, h: &[(&str, &str)]) -> ResponseHead {
    ResponseHead::new(
        status,
        h.iter().map(|(n, v)| (n.to_string(), v.to_string())),
    )
}

#[test]
fn simple_get_allowed() {
    let (o, sent) = drive(
        &spec("GET", &[], false),
        vec![resp(200, &[("Access-Control-Allow-Origin", "*")])],
    );
    assert!(o.allowed && !o.preflight && o.console().is_none());
    assert_eq!(sent.len(), 1);
    assert!(sent[0].headers.contains(&("Origin".into(), PAGE.into())));
}

#[test]
fn preflight_then_actual() {
    let ok = [
        ("Access-Control-Allow-Origin", PAGE),
        ("Access-Control-Allow-Credentials", "true"),
    ];
    let pre = [
        ok[0],
        ok[1],
        ("Access-Control-Allow-Methods", "PUT"),
        ("Access-Control-Allow-Headers", "x-a"),
    ];
    let (o, sent) = drive(
        &spec("put", &[("X-A", "1")], true),
        vec![resp(204, &pre), resp(200, &ok)],
    );
    assert!(o.allowed && o.preflight, "{:?}", o.failure);
    assert_eq!(sent[0].method, "OPTIONS");
    assert!(sent[0]
        .headers
        .contains(&("Access-Control-Request-Headers".into(), "x-a".into())));
    assert!(sent[0]
        .headers
        .contains(&("Access-Control-Request-Method".into(), "PUT".into())));
    assert_eq!(sent[1].method, "PUT");
}

#[test]
fn blocked_preflight_never_sends_the_request() {
    let (o, sent) = drive(&spec("DELETE", &[], false), vec![resp(404, &[])]);
    assert!(!o.allowed && o.preflight);
    assert_eq!(sent.len(), 1);
    let f = o.failure.unwrap();
    assert_eq!(
        (f.kind, f.stage),
        (FailureKind::MissingAllowOriginHeader, Stage::Preflight)
    );
}

#[test]
fn redirect_across_origins_taints_the_origin() {
    let a = [
        ("Access-Control-Allow-Origin", PAGE),
        ("Location", "http://other.test/final"),
    ];
    let (o, sent) = drive(
        &spec("GET", &[], false),
        vec![
            resp(302, &a),
            resp(200, &[("Access-Control-Allow-Origin", PAGE)]),
        ],
    );
    assert!(sent[1].headers.contains(&("Origin".into(), "null".into())));
    assert!(o
        .console()
        .unwrap()
        .contains("(redirected from 'http://api.test/r')"));
    let f = o.failure.unwrap();
    assert_eq!(f.kind, FailureKind::AllowOriginMismatch);
    assert_eq!(f.initial_url.as_deref(), Some("http://api.test/r"));
}

#[test]
fn redirect_limit_is_twenty() {
    let hop = [("Access-Control-Allow-Origin", "*"), ("Location", "/again")];
    let (o, sent) = drive(
        &spec("GET", &[], false),
        (0..21).map(|_| resp(302, &hop)).collect(),
    );
    assert_eq!(sent.len(), 21);
    assert_eq!(o.net_error.unwrap().code, "ERR_TOO_MANY_REDIRECTS");
    let (o, _) = drive(
        &spec("GET", &[], false),
        (0..20)
            .map(|_| resp(302, &hop))
            .chain([resp(200, &hop[..1])])
            .collect(),
    );
    assert!(o.allowed);
}

#[test]
fn preflight_redirect_is_refused() {
    let (o, _) = drive(
        &spec("PUT", &[], false),
        vec![resp(
            301,
            &[("Location", "/x"), ("Access-Control-Allow-Origin", "*")],
        )],
    );
    assert_eq!(
        o.failure.unwrap().kind,
        FailureKind::PreflightDisallowedRedirect
    );
}

#[test]
fn same_origin_is_not_checked() {
    let mut s = spec("PUT", &[("X-A", "1")], true);
    s.origin = "http://api.test".into();
    let (o, sent) = drive(&s, vec![resp(200, &[])]);
    assert!(o.allowed && !o.preflight && !o.cross_origin);
    assert_eq!(sent.len(), 1);
}

/// WebKit preflights a 303-turned-GET again after a preflighted PUT, with the first
/// request's headers; Chromium does not (both observed by the differentials).
#[test]
fn webkit_preflights_again_after_a_preflighted_hop() {
    let sp = spec("PUT", &[("Content-Type", "application/json")], false);
    let ok_pre = || {
        resp(
            204,
            &[
                ("Access-Control-Allow-Origin", PAGE),
                ("Access-Control-Allow-Methods", "PUT"),
                ("Access-Control-Allow-Headers", "content-type"),
            ],
        )
    };
    let see_other = || {
        resp(
            303,
            &[
                ("Access-Control-Allow-Origin", PAGE),
                ("Location", "/final"),
            ],
        )
    };
    let ok = || resp(200, &[("Access-Control-Allow-Origin", PAGE)]);
    let (chromium, sent) = drive(&sp, vec![ok_pre(), see_other(), ok()]);
    assert!(chromium.allowed);
    assert_eq!(sent.len(), 3);
    let (safari, sent) = drive_as(
        &sp,
        vec![ok_pre(), see_other(), resp(404, &[]), ok()],
        Browser::Safari,
    );
    assert!(!safari.allowed);
    let kinds: Vec<(&str, &str)> = sent
        .iter()
        .map(|o| (o.method.as_str(), o.url.path()))
        .collect();
    assert_eq!(
        kinds,
        [("OPTIONS", "/r"), ("PUT", "/r"), ("OPTIONS", "/final")]
    );
    let acrh = sent[2]
        .headers
        .iter()
        .find(|(n, _)| n == "Access-Control-Request-Headers");
    assert_eq!(acrh.map(|(_, v)| v.as_str()), Some("content-type"));
    assert_eq!(
        safari.console().unwrap(),
        "Preflight response is not successful. Status code: 404\nFetch API cannot load \
            http://api.test/final due to access control checks."
    );
}

/// WebKit names a refused redirect and where it led; Chromium names the URL only.
#[test]
fn webkit_words_a_refused_redirect() {
    let sp = spec("GET", &[], false);
    let redirect = resp(302, &[("Location", "http://u:p@api.test/next")]);
    let (o, _) = drive_as(&sp, vec![redirect], Browser::Safari);
    assert_eq!(
        o.console().unwrap(),
        "Cross-origin redirection to http://api.test/next denied by Cross-Origin Resource Sharing \
            policy: Origin http://app.test is not allowed by Access-Control-Allow-Origin. Status \
            code: 302\nFetch API cannot load http://api.test/r due to access control checks."
    );
    let redirect = resp(
        302,
        &[
            ("Access-Control-Allow-Origin", PAGE),
            ("Location", "http://u:p@api.test/next"),
        ],
    );
    let (o, _) = drive_as(&sp, vec![redirect], Browser::Safari);
    assert_eq!(
        o.console().unwrap().lines().next().unwrap(),
        "Cross-origin redirection to http://api.test/next denied by Cross-Origin Resource Sharing \
            policy: redirection URL http://u:p@api.test/next has credentials"
    );
}

/// A 21st redirect is an access-control error in WebKit, a network error elsewhere.
#[test]
fn webkit_words_too_many_redirects() {
    let sp = spec("GET", &[], false);
    let hop = |n: usize| {
        resp(
            302,
            &[
                ("Access-Control-Allow-Origin", PAGE),
                ("Location", &format!("/hop{n}")),
            ],
        )
    };
    let (o, sent) = drive_as(&sp, (1..=21).map(hop).collect(), Browser::Safari);
    assert_eq!(sent.len(), 21);
    assert_eq!(
        o.console().unwrap(),
        "Load cannot follow more than 20 redirections\nFetch API cannot load http://api.test/hop20 \
            due to access control checks."
    );
    let (o, _) = drive_as(&sp, (1..=21).map(hop).collect(), Browser::Chromium);
    assert!(o
        .console()
        .unwrap()
        .ends_with("net::ERR_TOO_MANY_REDIRECTS"));
}

#[test]
fn sec_fetch_site_reads_hosts_not_their_text() {
    let site = |page: &str, url: &str| {
        let s = RequestSpec {
            url: url.into(),
            origin: page.into(),
            ..spec("GET", &[], false)
        };
        let (_, sent) = drive(&s, vec![resp(200, &[("Access-Control-Allow-Origin", "*")])]);
        sent[0]
            .headers
            .iter()
            .find(|(n, _)| n == "Sec-Fetch-Site")
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        site("https://app.example.com", "https://api.example.com/r"),
        "same-site"
    );
    assert_eq!(
        site("http://app.example.com", "https://api.example.com/r"),
        "cross-site"
    );
    // The public suffix list's default rule gave both addresses the registrable domain "0.1".
    assert_eq!(
        site("http://127.0.0.1:5173", "http://127.0.0.2/r"),
        "cross-site"
    );
    assert_eq!(
        site("http://127.0.0.1:5173", "http://127.0.0.1:8080/r"),
        "same-site"
    );
}

/// From the held-out LNA set: Chromium refuses a public page's PUT to loopback before its
/// preflight goes out (the permission denied), so no preflight was sent.
#[test]
fn a_preflight_local_network_access_refuses_is_not_sent() {
    let mut s = spec("PUT", &[], false);
    s.origin = "https://app.example".into();
    s.url = "http://127.0.0.1:8080/r".into();
    s.lna.permissions = crate::lna::Permissions::both(crate::lna::Permission::Denied);
    let mut f = Fetch::new(&s, Browser::Chromium).unwrap();
    let Next::Send(out) = f.poll() else {
        panic!("nothing to send")
    };
    assert_eq!(out.kind, ExchangeKind::Preflight);
    assert!(!f.connected(AddressSpace::Loopback));
    assert!(matches!(f.poll(), Next::Done));
    let o = f.finish();
    assert!(!o.allowed);
    assert!(!o.preflight, "no OPTIONS went out: {:?}", o.exchanges);
    assert!(o.exchanges.is_empty());
}

/// From the WPT-derived set: Chromium fails a 407 from a server reached directly as
/// `ERR_UNEXPECTED_PROXY_AUTH` (a preflight's and a request's alike); Firefox reads the status.
#[test]
fn a_407_is_a_network_error_in_chromium_only() {
    let r407 = || {
        resp(
            407,
            &[
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Methods", "PUT"),
            ],
        )
    };
    for method in ["PUT", "GET"] {
        let (o, _) = drive(&spec(method, &[], false), vec![r407()]);
        assert_eq!(
            o.net_error.map(|e| e.code).as_deref(),
            Some("ERR_UNEXPECTED_PROXY_AUTH"),
            "{method}"
        );
        assert!(o.failure.is_none() && !o.allowed);
    }
    let (o, _) = drive_as(&spec("PUT", &[], false), vec![r407()], Browser::Firefox);
    assert_eq!(
        o.failure.map(|f| f.kind),
        Some(FailureKind::PreflightInvalidStatus)
    );
}
