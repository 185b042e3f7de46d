//! `corsair demo` end to end: every case is blocked on its broken server with the expected
//! failure, and allowed on the fixed one.

use std::process::Command;

fn corsair(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_case_reproduces_and_is_fixed() {
    let o = corsair(&["demo", "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 12);
    assert_eq!(v["failed"], 0);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        assert_eq!(c["broken"]["allowed"], false, "{name}");
        assert_eq!(c["fixed"]["allowed"], true, "{name}");
        let console = c["broken"]["console"].as_str().unwrap();
        assert!(
            console.contains("has been blocked by CORS policy"),
            "{name}: {console}"
        );
        if c["broken"]["kind"] == "lna-permission-denied" {
            // No header fixes Local Network Access: the fixes are the permission and the setup.
            let fixes = c["broken"]["lna_fixes"].to_string();
            assert!(
                fixes.contains("local network access")
                    && !fixes.contains("Access-Control-Allow-Origin"),
                "{name}: {fixes}"
            );
            assert!(c["broken"]["fix"].is_null(), "{name}");
        } else {
            assert!(
                !c["broken"]["fix"]["summary"].as_str().unwrap().is_empty(),
                "{name}"
            );
        }
    }
    let by = |n: &str| cases.iter().find(|c| c["name"] == n).unwrap();
    assert!(by("preflight-401-auth")["broken"]["cause"]
        .as_str()
        .unwrap()
        .contains("authentication"));
    assert!(by("preflight-redirect")["broken"]["console"]
        .as_str()
        .unwrap()
        .ends_with("Redirect is not allowed for a preflight request."));
    assert!(by("font-no-allow-origin")["broken"]["console"]
        .as_str()
        .unwrap()
        .starts_with("Access to font at"));
    assert!(by("lna-public-to-loopback")["broken"]["console"]
        .as_str()
        .unwrap()
        .ends_with(
            "Permission was denied for this request to access the `loopback` address space."
        ));
    assert!(by("mismatch-trailing-slash")["broken"]["console"]
        .as_str()
        .unwrap()
        .contains("/' that is not equal"));
}

#[test]
fn list_and_single_case() {
    let o = corsair(&["demo", "--list"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("wildcard-credentials"));
    let o = corsair(&["demo", "--case", "put-not-allowed"]);
    assert_eq!(o.status.code(), Some(0));
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(
        t.contains("Method PUT is not allowed by Access-Control-Allow-Methods"),
        "{t}"
    );
    assert!(t.contains("1 of 1 cases"), "{t}");
    let o = corsair(&["demo", "--case", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-allow-origin"));
}

#[test]
fn serve_keeps_the_servers_up_for_a_bounded_time() {
    let o = corsair(&[
        "demo",
        "--case",
        "no-allow-origin",
        "--serve",
        "--serve-for",
        "0.2",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("open http://localhost:"));
}
