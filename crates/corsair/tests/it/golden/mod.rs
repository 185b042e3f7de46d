//! Golden files (insta) for the text every command prints, so each change of wording is seen
//! and reviewed in `tests/it/snapshots/`. Ports, which change each run, are replaced by
//! `[port]`; colour is off (no terminal). Update with `INSTA_UPDATE=always cargo test --test it
//! golden::` (or `cargo insta review`) and read the diff.

use crate::support::{Resp, Route, Server};
use std::io::Write;
use std::process::{Command, Stdio};

/// A directory of its own holding a `corsair.toml` with `text`.
pub(super) fn policy_dir(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("corsair-golden-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("corsair.toml"), text).unwrap();
    dir
}

/// Runs corsair and returns what a user sees (stdout, then stderr) and the exit status.
pub(super) fn run(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(args)
        .env_remove("CORSAIR_ENV")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    let o = child.wait_with_output().unwrap();
    format!(
        "exit {}\n{}{}",
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

macro_rules! golden {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            filters => vec![
                (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
                (r"localhost:\d+", "localhost:[port]"),
                (r"api\.fleet\.test:\d+", "api.fleet.test:[port]"),
                (r"in \d+(\.\d+)? ?(ms|s)\b", "in [time]"),
                (r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", "[date]"),
                (r#""options": ?"sha256:[0-9a-f]+""#, r#""options":"sha256:[fingerprint]""#),
                (r#""seconds": ?\d+(\.\d+)?"#, r#""seconds": "[time]""#),
            ],
            prepend_module_to_snapshot => false,
            snapshot_path => "../snapshots",
        }, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

// After the macro, so that they can use it.
mod gen;
mod help;
mod json;

#[test]
fn demo_text() {
    golden!("demo", run(&["demo"], None));
}

#[test]
fn explain_text() {
    let chromium = "Access to fetch at 'https://api.x.io/v1/items' from origin \
        'http://localhost:5173' has been blocked by CORS policy: Response to preflight request \
        doesn't pass access control check: The value of the 'Access-Control-Allow-Origin' header \
        in the response must not be the wildcard '*' when the request's credentials mode is \
        'include'.";
    golden!(
        "explain-chromium-express",
        run(&["explain", chromium, "--stack", "express"], None)
    );
    let firefox = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the \
        remote resource at https://api.x.io/v1/items. (Reason: CORS header \
        ‘Access-Control-Allow-Origin’ missing). Status code: 200.";
    golden!(
        "explain-firefox",
        run(
            &["explain", "--origin", "https://app.example.com"],
            Some(firefox)
        )
    );
    golden!(
        "explain-bare",
        run(&["explain", "TypeError: Failed to fetch"], None)
    );
    golden!("explain-unknown", run(&["explain", "something else"], None));
}

#[test]
fn policy_lint_text() {
    let dir = policy_dir(
        "lint",
        "listen = \"127.0.0.1:8080\"\n[gateway]\nstall_timout = 3\n[policy]\norigins = \
            [\"*\", \"null\", \"https://app.example.com/\", \"http://intranet.example\"]\nmethods \
            = [\"TRACE\", \"put\"]\nrequest_header = [\"X-Token\"]\ncredentials = true\nmax_age = \
            86400\n",
    );
    let file = dir.join("corsair.toml");
    let out = run(&["policy", "lint", file.to_str().unwrap()], None)
        .replace(&*dir.to_string_lossy(), "[dir]");
    golden!("policy-lint", out);
}

/// The page every check golden file is for.
const PAGE: &str = "https://app.example.com";

/// A loopback API whose `/items` allows [`PAGE`] for GET and POST (preflights included), and
/// its URL.
fn items_api() -> (Server, String) {
    let api = Server::start(1);
    api.route(
        api.ports[0],
        "/items",
        Route {
            preflight: Resp::new(204)
                .h("Access-Control-Allow-Origin", PAGE)
                .h("Access-Control-Allow-Methods", "GET, POST"),
            actual: Resp::new(200).h("Access-Control-Allow-Origin", PAGE),
        },
    );
    let url = format!("{}/items", api.origin(0));
    (api, url)
}

#[test]
fn check_text() {
    let (_api, url) = items_api();
    let page = PAGE;
    // The server stands in for a public API: --target-space public (on loopback, Local Network
    // Access refuses a public page, which check-lna shows).
    golden!(
        "check-allowed",
        run(
            &["check", &url, "--origin", page, "--target-space", "public"],
            None
        )
    );
    golden!("check-lna", run(&["check", &url, "--origin", page], None));
    golden!(
        "check-blocked",
        run(
            &[
                "check",
                &url,
                "--origin",
                page,
                "-X",
                "PUT",
                "-H",
                "Authorization: Bearer x",
                "--credentials",
                "--target-space",
                "public"
            ],
            None
        )
    );
    golden!(
        "check-preflight-only",
        run(
            &[
                "check",
                &url,
                "--origin",
                page,
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "--preflight-only",
                "--target-space",
                "public"
            ],
            None
        )
    );
    let curl = format!(
        "curl '{url}' -H 'origin: {page}' -H 'sec-fetch-mode: cors' -H 'user-agent: Mozilla/5.0'"
    );
    golden!(
        "check-from-curl",
        run(
            &["check", "--from-curl", "-", "--target-space", "public"],
            Some(&curl)
        )
    );
}

#[test]
fn audit_text() {
    let (plain, _) = crate::audit_fleet::start();
    let resolve = format!("api.fleet.test:{plain}:127.0.0.1");
    let urls: Vec<String> = ["/reflect", "/null", "/safe-exact"]
        .iter()
        .map(|p| format!("http://api.fleet.test:{plain}{p}"))
        .collect();
    let mut args = vec![
        "audit",
        "--resolve",
        &resolve,
        "--origin",
        "https://api.fleet.test",
        "-H",
        "Authorization: Bearer fleet",
        "--concurrency",
        "1",
    ];
    args.extend(urls.iter().map(String::as_str));
    golden!("audit", run(&args, None));
}
