//! The explanation as a value: read once from a pasted text, rendered as text and JSON.

use super::report::Explanation;
use super::Known;
use crate::{EXIT_BLOCKED, EXIT_OK};

fn rendered(text: &str) -> (u8, String, String, serde_json::Value) {
    let e = Explanation::of(text);
    let (mut out, mut err) = (String::new(), String::new());
    e.text(&mut out, &mut err, None, &Known::default());
    (e.exit_code(), out, err, e.json(&Known::default()))
}

const CHROMIUM: &str = "Access to fetch at 'https://api.x.io/v1' from origin \
    'http://localhost:5173' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' \
    header is present on the requested resource.";

#[test]
fn a_cors_error_has_its_kind_cause_checklist_and_fix_in_both_renderings() {
    let (code, out, err, json) = rendered(CHROMIUM);
    assert_eq!(code, EXIT_OK);
    assert!(err.is_empty(), "{err}");
    for part in [
        "missing-allow-origin-header",
        "Cause",
        "Check",
        "Fix",
        "Reproduce",
    ] {
        assert!(out.contains(part), "{part}: {out}");
    }
    assert_eq!(json["errors"][0]["kind"], "missing-allow-origin-header");
    assert_eq!(json["errors"][0]["origin"], "http://localhost:5173");
    assert!(json["errors"][0]["checklist"].as_array().unwrap().len() > 1);
}

#[test]
fn two_errors_pasted_together_are_two_reports() {
    let (_, out, _, json) = rendered(&format!("{CHROMIUM}\n{CHROMIUM}"));
    assert_eq!(json["errors"].as_array().unwrap().len(), 2);
    assert_eq!(
        out.matches("missing-allow-origin-header").count(),
        2,
        "{out}"
    );
}

#[test]
fn what_is_not_a_cors_header_problem_says_so() {
    let (code, out, _, json) = rendered("TypeError: Failed to fetch");
    assert_eq!(code, EXIT_BLOCKED);
    assert!(
        out.contains("is what the page's JavaScript sees, not the reason"),
        "{out}"
    );
    assert_eq!(json["bare_error"]["message"], "Failed to fetch");

    let (_, out, _, _) = rendered("GET https://api.x.io/ net::ERR_TOO_MANY_REDIRECTS");
    assert!(out.contains("redirected more than 20 times"), "{out}");

    let (code, out, _, json) = rendered("GET https://api.x.io/ net::ERR_CONNECTION_REFUSED");
    assert_eq!(code, EXIT_BLOCKED);
    assert!(out.contains("got no usable response at all"), "{out}");
    assert_eq!(json["network_failure"], true);
}

#[test]
fn a_local_network_access_refusal_is_recognised_with_its_fixes() {
    let (code, out, _, json) = rendered(
        "Access to fetch at 'http://127.0.0.1:9000/' from origin 'https://app.example.com' has \
         been blocked by CORS policy: Permission was denied for this request to access the \
         `loopback` address space.",
    );
    assert_eq!(code, EXIT_OK);
    assert!(out.contains("local-network-access"), "{out}");
    assert!(out.contains("Fix"), "{out}");
    assert_eq!(json["lna"]["space"], "loopback");
}

#[test]
fn unknown_text_goes_to_stderr_with_the_known_messages() {
    let (code, out, err, json) = rendered("something else");
    assert_eq!(code, EXIT_BLOCKED);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("Not recognised as a CORS error."), "{err}");
    assert!(json["known"].as_array().unwrap().len() > 5);
}

/// Issue 27: blocks that are not CORS, and Chromium's Authorization-wildcard deprecation.
#[test]
fn regression_coep_orb_mixed_content_and_the_authorization_wildcard() {
    for (text, kind) in [
        ("GET https://cdn.x/a.js net::ERR_BLOCKED_BY_RESPONSE.NotSameOriginAfterDefaultedToSameOriginByCoep 200", "coep"),
        ("GET https://cdn.x/a.png net::ERR_BLOCKED_BY_RESPONSE.NotSameSite 200", "corp"),
        ("GET https://api.x/d.json net::ERR_BLOCKED_BY_ORB 200 (OK)", "orb"),
        ("Mixed Content: The page at 'https://a.x/' was loaded over HTTPS, but requested an insecure resource 'http://b.x/'. This request has been blocked; the content must be served over HTTPS.", "mixed-content"),
    ] {
        let (code, out, _, json) = rendered(text);
        assert_eq!(code, EXIT_OK, "{text}");
        assert_eq!(json["block"]["kind"], kind, "{text}");
        assert_eq!(json["network_failure"], false, "{text}");
        assert!(out.contains("Not a CORS header problem"), "{out}");
    }
    let (_, _, _, json) = rendered(
        "Authorization will not be covered by the wildcard symbol (*) in CORS \
        Access-Control-Allow-Headers handling.",
    );
    assert_eq!(json["errors"][0]["kind"], "header-not-allowed");
    assert_eq!(json["errors"][0]["hint"], "Authorization");
}

/// Issue 27: the cause uses --origin and -X, and reads Firefox's status code.
#[test]
fn regression_the_cause_uses_what_the_user_gave_and_the_status() {
    let e = Explanation::of(
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote \
        resource at https://api.example/x. (Reason: CORS header 'Access-Control-Allow-Origin' \
        missing). Status code: 500.",
    );
    let known = Known {
        need: corsair_core::fix::Need {
            origin: Some("https://app.example".into()),
            ..Default::default()
        },
        method: Some("PUT".into()),
        headers: Vec::new(),
    };
    let cause = e.json(&known)["errors"][0]["cause"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(cause.contains("https://app.example"), "{cause}");
    assert!(cause.contains("PUT request"), "{cause}");
    assert!(cause.contains("answered 500"), "{cause}");
}
