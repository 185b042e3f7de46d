//! Local Network Access in real headless Chromium: a page made public with
//! `--ip-address-space-overrides` fetches a loopback and a local target. Chromium refuses both
//! before they reach the server, and `corsair explain` reads each console line back to its
//! address space, URL and origin, with fixes that are not response headers.

use crate::support::{run_chromium_with, Resp, Route, Server};
use std::process::Command;

#[test]
fn chromium_refusals_are_explained_as_local_network_access() {
    let s = Server::start(3);
    let (page, loopback, local) = (s.ports[0], s.ports[1], s.ports[2]);
    for port in [loopback, local] {
        s.route(
            port,
            "/x",
            Route {
                preflight: Resp::new(204).h("Access-Control-Allow-Origin", "*"),
                actual: Resp::new(200).h("Access-Control-Allow-Origin", "*"),
            },
        );
    }
    let page_origin = s.origin(0);
    let scenarios = serde_json::json!([
        {"id": "loopback", "url": format!("{}/x", s.origin(1)), "method": "GET", "headers": [], "credentials": false, "body": null, "api": "fetch"},
        {"id": "local", "url": format!("{}/x", s.origin(2)), "method": "GET", "headers": [], "credentials": false, "body": null, "api": "fetch"},
    ]);
    let overrides =
        format!("--ip-address-space-overrides=127.0.0.1:{page}=public,127.0.0.1:{local}=local");
    let r = run_chromium_with(&format!("{page_origin}/"), &scenarios, &[overrides]);
    println!("LNA in {}", r["version"]);
    let results = r["results"].as_array().unwrap();
    assert!(
        results.iter().all(|x| x["ok"] == false),
        "headless Chromium denies the permission: {results:?}"
    );
    let seen: Vec<u16> = s
        .take_log()
        .iter()
        .map(|x| x.port)
        .filter(|p| *p != page)
        .collect();
    assert!(seen.is_empty(), "no request reached a target: {seen:?}");
    let console: Vec<String> = r["console"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .filter(|c| c.contains("address space"))
        .collect();
    for (space, port) in [("loopback", loopback), ("local", local)] {
        let line = console
            .iter()
            .find(|c| c.contains(&format!(":{port}/")))
            .unwrap_or_else(|| panic!("no console line for the {space} target: {console:?}"));
        let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
            .args(["explain", "--format", "json", line])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{line}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let lna = &v["lna"];
        assert_eq!(lna["space"], space, "{line}");
        assert_eq!(lna["url"], format!("http://127.0.0.1:{port}/x"));
        assert_eq!(lna["origin"], page_origin.as_str());
        assert_eq!(lna["destination"], "fetch");
        let fixes = lna["fixes"].to_string();
        assert!(
            !fixes.contains("Access-Control-Allow"),
            "no header fixes it: {fixes}"
        );
    }
}

/// A cross-site iframe on a public page fetches loopback. Chromium 156 decides on the
/// top-level page's permission, with or without `allow="local-network-access"`: refused while
/// it is undecided (the message names the frame's origin), allowed once the top-level origin
/// has `loopback-network`. The README and the fixes say so; this test notices when Chromium
/// starts to require the attribute.
#[test]
fn iframes_use_the_top_level_pages_permission() {
    let s = Server::start(3);
    let (page, frame, target) = (s.ports[0], s.ports[1], s.ports[2]);
    s.route(
        target,
        "/x",
        Route {
            preflight: Resp::new(204).h("Access-Control-Allow-Origin", "*"),
            actual: Resp::new(200).h("Access-Control-Allow-Origin", "*"),
        },
    );
    let target_url = format!("http://127.0.0.1:{target}/x");
    let frame_html = format!(
        "<!doctype html><script>fetch('{target_url}').then(() => \
        parent.postMessage('ok', '*'), () => parent.postMessage('err', '*'))</script>"
    );
    s.route(
        frame,
        "/frame",
        Route {
            preflight: Resp::new(204),
            actual: Resp::new(200)
                .h("Content-Type", "text/html")
                .body(frame_html),
        },
    );
    // localhost is another site than 127.0.0.1; both are public here.
    let frame_url = format!("http://localhost:{frame}/frame");
    let scenario = |id: &str, allow: Option<&str>| serde_json::json!({"id": id, "url": frame_url, "api": "iframe", "allow": allow, "method": "GET", "headers": [], "credentials": false, "body": null});
    let page_url = format!("http://127.0.0.1:{page}/");
    let pages = serde_json::json!([
        {"pageUrl": page_url, "permissions": null, "scenarios": [scenario("untouched", None), scenario("untouched-allow", Some("local-network-access"))]},
        {"pageUrl": page_url, "permissions": {"loopback-network": "granted"}, "scenarios": [scenario("granted", None), scenario("granted-allow", Some("local-network-access"))]},
    ]);
    let args = [format!("--ip-address-space-overrides=127.0.0.1:{page}=public,127.0.0.1:{frame}=public,[::1]:{frame}=public")];
    let r = crate::support::run_chromium_pages(&pages, &args);
    let ok = |id: &str| {
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap()["ok"]
            == true
    };
    assert!(!ok("untouched") && !ok("untouched-allow"), "{r}");
    assert!(ok("granted") && ok("granted-allow"), "{r}");
    let refused = format!(
        "Access to fetch at '{target_url}' from origin \
        'http://localhost:{frame}' has been blocked by CORS policy: Permission was denied for this \
        request to access the `loopback` address space."
    );
    assert!(
        r["console"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == refused.as_str()),
        "{}",
        r["console"]
    );
}
