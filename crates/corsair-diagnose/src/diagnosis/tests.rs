use super::probe::is_safe;
use super::*;
use corsair_model::{Browser, Credentials, Fetch, Next, RequestSpec};
use url::Url;

const PAGE: &str = "https://app.example";
const API: &str = "https://api.example/items";

fn spec(method: &str, headers: &[(&str, &str)], credentials: bool) -> RequestSpec {
    RequestSpec {
        url: API.into(),
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

/// The outcome of `spec` when the server answers each request with the next response.
fn run(spec: &RequestSpec, responses: Vec<ResponseHead>) -> Outcome {
    let mut f = Fetch::new(spec, Browser::Chromium).unwrap();
    let mut responses = responses.into_iter();
    while let Next::Send(_) = f.poll() {
        match responses.next() {
            Some(r) => f.receive(r),
            None => panic!("the model sent more requests than the test answers"),
        }
    }
    f.finish()
}

fn head(status: u16, headers: &[(&str, &str)]) -> ResponseHead {
    ResponseHead::new(status, headers.iter().map(|(n, v)| (*n, *v)))
}

fn answer(kind: ProbeKind, r: ResponseHead, body: &str) -> Answer {
    Answer {
        kind,
        response: Ok(r),
        body: body.as_bytes().to_vec(),
    }
}

fn granted() -> ResponseHead {
    head(
        204,
        &[
            ("Access-Control-Allow-Origin", PAGE),
            ("Access-Control-Allow-Methods", "GET, POST"),
            ("Server", "uvicorn"),
        ],
    )
}

#[test]
fn a_crash_behind_the_cors_layer_is_the_apps_error_path() {
    let crash = head(
        500,
        &[
            ("Server", "uvicorn"),
            ("Content-Type", "text/plain; charset=utf-8"),
        ],
    );
    let o = run(&spec("GET", &[], false), vec![crash.clone()]);
    let kinds: Vec<ProbeKind> = probes(&o, false).iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [ProbeKind::Again, ProbeKind::Support]);
    let d = diagnose(
        &o,
        &[
            answer(ProbeKind::Again, crash, "Internal Server Error"),
            answer(ProbeKind::Support, granted(), ""),
        ],
    )
    .unwrap();
    assert_eq!(d.kind, Kind::AppError, "{d:?}");
    assert_eq!(d.stack, Some("starlette"));
    assert!(
        d.ruled_out.iter().any(|r| r.contains("the policy")),
        "{d:?}"
    );
    assert!(
        d.layers.iter().any(|l| l.name == "Starlette"),
        "{:?}",
        d.layers
    );
}

#[test]
fn a_proxys_own_error_page_names_the_proxy() {
    let bad = head(
        502,
        &[("Server", "nginx/1.22.1"), ("Content-Type", "text/html")],
    );
    let o = run(&spec("GET", &[], false), vec![bad.clone()]);
    let body = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad \
        Gateway</h1></center><hr><center>nginx/1.22.1</center></body></html>";
    let d = diagnose(&o, &[answer(ProbeKind::Again, bad, body)]).unwrap();
    assert_eq!(d.kind, Kind::ProxyError, "{d:?}");
    assert_eq!(d.stack, Some("nginx"));
    assert!(d.summary.starts_with("nginx answered 502"), "{}", d.summary);
}

#[test]
fn authentication_before_cors() {
    let wall = head(
        401,
        &[
            ("Server", "nginx"),
            ("WWW-Authenticate", "Basic realm=\"api\""),
        ],
    );
    let o = run(&spec("GET", &[], true), vec![wall]);
    assert_eq!(diagnose(&o, &[]).unwrap().kind, Kind::AuthWall);
    // A preflight answered 401: it never carries credentials.
    let o = run(
        &spec("PUT", &[("Authorization", "Bearer x")], false),
        vec![head(401, &[("WWW-Authenticate", "Bearer")])],
    );
    let d = diagnose(&o, &[]).unwrap();
    assert_eq!(d.kind, Kind::PreflightAuth, "{d:?}");
    // OPTIONS not routed.
    let o = run(&spec("DELETE", &[], false), vec![head(405, &[])]);
    assert_eq!(diagnose(&o, &[]).unwrap().kind, Kind::OptionsNotRouted);
}

#[test]
fn redirects_say_why_and_where_to() {
    let o = run(
        &spec("GET", &[], false),
        vec![head(301, &[("Location", "/items/")])],
    );
    let d = diagnose(&o, &[]).unwrap();
    assert_eq!(d.kind, Kind::Redirect);
    assert_eq!(d.redirect_reason, Some("trailing-slash"));
    assert_eq!(d.final_url.as_deref(), Some("https://api.example/items/"));
    let o = run(
        &spec("GET", &[], true),
        vec![head(
            302,
            &[("Location", "https://api.example/login?next=/items")],
        )],
    );
    let d = diagnose(&o, &[]).unwrap();
    assert_eq!((d.kind, d.redirect_reason), (Kind::AuthWall, Some("login")));
    let from = Url::parse("http://api.example/x").unwrap();
    let to = Url::parse("https://api.example/x").unwrap();
    assert_eq!(redirect_reason(&from, &to), "https");
    let to = Url::parse("http://www.api.example/x").unwrap();
    assert_eq!(redirect_reason(&from, &to), "host");
}

/// Found by the clinic (nginx redirecting to an Express app on another origin): the last
/// answer lacks CORS headers for null, and the cause is the redirect, not the allowlist.
#[test]
fn a_cross_origin_redirect_sends_null_to_the_last_server() {
    let o = run(
        &spec("GET", &[], false),
        vec![
            head(
                302,
                &[
                    ("Location", "https://data.example/items"),
                    ("Access-Control-Allow-Origin", PAGE),
                ],
            ),
            head(200, &[("Vary", "Origin"), ("X-Powered-By", "Express")]),
        ],
    );
    let d = diagnose(&o, &[]).unwrap();
    assert_eq!(d.kind, Kind::RedirectNullOrigin, "{}", d.summary);
    assert_eq!(d.final_url.as_deref(), Some("https://data.example/items"));
    assert!(d.summary.contains("'Origin: null'"), "{}", d.summary);
}

#[test]
fn two_layers_and_a_cache() {
    let o = run(
        &spec("GET", &[], false),
        vec![head(
            200,
            &[
                ("Server", "nginx"),
                ("X-Powered-By", "Express"),
                ("Access-Control-Allow-Origin", PAGE),
                ("Access-Control-Allow-Origin", PAGE),
            ],
        )],
    );
    let d = diagnose(&o, &[]).unwrap();
    assert_eq!(d.kind, Kind::DuplicateHeader, "{d:?}");
    assert!(
        d.summary.contains("nginx in front of Express"),
        "{}",
        d.summary
    );
    let o = run(
        &spec("GET", &[], false),
        vec![head(
            200,
            &[
                ("Access-Control-Allow-Origin", "https://other.example"),
                ("Age", "31"),
            ],
        )],
    );
    assert_eq!(diagnose(&o, &[]).unwrap().kind, Kind::CachedOtherOrigin);
    // The same answer with Vary: Origin is the server's own choice.
    let o = run(
        &spec("GET", &[], false),
        vec![head(
            200,
            &[
                ("Access-Control-Allow-Origin", "https://other.example"),
                ("Age", "31"),
                ("Vary", "Origin"),
            ],
        )],
    );
    assert_eq!(diagnose(&o, &[]).unwrap().kind, Kind::OriginNotAllowed);
}

#[test]
fn a_frameworks_refusal_reads_its_body() {
    let refusal = head(
        400,
        &[("Server", "uvicorn"), ("Content-Type", "text/plain")],
    );
    let o = run(&spec("PATCH", &[], false), vec![refusal.clone()]);
    let p = probes(&o, true);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].request.method, "OPTIONS");
    let d = diagnose(
        &o,
        &[answer(ProbeKind::Again, refusal, "Disallowed CORS method")],
    )
    .unwrap();
    assert_eq!(d.kind, Kind::FrameworkRefusal, "{d:?}");
    assert!(d.summary.contains("allow_methods"), "{}", d.summary);
}

#[test]
fn no_cors_at_all_or_not_this_origin() {
    let o = run(&spec("GET", &[], false), vec![head(200, &[])]);
    let d = diagnose(&o, &[answer(ProbeKind::Support, head(200, &[]), "")]).unwrap();
    assert_eq!(d.kind, Kind::CorsNotConfigured);
    let d = diagnose(
        &o,
        &[answer(
            ProbeKind::Support,
            head(204, &[("Access-Control-Allow-Methods", "GET")]),
            "",
        )],
    )
    .unwrap();
    assert_eq!(d.kind, Kind::OriginNotAllowed);
}

#[test]
fn a_green_verdict_that_reflects_any_origin_with_credentials() {
    let reflect = |o: &str| {
        head(
            200,
            &[
                ("Access-Control-Allow-Origin", o),
                ("Access-Control-Allow-Credentials", "true"),
            ],
        )
    };
    let o = run(&spec("GET", &[], true), vec![reflect(PAGE)]);
    assert!(o.allowed);
    let p = probes(&o, false);
    assert_eq!(p.len(), 2);
    assert!(p.iter().all(|p| p.request.method == "GET"));
    assert!(p[0]
        .request
        .headers
        .contains(&("Origin".to_string(), UNRELATED_ORIGIN.to_string())));
    let d = diagnose(
        &o,
        &[answer(ProbeKind::Unrelated, reflect(UNRELATED_ORIGIN), "")],
    )
    .unwrap();
    assert_eq!(d.kind, Kind::InsecureReflection);
    // An allowlist refuses the unrelated origin: nothing to say.
    assert!(diagnose(&o, &[answer(ProbeKind::Unrelated, head(200, &[]), "")]).is_none());
}

#[test]
fn probes_never_send_an_unsafe_method() {
    // A POST that failed on its response: neither sent again nor turned into a GET.
    let o = run(
        &spec("POST", &[("Content-Type", "text/plain")], false),
        vec![head(500, &[])],
    );
    let p = probes(&o, false);
    assert!(p.iter().all(|p| is_safe(&p.request.method)), "{p:?}");
    assert!(p.iter().all(|p| p.kind != ProbeKind::Again));
}

/// A 407 from a server reached directly is Chromium's network error, named as the auth layer
/// that answered it (the preflight's or the request's).
#[test]
fn a_407_is_named_as_the_auth_layer_in_front() {
    let o = run(
        &spec("PUT", &[], false),
        vec![head(
            407,
            &[
                ("Proxy-Authenticate", "Basic realm=\"x\""),
                ("Access-Control-Allow-Origin", PAGE),
            ],
        )],
    );
    let d = diagnose(&o, &[]).unwrap();
    assert_eq!(d.kind, Kind::PreflightAuth, "{}", d.summary);
    assert!(d
        .evidence
        .iter()
        .any(|e| e.starts_with("Proxy-Authenticate:")));
    let o = run(&spec("GET", &[], false), vec![head(407, &[])]);
    assert_eq!(diagnose(&o, &[]).unwrap().kind, Kind::AuthWall);
}
