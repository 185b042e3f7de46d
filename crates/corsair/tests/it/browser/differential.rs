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
#[derive(Deserialize)]
struct ProfileRoute {
    on: usize,
    leaf: String,
    preflight: Answer,
    actual: Answer,
}

#[derive(Deserialize)]
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
    let text = include_str!("differential_profiles.toml");
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
const HEADERS: &str = "x-custom, Authorization, content-type, x-a, x-b, range, dpr, accept, accept-language, content-language, width, viewport-width, device-memory, rtt, downlink";

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

#[test]
fn chromium_and_corsair_check_agree() {
    let deps = crate::support::browser_deps();
    let server = Server::start(3);
    let page = server.origin(0);
    let (scenarios, cache_ids) = matrix(&server);
    // Chromium pass.
    let dir = std::env::temp_dir().join(format!("corsair-diff-{}", std::process::id()));
    let input_path = runner_input(&dir, &page, &scenarios, &cache_ids);
    let out = Command::new("node")
        .arg(crate::support::workspace_root().join("tests/browser/runner.mjs"))
        .arg(&input_path)
        .env("CORSAIR_NODE_MODULES", &deps.node_modules)
        .env("CORSAIR_CHROMIUM", &deps.chromium)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "the Chromium runner failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let browser: Value = serde_json::from_slice(&out.stdout).expect("runner JSON");
    let browser_log = server.take_log();
    let console: Vec<String> = browser["console"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let results: HashMap<String, Value> = browser["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
        .collect();

    // corsair pass.
    let verdicts = corsair_pass(&page, &scenarios, "chromium");

    let mut disagreements = Vec::new();
    let mut why_explain = Vec::new();
    // CORSAIR_DIFF_DUMP=FILE writes what both sides sent for every scenario, for debugging.
    let dump_path = std::env::var_os("CORSAIR_DIFF_DUMP");
    let mut dump = dump_path.as_ref().map(|_| Vec::new());
    for (s, v) in scenarios.iter().zip(&verdicts) {
        let marker = format!("/{}/", s.id);
        // Header names the page set (not the ones Chromium adds by itself, like Accept-Language).
        let page_set: std::collections::BTreeSet<String> = s
            .shape
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .filter(|n| !matches!(n.as_str(), "accept" | "accept-language" | "cookie"))
            .collect();
        let b_allowed = results[&s.id]["ok"].as_bool().unwrap();
        let b_preflight = browser_log
            .iter()
            .any(|x| x.method == "OPTIONS" && x.path.starts_with(&marker));
        let cors_lines: Vec<&String> = console
            .iter()
            .filter(|m| m.contains(&marker) && m.contains("has been blocked by CORS policy"))
            .collect();
        let b_console = cors_lines.first().map(|s| s.to_string());
        let c_allowed = v["allowed"].as_bool().unwrap();
        let c_preflight = v["preflight"].as_bool().unwrap();
        let c_console = v["console"]
            .as_str()
            .map(str::to_string)
            .filter(|m| m.contains("has been blocked by CORS policy"));
        let mut why = Vec::new();
        if b_allowed != c_allowed {
            why.push(format!(
                "allowed: chromium {b_allowed}, corsair {c_allowed}"
            ));
        }
        if b_preflight != c_preflight {
            why.push(format!(
                "preflight: chromium {b_preflight}, corsair {c_preflight}"
            ));
        }
        if let Some(line) = &b_console {
            if let Some(why) = explain_disagrees(line, v) {
                why_explain.push(format!("{}: explain on chromium's line: {why}", s.label));
            }
        }
        if b_console != c_console {
            why.push(format!(
                "console:\n      chromium {b_console:?}\n      corsair  {c_console:?}"
            ));
        }
        let b_seq: Vec<String> = browser_log
            .iter()
            .filter(|x| x.path.starts_with(&marker))
            .map(|x| {
                let names: Vec<String> = x
                    .headers
                    .iter()
                    .map(|(k, _)| k.clone())
                    .filter(|k| page_set.contains(k))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                format!("{} :{}{} [{}]", x.method, x.port, x.path, names.join(","))
            })
            .collect();
        let c_seq: Vec<String> = v["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let url = url::Url::parse(e["request"]["url"].as_str().unwrap()).unwrap();
                let names: std::collections::BTreeSet<String> = if e["kind"] == "preflight" {
                    Default::default()
                } else {
                    e["request"]["headers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|h| h[0].as_str().unwrap().to_ascii_lowercase())
                        .filter(|k| page_set.contains(k))
                        .collect()
                };
                format!(
                    "{} :{}{} [{}]",
                    e["request"]["method"].as_str().unwrap(),
                    url.port().unwrap(),
                    url.path(),
                    names.into_iter().collect::<Vec<_>>().join(",")
                )
            })
            .collect();
        let repeated = cache_ids.iter().any(|(id, _)| *id == s.id);
        if repeated {
            let b_preflights = browser_log
                .iter()
                .filter(|x| x.method == "OPTIONS" && x.path.starts_with(&marker))
                .count();
            let c_cached = v["preflight_cache"]["seconds"].as_u64().unwrap_or(0) > 0;
            if (b_preflights == 1) != c_cached {
                why.push(format!("preflight cache: chromium preflighted {b_preflights} times for two requests, corsair says {}", v["preflight_cache"]));
            }
        } else if b_seq != c_seq {
            why.push(format!(
                "requests:\n      chromium {b_seq:?}\n      corsair  {c_seq:?}"
            ));
        }
        if cors_lines.len() > 1 {
            why.push(format!(
                "chromium printed {} CORS messages",
                cors_lines.len()
            ));
        }
        if !why.is_empty() || dump.is_some() {
            let seen: Vec<String> = browser_log
                .iter()
                .filter(|x| x.path.starts_with(&marker))
                .map(|x| {
                    let h = |n: &str| x.header(n);
                    {
                        let names: Vec<&str> = x
                            .headers
                            .iter()
                            .map(|(k, _)| k.as_str())
                            .filter(|k| {
                                !matches!(
                                    *k,
                                    "host"
                                        | "connection"
                                        | "user-agent"
                                        | "accept-encoding"
                                        | "sec-ch-ua"
                                        | "sec-ch-ua-mobile"
                                        | "sec-ch-ua-platform"
                                        | "referer"
                                        | "sec-fetch-site"
                                        | "sec-fetch-mode"
                                        | "sec-fetch-dest"
                                        | "origin"
                                )
                            })
                            .collect();
                        format!(
                            "{} :{}{} origin={} acrm={} acrh={} [{}]",
                            x.method,
                            x.port,
                            x.path,
                            h("origin"),
                            h("access-control-request-method"),
                            h("access-control-request-headers"),
                            names.join(",")
                        )
                    }
                })
                .collect();
            let sent: Vec<String> = v["exchanges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        e["request"]["method"].as_str().unwrap_or("?"),
                        e["request"]["url"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            let line = format!(
                "chromium sent: {}\n    corsair sent:  {}",
                seen.join(" | "),
                sent.join(" | ")
            );
            if let Some(d) = dump.as_mut() {
                d.push(format!(
                    "{} allowed={b_allowed}/{c_allowed}\n    {line}",
                    s.label
                ));
            }
            if why.is_empty() {
                continue;
            }
            why.push(line);
            disagreements.push(format!("{}\n    {}", s.label, why.join("\n    ")));
        }
    }
    disagreements.extend(why_explain);
    if let (Some(p), Some(d)) = (&dump_path, &dump) {
        std::fs::write(p, d.join("\n")).unwrap();
    }
    let version = browser["version"].as_str().unwrap_or("?");
    let blocked = verdicts
        .iter()
        .filter(|v| !v["allowed"].as_bool().unwrap())
        .count();
    let preflighted = verdicts
        .iter()
        .filter(|v| v["preflight"].as_bool().unwrap())
        .count();
    println!(
        "browser differential: Chromium {version}: {} scenarios ({blocked} blocked, {preflighted} preflighted), {} disagreements",
        scenarios.len(),
        disagreements.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(scenarios.len() >= 300, "only {} scenarios", scenarios.len());
    assert!(
        disagreements.is_empty(),
        "{} of {} scenarios disagree with Chromium {version}:\n{}",
        disagreements.len(),
        scenarios.len(),
        disagreements.join("\n")
    );
}

/// Whether `corsair explain` misreads an engine's real console output for one request: it must
/// find exactly one error, of the kind `corsair check` found (or one its words can also mean),
/// or a network failure when check found one.
pub(super) fn explain_disagrees(output: &str, verdict: &Value) -> Option<String> {
    use corsair_core::explain::{explain, is_network_failure};
    let found = explain(output);
    let kind = verdict["kind"].as_str();
    match (kind, found.as_slice()) {
        (None, []) if is_network_failure(output) || verdict["net_error"].is_object() => None,
        // Firefox words a redirect to a URL with user:password like a network failure; explain
        // names both.
        (Some("redirect-contains-credentials"), [])
            if output.contains("CORS request did not succeed") =>
        {
            None
        }
        (Some(k), [e]) if e.kind.id() == k || e.or_kinds.iter().any(|o| o.id() == k) => None,
        _ => Some(format!(
            "found {:?} where check says {kind:?} in {output:?}",
            found.iter().map(|e| e.kind.id()).collect::<Vec<_>>()
        )),
    }
}

/// What the server saw of one scenario: method, port, path and the CORS request headers.
fn sent(log: &[crate::support::Seen], marker: &str) -> String {
    let seen: Vec<String> = log
        .iter()
        .filter(|x| x.path.starts_with(marker))
        .map(|x| {
            let h = |n: &str| x.header(n);
            format!(
                "{} :{}{} origin={} acrm={} acrh={}",
                x.method,
                x.port,
                x.path,
                h("origin"),
                h("access-control-request-method"),
                h("access-control-request-headers")
            )
        })
        .collect();
    seen.join(" | ")
}

/// The Firefox or WebKit run against `corsair check --browser BROWSER`: readability, preflight,
/// the preflight cache, and the whole console output of every blocked request must agree.
fn assert_engine_agrees(
    browser: &str,
    server: &Server,
    scenarios: &[Scenario],
    cache_ids: &Repeated,
    run: EngineRun,
) {
    let log = server.take_log();
    let page = server.origin(0);
    let verdicts = corsair_pass(&page, scenarios, browser);
    let (mut disagreements, mut blocked, mut first_ok, mut whole_ok) = (Vec::new(), 0, 0, 0);
    let mut cache_misses: Vec<String> = Vec::new();
    let version = &run.version;
    for (s, v) in scenarios.iter().zip(&verdicts) {
        let marker = format!("/{}/", s.id);
        let Some(&b_allowed) = run.readable.get(&s.id) else {
            disagreements.push(format!("{}: {version} reported no result", s.label));
            continue;
        };
        let b_preflight = log
            .iter()
            .any(|x| x.method == "OPTIONS" && x.path.starts_with(&marker));
        let (c_allowed, c_preflight) = (v["allowed"] == true, v["preflight"] == true);
        if b_allowed != c_allowed || b_preflight != c_preflight {
            disagreements.push(format!(
                "{}: allowed {browser} {b_allowed} corsair {c_allowed}; preflight {browser} {b_preflight} corsair {c_preflight}\n    {browser} sent: {}",
                s.label,
                sent(&log, &marker)
            ));
        }
        if let Some((_, ma)) = cache_ids.iter().find(|(id, _)| *id == s.id) {
            let b_preflights = log
                .iter()
                .filter(|x| x.method == "OPTIONS" && x.path.starts_with(&marker))
                .count();
            let c_cached = v["preflight_cache"]["seconds"].as_u64().unwrap_or(0) > 0;
            if !c_cached && b_preflights != 2 {
                disagreements.push(format!("{}: preflight cache (max-age {ma:?}): {browser} preflighted {b_preflights} times for two requests, corsair says {}", s.label, v["preflight_cache"]));
            } else if c_cached && b_preflights != 1 {
                // Firefox 153 sometimes preflights again within a cached result's lifetime
                // (seen with max-age 10, one run in two): reported, not required yet.
                cache_misses.push(s.label.clone());
            }
            continue;
        }
        if b_allowed {
            continue;
        }
        blocked += 1;
        let lines = run.console.get(&s.id).cloned().unwrap_or_default();
        let mine = v["console"].as_str().unwrap_or_default();
        if let Some(why) = explain_disagrees(&lines.join("\n"), v) {
            disagreements.push(format!("{}: explain on {browser}'s output: {why}", s.label));
        }
        if lines.first().map(String::as_str) == mine.lines().next() {
            first_ok += 1;
        }
        if lines.join("\n") == mine {
            whole_ok += 1;
        } else {
            disagreements.push(format!(
                "{}: console\n    {browser} {lines:?}\n    corsair {mine:?}",
                s.label
            ));
        }
    }
    if !cache_misses.is_empty() {
        println!("{version} preflighted again within a cached result's lifetime: {cache_misses:?}");
    }
    println!(
        "{browser} differential: {version}: {} scenarios, {} disagreements; console of the {blocked} blocked: first line agrees on {first_ok}, the whole output on {whole_ok}",
        scenarios.len(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} of {} scenarios disagree with {version}:\n{}",
        disagreements.len(),
        scenarios.len(),
        disagreements.join("\n")
    );
}

/// The same matrix in real headless Firefox ESR (Marionette, tests/browser/firefox.py, in a
/// loopback-only network namespace) against `corsair check --browser firefox`.
#[test]
fn firefox_and_corsair_check_agree() {
    let server = Server::start(3);
    let page = server.origin(0);
    let (scenarios, cache_ids) = matrix(&server);
    let run = engines::run_firefox(&server, &page, &runner_scenarios(&scenarios, &cache_ids));
    assert_engine_agrees("firefox", &server, &scenarios, &cache_ids, run);
}

/// The same matrix in WebKit, Safari's engine (WebKitGTK's MiniBrowser under Xvfb,
/// tests/browser/webkit.py, in a loopback-only network namespace) against `corsair check
/// --browser safari`.
#[test]
fn webkit_and_corsair_check_agree() {
    let server = Server::start(3);
    let (scenarios, cache_ids) = matrix(&server);
    let run = engines::run_webkit(&server, &runner_scenarios(&scenarios, &cache_ids));
    assert_engine_agrees("safari", &server, &scenarios, &cache_ids, run);
}
