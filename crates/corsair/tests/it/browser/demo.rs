//! `corsair demo --serve` in headless Chromium: every broken case is blocked in the real browser
//! with the console message the demo predicted, and every fixed case is readable.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn demo_cases_behave_in_a_real_browser_as_predicted() {
    crate::support::browser_deps(); // fail early, with the install hint, if Chromium is missing
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["demo", "--format", "json", "--serve", "--serve-for", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read the JSON document (it ends with a closing brace alone on a line); the servers stay up.
    let mut text = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the demo ended early"
        );
        text.push_str(&line);
        if line == "}\n" {
            break;
        }
    }
    let demo: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(demo["failed"], 0);
    let page = demo["page"].as_str().unwrap();
    let mut scenarios = Vec::new();
    // Cases on a page counted as public (Local Network Access) run from a page Chromium counts
    // as public too, first with a fresh profile's permission, then with it granted.
    let mut public = Vec::new();
    for c in demo["cases"].as_array().unwrap() {
        let lna = c["request"]["page_space"] == "public";
        for variant in ["broken", "fixed"] {
            let url = if variant == "broken" {
                c["request"]["url"].as_str().unwrap().to_string()
            } else {
                c["fixed"]["url"].as_str().unwrap().to_string()
            };
            let s = json!({
                "id": format!("{}-{variant}", c["name"].as_str().unwrap()),
                "url": url,
                "method": c["request"]["method"],
                "headers": c["request"]["headers"],
                "credentials": c["request"]["credentials"],
                "body": if c["request"]["method"] == "GET" { Value::Null } else { json!("{}") },
                "api": c["request"]["api"],
            });
            if lna {
                public.push((variant, s));
            } else {
                scenarios.push(s);
            }
        }
    }
    let mut browser = crate::support::run_chromium(&format!("{page}/"), &Value::Array(scenarios));
    if !public.is_empty() {
        let port = page.rsplit(':').next().unwrap();
        let pick = |v: &str| -> Vec<Value> {
            public
                .iter()
                .filter(|(x, _)| *x == v)
                .map(|(_, s)| s.clone())
                .collect()
        };
        let pages = json!([
            {"pageUrl": format!("{page}/"), "permissions": null, "scenarios": pick("broken")},
            {"pageUrl": format!("{page}/"), "permissions": "grant-all", "scenarios": pick("fixed")},
        ]);
        let args = [format!(
            "--ip-address-space-overrides=127.0.0.1:{port}=public,[::1]:{port}=public"
        )];
        let r = crate::support::run_chromium_pages(&pages, &args);
        for key in ["results", "console"] {
            let more = r[key].as_array().unwrap().clone();
            browser[key].as_array_mut().unwrap().extend(more);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let ok = |id: &str| {
        browser["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["ok"]
            .as_bool()
            .unwrap()
    };
    let console: Vec<&str> = browser["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    for c in demo["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        assert!(
            !ok(&format!("{name}-broken")),
            "{name}: the broken server was readable in Chromium"
        );
        assert!(
            ok(&format!("{name}-fixed")),
            "{name}: the fixed server was blocked in Chromium"
        );
        let predicted = c["broken"]["console"].as_str().unwrap();
        assert!(
            console.contains(&predicted),
            "{name}: Chromium did not print the predicted \
            message:\n  {predicted}\nit printed:\n  {}",
            console
                .iter()
                .filter(|m| m.contains(&format!("/{name}")))
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    println!(
        "demo in Chromium {}: {} cases blocked as predicted and fixed",
        browser["version"],
        demo["cases"].as_array().unwrap().len()
    );
}
