//! Every way an echoing upstream was seen to hand an injected secret back, and the scanner's
//! bounds.

use super::*;
use base64::Engine;

const TOKEN: &str = "s3cret/Tok+en=42";

fn secrets() -> Secrets {
    Secrets::new([
        format!("Bearer {TOKEN}").as_str(),
        "Basic dXNlcjpodW50ZXIyLXBhc3M=",
    ])
}

#[test]
fn every_derived_form_is_found() {
    let s = secrets();
    let b64 = base64::engine::general_purpose::STANDARD.encode(TOKEN);
    let inside = base64::engine::general_purpose::STANDARD.encode(format!(
        "{{\"headers\":{{\"authorization\":\"Bearer {TOKEN}\"}}}}"
    ));
    for (what, text) in [
        ("exact", format!("X-Echo: Bearer {TOKEN}")),
        ("without the scheme", format!("X-Echo-Token: {TOKEN}")),
        ("upper case", format!("x: {}", TOKEN.to_uppercase())),
        ("lower case", format!("x: bearer {}", TOKEN.to_lowercase())),
        (
            "percent-encoded",
            "<https://x/?t=Bearer%20s3cret%2FTok%2Ben%3D42>".into(),
        ),
        (
            "percent-encoded, lower hex",
            "t=s3cret%2ftok%2ben%3d42".into(),
        ),
        ("encoded twice", "t=s3cret%252FTok%252Ben%253D42".into()),
        ("form-encoded", "t=Bearer+s3cret%2FTok%2Ben%3D42".into()),
        ("JSON", format!("{{\"authorization\":\"Bearer {TOKEN}\"}}")),
        ("JSON with \\/", "{\"a\":\"s3cret\\/Tok+en=42\"}".into()),
        ("base64", b64.clone()),
        ("base64 url-safe", b64.replace('+', "-").replace('/', "_")),
        ("base64 inside a longer blob", inside),
        ("Basic's password", "pw=hunter2-pass".into()),
        ("Basic's user:password", "user:hunter2-pass".into()),
    ] {
        assert!(s.found_in(text.as_bytes()), "{what}: {text}");
    }
    for clean in ["Bearer", "s3cret", "{\"ok\":true}", "hunter2", "dXNlcjpo"] {
        assert!(!s.found_in(clean.as_bytes()), "{clean}");
    }
}

#[test]
fn a_json_value_with_non_ascii_is_found_in_python_s_escapes() {
    let s = Secrets::new(["Bearer clé-secrète-42"]);
    assert!(s.found_in(br#"{"h": "Bearer cl\u00e9-secr\u00e8te-42"}"#));
}

#[test]
fn a_secret_split_across_chunks_is_never_delivered() {
    let s = secrets();
    let body = format!("{{\"echo\":\"{TOKEN}\"}}");
    // Every split point, and a byte at a time.
    for cut in 1..body.len() {
        let mut scan = Scanner::new();
        let mut delivered = Vec::new();
        let mut leaked = false;
        for part in [&body[..cut], &body[cut..]] {
            match scan.push(&s, part.as_bytes()) {
                Ok(out) => delivered.extend(out),
                Err(Leak) => {
                    leaked = true;
                    break;
                }
            }
        }
        assert!(leaked, "cut at {cut}");
        let seen = String::from_utf8_lossy(&delivered);
        assert!(!seen.contains(TOKEN), "{seen}");
        // What went out before the cut is no more than the text before the secret.
        assert!(
            delivered.len() <= body.find(TOKEN).unwrap(),
            "cut at {cut}: {seen}"
        );
    }
    let mut scan = Scanner::new();
    let leaked = body.bytes().any(|b| scan.push(&s, &[b]).is_err());
    assert!(leaked);
}

#[test]
fn clean_bodies_go_through_whole_and_hold_back_little() {
    let s = secrets();
    let body: Vec<u8> = (0..20_000u32)
        .flat_map(|i| format!("{{\"n\":{i},\"s\":\"s3cre\"}},").into_bytes())
        .collect();
    let mut scan = Scanner::new();
    let mut out = Vec::new();
    for chunk in body.chunks(1000) {
        out.extend(scan.push(&s, chunk).unwrap());
        assert!(scan.held.len() < s.longest(), "{}", scan.held.len());
    }
    out.extend(scan.finish());
    assert_eq!(out, body);
    // A body that ends mid-way into a form's first bytes is held until the end, then delivered.
    let mut scan = Scanner::new();
    assert_eq!(scan.push(&s, b"abc s3cr").unwrap(), b"abc ");
    assert_eq!(scan.finish(), b"s3cr");
}

#[test]
fn no_secret_no_scan() {
    let s = Secrets::new([]);
    assert!(s.is_empty());
    let mut scan = Scanner::new();
    assert_eq!(scan.push(&s, b"anything").unwrap(), b"anything");
}
