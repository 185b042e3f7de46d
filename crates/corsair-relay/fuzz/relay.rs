//! The CORS relay's parsers and decisions never panic: a target read from any request path, a
//! `targets` item, a rate, the guard over any address, and the header rules. A target that
//! parses is http(s) with a host and no credentials; a `targets` item that parses matches what
//! it names and nothing with another scheme. A body scanned for injected secrets in two reads
//! is delivered whole when no form of a secret is in it, and cut off when one is.
#![no_main]

use corsair_core::relay::{forbidden_range, forwards_request_header, forwards_response_header, target_of, Rate, Scanner, Secrets, AllowedTarget};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(u) = target_of(text) {
        assert!(matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        assert!(u.username().is_empty() && u.password().is_none());
        if let Ok(t) = AllowedTarget::parse(&u.origin().ascii_serialization()) {
            assert!(t.matches(&u), "{u}");
            let mut other = u.clone();
            let _ = other.set_scheme(if u.scheme() == "http" { "https" } else { "http" });
            if other.scheme() != u.scheme() && other.port_or_known_default() == u.port_or_known_default() {
                assert!(!t.matches(&other), "{other}");
            }
        }
    }
    // Line 1: a secret; the rest: a body, split where its first byte says.
    if let Some((secret, body)) = text.split_once('\n') {
        let secrets = Secrets::new([secret]);
        let cut = body.len().min(data[0] as usize);
        let whole = secrets.found_in(body.as_bytes());
        let mut scan = Scanner::new();
        let mut out = Vec::new();
        let mut leaked = false;
        for part in [&body.as_bytes()[..cut], &body.as_bytes()[cut..]] {
            match scan.push(&secrets, part) {
                Ok(o) => out.extend(o),
                Err(_) => {
                    leaked = true;
                    break;
                }
            }
        }
        assert_eq!(leaked, whole, "{secret:?} in {body:?}");
        if !leaked {
            out.extend(scan.finish());
            assert_eq!(out, body.as_bytes());
        }
    }
    let _ = AllowedTarget::parse(text);
    let _ = Rate::parse(text);
    let _ = forwards_request_header(text);
    let _ = forwards_response_header(text);
    if data.len() >= 16 {
        let v6: [u8; 16] = data[..16].try_into().unwrap();
        let _ = forbidden_range(std::net::IpAddr::from(v6));
        let v4: [u8; 4] = data[..4].try_into().unwrap();
        let _ = forbidden_range(std::net::IpAddr::from(v4));
    }
});
