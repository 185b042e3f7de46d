//! The machine-readable outputs that scripts and dashboards read: `check`, `explain`,
//! `origin`, `policy lint` and `audit` as JSON, audit's JSON lines and SARIF, each pinned whole;
//! and `demo`'s JSON, too long to review whole, pinned by its shape (every key path and the
//! type found there).

use super::run;
use serde_json::Value;
use std::collections::BTreeMap;

/// The exit line, then the JSON re-printed with sorted keys (stable across serde versions).
fn pretty(out: &str) -> String {
    let (exit, body) = out.split_once('\n').unwrap();
    let value: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not one JSON value ({e}): {body}"));
    format!("{exit}\n{}", serde_json::to_string_pretty(&value).unwrap())
}

/// Every key path of `value` (arrays as `[]`, their elements merged) with the types found.
fn shape(value: &Value) -> String {
    fn walk(v: &Value, path: String, out: &mut BTreeMap<String, Vec<&'static str>>) {
        let kind = match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(items) => {
                for item in items {
                    walk(item, format!("{path}[]"), out);
                }
                "array"
            }
            Value::Object(map) => {
                for (k, item) in map {
                    walk(item, format!("{path}.{k}"), out);
                }
                "object"
            }
        };
        let kinds = out.entry(path).or_default();
        if !kinds.contains(&kind) {
            kinds.push(kind);
            kinds.sort_unstable();
        }
    }
    let mut out = BTreeMap::new();
    walk(value, String::new(), &mut out);
    out.iter()
        .map(|(path, kinds)| {
            format!(
                "{} {}\n",
                if path.is_empty() { "." } else { path },
                kinds.join("|")
            )
        })
        .collect()
}

#[test]
fn check_json() {
    let (_api, url) = super::items_api();
    let page = super::PAGE;
    let base = [
        "check",
        &url,
        "--origin",
        page,
        "--target-space",
        "public",
        "--format",
        "json",
    ];
    golden!("json-check-allowed", pretty(&run(&base, None)));
    let mut blocked = base.to_vec();
    blocked.extend_from_slice(&[
        "-X",
        "PUT",
        "-H",
        "Authorization: Bearer x",
        "--credentials",
    ]);
    golden!("json-check-blocked", pretty(&run(&blocked, None)));
    let mut all = base.to_vec();
    all.extend_from_slice(&["--browser", "all", "--stack", "express"]);
    golden!("json-check-all-browsers", pretty(&run(&all, None)));
}

#[test]
fn explain_origin_and_lint_json() {
    let chromium = "Access to fetch at 'https://api.x.io/v1/items' from origin \
        'http://localhost:5173' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' \
        header is present on the requested resource.";
    golden!(
        "json-explain",
        pretty(&run(&["explain", chromium, "--format", "json"], None))
    );
    golden!(
        "json-origin",
        pretty(&run(
            &[
                "origin",
                "https://a.example:8443/x",
                "http://a.example/",
                "--format",
                "json"
            ],
            None
        ))
    );
    let dir = super::policy_dir(
        "json",
        "[policy]\norigins = [\"*\", \"https://app.example.com/\"]\nmethods = \
            [\"put\"]\ncredentials = true\n",
    );
    let file = dir.join("corsair.toml");
    let out = run(
        &["policy", "lint", file.to_str().unwrap(), "--format", "json"],
        None,
    )
    .replace(&*dir.to_string_lossy(), "[dir]");
    golden!("json-policy-lint", pretty(&out));
}

#[test]
fn audit_json_jsonl_and_sarif() {
    let (plain, _) = crate::audit_fleet::start();
    let resolve = format!("api.fleet.test:{plain}:127.0.0.1");
    let urls: Vec<String> = ["/reflect", "/safe-exact"]
        .iter()
        .map(|p| format!("http://api.fleet.test:{plain}{p}"))
        .collect();
    let args = |format: &'static str| {
        let mut a: Vec<&str> = vec![
            "audit",
            "--resolve",
            &resolve,
            "--origin",
            "https://api.fleet.test",
            "--concurrency",
            "1",
            "--format",
            format,
        ];
        a.extend(urls.iter().map(String::as_str));
        run(&a, None)
    };
    golden!("json-audit", pretty(&args("json")));
    golden!("sarif-audit", pretty(&args("sarif")));
    // One object a line, each printed as its target completes (so in no fixed order: sorted
    // here): every line is JSON of its own. The options fingerprint covers the port.
    let jsonl = args("jsonl");
    let (exit, lines) = jsonl.split_once('\n').unwrap();
    let mut each = vec![exit.to_string()];
    for line in lines.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        each.push(serde_json::to_string(&v).unwrap());
    }
    each[1..].sort();
    golden!("jsonl-audit", each.join("\n"));
}

#[test]
fn demo_json_shape() {
    let out = run(&["demo", "--format", "json"], None);
    let (exit, body) = out.split_once('\n').unwrap();
    let value: Value = serde_json::from_str(body).unwrap();
    golden!("json-demo-shape", format!("{exit}\n{}", shape(&value)));
}
