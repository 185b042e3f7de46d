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
