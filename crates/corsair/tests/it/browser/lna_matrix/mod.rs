//! The Local Network Access and destinations differential: real headless Chromium and
//! `corsair check` over a generated matrix, which must agree on whether the page can read the
//! response (or the element loads), and on the exact console message.
//!
//! - LNA: page space (public, local, loopback) × secure context (http://127.0.0.1 is one,
//!   http://page.test mapped to 127.0.0.1 is not) × permission (untouched, granted, denied,
//!   loopback-network only; set per origin through CDP's `Browser.setPermission`, and through
//!   Playwright's `grantPermissions`) × target space (loopback, local, public) × request kind
//!   (simple and preflighted fetch, XHR, credentials, image, font, no-cors script, and each
//!   `targetAddressSpace`). Spaces come from `--ip-address-space-overrides`; corsair is told
//!   the same with `--page-space` and `--target-space`. A request LNA refuses must not reach
//!   the server, in Chromium or in corsair.
//! - Destinations: font, image, script, module and stylesheet, with and without `crossorigin`,
//!   × server answers, from a loopback page (no LNA).
//!
//! Every request goes to 127.0.0.1.

use crate::support::{Resp, Route, Server};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::Command;

const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21,
    0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 1, 0x44, 0, 0x3b,
];
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// The body and content type an element needs to load.
fn body_for(api: &str) -> (Vec<u8>, &'static str) {
    match api {
        "image" => (GIF.to_vec(), "image/gif"),
        "font" => (
            std::fs::read(FONT).unwrap_or_else(|e| {
                panic!("{FONT}: {e} (scripts/test.sh installs fonts-dejavu-core)")
            }),
            "font/ttf",
        ),
        "script" | "module" => (b"void 0;\n".to_vec(), "text/javascript"),
        "stylesheet" => (b"a{}\n".to_vec(), "text/css"),
        _ => (b"{\"ok\":true}".to_vec(), "application/json"),
    }
}

/// One request of the matrix.
#[derive(Clone)]
struct Case {
    id: String,
    label: String,
    url: String,
    page: String,
    api: &'static str,
    method: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    credentials: bool,
    crossorigin: Option<&'static str>,
    target_address_space: Option<&'static str>,
    /// corsair's LNA flags.
    flags: Vec<String>,
}

impl Case {
    fn scenario(&self) -> Value {
        json!({
            "id": self.id,
            "url": self.url,
            "method": self.method,
            "headers": self.headers,
            "credentials": self.credentials,
            "body": null,
            "api": self.api,
            "crossorigin": self.crossorigin,
            "targetAddressSpace": self.target_address_space,
        })
    }

    fn corsair(&self) -> Value {
        self.corsair_as("chromium")
    }

    fn corsair_as(&self, browser: &str) -> Value {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_corsair"));
        cmd.args([
            "check",
            &self.url,
            "--origin",
            &self.page,
            "--format",
            "json",
            "--browser",
            browser,
        ])
        .args(["--method", self.method, "--api", self.api])
        .args(&self.flags);
        for (n, v) in &self.headers {
            cmd.args(["--header", &format!("{n}: {v}")]);
        }
        if self.credentials {
            cmd.arg("--credentials");
        }
        if let Some(c) = self.crossorigin {
            cmd.args(["--crossorigin", c]);
        }
        if let Some(t) = self.target_address_space {
            cmd.args(["--target-address-space", t]);
        }
        let out = cmd.output().expect("run corsair");
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: corsair printed no JSON ({e}); stderr: {}",
                self.label,
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

/// The CORS console lines Chromium logged for a case (its URLs carry `/{id}/`).
fn chromium_line(console: &[String], id: &str) -> Option<String> {
    let lines: Vec<&String> = console
        .iter()
        .filter(|c| c.starts_with("Access to ") && c.contains(&format!("/{id}/")))
        .collect();
    assert!(lines.len() <= 1, "{id}: several CORS lines: {lines:?}");
    lines.first().map(|c| c.to_string())
}

/// Runs the cases in Chromium (one page per origin) and in corsair, prints the figures, and
/// fails on any disagreement.
fn compare(what: &str, server: &Server, pages: Value, cases: &[Case], args: &[String]) {
    let report = crate::support::run_chromium_pages(&pages, args);
    let version = report["version"].as_str().unwrap_or("?").to_string();
    let ok: HashMap<String, bool> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["ok"] == true))
        .collect();
    let console: Vec<String> = report["console"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let seen: Vec<String> = server.take_log().into_iter().map(|s| s.path).collect();
    let refused = console
        .iter()
        .filter(|c| c.starts_with("Access to ") && c.contains("address space"))
        .count();
    let readable = ok.values().filter(|v| **v).count();
    println!(
        "  chromium: {readable} of {} loaded or readable, {refused} refused by Local Network \
            Access; permissions it would not set: {}",
        cases.len(),
        report["permissionErrors"]
    );
    let mut bad = Vec::new();
    for c in cases {
        let theirs_ok = ok[&c.id];
        let theirs = chromium_line(&console, &c.id);
        let mine = c.corsair();
        let mine_ok = mine["allowed"] == true;
        let mine_line = mine["console"].as_str().map(str::to_string);
        if theirs_ok != mine_ok || theirs != mine_line {
            bad.push(format!(
                "{}\n    chromium: ok={theirs_ok} {theirs:?}\n    corsair:  ok={mine_ok} \
                    {mine_line:?}",
                c.label
            ));
        }
        // A refused connection sends nothing, in the browser and in corsair.
        if theirs
            .as_deref()
            .is_some_and(|l| l.contains("address space"))
        {
            let reached = seen.iter().any(|p| p.starts_with(&format!("/{}/", c.id)));
            let sent = mine["exchanges"].as_array().map_or(0, |e| e.len());
            if reached || sent > 0 {
                bad.push(format!(
                    "{}: refused by LNA, yet reached the server (chromium {reached}, \
                    corsair {sent} exchanges)",
                    c.label
                ));
            }
        }
    }
    println!(
        "{what} differential in {version}: {} scenarios, {} disagreements",
        cases.len(),
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "{} disagreements:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// A route answering every method with `resp` (preflights with the methods and headers the
/// matrix uses).
fn route(resp: Resp) -> Route {
    Route {
        preflight: Resp::new(204)
            .h("Access-Control-Allow-Origin", "*")
            .h("Access-Control-Allow-Methods", "PUT")
            .h("Access-Control-Allow-Headers", "x-a"),
        actual: resp,
    }
}

/// A request kind of the LNA matrix: (name, api, method, headers, credentials, crossorigin,
/// targetAddressSpace).
type Kind = (
    &'static str,
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    bool,
    Option<&'static str>,
    Option<&'static str>,
);

fn lna_kinds() -> Vec<Kind> {
    vec![
        ("get", "fetch", "GET", vec![], false, None, None),
        ("put", "fetch", "PUT", vec![("X-A", "1")], false, None, None),
        ("xhr", "xhr", "GET", vec![], false, None, None),
        ("credentials", "fetch", "GET", vec![], true, None, None),
        (
            "image",
            "image",
            "GET",
            vec![],
            false,
            Some("anonymous"),
            None,
        ),
        ("font", "font", "GET", vec![], false, None, None),
        ("script-no-cors", "script", "GET", vec![], false, None, None),
        (
            "tas-loopback",
            "fetch",
            "GET",
            vec![],
            false,
            None,
            Some("loopback"),
        ),
        (
            "tas-local",
            "fetch",
            "GET",
            vec![],
            false,
            None,
            Some("local"),
        ),
        (
            "tas-public",
            "fetch",
            "GET",
            vec![],
            false,
            None,
            Some("public"),
        ),
    ]
}

/// The address spaces, from the least private.
const SPACES: [&str; 3] = ["public", "local", "loopback"];

/// Permission states both engines take: (name, the engine's settings (null: untouched),
/// corsair's flags for them).
fn lna_permissions() -> Vec<(&'static str, Value, &'static [&'static str])> {
    vec![
        ("untouched", Value::Null, &[]),
        (
            "granted",
            json!({"loopback-network": "granted", "local-network": "granted"}),
            &["--lna-permission", "granted"],
        ),
        (
            "denied",
            json!({"loopback-network": "denied", "local-network": "denied"}),
            &["--lna-permission", "denied"],
        ),
        (
            "loopback-only",
            json!({"loopback-network": "granted", "local-network": "denied"}),
            &[
                "--lna-permission",
                "loopback-network=granted",
                "--lna-permission",
                "local-network=denied",
            ],
        ),
    ]
}

/// One case of the LNA matrix, its route set on `server`: a request of `kind` from `page` (in
/// `space`, secure or not, with the permissions named `perm`, whose corsair flags are `flags`)
/// to the listener `tport` in `tspace`.
fn lna_case(
    server: &Server,
    id: String,
    page: &str,
    (space, secure, perm, tspace, tport): (&str, bool, &str, &str, u16),
    flags: &[&str],
    kind: &Kind,
) -> Case {
    let (kname, api, method, headers, credentials, crossorigin, tas) = kind;
    let path = format!("/{id}/r");
    let (body, ctype) = body_for(api);
    let resp = Resp::new(200)
        .h("Access-Control-Allow-Origin", "*")
        .h("Content-Type", ctype)
        .body(body);
    server.route(tport, &path, route(resp));
    let mut f: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    f.extend([
        "--page-space".into(),
        space.to_string(),
        "--target-space".into(),
        tspace.to_string(),
    ]);
    Case {
        label: format!(
            "{id} page {space} {} {perm} → {tspace} {kname}",
            if secure { "secure" } else { "insecure" }
        ),
        url: format!("http://127.0.0.1:{tport}{path}"),
        page: page.to_string(),
        id,
        api,
        method,
        headers: headers.clone(),
        credentials: *credentials,
        crossorigin: *crossorigin,
        target_address_space: *tas,
        flags: f,
    }
}

mod agree;
