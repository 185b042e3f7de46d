//! `corsair explain` as a user runs it: console lines in (argument or stdin), kind, cause,
//! checklist and fix out; an unrecognised paste gets the list of known errors.

use std::io::Write;
use std::process::{Command, Stdio};

fn explain(args: &[&str], stdin: Option<&str>) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .arg("explain")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(s.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

const CHROMIUM: &str = "Access to fetch at 'https://api.x.io/v1/items' from origin \
    'http://localhost:5173' has been blocked by CORS policy: Request header field authorization is \
    not allowed by Access-Control-Allow-Headers in preflight response.";

#[test]
fn explains_a_chromium_line_with_its_fix_for_a_stack() {
    let (code, out, _) = explain(&[CHROMIUM, "--stack", "fastapi"], None);
    assert_eq!(code, Some(0));
    for needle in [
        "header-not-allowed",
        "https://api.x.io/v1/items",
        "http://localhost:5173",
        "the preflight",
        "Cause",
        "[ ]",
        "Access-Control-Allow-Headers: authorization",
        "CORSMiddleware",
        "corsair check 'https://api.x.io/v1/items'",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}

#[test]
fn reads_stdin_with_extra_lines_and_firefox_quotes_as_json() {
    let pasted = "GET https://api.x.io/ net::ERR_FAILED 200 (OK)\nCross-Origin Request Blocked: \
        The Same Origin Policy disallows reading the remote resource at https://api.x.io/v1. \
        (Reason: Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is \
        ‘*’).\nUncaught (in promise) TypeError: NetworkError when attempting to fetch resource.\n";
    let (code, out, _) = explain(&["--format", "json"], Some(pasted));
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["errors"][0]["kind"], "wildcard-origin-not-allowed");
    assert_eq!(v["errors"][0]["browser"], "firefox");
    assert!(v["errors"][0]["fix"]["headers"]
        .to_string()
        .contains("Access-Control-Allow-Credentials"));
}

#[test]
fn unrecognised_input_lists_what_is_known() {
    let (code, _, err) = explain(&["something went wrong"], None);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("Not recognised") && err.contains("No 'Access-Control-Allow-Origin' header"),
        "{err}"
    );
    let (code, out, _) = explain(
        &[
            "Cross-Origin Request Blocked: The Same Origin Policy disallows \
        reading the remote resource at https://x/. (Reason: CORS request did not succeed). Status \
        code: (null).",
        ],
        None,
    );
    assert_eq!(code, Some(1));
    assert!(out.contains("Not a CORS header problem"), "{out}");
}

/// What people paste: the bare JavaScript error, a line whose quotes the shell ate, a whole
/// console block.
#[test]
fn bare_errors_point_to_the_reason_and_eaten_quotes_still_read() {
    for (text, who, reason) in [
        (
            "TypeError: Failed to fetch",
            "In Chromium",
            "Access to fetch at",
        ),
        (
            "TypeError: NetworkError when attempting to fetch resource.",
            "In Firefox",
            "Cross-Origin Request Blocked",
        ),
        (
            "TypeError: Load failed",
            "In Safari",
            "is not allowed by Access-Control-Allow-Origin",
        ),
        ("AxiosError: Network Error", "The page", "status 0"),
    ] {
        let (code, out, _) = explain(&[text], None);
        assert_eq!(code, Some(1), "{text}: {out}");
        assert!(
            out.contains("is what the page's JavaScript sees, not the reason"),
            "{out}"
        );
        assert!(out.contains(who) && out.contains(reason), "{text}: {out}");
        assert!(out.contains("corsair check --from-curl -"), "{out}");
        let (_, json, _) = explain(&[text, "--format", "json"], None);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["errors"], serde_json::json!([]));
        assert!(v["bare_error"]["reason_in"]
            .as_str()
            .unwrap()
            .contains(reason));
    }
    // bash ate the quotes: corsair explain Access to fetch at 'https://...' ...
    let eaten = CHROMIUM.replace('\'', "");
    let (code, out, _) = explain(&[&eaten], None);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("header-not-allowed") && out.contains("http://localhost:5173"),
        "{out}"
    );
    // A console block: the CORS line among the request line and the stack.
    let block = format!(
        "OPTIONS https://api.x.io/v1/items net::ERR_FAILED\n{CHROMIUM}\nUncaught \
        (in promise) TypeError: Failed to fetch\n    at load (app.js:3:9)\n"
    );
    let (code, out, _) = explain(&[], Some(&block));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("header-not-allowed"), "{out}");
}
