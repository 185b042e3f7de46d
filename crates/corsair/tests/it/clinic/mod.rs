//! The clinic: real apps on loopback (Starlette, Flask, Django, Express, nginx, Apache and Caddy,
//! `corsair serve`), each broken the way people break CORS. For each, `corsair check` must name
//! the root cause (`diagnosis.kind`); the printed fix is then applied to the app (its policy
//! merged into the app's settings, or, where the cause is the path an answer takes, the stack's
//! mechanism the fix names; for a redirect, the final URL it names), and the page's fetch runs
//! in real headless Chromium: blocked before, readable after, and every request that worked
//! before still works.

mod apps;
mod cases;

use crate::support::{run_chromium_with, Server};
use apps::{App, Settings};
use cases::Case;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// The causes whose fix is not what the CORS layer allows: where it sits, the redirect, the
/// server itself (started, or serving a trusted certificate).
const PATH_CAUSES: [&str; 13] = [
    "connection-refused",
    "tls",
    "app-error",
    "proxy-error",
    "auth-wall",
    "preflight-auth",
    "missing-route",
    "options-not-routed",
    "redirect",
    "redirect-null-origin",
    "redirect-with-credentials",
    "duplicate-header",
    "cached-other-origin",
];

fn check(url: &str, origin: &str, r: &cases::Request, stack: Option<&str>, ca: &Path) -> Value {
    let mut args = vec![
        "check".to_string(),
        url.to_string(),
        "--cacert".into(),
        ca.display().to_string(),
        // The app stands in for an API on the internet (Local Network Access aside).
        "--target-space".into(),
        "public".into(),
        "--origin".into(),
        origin.to_string(),
        "-X".into(),
        r.method.to_string(),
        "--format".into(),
        "json".into(),
        "--timeout".into(),
        "5".into(),
    ];
    for (n, v) in &r.headers {
        args.push("-H".into());
        args.push(format!("{n}: {v}"));
    }
    if let Some(b) = &r.body {
        args.push("--data".into());
        args.push(b.clone());
    }
    if r.credentials {
        args.push("--credentials".into());
    }
    if let Some(s) = stack {
        args.push("--stack".into());
        args.push(s.into());
    }
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(&args)
        .output()
        .unwrap();
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Applies a printed fix to the app's settings: where the cause is the path, the mechanism;
/// otherwise the fix's policy, merged into what the app allows (the fix keeps what the server
/// already allows; merging keeps what the check could not see, such as other origins).
fn apply(s: &mut Settings, report: &Value) -> Option<String> {
    let kind = report["diagnosis"]["kind"].as_str().unwrap_or("");
    if kind == "redirect" || kind == "redirect-null-origin" {
        return report["diagnosis"]["final_url"].as_str().map(String::from);
    }
    if PATH_CAUSES.contains(&kind) {
        s.fixed_path = true;
    }
    if kind == "insecure-reflection" {
        // The remedy: an allowlist (of the page that works) instead of the reflection.
        s.reflect = false;
        s.origins = vec![report["request"]["origin"].as_str().unwrap().to_string()];
        return None;
    }
    let policy = report["fix"]["policy"].as_str()?;
    let t: toml::Value = toml::from_str(policy).unwrap();
    let p = &t["policy"];
    let list = |k: &str| -> Vec<String> {
        p.get(k)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    for o in list("origins") {
        if !s.origins.contains(&o) {
            s.origins.push(o);
        }
    }
    for m in list("methods") {
        if !s.methods.contains(&m) {
            s.methods.push(m);
        }
    }
    if let Some(h) = s.headers.as_mut() {
        for x in list("request_headers") {
            if !h.contains(&x) {
                h.push(x);
            }
        }
    }
    s.credentials |= p.get("credentials").and_then(|c| c.as_bool()) == Some(true);
    None
}

fn scenario(id: String, url: &str, r: &cases::Request) -> Value {
    let headers: serde_json::Map<String, Value> = r
        .headers
        .iter()
        .map(|(n, v)| (n.to_string(), json!(v)))
        .collect();
    json!({
        "id": id,
        "url": url,
        "method": r.method,
        "headers": headers,
        "credentials": r.credentials,
        "body": r.body,
    })
}

#[test]
fn the_clinic_names_each_root_cause_and_its_fix_works_on_the_real_app() {
    let pages = Server::start(1);
    let page = pages.origin(0);
    let dir = std::env::temp_dir().join(format!("corsair-clinic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = cases::cases(&page);
    assert!(cases.len() >= 38, "{}", cases.len());
    let tls = apps::tls(&dir);
    let ca = tls.ca.as_path();
    let chromium = [format!(
        "--ignore-certificate-errors-spki-list={}",
        tls.spki
    )];

    // Broken: the diagnosis, and the page's fetch in Chromium, blocked.
    let mut named = Vec::new();
    let mut wrong = Vec::new();
    let mut fixed: Vec<(Case, Settings, String, Vec<u16>)> = Vec::new();
    let mut before = Vec::new();
    {
        let mut running = Vec::new();
        let mut checked = Vec::new();
        for c in cases {
            let app = App::start(&c.broken, &dir, &page);
            // A whole answer, body read, so a cache in front stores it.
            for p in &c.prime {
                let addr = app.url("");
                let addr = addr.trim_start_matches("http://");
                let (status, _, _) =
                    crate::support::http(addr, "GET", &c.request.path, &[("Origin", p.as_str())]);
                assert_eq!(status, 200, "{}: priming the cache", c.name);
            }
            let url = app.url(&c.request.path);
            let v = check(&url, &page, &c.request, c.stack_arg, ca);
            checked.push((c, v, url.clone(), app.ports.clone()));
            running.push(app);
        }
        for (i, (c, v, url, ports)) in checked.into_iter().enumerate() {
            let kind = v["diagnosis"]["kind"]
                .as_str()
                .unwrap_or("none")
                .to_string();
            let summary = v["fix"]["summary"].as_str().unwrap_or("");
            if let Some(m) = c.mechanism.filter(|m| !summary.contains(m)) {
                wrong.push(format!(
                    "{}: the printed fix does not name the mechanism ({m:?}): {summary}",
                    c.name
                ));
            }
            let reason = v["diagnosis"]["redirect_reason"].as_str();
            if c.reason.is_some_and(|r| reason != Some(r)) {
                wrong.push(format!(
                    "{}: the redirect's reason is {reason:?}, expected {:?}",
                    c.name, c.reason
                ));
            }
            if kind == c.expect {
                named.push(c.name);
            } else {
                wrong.push(format!(
                    "{}: diagnosis {kind}, expected {}\n  {}",
                    c.name, c.expect, v["diagnosis"]
                ));
            }
            let mut s = c.broken.clone();
            let final_url = apply(&mut s, &v);
            before.push(scenario(format!("before-{i}"), &url, &c.request));
            fixed.push((c, s, final_url.unwrap_or_default(), ports));
        }
        let r = run_chromium_with(&format!("{page}/"), &json!(before), &chromium);
        for (i, (c, _, _, _)) in fixed.iter().enumerate() {
            let res = &r["results"][i];
            if res["ok"].as_bool() != Some(c.expect == "insecure-reflection") {
                wrong.push(format!("{} before the fix, in Chromium: {res}", c.name));
            }
        }
        drop(running);
    }

    // Fixed: the same fetch, and what worked before, in Chromium.
    let mut running = Vec::new();
    let mut after = Vec::new();
    let mut index: Vec<(&str, String, String, cases::Request)> = Vec::new();
    let mut others = Vec::new();
    for (n, (c, s, final_url, ports)) in fixed.iter().enumerate() {
        let app = App::start(s, &dir, &page);
        let url = if final_url.is_empty() {
            app.url(&c.request.path)
        } else {
            // The final URL on the restarted app's ports.
            app.rebase(ports, final_url)
        };
        after.push(scenario(format!("after-{n}"), &url, &c.request));
        index.push((
            c.name,
            "the failing request".to_string(),
            url.clone(),
            c.request.clone(),
        ));
        for w in &c.worked {
            match &w.origin {
                None => {
                    after.push(scenario(format!("worked-{n}"), &app.url(&w.path), w));
                    index.push((
                        c.name,
                        format!("{} {}", w.method, w.path),
                        app.url(&w.path),
                        w.clone(),
                    ));
                }
                Some(o) => others.push((c.name, app.url(&w.path), o.clone(), w.clone())),
            }
        }
        for o in &c.refused_after {
            others.push((
                c.name,
                app.url(&c.request.path),
                o.clone(),
                cases::Request {
                    expect_blocked: true,
                    ..c.request.clone()
                },
            ));
        }
        running.push(app);
    }
    let r = run_chromium_with(&format!("{page}/"), &json!(after), &chromium);
    let mut broken_fixes = Vec::new();
    for (i, (name, what, url, req)) in index.iter().enumerate() {
        let res = &r["results"][i];
        if res["ok"].as_bool() != Some(true) {
            let v = check(url, &page, req, None, ca);
            broken_fixes.push(format!(
                "{name}: {what} fails after the fix: {res}\n  corsair check: {} {} {}",
                v["allowed"], v["console"], v["net_error"]
            ));
        }
    }
    for (name, url, origin, w) in &others {
        let v = check(url, origin, w, None, ca);
        if v["allowed"].as_bool() == Some(w.expect_blocked) {
            broken_fixes.push(format!(
                "{name}: {} from {origin} {} after the fix: {}",
                w.method,
                if w.expect_blocked {
                    "is still allowed"
                } else {
                    "no longer works"
                },
                v["console"]
            ));
        }
    }
    if !broken_fixes.is_empty() {
        broken_fixes.push(format!("Chromium's console: {}", r["console"]));
    }
    drop(running);
    let total = fixed.len();
    let proven = total
        - fixed
            .iter()
            .filter(|(c, _, _, _)| broken_fixes.iter().any(|b| b.starts_with(c.name)))
            .count();
    println!(
        "clinic: root cause named {}/{total}, fix proven in Chromium {proven}/{total}",
        named.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    wrong.extend(broken_fixes);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
