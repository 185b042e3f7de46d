//! Every fix corsair prints, applied to the real server. The fixes come from the two places a
//! user meets them: `corsair demo` (the fix `corsair check` prints for each classic failure, with
//! the request that failed) and `corsair explain` (for a console message of every failure kind,
//! in Chromium's and Firefox's wording, with the `corsair check` command it prints to reproduce
//! it). Each fix's snippet for Express, FastAPI (Starlette), nginx, Apache and axum (behind
//! corsair-tower and behind tower-http)
//! must be `corsair gen` output for the fix's policy; that output is started on the real server
//! and the failing request, re-run with `corsair check`, must pass.

use crate::support::free_port;
use crate::support::peers;
use corsair_core::{catalogue, Browser, Failure, FailureKind, RequestApi, Stage};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// (the stack's name in a fix, the `corsair gen` target that writes it).
const STACKS: [(&str, &str); 6] = [
    ("express", "express"),
    ("fastapi", "starlette"),
    ("nginx", "nginx"),
    ("apache", "apache"),
    ("axum", "axum"),
    ("tower-http", "tower-http"),
];

/// The stacks that are compiled Rust apps rather than configurations a server loads.
const COMPILED: [&str; 2] = ["axum", "tower-http"];

const PAGE: &str = "http://localhost:5173";

/// A failing request and where its fix came from.
#[derive(Clone, Debug)]
struct Request {
    from: String,
    origin: String,
    method: String,
    headers: Vec<String>,
    credentials: bool,
}

fn corsair(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(args)
        .output()
        .unwrap()
}

fn json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Adds a fix (its policy and snippets) and the request it must make pass.
fn add(fixes: &mut BTreeMap<String, (Value, Vec<Request>)>, fix: &Value, req: Request) {
    let policy = fix["policy"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no policy in the fix: {fix}", req.from))
        .to_string();
    let entry = fixes
        .entry(policy)
        .or_insert_with(|| (fix["snippets"].clone(), Vec::new()));
    assert_eq!(
        entry.0, fix["snippets"],
        "one policy, one set of snippets ({})",
        req.from
    );
    entry.1.push(req);
}

/// The fixes `corsair demo` prints (what `corsair check` prints for the same requests).
fn demo_fixes(fixes: &mut BTreeMap<String, (Value, Vec<Request>)>) -> usize {
    let v = json(&corsair(&["demo", "--format", "json"]));
    let cases = v["cases"].as_array().unwrap();
    let mut n = 0;
    for c in cases {
        let r = &c["request"];
        // Local Network Access has no header fix (the demo's browser test proves the grant).
        if c["broken"]["fix"].is_null() {
            assert_eq!(c["broken"]["kind"], "lna-permission-denied", "{c}");
            continue;
        }
        n += 1;
        add(
            fixes,
            &c["broken"]["fix"],
            Request {
                from: format!("demo {}", c["name"]),
                origin: r["origin"].as_str().unwrap().to_string(),
                method: r["method"].as_str().unwrap().to_string(),
                headers: r["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| format!("{}: {}", h[0].as_str().unwrap(), h[1].as_str().unwrap()))
                    .collect(),
                credentials: r["credentials"].as_bool().unwrap(),
            },
        );
    }
    n
}

/// A console message for every failure kind, at each stage it happens in, in Chromium's and
/// Firefox's wording, explained; the request is the one the printed Reproduce command makes.
fn explain_fixes(fixes: &mut BTreeMap<String, (Value, Vec<Request>)>) -> usize {
    use FailureKind::*;
    let mut n = 0;
    for kind in FailureKind::ALL {
        let stages: &[Stage] = match kind {
            PreflightInvalidStatus
            | PreflightDisallowedRedirect
            | InvalidAllowMethods
            | InvalidAllowHeaders
            | MethodNotAllowed
            | HeaderNotAllowed => &[Stage::Preflight],
            RedirectContainsCredentials => &[Stage::Actual],
            _ => &[Stage::Actual, Stage::Preflight],
        };
        let hint = match kind {
            MultipleAllowOriginValues => Some(format!("{PAGE}, https://other.example")),
            InvalidAllowOriginValue => Some(format!("{PAGE}/")),
            AllowOriginMismatch => Some("http://localhost:3000".to_string()),
            InvalidAllowCredentials => Some("True".to_string()),
            InvalidAllowMethods => Some("PU T".to_string()),
            InvalidAllowHeaders => Some("x;y".to_string()),
            MethodNotAllowed => Some("PATCH".to_string()),
            HeaderNotAllowed => Some("x-token".to_string()),
            _ => None,
        };
        for &stage in stages {
            let failure = Failure {
                kind,
                stage,
                hint: hint.clone(),
                status: Some(if kind == PreflightInvalidStatus {
                    404
                } else {
                    200
                }),
                allow_origin_lines: 1,
                url: "https://api.example.test/api/items".into(),
                initial_url: None,
                redirect_to: None,
                page_origin: PAGE.into(),
                sent_origin: PAGE.into(),
            };
            for browser in [Browser::Chromium, Browser::Firefox] {
                let message = catalogue::console_message(&failure, RequestApi::Fetch, browser);
                // Firefox reports this one as a network failure ("CORS request did not
                // succeed"), which names no CORS cause to fix. (Its other messages can end with
                // that line too, after the reason.)
                if corsair_core::explain::is_network_failure(message.lines().next().unwrap_or("")) {
                    continue;
                }
                // Firefox's wording names no origin: the user gives it, as explain asks.
                let o = corsair(&["explain", &message, "--origin", PAGE, "--format", "json"]);
                let v = json(&o);
                let e = &v["errors"][0];
                // Some wordings cover several kinds (Firefox's "does not match"): explain
                // names the first and lists the others.
                let named = std::iter::once(&e["kind"])
                    .chain(e["or_kinds"].as_array().into_iter().flatten())
                    .any(|k| k.as_str() == Some(kind.id()));
                assert!(
                    named,
                    "{message}: explained as {} {}",
                    e["kind"], e["or_kinds"]
                );
                let r = &e["reproduce"];
                add(
                    fixes,
                    &e["fix"],
                    Request {
                        from: format!("explain {} {stage:?} ({browser})", kind.id()),
                        origin: r["origin"].as_str().unwrap().to_string(),
                        method: r["method"].as_str().unwrap_or("GET").to_string(),
                        headers: r["headers"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|h| h.as_str().unwrap().to_string())
                            .collect(),
                        credentials: r["credentials"].as_bool().unwrap(),
                    },
                );
                n += 1;
            }
        }
    }
    n
}

/// `corsair check` against `base`; whether the browser could read the response.
fn check(base: &str, r: &Request) -> (bool, String) {
    let url = format!("{base}/api/items");
    // The peer stands in for a public API (Local Network Access would refuse a public page).
    let mut args = vec![
        "check".to_string(),
        "--target-space".into(),
        "public".into(),
        url,
        "--origin".into(),
        r.origin.clone(),
        "-X".into(),
        r.method.clone(),
        "--format".into(),
        "json".into(),
        "--timeout".into(),
        "5".into(),
    ];
    for h in &r.headers {
        args.push("-H".into());
        args.push(h.clone());
    }
    if r.credentials {
        args.push("--credentials".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = json(&corsair(&args));
    (
        v["allowed"].as_bool().unwrap_or(false),
        v["console"].as_str().unwrap_or("").to_string(),
    )
}

/// Asserts that a printed snippet is `corsair gen` output for the policy, as written for the
/// snippets (listening on 127.0.0.1:8080, proxying to http://127.0.0.1:3000).
fn assert_is_gen_output(dir: &Path, policy_file: &Path, stack: &str, target: &str, code: &str) {
    let out = dir.join(format!("printed-{target}.gen"));
    peers::gen_with(
        target,
        policy_file,
        &[
            "--listen",
            "127.0.0.1:8080",
            "--upstream",
            "http://127.0.0.1:3000",
        ],
        &out,
    );
    let generated = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        generated.trim_end(),
        code.trim_end(),
        "the {stack} snippet is not gen's output for its policy"
    );
}

#[test]
fn every_printed_fix_passes_on_the_real_server() {
    let mut fixes = BTreeMap::new();
    let from_demo = demo_fixes(&mut fixes);
    let from_explain = explain_fixes(&mut fixes);
    assert!(
        from_demo >= 13 && from_explain >= 30,
        "{from_demo} {from_explain}"
    );

    let dir = std::env::temp_dir().join(format!("corsair-fixes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let up = peers::items_upstream();

    // Each distinct policy: its file, and its two axum apps, all built in one background build.
    let mut groups = Vec::new();
    let mut bins = Vec::new();
    for (i, (policy, (snippets, requests))) in fixes.iter().enumerate() {
        let config = dir.join(format!("fix-{i}.toml"));
        std::fs::write(
            &config,
            format!("upstream = \"{}\"\n{policy}", up.origin(0)),
        )
        .unwrap();
        let snippets = snippets.as_array().unwrap();
        assert_eq!(snippets.len(), STACKS.len(), "{policy}: {snippets:?}");
        for (stack, target) in STACKS {
            let code = snippets
                .iter()
                .find(|s| s["stack"] == stack)
                .and_then(|s| s["code"].as_str())
                .unwrap_or_else(|| panic!("{policy}: no {stack} snippet"));
            assert_is_gen_output(&dir, &config, stack, target, code);
        }
        let mut ports = Vec::new();
        for target in COMPILED {
            let port = free_port();
            let name = format!("fix_{i}_{}", target.replace('-', "_"));
            let src = dir.join(format!("{name}.rs.gen"));
            peers::gen(target, &config, &format!("127.0.0.1:{port}"), &src);
            bins.push((name, std::fs::read_to_string(&src).unwrap()));
            ports.push(port);
        }
        groups.push((config, ports, requests));
    }
    let build = peers::start_axum_build(
        &crate::support::workspace_root().join("target/gen-axum-fixes"),
        &bins,
    );

    let mut failures = Vec::new();
    let mut checked = 0;
    let mut run = |name: &str, base: &str, requests: &[Request]| {
        for r in requests {
            let (allowed, console) = check(base, r);
            checked += 1;
            if !allowed {
                failures.push(format!("{name} fix for {}: {r:?}\n  {console}", r.from));
            }
        }
    };
    for (config, _, requests) in &groups {
        for (stack, target) in STACKS.iter().filter(|(_, t)| !COMPILED.contains(t)) {
            let (_proc, base) = peers::start_generated(target, config, &dir);
            run(stack, &base, requests);
        }
    }
    peers::finish_axum_build(build);
    for (i, (_, ports, requests)) in groups.iter().enumerate() {
        for (target, port) in COMPILED.iter().zip(ports) {
            let name = format!("fix_{i}_{}", target.replace('-', "_"));
            let _proc = peers::start_axum_bin(&name, *port);
            run(target, &format!("http://127.0.0.1:{port}"), requests);
        }
    }
    println!(
        "fixes: {} policies from {from_demo} demo cases and {from_explain} explained messages, \
            {checked} checks on real servers",
        groups.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
