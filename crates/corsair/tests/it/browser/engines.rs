//! Firefox and WebKit, run like the Chromium runner: a list of scenarios in, what each engine
//! did out. Both run in a loopback-only network namespace (tests/browser/loopback_only.py) that
//! reaches the test server's listeners and nothing else.

use crate::support::{workspace_root, Resp, Route, Server};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::process::Command;

/// What a runner saw in Firefox or WebKit: the engine's version, whether each scenario's
/// response was readable (or its element loaded), and the CORS console lines each one logged,
/// in order.
pub struct EngineRun {
    pub version: String,
    pub readable: HashMap<String, bool>,
    pub console: HashMap<String, Vec<String>>,
}

/// `command` run inside a loopback-only network namespace that reaches `server`'s listeners and
/// nothing else; its stdout as JSON.
fn run_isolated(server: &Server, command: &[&OsStr], what: &str) -> Value {
    let ports: Vec<String> = server.ports.iter().map(u16::to_string).collect();
    let out = Command::new("python3")
        .arg(workspace_root().join("tests/browser/loopback_only.py"))
        .arg(ports.join(","))
        .arg("--")
        .args(command)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "the {what} runner failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("the {what} runner printed no JSON ({e})"))
}

fn readable(out: &Value) -> HashMap<String, bool> {
    out["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["ok"] == true))
        .collect()
}

/// `scenarios` (the runners' format, see tests/browser/scenario.js) in headless Firefox ESR
/// through Marionette (tests/browser/firefox.py), from a page at `page`/.
pub fn run_firefox(server: &Server, page: &str, scenarios: &[Value]) -> EngineRun {
    run_firefox_doc(
        server,
        &json!({"pageUrl": format!("{page}/"), "scenarios": scenarios}),
    )
}

/// Firefox on a whole runner input: `{pageUrl, scenarios}` or `{pages: [{pageUrl, permissions,
/// scenarios}], prefs}` (see tests/browser/firefox.py). Each scenario's URL carries `/{id}/`,
/// which is how Firefox's lines (they name the URL) are told apart.
pub fn run_firefox_doc(server: &Server, doc: &Value) -> EngineRun {
    let python = workspace_root().join(".test-deps/venv/bin/python");
    assert!(
        python.exists() && std::path::Path::new("/usr/bin/firefox-esr").exists(),
        "Firefox ESR and marionette-driver are missing (bash scripts/test.sh installs them)"
    );
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "corsair-ff-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("scenarios.json");
    std::fs::write(&input, serde_json::to_vec(doc).unwrap()).unwrap();
    let runner = workspace_root().join("tests/browser/firefox.py");
    let out = run_isolated(
        server,
        &[python.as_os_str(), runner.as_os_str(), input.as_os_str()],
        "Firefox",
    );
    let _ = std::fs::remove_dir_all(&dir);
    // Its CORS lines, and its Local Network Access ones, without the script stack Firefox
    // appends to a message logged while a script runs.
    let lines: Vec<&str> = out["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .map(|m| m.lines().next().unwrap_or_default())
        .filter(|m| {
            m.starts_with("Cross-Origin Request Blocked") || m.starts_with("Local Network Access")
        })
        .collect();
    let ids: Vec<&str> = match doc["pages"].as_array() {
        Some(pages) => pages
            .iter()
            .flat_map(|p| p["scenarios"].as_array().unwrap())
            .filter_map(|s| s["id"].as_str())
            .collect(),
        None => doc["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["id"].as_str())
            .collect(),
    };
    let console = ids
        .iter()
        .map(|id| {
            let marker = format!("/{id}/");
            let mine = lines.iter().filter(|m| m.contains(&marker));
            (id.to_string(), mine.map(|m| m.to_string()).collect())
        })
        .collect();
    EngineRun {
        version: out["version"].as_str().unwrap_or("Firefox ?").to_string(),
        readable: readable(&out),
        console,
    }
}

/// `scenarios` in WebKit, Safari's engine (WebKitGTK's MiniBrowser under Xvfb,
/// tests/browser/webkit.py), from a runner page served on `server`'s first listener.
pub fn run_webkit(server: &Server, scenarios: &[Value]) -> EngineRun {
    let page = server.origin(0);
    let read = |f: &str| {
        std::fs::read_to_string(workspace_root().join("tests/browser").join(f))
            .unwrap_or_else(|e| panic!("tests/browser/{f}: {e}"))
    };
    let script = format!("{}\n{}", read("scenario.js"), read("webkit_page.js"));
    let input = json!({ "scenarios": scenarios }).to_string();
    // The runner page, on the page's origin: the scenarios, then the script that runs them.
    let html = format!(
        "<!doctype html><meta charset=utf-8><title>corsair webkit \
            runner</title><body><script>const INPUT = {};</script><script>{script}</script>",
        input.replace("</", "<\\/")
    );
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let path = format!(
        "/webkit-runner-{}",
        RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    server.route(
        server.ports[0],
        &path,
        Route {
            preflight: Resp::new(404),
            actual: Resp::new(200)
                .h("Content-Type", "text/html; charset=utf-8")
                .body(html),
        },
    );
    let runner = workspace_root().join("tests/browser/webkit.py");
    let url = format!("{page}{path}");
    let out = run_isolated(
        server,
        &[OsStr::new("python3"), runner.as_os_str(), OsStr::new(&url)],
        "WebKit",
    );
    EngineRun {
        version: out["version"].as_str().unwrap_or("WebKit ?").to_string(),
        readable: readable(&out),
        console: serde_json::from_value(out["console"].clone()).expect("console: {id: [line]}"),
    }
}
