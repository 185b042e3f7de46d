//! The browser differential: hundreds of generated scenarios, each run in real headless
//! Chromium and through `corsair check`, which must agree on whether the response is readable,
//! whether a preflight was sent, and the exact console message.
//!
//! A scenario is a request shape (method, headers, credentials, body, fetch or XHR) crossed
//! with a server profile (what the preflight and the actual request are answered with,
//! redirects included). The page lives on one loopback origin, the API on a second, and a third
//! serves as a foreign redirect target.

use super::engines::{self, EngineRun};
use crate::support::{Resp, Route, Server};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::Command;

#[derive(Clone)]
struct Shape {
    name: &'static str,
    method: &'static str,
    headers: Vec<(String, String)>,
    credentials: bool,
    body: Option<&'static str>,
    xhr: bool,
}

fn shape(
    name: &'static str,
    method: &'static str,
    headers: &[(&str, &str)],
    credentials: bool,
) -> Shape {
    Shape {
        name,
        method,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        credentials,
        body: None,
        xhr: false,
    }
}

fn shapes() -> Vec<Shape> {
    let a128 = "a".repeat(128);
    let d128 = "1".repeat(128);
    let big = |extra: bool| {
        // Eight safelisted values of 128 bytes total 1024 (no preflight); a ninth tips the rule.
        let mut h: Vec<(String, String)> = vec![
            ("Accept".into(), a128.clone()),
            ("Accept-Language".into(), a128.clone()),
            ("Content-Language".into(), a128.clone()),
            ("Width".into(), d128.clone()),
            ("Viewport-Width".into(), d128.clone()),
            ("DPR".into(), d128.clone()),
            ("Device-Memory".into(), d128.clone()),
            ("RTT".into(), d128.clone()),
        ];
        if extra {
            h.push(("Downlink".into(), "1".into()));
        }
        h
    };
    let mut v = vec![
        shape("get", "GET", &[], false),
        shape("get-cred", "GET", &[], true),
        Shape {
            body: Some("hello"),
            ..shape("post-text", "POST", &[], false)
        },
        Shape {
            body: Some("{}"),
            ..shape(
                "post-json",
                "POST",
                &[("Content-Type", "application/json")],
                false,
            )
        },
        shape("put", "PUT", &[], false),
        shape("put-cred-custom", "PUT", &[("X-Custom", "1")], true),
        shape("get-custom", "GET", &[("X-Custom", "1")], false),
        shape("get-auth", "GET", &[("Authorization", "Bearer t")], false),
        Shape {
            body: Some("{}"),
            ..shape(
                "delete-multi",
                "DELETE",
                &[
                    ("X-B", "1"),
                    ("X-A", "2"),
                    ("Content-Type", "application/json"),
                ],
                false,
            )
        },
        shape("patch-lower", "patch", &[], false),
        shape("put-mixed-case", "Put", &[], false),
        shape("head", "HEAD", &[], false),
        Shape {
            xhr: true,
            ..shape("xhr-get", "GET", &[], false)
        },
        Shape {
            xhr: true,
            ..shape("xhr-put-cred", "PUT", &[("X-Custom", "1")], true)
        },
        shape("get-range", "GET", &[("Range", "bytes=0-10")], false),
        shape("get-range-suffix", "GET", &[("Range", "bytes=-10")], false),
        shape("get-dpr", "GET", &[("DPR", "2")], false),
        Shape {
            body: Some("x"),
            ..shape(
                "post-ct-spaced",
                "POST",
                &[("Content-Type", "text / plain")],
                false,
            )
        },
        shape(
            "get-accept-129",
            "GET",
            &[("Accept", &"a".repeat(129))],
            false,
        ),
        shape(
            "get-lang-bad",
            "GET",
            &[("Content-Language", "de_DE")],
            false,
        ),
        shape("get-cookie-dropped", "GET", &[("Cookie", "a=b")], false),
        Shape {
            body: Some("{}"),
            ..shape(
                "post-many-custom",
                "POST",
                &[
                    ("X-Token", "1"),
                    ("X-Request-Id", "2"),
                    ("Authorization", "Bearer t"),
                    ("X-RequestApi-Key", "k"),
                    ("If-Match", "\"e\""),
                    ("Content-Type", "application/json"),
                ],
                false,
            )
        },
        shape(
            "get-many-custom-cred",
            "GET",
            &[
                ("X-Zeta", "1"),
                ("X-Alpha", "2"),
                ("X-Custom", "3"),
                ("X-B", "4"),
            ],
            true,
        ),
        shape(
            "get-hints-custom",
            "GET",
            &[("Save-Data", "on"), ("ECT", "4g"), ("X-Custom", "1")],
            false,
        ),
    ];
    v.push(Shape {
        headers: big(false),
        ..shape("get-1024", "GET", &[], false)
    });
    v.push(Shape {
        headers: big(true),
        ..shape("get-1025", "GET", &[], false)
    });
    v
}

/// A server profile from `differential_profiles.toml`: how the API answers in one scenario
/// family.
#[derive(Deserialize)]
struct Profile {
    name: String,
    /// Which listener the request starts at: 1 (the API, cross-origin) or 0 (the page's own
    /// origin, made cross-origin by a redirect).
    #[serde(default = "api_listener")]
    start_on: usize,
    route: Vec<ProfileRoute>,
}

fn api_listener() -> usize {
    1
}

/// One path of a profile: `/{id}/LEAF` on listener `on`.
#[derive(Clone, Deserialize)]
struct ProfileRoute {
    on: usize,
    leaf: String,
    preflight: Answer,
    actual: Answer,
}

#[derive(Clone, Deserialize)]
struct Answer {
    status: u16,
    #[serde(default)]
    headers: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Profiles {
    profile: Vec<Profile>,
}

fn profiles() -> Vec<Profile> {
    let text = include_str!("../differential_profiles.toml");
    toml::from_str::<Profiles>(text)
        .expect("differential_profiles.toml")
        .profile
}

/// What a scenario's templates stand for.
struct Ctx {
    id: String,
    /// The page origin.
    page: String,
    /// API and foreign origins.
    api: String,
    other: String,
}

impl Ctx {
    /// A header value with its templates filled in.
    fn fill(&self, value: &str) -> String {
        let mut out = value.to_string();
        for (token, with) in [
            ("{page}", self.page.clone()),
            ("{PAGE}", self.page.to_uppercase()),
            ("{api}", self.api.clone()),
            (
                "{api-host}",
                self.api.trim_start_matches("http://").to_string(),
            ),
            ("{other}", self.other.clone()),
            ("{id}", self.id.clone()),
            ("{methods}", METHODS.to_string()),
            ("{headers}", HEADERS.to_string()),
        ] {
            out = out.replace(token, &with);
        }
        assert!(
            !out.contains('{'),
            "an unknown template in {value:?} (differential_profiles.toml)"
        );
        out
    }

    fn resp(&self, a: &Answer) -> Resp {
        a.headers
            .iter()
            .fold(Resp::new(a.status), |r, (n, v)| r.h(n, self.fill(v)))
    }

    /// Where a scenario's request starts.
    fn start(&self) -> String {
        format!("/{}/start", self.id)
    }

    /// The routes of `p` for this scenario: (listener, path, route).
    fn routes(&self, p: &Profile) -> Vec<(usize, String, Route)> {
        p.route
            .iter()
            .map(|r| {
                (
                    r.on,
                    format!("/{}/{}", self.id, r.leaf),
                    Route {
                        preflight: self.resp(&r.preflight),
                        actual: self.resp(&r.actual),
                    },
                )
            })
            .collect()
    }
}

/// A credentialed CORS answer for `o`.
fn ok_cors(o: &str) -> Resp {
    Resp::new(200)
        .h("Access-Control-Allow-Origin", o)
        .h("Access-Control-Allow-Credentials", "true")
}

const METHODS: &str = "GET, POST, PUT, DELETE, patch, HEAD";
const HEADERS: &str = "x-custom, Authorization, content-type, x-a, x-b, range, dpr, accept, \
    accept-language, content-language, width, viewport-width, device-memory, rtt, downlink";

struct Scenario {
    id: String,
    label: String,
    url: String,
    shape: Shape,
}

fn corsair_as(server_origin: &str, s: &Scenario, browser: &str) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corsair"));
    cmd.args([
        "check",
        &s.url,
        "--origin",
        server_origin,
        "--method",
        s.shape.method,
        "--format",
        "json",
        "--timeout",
        "10",
    ]);
    cmd.args(["--browser", browser]);
    for (n, v) in &s.shape.headers {
        cmd.args(["--header", &format!("{n}: {v}")]);
    }
    if s.shape.credentials {
        cmd.arg("--credentials");
    }
    if let Some(b) = s.shape.body {
        cmd.args(["--data", b]);
    }
    if s.shape.xhr {
        cmd.args(["--api", "xhr"]);
    }
    let out = cmd.output().expect("run corsair");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: corsair printed no JSON ({e}); stderr: {}",
            s.label,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Every scenario of the differential, its routes set on `server` (page, API and a foreign
/// origin on its three listeners), and the ids of the scenarios run twice (preflight cache).
type Repeated = Vec<(String, Option<&'static str>)>;

fn matrix(server: &Server) -> (Vec<Scenario>, Repeated) {
    let page = server.origin(0);
    let api = server.origin(1);
    let other = server.origin(2);
    let mut scenarios = Vec::new();
    for sh in shapes() {
        for p in profiles() {
            let id = format!("s{:04}", scenarios.len());
            let ctx = Ctx {
                id: id.clone(),
                page: page.clone(),
                api: api.clone(),
                other: other.clone(),
            };
            for (i, path, route) in ctx.routes(&p) {
                server.route(server.ports[i], &path, route);
            }
            let base = if p.start_on == 0 { &page } else { &api };
            scenarios.push(Scenario {
                label: format!("{id} {} × {}", sh.name, p.name),
                url: format!("{base}{}", ctx.start()),
                id,
                shape: sh.clone(),
            });
        }
    }
    // A long redirect chain: 20 hops are followed, 21 are not.
    for hops in [20usize, 21] {
        let id = format!("s{:04}", scenarios.len());
        for n in 0..hops {
            let from = if n == 0 {
                format!("/{id}/start")
            } else {
                format!("/{id}/hop{n}")
            };
            let r = Resp {
                status: 302,
                ..ok_cors(&page).h("Location", format!("/{id}/hop{}", n + 1))
            };
            server.route(
                server.ports[1],
                &from,
                Route {
                    preflight: r.clone(),
                    actual: r,
                },
            );
        }
        server.route(
            server.ports[1],
            &format!("/{id}/hop{hops}"),
            Route {
                preflight: ok_cors(&page),
                actual: ok_cors(&page),
            },
        );
        scenarios.push(Scenario {
            label: format!("{id} get × {hops} redirects"),
            url: format!("{api}/{id}/start"),
            id,
            shape: shape("get", "GET", &[], false),
        });
    }

    // Preflight cache: the same request twice; the second is preflighted again unless cached.
    let max_ages: [Option<&str>; 7] = [
        None,
        Some("0"),
        Some("-1"),
        Some("abc"),
        Some("10"),
        Some("7201"),
        Some("1.5"),
    ];
    let mut cache_ids = Vec::new();
    for ma in max_ages {
        let id = format!("s{:04}", scenarios.len());
        let mut pre = Resp::new(204)
            .h("Access-Control-Allow-Origin", &page)
            .h("Access-Control-Allow-Methods", "PUT");
        if let Some(v) = ma {
            pre = pre.h("Access-Control-Max-Age", v);
        }
        server.route(
            server.ports[1],
            &format!("/{id}/start"),
            Route {
                preflight: pre,
                actual: ok_cors(&page),
            },
        );
        cache_ids.push((id.clone(), ma));
        scenarios.push(Scenario {
            label: format!("{id} put twice × max-age {ma:?}"),
            url: format!("{api}/{id}/start"),
            id,
            shape: shape("put", "PUT", &[], false),
        });
    }
    (scenarios, cache_ids)
}

/// The matrix as the runners take it (see tests/browser/runner.mjs).
fn runner_scenarios(scenarios: &[Scenario], repeated: &Repeated) -> Vec<Value> {
    scenarios.iter().map(|s| json!({
        "id": s.id, "url": s.url, "method": s.shape.method, "headers": s.shape.headers,
        "credentials": s.shape.credentials, "body": s.shape.body, "api": if s.shape.xhr { "xhr" } else { "fetch" },
        "repeat": repeated.iter().any(|(id, _)| *id == s.id),
    })).collect()
}

/// Writes the Chromium runner's input for the matrix, in `dir`.
fn runner_input(
    dir: &std::path::Path,
    page: &str,
    scenarios: &[Scenario],
    repeated: &Repeated,
) -> std::path::PathBuf {
    let input = json!({
        "pageUrl": format!("{page}/"),
        "scenarios": runner_scenarios(scenarios, repeated),
    });
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("scenarios.json");
    std::fs::write(&path, serde_json::to_vec(&input).unwrap()).unwrap();
    path
}

/// `corsair check --browser BROWSER` on every scenario, a few at a time.
fn corsair_pass(page: &str, scenarios: &[Scenario], browser: &str) -> Vec<Value> {
    let mut verdicts: Vec<Value> = Vec::with_capacity(scenarios.len());
    for chunk in scenarios.chunks(4) {
        let got: Vec<Value> = std::thread::scope(|sc| {
            let hs: Vec<_> = chunk
                .iter()
                .map(|s| sc.spawn(|| corsair_as(page, s, browser)))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        verdicts.extend(got);
    }
    verdicts
}

mod agree;
mod wpt;

pub(crate) use agree::explain_disagrees;
