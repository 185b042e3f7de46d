//! `corsair proxy` in headless Chromium: a page on `origins` reads an API through the proxy
//! (GET and a preflighted PUT); a page that is not on the list is blocked by the browser, with
//! the console line `corsair check` predicts for the same request.

use crate::support::{run_chromium, Resp, Route, Server};
use serde_json::json;
use std::process::Command;

#[test]
fn allowed_pages_read_through_the_proxy_and_others_are_blocked() {
    let s = Server::start(3);
    let (page, other, api) = (s.origin(0), s.origin(1), s.ports[2]);
    // The second listener serves a page too (the support server's first port does): give it one.
    s.route(
        s.ports[1],
        "/",
        Route {
            preflight: Resp::new(204),
            actual: Resp::new(200)
                .h("Content-Type", "text/html")
                .body("<!doctype html><title>other</title>"),
        },
    );
    s.route(
        api,
        "/items",
        Route {
            preflight: Resp::new(204),
            actual: Resp::new(200)
                .h("Content-Type", "application/json")
                .h("Set-Cookie", "sid=1")
                .body("{\"items\":[]}"),
        },
    );
    let dir = std::env::temp_dir().join(format!("corsair-relay-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("proxy.toml");
    std::fs::write(
        &config,
        format!(
            "admin = \"127.0.0.1:0\"\n[proxy]\norigins = [\"{page}\"]\ntargets = \
            [\"http://127.0.0.1:{api}\"]\nallow_private = [\"127.0.0.1:{api}\"]\n"
        ),
    )
    .unwrap();
    let proxy = crate::relay::spawn_proxy(&config, &[], &[]);
    let through = format!("http://{}/http://127.0.0.1:{api}/items", proxy.addr);
    let scenario = |id: &str, method: &str, headers: serde_json::Value| json!({"id": id, "url": through, "method": method, "headers": headers, "credentials": false, "body": null, "api": "fetch"});
    let allowed = run_chromium(
        &format!("{page}/"),
        &json!([
            scenario("get", "GET", json!([])),
            scenario("put", "PUT", json!([["Content-Type", "application/json"]]))
        ]),
    );
    for r in allowed["results"].as_array().unwrap() {
        assert_eq!(r["ok"], true, "{r} {}", allowed["console"]);
    }
    let refused = run_chromium(
        &format!("{other}/"),
        &json!([scenario("get", "GET", json!([]))]),
    );
    assert_eq!(refused["results"][0]["ok"], false, "{refused}");
    let line = refused["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str())
        .find(|c| c.starts_with("Access to fetch"))
        .unwrap_or_else(|| panic!("no CORS line: {}", refused["console"]))
        .to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["check", &through, "--origin", &other, "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["console"].as_str(),
        Some(line.as_str()),
        "corsair check predicts Chromium's line"
    );
    println!(
        "corsair proxy in {}: allowed page reads GET and PUT, another page is blocked",
        allowed["version"]
    );
}
