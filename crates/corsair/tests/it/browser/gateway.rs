//! A page on one loopback origin calls an API behind `corsair serve` on another, in headless
//! Chromium: the allowed origin works with credentials and custom headers; a refused origin, and a
//! method the policy does not allow, are blocked with exactly the console message `corsair check`
//! predicts for the same request.

use crate::support::{Gateway, Resp, Route, Server};
use serde_json::{json, Value};
use std::process::Command;

fn predicted(
    url: &str,
    origin: &str,
    method: &str,
    headers: &[(&str, &str)],
    credentials: bool,
    extra: &[&str],
) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corsair"));
    cmd.args([
        "check", url, "--origin", origin, "--method", method, "--format", "json",
    ])
    .args(extra);
    for (n, v) in headers {
        cmd.args(["--header", &format!("{n}: {v}")]);
    }
    if credentials {
        cmd.arg("--credentials");
    }
    serde_json::from_slice(&cmd.output().unwrap().stdout).unwrap()
}

#[test]
fn browser_through_the_gateway_matches_corsair_check() {
    let pages = Server::start(2);
    let upstream_port = pages.ports[1];
    pages.route(
        upstream_port,
        "/api/items",
        Route {
            preflight: Resp::new(405),
            actual: Resp::new(200).h("Content-Type", "application/json"),
        },
    );
    let allowed_page = pages.origin(0);
    let refused_page = allowed_page.replace("127.0.0.1", "localhost");
    let dir = std::env::temp_dir().join(format!("corsair-bgw-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("corsair.toml");
    std::fs::write(
        &cfg,
        format!(
            "upstream = \"http://127.0.0.1:{upstream_port}\"\n[policy]\norigins = \
                [\"{allowed_page}\"]\nmethods = \
                [\"GET\", \"POST\", \"PUT\", \"DELETE\"]\nrequest_headers = \
                [\"Content-Type\", \"Authorization\", \"X-Custom\"]\nexpose_headers = \
                [\"X-Total-Count\"]\ncredentials = true\nmax_age = 60\n"
        ),
    )
    .unwrap();
    let gw = Gateway::start(&cfg, &[]);
    let url = format!("http://{}/api/items", gw.addr);
    let scenarios = |tag: &str| {
        json!([
            {"id": format!("{tag}-get"), "url": format!("{url}?{tag}-get"), "method": "GET", "headers": [["X-Custom", "1"]], "credentials": true, "body": null, "api": "fetch"},
            {"id": format!("{tag}-put"), "url": format!("{url}?{tag}-put"), "method": "PUT", "headers": [["Content-Type", "application/json"], ["Authorization", "Bearer \
                t"]], "credentials": true, "body": "{}", "api": "fetch"},
            {"id": format!("{tag}-patch"), "url": format!("{url}?{tag}-patch"), "method": "PATCH", "headers": [], "credentials": true, "body": "{}", "api": "fetch"},
        ])
    };
    let allowed = crate::support::run_chromium(&format!("{allowed_page}/"), &scenarios("a"));
    let refused = crate::support::run_chromium(&format!("{refused_page}/"), &scenarios("r"));
    let result = |v: &Value, id: &str| {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["ok"]
            .as_bool()
            .unwrap()
    };
    let console = |v: &Value, id: &str| {
        v["console"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m.as_str())
            .find(|m| m.contains(&format!("?{id}'")) && m.contains("CORS policy"))
            .map(str::to_string)
    };
    assert!(result(&allowed, "a-get"), "{allowed}");
    assert!(result(&allowed, "a-put"), "{allowed}");
    let cases = [
        (&allowed, "a-patch", allowed_page.as_str(), "PATCH", vec![]),
        (
            &refused,
            "r-get",
            refused_page.as_str(),
            "GET",
            vec![("X-Custom", "1")],
        ),
        (
            &refused,
            "r-put",
            refused_page.as_str(),
            "PUT",
            vec![
                ("Content-Type", "application/json"),
                ("Authorization", "Bearer t"),
            ],
        ),
    ];
    for (run, id, origin, method, headers) in cases {
        assert!(!result(run, id), "{id} should be blocked");
        let browser =
            console(run, id).unwrap_or_else(|| panic!("no console message for {id}: {run}"));
        let p = predicted(&format!("{url}?{id}"), origin, method, &headers, true, &[]);
        assert_eq!(p["allowed"], false, "{id}");
        assert_eq!(
            p["console"].as_str(),
            Some(browser.as_str()),
            "{id}: corsair check predicts a different message"
        );
    }
    println!(
        "browser through the gateway: Chromium {} agrees with corsair check on 2 allowed and \
        3 blocked requests",
        allowed["version"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Headless Chromium over HTTPS and HTTP/2 to `corsair serve` (`[tls]`, a certificate from a
/// test CA that Chromium is told to accept by its key's hash): a credentialed cross-origin call
/// from an allowed page goes through over h2 with the policy's headers; a refused origin is
/// blocked with the message `corsair check` predicts.
#[test]
fn chromium_over_https_and_http2() {
    let pages = Server::start(2);
    let upstream_port = pages.ports[1];
    pages.route(
        upstream_port,
        "/api/items",
        Route {
            preflight: Resp::new(405),
            actual: Resp::new(200)
                .h("Content-Type", "application/json")
                .h("Timing-Allow-Origin", "*"),
        },
    );
    let allowed_page = pages.origin(0);
    let dir = std::env::temp_dir().join(format!("corsair-bgw-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = crate::support::cert("corsair test CA", None);
    let ca_pair = (ca.2, ca.3);
    let leaf = crate::support::cert("localhost", Some(&ca_pair));
    std::fs::write(dir.join("cert.pem"), &leaf.0).unwrap();
    std::fs::write(dir.join("key.pem"), &leaf.1).unwrap();
    let cfg = dir.join("corsair.toml");
    std::fs::write(
        &cfg,
        format!(
            "upstream = \"http://127.0.0.1:{upstream_port}\"\n[tls]\ncert = \"cert.pem\"\nkey \
                = \"key.pem\"\n[policy]\norigins = [\"{allowed_page}\"]\nmethods = \
                [\"GET\", \"PUT\"]\nrequest_headers = [\"Content-Type\"]\ncredentials = true\n"
        ),
    )
    .unwrap();
    let gw = Gateway::start(&cfg, &[]);
    let port = gw.addr.rsplit(':').next().unwrap();
    let url = format!("https://localhost:{port}/api/items");
    let scenarios = json!([
        {"id": "tls-get", "url": format!("{url}?get"), "method": "GET", "headers": [], "credentials": true, "body": null, "api": "fetch"},
        {"id": "tls-put", "url": format!("{url}?put"), "method": "PUT", "headers": [["Content-Type", "application/json"]], "credentials": true, "body": "{}", "api": "fetch"},
    ]);
    let args = vec![format!(
        "--ignore-certificate-errors-spki-list={}",
        crate::support::spki_hash(&leaf.0)
    )];
    let r = crate::support::run_chromium_with(&format!("{allowed_page}/"), &scenarios, &args);
    let results = r["results"].as_array().unwrap();
    for x in results {
        assert_eq!(x["ok"], true, "{x} {r}");
        assert_eq!(x["protocol"], "h2", "over HTTP/2: {x}");
    }
    // A refused origin: blocked, with the message corsair check predicts for it.
    let refused_page = allowed_page.replace("127.0.0.1", "localhost");
    let r = crate::support::run_chromium_with(
        &format!("{refused_page}/"),
        &json!([{"id": "tls-refused", "url": format!("{url}?refused"), "method": "GET", "headers": [], "credentials": true, "body": null, "api": "fetch"}]),
        &args,
    );
    assert_eq!(r["results"][0]["ok"], false, "{r}");
    let line = r["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|c| c.contains("blocked by CORS policy"))
        .unwrap_or_else(|| panic!("no CORS line: {r}"))
        .to_string();
    std::fs::write(dir.join("ca.pem"), &ca.0).unwrap();
    let v = predicted(
        &format!("{url}?refused"),
        &refused_page,
        "GET",
        &[],
        true,
        &["--cacert", dir.join("ca.pem").to_str().unwrap()],
    );
    assert_eq!(v["console"], line.as_str(), "{v}");
}
